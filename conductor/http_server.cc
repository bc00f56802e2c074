// libmicrohttpd calls OnRequest() several times per request: first with
// the headers read (we check the declared body size), then with each part
// of the body (kept up to the limit), then once with nothing left, when
// the handler runs and the response is queued. OnCompleted() ends it.
// The listening socket is ours (so port 0 and IPv6 work alike); the
// daemon takes it over.

#include "conductor/http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "common/log.h"
#include "common/rate_limit.h"
#include "common/text.h"

namespace orchestra::conductor {

using common::Result;
using common::Status;

namespace {

constexpr int kBacklog = 128;
constexpr size_t kMaxQueryArguments = 32;

bool IsLoopback(const std::string& host) {
  in_addr v4;
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  return host == "::1";
}

std::string PeerOf(const sockaddr* address) {
  if (address == nullptr) return "?";
  char host[NI_MAXHOST], port[NI_MAXSERV];
  const socklen_t size = address->sa_family == AF_INET6 ? sizeof(sockaddr_in6)
                                                        : sizeof(sockaddr_in);
  if (::getnameinfo(address, size, host, sizeof(host), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return "?";
  return address->sa_family == AF_INET6 ? "[" + std::string(host) + "]:" + port
                                        : std::string(host) + ":" + port;
}

// A bound, listening socket for `address`; `*port` is set to its port.
Result<int> Listen(const HttpAddress& address, int* port) {
  const bool any = address.host == "*";
  sockaddr_storage storage{};
  socklen_t size;
  int family;
  if (any || address.host.find(':') != std::string::npos) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    v6->sin6_family = family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(address.port));
    v6->sin6_addr = in6addr_any;
    if (!any) ::inet_pton(AF_INET6, address.host.c_str(), &v6->sin6_addr);
    size = sizeof(*v6);
  } else {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    v4->sin_family = family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(address.port));
    ::inet_pton(AF_INET, address.host.c_str(), &v4->sin_addr);
    size = sizeof(*v4);
  }
  const std::string where =
      "http endpoint " + address.host + ":" + std::to_string(address.port);
  common::UniqueFd fd(
      ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return Status::FromErrno(where, errno);
  const int on = 1, off = 0;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if (any) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), size) != 0 ||
      ::listen(fd.get(), kBacklog) != 0)
    return Status::FromErrno(where, errno);
  size = sizeof(storage);
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&storage), &size);
  *port = ntohs(family == AF_INET6
                    ? reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port
                    : reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
  return fd.Release();
}

// libmicrohttpd's own complaints (a peer's broken request among them), at
// a bounded rate.
common::RateLimit http_log(10, 60000);
void LogFromLibrary(void*, const char* format, va_list arguments) {
  if (!http_log.Allow(common::SystemClock().Monotonic())) return;
  char line[512];
  std::vsnprintf(line, sizeof(line), format, arguments);
  size_t n = std::strlen(line);
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
  common::LogWarning("http: %s", common::LogQuote(line).c_str());
}

MHD_Result AddArgument(void* out, MHD_ValueKind, const char* key,
                       const char* value) {
  auto* query = static_cast<std::map<std::string, std::string>*>(out);
  if (query->size() >= kMaxQueryArguments) return MHD_NO;
  (*query)[key] = value ? value : "";
  return MHD_YES;
}

std::string Header(MHD_Connection* connection, const char* name) {
  const char* value =
      MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
  return value ? value : "";
}

}  // namespace

// What one request holds between the library's calls.
struct HttpServer::Pending {
  HttpRequest request;
  bool answered = false;
  size_t response_bytes = 0;
};

struct HttpServer::Callbacks {
  static MHD_Result OnRequest(void* self, MHD_Connection* connection,
                              const char* url, const char* method, const char*,
                              const char* upload_data, size_t* upload_data_size,
                              void** state) {
    return static_cast<HttpServer*>(self)->Handle(
               connection, url, method, upload_data, upload_data_size,
               reinterpret_cast<Pending**>(state))
               ? MHD_YES
               : MHD_NO;
  }
  static void OnCompleted(void* self, MHD_Connection*, void** state,
                          MHD_RequestTerminationCode) {
    static_cast<HttpServer*>(self)->Completed(static_cast<Pending*>(*state));
    *state = nullptr;
  }
  static void OnConnection(void* self, MHD_Connection*, void**,
                           MHD_ConnectionNotificationCode code) {
    if (code == MHD_CONNECTION_NOTIFY_CLOSED)
      static_cast<HttpServer*>(self)->closed_ = true;
  }
};

Result<HttpAddress> HttpAddress::Parse(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return Status::InvalidArgument(
        "", "'" + std::string(text) +
                "' is not HOST:PORT (e.g. 127.0.0.1:2259, [::1]:2259, "
                "*:2259)");
  HttpAddress address;
  int64_t port;
  if (!common::ParseInt64(text.substr(colon + 1), 0, 65535, &port))
    return Status::InvalidArgument("", "'" +
                                           std::string(text.substr(colon + 1)) +
                                           "' is not a port (0 to 65535)");
  address.port = static_cast<int>(port);
  std::string host(text.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  in_addr v4;
  in6_addr v6;
  if (host == "0.0.0.0" || host == "::") host = "*";
  if (host != "*" && ::inet_pton(AF_INET, host.c_str(), &v4) != 1 &&
      ::inet_pton(AF_INET6, host.c_str(), &v6) != 1)
    return Status::InvalidArgument(
        "", "'" + host +
                "' is not a numeric address, 'localhost' or '*' (names are "
                "not looked up)");
  address.host = host;
  address.loopback = IsLoopback(host);
  return address;
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(
    const HttpAddress& address, const std::string& tls_certificate,
    const std::string& tls_key, const HttpLimits& limits, Handler handler) {
  std::unique_ptr<HttpServer> server(
      new HttpServer(std::move(handler), limits));
  Result<int> fd = Listen(address, &server->port_);
  if (!fd.ok()) return fd.status();
  const bool tls = !tls_certificate.empty();
  unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
  if (tls) flags |= MHD_USE_TLS;
  server->certificate_ = tls_certificate;
  server->key_ = tls_key;
  // Options that take a pointer take it only when TLS is on: an empty
  // certificate would be refused.
  MHD_OptionItem tls_options[] = {
      {MHD_OPTION_HTTPS_MEM_CERT, 0, server->certificate_.data()},
      {MHD_OPTION_HTTPS_MEM_KEY, 0, server->key_.data()},
      {MHD_OPTION_END, 0, nullptr}};
  MHD_OptionItem no_options[] = {{MHD_OPTION_END, 0, nullptr}};
  server->daemon_ = MHD_start_daemon(
      flags, 0, nullptr, nullptr, &Callbacks::OnRequest, server.get(),
      MHD_OPTION_LISTEN_SOCKET, fd.value(), MHD_OPTION_CONNECTION_LIMIT,
      static_cast<unsigned>(limits.connections), MHD_OPTION_CONNECTION_TIMEOUT,
      limits.idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      limits.header_bytes, MHD_OPTION_NOTIFY_COMPLETED, &Callbacks::OnCompleted,
      server.get(), MHD_OPTION_NOTIFY_CONNECTION, &Callbacks::OnConnection,
      server.get(), MHD_OPTION_EXTERNAL_LOGGER, &LogFromLibrary, nullptr,
      MHD_OPTION_ARRAY, tls ? tls_options : no_options, MHD_OPTION_END);
  if (server->daemon_ == nullptr) {
    ::close(fd.value());
    return Status::InvalidArgument(
        "http endpoint",
        tls ? "the web server did not start: check that 'http tls "
              "certificate' and 'http tls key' are a matching PEM pair"
            : "the web server did not start");
  }
  const std::string host = address.host == "*" ? "0.0.0.0"
                           : address.host.find(':') != std::string::npos
                               ? "[" + address.host + "]"
                               : address.host;
  server->url_ = std::string(tls ? "https://" : "http://") + host + ":" +
                 std::to_string(server->port_);
  return server;
}

HttpServer::~HttpServer() {
  if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
}

int HttpServer::fd() const {
  const MHD_DaemonInfo* info =
      MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_EPOLL_FD);
  return info ? info->epoll_fd : -1;
}

long HttpServer::TimeoutMs() const {
  MHD_UNSIGNED_LONG_LONG ms;
  if (MHD_get_timeout(daemon_, &ms) != MHD_YES) return -1;
  return static_cast<long>(std::min<MHD_UNSIGNED_LONG_LONG>(ms, 60000));
}

// At its connection limit the library takes the listening socket out of
// its epoll set and puts it back only at the start of its next run: after
// a run that closed a connection, one more run lets a waiting one in.
void HttpServer::Run() {
  closed_ = false;
  MHD_run(daemon_);
  if (closed_) MHD_run(daemon_);
}

bool HttpServer::Handle(MHD_Connection* connection, const char* url,
                        const char* method, const char* upload_data,
                        size_t* upload_data_size, Pending** pending) {
  if (*pending == nullptr) {  // The headers are in: nothing read yet
    *pending = new Pending;
    const std::string length = Header(connection, "Content-Length");
    int64_t declared = 0;
    if (!length.empty() &&
        (!common::ParseInt64(length, 0, INT64_MAX, &declared) ||
         static_cast<size_t>(declared) > limits_.body_bytes))
      return Respond(connection, *pending, BodyTooLarge());
    return true;
  }
  Pending* p = *pending;
  if (p->answered) {  // Refused already: the rest of the body is dropped
    *upload_data_size = 0;
    return true;
  }
  if (*upload_data_size > 0) {
    // A body longer than it said, or chunked: libmicrohttpd cannot answer
    // until the body ends, so the connection is closed at once instead.
    if (p->request.body.size() + *upload_data_size > limits_.body_bytes)
      return false;
    p->request.body.append(upload_data, *upload_data_size);
    *upload_data_size = 0;
    return true;
  }
  if (response_bytes_ >= limits_.response_bytes)
    return Respond(connection, p,
                   HttpError(503, "busy",
                             "the conductor holds as many web responses as "
                             "it may; try again"));
  HttpRequest& r = p->request;
  r.method = method;
  r.path = url;
  MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, &AddArgument,
                            &r.query);
  r.host = Header(connection, "Host");
  r.origin = Header(connection, "Origin");
  r.accept = Header(connection, "Accept");
  r.orchestra_header = Header(connection, "X-Orchestra") == "1";
  char* password = nullptr;
  char* user = MHD_basic_auth_get_username_password(connection, &password);
  if (user != nullptr) {
    r.has_credentials = true;
    r.user = user;
    if (password != nullptr) r.password = password;
    if (password != nullptr) ::explicit_bzero(password, std::strlen(password));
    MHD_free(user);
    MHD_free(password);
  }
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  r.peer = PeerOf(info ? info->client_addr : nullptr);
  HttpResponse response = handler_(r);
  if (!r.password.empty())
    ::explicit_bzero(r.password.data(), r.password.size());
  return Respond(connection, p, response);
}

HttpResponse HttpServer::BodyTooLarge() const {
  return HttpError(413, "bad_request",
                   "the request's body is larger than " +
                       std::to_string(limits_.body_bytes) + " bytes");
}

bool HttpServer::Respond(MHD_Connection* connection, Pending* pending,
                         const HttpResponse& response) {
  pending->answered = true;
  MHD_Response* r = MHD_create_response_from_buffer(
      response.body.size(), const_cast<char*>(response.body.data()),
      MHD_RESPMEM_MUST_COPY);
  if (r == nullptr) return false;
  MHD_add_response_header(r, "Content-Type", response.content_type.c_str());
  for (const auto& [name, value] : response.headers)
    MHD_add_response_header(r, name.c_str(), value.c_str());
  MHD_Result queued =
      response.ask_credentials
          ? MHD_queue_basic_auth_fail_response(connection, "Orchestra", r)
          : MHD_queue_response(connection,
                               static_cast<unsigned>(response.status), r);
  MHD_destroy_response(r);
  if (queued != MHD_YES) return false;
  pending->response_bytes = response.body.size();
  response_bytes_ += pending->response_bytes;
  return true;
}

void HttpServer::Completed(Pending* pending) {
  if (pending == nullptr) return;
  response_bytes_ -= pending->response_bytes;
  delete pending;
}

HttpResponse HttpError(int status, std::string_view code,
                       std::string_view message) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  std::string text =
      "{\"error\":{\"code\":\"" + std::string(code) + "\",\"message\":\"";
  for (char c : common::SanitizeUtf8(message)) {
    if (c == '"' || c == '\\') {
      text += '\\';
      text += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
      text += escaped;
    } else {
      text += c;
    }
  }
  r.body = text + "\"}}\n";
  return r;
}

}  // namespace orchestra::conductor
