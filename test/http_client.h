// A raw HTTP/1.1 client for the end-to-end tests of the conductor's web
// page: it sends exactly the bytes a test gives (so it can send broken and
// hostile requests too) and reads the answer until the server closes.

#ifndef ORCHESTRA_TEST_HTTP_CLIENT_H_
#define ORCHESTRA_TEST_HTTP_CLIENT_H_

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace orchestra::test {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// A connected TCP socket to the web page at `url` ("http://HOST:PORT").
class HttpConnection {
 public:
  explicit HttpConnection(const std::string& url);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool Send(const std::string& bytes);
  // The reply, once the server has sent all of it and closed (or the
  // whole body its Content-Length names); nullopt at the deadline.
  std::optional<HttpReply> Read(std::chrono::milliseconds deadline);
  // True when the server closed the connection before the deadline.
  bool WaitClosed(std::chrono::milliseconds deadline);

 private:
  int fd_ = -1;
};

// "Host: 127.0.0.1:PORT" for `url`.
std::string HostOf(const std::string& url);

// One request (`Connection: close` is added) and its reply; `headers` are
// extra header lines, each ending in "\r\n".
std::optional<HttpReply> HttpCall(const std::string& url,
                                  const std::string& method,
                                  const std::string& path,
                                  const std::string& headers = "",
                                  const std::string& body = "");

// "Authorization: Basic ...\r\n" for `user` and `password`.
std::string BasicAuth(const std::string& user, const std::string& password);

}  // namespace orchestra::test

#endif  // ORCHESTRA_TEST_HTTP_CLIENT_H_
