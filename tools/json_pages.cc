// The pages arrive as msgpack; broker::MsgpackFieldToJson converts each
// (invalid UTF-8 already replaced, so the text always parses) and the
// pages are joined as JSON values, keys kept in wire order.

#include "tools/json_pages.h"

#include "broker/json.h"

namespace orchestra::tools {

using common::Result;
using common::Status;
using Json = nlohmann::ordered_json;

Status JsonPages::Add(std::string_view reply_bytes, const char* field) {
  Result<std::string> text =
      broker::MsgpackFieldToJson(reply_bytes, field, /*pretty=*/false);
  if (!text.ok()) return text.status();
  Json page = Json::parse(text.value(), nullptr, /*allow_exceptions=*/false);
  if (page.is_discarded())
    return Status::InvalidArgument("json", "a page is not valid JSON");
  if (empty_) {
    value_ = std::move(page);
    empty_ = false;
    return Status();
  }
  Json* items = &value_;
  if (value_.is_object()) {  // a record: its tasks go on
    items = &value_["tasks"];
    page = page.is_object() ? page["tasks"] : Json::array();
  }
  if (!items->is_array() || !page.is_array())
    return Status::InvalidArgument("json", "pages that do not join");
  for (Json& item : page) items->push_back(std::move(item));
  return Status();
}

void JsonPages::MarkWhole() {
  if (!value_.is_object()) return;
  value_.erase("tasks_from");
  value_.erase("tasks_total");
}

std::string JsonPages::Text() const {
  return value_.dump(2, ' ', /*ensure_ascii=*/false,
                     Json::error_handler_t::replace);
}

}  // namespace orchestra::tools
