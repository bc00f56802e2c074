// broker/PROTOCOL.md agrees with the protocol's table in the code
// (broker/message_fields.h, read through broker::ProtocolSchema()): every
// message type and record has its field table there, and each row names
// the field's type, need and range exactly as the code reads and writes it.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "broker/audience_protocol.h"
#include "broker/message_schema.h"
#include "broker/protocol.h"

namespace orchestra::broker {
namespace {

struct DocRow {
  std::string name, type, need, range;
};

std::string Trim(const std::string& text) {
  const size_t begin = text.find_first_not_of(' ');
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(' ') - begin + 1);
}

std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream in(line.substr(1));  // after the leading '|'
  std::string cell;
  while (std::getline(in, cell, '|')) cells.push_back(Trim(cell));
  return cells;
}

// The rows of each table marked <!-- fields: CHANNEL/NAME --> in the doc.
std::map<std::string, std::vector<DocRow>> ReadDocTables() {
  const std::string here = __FILE__;
  std::ifstream in(here.substr(0, here.rfind('/')) + "/../broker/PROTOCOL.md");
  std::map<std::string, std::vector<DocRow>> tables;
  std::string line, current;
  const std::string marker = "<!-- fields: ";
  while (std::getline(in, line)) {
    if (line.rfind(marker, 0) == 0) {
      current = line.substr(marker.size(), line.find(" -->") - marker.size());
      tables[current];
      continue;
    }
    if (current.empty()) continue;
    if (line.empty() || line[0] != '|') {
      current.clear();
      continue;
    }
    std::vector<std::string> cells = Cells(line);
    if (cells.size() < 4 || cells[0] == "field" ||
        cells[0].rfind("---", 0) == 0)
      continue;
    std::string name = cells[0];
    if (name.size() > 2 && name.front() == '`' && name.back() == '`')
      name = name.substr(1, name.size() - 2);
    tables[current].push_back({name, cells[1], cells[2], cells[3]});
  }
  return tables;
}

TEST(ProtocolDocTest, EveryMessageHasItsTableAsTheCodeHasIt) {
  std::map<std::string, std::vector<DocRow>> doc = ReadDocTables();
  ASSERT_FALSE(doc.empty()) << "broker/PROTOCOL.md has no field tables";
  const std::vector<MessageSchema> schema = ProtocolSchema();
  for (const MessageSchema& message : schema) {
    const std::string id = message.channel + "/" + message.name;
    SCOPED_TRACE(id);
    auto it = doc.find(id);
    ASSERT_NE(doc.end(), it) << "no table marked <!-- fields: " << id
                             << " --> in broker/PROTOCOL.md";
    const std::vector<DocRow>& rows = it->second;
    ASSERT_EQ(message.fields.size(), rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      const FieldSchema& field = message.fields[i];
      EXPECT_EQ(field.name, rows[i].name);
      EXPECT_EQ(field.type, rows[i].type) << field.name;
      EXPECT_EQ(NeedText(field.need), rows[i].need) << field.name;
      EXPECT_EQ(field.range, rows[i].range) << field.name;
    }
    doc.erase(it);
  }
  for (const auto& [id, rows] : doc)
    ADD_FAILURE() << "the doc has a table for " << id
                  << ", which the code does not know";
}

// The schema describes every alternative of each channel's variant (so the
// doc test above covers every message the codecs read).
TEST(ProtocolDocTest, TheSchemaNamesEveryMessageType) {
  std::map<std::string, size_t> per_channel;
  for (const MessageSchema& message : ProtocolSchema())
    ++per_channel[message.channel];
  EXPECT_EQ(std::variant_size_v<PlayerMessage>, per_channel["player"]);
  EXPECT_EQ(std::variant_size_v<AudienceOp>, per_channel["request"]);
  EXPECT_EQ(std::variant_size_v<AudienceReplyBody>, per_channel["reply"]);
}

}  // namespace
}  // namespace orchestra::broker
