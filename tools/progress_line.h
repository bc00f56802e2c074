// ProgressLine keeps one line on a terminal up to date while `orchestra
// wait` runs ("job 42: 37/100 done  OK 30  FAIL 7  RUNNING 63") for a job
// of more than one task, and erases it before the final output. Disabled,
// it writes nothing.

#ifndef ORCHESTRA_TOOLS_PROGRESS_LINE_H_
#define ORCHESTRA_TOOLS_PROGRESS_LINE_H_

#include <ostream>
#include <string>

#include "broker/audience_protocol.h"

namespace orchestra::tools {

class ProgressLine {
 public:
  // Writes to `out` when `enabled`; lines are cut to `width` - 1 characters
  // so that they never wrap.
  ProgressLine(std::ostream* out, bool enabled, int width);
  ~ProgressLine() { Clear(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // Replaces the line with the progress of `job`; nothing for a job of
  // one task, whose final output follows soon enough.
  void Show(broker::JobId job, const broker::Progress& progress);
  // Erases the line, if one is shown.
  void Clear();

  // The text of the line, without terminal controls.
  static std::string Text(broker::JobId job, const broker::Progress& progress);

 private:
  std::ostream* out_;
  bool enabled_;
  size_t width_;
  bool shown_ = false;
};

}  // namespace orchestra::tools

#endif  // ORCHESTRA_TOOLS_PROGRESS_LINE_H_
