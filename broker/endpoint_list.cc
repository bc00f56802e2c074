#include "broker/endpoint_list.h"

#include <algorithm>

#include "common/limits.h"
#include "common/text.h"

namespace orchestra::broker {

using common::Result;
using common::Status;

namespace {

constexpr std::string_view kIpcPrefix = "ipc://";
constexpr std::string_view kTcpPrefix = "tcp://";

bool IsPlainText(std::string_view text) {
  return std::none_of(text.begin(), text.end(), [](char c) {
    const unsigned char u = static_cast<unsigned char>(c);
    return u <= ' ' || u == 0x7f || c == ',';
  });
}

// HOST is a name, an IPv4 address, or an IPv6 address in brackets; a
// wildcard ("*") is for binding, never for connecting.
bool IsValidHost(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    return host.find_first_not_of("0123456789abcdefABCDEF:.", 1) ==
           host.size() - 1;
  if (host.empty()) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
  });
}

bool IsValidTcp(std::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view port = address.substr(colon + 1);
  int64_t number = 0;
  return IsValidHost(address.substr(0, colon)) && !port.empty() &&
         port.find_first_not_of("0123456789") == std::string_view::npos &&
         common::ParseInt64(std::string(port), 1, 65535, &number);
}

}  // namespace

bool IsValidEndpoint(std::string_view endpoint) {
  if (endpoint.size() > kMaxEndpointBytes || !IsPlainText(endpoint))
    return false;
  if (endpoint.substr(0, kIpcPrefix.size()) == kIpcPrefix)
    return endpoint.size() > kIpcPrefix.size();
  if (endpoint.substr(0, kTcpPrefix.size()) == kTcpPrefix)
    return IsValidTcp(endpoint.substr(kTcpPrefix.size()));
  return false;
}

Result<std::vector<std::string>> ParseEndpointList(std::string_view text) {
  std::vector<std::string> endpoints;
  size_t start = 0;
  for (;;) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string item(common::Trim(text.substr(start, comma - start)));
    if (item.empty())
      return Status::InvalidArgument("endpoint list",
                                     "an empty item in '" + std::string(text) +
                                         "' (endpoints are separated by "
                                         "single commas)");
    if (!IsValidEndpoint(item))
      return Status::InvalidArgument(
          "endpoint list", "'" + common::SanitizeUtf8(item) +
                               "' is not ipc://PATH or tcp://HOST:PORT");
    if (std::find(endpoints.begin(), endpoints.end(), item) != endpoints.end())
      return Status::InvalidArgument("endpoint list",
                                     "'" + item + "' is listed twice");
    endpoints.push_back(item);
    if (endpoints.size() > kMaxEndpoints)
      return Status::InvalidArgument(
          "endpoint list",
          "more than " + std::to_string(kMaxEndpoints) + " endpoints");
    if (comma == text.size()) return endpoints;
    start = comma + 1;
  }
}

}  // namespace orchestra::broker
