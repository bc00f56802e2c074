#include "test/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace orchestra::test {

namespace {

using Clock = std::chrono::steady_clock;

int PortOf(const std::string& url) {
  const size_t colon = url.rfind(':');
  return colon == std::string::npos ? 0 : std::atoi(url.c_str() + colon + 1);
}

// The reply in `raw` once complete, else nullopt.
std::optional<HttpReply> Parse(const std::string& raw, bool closed) {
  const size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return std::nullopt;
  HttpReply reply;
  if (std::sscanf(raw.c_str(), "HTTP/1.%*d %d", &reply.status) != 1)
    return std::nullopt;
  size_t at = raw.find("\r\n") + 2;
  while (at < end) {
    const size_t line_end = raw.find("\r\n", at);
    const std::string line = raw.substr(at, line_end - at);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(c));
      size_t value = colon + 1;
      while (value < line.size() && line[value] == ' ') ++value;
      reply.headers[name] = line.substr(value);
    }
    at = line_end + 2;
  }
  reply.body = raw.substr(end + 4);
  const std::string length = reply.Header("content-length");
  if (!length.empty() &&
      reply.body.size() >= static_cast<size_t>(std::stoul(length))) {
    reply.body.resize(std::stoul(length));
    return reply;
  }
  if (closed) return reply;
  return std::nullopt;
}

}  // namespace

HttpConnection::HttpConnection(const std::string& url) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(PortOf(url)));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&address),
                            sizeof(address)) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

HttpConnection::~HttpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool HttpConnection::Send(const std::string& bytes) {
  size_t sent = 0;
  while (fd_ >= 0 && sent < bytes.size()) {
    const ssize_t n =
        ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return fd_ >= 0;
}

std::optional<HttpReply> HttpConnection::Read(
    std::chrono::milliseconds deadline) {
  const Clock::time_point end = Clock::now() + deadline;
  std::string raw;
  char buffer[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (n <= 0) return Parse(raw, true);
    raw.append(buffer, static_cast<size_t>(n));
    if (std::optional<HttpReply> reply = Parse(raw, false)) return reply;
  }
}

bool HttpConnection::WaitClosed(std::chrono::milliseconds deadline) {
  const Clock::time_point end = Clock::now() + deadline;
  char buffer[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    if (::recv(fd_, buffer, sizeof(buffer), 0) <= 0) return true;
  }
}

std::string HostOf(const std::string& url) {
  const size_t scheme = url.find("://");
  return "Host: " +
         (scheme == std::string::npos ? url : url.substr(scheme + 3)) + "\r\n";
}

std::optional<HttpReply> HttpCall(const std::string& url,
                                  const std::string& method,
                                  const std::string& path,
                                  const std::string& headers,
                                  const std::string& body) {
  HttpConnection connection(url);
  const std::string host =
      headers.find("Host:") == std::string::npos ? HostOf(url) : "";
  std::string request = method + " " + path + " HTTP/1.1\r\n" + host + headers +
                        "Connection: close\r\n";
  if (!body.empty() || method == "POST")
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  request += "\r\n" + body;
  if (!connection.Send(request)) return std::nullopt;
  return connection.Read(std::chrono::seconds(10));
}

std::string BasicAuth(const std::string& user, const std::string& password) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string in = user + ":" + password;
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint8_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
  }
  return "Authorization: Basic " + out + "\r\n";
}

}  // namespace orchestra::test
