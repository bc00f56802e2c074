// Tests for broker/sodium_memory.cc, which this test binary links as the
// conductor does: the plain-heap sodium_malloc family must be the one the
// whole process (libzmq included) calls, hand out usable aligned memory,
// refuse overflowing sizes, and zero what it releases.

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sodium.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace orchestra::broker {
namespace {

TEST(SodiumMemoryTest, OursAreTheDefinitionsEveryLibrarySees) {
  EXPECT_EQ(reinterpret_cast<void*>(&sodium_allocarray),
            dlsym(RTLD_DEFAULT, "sodium_allocarray"));
  EXPECT_EQ(reinterpret_cast<void*>(&sodium_free),
            dlsym(RTLD_DEFAULT, "sodium_free"));
  EXPECT_EQ(reinterpret_cast<void*>(&sodium_malloc),
            dlsym(RTLD_DEFAULT, "sodium_malloc"));
}

TEST(SodiumMemoryTest, AllocationsAreUsableAndAligned) {
  auto* block = static_cast<unsigned char*>(sodium_allocarray(8, 32));
  ASSERT_NE(nullptr, block);
  EXPECT_EQ(0u, reinterpret_cast<uintptr_t>(block) % 16);
  std::memset(block, 0xab, 8 * 32);
  EXPECT_EQ(0xab, block[255]);
  sodium_free(block);
  sodium_free(nullptr);
}

TEST(SodiumMemoryTest, OverflowingArrayIsRefused) {
  errno = 0;
  EXPECT_EQ(nullptr, sodium_allocarray(SIZE_MAX / 2, 4));
  EXPECT_EQ(ENOMEM, errno);
  EXPECT_EQ(nullptr, sodium_malloc(SIZE_MAX - 4));
}

TEST(SodiumMemoryTest, UnlockZeroesTheMemory) {
  unsigned char key[32];
  std::memset(key, 0x5a, sizeof key);
  EXPECT_EQ(0, sodium_mlock(key, sizeof key));
  EXPECT_EQ(0, sodium_munlock(key, sizeof key));
  unsigned char zero[32] = {};
  EXPECT_EQ(0, std::memcmp(zero, key, sizeof key));
}

}  // namespace
}  // namespace orchestra::broker
