// The conductor's web pages (DESIGN.md section 14) as pure functions from
// data to a complete HTML document, and the overview's JSON. They work
// without JavaScript; the embedded script (conductor/web_assets.h) keeps
// them live through the ids and data- attributes named in web_assets.cc.
// Every input is escaped. No I/O; callable from any thread.

#ifndef ORCHESTRA_CONDUCTOR_WEB_PAGES_H_
#define ORCHESTRA_CONDUCTOR_WEB_PAGES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "broker/audience_protocol.h"
#include "broker/task_groups.h"
#include "common/clock.h"

namespace orchestra::conductor {

using broker::TaskGroup;
using broker::TaskGrouper;

// Who asks, and what they may see and do.
struct PageContext {
  std::string user;          // empty: anonymous (no users file)
  bool operate = false;      // may cancel
  bool show_params = false;  // false: parameter values print as ***
  common::TimeMs now = 0;    // wall clock, for ages
};

// What the overview page and /api/v1/overview show.
struct OverviewData {
  int64_t queued = 0, dispatched = 0, running = 0;  // tasks in each state
  std::optional<int64_t> oldest_queued_age_ms;      // unset: none queued
  std::map<std::string, int64_t> jobs_finished_last_hour;  // job state -> n
  int64_t players_connected = 0, players_busy = 0, players_offline = 0;
  // 60 minutes, oldest first; task state name -> tasks finished in it.
  std::vector<std::map<std::string, int64_t>> finished_per_minute;
  std::vector<broker::JobSummary> recent_jobs;  // newest first, at most 10
  bool store_writable = true;
  std::string version;
};

// The groups of tasks one job page shows (the rest are on other pages).
constexpr int64_t kGroupsPerPage = 100;

// `/`: task and player counts, jobs finished in the last hour, a chart of
// tasks finished a minute, the recent jobs.
std::string RenderOverview(const OverviewData& data, const PageContext& ctx);
// The body of /api/v1/overview (its shape is in web_pages.cc).
std::string OverviewJson(const OverviewData& data);
// `/jobs`: `jobs` (newest first) under the filter form showing `filter`;
// `more` says a next page exists (linked with ?before=the last id).
std::string RenderJobs(const std::vector<broker::JobSummary>& jobs,
                       const broker::JobsRequest& filter, bool more,
                       const PageContext& ctx);
// `/jobs/N`: the job and its tasks grouped by outcome, page `group_page`
// (?groups=K, from 0; past the last, the last) of kGroupsPerPage groups
// with links to the pages beside it; a cancel button for operators of a
// PENDING job.
std::string RenderJob(const broker::JobRecord& job, const PageContext& ctx,
                      int64_t group_page = 0);
// The same from the job's header (`job`, its tasks not needed) and the
// groups of its `tasks` tasks, made by a JobPageGrouper(group_page): what
// the web site does, reading the tasks from the store one by one.
std::string RenderJob(const broker::JobRecord& job,
                      const std::vector<TaskGroup>& groups, int64_t tasks,
                      const PageContext& ctx, int64_t group_page);
// The body of /api/v1/jobs/N/states: the job's state and each of its
// tasks' id, state and player, no outputs (what the job page's script
// updates; an unfinished job's record from memory is cheap to poll), and
// a QUEUED task's waiting reason, as `waiting` (when given) says it.
using WaitingOf =
    std::function<std::optional<broker::WaitReason>(broker::TaskId)>;
std::string JobStatesJson(const broker::JobRecord& job,
                          const WaitingOf& waiting = nullptr);
// A grouper for page `group_page` of a job's groups: only that page's
// groups keep (the ends of) their texts.
TaskGrouper JobPageGrouper(int64_t group_page);
// The last page of `groups` groups (0 when there are none).
int64_t LastGroupPage(size_t groups);
// `/players`: `players` (already filtered) under a form holding `filter`.
std::string RenderPlayers(const std::vector<broker::PlayerInfo>& players,
                          const std::string& filter, const PageContext& ctx);
// A page saying `message` for HTTP status `status` (404, 400, ...).
std::string RenderError(int status, const std::string& message,
                        const PageContext& ctx);

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_WEB_PAGES_H_
