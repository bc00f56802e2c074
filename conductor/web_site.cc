// Paths: pages at /, /jobs, /jobs/N, /players; the same data as JSON under
// /api/v1/ (overview, jobs, jobs/N, players: the audience protocol's
// records, converted from their msgpack by broker/json.h); POST
// /jobs/N/cancel (a page's form: answered with a redirect to the job) and
// /api/v1/jobs/N/cancel (the job record); /metrics; /healthz and /static/
// open to all.

#include "conductor/web_site.h"

#include <fnmatch.h>

#include <cstring>

#include "broker/audience_protocol.h"
#include "broker/json.h"
#include "common/log.h"
#include "common/text.h"
#include "common/version.h"
#include "conductor/metrics.h"
#include "conductor/record_pager.h"
#include "conductor/web_assets.h"

namespace orchestra::conductor {

using common::Result;
using common::Status;

namespace {

constexpr size_t kMaxPlayersShown = 1000;
// A job page of the JSON API holds at most this many bytes of msgpack
// (its JSON is at most a few times larger): responses stay small enough
// for 64 connections at once.
constexpr size_t kApiJobBytes = 1 << 20;

bool StartsWith(const std::string& text, const char* prefix) {
  return text.compare(0, std::strlen(prefix), prefix) == 0;
}

// The job id of "N" (digits only, 1 and up); 0 when it is not one.
broker::JobId ParseJobId(const std::string& text) {
  int64_t id = 0;
  if (text.empty() || text.size() > 19 ||
      text.find_first_not_of("0123456789") != std::string::npos ||
      !common::ParseInt64(text, 1, INT64_MAX, &id))
    return 0;
  return id;
}

HttpResponse Json(std::string body) {
  HttpResponse r;
  r.content_type = "application/json";
  r.body = std::move(body);
  r.body += '\n';
  return r;
}

HttpResponse Html(std::string body) {
  HttpResponse r;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(body);
  return r;
}

// The JSON of field `field` of an audience reply carrying `body`.
std::string ReplyJson(broker::AudienceReplyBody body, const char* field) {
  const std::string bytes =
      broker::EncodeAudienceReply(broker::AudienceReply{{}, std::move(body)});
  Result<std::string> json = broker::MsgpackFieldToJson(bytes, field, false);
  return json.ok() ? json.value() : "null";
}

void HideParams(broker::JobRecord* job) {
  for (auto& [key, value] : job->params) value = "***";
}

// Headers every answer carries: nothing of ours may be framed, sniffed,
// cached or fed scripts from elsewhere.
void AddSafetyHeaders(HttpResponse* r) {
  r->headers.emplace_back(
      "Content-Security-Policy",
      "default-src 'self'; script-src 'self'; style-src 'self'; "
      "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
      "form-action 'self'; base-uri 'none'");
  r->headers.emplace_back("X-Content-Type-Options", "nosniff");
  r->headers.emplace_back("X-Frame-Options", "DENY");
  r->headers.emplace_back("Referrer-Policy", "same-origin");
  r->headers.emplace_back("Cache-Control", "no-store");
}

}  // namespace

WebSite::WebSite(Core* core, const common::Clock* clock,
                 std::function<Status()> end_turn)
    : core_(core), clock_(clock), end_turn_(std::move(end_turn)) {}

HttpResponse WebSite::Handle(const HttpRequest& r) {
  PageContext ctx;
  ctx.now = clock_->Now();
  HttpResponse response;
  const bool read = r.method == "GET" || r.method == "HEAD";
  if (r.path == "/healthz" && read) {
    response = Healthz();
  } else if (StartsWith(r.path, "/static/") && read &&
             FindAsset(r.path) != nullptr) {
    const Asset* asset = FindAsset(r.path);
    response.content_type = asset->content_type;
    response.body = std::string(asset->body);
  } else if (std::optional<HttpResponse> refused = Admit(r, &ctx)) {
    response = std::move(*refused);
  } else {
    response = Route(r, ctx);
  }
  AddSafetyHeaders(&response);
  return response;
}

std::optional<HttpResponse> WebSite::Admit(const HttpRequest& r,
                                           PageContext* ctx) {
  if (!users_) {
    // Loopback and read-only. A page of another site that makes its name
    // resolve to 127.0.0.1 (DNS rebinding) reaches us with its own name
    // in Host: refused, so it cannot read what we show.
    if (!LoopbackHost(r.host))
      return Error(r, *ctx, 403, "unauthorized",
                   "without 'http users file' this page answers requests "
                   "for 127.0.0.1, localhost or [::1] only");
    return std::nullopt;
  }
  HttpRole role = HttpRole::kView;
  HttpUsers::Login login =
      r.has_credentials
          ? users_->Check(r.user, r.password, clock_->Monotonic(), &role)
          : HttpUsers::Login::kRefused;
  if (login == HttpUsers::Login::kBusy) {
    HttpResponse busy =
        HttpError(503, "busy", "too many logins are being checked; try again");
    busy.headers.emplace_back("Retry-After", "1");
    return busy;
  }
  if (login == HttpUsers::Login::kRefused) {
    if (r.has_credentials) {
      core_->metrics()->AuthDenied(AuthChannel::kHttp);
      if (denied_log_.Allow(clock_->Monotonic()))
        common::LogWarning(
            "http login refused user=%s peer=%s suppressed=%lld",
            common::LogQuote(r.user).c_str(), r.peer.c_str(),
            static_cast<long long>(denied_log_.TakeSuppressed()));
    }
    HttpResponse ask =
        HttpError(401, "unauthorized", "log in with a user of the users file");
    ask.ask_credentials = true;
    return ask;
  }
  ctx->user = r.user;
  ctx->operate = role == HttpRole::kOperate;
  ctx->show_params = true;
  return std::nullopt;
}

bool WebSite::LoopbackHost(const std::string& host) const {
  std::string name = host, port;
  if (!host.empty() && host[0] == '[') {
    const size_t close = host.find(']');
    if (close == std::string::npos) return false;
    name = host.substr(0, close + 1);
    const std::string rest = host.substr(close + 1);
    if (!rest.empty() && rest[0] != ':') return false;
    if (!rest.empty()) port = rest.substr(1);
  } else if (const size_t colon = host.find(':'); colon != std::string::npos) {
    name = host.substr(0, colon);
    port = host.substr(colon + 1);
  }
  if (!port.empty() && port != std::to_string(port_)) return false;
  if (name == "localhost" || name == "[::1]") return true;
  return StartsWith(name, "127.") &&
         name.find_first_not_of("0123456789.") == std::string::npos;
}

bool WebSite::SameOrigin(const HttpRequest& r) const {
  if (r.origin.empty() || r.host.empty()) return false;
  return r.origin == "http://" + r.host || r.origin == "https://" + r.host;
}

HttpResponse WebSite::Route(const HttpRequest& r, const PageContext& ctx) {
  const bool api = StartsWith(r.path, "/api/v1/");
  std::string path = api ? r.path.substr(7) : r.path;
  // /jobs/N/cancel: the one path that takes a POST.
  if (StartsWith(path, "/jobs/") && path.size() > 13 &&
      path.compare(path.size() - 7, 7, "/cancel") == 0) {
    const std::string id = path.substr(6, path.size() - 13);
    if (r.method != "POST") {
      HttpResponse e =
          Error(r, ctx, 405, "bad_request", "cancel with a POST request");
      e.headers.emplace_back("Allow", "POST");
      return e;
    }
    const broker::JobId job = ParseJobId(id);
    if (job == 0)
      return Error(r, ctx, 400, "bad_request", "'" + id + "' is not a job id");
    return Cancel(r, ctx, api, job);
  }
  const bool known = (!api && (path == "/" || path == "/metrics")) ||
                     (api && path == "/overview") || path == "/jobs" ||
                     StartsWith(path, "/jobs/") || path == "/players";
  if (!known) return Error(r, ctx, 404, "not_found", "no page at " + r.path);
  if (r.method != "GET" && r.method != "HEAD") {
    HttpResponse e = Error(r, ctx, 405, "bad_request",
                           r.method + " is not allowed here; use GET");
    e.headers.emplace_back("Allow", "GET, HEAD");
    return e;
  }
  return Get(r, ctx, api, path);
}

HttpResponse WebSite::Get(const HttpRequest& r, const PageContext& ctx,
                          bool api, const std::string& path) {
  if (path == "/" || path == "/overview") return Overview(ctx, api);
  if (path == "/metrics") return Metrics();
  if (path == "/jobs") return Jobs(r, ctx, api);
  if (path == "/players") return Players(r, ctx, api);
  if (api && path.size() > 13 &&
      path.compare(path.size() - 7, 7, "/states") == 0) {
    const std::string id = path.substr(6, path.size() - 13);
    const broker::JobId job = ParseJobId(id);
    if (job == 0)
      return Error(r, ctx, 400, "bad_request", "'" + id + "' is not a job id");
    return JobStates(r, ctx, job);
  }
  const std::string id = path.substr(6);
  const broker::JobId job = ParseJobId(id);
  if (job == 0)
    return Error(r, ctx, 400, "bad_request", "'" + id + "' is not a job id");
  return Job(r, ctx, api, job);
}

HttpResponse WebSite::Cancel(const HttpRequest& r, const PageContext& ctx,
                             bool api, broker::JobId job) {
  if (!SameOrigin(r) && !r.orchestra_header)
    return Error(r, ctx, 403, "unauthorized",
                 "a POST must come from this page's own origin or carry "
                 "the header 'X-Orchestra: 1'");
  if (!ctx.operate)
    return Error(r, ctx, 403, "unauthorized",
                 users_ ? "cancelling needs a user with the 'operate' role"
                        : "this page is read-only without 'http users file'");
  if (!core_->health().writable())
    return Error(r, ctx, 503, "unavailable",
                 "the conductor's store takes no writes (" +
                     core_->health().reason() + "); try again later");
  int64_t tasks = 0;
  Result<std::optional<JobRecord>> header =
      core_->store()->LoadJobHeader(job, &tasks);
  if (!header.ok())
    return Error(r, ctx, 503, "unavailable", "the job could not be read");
  if (!header.value())
    return Error(r, ctx, 404, "not_found", "no job " + std::to_string(job));
  Status s = core_->board()->Cancel(job);
  if (s.ok() || s.code() == Status::Code::kNotFound) s = end_turn_();
  if (!s.ok())
    return Error(r, ctx, 503, "unavailable",
                 "the cancel could not be stored; try again");
  common::LogInfo("job cancelled job=%lld by=web user=%s peer=%s",
                  static_cast<long long>(job),
                  common::LogQuote(ctx.user).c_str(), r.peer.c_str());
  if (api) return Job(r, ctx, true, job);
  HttpResponse redirect;
  redirect.status = 303;
  redirect.headers.emplace_back("Location", "/jobs/" + std::to_string(job));
  return redirect;
}

OverviewData WebSite::Gather(common::TimeMs now) {
  OverviewData data;
  const Gauges g = core_->MetricGauges();
  auto count = [&](const char* state) {
    auto it = g.tasks.find(state);
    return it == g.tasks.end() ? 0 : it->second;
  };
  data.queued = count("QUEUED");
  data.dispatched = count("DISPATCHED");
  data.running = count("RUNNING");
  if (data.queued > 0)
    data.oldest_queued_age_ms =
        static_cast<int64_t>(g.oldest_queued_task_age_seconds * 1000);
  data.players_connected = g.players_connected;
  data.players_busy = g.players_busy;
  data.players_offline = g.players_offline;
  data.finished_per_minute = core_->metrics()->FinishedPerMinute(now);
  data.jobs_finished_last_hour =
      core_->metrics()->JobsFinishedSince(now - 3600 * 1000);
  broker::JobsRequest recent;
  recent.limit = 10;
  Result<std::vector<broker::JobSummary>> jobs =
      core_->store()->ListJobs(recent);
  if (jobs.ok()) data.recent_jobs = std::move(jobs.value());
  data.store_writable = core_->health().writable();
  data.version = common::kVersion;
  return data;
}

HttpResponse WebSite::Overview(const PageContext& ctx, bool api) {
  const OverviewData data = Gather(ctx.now);
  return api ? Json(OverviewJson(data)) : Html(RenderOverview(data, ctx));
}

HttpResponse WebSite::Jobs(const HttpRequest& r, const PageContext& ctx,
                           bool api) {
  broker::JobsRequest filter;
  auto arg = [&](const char* name) -> std::string {
    auto it = r.query.find(name);
    return it == r.query.end() ? "" : it->second;
  };
  if (!arg("state").empty()) {
    broker::JobState state;
    if (!broker::ParseJobState(arg("state"), &state))
      return Error(r, ctx, 400, "bad_request",
                   "'" + arg("state") + "' is not a job state");
    filter.state = state;
  }
  filter.score = arg("score");
  filter.player = arg("player");
  if (!arg("before").empty()) {
    const broker::JobId before = ParseJobId(arg("before"));
    if (before == 0)
      return Error(r, ctx, 400, "bad_request",
                   "'" + arg("before") + "' is not a job id");
    filter.before = before;
  }
  filter.limit = jobs_page_ + 1;  // one more tells whether a next page exists
  Result<std::vector<broker::JobSummary>> jobs =
      core_->store()->ListJobs(filter);
  if (!jobs.ok())
    return Error(r, ctx, 503, "unavailable", "the job list could not be read");
  std::vector<broker::JobSummary>& list = jobs.value();
  const bool more = static_cast<int64_t>(list.size()) > jobs_page_;
  if (more) list.resize(static_cast<size_t>(jobs_page_));
  filter.limit = jobs_page_;
  if (!api) return Html(RenderJobs(list, filter, more, ctx));
  broker::JobsReply reply;
  reply.jobs = std::move(list);
  return Json(ReplyJson(std::move(reply), "jobs"));
}

HttpResponse WebSite::Job(const HttpRequest& r, const PageContext& ctx,
                          bool api, broker::JobId id) {
  if (!api) return JobPage(r, ctx, id);
  int64_t from = 0, limit = broker::kMaxTasksLimit;
  auto from_arg = r.query.find("tasks_from");
  auto limit_arg = r.query.find("tasks_limit");
  if ((from_arg != r.query.end() &&
       !common::ParseInt64(from_arg->second, 0, INT64_MAX, &from)) ||
      (limit_arg != r.query.end() &&
       !common::ParseInt64(limit_arg->second, 1, broker::kMaxTasksLimit,
                           &limit)))
    return Error(r, ctx, 400, "bad_request",
                 "tasks_from must be 0 or more, tasks_limit 1 to " +
                     std::to_string(broker::kMaxTasksLimit));
  Result<std::optional<JobRecord>> page =
      ReadJobPage(core_->store(), id, from, limit, kApiJobBytes);
  if (!page.ok())
    return Error(r, ctx, 503, "unavailable", "the job could not be read");
  if (!page.value())
    return Error(r, ctx, 404, "not_found", "no job " + std::to_string(id));
  JobRecord& job = *page.value();
  core_->board()->ExplainWaiting(&job);  // Unfinished jobs only
  if (!ctx.show_params) HideParams(&job);
  return Json(ReplyJson(broker::JobReply{std::move(job), false}, "job"));
}

// An unfinished job's states come from the board's memory; a finished
// job's are its header (the page reloads when its job ends).
HttpResponse WebSite::JobStates(const HttpRequest& r, const PageContext& ctx,
                                broker::JobId id) {
  const JobBoard* board = core_->board();
  if (const JobRecord* active = board->FindActive(id)) {
    return Json(JobStatesJson(*active, [board](broker::TaskId task) {
      return board->WhyWaiting(task);
    }));
  }
  int64_t total = 0;
  Result<std::optional<JobRecord>> header =
      core_->store()->LoadJobHeader(id, &total);
  if (!header.ok())
    return Error(r, ctx, 503, "unavailable", "the job could not be read");
  if (!header.value())
    return Error(r, ctx, 404, "not_found", "no job " + std::to_string(id));
  return Json(JobStatesJson(*header.value()));
}

// The job's tasks are read row by row into the groups of the page asked
// for: only that page's groups keep their texts, so a job of 10,000 tasks
// with large, different outputs costs the page's memory, not the job's.
HttpResponse WebSite::JobPage(const HttpRequest& r, const PageContext& ctx,
                              broker::JobId id) {
  int64_t group_page = 0;
  auto groups_arg = r.query.find("groups");
  if (groups_arg != r.query.end() &&
      !common::ParseInt64(groups_arg->second, 0, INT64_MAX, &group_page))
    return Error(r, ctx, 400, "bad_request",
                 "'" + groups_arg->second + "' is not a page number");
  int64_t total = 0;
  Result<std::optional<JobRecord>> header =
      core_->store()->LoadJobHeader(id, &total);
  if (header.ok() && !header.value())
    return Error(r, ctx, 404, "not_found", "no job " + std::to_string(id));
  TaskGrouper grouper = JobPageGrouper(group_page);
  Status s = header.status();
  const JobBoard* board = core_->board();
  const bool active = board->FindActive(id) != nullptr;
  for (int pass = 0; s.ok() && pass < 2; ++pass) {
    s = core_->store()->ForEachTask(id, 0, [&](broker::TaskRecord&& task) {
      if (active && task.state == broker::TaskState::kQueued)
        task.waiting = board->WhyWaiting(task.task);
      grouper.Add(task);
      return true;
    });
    // Past the last page: the last one, its groups read again with texts.
    const int64_t last = LastGroupPage(grouper.groups());
    if (group_page <= last) break;
    group_page = last;
    grouper = JobPageGrouper(group_page);
  }
  if (!s.ok())
    return Error(r, ctx, 503, "unavailable", "the job could not be read");
  JobRecord& job = *header.value();
  if (!ctx.show_params) HideParams(&job);
  const int64_t tasks = grouper.tasks();
  return Html(RenderJob(job, grouper.Take(), tasks, ctx, group_page));
}

HttpResponse WebSite::Players(const HttpRequest& r, const PageContext& ctx,
                              bool api) {
  auto filter_arg = r.query.find("player");
  const std::string filter =
      filter_arg == r.query.end() ? "" : filter_arg->second;
  std::vector<broker::PlayerInfo> players;
  int64_t omitted = 0;
  for (const std::string& name : *core_->trust().listed()) {
    if (!filter.empty() && ::fnmatch(filter.c_str(), name.c_str(), 0) != 0)
      continue;
    if (players.size() >= kMaxPlayersShown) {
      ++omitted;
      continue;
    }
    players.push_back(core_->audience_channel()->Info(name));
  }
  if (!api) return Html(RenderPlayers(players, filter, ctx));
  broker::PlayersReply reply;
  reply.players = std::move(players);
  reply.players_omitted = omitted;
  const std::string bytes =
      broker::EncodeAudienceReply(broker::AudienceReply{{}, std::move(reply)});
  Result<std::string> json = broker::MsgpackToJson(bytes, false);
  return Json(json.ok() ? json.value() : "null");
}

HttpResponse WebSite::Metrics() {
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = core_->metrics()->Render(core_->MetricGauges());
  return r;
}

HttpResponse WebSite::Healthz() {
  HttpResponse r;
  if (core_->health().writable()) {
    r.body = "ok\n";
  } else {
    r.status = 503;
    r.body = "store not writable: " + core_->health().reason() + "\n";
  }
  return r;
}

HttpResponse WebSite::Error(const HttpRequest& r, const PageContext& ctx,
                            int status, const char* code,
                            const std::string& message) const {
  if (r.accept.find("text/html") == std::string::npos ||
      StartsWith(r.path, "/api/"))
    return HttpError(status, code, message);
  HttpResponse page = Html(RenderError(status, message, ctx));
  page.status = status;
  return page;
}

}  // namespace orchestra::conductor
