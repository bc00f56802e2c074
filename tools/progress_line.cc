#include "tools/progress_line.h"

#include "tools/report.h"
#include "tools/table.h"

namespace orchestra::tools {

namespace {

constexpr char kEraseLine[] = "\r\033[K";  // carriage return, erase to end
constexpr int64_t kMinTasksShown = 2;

}  // namespace

ProgressLine::ProgressLine(std::ostream* out, bool enabled, int width)
    : out_(out), enabled_(enabled), width_(width > 1 ? width - 1 : 79) {}

void ProgressLine::Show(broker::JobId job, const broker::Progress& progress) {
  if (!enabled_ || progress.total < kMinTasksShown) return;
  *out_ << kEraseLine << Shorten(Text(job, progress), width_) << std::flush;
  shown_ = true;
}

void ProgressLine::Clear() {
  if (!shown_) return;
  *out_ << kEraseLine << std::flush;
  shown_ = false;
}

std::string ProgressLine::Text(broker::JobId job,
                               const broker::Progress& progress) {
  std::string text = "job " + std::to_string(job) + ": " +
                     std::to_string(progress.done) + "/" +
                     std::to_string(progress.total) + " done";
  const std::string counts = FormatCounts(progress.by_state);
  return counts.empty() ? text : text + "  " + counts;
}

}  // namespace orchestra::tools
