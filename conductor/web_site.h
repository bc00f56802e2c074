// WebSite answers the conductor's HTTP requests (DESIGN.md section 14): it
// checks who asks (a users file and Basic credentials, or, without one, a
// loopback client addressing us by a loopback name), routes the path to a
// page (conductor/web_pages.h), the JSON API, /metrics or /healthz, and
// refuses the rest with the status and JSON error the design names. A POST
// must come from our own origin or carry `X-Orchestra: 1` (no cross-site
// request forgery), and only `operate` users may cancel. Reads see what
// the store has committed; a cancel ends the loop's turn (`end_turn`) so
// its answer leaves after its commit. Owned by the conductor's loop thread.

#ifndef ORCHESTRA_CONDUCTOR_WEB_SITE_H_
#define ORCHESTRA_CONDUCTOR_WEB_SITE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/rate_limit.h"
#include "common/status.h"
#include "conductor/core.h"
#include "conductor/http_server.h"
#include "conductor/http_users.h"
#include "conductor/web_pages.h"

namespace orchestra::conductor {

class WebSite {
 public:
  // `end_turn` commits the loop's turn and sends what it produced; non-OK
  // when the commit failed (the turn is then undone by the caller).
  WebSite(Core* core, const common::Clock* clock,
          std::function<common::Status()> end_turn);

  // The users file's users; null: no users file (loopback, read-only,
  // parameter values hidden).
  void set_users(std::unique_ptr<HttpUsers> users) {
    users_ = std::move(users);
  }
  // Our own origin's port, for the Host and Origin checks.
  void set_port(int port) { port_ = port; }
  // Pages and JSON at most this many jobs a page (tests make it small).
  void set_jobs_page(int64_t jobs) { jobs_page_ = jobs; }

  HttpResponse Handle(const HttpRequest& request);

 private:
  // Who asks: the page's context, or the response refusing them.
  std::optional<HttpResponse> Admit(const HttpRequest& r, PageContext* ctx);
  bool LoopbackHost(const std::string& host) const;
  bool SameOrigin(const HttpRequest& r) const;
  HttpResponse Route(const HttpRequest& r, const PageContext& ctx);
  HttpResponse Get(const HttpRequest& r, const PageContext& ctx, bool api,
                   const std::string& path);
  HttpResponse Cancel(const HttpRequest& r, const PageContext& ctx, bool api,
                      broker::JobId job);
  HttpResponse Overview(const PageContext& ctx, bool api);
  HttpResponse Jobs(const HttpRequest& r, const PageContext& ctx, bool api);
  HttpResponse Job(const HttpRequest& r, const PageContext& ctx, bool api,
                   broker::JobId job);
  HttpResponse JobPage(const HttpRequest& r, const PageContext& ctx,
                       broker::JobId job);
  HttpResponse JobStates(const HttpRequest& r, const PageContext& ctx,
                         broker::JobId job);
  HttpResponse Players(const HttpRequest& r, const PageContext& ctx, bool api);
  HttpResponse Metrics();
  HttpResponse Healthz();
  OverviewData Gather(common::TimeMs now);
  // A refusal as JSON, or as a page when a browser asked for one.
  HttpResponse Error(const HttpRequest& r, const PageContext& ctx, int status,
                     const char* code, const std::string& message) const;

  Core* core_;
  const common::Clock* clock_;
  std::function<common::Status()> end_turn_;
  std::unique_ptr<HttpUsers> users_;
  int port_ = 0;
  int64_t jobs_page_ = 50;
  common::RateLimit denied_log_{10, 60000};
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_WEB_SITE_H_
