// Target is a target expression (DESIGN.md section 13): terms separated by
// spaces, all of which must hold, that pick a job's players by name and
// label at submit: `role=web dc=syd,mel name!=web-0*`. Pure logic, no
// sockets; immutable once parsed, so any thread may use it.

#ifndef ORCHESTRA_CONDUCTOR_TARGET_H_
#define ORCHESTRA_CONDUCTOR_TARGET_H_

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "conductor/glob.h"
#include "conductor/players_file.h"

namespace orchestra::conductor {

class Target {
 public:
  // The labels of a listed player, by name (e.g. Trust::LabelsOf); nullptr
  // means it has none.
  using LabelsOf = std::function<const Labels*(const std::string& name)>;

  // Parses `text`: `KEY=GLOB[,GLOB...]` (the label's value matches a glob),
  // `KEY!=GLOB[,GLOB...]` (the player lacks the label or matches none), or
  // a bare `GLOB[,GLOB...]` (`name=...`: the player's name matches). Terms
  // are separated by runs of spaces and tabs. InvalidArgument saying what is
  // wrong and where: "term 2 'role=': a glob after '=' is empty".
  static common::Result<Target> Parse(std::string_view text);

  // True when the player `name` with `labels` meets every term.
  bool Matches(const std::string& name, const Labels& labels) const;

  // The players of `listed` that match, in name order. InvalidArgument "no
  // listed player matches 'EXPR'" when none does.
  common::Result<std::vector<std::string>> Resolve(
      const std::set<std::string>& listed, const LabelsOf& labels_of) const;

  // The expression normalized: terms in their order, one space apart,
  // `name=GLOB` written as the bare GLOB. Parse(ToString()) gives the same.
  std::string ToString() const;

 private:
  struct Term {
    std::string key;       // A label key, or "name"
    bool is_name = false;  // key is "name": the player's name, not a label
    bool negated = false;  // KEY!=...: the value matches none of the globs
    std::vector<Glob> globs;

    bool Holds(const std::string& name, const Labels& labels) const;
  };

  // Parses one term (a word without spaces); an error without a "where".
  static common::Result<Term> ParseTerm(std::string_view word);

  std::vector<Term> terms_;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_TARGET_H_
