// A target is resolved once, at submit, against every listed player, so
// its cost is the fleet's size times the work of one player: for each term
// one label lookup (a std::map of at most kMaxPlayerLabels) and at most one
// match of each of its globs. A glob without wildcards is a string compare,
// any other a few operations a byte of the value for each 64 of its steps
// (conductor/glob.h), never exponential. kMaxTargetBytes, kMaxTargetTerms
// and kMaxTargetGlobs (common/limits.h) bound the rest. A usual target
// (`role=web dc=syd,mel name!=web-0*`) resolves over 10,000 players in a
// few milliseconds; the worst the audience can send, 128 globs that each
// scan the whole name and match none, took 0.12 s over 10,000 players of
// 40-byte names on a 2-core machine (0.6 s at the longest names, 253
// bytes), about what the submit of a 10,000-task job costs anyway.

#include "conductor/target.h"

#include <cstdio>

#include "common/limits.h"
#include "common/text.h"

namespace orchestra::conductor {

using common::Result;
using common::Status;

namespace {

constexpr size_t kShownBytes = 64;  // of a term quoted in an error

// `text` as an error message quotes it: printable ASCII as is, other bytes
// as \xNN, cut after kShownBytes.
std::string Shown(std::string_view text) {
  std::string shown;
  for (size_t i = 0; i < text.size() && i < kShownBytes; ++i) {
    const unsigned char byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      shown += static_cast<char>(byte);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", byte);
      shown += hex;
    }
  }
  if (text.size() > kShownBytes) shown += "...";
  return shown;
}

// The words of `text`, split on runs of spaces and tabs.
std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> words;
  size_t start = text.find_first_not_of(" \t");
  while (start != std::string_view::npos) {
    size_t end = text.find_first_of(" \t", start);
    words.push_back(text.substr(start, end - start));
    start = text.find_first_not_of(" \t", end);
  }
  return words;
}

std::string Join(const std::vector<Glob>& globs) {
  std::string text;
  for (const Glob& glob : globs)
    text += (text.empty() ? "" : ",") + glob.text();
  return text;
}

}  // namespace

Result<Target> Target::Parse(std::string_view text) {
  if (text.size() > kMaxTargetBytes)
    return Status::InvalidArgument(
        "target", std::to_string(text.size()) + " bytes; at most " +
                      std::to_string(kMaxTargetBytes));
  const std::vector<std::string_view> words = Words(text);
  if (words.empty())
    return Status::InvalidArgument(
        "target", "empty; give terms such as role=web dc!=syd web-*");
  if (words.size() > kMaxTargetTerms)
    return Status::InvalidArgument(
        "target", std::to_string(words.size()) + " terms; at most " +
                      std::to_string(kMaxTargetTerms));
  Target target;
  size_t globs = 0;
  for (size_t i = 0; i < words.size(); ++i) {
    Result<Term> term = ParseTerm(words[i]);
    if (!term.ok())
      return Status::InvalidArgument(
          "term " + std::to_string(i + 1) + " '" + Shown(words[i]) + "'",
          term.status().what());
    globs += term.value().globs.size();
    target.terms_.push_back(std::move(term.value()));
  }
  if (globs > kMaxTargetGlobs)
    return Status::InvalidArgument(
        "target", std::to_string(globs) + " globs; at most " +
                      std::to_string(kMaxTargetGlobs) + " in all");
  return target;
}

Result<Target::Term> Target::ParseTerm(std::string_view word) {
  Term term;
  const size_t equals = word.find('=');
  std::string_view list = word;
  std::string op;  // As messages name it: "'='", "'!='", or "" when bare
  if (equals == std::string_view::npos) {
    term.key = std::string(common::kNameLabel);
  } else {
    term.negated = equals > 0 && word[equals - 1] == '!';
    op = term.negated ? "'!='" : "'='";
    term.key = std::string(word.substr(0, equals - (term.negated ? 1 : 0)));
    list = word.substr(equals + 1);
    if (term.key.empty())
      return Status::InvalidArgument("", "a label key is missing before " + op);
    if (!common::IsValidLabelKey(term.key))
      return Status::InvalidArgument("", "'" + Shown(term.key) +
                                             "' is not a label key (" +
                                             common::LabelKeyRule() + ")");
  }
  term.is_name = term.key == common::kNameLabel;
  for (size_t start = 0;;) {
    const size_t comma = list.find(',', start);
    const std::string_view piece = list.substr(start, comma - start);
    if (piece.empty())
      return Status::InvalidArgument(
          "",
          op.empty() ? "a glob is empty" : "a glob after " + op + " is empty");
    Result<Glob> glob = Glob::Parse(piece);
    if (!glob.ok())
      return Status::InvalidArgument("", "glob '" + Shown(piece) + "': " +
                                             std::string(glob.status().what()));
    term.globs.push_back(std::move(glob.value()));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return term;
}

bool Target::Term::Holds(const std::string& name, const Labels& labels) const {
  const std::string* value = &name;
  if (!is_name) {
    auto it = labels.find(key);
    if (it == labels.end()) return negated;
    value = &it->second;
  }
  for (const Glob& glob : globs) {
    if (glob.Matches(*value)) return !negated;
  }
  return negated;
}

bool Target::Matches(const std::string& name, const Labels& labels) const {
  for (const Term& term : terms_) {
    if (!term.Holds(name, labels)) return false;
  }
  return true;
}

Result<std::vector<std::string>> Target::Resolve(
    const std::set<std::string>& listed, const LabelsOf& labels_of) const {
  const Labels none;
  std::vector<std::string> players;
  for (const std::string& name : listed) {
    const Labels* labels = labels_of ? labels_of(name) : nullptr;
    if (Matches(name, labels ? *labels : none)) players.push_back(name);
  }
  if (players.empty())
    return Status::InvalidArgument(
        "", "no listed player matches '" + ToString() + "'");
  return players;
}

std::string Target::ToString() const {
  std::string text;
  for (const Term& term : terms_) {
    if (!text.empty()) text += ' ';
    if (!term.is_name || term.negated)
      text += term.key + (term.negated ? "!=" : "=");
    text += Join(term.globs);
  }
  return text;
}

}  // namespace orchestra::conductor
