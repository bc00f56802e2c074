// Reading a new password for `orchestra http-user`: from the terminal
// without echo (asked twice), or, when standard input is not a terminal,
// as its first two lines (for scripts). Both must match.

#ifndef ORCHESTRA_TOOLS_PASSWORD_H_
#define ORCHESTRA_TOOLS_PASSWORD_H_

#include <ostream>
#include <string>

#include "common/result.h"

namespace orchestra::tools {

constexpr size_t kMinPasswordBytes = 8;
constexpr size_t kMaxPasswordBytes = 1024;

// The password typed (twice) on `fd`; prompts go to `prompt`.
common::Result<std::string> ReadNewPassword(int fd, std::ostream* prompt);

// The users file line `NAME HASH ROLE` for `password` (Argon2id, libsodium's
// interactive limits).
common::Result<std::string> HttpUserLine(const std::string& name,
                                         const std::string& password,
                                         bool operate);

}  // namespace orchestra::tools

#endif  // ORCHESTRA_TOOLS_PASSWORD_H_
