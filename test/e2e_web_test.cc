// End-to-end: the conductor's web page (DESIGN.md section 14) on a real
// conductor with real players, spoken to over raw TCP so that broken and
// hostile requests can be sent as they are: every bad request gets its
// status and a JSON error while the players go on being served; logins,
// roles, CSRF and DNS-rebinding checks; the bound on connections and the
// timeout of silent clients. The browser and the metrics' text format are
// checked by test/python/test_web.py.

#include <sodium.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <vector>

#include "broker/audience_protocol.h"
#include "test/cluster.h"
#include "test/http_client.h"

namespace orchestra::test {
namespace {

using namespace std::chrono_literals;
using broker::JobRecord;
using broker::JobState;

const char kHello[] = "#!/bin/sh\necho \"hello $ORC_WHO from $ORC_PLAYER\"\n";
const char kSleep[] = "#!/bin/sh\necho started\nexec sleep 30\n";

std::string Hash(const std::string& password) {
  EXPECT_GE(sodium_init(), 0);
  char hash[crypto_pwhash_STRBYTES];
  EXPECT_EQ(0, crypto_pwhash_str_alg(hash, password.data(), password.size(),
                                     crypto_pwhash_OPSLIMIT_MIN,
                                     crypto_pwhash_MEMLIMIT_MIN,
                                     crypto_pwhash_ALG_ARGON2ID13));
  return hash;
}

class WebTest : public testing::Test {
 protected:
  void SetUp() override {
    cluster_.AddPlayer("p1");
    cluster_.AddPlayer("p2");
    cluster_.WriteScoreEverywhere("hello", kHello);
    cluster_.WriteScoreEverywhere("sleep", kSleep);
  }

  void Start(const std::string& extra = "") {
    ASSERT_TRUE(cluster_.StartConductor(extra));
    ASSERT_TRUE(cluster_.StartPlayer("p1"));
    ASSERT_TRUE(cluster_.StartPlayer("p2"));
    client_ = cluster_.Client();
    ASSERT_NE(nullptr, client_);
    url_ = cluster_.http_url();
    ASSERT_FALSE(url_.empty());
  }

  // Starts with a users file: `viewer` (view) and `operator` (operate).
  void StartWithUsers(const std::string& extra = "") {
    const std::string path = cluster_.dir() + "/web-users";
    std::ofstream(path) << "viewer " << Hash("viewer-password") << " view\n"
                        << "operator " << Hash("operator-password")
                        << " operate\n";
    ::chmod(path.c_str(), 0600);
    Start("http users file = " + path + "\n" + extra);
  }

  broker::JobId Submit(const std::string& score, broker::Scope scope,
                       broker::StringMap params = {}) {
    broker::SubmitRequest r;
    r.score = score;
    r.scope = scope;
    r.players = {"p1", "p2"};
    r.params = std::move(params);
    auto reply = client_->Call(r, 10000);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    auto* submitted = std::get_if<broker::SubmitReply>(&reply.value().body);
    EXPECT_NE(nullptr, submitted);
    return submitted ? submitted->job : 0;
  }

  JobRecord Wait(broker::JobId job) {
    auto waited = client_->Call(broker::WaitRequest{job, 20000}, 25000);
    EXPECT_TRUE(waited.ok()) << waited.status().ToString();
    auto* reply = std::get_if<broker::JobReply>(&waited.value().body);
    EXPECT_NE(nullptr, reply);
    return reply ? reply->job : JobRecord{};
  }

  HttpReply Call(const std::string& method, const std::string& path,
                 const std::string& headers = "",
                 const std::string& body = "") {
    std::optional<HttpReply> reply =
        HttpCall(url_, method, path, headers, body);
    EXPECT_TRUE(reply.has_value()) << method << " " << path;
    return reply.value_or(HttpReply{});
  }

  // The players are served: a job runs to its end.
  void ExpectPlayersServed() {
    JobRecord job = Wait(Submit("hello", broker::Scope::kAll));
    EXPECT_EQ(JobState::kOk, job.state);
  }

  Cluster cluster_;
  std::unique_ptr<broker::AudienceClient> client_;
  std::string url_;
};

void ExpectJsonError(const HttpReply& reply, int status,
                     const std::string& code) {
  EXPECT_EQ(status, reply.status) << reply.body;
  EXPECT_EQ("application/json", reply.Header("content-type"));
  EXPECT_NE(std::string::npos,
            reply.body.find("{\"error\":{\"code\":\"" + code + "\""))
      << reply.body;
}

TEST_F(WebTest, BadRequestsGetTheirStatusAndAJsonErrorAndPlayersGoOn) {
  Start();
  ExpectJsonError(Call("GET", "/nowhere"), 404, "not_found");
  ExpectJsonError(Call("GET", "/api/v1/"), 404, "not_found");
  ExpectJsonError(Call("GET", "/api/v1/metrics"), 404, "not_found");
  ExpectJsonError(Call("PUT", "/jobs"), 405, "bad_request");
  ExpectJsonError(Call("DELETE", "/api/v1/jobs/1"), 405, "bad_request");
  ExpectJsonError(Call("GET", "/jobs/1/cancel"), 405, "bad_request");
  EXPECT_EQ("POST", Call("GET", "/api/v1/jobs/1/cancel").Header("allow"));
  for (const char* id : {"abc", "0", "-1", "1e3", "99999999999999999999"})
    ExpectJsonError(Call("GET", std::string("/api/v1/jobs/") + id), 400,
                    "bad_request");
  ExpectJsonError(Call("GET", "/api/v1/jobs?state=SLEEPING"), 400,
                  "bad_request");
  ExpectJsonError(Call("GET", "/api/v1/jobs?before=x"), 400, "bad_request");
  ExpectJsonError(Call("GET", "/api/v1/jobs/12345"), 404, "not_found");
  // A body larger than the limit: refused on its declared length before
  // any of it is read; sent in chunks, the connection is cut off.
  {
    HttpConnection declared(url_);
    ASSERT_TRUE(declared.Send("POST /api/v1/jobs/1/cancel HTTP/1.1\r\n" +
                              HostOf(url_) +
                              "X-Orchestra: 1\r\n"
                              "Content-Length: 1048576\r\n\r\n"));
    std::optional<HttpReply> reply = declared.Read(5s);
    ASSERT_TRUE(reply.has_value());
    ExpectJsonError(*reply, 413, "bad_request");
  }
  {
    HttpConnection chunked(url_);
    ASSERT_TRUE(chunked.Send("POST /api/v1/jobs/1/cancel HTTP/1.1\r\n" +
                             HostOf(url_) +
                             "Transfer-Encoding: chunked\r\n\r\n"));
    const std::string chunk(8192, 'y');
    char size[16];
    std::snprintf(size, sizeof(size), "%zx\r\n", chunk.size());
    chunked.Send(size + chunk + "\r\n");
    EXPECT_TRUE(chunked.WaitClosed(5s));
  }
  // Headers larger than a connection may hold: refused, not stored.
  const HttpReply huge =
      Call("GET", "/", "X-Padding: " + std::string(64 << 10, 'z') + "\r\n");
  EXPECT_TRUE(huge.status == 431 || huge.status == 413) << huge.status;
  // Garbage instead of HTTP.
  {
    HttpConnection garbage(url_);
    garbage.Send(std::string("\x00\xff\r\n\r\n\r\n", 8) + "NOT HTTP\r\n\r\n");
    std::optional<HttpReply> reply = garbage.Read(5s);
    EXPECT_TRUE(!reply || reply->status == 400);
  }
  ExpectPlayersServed();
  EXPECT_EQ(200, Call("GET", "/healthz").status);
}

TEST_F(WebTest, TheApiAndPagesShowAJobWithItsOutputAndHideParamsWithoutUsers) {
  Start();
  const broker::JobId id =
      Submit("hello", broker::Scope::kAll, {{"WHO", "secret-value"}});
  ASSERT_EQ(JobState::kOk, Wait(id).state);
  const std::string path = "/api/v1/jobs/" + std::to_string(id);
  HttpReply job = Call("GET", path);
  ASSERT_EQ(200, job.status) << job.body;
  EXPECT_EQ("application/json", job.Header("content-type"));
  EXPECT_NE(std::string::npos, job.body.find("\"state\":\"OK\"")) << job.body;
  EXPECT_NE(std::string::npos, job.body.find("hello secret-value from p1"));
  EXPECT_NE(std::string::npos, job.body.find("hello secret-value from p2"));
  // The parameter's value is hidden; its output is what the score printed.
  EXPECT_NE(std::string::npos, job.body.find("\"WHO\":\"***\"")) << job.body;
  // Paged like the audience protocol's status.
  HttpReply page = Call("GET", path + "?tasks_from=1&tasks_limit=1");
  EXPECT_NE(std::string::npos, page.body.find("\"tasks_from\":1")) << page.body;
  HttpReply html =
      Call("GET", "/jobs/" + std::to_string(id), "Accept: text/html\r\n");
  ASSERT_EQ(200, html.status);
  EXPECT_EQ("text/html; charset=utf-8", html.Header("content-type"));
  EXPECT_NE(std::string::npos, html.body.find("from p2"));
  EXPECT_EQ(std::string::npos, html.body.find("secret-value\"")) << html.body;
  EXPECT_NE(std::string::npos,
            html.Header("content-security-policy").find("script-src 'self'"));
  HttpReply jobs = Call("GET", "/api/v1/jobs?state=OK&score=hello");
  EXPECT_NE(std::string::npos, jobs.body.find("\"id\":" + std::to_string(id)))
      << jobs.body;
  HttpReply players = Call("GET", "/api/v1/players");
  EXPECT_NE(std::string::npos, players.body.find("\"name\":\"p1\""));
  EXPECT_NE(std::string::npos, players.body.find("\"connected\":true"));
  HttpReply overview = Call("GET", "/api/v1/overview");
  EXPECT_NE(std::string::npos, overview.body.find("\"connected\":2"))
      << overview.body;
  // Without a users file nothing can be changed.
  HttpReply cancel =
      Call("POST", "/api/v1/jobs/" + std::to_string(id) + "/cancel",
           "X-Orchestra: 1\r\n");
  ExpectJsonError(cancel, 403, "unauthorized");
}

// A site that makes its own name resolve to 127.0.0.1 (DNS rebinding)
// reaches us with its name in Host: it must not read the page.
TEST_F(WebTest, AJobsStatesComeFromMemoryWhileItRunsWithoutOutputs) {
  Start();
  const broker::JobId id = Submit("sleep", broker::Scope::kAll);
  const std::string path = "/api/v1/jobs/" + std::to_string(id) + "/states";
  // Both tasks reach RUNNING; the states say so, each with its player.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  HttpReply states;
  do {
    states = Call("GET", path);
    ASSERT_EQ(200, states.status) << states.body;
  } while ((states.body.find("\"state\":\"RUNNING\",\"player\":\"p1\"") ==
                std::string::npos ||
            states.body.find("\"state\":\"RUNNING\",\"player\":\"p2\"") ==
                std::string::npos) &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_NE(std::string::npos,
            states.body.find("\"state\":\"RUNNING\",\"player\":\"p2\""))
      << states.body;
  EXPECT_NE(std::string::npos, states.body.find("\"state\":\"PENDING\""))
      << states.body;
  EXPECT_EQ(std::string::npos, states.body.find("stdout")) << states.body;
  ASSERT_TRUE(client_->Call(broker::CancelRequest{id}, 10000).ok());
  EXPECT_EQ(JobState::kCancelled, Wait(id).state);
  // Ended: the header only (the page reloads to show the outcome).
  states = Call("GET", path);
  EXPECT_EQ("{\"id\":" + std::to_string(id) +
                ",\"state\":\"CANCELLED\",\"tasks\":[]}\n",
            states.body);
  ExpectJsonError(Call("GET", "/api/v1/jobs/x/states"), 400, "bad_request");
  ExpectJsonError(Call("GET", "/api/v1/jobs/99999/states"), 404, "not_found");
}

// A rollout of one at a time: while p1's task runs, p2's waits for the
// rollout, and both the page (without script) and the states say so.
TEST_F(WebTest, AQueuedTaskShowsWhyItWaitsOnItsPageAndInItsStates) {
  Start();
  broker::SubmitRequest r;
  r.score = "sleep";
  r.scope = broker::Scope::kAll;
  r.players = {"p1", "p2"};
  r.max_concurrency = broker::RolloutLimit{1, false};
  auto reply = client_->Call(r, 10000);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  ASSERT_TRUE(std::holds_alternative<broker::SubmitReply>(reply.value().body));
  const broker::JobId id =
      std::get<broker::SubmitReply>(reply.value().body).job;
  const std::string page = "/jobs/" + std::to_string(id);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  HttpReply html;
  do {
    html = Call("GET", page);
    ASSERT_EQ(200, html.status) << html.body;
  } while (html.body.find("<td data-field=\"waiting\">rollout</td>") ==
               std::string::npos &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_NE(std::string::npos,
            html.body.find("<td data-field=\"waiting\">rollout</td>"))
      << html.body;
  const HttpReply states =
      Call("GET", page.substr(0, 0) + "/api/v1" + page + "/states");
  EXPECT_NE(std::string::npos,
            states.body.find("\"state\":\"QUEUED\",\"player\":\"p2\","
                             "\"waiting\":\"rollout\""))
      << states.body;
  ASSERT_TRUE(client_->Call(broker::CancelRequest{id}, 10000).ok());
  EXPECT_EQ(JobState::kCancelled, Wait(id).state);
}

TEST_F(WebTest, WithoutUsersOnlyLoopbackHostNamesAreServed) {
  Start();
  ExpectJsonError(Call("GET", "/api/v1/jobs", "Host: attacker.example\r\n"),
                  403, "unauthorized");
  ExpectJsonError(Call("GET", "/",
                       "Host: attacker.example:" +
                           url_.substr(url_.rfind(':') + 1) + "\r\n"),
                  403, "unauthorized");
  ExpectJsonError(Call("GET", "/metrics", "Host: 127.0.0.1:1\r\n"), 403,
                  "unauthorized");
  EXPECT_EQ(200, Call("GET", "/api/v1/jobs", "Host: localhost\r\n").status);
  // /healthz is open to all.
  EXPECT_EQ(200, Call("GET", "/healthz", "Host: anything\r\n").status);
}

TEST_F(WebTest, UsersLogInAndOnlyOperatorsCancelFromTheirOwnOrigin) {
  StartWithUsers();
  const broker::JobId id = Submit("sleep", broker::Scope::kAll);
  const std::string cancel = "/api/v1/jobs/" + std::to_string(id) + "/cancel";
  const std::string viewer = BasicAuth("viewer", "viewer-password");
  const std::string op = BasicAuth("operator", "operator-password");
  // No credentials, or wrong ones: 401 asking for Basic credentials.
  HttpReply anonymous = Call("GET", "/api/v1/jobs");
  ExpectJsonError(anonymous, 401, "unauthorized");
  EXPECT_EQ(0u, anonymous.Header("www-authenticate").find("Basic"));
  const size_t mark = cluster_.conductor()->LogSize();
  ExpectJsonError(Call("GET", "/metrics", BasicAuth("viewer", "wrong")), 401,
                  "unauthorized");
  EXPECT_TRUE(
      cluster_.conductor()
          ->WaitForLog("http login refused user=viewer peer=127\\.0", 10s, mark)
          .has_value());
  ExpectJsonError(Call("GET", "/", BasicAuth("nobody", "viewer-password")), 401,
                  "unauthorized");
  // A viewer reads, parameter values included, and cannot cancel.
  EXPECT_EQ(200, Call("GET", "/api/v1/jobs", viewer).status);
  ExpectJsonError(Call("POST", cancel, viewer + "X-Orchestra: 1\r\n"), 403,
                  "unauthorized");
  // An operator's POST from another origin, or from none, is forged.
  ExpectJsonError(Call("POST", cancel, op), 403, "unauthorized");
  ExpectJsonError(
      Call("POST", cancel, op + "Origin: http://attacker.example\r\n"), 403,
      "unauthorized");
  ExpectJsonError(Call("POST", cancel, op + "Origin: null\r\n"), 403,
                  "unauthorized");
  EXPECT_EQ(JobState::kPending,
            std::get<broker::JobReply>(
                client_->Call(broker::StatusRequest{id}, 5000).value().body)
                .job.state);
  // From the page's own origin (a form): cancelled, then sent to the job.
  const std::string host = url_.substr(url_.find("://") + 3);
  HttpReply form =
      Call("POST", "/jobs/" + std::to_string(id) + "/cancel",
           op + "Origin: http://" + host +
               "\r\nContent-Type: application/x-www-form-urlencoded\r\n");
  EXPECT_EQ(303, form.status) << form.body;
  EXPECT_EQ("/jobs/" + std::to_string(id), form.Header("location"));
  EXPECT_EQ(JobState::kCancelled, Wait(id).state);
  // The API answers with the record, after the cancel's commit.
  const broker::JobId second = Submit("sleep", broker::Scope::kAll);
  HttpReply api =
      Call("POST", "/api/v1/jobs/" + std::to_string(second) + "/cancel",
           op + "X-Orchestra: 1\r\n");
  EXPECT_EQ(200, api.status) << api.body;
  EXPECT_NE(std::string::npos, api.body.find("\"state\":\"CANCELLED\""))
      << api.body;
}

// At most `http connections` at once: more wait in the kernel's queue,
// and the players are served all the while.
TEST_F(WebTest, ConnectionsAreBoundedAndTheyCannotStarveThePlayers) {
  Start("http connections = 8\nhttp timeout = 30\n");
  std::vector<std::unique_ptr<HttpConnection>> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(std::make_unique<HttpConnection>(url_));
    ASSERT_TRUE(idle.back()->connected());
    // Half a request: each holds its connection.
    ASSERT_TRUE(idle.back()->Send("GET / HTTP/1.1\r\n"));
  }
  ExpectPlayersServed();
  HttpConnection waiting(url_);
  ASSERT_TRUE(waiting.Send("GET /healthz HTTP/1.1\r\n" + HostOf(url_) +
                           "Connection: close\r\n\r\n"));
  EXPECT_FALSE(waiting.Read(1s).has_value());  // not taken yet
  ExpectPlayersServed();
  idle.pop_back();  // one closes: the waiting one is served
  std::optional<HttpReply> reply = waiting.Read(10s);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(200, reply->status);
}

TEST_F(WebTest, ASilentClientIsClosedAfterTheTimeout) {
  Start("http timeout = 1\n");
  HttpConnection slow(url_);
  ASSERT_TRUE(slow.Send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  EXPECT_TRUE(slow.WaitClosed(10s));
  EXPECT_EQ(200, Call("GET", "/healthz").status);
}

TEST_F(WebTest, MetricsCountTheJobsAndTasksRun) {
  Start();
  auto value = [&](const std::string& sample) -> long {
    const std::string text = Call("GET", "/metrics").body;
    const size_t at = text.find("\n" + sample + " ");
    if (at == std::string::npos) return -1;
    return std::atol(text.c_str() + at + sample.size() + 2);
  };
  const long submitted = value("orchestra_jobs_submitted_total");
  ASSERT_GE(submitted, 0);
  const long ok_tasks = value("orchestra_tasks_finished_total{state=\"OK\"}");
  ASSERT_EQ(JobState::kOk, Wait(Submit("hello", broker::Scope::kAll)).state);
  ASSERT_EQ(JobState::kOk, Wait(Submit("hello", broker::Scope::kOne)).state);
  EXPECT_EQ(submitted + 2, value("orchestra_jobs_submitted_total"));
  EXPECT_EQ(ok_tasks + 3,
            value("orchestra_tasks_finished_total{state=\"OK\"}"));
  EXPECT_EQ(2, value("orchestra_players{state=\"connected\"}"));
  EXPECT_EQ(1, value("orchestra_store_writable"));
}

TEST_F(WebTest, TheWebPageCanBeTurnedOff) {
  ASSERT_TRUE(cluster_.StartConductor("http endpoint =\n"));
  EXPECT_EQ("", cluster_.http_url());
  EXPECT_EQ(0u, cluster_.conductor()->CountLog("role=http"));
}

}  // namespace
}  // namespace orchestra::test
