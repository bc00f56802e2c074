// Small string helpers shared by the config reader, the codecs and the
// command line: case, trimming, splitting, UTF-8 checks and the name rules
// of DESIGN.md sections 4 and 13 (labels).

#ifndef ORCHESTRA_COMMON_TEXT_H_
#define ORCHESTRA_COMMON_TEXT_H_

#include <string>
#include <string_view>
#include <vector>

namespace orchestra::common {

std::string ToLower(std::string_view text);
std::string_view Trim(std::string_view text);
// Splits on `separator`; trims each piece and drops empty ones.
std::vector<std::string> SplitList(std::string_view text, char separator);

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates).
bool IsValidUtf8(std::string_view text);
// Replaces each ill-formed UTF-8 sequence by U+FFFD.
std::string SanitizeUtf8(std::string_view text);
// The last (first) at most `limit` bytes of `text`, without a partial
// character at the cut (up to three more bytes go).
std::string_view LastUtf8Bytes(std::string_view text, size_t limit);
std::string_view FirstUtf8Bytes(std::string_view text, size_t limit);

// Score names: [A-Za-z0-9._-]{1,128}, not starting with '.'.
bool IsValidScoreName(std::string_view name);
// Parameter keys: [A-Za-z_][A-Za-z0-9_]{0,63}.
bool IsValidParamKey(std::string_view key);
// Player names: [A-Za-z0-9._-]{1,253}, not starting with '.' or '-'.
bool IsValidPlayerName(std::string_view name);
// Label keys: [a-z][a-z0-9_.-]{0,62}. The key kNameLabel is well formed but
// reserved: in a target it is the player's name, and no label may set it.
bool IsValidLabelKey(std::string_view key);
// Label values: [A-Za-z0-9._:/-]{1,128}.
bool IsValidLabelValue(std::string_view value);
inline constexpr std::string_view kNameLabel = "name";
// Each rule above as error messages say it, from common/limits.h:
// "[A-Za-z0-9._-]{1,128} and not start with '.'".
std::string ScoreNameRule();
std::string ParamKeyRule();
std::string PlayerNameRule();
std::string LabelKeyRule();
std::string LabelValueRule();
// Why `key`=`value` may not be a player's label ("label key 'Role' must
// match [a-z][a-z0-9_.-]{0,62}"), or "" when it may.
std::string LabelProblem(std::string_view key, std::string_view value);

// Parses a whole decimal integer in [min, max]; false otherwise.
bool ParseInt64(std::string_view text, int64_t min, int64_t max,
                int64_t* value);

}  // namespace orchestra::common

#endif  // ORCHESTRA_COMMON_TEXT_H_
