// Endpoint lists: "E1,E2,..." where a client takes one endpoint, for a cell
// of conductors (DESIGN.md section 17), and the check of one endpoint's
// syntax (also applied to a conductor's `leader` hint before it is used).

#ifndef ORCHESTRA_BROKER_ENDPOINT_LIST_H_
#define ORCHESTRA_BROKER_ENDPOINT_LIST_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace orchestra::broker {

// The most endpoints one list may name (a cell has three conductors).
constexpr size_t kMaxEndpoints = 16;

// True when `endpoint` is "ipc://PATH" or "tcp://HOST:PORT" (a port from 1
// to 65535), at most kMaxEndpointBytes, without spaces, commas or control
// characters.
bool IsValidEndpoint(std::string_view endpoint);

// The endpoints of the comma-separated `text`, in order, each trimmed of
// spaces. InvalidArgument naming the culprit for an empty item, an invalid
// endpoint, a repeated one, or more than kMaxEndpoints.
common::Result<std::vector<std::string>> ParseEndpointList(
    std::string_view text);

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_ENDPOINT_LIST_H_
