// Curve key files (DESIGN.md section 6): NAME.key holds the secret key and
// NAME.pub the public key, each 40 Z85 characters and a newline. Secret key
// files must not be readable by group or others.

#ifndef ORCHESTRA_BROKER_CURVE_KEYS_H_
#define ORCHESTRA_BROKER_CURVE_KEYS_H_

#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"

namespace orchestra::broker {

struct CurveKeyPair {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters; never logged
};

// True for 40 characters of the Z85 alphabet that decode to 32 bytes.
bool IsCurveKey(std::string_view text);

// The first 8 characters: enough to tell keys apart in logs.
std::string KeyFingerprint(std::string_view public_key);

common::Result<CurveKeyPair> GenerateKeyPair();

// Reads a public key file. InvalidArgument naming the file when it does not
// hold exactly one key.
common::Result<std::string> ReadPublicKeyFile(const std::string& path);

// Reads a secret key file and derives its public key. PermissionDenied when
// group or others can read the file.
common::Result<CurveKeyPair> ReadSecretKeyFile(const std::string& path);

// Writes DIR/NAME.key (mode 0600) and DIR/NAME.pub (0644). Conflict if
// either exists: keys are never overwritten.
common::Status WriteKeyPair(const std::string& dir, const std::string& name,
                            const CurveKeyPair& keys);

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_CURVE_KEYS_H_
