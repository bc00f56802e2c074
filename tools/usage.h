// The usage texts of the orchestra CLI: the overview and one per command,
// shown by --help and after a usage error.

#ifndef ORCHESTRA_TOOLS_USAGE_H_
#define ORCHESTRA_TOOLS_USAGE_H_

#include <string>

namespace orchestra::tools {

// The usage of command `word`, or the overview for an empty or unknown one.
std::string Usage(const std::string& word);

}  // namespace orchestra::tools

#endif  // ORCHESTRA_TOOLS_USAGE_H_
