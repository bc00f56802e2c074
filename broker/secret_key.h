// SecretKey holds one CurveZMQ secret key (its 40 Z85 characters) in a
// block of its own that is zeroed when it is freed, so that no copy of the
// key is left in freed memory. Move-only; one owner, any thread.
//
// The block comes from sodium_malloc(). In orchestra-player and orchestra
// (the CLI) that is libsodium's: guard pages around it, locked in memory
// (mlock), so never swapped out. orchestra-conductor, orchestra-bench-load
// and unit_tests link the plain-heap sodium_malloc() of
// broker/sodium_memory.cc (the reason is in that file): there the key is on
// the plain heap, unguarded and not locked. In both, the destructor zeroes
// the block with sodium_memzero(), and sodium_free() zeroes it again.

#ifndef ORCHESTRA_BROKER_SECRET_KEY_H_
#define ORCHESTRA_BROKER_SECRET_KEY_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace orchestra::broker {

class SecretKey {
 public:
  static constexpr size_t kLength = 40;  // Z85 characters

  SecretKey() = default;  // Holds no key.
  ~SecretKey() { Release(); }
  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;

  // A fresh key pair: the secret key, and its public key (Z85) in
  // `*public_key`. Unavailable when libzmq lacks CurveZMQ or memory is out.
  static common::Result<SecretKey> Generate(std::string* public_key);

  // A copy of `text` in a block of its own. InvalidArgument unless `text`
  // is 40 Z85 characters that decode to a key.
  static common::Result<SecretKey> FromText(std::string_view text);

  bool empty() const { return text_ == nullptr; }
  // The 40 Z85 characters; empty when there is no key. Valid while this
  // object holds the key.
  std::string_view view() const;
  // The public key (Z85) of this secret key. REQUIRES: !empty().
  std::string PublicKey() const;

  // Tests only: `observer` is called with each block about to be freed,
  // after the destructor zeroed it and before sodium_free(), so a test can
  // see what the freed memory holds. nullptr turns it off. Not thread-safe.
  using ReleaseObserver = void (*)(const char* block, size_t size);
  static void SetReleaseObserverForTest(ReleaseObserver observer);

 private:
  explicit SecretKey(char* text) : text_(text) {}
  static common::Result<SecretKey> Allocate();
  void Release();

  char* text_ = nullptr;  // kLength + 1 bytes (NUL-terminated), or null
};

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_SECRET_KEY_H_
