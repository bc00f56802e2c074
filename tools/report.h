// The human-readable text of what the conductor returns: a job (a short
// header and a table of its tasks), the jobs list, the players list, an
// `sql` result and the progress counts. Pure functions of the records, so tests
// compare text.

#ifndef ORCHESTRA_TOOLS_REPORT_H_
#define ORCHESTRA_TOOLS_REPORT_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "broker/audience_protocol.h"
#include "common/clock.h"

namespace orchestra::tools {

// The header (id, score, scope, state, times, submitter) and a table with a
// line per task; with `verbose`, the parameters and each task's full
// stdout, stderr and response too.
std::string FormatJob(const broker::JobRecord& job, bool verbose);

// The same header, then a line per group of tasks that ended alike
// (broker/task_groups.h): the count, the state, the exit, the first
// players and the output's summary line once.
std::string FormatGroupedJob(const broker::JobRecord& job);

// One line per job, newest first as the conductor sent them.
std::string FormatJobs(const std::vector<broker::JobSummary>& jobs);

// One line per player.
std::string FormatPlayers(const std::vector<broker::PlayerInfo>& players);

// An `sql` result: a table headed by the column names (NULL for nil;
// numeric columns right-aligned), then "(truncated)" when it was cut.
std::string FormatSql(const broker::SqlReply& result);

// The same result as JSON: {"columns": [...], "rows": [[...]...],
// "truncated": bool}, indented by two spaces.
std::string SqlJson(const broker::SqlReply& result);

// Counts by task state, finished states first: "OK 30  FAIL 7  RUNNING 63".
std::string FormatCounts(const std::map<std::string, int64_t>& by_state);

// "850ms", "12.3s", "4m05s", "2h03m"; "-" for a negative duration.
std::string FormatDuration(common::TimeMs ms);

// "900B", "12.0K", "64.0M", "1.5G": binary units, as a score's `memory
// max` is given.
std::string FormatBytes(int64_t bytes);

// What a task's table line shows of its outcome: its error if any; for a
// task that ended but not OK, the last non-blank line of stderr; else the
// first non-blank line of stdout, else of stderr.
std::string TaskSummaryLine(const broker::TaskRecord& task);

}  // namespace orchestra::tools

#endif  // ORCHESTRA_TOOLS_REPORT_H_
