#include "player/conductor_list.h"

#include <algorithm>
#include <utility>

#include "common/limits.h"
#include "common/text.h"

namespace orchestra::player {

using common::Result;
using common::Status;

namespace {

// No ZeroMQ address has these; refusing them keeps a hint fit for a log
// line as it is.
bool HasBlankControlOrQuote(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte <= ' ' || byte == 0x7f || c == '"' || c == '\\';
  });
}

// Pieces between commas, trimmed; empty pieces kept so they can be refused.
std::vector<std::string_view> SplitOnCommas(std::string_view text) {
  std::vector<std::string_view> pieces;
  for (;;) {
    const size_t comma = text.find(',');
    pieces.push_back(common::Trim(text.substr(0, comma)));
    if (comma == std::string_view::npos) return pieces;
    text.remove_prefix(comma + 1);
  }
}

}  // namespace

Status ConductorList::CheckEndpoint(std::string_view endpoint) {
  const std::string quoted = "'" + std::string(endpoint.substr(0, 64)) +
                             (endpoint.size() > 64 ? "...'" : "'");
  if (endpoint.size() > kMaxEndpointBytes)
    return Status::InvalidArgument("", quoted + " is longer than " +
                                           std::to_string(kMaxEndpointBytes) +
                                           " bytes");
  const bool tcp = endpoint.rfind("tcp://", 0) == 0;
  if ((!tcp && endpoint.rfind("ipc://", 0) != 0) || endpoint.size() == 6 ||
      HasBlankControlOrQuote(endpoint))
    return Status::InvalidArgument(
        "", quoted + " is not a ZeroMQ address such as tcp://conductor:2258");
  return Status();
}

Result<std::vector<std::string>> ConductorList::Parse(std::string_view text) {
  std::vector<std::string_view> pieces = SplitOnCommas(text);
  if (pieces.size() > kMaxConductorEndpoints)
    return Status::InvalidArgument(
        "", std::to_string(pieces.size()) + " endpoints; at most " +
                std::to_string(kMaxConductorEndpoints));
  std::vector<std::string> endpoints;
  for (std::string_view piece : pieces) {
    if (piece.empty())
      return Status::InvalidArgument(
          "", "an empty endpoint in the list (a stray comma?)");
    Status s = CheckEndpoint(piece);
    if (!s.ok()) return s;
    if (std::find(endpoints.begin(), endpoints.end(), piece) != endpoints.end())
      return Status::InvalidArgument(
          "", "'" + std::string(piece) + "' is listed twice");
    endpoints.emplace_back(piece);
  }
  return endpoints;
}

ConductorList::ConductorList(std::vector<std::string> endpoints)
    : endpoints_(std::move(endpoints)) {}

const std::string& ConductorList::current() const {
  return detour_.empty() ? endpoints_[position_] : detour_;
}

void ConductorList::Next() {
  detour_.clear();
  position_ = (position_ + 1) % endpoints_.size();
  ++moves_since_welcome_;
}

common::TimeMs ConductorList::NextGreetingDelay() {
  if (moves_since_welcome_ < endpoints_.size()) return 0;
  moves_since_welcome_ = 0;
  rounds_ = std::min(rounds_ + 1, 16);
  return std::min(kFirstRoundBackoffMs << (rounds_ - 1), kMaxRoundBackoffMs);
}

Status ConductorList::Follow(std::string_view hint) {
  Status s = CheckEndpoint(hint);
  if (!s.ok()) return s;
  auto listed = std::find(endpoints_.begin(), endpoints_.end(), hint);
  if (listed != endpoints_.end()) {
    detour_.clear();
    position_ = static_cast<size_t>(listed - endpoints_.begin());
  } else {
    detour_ = std::string(hint);
  }
  ++moves_since_welcome_;
  return Status();
}

}  // namespace orchestra::player
