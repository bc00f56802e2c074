// Tests for conductor/config.h: defaults, every key of conductor.conf
// (DESIGN.md section 3), errors that name FILE:LINE and the fix, and the
// checks that span two keys.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "common/files.h"
#include "conductor/config.h"
#include "test/test_util.h"

namespace orchestra::conductor {
namespace {

using common::Result;

// Every key of conductor.conf, none at its default.
constexpr const char* kEveryKey =
    "player endpoint = tcp://10.0.0.5:7000\n"
    "audience endpoint = ipc:///nonexistent/a.sock, tcp://127.0.0.1:7001\n"
    "audience socket mode = 0640\n"
    "audience socket group = orchestra\n"
    "conductor secret key = /k/conductor.key\n"
    "player file path = /k/players\n"
    "audience keys file = /k/audience\n"
    "revoked keys file = /k/revoked\n"
    "database path = /db/c.db\n"
    "heartbeat interval = 500\n"
    "player timeout = 1000\n"
    "dispatch retry = 750\n"
    "default delivery timeout = 0\n"
    "retention days = 0.5\n"
    "log level = debug\n"
    "http endpoint = 10.0.0.5:8443\n"
    "http users file = /k/web-users\n"
    "http tls certificate = /k/web.crt\n"
    "http tls key = /k/web.key\n"
    "http connections = 16\n"
    "http timeout = 3\n";

// Lines whose value is wrong for their key.
constexpr const char* kBadLines[] = {
    "heartbeat interval = fast",
    "heartbeat interval = 5",
    "player timeout = -1",
    "dispatch retry = 1.5",
    "default delivery timeout = 1e3",
    "retention days = -1",
    "retention days = 36501",
    "audience socket mode = 0999",
    "audience socket mode = rw-rw----",
    "log level = loud",
    "player endpoint = ipc:///tmp/p",
    "player endpoint = 10.0.0.1:2258",
    "player endpoint = tcp://",
    "audience endpoint = ipc://",
    "audience endpoint = ipc://@orchestra",
    "audience endpoint = ipc://run/conductor.sock",
    "audience endpoint = ipc:///tmp/conductor.sock",  // /tmp: mode 1777
    "audience endpoint = http://x",
    "audience endpoint = ,",
    "http endpoint = 127.0.0.1",
    "http endpoint = web.example.com:2259",
    "http endpoint = 127.0.0.1:65536",
    "http endpoint = [::1:2259",
    "http connections = 0",
    "http connections = 5000",
    "http timeout = 0",
};

class ConductorConfigTest : public testing::Test {
 protected:
  std::string path() const { return dir_.File("conductor.conf"); }
  Result<ConductorConfig> Load(const std::string& content) {
    std::ofstream(path()) << content;
    return LoadConductorConfig(path());
  }
  // The error message of loading `content`; "" if it loaded.
  std::string Error(const std::string& content) {
    Result<ConductorConfig> config = Load(content);
    return config.ok() ? "" : config.status().message();
  }
  std::string Where(int line) const {
    return path() + ":" + std::to_string(line) + ": ";
  }

  test::TempDir dir_;
};

TEST_F(ConductorConfigTest, EmptyFileGivesTheDefaults) {
  Result<ConductorConfig> config = Load("# nothing set\n\n; nor here\n");
  ASSERT_OK(config.status());
  const ConductorConfig& c = config.value();
  EXPECT_EQ("tcp://*:2258", c.player_endpoint);
  EXPECT_EQ(std::vector<std::string>{"ipc:///run/orchestra/conductor.sock"},
            c.audience_endpoints);
  EXPECT_EQ(0660, c.audience_socket_mode);
  EXPECT_EQ("/etc/orchestra/players", c.players_file);
  EXPECT_EQ("/var/lib/orchestra/conductor.db", c.database_path);
  // Chosen for 10,000 idle players (tools/bench/load.cc measures them).
  EXPECT_EQ(10000, c.heartbeat_interval_ms);
  EXPECT_EQ(30000, c.player_timeout_ms);
  EXPECT_EQ(5000, c.dispatch_retry_ms);
  EXPECT_EQ(86400, c.default_delivery_timeout_s);
  EXPECT_EQ(30, c.retention_days);
  EXPECT_EQ("127.0.0.1:2259", c.http_endpoint);
  EXPECT_EQ("", c.http_users_file);
  EXPECT_EQ(64, c.http_connections);
}

TEST_F(ConductorConfigTest, SampleFileHoldsExactlyTheDefaults) {
  Result<ConductorConfig> config = LoadConductorConfig("etc/conductor.conf");
  ASSERT_OK(config.status());
  EXPECT_EQ(DescribeConfig(ConductorConfig()), DescribeConfig(config.value()));
}

TEST_F(ConductorConfigTest, EveryEndpointAndFileKeyIsParsed) {
  Result<ConductorConfig> config = Load(kEveryKey);
  ASSERT_OK(config.status());
  const ConductorConfig& c = config.value();
  EXPECT_EQ("tcp://10.0.0.5:7000", c.player_endpoint);
  EXPECT_EQ((std::vector<std::string>{"ipc:///nonexistent/a.sock",
                                      "tcp://127.0.0.1:7001"}),
            c.audience_endpoints);
  EXPECT_EQ("orchestra", c.audience_socket_group);
  EXPECT_EQ("/k/conductor.key", c.secret_key_file);
  EXPECT_EQ("/k/players", c.players_file);
  EXPECT_EQ("/k/audience", c.audience_keys_file);
  EXPECT_EQ("/k/revoked", c.revoked_keys_file);
  EXPECT_EQ("/db/c.db", c.database_path);
  EXPECT_EQ("10.0.0.5:8443", c.http_endpoint);
  EXPECT_EQ("/k/web-users", c.http_users_file);
  EXPECT_EQ("/k/web.crt", c.http_tls_certificate);
  EXPECT_EQ("/k/web.key", c.http_tls_key);
  EXPECT_EQ(16, c.http_connections);
  EXPECT_EQ(3, c.http_timeout_s);
}

TEST_F(ConductorConfigTest, EveryNumberAndLevelKeyIsParsed) {
  Result<ConductorConfig> config = Load(kEveryKey);
  ASSERT_OK(config.status());
  const ConductorConfig& c = config.value();
  EXPECT_EQ(0640, c.audience_socket_mode);
  EXPECT_EQ(500, c.heartbeat_interval_ms);
  EXPECT_EQ(1000, c.player_timeout_ms);
  EXPECT_EQ(750, c.dispatch_retry_ms);
  EXPECT_EQ(0, c.default_delivery_timeout_s);
  EXPECT_EQ(0.5, c.retention_days);
  EXPECT_EQ(common::LogLevel::kDebug, c.log_level);
}

TEST_F(ConductorConfigTest, KeysAreCaseInsensitiveAndMayHoldSpaces) {
  Result<ConductorConfig> config =
      Load("  Heartbeat   INTERVAL  =  250  \nDatabase Path=/x.db\n");
  ASSERT_OK(config.status());
  EXPECT_EQ(250, config.value().heartbeat_interval_ms);
  EXPECT_EQ("/x.db", config.value().database_path);
}

TEST_F(ConductorConfigTest, UnknownKeyNamesTheClosestKnownKey) {
  EXPECT_EQ(Where(2) +
                "unknown key 'hartbeat interval' (did you mean "
                "'heartbeat interval'?)",
            Error("# comment\nhartbeat interval = 500\n"));
}

TEST_F(ConductorConfigTest, UnknownKeyFarFromAnyKnownKeyHasNoSuggestion) {
  EXPECT_EQ(Where(1) + "unknown key 'colour'", Error("colour = blue\n"));
}

TEST_F(ConductorConfigTest, LineWithoutEqualsIsAnErrorNamingTheLine) {
  EXPECT_EQ(0u, Error("log level = info\nplayer timeout\n").find(Where(2)));
}

TEST_F(ConductorConfigTest, BadValuesAreErrorsNamingFileLineAndKey) {
  for (const std::string line : kBadLines) {
    std::string error = Error("# first\n" + line + "\n");
    const std::string key = line.substr(0, line.find(" ="));
    EXPECT_EQ(0u, error.find(Where(2) + "bad value for '" + key + "'"))
        << line << " -> " << error;
  }
}

TEST_F(ConductorConfigTest, KeyGivenTwiceIsAnError) {
  EXPECT_EQ(
      0u, Error("dispatch retry = 100\ndispatch retry = 200\n").find(Where(2)));
}

TEST_F(ConductorConfigTest, TcpAudienceEndpointNeedsAnAudienceKeysFile) {
  std::string error = Error("audience endpoint = tcp://*:2259\n");
  EXPECT_EQ(0u, error.find(path())) << error;
  EXPECT_NE(std::string::npos, error.find("audience keys file")) << error;
  EXPECT_EQ("", Error("audience endpoint = tcp://*:2259\n"
                      "audience keys file = /etc/orchestra/audience\n"));
}

// The web page leaves loopback only with TLS and users (DESIGN.md section
// 14); the error names the line of 'http endpoint'.
TEST_F(ConductorConfigTest, NonLoopbackWebEndpointNeedsTlsAndUsers) {
  const std::string tls =
      "http tls certificate = /k/c.pem\nhttp tls key = /k/k.pem\n";
  const std::string users = "http users file = /k/users\n";
  for (const std::string endpoint : {"0.0.0.0:2259", "*:2259", "[::]:2259",
                                     "10.1.2.3:80", "[2001:db8::1]:443"}) {
    const std::string line = "http endpoint = " + endpoint + "\n";
    for (const std::string& others : {std::string(), tls, users}) {
      std::string error = Error("# web\n" + others + line);
      const int at = others.empty() ? 2 : others == tls ? 4 : 3;
      EXPECT_EQ(0u, error.find(Where(at) + "bad value for 'http endpoint'"))
          << endpoint << ": " << error;
      EXPECT_NE(std::string::npos, error.find("not a loopback address"))
          << error;
    }
    EXPECT_EQ("", Error(tls + users + line)) << endpoint;
  }
  for (const std::string endpoint :
       {"127.0.0.1:2259", "localhost:2259", "[::1]:0", "127.9.9.9:1", ""})
    EXPECT_EQ("", Error("http endpoint = " + endpoint + "\n")) << endpoint;
}

TEST_F(ConductorConfigTest, WebTlsCertificateNeedsItsKey) {
  std::string error = Error("http tls certificate = /k/c.pem\n");
  EXPECT_EQ(0u, error.find(path())) << error;
  EXPECT_NE(std::string::npos, error.find("go together")) << error;
  error = Error("http tls key = /k/k.pem\n");
  EXPECT_NE(std::string::npos, error.find("go together")) << error;
}

TEST_F(ConductorConfigTest, PlayerTimeoutUnderTwiceTheHeartbeatIsAnError) {
  std::string error =
      Error("heartbeat interval = 1000\nplayer timeout = 1999\n");
  EXPECT_EQ(0u, error.find(path())) << error;
  EXPECT_NE(std::string::npos, error.find("twice")) << error;
  EXPECT_EQ("", Error("heartbeat interval = 1000\nplayer timeout = 2000\n"));
}

// ipc://@name is an abstract socket: every local user can connect, whatever
// `audience socket mode` says.
TEST_F(ConductorConfigTest, AbstractAudienceSocketIsRefusedWithTheFix) {
  std::string error = Error("log level = info\naudience endpoint = ipc://@x\n");
  EXPECT_EQ(0u, error.find(Where(2) + "bad value for 'audience endpoint': "
                                      "'ipc://@x' is an abstract socket"))
      << error;
  EXPECT_NE(std::string::npos,
            error.find("ipc:///run/orchestra/conductor.sock"))
      << error;
}

TEST_F(ConductorConfigTest, AudienceSocketInAWorldWritableDirectoryIsRefused) {
  ASSERT_OK(common::MakeDirectories(dir_.File("open"), 0755));
  ASSERT_EQ(0, ::chmod(dir_.File("open").c_str(), 0777));
  std::string error =
      Error("audience endpoint = ipc://" + dir_.File("open/c.sock") + "\n");
  EXPECT_EQ(0u, error.find(Where(1) + "bad value for 'audience endpoint'"))
      << error;
  EXPECT_NE(std::string::npos,
            error.find("writable by group or others (mode 0777)"))
      << error;
  ASSERT_EQ(0, ::chmod(dir_.File("open").c_str(), 0755));
  EXPECT_EQ("", Error("audience endpoint = ipc://" + dir_.File("open/c.sock") +
                      "\n"));
}

TEST_F(ConductorConfigTest, MissingFileIsNotFound) {
  EXPECT_EQ(common::Status::Code::kNotFound,
            LoadConductorConfig(dir_.File("absent.conf")).status().code());
}

TEST_F(ConductorConfigTest, DescribeConfigPrintsEveryEffectiveSetting) {
  Result<ConductorConfig> config =
      Load("audience socket mode = 0600\nretention days = 0.25\n");
  ASSERT_OK(config.status());
  std::string text = DescribeConfig(config.value());
  EXPECT_NE(std::string::npos, text.find("audience socket mode = 0600\n"));
  EXPECT_NE(std::string::npos, text.find("retention days = 0.25\n"));
  EXPECT_NE(std::string::npos, text.find("log level = info\n"));
  EXPECT_NE(std::string::npos, text.find("database engine = sqlite\n"));
  EXPECT_EQ(22, std::count(text.begin(), text.end(), '\n'));
}

TEST_F(ConductorConfigTest, ACellNamesItsAddressAndPeers) {
  Result<ConductorConfig> config = Load(
      "database engine = dqlite\ncell address = 10.0.0.1:9001\n"
      "cell peers = 10.0.0.2:9001, cell-3.example:9001\n");
  ASSERT_OK(config.status());
  EXPECT_EQ("dqlite", config.value().database_engine);
  EXPECT_EQ("10.0.0.1:9001", config.value().cell_address);
  EXPECT_EQ((std::vector<std::string>{"10.0.0.2:9001", "cell-3.example:9001"}),
            config.value().cell_peers);
  std::string text = DescribeConfig(config.value());
  EXPECT_NE(std::string::npos,
            text.find("cell peers = 10.0.0.2:9001,cell-3.example:9001\n"));
}

TEST_F(ConductorConfigTest, ABadCellIsRefusedWithTheReason) {
  struct Case {
    const char* text;
    const char* says;
  };
  for (const Case& c : {
           Case{"database engine = postgres\n", "give sqlite or dqlite"},
           Case{"database engine = dqlite\n", "needs 'cell address'"},
           Case{"cell address = 10.0.0.1:9001\ncell peers = 10.0.0.2:9001\n",
                "need 'database engine = dqlite'"},
           Case{"database engine = dqlite\ncell address = 10.0.0.1\n"
                "cell peers = 10.0.0.2:9001\n",
                "host:port"},
           Case{"database engine = dqlite\ncell address = 10.0.0.1:70000\n"
                "cell peers = 10.0.0.2:9001\n",
                "1 to 65535"},
           Case{"database engine = dqlite\ncell address = 10.0.0.1:9001\n"
                "cell peers = 10.0.0.1:9001\n",
                "own 'cell address'"},
           Case{"database engine = dqlite\ncell address = 10.0.0.1:9001\n"
                "cell peers = a:1,b:1,c:1,d:1,e:1,f:1,g:1\n",
                "1 to 6"},
       }) {
    Result<ConductorConfig> config = Load(c.text);
    ASSERT_FALSE(config.ok()) << c.text;
    EXPECT_NE(std::string::npos, config.status().message().find(c.says))
        << c.text << " -> " << config.status().ToString();
  }
}

// Found by the conductor_config fuzz target: a small fraction of a day (the
// e2e tests' retention days = 0.00001) was described as "1e-05", which
// --check-config printed and the loader refuses.
TEST_F(ConductorConfigTest, DescribedSettingsLoadAgainAsTheSameSettings) {
  for (const char* days : {"0.00001", "0.1", "30", "36500", "0.3333333333"}) {
    Result<ConductorConfig> config =
        Load(std::string("retention days = ") + days + "\n");
    ASSERT_OK(config.status());
    const std::string described = DescribeConfig(config.value());
    EXPECT_NE(std::string::npos,
              described.find(std::string("retention days = ") + days + "\n"));
    Result<ConductorConfig> again = Load(described);
    ASSERT_OK(again.status());
    EXPECT_EQ(config.value().retention_days, again.value().retention_days);
  }
}

}  // namespace
}  // namespace orchestra::conductor
