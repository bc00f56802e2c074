// The overview page (`/`) and its JSON (/api/v1/overview), from one
// OverviewData. The JSON, which the script reads every second:
//
//   {"queued":N,"dispatched":N,"running":N,"oldest_queued_age_ms":N|null,
//    "jobs_finished_last_hour":{"OK":N,...},
//    "players":{"connected":N,"busy":N,"offline":N},
//    "finished_per_minute":[{"OK":N,...}, ... 60, oldest first],
//    "recent_jobs":[{"id":N,"score":"..","state":"..",
//                    "created_at":"..Z","finished_at":"..Z"|null}],
//    "store_writable":true,"version":".."}

#include <nlohmann/json.hpp>

#include "broker/states.h"
#include "conductor/finish_chart.h"
#include "conductor/html_writer.h"
#include "conductor/page_frame.h"
#include "conductor/web_pages.h"

namespace orchestra::conductor {

namespace {

using Json = nlohmann::ordered_json;

// One figure: <div><dt>label</dt><dd attributes>value</dd></div>.
void WriteFigure(HtmlWriter* html, std::string_view label,
                 std::string_view attributes, std::string_view value) {
  html->Raw("<div><dt>").Raw(label).Raw("</dt><dd ").Raw(attributes);
  html->Raw(">").Text(value).Raw("</dd></div>\n");
}

void WriteTaskCounts(const OverviewData& data, HtmlWriter* html) {
  html->Raw("<section class=\"figures\">\n<h2>Tasks</h2>\n<dl>\n");
  WriteFigure(html, "Queued", "id=\"tasks-queued\"",
              std::to_string(data.queued));
  WriteFigure(html, "Dispatched", "id=\"tasks-dispatched\"",
              std::to_string(data.dispatched));
  WriteFigure(html, "Running", "id=\"tasks-running\"",
              std::to_string(data.running));
  WriteFigure(html, "Oldest queued", "id=\"oldest-queued-age\"",
              data.oldest_queued_age_ms ? FormatAge(*data.oldest_queued_age_ms)
                                        : std::string("\xE2\x80\x94"));
  html->Raw("</dl>\n</section>\n");
}

void WriteJobsFinishedIn(std::string_view state, int64_t count,
                         HtmlWriter* html) {
  html->Raw("<div><dt>").Text(state).Raw("</dt><dd data-jobs-finished=\"");
  html->Text(state).Raw("\">").Number(count).Raw("</dd></div>\n");
}

// The finished job states (all but PENDING), then any other name given.
void WriteJobsFinished(const OverviewData& data, HtmlWriter* html) {
  html->Raw(
      "<section class=\"figures\">\n<h2>Jobs finished in the last hour"
      "</h2>\n<dl>\n");
  std::map<std::string, int64_t> others = data.jobs_finished_last_hour;
  for (int i = 1; i < broker::kJobStateCount; ++i) {
    const char* state = broker::JobStateName(static_cast<broker::JobState>(i));
    auto it = others.find(state);
    WriteJobsFinishedIn(state, it == others.end() ? 0 : it->second, html);
    if (it != others.end()) others.erase(it);
  }
  for (const auto& [state, count] : others)
    WriteJobsFinishedIn(state, count, html);
  html->Raw("</dl>\n</section>\n");
}

void WritePlayerCounts(const OverviewData& data, HtmlWriter* html) {
  html->Raw("<section class=\"figures\">\n<h2>Players</h2>\n<dl>\n");
  WriteFigure(html, "Connected", "id=\"players-connected\"",
              std::to_string(data.players_connected));
  WriteFigure(html, "Busy", "id=\"players-busy\"",
              std::to_string(data.players_busy));
  WriteFigure(html, "Offline", "id=\"players-offline\"",
              std::to_string(data.players_offline));
  html->Raw("</dl>\n</section>\n");
}

void WriteRecentJob(const broker::JobSummary& job, HtmlWriter* html) {
  html->Raw("<tr data-job=\"").Number(job.id).Raw("\"><td><a href=\"/jobs/");
  html->Number(job.id).Raw("\">").Number(job.id).Raw("</a></td><td>");
  html->Text(job.score).Raw("</td><td data-field=\"state\">");
  WriteState(html, broker::JobStateName(job.state));
  html->Raw("</td><td data-field=\"created_at\">");
  WriteTime(html, job.created_at);
  html->Raw("</td><td data-field=\"finished_at\">");
  WriteTime(html, job.finished_at);
  html->Raw("</td></tr>\n");
}

void WriteRecentJobs(const OverviewData& data, HtmlWriter* html) {
  html->Raw("<section>\n<h2>Recent jobs</h2>\n");
  html->Raw(
      "<table id=\"recent-jobs\">\n<thead><tr><th>Job</th><th>Score"
      "</th><th>State</th><th>Created</th><th>Finished</th></tr>"
      "</thead>\n<tbody>\n");
  for (const broker::JobSummary& job : data.recent_jobs)
    WriteRecentJob(job, html);
  html->Raw("</tbody>\n</table>\n<p class=\"empty\" id=\"recent-jobs-empty\"");
  if (!data.recent_jobs.empty()) html->Raw(" hidden");
  html->Raw(
      ">No jobs yet.</p>\n<p><a href=\"/jobs\">All jobs</a></p>\n"
      "</section>\n");
}

Json TimeOrNull(common::TimeMs ms) {
  return ms == 0 ? Json(nullptr) : Json(common::FormatTime(ms));
}

Json RecentJobsJson(const std::vector<broker::JobSummary>& jobs) {
  Json list = Json::array();
  for (const broker::JobSummary& job : jobs) {
    list.push_back({{"id", job.id},
                    {"score", job.score},
                    {"state", broker::JobStateName(job.state)},
                    {"created_at", TimeOrNull(job.created_at)},
                    {"finished_at", TimeOrNull(job.finished_at)}});
  }
  return list;
}

Json CountsJson(const std::map<std::string, int64_t>& counts) {
  Json object = Json::object();
  for (const auto& [name, count] : counts) object[name] = count;
  return object;
}

}  // namespace

std::string RenderOverview(const OverviewData& data, const PageContext& ctx) {
  HtmlWriter html;
  OpenPage(&html, "Overview", "overview", ctx);
  html.Raw(
      "<h1>Overview</h1>\n<p class=\"warning\" id=\"store-warning\" "
      "role=\"alert\"");
  if (data.store_writable) html.Raw(" hidden");
  html.Raw(
      ">The store does not accept writes: new jobs and results cannot "
      "be recorded.</p>\n<div class=\"panels\">\n");
  WriteTaskCounts(data, &html);
  WriteJobsFinished(data, &html);
  WritePlayerCounts(data, &html);
  html.Raw("</div>\n<section>\n<h2>Tasks finished</h2>\n");
  DrawFinishChart(data.finished_per_minute, &html);
  html.Raw("</section>\n");
  WriteRecentJobs(data, &html);
  ClosePage(&html, data.version);
  return html.Take();
}

std::string OverviewJson(const OverviewData& data) {
  Json minutes = Json::array();
  for (const auto& minute : data.finished_per_minute)
    minutes.push_back(CountsJson(minute));
  const Json overview = {
      {"queued", data.queued},
      {"dispatched", data.dispatched},
      {"running", data.running},
      {"oldest_queued_age_ms", data.oldest_queued_age_ms
                                   ? Json(*data.oldest_queued_age_ms)
                                   : Json(nullptr)},
      {"jobs_finished_last_hour", CountsJson(data.jobs_finished_last_hour)},
      {"players",
       {{"connected", data.players_connected},
        {"busy", data.players_busy},
        {"offline", data.players_offline}}},
      {"finished_per_minute", minutes},
      {"recent_jobs", RecentJobsJson(data.recent_jobs)},
      {"store_writable", data.store_writable},
      {"version", data.version},
  };
  return overview.dump(-1, ' ', /*ensure_ascii=*/false,
                       Json::error_handler_t::replace);
}

}  // namespace orchestra::conductor
