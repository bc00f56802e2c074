// JsonPages joins the pages of a job record or of a list, as the protocol
// carries them, into the one JSON value `orchestra --json` prints (a reply
// never exceeds the message limit, so a large record or list comes in
// pages; DESIGN.md section 6). Owned by one command run.

#ifndef ORCHESTRA_TOOLS_JSON_PAGES_H_
#define ORCHESTRA_TOOLS_JSON_PAGES_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"

namespace orchestra::tools {

class JsonPages {
 public:
  // Adds the page in the reply `reply_bytes` (msgpack): its `field`. The
  // first page is kept whole; a later one adds its items (a list) or its
  // record's tasks (a record). InvalidArgument if the bytes are no reply.
  common::Status Add(std::string_view reply_bytes, const char* field);

  // The record now holds every task: drops its `tasks_from` and
  // `tasks_total`.
  void MarkWhole();

  // The JSON text, indented by two spaces.
  std::string Text() const;

 private:
  nlohmann::ordered_json value_;
  bool empty_ = true;
};

}  // namespace orchestra::tools

#endif  // ORCHESTRA_TOOLS_JSON_PAGES_H_
