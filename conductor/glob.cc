// A glob is compiled into steps that each match one byte (a literal, '?',
// a bracket expression: a set of bytes) or any run of bytes ('*'). glibc's
// fnmatch recurses at every '*' and can take exponential time on
// `*a*a*a*a*b`; a target comes from the audience and is matched against
// every listed player, so here a glob without wildcards is a string
// compare, a text shorter than the glob's steps other than '*' fails at
// once, and any other runs as a bit-parallel automaton (Shift-And, where a
// '*' lets the step before it stay put): a shift, an and and an or a byte
// for each 64 steps, whatever the glob.
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

#include "common/limits.h"

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
  if (text.empty()) return Status::InvalidArgument("", "the glob is empty");
  if (text.size() > kMaxTargetBytes)
    return Status::InvalidArgument("", "the glob is longer than " +
                                           std::to_string(kMaxTargetBytes) +
                                           " bytes");
  Glob glob;
  glob.text_ = std::string(text);
  std::vector<Token> tokens;
  for (size_t at = 0; at < text.size(); ++at) {
    const char c = text[at];
    Token token;
    if (c == '*') {
      token.star = true;
    } else if (c == '?') {
      token.bytes.set();
    } else if (c == '[') {
      std::string problem = ParseBracket(text, &at, &token);
      if (!problem.empty()) return Status::InvalidArgument("", problem);
      glob.literal_ = false;
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
    if (token.star || token.bytes.count() != 1) glob.literal_ = false;
    tokens.push_back(token);
  }
  if (!glob.literal_) glob.Compile(tokens);
  return glob;
}

std::string Glob::ParseBracket(std::string_view text, size_t* at,
                               Token* token) {
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
      token->bytes.set(static_cast<unsigned char>(c));
      continue;
    }
    const char high = text[i + 2];
    if (!IsValueChar(high)) return Shown(high) + " may not appear inside [...]";
    if (high < c)
      return "the range '" + std::string(text.substr(i, 3)) + "' is backwards";
    for (int b = c; b <= high; ++b) token->bytes.set(b);
    i += 2;
    after_range = true;
  }
  if (token->bytes.none()) return "'[]' lists no character";
  if (negated) token->bytes.flip();
  *at = i;
  return "";
}

void Glob::Compile(const std::vector<Token>& tokens) {
  for (const Token& token : tokens) steps_ += token.star ? 0 : 1;
  words_ = (steps_ + 63) / 64;
  masks_.assign(256 * words_, 0);
  star_after_.assign(words_, 0);
  size_t step = 0;
  for (const Token& token : tokens) {
    if (token.star && step == 0) {
      leading_star_ = true;
    } else if (token.star) {
      star_after_[(step - 1) / 64] |= uint64_t{1} << ((step - 1) % 64);
    } else {
      for (int b = 0; b < 256; ++b) {
        if (token.bytes.test(b))
          masks_[b * words_ + step / 64] |= uint64_t{1} << (step % 64);
      }
      ++step;
    }
  }
}

// Bit j of `alive` says that the glob up to its step j (and the '*' after
// it, if any) matches the text read so far.
bool Glob::Matches(std::string_view text) const {
  if (literal_) return text == text_;
  if (text.size() < steps_) return false;
  if (steps_ == 0) return true;  // Only '*'
  uint64_t alive[kMaxTargetBytes / 64 + 1] = {};
  for (size_t i = 0; i < text.size(); ++i) {
    const uint64_t* mask =
        &masks_[static_cast<unsigned char>(text[i]) * words_];
    uint64_t carry = i == 0 || leading_star_ ? 1 : 0;  // Step 0 may begin
    uint64_t any = 0;
    for (size_t w = 0; w < words_; ++w) {
      const uint64_t before = alive[w];
      alive[w] =
          (((before << 1) | carry) & mask[w]) | (before & star_after_[w]);
      carry = before >> 63;
      any |= alive[w];
    }
    if (any == 0 && !leading_star_) return false;
  }
  const size_t last = steps_ - 1;
  return (alive[last / 64] >> (last % 64)) & 1;
}

}  // namespace orchestra::conductor
