// Tests for broker/secret_key.h: a secret key's block holds the key, moves
// without copies, and is zeroed before it is freed (seen through the
// release observer, which sees the block between the zeroing and
// sodium_free()).

#include "broker/secret_key.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "test/test_util.h"

namespace orchestra::broker {
namespace {

// What the release observer saw: each freed block's bytes.
std::vector<std::string>* released = nullptr;

void RecordRelease(const char* block, size_t size) {
  if (released != nullptr) released->emplace_back(block, size);
}

class SecretKeyTest : public testing::Test {
 protected:
  void SetUp() override {
    released = &released_;
    SecretKey::SetReleaseObserverForTest(&RecordRelease);
    common::Result<SecretKey> key = SecretKey::Generate(&public_key_);
    ASSERT_OK(key.status());
    text_ = std::string(key.value().view());
  }
  void TearDown() override {
    SecretKey::SetReleaseObserverForTest(nullptr);
    released = nullptr;
  }

  std::string public_key_;
  std::string text_;  // A generated key's text (the block itself is freed).
  std::vector<std::string> released_;
};

TEST_F(SecretKeyTest, GeneratedKeyMatchesItsPublicKey) {
  common::Result<SecretKey> key = SecretKey::FromText(text_);
  ASSERT_OK(key.status());
  EXPECT_EQ(text_, key.value().view());
  EXPECT_EQ(public_key_, key.value().PublicKey());
  EXPECT_EQ(SecretKey::kLength, text_.size());
}

TEST_F(SecretKeyTest, TextThatIsNotAKeyIsRefused) {
  for (const std::string& text :
       {std::string(), text_.substr(0, 39), text_ + "0", std::string(40, '"'),
        text_.substr(0, 35) + std::string(5, '\0')}) {
    EXPECT_EQ(common::Status::Code::kInvalidArgument,
              SecretKey::FromText(text).status().code())
        << text;
  }
}

TEST_F(SecretKeyTest, MovingHandsOverTheBlockWithoutACopy) {
  SecretKey first = SecretKey::FromText(text_).value();
  const char* block = first.view().data();
  SecretKey second = std::move(first);
  EXPECT_TRUE(first.empty());
  EXPECT_EQ("", first.view());
  EXPECT_EQ(block, second.view().data());
  SecretKey third;
  third = std::move(second);
  EXPECT_EQ(block, third.view().data());
  released_.clear();
}

// The test fails if Release() stops zeroing: the observer would then see
// the key's text. One block is freed, once, however often the key moved.
TEST_F(SecretKeyTest, BlockIsZeroedBeforeItIsFreed) {
  released_.clear();
  {
    SecretKey key = SecretKey::FromText(text_).value();
    SecretKey moved = std::move(key);
    ASSERT_EQ(text_, moved.view());
    ASSERT_TRUE(released_.empty());
  }
  ASSERT_EQ(1u, released_.size());
  EXPECT_EQ(std::string(SecretKey::kLength + 1, '\0'), released_[0]);
}

TEST_F(SecretKeyTest, AssigningOverAKeyFreesTheOldBlockZeroed) {
  SecretKey key = SecretKey::FromText(text_).value();
  released_.clear();
  key = SecretKey::FromText(text_).value();
  ASSERT_EQ(1u, released_.size());
  EXPECT_EQ(std::string(SecretKey::kLength + 1, '\0'), released_[0]);
}

TEST_F(SecretKeyTest, EmptyKeyHasNoTextAndNoPublicKey) {
  SecretKey key;
  EXPECT_TRUE(key.empty());
  EXPECT_EQ("", key.view());
  EXPECT_EQ("", key.PublicKey());
}

}  // namespace
}  // namespace orchestra::broker
