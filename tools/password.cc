#include "tools/password.h"

#include <sodium.h>
#include <termios.h>
#include <unistd.h>

namespace orchestra::tools {

using common::Result;
using common::Status;

namespace {

// One line from `fd` (without its newline); NotFound at the end of input.
Result<std::string> ReadLine(int fd) {
  std::string line;
  char c;
  for (;;) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno("password", errno);
    if (n == 0 && line.empty()) return Status::NotFound("password", "no input");
    if (n == 0 || c == '\n') break;
    if (line.size() > kMaxPasswordBytes)
      return Status::InvalidArgument(
          "password",
          "longer than " + std::to_string(kMaxPasswordBytes) + " bytes");
    line += c;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// ReadLine() with the terminal's echo off, when `fd` is a terminal.
Result<std::string> ReadQuietly(int fd, std::ostream* prompt,
                                const char* text) {
  termios saved;
  const bool terminal = ::tcgetattr(fd, &saved) == 0;
  if (terminal) {
    *prompt << text << std::flush;
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  Result<std::string> line = ReadLine(fd);
  if (terminal) {
    ::tcsetattr(fd, TCSAFLUSH, &saved);
    *prompt << "\n";
  }
  return line;
}

}  // namespace

Result<std::string> ReadNewPassword(int fd, std::ostream* prompt) {
  Result<std::string> first = ReadQuietly(fd, prompt, "password: ");
  if (!first.ok()) return first.status();
  Result<std::string> second = ReadQuietly(fd, prompt, "again: ");
  if (!second.ok()) return second.status();
  const bool same = first.value() == second.value();
  sodium_memzero(second.value().data(), second.value().size());
  if (!same)
    return Status::InvalidArgument("password", "the two passwords differ");
  if (first.value().size() < kMinPasswordBytes)
    return Status::InvalidArgument(
        "password",
        "use at least " + std::to_string(kMinPasswordBytes) + " characters");
  if (first.value().find('\0') != std::string::npos)
    return Status::InvalidArgument("password", "holds a NUL byte");
  return first;
}

Result<std::string> HttpUserLine(const std::string& name,
                                 const std::string& password, bool operate) {
  if (sodium_init() < 0) return Status::Internal("password", "libsodium");
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(hash, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    return Status::Internal("password", "out of memory while hashing");
  return name + " " + hash + " " + (operate ? "operate" : "view");
}

}  // namespace orchestra::tools
