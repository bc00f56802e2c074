// Tests for broker/curve_keys.h: key generation, the NAME.key / NAME.pub
// files of DESIGN.md section 6, their modes, and bad key files.

#include "broker/curve_keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "common/files.h"
#include "test/test_util.h"

namespace orchestra::broker {
namespace {

using common::Status;
using test::ModeOf;

class CurveKeysTest : public testing::Test {
 protected:
  void SetUp() override {
    common::Result<CurveKeyPair> keys = GenerateKeyPair();
    ASSERT_OK(keys.status());
    keys_ = keys.value();
  }
  static bool Mentions(const Status& s, const std::string& part) {
    return s.message().find(part) != std::string::npos;
  }

  test::TempDir dir_;
  CurveKeyPair keys_;
};

TEST_F(CurveKeysTest, GeneratedKeysAreCurveKeys) {
  EXPECT_TRUE(IsCurveKey(keys_.public_key));
  EXPECT_TRUE(IsCurveKey(keys_.secret_key));
  EXPECT_NE(keys_.public_key, keys_.secret_key);
  EXPECT_NE(keys_.public_key, GenerateKeyPair().value().public_key);
}

TEST_F(CurveKeysTest, IsCurveKeyRejectsOtherText) {
  EXPECT_FALSE(IsCurveKey(""));
  EXPECT_FALSE(IsCurveKey(keys_.public_key.substr(0, 39)));
  EXPECT_FALSE(IsCurveKey(keys_.public_key + "0"));
  EXPECT_FALSE(IsCurveKey(std::string(40, '"')));  // not in Z85
  EXPECT_FALSE(IsCurveKey(std::string(40, '~')));
}

// zmq_z85_decode() stops at a NUL, so 35 good characters and a NUL would
// decode to a short key with the rest of the buffer left undefined.
TEST_F(CurveKeysTest, IsCurveKeyRejectsEmbeddedNul) {
  std::string key = keys_.public_key;
  key[35] = '\0';
  EXPECT_FALSE(IsCurveKey(key));
}

TEST_F(CurveKeysTest, FingerprintIsTheFirstEightCharacters) {
  EXPECT_EQ(keys_.public_key.substr(0, 8), KeyFingerprint(keys_.public_key));
  EXPECT_EQ("abc", KeyFingerprint("abc"));
}

TEST_F(CurveKeysTest, WrittenKeysReadBack) {
  ASSERT_OK(WriteKeyPair(dir_.path(), "web-3", keys_));
  common::Result<CurveKeyPair> secret =
      ReadSecretKeyFile(dir_.File("web-3.key"));
  ASSERT_OK(secret.status());
  EXPECT_EQ(keys_.secret_key, secret.value().secret_key);
  EXPECT_EQ(keys_.public_key, secret.value().public_key);  // derived
  EXPECT_EQ(keys_.public_key,
            ReadPublicKeyFile(dir_.File("web-3.pub")).value());
}

TEST_F(CurveKeysTest, KeyFilesAreTheKeyAndANewline) {
  ASSERT_OK(WriteKeyPair(dir_.path(), "web-3", keys_));
  EXPECT_EQ(keys_.secret_key + "\n",
            common::ReadFile(dir_.File("web-3.key")).value());
  EXPECT_EQ(keys_.public_key + "\n",
            common::ReadFile(dir_.File("web-3.pub")).value());
}

TEST_F(CurveKeysTest, SecretKeyIsPrivateAndPublicKeyReadable) {
  ASSERT_OK(WriteKeyPair(dir_.path(), "web-3", keys_));
  EXPECT_EQ(0600u, ModeOf(dir_.File("web-3.key")));
  EXPECT_EQ(0644u, ModeOf(dir_.File("web-3.pub")));
}

TEST_F(CurveKeysTest, WriteCreatesTheDirectory) {
  ASSERT_OK(WriteKeyPair(dir_.File("keys/new"), "conductor", keys_));
  EXPECT_OK(ReadSecretKeyFile(dir_.File("keys/new/conductor.key")).status());
}

TEST_F(CurveKeysTest, ExistingKeysAreNeverOverwritten) {
  ASSERT_OK(WriteKeyPair(dir_.path(), "web-3", keys_));
  CurveKeyPair other = GenerateKeyPair().value();
  Status s = WriteKeyPair(dir_.path(), "web-3", other);
  EXPECT_EQ(Status::Code::kConflict, s.code());
  EXPECT_EQ(keys_.secret_key,
            ReadSecretKeyFile(dir_.File("web-3.key")).value().secret_key);
}

TEST_F(CurveKeysTest, ALonePublicFileAlsoBlocksTheWrite) {
  dir_.MakeFile("web-3.pub", keys_.public_key + "\n", 0644);
  EXPECT_EQ(Status::Code::kConflict,
            WriteKeyPair(dir_.path(), "web-3", keys_).code());
  EXPECT_EQ(Status::Code::kNotFound,
            common::ReadFile(dir_.File("web-3.key")).status().code());
}

TEST_F(CurveKeysTest, KeyNameCannotLeaveTheDirectory) {
  EXPECT_EQ(Status::Code::kInvalidArgument,
            WriteKeyPair(dir_.path(), "../escape", keys_).code());
  EXPECT_EQ(Status::Code::kInvalidArgument,
            WriteKeyPair(dir_.path(), "", keys_).code());
}

TEST_F(CurveKeysTest, GroupReadableSecretKeyIsRefused) {
  for (mode_t mode : {0640, 0644, 0604}) {
    std::string path =
        dir_.MakeFile("loose.key", keys_.secret_key + "\n", mode);
    Status s = ReadSecretKeyFile(path).status();
    EXPECT_EQ(Status::Code::kPermissionDenied, s.code()) << std::oct << mode;
    EXPECT_TRUE(Mentions(s, path)) << s.ToString();
  }
}

TEST_F(CurveKeysTest, KeyWithSurroundingWhitespaceIsRead) {
  std::string path =
      dir_.MakeFile("spaced.pub", "  " + keys_.public_key + " \r\n\n", 0644);
  EXPECT_EQ(keys_.public_key, ReadPublicKeyFile(path).value());
}

TEST_F(CurveKeysTest, BadKeyFilesAreRejectedNamingTheFile) {
  for (const std::string& content :
       {std::string(""), std::string("not a key\n"),
        keys_.public_key.substr(0, 39) + "\n",
        keys_.public_key + "\n" + keys_.public_key + "\n",
        keys_.public_key + "x\n"}) {
    std::string path = dir_.MakeFile("bad.pub", content, 0644);
    Status s = ReadPublicKeyFile(path).status();
    EXPECT_EQ(Status::Code::kInvalidArgument, s.code()) << content;
    EXPECT_TRUE(Mentions(s, path)) << s.ToString();
  }
}

TEST_F(CurveKeysTest, BadSecretKeyFileIsRejectedNamingTheFile) {
  std::string path = dir_.MakeFile("bad.key", "0123456789\n", 0600);
  Status s = ReadSecretKeyFile(path).status();
  EXPECT_EQ(Status::Code::kInvalidArgument, s.code());
  EXPECT_TRUE(Mentions(s, path)) << s.ToString();
}

TEST_F(CurveKeysTest, MissingKeyFileIsNotFound) {
  EXPECT_EQ(Status::Code::kNotFound,
            ReadPublicKeyFile(dir_.File("absent.pub")).status().code());
  EXPECT_EQ(Status::Code::kNotFound,
            ReadSecretKeyFile(dir_.File("absent.key")).status().code());
}

TEST_F(CurveKeysTest, HugeKeyFileIsRejected) {
  std::string path = dir_.MakeFile("huge.pub", std::string(1 << 20, 'A'), 0644);
  EXPECT_FALSE(ReadPublicKeyFile(path).ok());
}

}  // namespace
}  // namespace orchestra::broker
