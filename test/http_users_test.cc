// Tests for conductor/http_users.h: the users file's lines and their
// errors, Argon2id checks, the remembered logins and the bound on checks a
// second. Hashes are made with libsodium's smallest limits, so the tests
// stay fast; the conductor checks whatever limits a hash names.

#include "conductor/http_users.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "test/test_util.h"

namespace orchestra::conductor {
namespace {

using common::Result;

std::string Hash(const std::string& password) {
  EXPECT_GE(sodium_init(), 0);
  char hash[crypto_pwhash_STRBYTES];
  EXPECT_EQ(0, crypto_pwhash_str_alg(hash, password.data(), password.size(),
                                     crypto_pwhash_OPSLIMIT_MIN,
                                     crypto_pwhash_MEMLIMIT_MIN,
                                     crypto_pwhash_ALG_ARGON2ID13));
  return hash;
}

std::string Error(const std::string& text) {
  Result<HttpUsers> users = HttpUsers::Parse("users", text);
  return users.ok() ? "" : users.status().message();
}

TEST(HttpUsersTest, ALineNamesAUserItsHashAndItsRole) {
  Result<HttpUsers> users = HttpUsers::Parse(
      "users", "# web users\n\nann " + Hash("password-a") + " view\nbob\t" +
                   Hash("password-b") + "   operate\n");
  ASSERT_OK(users.status());
  EXPECT_EQ(2u, users.value().size());
  HttpRole role = HttpRole::kOperate;
  EXPECT_EQ(HttpUsers::Login::kOk,
            users.value().Check("ann", "password-a", 0, &role));
  EXPECT_EQ(HttpRole::kView, role);
  EXPECT_EQ(HttpUsers::Login::kOk,
            users.value().Check("bob", "password-b", 0, &role));
  EXPECT_EQ(HttpRole::kOperate, role);
}

TEST(HttpUsersTest, BadLinesAreErrorsNamingFileAndLine) {
  const std::string hash = Hash("x");
  struct Case {
    std::string line, says;
  } cases[] = {
      {"ann " + hash, "NAME HASH ROLE"},
      {"ann " + hash + " view extra", "NAME HASH ROLE"},
      {"ann " + hash + " admin", "'view' or 'operate'"},
      {"ann secret view", "not an Argon2id hash"},
      {"ann $argon2i$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA view",
       "not an Argon2id hash"},
      {"an:n " + hash + " view", "user name must be"},
      {"-ann " + hash + " view", "user name must be"},
  };
  for (const Case& c : cases) {
    const std::string error = Error("# first\n" + c.line + "\n");
    EXPECT_EQ(0u, error.find("users:2: ")) << c.line << " -> " << error;
    EXPECT_NE(std::string::npos, error.find(c.says)) << error;
  }
  const std::string twice =
      Error("ann " + hash + " view\nann " + hash + " operate\n");
  EXPECT_EQ(0u, twice.find("users:2: ")) << twice;
  EXPECT_NE(std::string::npos, twice.find("listed twice")) << twice;
}

TEST(HttpUsersTest, AWrongPasswordOrAnUnknownNameIsRefused) {
  Result<HttpUsers> users =
      HttpUsers::Parse("users", "ann " + Hash("password-a") + " operate\n");
  ASSERT_OK(users.status());
  HttpRole role;
  EXPECT_EQ(HttpUsers::Login::kRefused,
            users.value().Check("ann", "password-b", 0, &role));
  EXPECT_EQ(HttpUsers::Login::kRefused,
            users.value().Check("ann", "", 0, &role));
  EXPECT_EQ(HttpUsers::Login::kRefused,
            users.value().Check("bob", "password-a", 0, &role));
  // A password that passed once does not let another one in.
  EXPECT_EQ(HttpUsers::Login::kOk,
            users.value().Check("ann", "password-a", 0, &role));
  EXPECT_EQ(HttpUsers::Login::kRefused,
            users.value().Check("ann", "password-a2", 0, &role));
}

// Past kChecksPerSecond Argon2id checks in a second a login is `busy`,
// except one remembered from a check that passed.
TEST(HttpUsersTest, ChecksAreBoundedASecondButRememberedLoginsPass) {
  Result<HttpUsers> loaded =
      HttpUsers::Parse("users", "ann " + Hash("password-a") + " view\n");
  ASSERT_OK(loaded.status());
  HttpUsers& users = loaded.value();
  HttpRole role;
  ASSERT_EQ(HttpUsers::Login::kOk,
            users.Check("ann", "password-a", 1000, &role));
  for (int i = 1; i < HttpUsers::kChecksPerSecond; ++i)
    EXPECT_EQ(HttpUsers::Login::kRefused,
              users.Check("ann", "guess" + std::to_string(i), 1000, &role));
  EXPECT_EQ(HttpUsers::Login::kBusy, users.Check("ann", "guess", 1500, &role));
  EXPECT_EQ(HttpUsers::Login::kOk,
            users.Check("ann", "password-a", 1500, &role));
  // A new second, new checks.
  EXPECT_EQ(HttpUsers::Login::kRefused,
            users.Check("ann", "guess", 2000, &role));
  // A remembered login is checked again once its time is up.
  const common::TimeMs later = 1000 + HttpUsers::kRememberMs;
  for (int i = 0; i < HttpUsers::kChecksPerSecond; ++i)
    users.Check("ann", "guess", later, &role);
  EXPECT_EQ(HttpUsers::Login::kBusy,
            users.Check("ann", "password-a", later, &role));
}

TEST(HttpUsersTest, AFileOthersMayWriteIsRefused) {
  test::TempDir dir;
  const std::string path =
      dir.MakeFile("users", "ann " + Hash("password-a") + " view\n", 0644);
  ASSERT_OK(HttpUsers::Load(path).status());
  ASSERT_EQ(0, ::chmod(path.c_str(), 0646));
  Result<HttpUsers> users = HttpUsers::Load(path);
  ASSERT_FALSE(users.ok());
  EXPECT_NE(std::string::npos, users.status().message().find("chmod o-w"))
      << users.status().ToString();
}

}  // namespace
}  // namespace orchestra::conductor
