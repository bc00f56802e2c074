// The page of one job (`/jobs/N`): its header, its parameters (values
// hidden unless the context may see them), and its tasks folded into groups
// of identical outcome (broker/task_groups.h), kGroupsPerPage groups a
// page, so that a job of 10,000 tasks with 10,000 different outputs is
// still a page of bounded size. Each group's players are listed up to
// kPlayersShown names and its outputs to their last kTailBytes.
//
// For the script: <body data-job data-job-state>; #job-state and
// #job-finished; each group a <tbody id="group-FIRST_TASK"
// data-tasks="RUNS"> (RUNS: its task ids as "101-200,305"), its cells
// data-field="count|state|exit|waiting", its players <span data-task=ID>.

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>

#include "broker/states.h"
#include "broker/task_groups.h"
#include "common/text.h"
#include "common/version.h"
#include "conductor/html_writer.h"
#include "conductor/page_frame.h"
#include "conductor/web_pages.h"

namespace orchestra::conductor {

namespace {

using broker::JobRecord;

constexpr size_t kPlayersShown = 50;
constexpr size_t kTailBytes = 4096;
constexpr size_t kErrorBytes = 4096;

// The names, at most kPlayersShown, then "and N more" (N adds `omitted`).
void WriteNames(const std::vector<std::string>& names, int64_t omitted,
                HtmlWriter* html) {
  const size_t shown = std::min(names.size(), kPlayersShown);
  for (size_t i = 0; i < shown; ++i) {
    html->Raw("<span class=\"player\">").Text(names[i]).Raw("</span> ");
  }
  const int64_t more = static_cast<int64_t>(names.size() - shown) + omitted;
  if (more > 0) {
    html->Raw("<span class=\"more\">and ").Number(more).Raw(" more</span>");
  }
}

void WriteSeconds(const std::optional<int64_t>& seconds, HtmlWriter* html) {
  if (seconds) {
    html->Number(*seconds).Raw(" s");
  } else {
    html->Raw("none");
  }
}

void WriteField(std::string_view label, std::string_view dd_attributes,
                HtmlWriter* html) {
  html->Raw("<div><dt>").Raw(label).Raw("</dt><dd");
  if (!dd_attributes.empty()) html->Raw(" ").Raw(dd_attributes);
  html->Raw(">");
}

void WriteHeader(const JobRecord& job, HtmlWriter* html) {
  html->Raw("<dl class=\"job\">\n");
  WriteField("Score", {}, html);
  html->Text(job.score).Raw("</dd></div>\n");
  WriteField("Scope", {}, html);
  html->Raw(broker::ScopeName(job.scope)).Raw("</dd></div>\n");
  WriteField("State", "id=\"job-state\" data-field=\"state\"", html);
  WriteState(html, broker::JobStateName(job.state));
  html->Raw("</dd></div>\n");
  WriteField("Submitted by", {}, html);
  html->Text(job.submitted_by).Raw("</dd></div>\n");
  WriteField("Created", {}, html);
  WriteTime(html, job.created_at);
  html->Raw("</dd></div>\n");
  WriteField("Finished", "id=\"job-finished\"", html);
  WriteTime(html, job.finished_at);
  html->Raw("</dd></div>\n");
  WriteField("Timeout", {}, html);
  WriteSeconds(job.timeout_s, html);
  html->Raw("</dd></div>\n");
  WriteField("Delivery timeout", {}, html);
  WriteSeconds(job.delivery_timeout_s, html);
  html->Raw("</dd></div>\n");
  WriteField("Players", "class=\"players\"", html);
  html->Number(static_cast<int64_t>(job.players.size()) + job.players_omitted);
  html->Raw(": ");
  WriteNames(job.players, job.players_omitted, html);
  html->Raw("</dd></div>\n</dl>\n");
}

void WriteParams(const JobRecord& job, const PageContext& ctx,
                 HtmlWriter* html) {
  html->Raw("<h2>Parameters</h2>\n");
  if (job.params.empty()) {
    html->Raw("<p class=\"empty\">None.</p>\n");
    return;
  }
  html->Raw("<table class=\"params\">\n<tbody>\n");
  for (const auto& [key, value] : job.params) {
    html->Raw("<tr><th scope=\"row\">").Text(key).Raw("</th><td>");
    if (ctx.show_params) {
      html->Raw("<code>").Text(value).Raw("</code>");
    } else {
      html->Raw("***");
    }
    html->Raw("</td></tr>\n");
  }
  html->Raw("</tbody>\n</table>\n");
}

void WriteCancel(const JobRecord& job, HtmlWriter* html) {
  html->Raw("<form method=\"post\" action=\"/jobs/").Number(job.id);
  html->Raw(
      "/cancel\" class=\"cancel\" id=\"cancel-form\"><button "
      "type=\"submit\">Cancel job</button></form>\n");
}

// The group's task ids as runs of consecutive ids: "101-200,305".
void WriteTaskRuns(const std::vector<broker::TaskId>& tasks, HtmlWriter* html) {
  for (size_t i = 0; i < tasks.size();) {
    size_t end = i + 1;
    while (end < tasks.size() && tasks[end] == tasks[end - 1] + 1) ++end;
    if (i > 0) html->Raw(",");
    html->Number(tasks[i]);
    if (end - i > 1) html->Raw("-").Number(tasks[end - 1]);
    i = end;
  }
}

void WriteExit(const broker::TaskOutcome& outcome, HtmlWriter* html) {
  if (outcome.exit_code) html->Number(*outcome.exit_code);
  if (outcome.exit_code && outcome.signal) html->Raw(", ");
  if (outcome.signal) html->Raw("signal ").Number(*outcome.signal);
}

void WriteGroupPlayers(const TaskGroup& group, HtmlWriter* html) {
  const size_t shown = std::min(group.players.size(), kPlayersShown);
  for (size_t i = 0; i < shown; ++i) {
    html->Raw("<span class=\"player\" data-task=\"").Number(group.tasks[i]);
    html->Raw("\">");
    if (group.players[i].empty()) {
      html->Raw("(no player yet)");
    } else {
      html->Text(group.players[i]);
    }
    html->Raw("</span> ");
  }
  if (group.count > static_cast<int64_t>(shown)) {
    html->Raw("<span class=\"more\">and ");
    html->Number(group.count - static_cast<int64_t>(shown)).Raw(" more</span>");
  }
}

// One output stream: its last kTailBytes, marked when cut here or by the
// player.
// `text` may be cut already; `bytes` is its whole size.
void WriteStream(std::string_view name, const std::string& text, size_t bytes,
                 bool truncated, HtmlWriter* html) {
  if (bytes == 0 && !truncated) return;
  const std::string_view tail = common::LastUtf8Bytes(text, kTailBytes);
  html->Raw("<div class=\"stream\"><span class=\"stream-name\">").Raw(name);
  html->Raw("</span>");
  if (tail.size() < bytes) {
    html->Raw(" <span class=\"cut\">the last ").Number(tail.size());
    html->Raw(" of ").Number(bytes).Raw(" bytes</span>");
  }
  if (truncated) {
    html->Raw(
        " <span class=\"cut\">the player kept only the end of a "
        "longer output</span>");
  }
  html->Raw("<pre data-stream=\"").Raw(name).Raw("\">").Text(tail);
  html->Raw("</pre></div>\n");
}

void WriteError(const std::string& error, size_t bytes, HtmlWriter* html) {
  const std::string_view head = common::FirstUtf8Bytes(error, kErrorBytes);
  html->Text(head);
  if (head.size() < bytes) html->Raw("\xE2\x80\xA6");
}

void WriteGroup(const TaskGroup& group, HtmlWriter* html) {
  const broker::TaskOutcome& outcome = group.outcome;
  html->Raw("<tbody class=\"group\" id=\"group-").Number(group.first_task);
  html->Raw("\" data-tasks=\"");
  WriteTaskRuns(group.tasks, html);
  html->Raw("\">\n<tr><td data-field=\"count\">").Number(group.count);
  html->Raw("</td><td data-field=\"state\">");
  WriteState(html, broker::TaskStateName(outcome.state));
  html->Raw("</td><td data-field=\"exit\">");
  WriteExit(outcome, html);
  html->Raw("</td><td class=\"players\">");
  WriteGroupPlayers(group, html);
  html->Raw("</td><td data-field=\"waiting\">");
  html->Text(broker::WaitingText(group.waiting));
  html->Raw("</td><td class=\"error\">");
  WriteError(outcome.error, group.error_bytes, html);
  html->Raw("</td></tr>\n");
  if (group.stdout_bytes > 0 || group.stderr_bytes > 0 ||
      outcome.stdout_truncated || outcome.stderr_truncated) {
    html->Raw("<tr class=\"output\"><td colspan=\"6\">\n");
    WriteStream("stdout", outcome.stdout_text, group.stdout_bytes,
                outcome.stdout_truncated, html);
    WriteStream("stderr", outcome.stderr_text, group.stderr_bytes,
                outcome.stderr_truncated, html);
    html->Raw("</td></tr>\n");
  }
  html->Raw("</tbody>\n");
}

// Links to the previous and next pages of groups; `ids` gives them the ids
// groups-prev and groups-next.
void WriteGroupPaging(const JobRecord& job, int64_t page, int64_t pages,
                      bool ids, HtmlWriter* html) {
  if (pages <= 1) return;
  html->Raw("<nav class=\"pages\">");
  if (page > 0) {
    html->Raw("<a rel=\"prev\"").Raw(ids ? " id=\"groups-prev\"" : "");
    html->Raw(" href=\"/jobs/").Number(job.id).Raw("?groups=");
    html->Number(page - 1).Raw("\">Previous groups</a> ");
  }
  html->Raw("<span>page ").Number(page + 1).Raw(" of ").Number(pages);
  html->Raw("</span>");
  if (page + 1 < pages) {
    html->Raw(" <a rel=\"next\"").Raw(ids ? " id=\"groups-next\"" : "");
    html->Raw(" href=\"/jobs/").Number(job.id).Raw("?groups=");
    html->Number(page + 1).Raw("\">Next groups</a>");
  }
  html->Raw("</nav>\n");
}

// Says so when the record holds only some of the job's tasks (`held`).
void WriteRecordPage(const JobRecord& job, int64_t held, HtmlWriter* html) {
  if (!job.tasks_total || (job.tasks_from == 0 && held >= *job.tasks_total))
    return;
  html->Raw("<p class=\"note\">These are the job's tasks ");
  html->Number(job.tasks_from + 1).Raw(" to ").Number(job.tasks_from + held);
  html->Raw(" of ").Number(*job.tasks_total).Raw(".</p>\n");
}

// The groups of page `page` of `tasks` tasks' groups.
void WriteGroups(const JobRecord& job, const std::vector<TaskGroup>& groups,
                 int64_t tasks, int64_t page, HtmlWriter* html) {
  const int64_t count = static_cast<int64_t>(groups.size());
  const int64_t pages = (count + kGroupsPerPage - 1) / kGroupsPerPage;
  page = std::min(page, std::max<int64_t>(pages - 1, 0));
  const int64_t first = std::min(page * kGroupsPerPage, count);
  const int64_t end = std::min(first + kGroupsPerPage, count);
  html->Raw("<h2>Tasks</h2>\n<p id=\"task-summary\">")
      .Number(tasks)
      .Raw(" tasks in ")
      .Number(count)
      .Raw(" groups of identical outcome");
  if (pages > 1) {
    html->Raw("; groups ").Number(first + 1).Raw(" to ").Number(end);
    html->Raw(" shown");
  }
  html->Raw(".</p>\n");
  WriteRecordPage(job, tasks, html);
  WriteGroupPaging(job, page, pages, true, html);
  html->Raw(
      "<table id=\"task-groups\">\n<thead><tr><th>Tasks</th><th>State"
      "</th><th>Exit</th><th>Players</th><th>Waiting</th><th>Error</th>"
      "</tr></thead>\n");
  for (int64_t i = first; i < end; ++i) WriteGroup(groups[i], html);
  html->Raw("</table>\n");
  WriteGroupPaging(job, page, pages, false, html);
}

}  // namespace

int64_t LastGroupPage(size_t groups) {
  const int64_t count = static_cast<int64_t>(groups);
  return std::max<int64_t>((count + kGroupsPerPage - 1) / kGroupsPerPage - 1,
                           0);
}

TaskGrouper JobPageGrouper(int64_t group_page) {
  const size_t first = static_cast<size_t>(std::max<int64_t>(group_page, 0)) *
                       static_cast<size_t>(kGroupsPerPage);
  return TaskGrouper(first, first + static_cast<size_t>(kGroupsPerPage),
                     std::max(kTailBytes, kErrorBytes));
}

std::string RenderJob(const JobRecord& job, const PageContext& ctx,
                      int64_t group_page) {
  group_page = std::max<int64_t>(group_page, 0);
  TaskGrouper grouper = JobPageGrouper(group_page);
  for (const broker::TaskRecord& task : job.tasks) grouper.Add(task);
  const int64_t last = LastGroupPage(grouper.groups());
  if (group_page > last) {  // past the last page: the last, with its texts
    group_page = last;
    grouper = JobPageGrouper(last);
    for (const broker::TaskRecord& task : job.tasks) grouper.Add(task);
  }
  const int64_t tasks = grouper.tasks();
  return RenderJob(job, grouper.Take(), tasks, ctx, group_page);
}

std::string JobStatesJson(const JobRecord& job, const WaitingOf& waiting) {
  using Json = nlohmann::ordered_json;
  Json tasks = Json::array();
  for (const broker::TaskRecord& t : job.tasks) {
    tasks.push_back({{"task", t.task},
                     {"state", broker::TaskStateName(t.state)},
                     {"player", t.player}});
    std::optional<broker::WaitReason> reason;
    if (waiting && t.state == broker::TaskState::kQueued)
      reason = waiting(t.task);
    if (reason) tasks.back()["waiting"] = broker::WaitReasonName(*reason);
  }
  const Json states = {{"id", job.id},
                       {"state", broker::JobStateName(job.state)},
                       {"tasks", tasks}};
  return states.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string RenderJob(const JobRecord& job,
                      const std::vector<TaskGroup>& groups, int64_t tasks,
                      const PageContext& ctx, int64_t group_page) {
  HtmlWriter html;
  HtmlWriter body;
  const char* state = broker::JobStateName(job.state);
  body.Raw("data-job=\"").Number(job.id).Raw("\" data-job-state=\"");
  body.Raw(state).Raw("\"");
  OpenPage(&html, "Job " + std::to_string(job.id), "job", ctx, body.Take());
  html.Raw("<h1>Job ").Number(job.id).Raw("</h1>\n");
  if (ctx.operate && job.state == broker::JobState::kPending)
    WriteCancel(job, &html);
  WriteHeader(job, &html);
  WriteParams(job, ctx, &html);
  WriteGroups(job, groups, tasks, std::max<int64_t>(group_page, 0), &html);
  ClosePage(&html, common::kVersion);
  return html.Take();
}

}  // namespace orchestra::conductor
