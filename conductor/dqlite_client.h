// DqliteClient speaks dqlite's wire protocol (version 1) to one dqlite
// node over TCP: the handshake, then one request at a time, each answered
// before the next. Debian 12's libdqlite has the node but no C client, so
// the conductor's cell (DESIGN.md section 17) talks to its nodes through
// this. Every call has a deadline; a node that stops answering, a broken
// connection or a malformed response ends the connection (Status
// kUnavailable) and every later call fails until Connect() again. A
// node's error (a SQL error, "not leader") is a Status with the node's
// code and message, and the connection stays usable. Not thread-safe.

#ifndef ORCHESTRA_CONDUCTOR_DQLITE_CLIENT_H_
#define ORCHESTRA_CONDUCTOR_DQLITE_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "conductor/store_writes.h"

namespace orchestra::conductor {

// A node of the cell as the protocol describes it.
struct DqliteNode {
  uint64_t id = 0;  // 0: none (no leader known)
  std::string address;
  int role = 0;  // 0 voter, 1 stand-by, 2 spare
};

// What an EXEC did.
struct DqliteExecResult {
  int64_t last_insert_id = 0;
  int64_t rows_affected = 0;
};

// A query's result. Integers, booleans and times come back as int64,
// floats as double, text and blobs as string, NULL as monostate.
struct DqliteRows {
  std::vector<std::string> columns;
  std::vector<std::vector<StoreValue>> rows;
  bool truncated = false;  // rows past the caller's limit were dropped
};

class DqliteClient {
 public:
  using Millis = std::chrono::milliseconds;

  // An unconnected client: every call fails until Connect().
  DqliteClient() = default;

  // Connects to `address` ("host:port"), with TCP_NODELAY, sends the
  // protocol version and a CLIENT request, whose WELCOME shows that the
  // peer is a dqlite node and answers. Connecting and each later request
  // must be answered within `timeout`.
  common::Status Connect(const std::string& address, Millis timeout);
  bool connected() const { return fd_.get() >= 0; }
  void Close();
  const std::string& address() const { return address_; }

  // LEADER: the node the contacted node believes leads (id 0 if none).
  common::Result<DqliteNode> Leader();
  // CLUSTER: every node of the cell's configuration, with its role.
  common::Result<std::vector<DqliteNode>> Cluster();
  // ADD a node as a spare, then ASSIGN it `role`; TRANSFER leadership to
  // node `id` (0: any); REMOVE a node. Sent to the leader.
  common::Status Add(uint64_t id, const std::string& address);
  common::Status Assign(uint64_t id, int role);
  common::Status Transfer(uint64_t id);
  common::Status Remove(uint64_t id);

  // OPEN database `name` on this connection; Exec and Query use it.
  common::Status Open(const std::string& name);
  // EXEC_SQL: runs `sql` (one or more statements; `params` bind ?1, ?2,
  // ... of the first) on the open database.
  common::Result<DqliteExecResult> Exec(
      std::string_view sql, const std::vector<StoreValue>& params = {});
  // QUERY_SQL: runs one statement and reads its rows, keeping at most
  // `max_bytes` of values (each counts what it takes in memory: a
  // StoreValue and its text): later rows are read and dropped, and
  // `truncated` is set. Once 256 MiB more than `max_bytes` were read the
  // connection is closed instead of reading on (connected() turns false;
  // the rows kept are returned, truncated). Each ROWS part must arrive
  // within the timeout of the one before.
  common::Result<DqliteRows> Query(std::string_view sql,
                                   const std::vector<StoreValue>& params = {},
                                   size_t max_bytes = 64 << 20);

  // True for a node's error that means "send it to the leader": this node
  // is not the leader, or lost leadership before the write committed.
  static bool IsNotLeader(const common::Status& s);

 private:
  using Clock = std::chrono::steady_clock;

  // Sends one request (`body` padded to 8 bytes) and reads its answer of
  // type `want` into `response`, under a fresh deadline. A node's FAILURE
  // is returned as its Status; anything else wrong ends the connection.
  common::Status Call(uint8_t type, const std::string& body, uint8_t want,
                      std::string* response);
  common::Status Send(uint8_t type, const std::string& body);
  // Reads the next response, at most `max_body` bytes of body.
  common::Status Receive(uint8_t want, size_t max_body, std::string* body);
  common::Status ReadAll(char* data, size_t size);
  common::Status WriteAll(const char* data, size_t size);
  // Waits until the socket is ready for `events` or the deadline passes.
  common::Status Wait(short events);
  // Ends the connection: Unavailable with `what`.
  common::Status Broken(std::string_view what);
  common::Status NotConnected() const;
  common::Status NodeError(uint64_t code, std::string_view message) const;

  common::UniqueFd fd_;
  std::string address_;
  Millis timeout_{0};
  Clock::time_point deadline_;
  uint64_t db_id_ = 0;
  bool db_open_ = false;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_DQLITE_CLIENT_H_
