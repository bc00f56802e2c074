// Glob is one glob of a target expression (conductor/target.h): what
// fnmatch(3) with no flags says, over the characters of player names and
// label values, matched in time linear in the glob times the text (glibc's
// fnmatch can take exponential time, and targets come from the audience).
// Immutable once parsed; any thread may use it.

#ifndef ORCHESTRA_CONDUCTOR_GLOB_H_
#define ORCHESTRA_CONDUCTOR_GLOB_H_

#include <bitset>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace orchestra::conductor {

class Glob {
 public:
  // Parses `text`: letters, digits, '.', '_', ':', '/', '-', the wildcards
  // '*' and '?', and bracket expressions ([abc], [a-z], [!0-9] or [^0-9]).
  // InvalidArgument saying what is wrong (an unclosed '[', a '!' outside
  // brackets, another character), without a "where".
  static common::Result<Glob> Parse(std::string_view text);

  // True when all of `text` matches, as fnmatch(glob, text, 0) would say.
  bool Matches(std::string_view text) const;

  // The glob as given.
  const std::string& text() const { return text_; }

 private:
  // One step of the glob: '*', or the bytes one character may be.
  struct Token {
    bool star = false;
    std::bitset<256> bytes;
  };

  // Adds the bracket expression at `text[*at]` ('[') to tokens_ and moves
  // `*at` to its ']'; an error message, or "".
  std::string ParseBracket(std::string_view text, size_t* at);

  std::string text_;
  std::vector<Token> tokens_;
  bool literal_ = true;  // No wildcard nor bracket: Matches compares text_
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_GLOB_H_
