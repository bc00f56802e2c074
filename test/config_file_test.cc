// Tests for common/config_file.h: the original Orchestra's `key = value`
// syntax and the typed reader with its "FILE:LINE: what" errors.

#include "common/config_file.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "test/test_util.h"

namespace orchestra::common {
namespace {

class ConfigFileTest : public testing::Test {
 protected:
  // Parses `text` as "conductor.conf"; the test fails if that fails.
  void Load(const std::string& text) {
    Result<ConfigFile> file = ConfigFile::Parse("conductor.conf", text);
    ASSERT_OK(file.status());
    file_ = std::move(file.value());
    reader_.emplace(file_);
  }
  // The message of a parse error for `text` (empty if it parsed).
  static std::string ParseError(const std::string& text) {
    return ConfigFile::Parse("conductor.conf", text).status().message();
  }
  // Reads "heartbeat interval" as an int in [1, 60000] and finishes.
  Status ReadHeartbeat(int64_t* value) {
    reader_->Int("heartbeat interval", 1, 60000, value);
    return reader_->Finish();
  }

  ConfigFile file_;
  std::optional<ConfigReader> reader_;
};

TEST_F(ConfigFileTest, KeysAreCaseInsensitiveWithInnerSpaces) {
  Load("Player  Endpoint = tcp://*:2258\n");
  std::string endpoint;
  reader_->String("player endpoint", &endpoint);
  EXPECT_OK(reader_->Finish());
  EXPECT_EQ("tcp://*:2258", endpoint);
}

TEST_F(ConfigFileTest, ReaderKeyIsNormalisedToo) {
  Load("database path = /var/lib/orchestra/conductor.db\n");
  std::string path;
  reader_->String("Database   PATH", &path);
  EXPECT_OK(reader_->Finish());
  EXPECT_EQ("/var/lib/orchestra/conductor.db", path);
}

TEST_F(ConfigFileTest, CommentsAndBlankLinesAreSkipped) {
  Load("# a comment\n; another one\n   # indented\n\n  \t\nslots = 4\n");
  ASSERT_EQ(1u, file_.entries().size());
  EXPECT_EQ("slots", file_.entries()[0].key);
  EXPECT_EQ(6, file_.entries()[0].line);
}

TEST_F(ConfigFileTest, ValueIsEverythingAfterTheFirstEqualsTrimmed) {
  Load("audience endpoint =  ipc:///run/x?a=b , tcp://h:1 = 2  \n");
  EXPECT_EQ("ipc:///run/x?a=b , tcp://h:1 = 2", file_.entries()[0].value);
}

// The original had no inline comments; a '#' after a value is part of it.
TEST_F(ConfigFileTest, HashAfterAValueIsPartOfTheValue) {
  Load("player name = web-3 # the primary\n");
  std::string name;
  reader_->String("player name", &name);
  EXPECT_OK(reader_->Finish());
  EXPECT_EQ("web-3 # the primary", name);
}

TEST_F(ConfigFileTest, EmptyValueIsAllowedForOptionalStrings) {
  Load("audience socket group =\n");
  std::string group = "orchestra";
  reader_->String("audience socket group", &group);
  EXPECT_OK(reader_->Finish());
  EXPECT_EQ("", group);
}

TEST_F(ConfigFileTest, WindowsLineEndingsAreTrimmed) {
  Load("player name = web-3\r\nslots = 2\r\n");
  EXPECT_EQ("web-3", file_.entries()[0].value);
  EXPECT_EQ("2", file_.entries()[1].value);
}

TEST_F(ConfigFileTest, LineWithoutEqualsNamesFileAndLine) {
  std::string error = ParseError("slots = 4\n\nheartbeat interval 5000\n");
  EXPECT_NE(std::string::npos, error.find("conductor.conf:3:")) << error;
  EXPECT_NE(std::string::npos, error.find("heartbeat interval 5000")) << error;
}

TEST_F(ConfigFileTest, LineWithOnlyAValueIsAnError) {
  std::string error = ParseError("  = 5\n");
  EXPECT_NE(std::string::npos, error.find("conductor.conf:1:")) << error;
  EXPECT_NE(std::string::npos, error.find("key")) << error;
}

TEST_F(ConfigFileTest, DuplicateKeyNamesBothLines) {
  std::string error = ParseError("slots = 1\n# x\nSLOTS = 2\n");
  EXPECT_NE(std::string::npos, error.find("conductor.conf:3:")) << error;
  EXPECT_NE(std::string::npos, error.find("line 1")) << error;
}

TEST_F(ConfigFileTest, UnknownKeySuggestsTheClosestKnownKey) {
  Load("slots = 4\nhartbeat interval = 5000\n");
  int64_t heartbeat = 1000;
  reader_->Int("slots", 1, 100, &heartbeat);
  EXPECT_EQ(
      "conductor.conf:2: unknown key 'hartbeat interval' "
      "(did you mean 'heartbeat interval'?)",
      ReadHeartbeat(&heartbeat).message());
}

TEST_F(ConfigFileTest, UnknownKeyFarFromAnyKnownKeyHasNoSuggestion) {
  Load("colour = blue\n");
  int64_t heartbeat = 1000;
  Status s = ReadHeartbeat(&heartbeat);
  EXPECT_EQ(Status::Code::kInvalidArgument, s.code());
  EXPECT_EQ("conductor.conf:1: unknown key 'colour'", s.message());
}

TEST_F(ConfigFileTest, IntValueIsParsed) {
  Load("heartbeat interval = 5000\n");
  int64_t heartbeat = 1000;
  EXPECT_OK(ReadHeartbeat(&heartbeat));
  EXPECT_EQ(5000, heartbeat);
}

TEST_F(ConfigFileTest, MissingOptionalKeyKeepsTheDefault) {
  Load("");
  int64_t heartbeat = 1000;
  int slots = 4;
  reader_->Int("slots", 1, 4096, &slots);
  EXPECT_OK(ReadHeartbeat(&heartbeat));
  EXPECT_EQ(1000, heartbeat);
  EXPECT_EQ(4, slots);
}

TEST_F(ConfigFileTest, BadIntNamesFileLineKeyAndRange) {
  for (const char* bad : {"fast", "", "5000ms", "-5", "60001", "1.5"}) {
    Load(std::string("# c\nheartbeat interval = ") + bad + "\n");
    int64_t heartbeat = 1000;
    std::string error = ReadHeartbeat(&heartbeat).message();
    EXPECT_NE(std::string::npos, error.find("conductor.conf:2: bad value for "
                                            "'heartbeat interval'"))
        << error;
    EXPECT_NE(std::string::npos, error.find("1 to 60000")) << error;
    EXPECT_EQ(1000, heartbeat);
  }
}

TEST_F(ConfigFileTest, IntOverloadForIntFieldsChecksTheRange) {
  Load("slots = 5000\n");
  int slots = 4;
  reader_->Int("slots", 1, 4096, &slots);
  EXPECT_FALSE(reader_->Finish().ok());
  EXPECT_EQ(4, slots);
}

TEST_F(ConfigFileTest, NumberAcceptsFractions) {
  Load("retention days = 0.5\n");
  double days = 30;
  reader_->Number("retention days", 0, 36500, &days);
  EXPECT_OK(reader_->Finish());
  EXPECT_DOUBLE_EQ(0.5, days);
}

TEST_F(ConfigFileTest, BadNumberIsRejected) {
  for (const char* bad :
       {"-1", "1e3", ".", "1.2.3", "", "thirty", "nan", "40000"}) {
    Load(std::string("retention days = ") + bad + "\n");
    double days = 30;
    reader_->Number("retention days", 0, 36500, &days);
    Status s = reader_->Finish();
    EXPECT_NE(std::string::npos,
              s.message().find("conductor.conf:1: bad value for "
                               "'retention days'"))
        << bad << ": " << s.ToString();
    EXPECT_DOUBLE_EQ(30, days);
  }
}

TEST_F(ConfigFileTest, ModeIsOctal) {
  Load("audience socket mode = 0660\n");
  int mode = 0;
  reader_->Mode("audience socket mode", &mode);
  EXPECT_OK(reader_->Finish());
  EXPECT_EQ(0660, mode);
}

TEST_F(ConfigFileTest, BadModeIsRejected) {
  for (const char* bad : {"0990", "rw-rw----", "01234", "", "0x1b0"}) {
    Load(std::string("audience socket mode = ") + bad + "\n");
    int mode = 0660;
    reader_->Mode("audience socket mode", &mode);
    Status s = reader_->Finish();
    EXPECT_NE(std::string::npos, s.message().find("conductor.conf:1:"))
        << bad << ": " << s.ToString();
    EXPECT_EQ(0660, mode);
  }
}

TEST_F(ConfigFileTest, LogLevelIsAnyCase) {
  Load("log level = DEBUG\n");
  LogLevel level = LogLevel::kInfo;
  reader_->Level("log level", &level);
  EXPECT_OK(reader_->Finish());
  EXPECT_EQ(LogLevel::kDebug, level);
}

TEST_F(ConfigFileTest, BadLogLevelListsTheChoices) {
  Load("log level = verbose\n");
  LogLevel level = LogLevel::kInfo;
  reader_->Level("log level", &level);
  std::string error = reader_->Finish().message();
  EXPECT_NE(std::string::npos, error.find("conductor.conf:1:")) << error;
  EXPECT_NE(std::string::npos, error.find("error, warning, info, debug"));
  EXPECT_EQ(LogLevel::kInfo, level);
}

TEST_F(ConfigFileTest, MissingRequiredKeyNamesFileAndKey) {
  Load("slots = 4\n");
  std::string name;
  int slots = 1;
  reader_->Int("slots", 1, 10, &slots);
  reader_->String("Player Name", &name, ConfigReader::kRequired);
  Status s = reader_->Finish();
  EXPECT_EQ(Status::Code::kInvalidArgument, s.code());
  EXPECT_EQ("conductor.conf: missing required key 'player name'", s.message());
}

TEST_F(ConfigFileTest, RequiredStringMustNotBeEmpty) {
  Load("player name =\n");
  std::string name;
  reader_->String("player name", &name, ConfigReader::kRequired);
  EXPECT_NE(std::string::npos,
            reader_->Finish().message().find("conductor.conf:1:"));
}

TEST_F(ConfigFileTest, CustomParserErrorFollowsTheKey) {
  Load("\nconductor endpoint = udp://x\n");
  reader_->Custom("conductor endpoint", [](std::string_view value) {
    return Status::InvalidArgument(
        "", "'" + std::string(value) + "' is not a tcp:// endpoint");
  });
  EXPECT_EQ(
      "conductor.conf:2: bad value for 'conductor endpoint': "
      "'udp://x' is not a tcp:// endpoint",
      reader_->Finish().message());
}

TEST_F(ConfigFileTest, FirstErrorWins) {
  Load("slots = many\nkill grace = soon\n");
  int slots = 4, grace = 5;
  reader_->Int("slots", 1, 100, &slots);
  reader_->Int("kill grace", 0, 100, &grace);
  EXPECT_NE(std::string::npos,
            reader_->Finish().message().find("conductor.conf:1:"));
}

TEST_F(ConfigFileTest, ReadsAFileFromDisk) {
  test::TempDir dir;
  std::ofstream(dir.File("player.conf")) << "Slots = 8\n";
  Result<ConfigFile> file = ConfigFile::Read(dir.File("player.conf"));
  ASSERT_OK(file.status());
  EXPECT_EQ(dir.File("player.conf"), file.value().path());
  EXPECT_EQ("8", file.value().entries().at(0).value);
}

TEST_F(ConfigFileTest, MissingFileIsNotFound) {
  test::TempDir dir;
  Result<ConfigFile> file = ConfigFile::Read(dir.File("absent.conf"));
  EXPECT_EQ(Status::Code::kNotFound, file.status().code());
  EXPECT_NE(std::string::npos,
            file.status().message().find(dir.File("absent.conf")));
}

// `--config /etc/orchestra/` must not start a daemon on all defaults.
TEST_F(ConfigFileTest, DirectoryIsNotAConfigFile) {
  test::TempDir dir;
  Result<ConfigFile> file = ConfigFile::Read(dir.path());
  EXPECT_FALSE(file.ok());
  EXPECT_NE(std::string::npos, file.status().message().find(dir.path()));
}

}  // namespace
}  // namespace orchestra::common
