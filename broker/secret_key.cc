#include "broker/secret_key.h"

#include <sodium.h>
#include <zmq.h>

#include <cstring>
#include <utility>

#include "broker/curve_keys.h"

namespace orchestra::broker {

using common::Result;
using common::Status;

namespace {

constexpr size_t kBlockSize = SecretKey::kLength + 1;

SecretKey::ReleaseObserver release_observer = nullptr;

}  // namespace

SecretKey::SecretKey(SecretKey&& other) noexcept
    : text_(std::exchange(other.text_, nullptr)) {}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    Release();
    text_ = std::exchange(other.text_, nullptr);
  }
  return *this;
}

Result<SecretKey> SecretKey::Allocate() {
  // sodium_malloc() needs the page size that sodium_init() reads; it may
  // be called any number of times.
  if (sodium_init() < 0)
    return Status::Unavailable("secret key", "libsodium failed to start");
  char* block = static_cast<char*>(sodium_malloc(kBlockSize));
  if (block == nullptr)
    return Status::Unavailable("secret key", "out of memory");
  sodium_memzero(block, kBlockSize);
  return SecretKey(block);
}

Result<SecretKey> SecretKey::Generate(std::string* public_key) {
  Result<SecretKey> key = Allocate();
  if (!key.ok()) return key.status();
  char public_text[kBlockSize];
  // libzmq writes the secret straight into our block; the raw 32 bytes it
  // keeps on its stack meanwhile are beyond our reach.
  if (zmq_curve_keypair(public_text, key.value().text_) != 0)
    return Status::Unavailable("keygen",
                               "libzmq was built without CurveZMQ support");
  *public_key = public_text;
  return key;
}

Result<SecretKey> SecretKey::FromText(std::string_view text) {
  if (!IsCurveKey(text))
    return Status::InvalidArgument("secret key",
                                   "not a Curve key (40 Z85 characters)");
  Result<SecretKey> key = Allocate();
  if (!key.ok()) return key.status();
  std::memcpy(key.value().text_, text.data(), kLength);
  return key;
}

std::string_view SecretKey::view() const {
  if (text_ == nullptr) return std::string_view();
  return std::string_view(text_, kLength);
}

std::string SecretKey::PublicKey() const {
  char public_text[kBlockSize];
  if (text_ == nullptr || zmq_curve_public(public_text, text_) != 0)
    return std::string();
  return public_text;
}

void SecretKey::SetReleaseObserverForTest(ReleaseObserver observer) {
  release_observer = observer;
}

void SecretKey::Release() {
  if (text_ == nullptr) return;
  sodium_memzero(text_, kBlockSize);
  if (release_observer != nullptr) release_observer(text_, kBlockSize);
  sodium_free(text_);
  text_ = nullptr;
}

}  // namespace orchestra::broker
