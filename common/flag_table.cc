#include "common/flag_table.h"

#include <getopt.h>

#include <algorithm>

namespace orchestra::common {

namespace {

constexpr size_t kUsageWidth = 80;

// "-c, --config PATH": how a row is spelt in the usage text.
std::string Spelling(const Flag& flag) {
  std::string text = std::string("-") + flag.letter + ", --" + flag.name;
  if (flag.value) text += std::string(" ") + flag.argument;
  return text;
}

// Why getopt_long returned `c` ('?' or ':') for the word before optind.
Status BadFlag(int c, char** argv) {
  const std::string word = argv[optind - 1];
  if (c == ':')
    return Status::InvalidArgument("", "'" + word + "' needs an argument");
  if (optopt != 0)  // An unknown letter, maybe inside "-tx"
    return Status::InvalidArgument(
        "", std::string("unknown flag '-") + static_cast<char>(optopt) + "'");
  return Status::InvalidArgument("", "unknown flag '" + word + "'");
}

}  // namespace

FlagTable::FlagTable(std::string program, std::vector<Flag> flags)
    : program_(std::move(program)), flags_(std::move(flags)) {}

Status FlagTable::Parse(int argc, char** argv) const {
  std::vector<option> options;
  std::string letters = ":";  // Leading ':': a missing argument returns ':'
  for (const Flag& flag : flags_) {
    options.push_back({flag.name, flag.value ? required_argument : no_argument,
                       nullptr, flag.letter});
    letters += flag.letter;
    if (flag.value) letters += ':';
  }
  options.push_back({nullptr, 0, nullptr, 0});
  optind = 0;  // glibc starts afresh
  opterr = 0;  // The messages are ours
  int c;
  while ((c = getopt_long(argc, argv, letters.c_str(), options.data(),
                          nullptr)) != -1) {
    if (c == '?' || c == ':') return BadFlag(c, argv);
    auto row = std::find_if(flags_.begin(), flags_.end(),
                            [c](const Flag& flag) { return flag.letter == c; });
    if (row->value)
      *row->value = optarg;
    else
      *row->set = true;
  }
  if (optind < argc)
    return Status::InvalidArgument(
        "", std::string("unexpected argument '") + argv[optind] + "'");
  return Status();
}

std::string FlagTable::Usage() const {
  size_t width = 0;
  for (const Flag& flag : flags_)
    width = std::max(width, Spelling(flag).size());
  std::string text = Synopsis();
  for (const Flag& flag : flags_) {
    std::string spelling = Spelling(flag);
    spelling.resize(width + 2, ' ');
    text += "  " + spelling + flag.help + "\n";
  }
  return text;
}

// "usage: PROGRAM [--config PATH] [--check-config] ...", wrapped under the
// first bracket.
std::string FlagTable::Synopsis() const {
  std::string text = "usage: " + program_;
  const std::string indent(text.size(), ' ');
  size_t line_start = 0;
  for (const Flag& flag : flags_) {
    std::string word = std::string(" [--") + flag.name;
    if (flag.value) word += std::string(" ") + flag.argument;
    word += "]";
    if (text.size() - line_start + word.size() > kUsageWidth) {
      text += "\n";
      line_start = text.size();
      text += indent;
    }
    text += word;
  }
  return text + "\n";
}

}  // namespace orchestra::common
