// Fuzz target: the conductor's audience keys file
// (conductor::AudienceKeys::Parse, what Load does with the file's text), and
// the decisions its globs make: every key's limits are tried on every
// key's name as a score and a player (names a client may send). What the
// parser accepts, written back a line a key, must load again to the same
// grants.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "conductor/audience_keys.h"
#include "test/fuzz/fuzz_check.h"

namespace conductor = orchestra::conductor;

namespace {

std::string Join(const std::vector<std::string>& globs) {
  std::string text;
  for (const std::string& glob : globs)
    text += (text.empty() ? "" : ",") + glob;
  return text;
}

// The file's line for `grant`.
std::string Line(const conductor::AudienceGrant& grant) {
  std::string line = grant.name + " " + grant.public_key;
  if (!grant.scores.empty()) line += " scores=" + Join(grant.scores);
  if (!grant.players.empty()) line += " players=" + Join(grant.players);
  return line + "\n";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string content(reinterpret_cast<const char*>(data), size);
  orchestra::common::Result<conductor::AudienceKeys> keys =
      conductor::AudienceKeys::Parse("audience", content);
  if (!keys.ok()) return 0;
  std::vector<std::string> names;
  for (const auto& [key, name] : keys.value().NamesByKey())
    names.push_back(name);
  std::string written;
  for (const std::string& name : names) {
    const conductor::AudienceGrant* grant = keys.value().Find(name);
    FUZZ_CHECK(grant != nullptr);
    FUZZ_CHECK(keys.value().FindByKey(grant->public_key) == grant);
    for (const std::string& other : names) {
      const bool may = grant->MaySee(other, {other});
      FUZZ_CHECK(may == grant->WhyNotSubmit(other, {other}).empty());
      (void)grant->MaySeePlayer(other);
    }
    written += Line(*grant);
  }
  orchestra::common::Result<conductor::AudienceKeys> again =
      conductor::AudienceKeys::Parse("written", written);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again.value().size() == keys.value().size());
  for (const std::string& name : names) {
    const conductor::AudienceGrant* grant = again.value().Find(name);
    FUZZ_CHECK(grant != nullptr);
    FUZZ_CHECK(Line(*grant) == Line(*keys.value().Find(name)));
  }
  return 0;
}
