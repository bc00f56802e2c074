// A glob is compiled into steps that each match one byte (a literal, '?',
// a bracket expression: a set of bytes) or any run of bytes ('*'), and
// matched by the classic greedy walk that, on a mismatch, only ever goes
// back to the last '*' (Russ Cox, "Glob Matching Can Be Simple And Fast
// Too"): at most glob steps times text bytes, where glibc's fnmatch
// recurses at every '*' and can take exponential time on `*a*a*a*a*b`.
//
// The syntax is a subset of fnmatch's on which both agree byte for byte
// (test/fuzz/glob_fuzz.cc checks it against fnmatch): names and label
// values hold only [A-Za-z0-9._:/-], so a glob holds only those and
// * ? [ ]. What fnmatch would read in a surprising way is refused rather
// than guessed: '!' and '^' outside brackets (they would match themselves,
// and a user who writes `!web-*` means `name!=web-*`), a '[' without ']'
// (fnmatch matches it literally), an empty '[]', character classes
// ([[:alpha:]]), backwards ranges and a '-' that follows a range.

#include "conductor/glob.h"

#include <cstdio>

namespace orchestra::conductor {

using common::Result;
using common::Status;

namespace {

// The characters of label values (and so of player names).
bool IsValueChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
         c == '/' || c == '-';
}

// `c` as an error message shows it: 'x', or '\xNN' when not printable.
std::string Shown(char c) {
  const unsigned char byte = static_cast<unsigned char>(c);
  if (byte > 0x20 && byte < 0x7f) return std::string("'") + c + "'";
  char hex[8];
  std::snprintf(hex, sizeof(hex), "'\\x%02x'", byte);
  return hex;
}

}  // namespace

Result<Glob> Glob::Parse(std::string_view text) {
  Glob glob;
  glob.text_ = std::string(text);
  if (text.empty()) return Status::InvalidArgument("", "the glob is empty");
  for (size_t at = 0; at < text.size(); ++at) {
    const char c = text[at];
    Token token;
    if (c == '*') {
      token.star = true;
    } else if (c == '?') {
      token.bytes.set();
    } else if (c == '[') {
      std::string problem = glob.ParseBracket(text, &at);
      if (!problem.empty()) return Status::InvalidArgument("", problem);
      continue;
    } else if (c == ']') {
      return Status::InvalidArgument("", "']' without '[' before it");
    } else if (c == '!' || c == '^') {
      return Status::InvalidArgument(
          "", Shown(c) +
                  " only negates inside [...]; to leave players out, write "
                  "KEY!=GLOB (name!=GLOB for names)");
    } else if (IsValueChar(c)) {
      token.bytes.set(static_cast<unsigned char>(c));
    } else {
      return Status::InvalidArgument(
          "", Shown(c) +
                  " may not appear in a glob (letters, digits, '.', '_', "
                  "':', '/', '-' and * ? [ ])");
    }
    if (token.star && !glob.tokens_.empty() && glob.tokens_.back().star)
      continue;  // "**" is "*"
    if (token.star || token.bytes.count() != 1) glob.literal_ = false;
    glob.tokens_.push_back(token);
  }
  return glob;
}

std::string Glob::ParseBracket(std::string_view text, size_t* at) {
  literal_ = false;
  Token token;
  size_t i = *at + 1;
  const bool negated = i < text.size() && (text[i] == '!' || text[i] == '^');
  if (negated) ++i;
  bool after_range = false;
  for (;; ++i) {
    if (i >= text.size()) return "'[' without a closing ']'";
    const char c = text[i];
    if (c == ']') break;
    if (c == '[') return "'[' inside [...] (character classes) is not allowed";
    if (!IsValueChar(c)) return Shown(c) + " may not appear inside [...]";
    const bool range =
        i + 2 < text.size() && text[i + 1] == '-' && text[i + 2] != ']';
    if (c == '-' && after_range && i + 1 < text.size() && text[i + 1] != ']')
      return "a '-' after a range inside [...] must be last";
    after_range = false;
    if (!range) {
      token.bytes.set(static_cast<unsigned char>(c));
      continue;
    }
    const char high = text[i + 2];
    if (!IsValueChar(high)) return Shown(high) + " may not appear inside [...]";
    if (high < c)
      return "the range '" + std::string(text.substr(i, 3)) + "' is backwards";
    for (int b = c; b <= high; ++b) token.bytes.set(b);
    i += 2;
    after_range = true;
  }
  if (token.bytes.none()) return "'[]' lists no character";
  if (negated) token.bytes.flip();
  tokens_.push_back(token);
  *at = i;
  return "";
}

bool Glob::Matches(std::string_view text) const {
  if (literal_) return text == text_;
  size_t step = 0, pos = 0;
  size_t star_step = 0, star_pos = 0;  // Where to go back to, if anywhere
  bool star = false;
  while (step < tokens_.size() || pos < text.size()) {
    if (step < tokens_.size()) {
      const Token& token = tokens_[step];
      if (token.star) {  // Match nothing first; on a mismatch, one more
        star = true;
        star_step = step;
        star_pos = pos + 1;
        ++step;
        continue;
      }
      if (pos < text.size() &&
          token.bytes.test(static_cast<unsigned char>(text[pos]))) {
        ++step;
        ++pos;
        continue;
      }
    }
    if (!star || star_pos > text.size()) return false;
    step = star_step;
    pos = star_pos;
  }
  return true;
}

}  // namespace orchestra::conductor
