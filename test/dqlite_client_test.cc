// Tests for conductor/dqlite_client.h against real dqlite nodes started in
// this process (libdqlite's node API, on free loopback ports): the
// handshake, LEADER and CLUSTER, EXEC_SQL and QUERY_SQL with every value
// type, transactions, results in many ROWS parts and the caller's byte
// limit, SQL errors, a second node joining as a voter, a follower's "not
// leader", and a node stopped mid-transaction. A silent peer and a scripted
// hostile one check the deadline and the parsing of bad responses.

#include "conductor/dqlite_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "test/test_util.h"

extern "C" {  // dqlite.h declares C functions without saying so
#include <dqlite.h>
}

namespace orchestra::conductor {
namespace {

using common::Result;
using common::Status;
using common::UniqueFd;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kTimeout{3000};

// A loopback socket bound to a port the kernel picked; listening if
// `listen` (a peer that never answers), else only to learn a free port.
UniqueFd BoundSocket(bool listen, int* port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof addr;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), size) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &size) != 0 ||
      (listen && ::listen(fd.get(), 4) != 0))
    return UniqueFd();
  *port = ntohs(addr.sin_port);
  return fd;
}

std::string FreeAddress() {
  int port = 0;
  UniqueFd fd = BoundSocket(false, &port);
  EXPECT_TRUE(fd.valid());
  return "127.0.0.1:" + std::to_string(port);
}

// A dqlite node of this process with its own port and directory. Node 1
// bootstraps a one-node cluster; others wait to be added.
class Node {
 public:
  explicit Node(uint64_t id) : id_(id), address_(FreeAddress()) {}
  ~Node() {
    Stop();
    if (node_ != nullptr) dqlite_node_destroy(node_);
  }

  bool Start() {
    // Raft's threads write to peers that may have gone (EPIPE): a process
    // that hosts a node ignores SIGPIPE.
    ::signal(SIGPIPE, SIG_IGN);
    if (dqlite_node_create(id_, address_.c_str(), dir_.path().c_str(),
                           &node_) != 0 ||
        dqlite_node_set_bind_address(node_, address_.c_str()) != 0 ||
        dqlite_node_set_network_latency_ms(node_, 10) != 0 ||
        dqlite_node_start(node_) != 0)
      return false;
    started_ = true;
    return true;
  }
  // Stops the node; it closes every client connection.
  void Stop() {
    if (started_) dqlite_node_stop(node_);
    started_ = false;
  }

  uint64_t id() const { return id_; }
  const std::string& address() const { return address_; }

 private:
  uint64_t id_;
  std::string address_;
  test::TempDir dir_;
  dqlite_node* node_ = nullptr;
  bool started_ = false;
};

// Asks `client` for the leader until it names `node` or 10 s pass.
bool WaitForLeader(DqliteClient* client, const Node& node) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    Result<DqliteNode> leader = client->Leader();
    if (!leader.ok()) return false;
    if (leader.value().id == node.id()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return false;
}

int64_t Int(const StoreValue& v) {
  const int64_t* n = std::get_if<int64_t>(&v);
  EXPECT_NE(n, nullptr);
  return n ? *n : -1;
}

std::string Text(const StoreValue& v) {
  const std::string* s = std::get_if<std::string>(&v);
  EXPECT_NE(s, nullptr);
  return s ? *s : "<not text>";
}

class DqliteClientTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(leader_.Start());
    ASSERT_OK(client_.Connect(leader_.address(), kTimeout));
    ASSERT_TRUE(WaitForLeader(&client_, leader_));
    ASSERT_OK(client_.Open("test"));
  }

  // The single integer `sql` returns.
  int64_t Scalar(const std::string& sql) {
    Result<DqliteRows> rows = client_.Query(sql);
    EXPECT_OK(rows.status());
    if (!rows.ok() || rows.value().rows.size() != 1) return -1;
    return Int(rows.value().rows[0][0]);
  }

  // Starts node 2 and makes it a voter through the leader.
  void JoinSecondNode() {
    ASSERT_TRUE(follower_.Start());
    ASSERT_OK(client_.Add(follower_.id(), follower_.address()));
    ASSERT_OK(client_.Assign(follower_.id(), 0));
  }

  Node leader_{1};
  Node follower_{2};
  DqliteClient client_;
};

TEST_F(DqliteClientTest, LeaderNamesTheBootstrappedNode) {
  Result<DqliteNode> leader = client_.Leader();
  ASSERT_OK(leader.status());
  EXPECT_EQ(leader.value().id, 1u);
  EXPECT_EQ(leader.value().address, leader_.address());
}

TEST_F(DqliteClientTest, ExecAndQueryCarryEveryType) {
  ASSERT_OK(client_
                .Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, i INTEGER, "
                      "f REAL, s TEXT, n TEXT)")
                .status());
  const std::vector<StoreValue> params = {int64_t{-9007199254740993}, 2.5,
                                          std::string("héllo\nworld"),
                                          std::monostate()};
  Result<DqliteExecResult> first =
      client_.Exec("INSERT INTO t(i, f, s, n) VALUES (?1, ?2, ?3, ?4)", params);
  ASSERT_OK(first.status());
  EXPECT_EQ(first.value().last_insert_id, 1);
  EXPECT_EQ(first.value().rows_affected, 1);
  Result<DqliteExecResult> second =
      client_.Exec("INSERT INTO t(i, f, s, n) VALUES (?, ?, ?, ?)", params);
  ASSERT_OK(second.status());
  EXPECT_EQ(second.value().last_insert_id, 2);
  Result<DqliteExecResult> update = client_.Exec("UPDATE t SET i = i + 1");
  ASSERT_OK(update.status());
  EXPECT_EQ(update.value().rows_affected, 2);

  Result<DqliteRows> rows = client_.Query(
      "SELECT i, f, s, n, x'00ff41' AS b FROM t WHERE id = ?", {int64_t{2}});
  ASSERT_OK(rows.status());
  const DqliteRows& r = rows.value();
  EXPECT_EQ(r.columns, (std::vector<std::string>{"i", "f", "s", "n", "b"}));
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_FALSE(r.truncated);
  EXPECT_EQ(Int(r.rows[0][0]), -9007199254740992);
  ASSERT_TRUE(std::holds_alternative<double>(r.rows[0][1]));
  EXPECT_EQ(std::get<double>(r.rows[0][1]), 2.5);
  EXPECT_EQ(Text(r.rows[0][2]), "héllo\nworld");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(r.rows[0][3]));
  EXPECT_EQ(Text(r.rows[0][4]), std::string("\0\xff"
                                            "A",
                                            3));
}

// Columns declared DATETIME and BOOLEAN come back as dqlite's own types
// (unixtime, iso8601, boolean): integers and text.
TEST_F(DqliteClientTest, TimeAndBooleanColumnsDecode) {
  ASSERT_OK(client_
                .Exec("CREATE TABLE times(d DATETIME, e DATETIME, "
                      "flag BOOLEAN)")
                .status());
  ASSERT_OK(
      client_
          .Exec("INSERT INTO times VALUES (?, ?, ?)",
                {int64_t{1700000000}, std::string("2024-01-02"), int64_t{1}})
          .status());
  Result<DqliteRows> rows = client_.Query("SELECT d, e, flag FROM times");
  ASSERT_OK(rows.status());
  ASSERT_EQ(rows.value().rows.size(), 1u);
  const std::vector<StoreValue>& row = rows.value().rows[0];
  EXPECT_EQ(Int(row[0]), 1700000000);
  EXPECT_EQ(Text(row[1]), "2024-01-02");
  EXPECT_EQ(Int(row[2]), 1);
}

TEST_F(DqliteClientTest, TransactionsCommitAndRollBack) {
  ASSERT_OK(client_.Exec("CREATE TABLE t(x INTEGER)").status());
  ASSERT_OK(client_.Exec("BEGIN").status());
  ASSERT_OK(client_.Exec("INSERT INTO t VALUES (1)").status());
  ASSERT_OK(client_.Exec("INSERT INTO t VALUES (2)").status());
  EXPECT_EQ(Scalar("SELECT count(*) FROM t"), 2);  // its own writes
  ASSERT_OK(client_.Exec("COMMIT").status());
  EXPECT_EQ(Scalar("SELECT count(*) FROM t"), 2);

  ASSERT_OK(client_.Exec("BEGIN").status());
  ASSERT_OK(client_.Exec("INSERT INTO t VALUES (3)").status());
  ASSERT_OK(client_.Exec("DELETE FROM t WHERE x = 1").status());
  ASSERT_OK(client_.Exec("ROLLBACK").status());
  EXPECT_EQ(Scalar("SELECT sum(x) FROM t"), 3);
  // Several statements in one EXEC_SQL run in order.
  ASSERT_OK(client_
                .Exec("BEGIN; INSERT INTO t VALUES (10); "
                      "INSERT INTO t VALUES (20); COMMIT")
                .status());
  EXPECT_EQ(Scalar("SELECT sum(x) FROM t"), 33);
}

// A node sends rows in parts of about a memory page: 100000 rows take
// hundreds of ROWS messages.
TEST_F(DqliteClientTest, ManyRowsComeInPartsAndTheLimitTruncates) {
  ASSERT_OK(client_.Exec("CREATE TABLE big(n INTEGER, s TEXT)").status());
  ASSERT_OK(client_
                .Exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
                      "FROM c WHERE x < 100000) "
                      "INSERT INTO big SELECT x, printf('row %d', x) FROM c")
                .status());
  Result<DqliteRows> all = client_.Query("SELECT n, s FROM big ORDER BY n");
  ASSERT_OK(all.status());
  ASSERT_EQ(all.value().rows.size(), 100000u);
  EXPECT_FALSE(all.value().truncated);
  for (size_t i = 0; i < all.value().rows.size(); i += 9999) {
    EXPECT_EQ(Int(all.value().rows[i][0]), static_cast<int64_t>(i + 1));
    EXPECT_EQ(Text(all.value().rows[i][1]), "row " + std::to_string(i + 1));
  }

  // Each value counts a StoreValue and its text.
  size_t fit = 0;
  for (size_t used = 0;; ++fit) {
    const size_t row =
        2 * sizeof(StoreValue) + 4 + std::to_string(fit + 1).size();
    if (used + row > 1000) break;
    used += row;
  }
  ASSERT_GT(fit, 5u);
  Result<DqliteRows> some =
      client_.Query("SELECT n, s FROM big ORDER BY n", {}, 1000);
  ASSERT_OK(some.status());
  EXPECT_TRUE(some.value().truncated);
  ASSERT_EQ(some.value().rows.size(), fit);
  EXPECT_EQ(Int(some.value().rows[fit - 1][0]), static_cast<int64_t>(fit));
  // The rest was drained: the connection answers the next request.
  EXPECT_EQ(Scalar("SELECT count(*) FROM big"), 100000);

  // Texts bigger than a page each come in their own parts.
  const std::string big(20000, 'x');
  ASSERT_OK(client_.Exec("CREATE TABLE texts(s TEXT)").status());
  for (int i = 0; i < 5; ++i)
    ASSERT_OK(client_.Exec("INSERT INTO texts VALUES (?)", {big}).status());
  Result<DqliteRows> texts = client_.Query("SELECT s FROM texts");
  ASSERT_OK(texts.status());
  ASSERT_EQ(texts.value().rows.size(), 5u);
  EXPECT_EQ(Text(texts.value().rows[4][0]), big);
}

TEST_F(DqliteClientTest, SqlErrorIsTheNodesAndTheConnectionStays) {
  Result<DqliteExecResult> bad = client_.Exec("CREAT TABLE t(x)");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("syntax error"), std::string::npos)
      << bad.status().ToString();
  EXPECT_FALSE(DqliteClient::IsNotLeader(bad.status()));
  Result<DqliteRows> missing = client_.Query("SELECT * FROM nowhere");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no such table"), std::string::npos)
      << missing.status().ToString();
  EXPECT_TRUE(client_.connected());
  EXPECT_EQ(Scalar("SELECT 41 + 1"), 42);
}

TEST_F(DqliteClientTest, ClusterListsTheNode) {
  Result<std::vector<DqliteNode>> nodes = client_.Cluster();
  ASSERT_OK(nodes.status());
  ASSERT_EQ(nodes.value().size(), 1u);
  EXPECT_EQ(nodes.value()[0].id, 1u);
  EXPECT_EQ(nodes.value()[0].address, leader_.address());
  EXPECT_EQ(nodes.value()[0].role, 0);
}

TEST_F(DqliteClientTest, SecondNodeJoinsAsVoter) {
  JoinSecondNode();
  Result<std::vector<DqliteNode>> nodes = client_.Cluster();
  ASSERT_OK(nodes.status());
  ASSERT_EQ(nodes.value().size(), 2u);
  EXPECT_EQ(nodes.value()[1].id, 2u);
  EXPECT_EQ(nodes.value()[1].address, follower_.address());
  for (const DqliteNode& node : nodes.value()) EXPECT_EQ(node.role, 0);
  // The node that joined learns who leads.
  DqliteClient other;
  ASSERT_OK(other.Connect(follower_.address(), kTimeout));
  EXPECT_TRUE(WaitForLeader(&other, leader_));
}

TEST_F(DqliteClientTest, FollowerAnswersNotLeader) {
  JoinSecondNode();
  ASSERT_OK(client_.Exec("CREATE TABLE t(x INTEGER)").status());
  DqliteClient other;
  ASSERT_OK(other.Connect(follower_.address(), kTimeout));
  ASSERT_OK(other.Open("test"));
  Result<DqliteExecResult> exec = other.Exec("INSERT INTO t VALUES (1)");
  ASSERT_FALSE(exec.ok());
  EXPECT_TRUE(DqliteClient::IsNotLeader(exec.status()))
      << exec.status().ToString();
  EXPECT_EQ(exec.status().code(), Status::Code::kUnavailable);
  Result<DqliteRows> query = other.Query("SELECT x FROM t");
  EXPECT_TRUE(DqliteClient::IsNotLeader(query.status()))
      << query.status().ToString();
  EXPECT_FALSE(DqliteClient::IsNotLeader(Status()));
  // A node's answer, not a broken connection.
  EXPECT_TRUE(other.connected());
  EXPECT_OK(other.Cluster().status());
}

TEST_F(DqliteClientTest, NodeStoppedMidTransactionEndsTheConnection) {
  ASSERT_OK(client_.Exec("CREATE TABLE t(x INTEGER)").status());
  ASSERT_OK(client_.Exec("BEGIN").status());
  ASSERT_OK(client_.Exec("INSERT INTO t VALUES (1)").status());
  leader_.Stop();
  const auto start = Clock::now();
  Result<DqliteExecResult> commit = client_.Exec("COMMIT");
  EXPECT_LT(Clock::now() - start, kTimeout / 2);  // promptly, not at the end
  ASSERT_FALSE(commit.ok());
  EXPECT_EQ(commit.status().code(), Status::Code::kUnavailable);
  EXPECT_FALSE(DqliteClient::IsNotLeader(commit.status()));
  EXPECT_FALSE(client_.connected());
  Result<DqliteNode> later = client_.Leader();
  EXPECT_EQ(later.status().what(), "not connected");
}

TEST(DqliteClientPeerTest, SilentPeerFailsWithinTheTimeout) {
  int port = 0;
  UniqueFd listener = BoundSocket(true, &port);  // never accepts, never reads
  ASSERT_TRUE(listener.valid());
  DqliteClient client;
  const auto start = Clock::now();
  Status s =
      client.Connect("127.0.0.1:" + std::to_string(port), milliseconds(300));
  const auto took = Clock::now() - start;
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("no answer within 300 ms"), std::string::npos)
      << s.ToString();
  EXPECT_GE(took, milliseconds(290));
  EXPECT_LT(took, milliseconds(2000));
  EXPECT_FALSE(client.connected());
  EXPECT_EQ(client.Leader().status().what(), "not connected");
}

TEST(DqliteClientPeerTest, RefusedConnectionIsUnavailable) {
  DqliteClient client;
  Status s = client.Connect(FreeAddress(), milliseconds(500));
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
  EXPECT_EQ(client.Connect("no-port", milliseconds(500)).code(),
            Status::Code::kInvalidArgument);
}

// A message as a node writes it: the header, then the body.
std::string Message(uint8_t type, const std::string& body) {
  std::string m(8, '\0');
  const uint32_t words = static_cast<uint32_t>(body.size() / 8);
  std::memcpy(m.data(), &words, 4);  // little-endian, as on x86 and arm64
  m[4] = static_cast<char>(type);
  return m + body;
}

std::string Word(uint64_t v) {
  std::string w(8, '\0');
  std::memcpy(w.data(), &v, 8);
  return w;
}

const std::string kWelcome = Message(2, Word(15000));
const std::string kDb = Message(4, Word(0));

// A peer that answers each request with the next of `script`, as raw
// bytes, then closes the connection.
class ScriptedPeer {
 public:
  // With `repeat_last`, the last answer is sent again and again until the
  // client goes.
  explicit ScriptedPeer(std::vector<std::string> script,
                        bool repeat_last = false)
      : listener_(BoundSocket(true, &port_)),
        repeat_last_(repeat_last),
        thread_([this, script = std::move(script)] { Serve(script); }) {}
  ~ScriptedPeer() {
    stop_ = true;
    thread_.join();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  // Reads exactly `size` bytes, giving up when stopped.
  bool Read(int fd, char* data, size_t size) {
    size_t done = 0;
    while (done < size && !stop_) {
      pollfd item{fd, POLLIN, 0};
      if (::poll(&item, 1, 20) <= 0) continue;
      const ssize_t n = ::recv(fd, data + done, size - done, 0);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return done == size;
  }

  // Writes all of `data`, giving up when stopped or the client is gone.
  bool Write(int fd, const std::string& data) {
    size_t done = 0;
    while (done < data.size() && !stop_) {
      pollfd item{fd, POLLOUT, 0};
      if (::poll(&item, 1, 20) <= 0) continue;
      const ssize_t n = ::send(fd, data.data() + done, data.size() - done,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno != EAGAIN) return false;
      if (n > 0) done += static_cast<size_t>(n);
    }
    return done == data.size();
  }

  void Serve(const std::vector<std::string>& script) {
    pollfd item{listener_.get(), POLLIN, 0};
    while (!stop_ && ::poll(&item, 1, 20) == 0) {
    }
    if (stop_) return;
    UniqueFd fd(::accept(listener_.get(), nullptr, nullptr));
    char version[8];
    if (!Read(fd.get(), version, sizeof version)) return;
    for (const std::string& answer : script) {
      char header[8];
      if (!Read(fd.get(), header, sizeof header)) return;
      uint32_t words = 0;
      std::memcpy(&words, header, 4);
      std::string body(words * size_t{8}, '\0');
      if (!Read(fd.get(), body.data(), body.size())) return;
      if (!Write(fd.get(), answer)) return;
    }
    while (repeat_last_ && !script.empty() && Write(fd.get(), script.back())) {
    }
  }  // closes the connection: the client reads the end

  int port_ = 0;
  UniqueFd listener_;
  bool repeat_last_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(DqliteClientPeerTest, HugeHeaderIsRefused) {
  std::string huge(8, '\xff');  // 32 GiB announced
  huge[4] = 2;
  ScriptedPeer peer({huge});
  DqliteClient client;
  Status s = client.Connect(peer.address(), kTimeout);
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("allowed"), std::string::npos) << s.ToString();
  EXPECT_FALSE(client.connected());
}

// Connects through the WELCOME, then sends one request whose answer is
// `answer`; returns the request's Status.
Status AnswerLeader(const std::string& answer, DqliteClient* client) {
  ScriptedPeer peer({kWelcome, answer});
  Status s = client->Connect(peer.address(), kTimeout);
  if (!s.ok()) return s;
  return client->Leader().status();
}

TEST(DqliteClientPeerTest, MalformedResponsesEndTheConnection) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"unterminated address", Message(1, Word(1) + std::string(8, 'a'))},
      {"short body", Message(1, "")},
      {"unexpected type", Message(8, Word(0))},
      {"failure without message", Message(0, Word(1))},
      {"header then close", Message(1, Word(1)).substr(0, 12)},
  };
  for (const auto& [name, answer] : cases) {
    DqliteClient client;
    Status s = AnswerLeader(answer, &client);
    EXPECT_EQ(s.code(), Status::Code::kUnavailable)
        << name << ": " << s.ToString();
    EXPECT_FALSE(client.connected()) << name;
  }
}

TEST(DqliteClientPeerTest, MalformedServersEndTheConnection) {
  const std::string node = Word(1) + std::string("a:1\0\0\0\0\0", 8);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"count past the body", Word(uint64_t{1} << 60) + node + Word(0)},
      {"bad role", Word(1) + node + Word(3)},
      {"missing role", Word(1) + node},
  };
  for (const auto& [name, body] : cases) {
    ScriptedPeer peer({kWelcome, Message(3, body)});
    DqliteClient client;
    ASSERT_OK(client.Connect(peer.address(), kTimeout));
    Status s = client.Cluster().status();
    EXPECT_EQ(s.code(), Status::Code::kUnavailable)
        << name << ": " << s.ToString();
    EXPECT_FALSE(client.connected()) << name;
  }
}

TEST(DqliteClientPeerTest, FailureKeepsTheConnection) {
  const std::string not_leader =
      Message(0, Word(10250) + std::string("not leader\0\0\0\0\0\0", 16));
  const std::string leader =
      Message(1, Word(7) + std::string("a:1\0\0\0\0\0", 8));
  ScriptedPeer peer({kWelcome, not_leader, leader});
  DqliteClient client;
  ASSERT_OK(client.Connect(peer.address(), kTimeout));
  Result<DqliteNode> first = client.Leader();
  EXPECT_TRUE(DqliteClient::IsNotLeader(first.status()))
      << first.status().ToString();
  EXPECT_NE(first.status().message().find("10250"), std::string::npos);
  Result<DqliteNode> second = client.Leader();
  ASSERT_OK(second.status());
  EXPECT_EQ(second.value().id, 7u);
  EXPECT_EQ(second.value().address, "a:1");
}

TEST(DqliteClientPeerTest, MalformedRowsEndTheConnection) {
  const std::string name = std::string("c\0\0\0\0\0\0\0", 8);
  const std::string done = Word(0xffffffffffffffffULL);
  const std::string int_header = Word(1);  // one column, integer
  const std::string blob_header = Word(4);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"zero columns", Word(0) + done},
      {"too many columns", Word(uint64_t{1} << 40) + name + done},
      {"more columns than bytes", Word(1000) + name + done},
      {"no end marker", Word(1) + name + int_header + Word(5)},
      {"value cut short", Word(1) + name + int_header},
      {"blob longer than the body",
       Word(1) + name + blob_header + Word(1000) + done},
      {"unknown type", Word(1) + name + Word(7) + Word(0) + done},
      {"bytes after the marker", Word(1) + name + done + Word(0)},
  };
  for (const auto& [label, body] : cases) {
    ScriptedPeer peer({kWelcome, kDb, Message(7, body)});
    DqliteClient client;
    ASSERT_OK(client.Connect(peer.address(), kTimeout));
    ASSERT_OK(client.Open("test"));
    Result<DqliteRows> rows = client.Query("SELECT c");
    EXPECT_EQ(rows.status().code(), Status::Code::kUnavailable)
        << label << ": " << rows.status().ToString();
    EXPECT_FALSE(client.connected()) << label;
  }
  // The same framing, well formed, parses.
  ScriptedPeer peer({kWelcome, kDb,
                     Message(7, Word(1) + name + int_header + Word(5) + done)});
  DqliteClient client;
  ASSERT_OK(client.Connect(peer.address(), kTimeout));
  ASSERT_OK(client.Open("test"));
  Result<DqliteRows> rows = client.Query("SELECT c");
  ASSERT_OK(rows.status());
  ASSERT_EQ(rows.value().rows.size(), 1u);
  EXPECT_EQ(Int(rows.value().rows[0][0]), 5);
}

// A node that never stops sending rows past the limit: after 256 MiB
// dropped the client ends the connection and returns what it kept.
TEST(DqliteClientPeerTest, EndlessRowsPastTheLimitEndTheConnection) {
  const std::string name("c\0\0\0\0\0\0\0", 8);
  const std::string text(size_t{1} << 20, 'x');
  const std::string part =
      Message(7, Word(1) + name + Word(3) + text + std::string(8, '\0') +
                     Word(0xeeeeeeeeeeeeeeeeULL));
  ScriptedPeer peer({kWelcome, kDb, part}, /*repeat_last=*/true);
  DqliteClient client;
  ASSERT_OK(client.Connect(peer.address(), kTimeout));
  ASSERT_OK(client.Open("test"));
  Result<DqliteRows> rows = client.Query("SELECT c", {}, 0);
  ASSERT_OK(rows.status());
  EXPECT_TRUE(rows.value().truncated);
  EXPECT_TRUE(rows.value().rows.empty());
  EXPECT_FALSE(client.connected());
}

}  // namespace
}  // namespace orchestra::conductor
