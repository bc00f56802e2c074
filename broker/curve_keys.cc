#include "broker/curve_keys.h"

#include <sys/stat.h>
#include <zmq.h>

#include <cstdint>

#include "common/files.h"
#include "common/text.h"

namespace orchestra::broker {

using common::Result;
using common::Status;

namespace {

Result<std::string> ReadKeyText(const std::string& path) {
  Result<std::string> content = common::ReadFile(path, 4096);
  if (!content.ok()) return content.status();
  std::string key(common::Trim(content.value()));
  if (!IsCurveKey(key))
    return Status::InvalidArgument(
        path, "does not hold a Curve key (40 Z85 characters); make one with "
              "'orchestra keygen NAME'");
  return key;
}

}  // namespace

bool IsCurveKey(std::string_view text) {
  // zmq_z85_decode() reads a C string: a NUL inside would end it early.
  if (text.size() != 40 || text.find('\0') != std::string_view::npos)
    return false;
  uint8_t decoded[32];
  std::string copy(text);
  return zmq_z85_decode(decoded, copy.c_str()) != nullptr;
}

std::string KeyFingerprint(std::string_view public_key) {
  return std::string(public_key.substr(0, 8));
}

Result<CurveKeyPair> GenerateKeyPair() {
  char public_key[41];
  char secret_key[41];
  if (zmq_curve_keypair(public_key, secret_key) != 0)
    return Status::Unavailable("keygen",
                               "libzmq was built without CurveZMQ support");
  return CurveKeyPair{public_key, secret_key};
}

Result<std::string> ReadPublicKeyFile(const std::string& path) {
  return ReadKeyText(path);
}

Result<CurveKeyPair> ReadSecretKeyFile(const std::string& path) {
  Status s = common::CheckPrivateFile(path);
  if (!s.ok()) return s;
  Result<std::string> secret = ReadKeyText(path);
  if (!secret.ok()) return secret.status();
  char public_key[41];
  if (zmq_curve_public(public_key, secret.value().c_str()) != 0)
    return Status::InvalidArgument(path, "cannot derive the public key");
  return CurveKeyPair{public_key, secret.value()};
}

Status WriteKeyPair(const std::string& dir, const std::string& name,
                    const CurveKeyPair& keys) {
  if (!common::IsValidPlayerName(name))
    return Status::InvalidArgument(
        name, "key names use letters, digits, '.', '_' and '-'");
  const std::string secret_path = dir + "/" + name + ".key";
  const std::string public_path = dir + "/" + name + ".pub";
  struct stat st;
  for (const std::string& path : {secret_path, public_path}) {
    if (::stat(path.c_str(), &st) == 0)
      return Status::Conflict(path, "already exists; keys are never "
                                    "overwritten (remove it first)");
  }
  Status s = common::MakeDirectories(dir, 0755);
  if (!s.ok()) return s;
  s = common::WriteFileAtomically(secret_path, keys.secret_key + "\n", 0600);
  if (!s.ok()) return s;
  return common::WriteFileAtomically(public_path, keys.public_key + "\n",
                                     0644);
}

}  // namespace orchestra::broker
