// Glob is one glob of a target expression (conductor/target.h): what
// fnmatch(3) with no flags says, over the characters of player names and
// label values, matched in time linear in the text (glibc's fnmatch can
// take exponential time, and targets come from the audience). Immutable
// once parsed; any thread may use it.

#ifndef ORCHESTRA_CONDUCTOR_GLOB_H_
#define ORCHESTRA_CONDUCTOR_GLOB_H_

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace orchestra::conductor {

class Glob {
 public:
  // Parses `text`: letters, digits, '.', '_', ':', '/', '-', the wildcards
  // '*' and '?', and bracket expressions ([abc], [a-z], [!0-9] or [^0-9]),
  // at most kMaxTargetBytes in all. InvalidArgument saying what is wrong
  // (an unclosed '[', a '!' outside brackets, ...), without a "where".
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

  // Reads the bracket expression at `text[*at]` ('[') into `token` and
  // moves `*at` to its ']'; an error message, or "".
  static std::string ParseBracket(std::string_view text, size_t* at,
                                  Token* token);
  // Builds the automaton below from `tokens`.
  void Compile(const std::vector<Token>& tokens);

  std::string text_;
  bool literal_ = true;  // No wildcard nor bracket: Matches compares text_
  // The automaton (Shift-And) over the steps that are not '*', numbered
  // from 0 into words_ 64-bit words: bit j of row b of masks_ is set when
  // step j matches byte b, of star_after_ when a '*' follows step j.
  size_t steps_ = 0;
  size_t words_ = 0;
  std::vector<uint64_t> masks_;  // 256 rows of words_ words
  std::vector<uint64_t> star_after_;
  bool leading_star_ = false;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_GLOB_H_
