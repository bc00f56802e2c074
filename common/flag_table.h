// FlagTable is a program's command-line flags as one table: each row gives
// a flag's names, whether it takes an argument, its help line and where
// its value goes. Both the getopt_long parsing and the usage text come
// from the table, so they cannot disagree. Used by common/daemon.h.

#ifndef ORCHESTRA_COMMON_FLAG_TABLE_H_
#define ORCHESTRA_COMMON_FLAG_TABLE_H_

#include <string>
#include <vector>

#include "common/status.h"

namespace orchestra::common {

// One row of the table. Exactly one of `value` and `set` is non-null.
struct Flag {
  const char* name;      // "config" is --config
  char letter;           // 'c' is -c
  const char* argument;  // Its placeholder in the usage text ("PATH")
  std::string help;      // One line of the usage text
  std::string* value;    // Where the argument goes: the flag takes one
  bool* set;             // Set true when given: the flag takes none
};

class FlagTable {
 public:
  FlagTable(std::string program, std::vector<Flag> flags);

  // Stores each flag of argv[1..argc) where its row says. InvalidArgument
  // naming the word for an unknown flag, a missing argument or a word
  // that is not a flag. May run more than once in a process.
  Status Parse(int argc, char** argv) const;

  // "usage: PROGRAM [--name ARG]...\n" and one line a flag.
  std::string Usage() const;

 private:
  std::string Synopsis() const;

  std::string program_;
  std::vector<Flag> flags_;
};

}  // namespace orchestra::common

#endif  // ORCHESTRA_COMMON_FLAG_TABLE_H_
