#include "broker/message_schema.h"

#include "broker/message_fields.h"

namespace orchestra::broker {

const char* NeedText(Need need) {
  switch (need) {
    case Need::kRequired:
      return "required";
    case Need::kNullable:
      return "required, may be nil";
    case Need::kOptional:
      return "optional";
    case Need::kNilWhenEmpty:
      return "optional, may be nil";
    case Need::kWhenSet:
      return "only when set";
  }
  return "?";
}

std::vector<MessageSchema> ProtocolSchema() {
  std::vector<MessageSchema> out;
  FieldDescriber d(&out);
  DescribePlayerChannel(&d);
  DescribeAudienceChannel(&d);
  return out;
}

}  // namespace orchestra::broker
