// Curve key files (DESIGN.md section 6): NAME.key holds the secret key and
// NAME.pub the public key, each 40 Z85 characters and a newline. A key file
// is opened once, never through a symbolic link, and must be a regular
// file; a secret key file must also be ours (or root's) and private to its
// owner. Secret keys live only in SecretKey blocks (see secret_key.h).

#ifndef ORCHESTRA_BROKER_CURVE_KEYS_H_
#define ORCHESTRA_BROKER_CURVE_KEYS_H_

#include <string>
#include <string_view>

#include "broker/secret_key.h"
#include "common/result.h"
#include "common/status.h"

namespace orchestra::broker {

// Move-only, as its secret key is.
struct CurveKeyPair {
  std::string public_key;  // Z85, 40 characters
  SecretKey secret_key;    // Never logged
};

// True for 40 characters of the Z85 alphabet that decode to 32 bytes. Makes
// no copy of `text` outside the stack, and zeroes what it decoded.
bool IsCurveKey(std::string_view text);

// The first 8 characters: enough to tell keys apart in logs.
std::string KeyFingerprint(std::string_view public_key);

common::Result<CurveKeyPair> GenerateKeyPair();

// Reads a public key file. InvalidArgument naming the file when it is a
// symbolic link, not a regular file, or does not hold exactly one key.
common::Result<std::string> ReadPublicKeyFile(const std::string& path);

// Reads a secret key file and derives its public key. As ReadPublicKeyFile,
// and PermissionDenied when group or others may read or write the file, or
// when it belongs to a user other than ours or root.
common::Result<CurveKeyPair> ReadSecretKeyFile(const std::string& path);

// Writes DIR/NAME.key (mode 0600 from its creation) and DIR/NAME.pub
// (0644), each created new: Conflict if either exists (keys are never
// overwritten), also as a link. When the second file cannot be written,
// the first is removed again.
common::Status WriteKeyPair(const std::string& dir, const std::string& name,
                            const CurveKeyPair& keys);

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_CURVE_KEYS_H_
