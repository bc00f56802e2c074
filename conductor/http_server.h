// HttpServer is the conductor's web server (DESIGN.md section 14): a
// libmicrohttpd daemon run from the conductor's own loop. Its epoll
// descriptor goes into the loop's poll set, its timeout is folded into the
// poll's, and Run() does what is ready without blocking, calling the
// handler for each complete request on the loop thread. What a client can
// make it hold is bounded: connections (more wait in the kernel's backlog),
// header bytes per connection (431), body bytes (413), idle time, and the
// bytes of the responses it has not yet taken, in all (503 beyond).

#ifndef ORCHESTRA_CONDUCTOR_HTTP_SERVER_H_
#define ORCHESTRA_CONDUCTOR_HTTP_SERVER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/unique_fd.h"

struct MHD_Daemon;
struct MHD_Connection;

namespace orchestra::conductor {

// Where the page listens: `http endpoint` in conductor.conf.
struct HttpAddress {
  std::string host;  // a numeric IPv4 or IPv6 address
  int port = 0;      // 0: any free port (tests)
  bool loopback = false;

  // "127.0.0.1:2259", "[::1]:2259", "localhost:2259", "*:2259" (every
  // IPv4 and IPv6 interface), "0.0.0.0:2259". Names other than localhost
  // are refused: the address is read before any resolver may be asked.
  static common::Result<HttpAddress> Parse(std::string_view text);
};

struct HttpRequest {
  std::string method;                        // "GET", "POST", ...
  std::string path;                          // decoded, without the query
  std::map<std::string, std::string> query;  // decoded arguments
  std::string host;                          // the Host header
  std::string origin;             // the Origin header, "" when absent
  std::string accept;             // the Accept header
  bool orchestra_header = false;  // "X-Orchestra: 1"
  bool has_credentials = false;   // Basic credentials were sent
  std::string user, password;     // from Basic credentials
  std::string peer;               // "ADDRESS:PORT"
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool ask_credentials = false;  // 401 with WWW-Authenticate: Basic
};

struct HttpLimits {
  int connections = 64;              // at once; more wait in the backlog
  unsigned idle_timeout_s = 10;      // a silent connection is closed
  size_t header_bytes = 16 << 10;    // per connection: request line, headers
  size_t body_bytes = 4 << 10;       // a request's body
  size_t response_bytes = 64 << 20;  // held for clients, in all
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  // Listens on `address` (TLS when `tls_certificate` and `tls_key`, both
  // PEM text, are given). `handler` is called on the thread calling Run().
  static common::Result<std::unique_ptr<HttpServer>> Start(
      const HttpAddress& address, const std::string& tls_certificate,
      const std::string& tls_key, const HttpLimits& limits, Handler handler);
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The descriptor to poll for reading.
  int fd() const;
  // Milliseconds until Run() must be called even if fd() stays quiet; -1
  // for no limit.
  long TimeoutMs() const;
  // Does what is ready; never blocks.
  void Run();

  // "http://127.0.0.1:41234" (the port actually bound).
  const std::string& url() const { return url_; }
  int port() const { return port_; }
  // Bytes of responses queued and not yet sent.
  size_t response_bytes() const { return response_bytes_; }

 private:
  struct Pending;
  struct Callbacks;  // libmicrohttpd's entry points (http_server.cc)
  friend struct Callbacks;
  explicit HttpServer(Handler handler, const HttpLimits& limits)
      : handler_(std::move(handler)), limits_(limits) {}
  // False when the connection is to be dropped.
  bool Handle(MHD_Connection* connection, const char* url, const char* method,
              const char* upload_data, size_t* upload_data_size,
              Pending** pending);
  bool Respond(MHD_Connection* connection, Pending* pending,
               const HttpResponse& response);
  HttpResponse BodyTooLarge() const;
  void Completed(Pending* pending);

  Handler handler_;
  HttpLimits limits_;
  bool closed_ = false;            // a connection closed during this run
  std::string certificate_, key_;  // MHD reads them at start only
  MHD_Daemon* daemon_ = nullptr;
  std::string url_;
  int port_ = 0;
  size_t response_bytes_ = 0;
};

// The JSON error body every refused request gets: {"error":{"code":..,
// "message":..}}, with the audience protocol's error codes.
HttpResponse HttpError(int status, std::string_view code,
                       std::string_view message);

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_HTTP_SERVER_H_
