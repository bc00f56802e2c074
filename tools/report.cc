#include "tools/report.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "broker/rollout_limit.h"
#include "broker/states.h"
#include "broker/task_groups.h"
#include "common/text.h"
#include "tools/table.h"

namespace orchestra::tools {

namespace {

using broker::JobRecord;
using broker::TaskRecord;

constexpr size_t kSummaryWidth = 60;  // The OUTPUT column of a task table.
constexpr size_t kScoresWidth = 40;   // The SCORES column of players.

std::string Time(common::TimeMs ms) {
  return ms == 0 ? "-" : common::FormatTime(ms);
}

std::string Elapsed(common::TimeMs from, common::TimeMs to) {
  return (from == 0 || to == 0) ? "-" : FormatDuration(to - from);
}

std::string ExitText(const TaskRecord& task) {
  if (task.signal) return "signal " + std::to_string(*task.signal);
  if (task.exit_code) return std::to_string(*task.exit_code);
  return "-";
}

std::string Header(const JobRecord& job) {
  std::string out = "job " + std::to_string(job.id) + "  score " +
                    Printable(job.score) + "  scope " +
                    broker::ScopeName(job.scope) + "  state " +
                    broker::JobStateName(job.state) + "\n";
  // How it was aimed and rolled out (DESIGN.md 13), when it was.
  std::string rollout;
  if (!job.target.empty())
    rollout += "  target '" + Printable(job.target) + "'";
  if (job.max_concurrency)
    rollout +=
        "  max concurrency " + broker::RolloutLimitText(*job.max_concurrency);
  if (job.max_errors)
    rollout += "  max errors " + broker::RolloutLimitText(*job.max_errors);
  if (job.priority != 0)
    rollout += "  priority " + std::to_string(job.priority);
  if (!rollout.empty()) out += rollout.substr(2) + "\n";
  out +=
      "created " + Time(job.created_at) + "  finished " + Time(job.finished_at);
  if (job.finished_at != 0)
    out += " (" + Elapsed(job.created_at, job.finished_at) + ")";
  if (!job.submitted_by.empty())
    out += "  submitted by " + Printable(job.submitted_by);
  return out + "\n";
}

// "1.25s" of CPU, "-" when unknown.
std::string CpuText(const std::optional<int64_t>& cpu_us) {
  if (!cpu_us) return "-";
  char text[32];
  std::snprintf(text, sizeof(text), "%.2fs", *cpu_us / 1e6);
  return text;
}

// Columns CPU and MEMORY only when a task of the job has a cost (it ran in
// a cgroup, DESIGN.md 16), so jobs without one read as before.
std::string TaskTable(const JobRecord& job) {
  const bool cost = std::any_of(
      job.tasks.begin(), job.tasks.end(),
      [](const TaskRecord& t) { return t.cpu_us || t.memory_peak_bytes; });
  std::vector<std::string> titles = {"TASK",  "PLAYER", "ATTEMPT",
                                     "STATE", "EXIT",   "DURATION"};
  if (cost) titles.insert(titles.end(), {"CPU", "MEMORY"});
  titles.push_back("OUTPUT");
  Table table(titles);
  for (size_t column : {0, 2, 4, 5}) table.AlignRight(column);
  if (cost) table.AlignRight(6), table.AlignRight(7);
  table.LimitWidth(titles.size() - 1, kSummaryWidth);
  for (const TaskRecord& t : job.tasks) {
    std::vector<std::string> row = {std::to_string(t.task),
                                    t.player.empty() ? "-" : t.player,
                                    std::to_string(t.attempt),
                                    broker::TaskStateName(t.state),
                                    ExitText(t),
                                    Elapsed(t.started_at, t.finished_at)};
    if (cost) {
      row.push_back(CpuText(t.cpu_us));
      row.push_back(t.memory_peak_bytes ? FormatBytes(*t.memory_peak_bytes)
                                        : "-");
    }
    row.push_back(t.waiting ? "waiting: " + broker::WaitingText({*t.waiting})
                            : TaskSummaryLine(t));
    table.AddRow(row);
  }
  return table.ToString();
}

// A block of text indented under its title; nothing when `text` is empty.
std::string Section(const std::string& title, const std::string& text) {
  if (text.empty()) return "";
  std::string out = "  " + title + ":\n";
  size_t start = 0;
  const std::string printable = Printable(text, /*keep_newlines=*/true);
  while (start < printable.size()) {
    size_t end = printable.find('\n', start);
    if (end == std::string::npos) end = printable.size();
    out += "    " + printable.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

std::string TaskDetail(const TaskRecord& t) {
  std::string out = "\ntask " + std::to_string(t.task) + " on " +
                    (t.player.empty() ? "-" : Printable(t.player)) +
                    ", attempt " + std::to_string(t.attempt) + ": " +
                    broker::TaskStateName(t.state) + ", exit " + ExitText(t) +
                    "\n";
  out += "  dispatched " + Time(t.dispatched_at) + "  started " +
         Time(t.started_at) + "  finished " + Time(t.finished_at) + "\n";
  if (t.cpu_us || t.memory_peak_bytes) {
    out += "  cpu " + CpuText(t.cpu_us) + "  memory peak " +
           (t.memory_peak_bytes ? FormatBytes(*t.memory_peak_bytes) : "-") +
           "\n";
  }
  if (t.cut)
    out +=
        "  (cut to fit one reply: the ends of stdout and stderr are "
        "kept, some response entries may be missing)\n";
  out += Section("error", t.error);
  out += Section(t.stdout_truncated ? "stdout (truncated)" : "stdout",
                 t.stdout_text);
  out += Section(t.stderr_truncated ? "stderr (truncated)" : "stderr",
                 t.stderr_text);
  std::string response;
  for (const auto& [key, value] : t.response)
    response += key + "=" + value + "\n";
  return out + Section("response", response);
}

// What a page of a record leaves out, and how to get it; "" when whole.
std::string PageNote(const JobRecord& job) {
  if (!job.tasks_total) return "";
  const int64_t shown = static_cast<int64_t>(job.tasks.size());
  const int64_t next = job.tasks_from + shown;
  std::string out = "\n" + std::to_string(shown) + " of " +
                    std::to_string(*job.tasks_total) +
                    " tasks listed, from task #" +
                    std::to_string(job.tasks_from) + " (0 is the first)";
  if (next < *job.tasks_total)
    out += "; more: orchestra status " + std::to_string(job.id) +
           " --tasks-from " + std::to_string(next);
  return out + "\n";
}

std::string FirstNonBlankLine(std::string_view text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = common::Trim(text.substr(start, end - start));
    if (!line.empty()) return std::string(line);
    start = end + 1;
  }
  return "";
}

std::string LastNonBlankLine(std::string_view text) {
  while (!text.empty()) {
    size_t start = text.rfind('\n', text.size() - 1);
    start = start == std::string_view::npos ? 0 : start + 1;
    std::string_view line = common::Trim(text.substr(start));
    if (!line.empty()) return std::string(line);
    text = text.substr(0, start == 0 ? 0 : start - 1);
  }
  return "";
}

}  // namespace

std::string FormatJob(const JobRecord& job, bool verbose) {
  std::string out = Header(job);
  if (verbose) {
    for (const auto& [key, value] : job.params)
      out += "param " + Printable(key) + "=" + Printable(value) + "\n";
  }
  out += "\n" + TaskTable(job);
  out += PageNote(job);
  if (verbose) {
    for (const TaskRecord& t : job.tasks) out += TaskDetail(t);
  }
  return out;
}

std::string FormatGroupedJob(const JobRecord& job) {
  constexpr size_t kPlayersShown = 3;
  Table table({"TASKS", "STATE", "EXIT", "PLAYERS", "OUTPUT"});
  table.AlignRight(0);
  table.AlignRight(2);
  table.LimitWidth(4, kSummaryWidth);
  broker::TaskGrouper grouper;
  for (const TaskRecord& t : job.tasks) grouper.Add(t);
  for (const broker::TaskGroup& g : grouper.Take()) {
    std::string players;
    for (size_t i = 0; i < g.players.size() && i < kPlayersShown; ++i)
      players += (i ? "," : "") + (g.players[i].empty() ? "-" : g.players[i]);
    if (g.players.size() > kPlayersShown)
      players +=
          " and " + std::to_string(g.players.size() - kPlayersShown) + " more";
    TaskRecord first;
    static_cast<broker::TaskOutcome&>(first) = g.outcome;
    table.AddRow(
        {std::to_string(g.count), broker::TaskStateName(g.outcome.state),
         ExitText(first), players,
         g.waiting.empty() ? TaskSummaryLine(first)
                           : "waiting: " + broker::WaitingText(g.waiting)});
  }
  return Header(job) + "\n" + table.ToString() + PageNote(job);
}

std::string FormatJobs(const std::vector<broker::JobSummary>& jobs) {
  Table table({"JOB", "STATE", "SCORE", "SCOPE", "PLAYERS", "TASKS", "CREATED",
               "FINISHED", "BY"});
  table.AlignRight(0);
  table.AlignRight(4);
  for (const broker::JobSummary& j : jobs) {
    table.AddRow({std::to_string(j.id), broker::JobStateName(j.state), j.score,
                  broker::ScopeName(j.scope), std::to_string(j.players),
                  FormatCounts(j.tasks_by_state), Time(j.created_at),
                  Time(j.finished_at), j.submitted_by});
  }
  return table.ToString();
}

std::string FormatPlayers(const std::vector<broker::PlayerInfo>& players) {
  Table table({"PLAYER", "CONNECTED", "LAST SEEN", "VERSION", "SLOTS",
               "RUNNING", "LABELS", "SCORES"});
  table.AlignRight(4);
  table.AlignRight(5);
  table.LimitWidth(7, kScoresWidth);
  for (const broker::PlayerInfo& p : players) {
    std::string scores, labels;
    for (const std::string& s : p.scores)
      scores += (scores.empty() ? "" : ",") + s;
    for (const auto& [key, value] : p.labels)
      labels += (labels.empty() ? "" : " ") + key + "=" + value;
    table.AddRow({p.name, p.connected ? "yes" : "no", Time(p.last_seen),
                  p.version, std::to_string(p.slots), std::to_string(p.running),
                  labels, scores});
  }
  return table.ToString();
}

std::string FormatCounts(const std::map<std::string, int64_t>& by_state) {
  // Finished states first (OK, FAIL, ...), then QUEUED, DISPATCHED, RUNNING.
  std::vector<std::string> order;
  for (int i = 0; i < broker::kTaskStateCount; ++i) {
    broker::TaskState state = static_cast<broker::TaskState>(i);
    if (broker::IsFinal(state)) order.push_back(broker::TaskStateName(state));
  }
  for (int i = 0; i < broker::kTaskStateCount; ++i) {
    broker::TaskState state = static_cast<broker::TaskState>(i);
    if (!broker::IsFinal(state)) order.push_back(broker::TaskStateName(state));
  }
  for (const auto& entry : by_state) {
    broker::TaskState known;
    if (!broker::ParseTaskState(entry.first, &known))
      order.push_back(entry.first);
  }
  std::string out;
  for (const std::string& name : order) {
    auto it = by_state.find(name);
    if (it == by_state.end() || it->second == 0) continue;
    if (!out.empty()) out += "  ";
    out += Printable(name) + " " + std::to_string(it->second);
  }
  return out;
}

std::string FormatBytes(int64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + "B";
  const char* units = "KMGTPE";
  double value = bytes / 1024.0;
  while (value >= 1024 && units[1] != '\0') {
    value /= 1024;
    ++units;
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f%c", value, *units);
  return text;
}

std::string FormatDuration(common::TimeMs ms) {
  char text[32];
  if (ms < 0) return "-";
  if (ms < 1000) {
    std::snprintf(text, sizeof(text), "%lldms", static_cast<long long>(ms));
  } else if (ms < 60 * 1000) {
    std::snprintf(text, sizeof(text), "%lld.%llds",
                  static_cast<long long>(ms / 1000),
                  static_cast<long long>(ms % 1000 / 100));
  } else if (ms < 3600 * 1000) {
    std::snprintf(text, sizeof(text), "%lldm%02llds",
                  static_cast<long long>(ms / 60000),
                  static_cast<long long>(ms / 1000 % 60));
  } else {
    std::snprintf(text, sizeof(text), "%lldh%02lldm",
                  static_cast<long long>(ms / 3600000),
                  static_cast<long long>(ms / 60000 % 60));
  }
  return text;
}

std::string TaskSummaryLine(const TaskRecord& task) {
  if (!task.error.empty()) return FirstNonBlankLine(task.error);
  const bool failed =
      broker::IsFinal(task.state) && task.state != broker::TaskState::kOk;
  std::string why = failed ? LastNonBlankLine(task.stderr_text) : "";
  if (!why.empty()) return why;  // A failure's last word is the news.
  std::string line = FirstNonBlankLine(task.stdout_text);
  return line.empty() ? FirstNonBlankLine(task.stderr_text) : line;
}

namespace {

std::string SqlText(const broker::SqlValue& value) {
  if (const int64_t* n = std::get_if<int64_t>(&value))
    return std::to_string(*n);
  if (const double* x = std::get_if<double>(&value)) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.15g", *x);
    return text;
  }
  if (const std::string* s = std::get_if<std::string>(&value)) return *s;
  return "NULL";
}

// True when column `index` holds numbers only (and nils).
bool IsNumeric(const broker::SqlReply& result, size_t index) {
  return std::all_of(result.rows.begin(), result.rows.end(),
                     [index](const std::vector<broker::SqlValue>& row) {
                       return index >= row.size() ||
                              !std::holds_alternative<std::string>(row[index]);
                     });
}

}  // namespace

std::string FormatSql(const broker::SqlReply& result) {
  Table table(result.columns);
  for (size_t i = 0; i < result.columns.size(); ++i) {
    if (IsNumeric(result, i)) table.AlignRight(i);
  }
  for (const std::vector<broker::SqlValue>& row : result.rows) {
    std::vector<std::string> cells;
    for (const broker::SqlValue& value : row) cells.push_back(SqlText(value));
    table.AddRow(std::move(cells));
  }
  return table.ToString() + (result.truncated ? "(truncated)\n" : "");
}

std::string SqlJson(const broker::SqlReply& result) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const std::vector<broker::SqlValue>& row : result.rows) {
    nlohmann::ordered_json values = nlohmann::ordered_json::array();
    for (const broker::SqlValue& value : row)
      std::visit(
          [&values](const auto& v) {
            if constexpr (std::is_same_v<std::decay_t<decltype(v)>,
                                         std::monostate>)
              values.push_back(nullptr);
            else
              values.push_back(v);
          },
          value);
    rows.push_back(std::move(values));
  }
  nlohmann::ordered_json json = {{"columns", result.columns},
                                 {"rows", std::move(rows)},
                                 {"truncated", result.truncated}};
  return json.dump(2, ' ', false,
                   nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace orchestra::tools
