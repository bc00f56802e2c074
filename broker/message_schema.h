// What each message of both channels holds, as data: every field's name,
// type, whether it is required, and its range. Read from the one
// description the codecs follow (broker/message_fields.h), so the protocol's
// documentation can be checked against the code.

#ifndef ORCHESTRA_BROKER_MESSAGE_SCHEMA_H_
#define ORCHESTRA_BROKER_MESSAGE_SCHEMA_H_

#include <string>
#include <vector>

namespace orchestra::broker {

// How a field appears in a message, for writers and readers alike.
enum class Need {
  kRequired,      // always written; a message without it is refused
  kNullable,      // always written, nil when it has no value; must be there
  kOptional,      // always written; absent or nil reads as the default
  kNilWhenEmpty,  // written as nil when empty; absent or nil reads as empty
  kWhenSet,       // written only when not the default; absent = the default
};

// "required", "required, may be nil", "optional", "optional, may be nil",
// "only when set": the words broker/PROTOCOL.md uses.
const char* NeedText(Need need);

struct FieldSchema {
  std::string name;
  std::string type;  // "int", "string", "bool", "time", "[score]", ...
  Need need = Need::kRequired;
  std::string range;  // "1 to 256", "at most 128 bytes", "OK, FAIL, ..."
};

struct MessageSchema {
  // "player" (a player-channel message, by its "type"), "request" (by its
  // "op"), "reply" (by its "kind") or "record" (a map nested in those).
  std::string channel;
  std::string name;
  std::vector<FieldSchema> fields;
};

// Every message type of both channels and every record they nest.
std::vector<MessageSchema> ProtocolSchema();

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_MESSAGE_SCHEMA_H_
