#include "conductor/http_users.h"

#include <sys/stat.h>

#include <cstring>

#include "common/files.h"
#include "common/text.h"

namespace orchestra::conductor {

using common::Result;
using common::Status;

namespace {

Status LineError(const std::string& path, int line, const std::string& what) {
  return Status::InvalidArgument(path + ":" + std::to_string(line), what);
}

}  // namespace

HttpUsers::HttpUsers() { randombytes_buf(key_.data(), key_.size()); }

Result<HttpUsers> HttpUsers::Load(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::FromErrno(path, errno);
  if (st.st_mode & S_IWOTH)
    return Status::PermissionDenied(
        path,
        "others may write the web users file, and so make themselves "
        "users; run: chmod o-w " +
            path);
  Result<std::string> text = common::ReadFile(path, 1 << 20);
  if (!text.ok()) return text.status();
  return Parse(path, text.value());
}

Result<HttpUsers> HttpUsers::Parse(const std::string& path,
                                   std::string_view text) {
  if (sodium_init() < 0) return Status::Internal(path, "libsodium failed");
  HttpUsers users;
  int number = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = common::Trim(text.substr(start, end - start));
    start = end + 1;
    ++number;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> words;
    size_t at = 0;
    while (at < line.size()) {
      size_t next = line.find_first_of(" \t", at);
      if (next == std::string_view::npos) next = line.size();
      if (next > at) words.emplace_back(line.substr(at, next - at));
      at = next + 1;
    }
    if (words.size() != 3)
      return LineError(path, number,
                       "expected 'NAME HASH ROLE' (make one with: orchestra "
                       "http-user NAME [--operate])");
    if (!common::IsValidPlayerName(words[0]))
      return LineError(path, number,
                       "a user name must be " + common::PlayerNameRule());
    if (words[1].rfind(crypto_pwhash_argon2id_STRPREFIX, 0) != 0)
      return LineError(path, number,
                       "the hash is not an Argon2id hash ('$argon2id$...'; "
                       "make one with: orchestra http-user NAME)");
    User user;
    user.hash = words[1];
    if (words[2] == "view") {
      user.role = HttpRole::kView;
    } else if (words[2] == "operate") {
      user.role = HttpRole::kOperate;
    } else {
      return LineError(
          path, number,
          "the role must be 'view' or 'operate', not '" + words[2] + "'");
    }
    if (users.users_.size() >= kMaxUsers)
      return LineError(path, number,
                       "more than " + std::to_string(kMaxUsers) + " users");
    if (!users.users_.emplace(words[0], std::move(user)).second)
      return LineError(path, number, "user '" + words[0] + "' is listed twice");
  }
  return users;
}

HttpUsers::Digest HttpUsers::KeyedHash(const std::string& name,
                                       const std::string& password) const {
  Digest digest;
  crypto_generichash_state state;
  crypto_generichash_init(&state, key_.data(), key_.size(), digest.size());
  crypto_generichash_update(
      &state, reinterpret_cast<const unsigned char*>(name.data()),
      name.size() + 1);  // with its NUL: "ab"+"c" is not "a"+"bc"
  crypto_generichash_update(
      &state, reinterpret_cast<const unsigned char*>(password.data()),
      password.size());
  crypto_generichash_final(&state, digest.data(), digest.size());
  return digest;
}

HttpUsers::Login HttpUsers::Check(const std::string& name,
                                  const std::string& password,
                                  common::TimeMs now, HttpRole* role) {
  auto it = users_.find(name);
  if (it == users_.end()) return Login::kRefused;
  User& user = it->second;
  const Digest digest = KeyedHash(name, password);
  if (now < user.remembered_until &&
      sodium_memcmp(digest.data(), user.remembered.data(), digest.size()) ==
          0) {
    *role = user.role;
    return Login::kOk;
  }
  if (now - window_start_ >= 1000 || now < window_start_) {
    window_start_ = now;
    checks_in_window_ = 0;
  }
  if (checks_in_window_ >= kChecksPerSecond) return Login::kBusy;
  ++checks_in_window_;
  if (crypto_pwhash_str_verify(user.hash.c_str(), password.data(),
                               password.size()) != 0)
    return Login::kRefused;
  user.remembered = digest;
  user.remembered_until = now + kRememberMs;
  *role = user.role;
  return Login::kOk;
}

}  // namespace orchestra::conductor
