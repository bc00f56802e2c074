// HttpUsers is the web page's users file (`http users file`, DESIGN.md
// section 14): one `NAME HASH ROLE` a line, HASH from libsodium's
// crypto_pwhash_str (Argon2id), ROLE `view` or `operate`. It checks HTTP
// Basic credentials. An Argon2id check costs tens of milliseconds of the
// loop, so a password that passed is remembered for a while (as a keyed
// hash, per user: memory bounded by the number of users), and at most
// kChecksPerSecond checks run a second in all: beyond that a login is
// `busy`, so guessing passwords cannot starve the players. A name not in
// the file is refused without a check. Owned by the loop thread.

#ifndef ORCHESTRA_CONDUCTOR_HTTP_USERS_H_
#define ORCHESTRA_CONDUCTOR_HTTP_USERS_H_

#include <sodium.h>

#include <array>
#include <map>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace orchestra::conductor {

enum class HttpRole { kView, kOperate };

class HttpUsers {
 public:
  static constexpr int kChecksPerSecond = 4;
  static constexpr common::TimeMs kRememberMs = 10 * 60 * 1000;
  static constexpr size_t kMaxUsers = 1000;

  enum class Login { kOk, kRefused, kBusy };

  // Reads `path`. InvalidArgument "path:line: ..." on a bad line, a
  // duplicate name or a hash that is not Argon2id; PermissionDenied when
  // others may write the file.
  static common::Result<HttpUsers> Load(const std::string& path);
  // The same for the file's text (`path` names it in errors).
  static common::Result<HttpUsers> Parse(const std::string& path,
                                         std::string_view text);

  // Whether `name` with `password` may log in at monotonic time `now`;
  // `*role` is set when it may.
  Login Check(const std::string& name, const std::string& password,
              common::TimeMs now, HttpRole* role);

  bool empty() const { return users_.empty(); }
  size_t size() const { return users_.size(); }

 private:
  using Digest = std::array<unsigned char, crypto_generichash_BYTES>;
  struct User {
    std::string hash;
    HttpRole role = HttpRole::kView;
    Digest remembered{};  // keyed hash of the last password that passed
    common::TimeMs remembered_until = 0;
  };
  HttpUsers();
  Digest KeyedHash(const std::string& name, const std::string& password) const;

  std::map<std::string, User> users_;
  std::array<unsigned char, crypto_generichash_KEYBYTES> key_{};  // random
  common::TimeMs window_start_ = 0;
  int checks_in_window_ = 0;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_HTTP_USERS_H_
