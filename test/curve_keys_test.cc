// Tests for broker/curve_keys.h: key generation, the NAME.key / NAME.pub
// files of DESIGN.md section 6, their modes, and the key files refused:
// bad text, loose modes, another user's, links, FIFOs, oversized files.

#include "broker/curve_keys.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>

#include "common/files.h"
#include "common/unique_fd.h"
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
    keys_ = std::move(keys.value());
  }
  std::string Secret() const { return std::string(keys_.secret_key.view()); }
  static bool Mentions(const Status& s, const std::string& part) {
    return s.message().find(part) != std::string::npos;
  }

  test::TempDir dir_;
  CurveKeyPair keys_;
};

TEST_F(CurveKeysTest, GeneratedKeysAreCurveKeys) {
  EXPECT_TRUE(IsCurveKey(keys_.public_key));
  EXPECT_TRUE(IsCurveKey(keys_.secret_key.view()));
  EXPECT_NE(keys_.public_key, Secret());
  EXPECT_EQ(keys_.public_key, keys_.secret_key.PublicKey());
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
  EXPECT_EQ(Secret(), secret.value().secret_key.view());
  EXPECT_EQ(keys_.public_key, secret.value().public_key);  // derived
  EXPECT_EQ(keys_.public_key,
            ReadPublicKeyFile(dir_.File("web-3.pub")).value());
}

TEST_F(CurveKeysTest, KeyFilesAreTheKeyAndANewline) {
  ASSERT_OK(WriteKeyPair(dir_.path(), "web-3", keys_));
  EXPECT_EQ(Secret() + "\n", common::ReadFile(dir_.File("web-3.key")).value());
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
  EXPECT_EQ(
      Secret(),
      ReadSecretKeyFile(dir_.File("web-3.key")).value().secret_key.view());
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
    std::string path = dir_.MakeFile("loose.key", Secret() + "\n", mode);
    Status s = ReadSecretKeyFile(path).status();
    EXPECT_EQ(Status::Code::kPermissionDenied, s.code()) << std::oct << mode;
    EXPECT_TRUE(Mentions(s, path)) << s.ToString();
  }
}

// A secret key another user wrote is a key that user knows, whatever its
// mode says now.
TEST_F(CurveKeysTest, SecretKeyFileOfAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  std::string path = dir_.MakeFile("theirs.key", Secret() + "\n", 0600);
  ASSERT_EQ(0, ::chown(path.c_str(), 65534, static_cast<gid_t>(-1)));
  Status s = ReadSecretKeyFile(path).status();
  EXPECT_EQ(Status::Code::kPermissionDenied, s.code());
  EXPECT_TRUE(Mentions(s, path + ": secret key file belongs to uid 65534"))
      << s.ToString();
  EXPECT_TRUE(Mentions(s, "(chown 0 " + path + ")")) << s.ToString();
}

// The rule is "ours or root's": a daemon running as its own user (the
// conductor as `orchestra`) reads a key that user owns.
TEST_F(CurveKeysTest, SecretKeyFileOfOurOwnUserIsRead) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to change user";
  std::string path = dir_.MakeFile("ours.key", Secret() + "\n", 0600);
  ASSERT_EQ(0, ::chown(path.c_str(), 65534, static_cast<gid_t>(-1)));
  ASSERT_EQ(0, ::chmod(dir_.path().c_str(), 0755));
  ASSERT_EQ(0, ::seteuid(65534));
  common::Result<CurveKeyPair> keys = ReadSecretKeyFile(path);
  ASSERT_EQ(0, ::seteuid(0));
  ASSERT_OK(keys.status());
  EXPECT_EQ(keys_.public_key, keys.value().public_key);
}

TEST_F(CurveKeysTest, LinkToAKeyFileIsRefused) {
  std::string real = dir_.MakeFile("real.key", Secret() + "\n", 0600);
  ASSERT_EQ(0, ::symlink(real.c_str(), dir_.File("link.key").c_str()));
  ASSERT_EQ(0, ::symlink(real.c_str(), dir_.File("link.pub").c_str()));
  for (const Status& s : {ReadSecretKeyFile(dir_.File("link.key")).status(),
                          ReadPublicKeyFile(dir_.File("link.pub")).status()}) {
    EXPECT_EQ(Status::Code::kInvalidArgument, s.code());
    EXPECT_TRUE(Mentions(s,
                         "is a symbolic link; point the setting at the "
                         "file itself"))
        << s.ToString();
  }
}

// Opening a FIFO for reading waits for a writer: a key setting naming one
// must not hang the daemon. If the read did block, the test opens the FIFO
// for writing to set it free, and fails.
TEST_F(CurveKeysTest, FifoAsKeyFileIsRefusedWithoutBlocking) {
  const std::string fifo = dir_.File("fifo.key");
  ASSERT_EQ(0, ::mkfifo(fifo.c_str(), 0600));
  std::future<Status> read = std::async(
      std::launch::async, [&fifo] { return ReadSecretKeyFile(fifo).status(); });
  if (read.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    common::UniqueFd writer(::open(fifo.c_str(), O_WRONLY | O_NONBLOCK));
    FAIL() << "reading a FIFO blocked";
  }
  Status s = read.get();
  EXPECT_EQ(Status::Code::kInvalidArgument, s.code());
  EXPECT_TRUE(Mentions(s, "not a regular file")) << s.ToString();
}

TEST_F(CurveKeysTest, KeyFileOverFourKibibytesIsRefused) {
  std::string path = dir_.MakeFile(
      "padded.pub", keys_.public_key + std::string(4096, ' '), 0644);
  Status s = ReadPublicKeyFile(path).status();
  EXPECT_EQ(Status::Code::kInvalidArgument, s.code());
  EXPECT_TRUE(Mentions(s, "larger than 4096 bytes")) << s.ToString();
}

// keygen used to write NAME.key through a temporary file named after the
// pid, opened without O_EXCL: a link planted there or at NAME.key could
// make it write the secret key somewhere else.
TEST_F(CurveKeysTest, KeygenNeverWritesThroughALinkPlantedAtTheKeyName) {
  const std::string target = dir_.File("elsewhere");
  ASSERT_EQ(0, ::symlink(target.c_str(), dir_.File("web-3.key").c_str()));
  Status s = WriteKeyPair(dir_.path(), "web-3", keys_);
  EXPECT_EQ(Status::Code::kConflict, s.code());
  EXPECT_TRUE(Mentions(s, "keys are never overwritten")) << s.ToString();
  EXPECT_NE(0, ::access(target.c_str(), F_OK)) << "the link was followed";
  EXPECT_NE(0, ::access(dir_.File("web-3.pub").c_str(), F_OK));
}

TEST_F(CurveKeysTest, SecretKeyIsCreatedPrivateEvenWithUmaskZero) {
  const mode_t saved = ::umask(0);
  Status s = WriteKeyPair(dir_.path(), "web-3", keys_);
  ::umask(saved);
  ASSERT_OK(s);
  EXPECT_EQ(0600u, ModeOf(dir_.File("web-3.key")));
  EXPECT_EQ(0644u, ModeOf(dir_.File("web-3.pub")));
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
