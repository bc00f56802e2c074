// The list pages (`/jobs`, `/players`) and the error page. Their filters
// are GET forms and their paging plain links, so they work without
// JavaScript; the server does the filtering and these only show it.
// The overview is in overview_page.cc, the job page in job_page.cc.

#include "conductor/web_pages.h"

#include "broker/states.h"
#include "common/version.h"
#include "conductor/html_writer.h"
#include "conductor/page_frame.h"

namespace orchestra::conductor {

namespace {

using broker::JobsRequest;
using broker::JobSummary;
using broker::PlayerInfo;

const int64_t kDefaultJobsLimit = JobsRequest().limit;

// One query parameter, "&amp;" before it unless it is the first.
void WriteQueryParameter(std::string_view name, std::string_view value,
                         bool* first, HtmlWriter* html) {
  html->Raw(*first ? "?" : "&amp;").Raw(name).Raw("=").UrlComponent(value);
  *first = false;
}

// /jobs with the filter of `filter` and, when set, ?before=`before`.
void WriteJobsUrl(const JobsRequest& filter,
                  std::optional<broker::JobId> before, HtmlWriter* html) {
  bool first = true;
  html->Raw("/jobs");
  if (filter.state)
    WriteQueryParameter("state", broker::JobStateName(*filter.state), &first,
                        html);
  if (!filter.score.empty())
    WriteQueryParameter("score", filter.score, &first, html);
  if (!filter.player.empty())
    WriteQueryParameter("player", filter.player, &first, html);
  if (filter.limit != kDefaultJobsLimit)
    WriteQueryParameter("limit", std::to_string(filter.limit), &first, html);
  if (before)
    WriteQueryParameter("before", std::to_string(*before), &first, html);
}

void WriteStateSelect(const JobsRequest& filter, HtmlWriter* html) {
  html->Raw(
      "<label>State <select name=\"state\"><option value=\"\">any"
      "</option>");
  for (int i = 0; i < broker::kJobStateCount; ++i) {
    const auto state = static_cast<broker::JobState>(i);
    html->Raw("<option");
    if (filter.state == state) html->Raw(" selected");
    html->Raw(">").Raw(broker::JobStateName(state)).Raw("</option>");
  }
  html->Raw("</select></label>\n");
}

void WriteTextInput(std::string_view label, std::string_view name,
                    std::string_view value, HtmlWriter* html) {
  html->Raw("<label>").Raw(label).Raw(" <input type=\"search\" name=\"");
  html->Raw(name).Raw("\" value=\"").Text(value).Raw("\"></label>\n");
}

void WriteJobsFilter(const JobsRequest& filter, HtmlWriter* html) {
  html->Raw("<form class=\"filters\" method=\"get\" action=\"/jobs\">\n");
  WriteStateSelect(filter, html);
  WriteTextInput("Score", "score", filter.score, html);
  WriteTextInput("Player", "player", filter.player, html);
  if (filter.limit != kDefaultJobsLimit) {
    html->Raw("<input type=\"hidden\" name=\"limit\" value=\"");
    html->Number(filter.limit).Raw("\">\n");
  }
  html->Raw(
      "<button type=\"submit\">Filter</button> <a href=\"/jobs\">"
      "Clear</a>\n</form>\n");
}

void WriteTaskCounts(const JobSummary& job, HtmlWriter* html) {
  for (int i = 0; i < broker::kTaskStateCount; ++i) {
    const char* state =
        broker::TaskStateName(static_cast<broker::TaskState>(i));
    auto it = job.tasks_by_state.find(state);
    if (it == job.tasks_by_state.end()) continue;
    html->Raw("<span class=\"count\" data-state=\"").Raw(state).Raw("\">");
    html->Raw(state).Raw(" ").Number(it->second).Raw("</span> ");
  }
  for (const auto& [state, count] : job.tasks_by_state) {
    broker::TaskState known;
    if (broker::ParseTaskState(state, &known)) continue;
    html->Raw("<span class=\"count\">").Text(state).Raw(" ").Number(count);
    html->Raw("</span> ");
  }
}

void WriteJobRow(const JobSummary& job, HtmlWriter* html) {
  html->Raw("<tr data-job=\"").Number(job.id).Raw("\"><td><a href=\"/jobs/");
  html->Number(job.id).Raw("\">").Number(job.id).Raw("</a></td><td>");
  html->Text(job.score).Raw("</td><td>").Raw(broker::ScopeName(job.scope));
  html->Raw("</td><td data-field=\"state\">");
  WriteState(html, broker::JobStateName(job.state));
  html->Raw("</td><td>").Text(job.submitted_by).Raw("</td><td>");
  html->Number(job.players).Raw("</td><td data-field=\"tasks\">");
  WriteTaskCounts(job, html);
  html->Raw("</td><td>");
  WriteTime(html, job.created_at);
  html->Raw("</td><td data-field=\"finished_at\">");
  WriteTime(html, job.finished_at);
  html->Raw("</td></tr>\n");
}

void WriteJobsPaging(const std::vector<JobSummary>& jobs,
                     const JobsRequest& filter, bool more, HtmlWriter* html) {
  const bool next = more && !jobs.empty();
  if (!filter.before && !next) return;
  html->Raw("<nav class=\"pages\">");
  if (filter.before) {
    html->Raw("<a id=\"jobs-newest\" href=\"");
    WriteJobsUrl(filter, std::nullopt, html);
    html->Raw("\">Newest jobs</a> ");
  }
  if (next) {
    html->Raw("<a id=\"jobs-next\" rel=\"next\" href=\"");
    WriteJobsUrl(filter, jobs.back().id, html);
    html->Raw("\">Older jobs</a>");
  }
  html->Raw("</nav>\n");
}

void WritePlayerRow(const PlayerInfo& player, const PageContext& ctx,
                    HtmlWriter* html) {
  html->Raw("<tr data-player=\"").Text(player.name).Raw("\"><td>");
  html->Text(player.name).Raw("</td><td data-field=\"connected\" ");
  html->Raw(player.connected ? "data-connected=\"true\">yes"
                             : "data-connected=\"false\">no");
  html->Raw("</td><td data-field=\"last_seen\">");
  WriteTime(html, player.last_seen);
  if (player.last_seen != 0 && ctx.now != 0) {
    html->Raw(" <span class=\"age\">(")
        .Text(FormatAge(ctx.now - player.last_seen));
    html->Raw(" ago)</span>");
  }
  html->Raw("</td><td><span data-field=\"running\">").Number(player.running);
  html->Raw("</span>/<span data-field=\"slots\">").Number(player.slots);
  html->Raw("</span></td><td data-field=\"version\">").Text(player.version);
  html->Raw("</td><td class=\"scores\">");
  for (size_t i = 0; i < player.scores.size(); ++i) {
    html->Raw(i == 0 ? "" : ", ").Text(player.scores[i]);
  }
  html->Raw("</td></tr>\n");
}

void WritePlayersFilter(const std::string& filter, HtmlWriter* html) {
  html->Raw(
      "<form class=\"filters\" method=\"get\" action=\"/players\">\n"
      "<label>Player <input type=\"search\" name=\"player\" "
      "placeholder=\"a glob: web-*\" value=\"");
  html->Text(filter).Raw(
      "\"></label>\n<button type=\"submit\">Filter"
      "</button> <a href=\"/players\">Clear</a>\n</form>\n");
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

}  // namespace

std::string RenderJobs(const std::vector<JobSummary>& jobs,
                       const JobsRequest& filter, bool more,
                       const PageContext& ctx) {
  HtmlWriter html;
  OpenPage(&html, "Jobs", "jobs", ctx);
  html.Raw("<h1>Jobs</h1>\n");
  WriteJobsFilter(filter, &html);
  html.Raw(
      "<table id=\"jobs\">\n<thead><tr><th>Job</th><th>Score</th>"
      "<th>Scope</th><th>State</th><th>Submitted by</th><th>Players</th>"
      "<th>Tasks</th><th>Created</th><th>Finished</th></tr></thead>\n"
      "<tbody>\n");
  for (const JobSummary& job : jobs) WriteJobRow(job, &html);
  html.Raw("</tbody>\n</table>\n");
  if (jobs.empty()) html.Raw("<p class=\"empty\">No jobs match.</p>\n");
  WriteJobsPaging(jobs, filter, more, &html);
  ClosePage(&html, common::kVersion);
  return html.Take();
}

std::string RenderPlayers(const std::vector<PlayerInfo>& players,
                          const std::string& filter, const PageContext& ctx) {
  HtmlWriter html;
  OpenPage(&html, "Players", "players", ctx);
  html.Raw("<h1>Players</h1>\n");
  WritePlayersFilter(filter, &html);
  html.Raw(
      "<table id=\"players\">\n<thead><tr><th>Name</th><th>Connected"
      "</th><th>Last seen</th><th>Running/slots</th><th>Version</th>"
      "<th>Scores</th></tr></thead>\n<tbody>\n");
  for (const PlayerInfo& player : players) WritePlayerRow(player, ctx, &html);
  html.Raw("</tbody>\n</table>\n");
  if (players.empty()) html.Raw("<p class=\"empty\">No players match.</p>\n");
  ClosePage(&html, common::kVersion);
  return html.Take();
}

std::string RenderError(int status, const std::string& message,
                        const PageContext& ctx) {
  HtmlWriter html;
  const std::string title = std::to_string(status) + " " + ReasonPhrase(status);
  OpenPage(&html, title, "error", ctx);
  html.Raw("<h1>").Text(title).Raw("</h1>\n<p class=\"message\">");
  html.Text(message).Raw("</p>\n<p><a href=\"/\">Overview</a></p>\n");
  ClosePage(&html, common::kVersion);
  return html.Take();
}

}  // namespace orchestra::conductor
