// Secret key text goes from the file into a stack buffer (zeroed when it
// goes out of scope) and from there into a SecretKey block: never into a
// std::string, whose freed heap blocks nobody zeroes.

#include "broker/curve_keys.h"

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cstdint>
#include <cstring>

#include "common/files.h"
#include "common/text.h"

namespace orchestra::broker {

using common::Result;
using common::Status;

namespace {

constexpr char kNeverOverwritten[] =
    "already exists; keys are never overwritten (remove it first)";

// Stack memory for key text, zeroed when it goes out of scope.
template <size_t kSize>
struct ZeroedBuffer {
  ~ZeroedBuffer() { sodium_memzero(bytes, sizeof bytes); }
  char bytes[kSize];
};

// The key in file `path`, trimmed, as a view into `buffer`.
Result<std::string_view> ReadKeyText(
    const std::string& path, common::KeyFileKind kind,
    ZeroedBuffer<common::kMaxKeyFileBytes>* buffer) {
  Result<size_t> size =
      common::ReadKeyFile(path, kind, buffer->bytes, sizeof buffer->bytes);
  if (!size.ok()) return size.status();
  std::string_view key =
      common::Trim(std::string_view(buffer->bytes, size.value()));
  if (!IsCurveKey(key))
    return Status::InvalidArgument(
        path, "does not hold a Curve key (40 Z85 characters); make one with "
              "'orchestra keygen NAME'");
  return key;
}

Status Refuse(const Status& s, const std::string& path) {
  if (s.code() == Status::Code::kConflict)
    return Status::Conflict(path, kNeverOverwritten);
  return s;
}

}  // namespace

bool IsCurveKey(std::string_view text) {
  // zmq_z85_decode() reads a C string: a NUL inside would end it early.
  if (text.size() != SecretKey::kLength ||
      text.find('\0') != std::string_view::npos)
    return false;
  ZeroedBuffer<SecretKey::kLength + 1> z85;
  std::memcpy(z85.bytes, text.data(), SecretKey::kLength);
  z85.bytes[SecretKey::kLength] = '\0';
  uint8_t decoded[32];
  const bool ok = zmq_z85_decode(decoded, z85.bytes) != nullptr;
  sodium_memzero(decoded, sizeof decoded);
  return ok;
}

std::string KeyFingerprint(std::string_view public_key) {
  return std::string(public_key.substr(0, 8));
}

Result<CurveKeyPair> GenerateKeyPair() {
  CurveKeyPair keys;
  Result<SecretKey> secret = SecretKey::Generate(&keys.public_key);
  if (!secret.ok()) return secret.status();
  keys.secret_key = std::move(secret.value());
  return keys;
}

Result<std::string> ReadPublicKeyFile(const std::string& path) {
  ZeroedBuffer<common::kMaxKeyFileBytes> buffer;
  Result<std::string_view> key =
      ReadKeyText(path, common::KeyFileKind::kPublic, &buffer);
  if (!key.ok()) return key.status();
  return std::string(key.value());
}

Result<CurveKeyPair> ReadSecretKeyFile(const std::string& path) {
  ZeroedBuffer<common::kMaxKeyFileBytes> buffer;
  Result<std::string_view> text =
      ReadKeyText(path, common::KeyFileKind::kSecret, &buffer);
  if (!text.ok()) return text.status();
  Result<SecretKey> secret = SecretKey::FromText(text.value());
  if (!secret.ok()) return secret.status();
  CurveKeyPair keys;
  keys.public_key = secret.value().PublicKey();
  if (keys.public_key.empty())
    return Status::InvalidArgument(path, "cannot derive the public key");
  keys.secret_key = std::move(secret.value());
  return keys;
}

Status WriteKeyPair(const std::string& dir, const std::string& name,
                    const CurveKeyPair& keys) {
  if (!common::IsValidPlayerName(name))
    return Status::InvalidArgument(
        name, "key names use letters, digits, '.', '_' and '-'");
  if (keys.secret_key.empty())
    return Status::InvalidArgument(name, "no secret key to write");
  const std::string secret_path = dir + "/" + name + ".key";
  const std::string public_path = dir + "/" + name + ".pub";
  struct stat st;
  for (const std::string& path : {secret_path, public_path}) {
    if (::lstat(path.c_str(), &st) == 0)
      return Status::Conflict(path, kNeverOverwritten);
  }
  Status s = common::MakeDirectories(dir, 0755);
  if (!s.ok()) return s;
  ZeroedBuffer<SecretKey::kLength + 1> line;
  std::memcpy(line.bytes, keys.secret_key.view().data(), SecretKey::kLength);
  line.bytes[SecretKey::kLength] = '\n';
  s = common::WriteNewFile(
      secret_path, std::string_view(line.bytes, sizeof line.bytes), 0600);
  if (!s.ok()) return Refuse(s, secret_path);
  s = common::WriteNewFile(public_path, keys.public_key + "\n", 0644);
  if (!s.ok()) {
    ::unlink(secret_path.c_str());  // No half pair is left behind.
    return Refuse(s, public_path);
  }
  return Status();
}

}  // namespace orchestra::broker
