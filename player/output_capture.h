// OutputCapture keeps what a score writes to one stream: the last `limit`
// bytes and whether more was written, and, for the pipe interface, the
// key=value lines of the whole stream as the task's response. Memory stays
// bounded however much the score writes. Owned by one ChildProcess.

#ifndef ORCHESTRA_PLAYER_OUTPUT_CAPTURE_H_
#define ORCHESTRA_PLAYER_OUTPUT_CAPTURE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "broker/protocol.h"

namespace orchestra::player {

class OutputCapture {
 public:
  // Keeps the last `limit` bytes; with `parse_response`, every line
  // `key=value` (split at the first '=') also goes into the response.
  OutputCapture(size_t limit, bool parse_response);

  void Append(std::string_view data);
  // The stream ended: a last line without a newline still counts.
  void Finish();

  // The kept tail as valid UTF-8 (bad sequences become U+FFFD), at most
  // `limit` bytes, cut at a character boundary. Sets `truncated` when that
  // is not everything the stream carried.
  std::string Tail(bool* truncated) const;
  const broker::StringMap& response() const { return response_; }
  // Lines that did not fit the response limits and were left out.
  size_t dropped_lines() const { return dropped_lines_; }

 private:
  void AddLine(std::string_view line);

  size_t limit_;
  bool parse_response_;
  std::string tail_;            // At most 2 * limit_ bytes
  uint64_t total_ = 0;          // Bytes written to the stream
  std::string line_;            // The line being read
  bool line_too_long_ = false;  // Skip to the next newline
  broker::StringMap response_;
  size_t response_bytes_ = 0;
  size_t dropped_lines_ = 0;
};

}  // namespace orchestra::player

#endif  // ORCHESTRA_PLAYER_OUTPUT_CAPTURE_H_
