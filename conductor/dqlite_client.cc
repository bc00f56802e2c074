// The wire format is dqlite 1.11.1's (src/request.h, src/response.h,
// src/tuple.c there): little-endian words, a message is an 8-byte header
// (body size in words, type, schema, two unused bytes) and a body padded to
// 8 bytes. 1.11.1 ignores a request's schema byte; this sends 0 and the
// formats it decodes (a parameter tuple counts its values in one byte, a
// CLUSTER request asks for format 1, with roles). Responses are parsed as
// hostile input: every length is checked against what is left of the body
// before anything is read.

#include "conductor/dqlite_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>

namespace orchestra::conductor {

using common::Result;
using common::Status;

namespace {

constexpr uint64_t kProtocolVersion = 1;

// Request types.
constexpr uint8_t kRequestLeader = 0;
constexpr uint8_t kRequestClient = 1;
constexpr uint8_t kRequestOpen = 3;
constexpr uint8_t kRequestExecSql = 8;
constexpr uint8_t kRequestQuerySql = 9;
constexpr uint8_t kRequestAdd = 12;
constexpr uint8_t kRequestAssign = 13;
constexpr uint8_t kRequestRemove = 14;
constexpr uint8_t kRequestCluster = 16;
constexpr uint8_t kRequestTransfer = 17;

// Response types.
constexpr uint8_t kResponseFailure = 0;
constexpr uint8_t kResponseServer = 1;
constexpr uint8_t kResponseWelcome = 2;
constexpr uint8_t kResponseServers = 3;
constexpr uint8_t kResponseDb = 4;
constexpr uint8_t kResponseResult = 6;
constexpr uint8_t kResponseRows = 7;
constexpr uint8_t kResponseEmpty = 8;

// CLUSTER format 1: id, address and role of each node.
constexpr uint64_t kClusterFormatWithRoles = 1;

// Value types of rows and parameters.
constexpr int kInteger = 1;
constexpr int kFloat = 2;
constexpr int kText = 3;
constexpr int kBlob = 4;
constexpr int kNull = 5;
constexpr int kUnixTime = 9;
constexpr int kIso8601 = 10;
constexpr int kBoolean = 11;

// The end of a ROWS message: the last one, or another follows.
constexpr uint64_t kRowsDone = 0xffffffffffffffffULL;
constexpr uint64_t kRowsPart = 0xeeeeeeeeeeeeeeeeULL;

// dqlite's extended codes for "not the leader" and "lost leadership
// before the write committed" (SQLITE_IOERR_NOT_LEADER and
// SQLITE_IOERR_LEADERSHIP_LOST).
constexpr uint64_t kNotLeader = 10250;
constexpr uint64_t kLeadershipLost = 10506;

// Bounds on what a node may send: a response body (besides a query's
// kept values), a result's columns, and parameters of one request
// (schema 0 counts them in one byte).
constexpr size_t kMaxBody = size_t{64} << 20;
constexpr uint64_t kMaxColumns = 1024;
constexpr size_t kMaxParams = 255;
// What a query reads beyond its caller's limit before it ends the
// connection instead (a 1.11.1 node cannot be interrupted while it sends
// rows).
constexpr size_t kMaxDrain = size_t{256} << 20;
// A message's text kept in a Status.
constexpr size_t kMaxMessage = 1024;

constexpr std::string_view kNotLeaderPrefix = "not leader";

size_t Pad8(size_t n) { return (n + 7) & ~size_t{7}; }

size_t SaturatingAdd(size_t a, size_t b) {
  return b > std::numeric_limits<size_t>::max() - a
             ? std::numeric_limits<size_t>::max()
             : a + b;
}

void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

// NUL-terminated, zero-padded to a word.
void PutText(std::string* out, std::string_view text) {
  out->append(text);
  out->append(Pad8(text.size() + 1) - text.size(), '\0');
}

uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// Reads a response body front to back; every read checks what is left.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  size_t left() const { return data_.size(); }

  bool U64(uint64_t* v) {
    if (data_.size() < 8) return false;
    *v = GetU64(data_.data());
    data_.remove_prefix(8);
    return true;
  }
  bool Peek64(uint64_t* v) const {
    if (data_.size() < 8) return false;
    *v = GetU64(data_.data());
    return true;
  }
  bool Skip(size_t n) {
    if (data_.size() < n) return false;
    data_.remove_prefix(n);
    return true;
  }
  bool Bytes(size_t n, std::string_view* out) {
    if (data_.size() < n) return false;
    *out = data_.substr(0, n);
    data_.remove_prefix(n);
    return true;
  }
  // A NUL-terminated text padded to a word.
  bool Text(std::string* out) {
    const size_t nul = data_.find('\0');
    if (nul == std::string_view::npos) return false;
    const size_t size = Pad8(nul + 1);
    if (size > data_.size()) return false;
    out->assign(data_.data(), nul);
    data_.remove_prefix(size);
    return true;
  }
  // A length word, then that many bytes padded to a word.
  bool Blob(std::string* out) {
    uint64_t n = 0;
    if (!U64(&n) || n > data_.size() || Pad8(n) > data_.size()) return false;
    out->assign(data_.data(), n);
    data_.remove_prefix(Pad8(n));
    return true;
  }

 private:
  std::string_view data_;
};

// A tuple of parameters, format 0: a count byte, a type byte each, zero
// padding to a word, then the values.
Status EncodeParams(const std::vector<StoreValue>& params, std::string* out) {
  if (params.empty()) return Status();  // no tuple at all: nothing to bind
  if (params.size() > kMaxParams)
    return Status::InvalidArgument("dqlite", "more than 255 parameters");
  const size_t header = Pad8(1 + params.size());
  std::string types(header, '\0');
  types[0] = static_cast<char>(params.size());
  std::string values;
  for (size_t i = 0; i < params.size(); ++i) {
    const StoreValue& v = params[i];
    int type = kNull;
    if (const int64_t* n = std::get_if<int64_t>(&v)) {
      type = kInteger;
      PutU64(&values, static_cast<uint64_t>(*n));
    } else if (const double* x = std::get_if<double>(&v)) {
      type = kFloat;
      uint64_t bits = 0;
      std::memcpy(&bits, x, sizeof bits);
      PutU64(&values, bits);
    } else if (const std::string* text = std::get_if<std::string>(&v)) {
      if (text->find('\0') != std::string::npos)
        return Status::InvalidArgument(
            "dqlite", "parameter " + std::to_string(i + 1) +
                          " holds a NUL byte, which text cannot carry");
      type = kText;
      PutText(&values, *text);
    } else {
      PutU64(&values, 0);
    }
    types[1 + i] = static_cast<char>(type);
  }
  out->append(types);
  out->append(values);
  return Status();
}

// "host:port" or "[v6]:port".
bool SplitAddress(const std::string& address, std::string* host,
                  std::string* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size())
    return false;
  *host = address.substr(0, colon);
  *port = address.substr(colon + 1);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  return true;
}

std::string ErrnoText(int error_number) { return std::strerror(error_number); }

// One value of a row of type `type`, and the bytes it counts against the
// caller's limit: what it takes in memory (a StoreValue and its text).
bool ReadValue(Reader* r, int type, StoreValue* value, size_t* bytes) {
  uint64_t word = 0;
  std::string text;
  *bytes = sizeof(StoreValue);
  switch (type) {
    case kInteger:
    case kUnixTime:
    case kBoolean:
      if (!r->U64(&word)) return false;
      *value = static_cast<int64_t>(word);
      return true;
    case kFloat: {
      if (!r->U64(&word)) return false;
      double x = 0;
      std::memcpy(&x, &word, sizeof x);
      *value = x;
      return true;
    }
    case kText:
    case kIso8601:
      if (!r->Text(&text)) return false;
      break;
    case kBlob:
      if (!r->Blob(&text)) return false;
      break;
    case kNull:
      if (!r->U64(&word)) return false;
      *value = std::monostate();
      return true;
    default:
      return false;
  }
  *bytes += text.size();
  *value = std::move(text);
  return true;
}

// Where a query's parts go: the rows kept so far and their bytes.
struct RowsState {
  DqliteRows* rows;
  size_t max_bytes;
  size_t kept_bytes = 0;
  bool first_part = true;
  bool done = false;
};

// One row of `columns` values: its type nibbles, padded to a word, then
// the values. Kept unless the limit was reached.
bool ReadRow(Reader* r, size_t columns, RowsState* state) {
  std::string_view header;
  if (!r->Bytes(Pad8((columns + 1) / 2), &header)) return false;
  std::vector<StoreValue> row(columns);
  size_t row_bytes = 0;
  for (size_t i = 0; i < columns; ++i) {
    const uint8_t slot = static_cast<uint8_t>(header[i / 2]);
    const int type = i % 2 == 0 ? (slot & 0x0f) : (slot >> 4);
    size_t bytes = 0;
    if (!ReadValue(r, type, &row[i], &bytes)) return false;
    row_bytes += bytes;
  }
  DqliteRows* out = state->rows;
  if (!out->truncated && row_bytes <= state->max_bytes - state->kept_bytes) {
    state->kept_bytes += row_bytes;
    out->rows.push_back(std::move(row));
  } else {
    out->truncated = true;  // this row and every later one are dropped
  }
  return true;
}

// One ROWS body: the column count and names (repeated in every part), the
// rows, then the end marker as the body's last word. False if malformed.
bool ReadRowsPart(std::string_view body, RowsState* state) {
  Reader r(body);
  uint64_t columns = 0;
  if (!r.U64(&columns) || columns == 0 || columns > kMaxColumns) return false;
  if (columns > r.left() / 8) return false;  // each name takes a word
  DqliteRows* out = state->rows;
  if (!state->first_part && columns != out->columns.size()) return false;
  for (uint64_t i = 0; i < columns; ++i) {
    std::string name;
    if (!r.Text(&name)) return false;
    if (state->first_part) out->columns.push_back(std::move(name));
  }
  state->first_part = false;
  for (;;) {
    uint64_t word = 0;
    if (!r.Peek64(&word)) return false;  // no end marker
    if (word == kRowsDone || word == kRowsPart) {
      state->done = word == kRowsDone;
      return r.Skip(8) && r.left() == 0;
    }
    if (!ReadRow(&r, columns, state)) return false;
  }
}

}  // namespace

Status DqliteClient::Connect(const std::string& address, Millis timeout) {
  Close();
  address_ = address;
  timeout_ = timeout;
  deadline_ = Clock::now() + timeout;
  std::string host, port;
  if (!SplitAddress(address, &host, &port))
    return Status::InvalidArgument(address, "not host:port");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) return Status::Unavailable(address, ::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found,
                                                            ::freeaddrinfo);
  fd_.Reset(::socket(found->ai_family,
                     SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd_.valid()) return Broken("socket: " + ErrnoText(errno));
  if (::connect(fd_.get(), found->ai_addr, found->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) return Broken("connect: " + ErrnoText(errno));
    Status ready = Wait(POLLOUT);
    if (!ready.ok()) return ready;
    int error = 0;
    socklen_t size = sizeof error;
    if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &size) != 0)
      error = errno;
    if (error != 0) return Broken("connect: " + ErrnoText(error));
  }
  const int one = 1;
  ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::string version;
  PutU64(&version, kProtocolVersion);
  Status sent = WriteAll(version.data(), version.size());
  if (!sent.ok()) return sent;
  // CLIENT, answered by WELCOME: the peer is a dqlite node and answers.
  std::string body, welcome;
  PutU64(&body, 0);
  return Call(kRequestClient, body, kResponseWelcome, &welcome);
}

void DqliteClient::Close() {
  fd_.Reset();
  db_id_ = 0;
  db_open_ = false;
}

Result<DqliteNode> DqliteClient::Leader() {
  std::string body, response;
  PutU64(&body, 0);
  Status s = Call(kRequestLeader, body, kResponseServer, &response);
  if (!s.ok()) return s;
  Reader r(response);
  DqliteNode node;
  if (!r.U64(&node.id) || !r.Text(&node.address))
    return Broken("malformed SERVER response");
  return node;
}

Result<std::vector<DqliteNode>> DqliteClient::Cluster() {
  std::string body, response;
  PutU64(&body, kClusterFormatWithRoles);
  Status s = Call(kRequestCluster, body, kResponseServers, &response);
  if (!s.ok()) return s;
  Reader r(response);
  uint64_t count = 0;
  // Each node takes at least three words: id, address, role.
  if (!r.U64(&count) || count > r.left() / 24)
    return Broken("malformed SERVERS response");
  std::vector<DqliteNode> nodes;
  for (uint64_t i = 0; i < count; ++i) {
    DqliteNode node;
    uint64_t role = 0;
    if (!r.U64(&node.id) || !r.Text(&node.address) || !r.U64(&role) || role > 2)
      return Broken("malformed SERVERS response");
    node.role = static_cast<int>(role);
    nodes.push_back(std::move(node));
  }
  return nodes;
}

Status DqliteClient::Add(uint64_t id, const std::string& address) {
  if (address.find('\0') != std::string::npos)
    return Status::InvalidArgument(address_, "address holds a NUL byte");
  std::string body, response;
  PutU64(&body, id);
  PutText(&body, address);
  return Call(kRequestAdd, body, kResponseEmpty, &response);
}

Status DqliteClient::Assign(uint64_t id, int role) {
  if (role < 0 || role > 2)
    return Status::InvalidArgument(address_, "role is 0, 1 or 2");
  std::string body, response;
  PutU64(&body, id);
  PutU64(&body, static_cast<uint64_t>(role));
  return Call(kRequestAssign, body, kResponseEmpty, &response);
}

Status DqliteClient::Transfer(uint64_t id) {
  std::string body, response;
  PutU64(&body, id);
  return Call(kRequestTransfer, body, kResponseEmpty, &response);
}

Status DqliteClient::Remove(uint64_t id) {
  std::string body, response;
  PutU64(&body, id);
  return Call(kRequestRemove, body, kResponseEmpty, &response);
}

Status DqliteClient::Open(const std::string& name) {
  if (name.find('\0') != std::string::npos)
    return Status::InvalidArgument(address_, "database name holds a NUL byte");
  std::string body, response;
  PutText(&body, name);
  PutU64(&body, 0);    // flags, unused by the node
  PutText(&body, "");  // VFS, unused by the node
  Status s = Call(kRequestOpen, body, kResponseDb, &response);
  if (!s.ok()) return s;
  Reader r(response);
  uint64_t word = 0;  // id (uint32) and padding
  if (!r.U64(&word)) return Broken("malformed DB response");
  db_id_ = word & 0xffffffffU;
  db_open_ = true;
  return Status();
}

Result<DqliteExecResult> DqliteClient::Exec(
    std::string_view sql, const std::vector<StoreValue>& params) {
  if (!connected()) return NotConnected();
  if (!db_open_) return Status::InvalidArgument(address_, "no database open");
  if (sql.find('\0') != std::string_view::npos)
    return Status::InvalidArgument(address_, "SQL holds a NUL byte");
  std::string body, response;
  PutU64(&body, db_id_);
  PutText(&body, sql);
  Status s = EncodeParams(params, &body);
  if (!s.ok()) return s;
  s = Call(kRequestExecSql, body, kResponseResult, &response);
  if (!s.ok()) return s;
  Reader r(response);
  uint64_t id = 0, changes = 0;
  if (!r.U64(&id) || !r.U64(&changes))
    return Broken("malformed RESULT response");
  return DqliteExecResult{static_cast<int64_t>(id),
                          static_cast<int64_t>(changes)};
}

Result<DqliteRows> DqliteClient::Query(std::string_view sql,
                                       const std::vector<StoreValue>& params,
                                       size_t max_bytes) {
  if (!connected()) return NotConnected();
  if (!db_open_) return Status::InvalidArgument(address_, "no database open");
  if (sql.find('\0') != std::string_view::npos)
    return Status::InvalidArgument(address_, "SQL holds a NUL byte");
  std::string body;
  PutU64(&body, db_id_);
  PutText(&body, sql);
  Status s = EncodeParams(params, &body);
  if (!s.ok()) return s;
  s = Send(kRequestQuerySql, body);
  if (!s.ok()) return s;
  const size_t max_body = SaturatingAdd(kMaxBody, max_bytes);
  const size_t max_read = SaturatingAdd(kMaxDrain, max_bytes);
  DqliteRows rows;
  RowsState state{&rows, max_bytes};
  std::string part;
  size_t received = 0;
  while (!state.done) {
    s = Receive(kResponseRows, max_body, &part);
    if (!s.ok()) return s;
    if (!ReadRowsPart(part, &state)) return Broken("malformed ROWS response");
    received += part.size();
    if (received > max_read && !state.done) {
      rows.truncated = true;
      Close();  // the node would go on sending: the connection ends
      return rows;
    }
    deadline_ = Clock::now() + timeout_;  // each part gets the whole timeout
  }
  return rows;
}

bool DqliteClient::IsNotLeader(const Status& s) {
  return s.code() == Status::Code::kUnavailable &&
         s.what().substr(0, kNotLeaderPrefix.size()) == kNotLeaderPrefix;
}

Status DqliteClient::Call(uint8_t type, const std::string& body, uint8_t want,
                          std::string* response) {
  if (!connected()) return NotConnected();
  Status s = Send(type, body);
  if (!s.ok()) return s;
  return Receive(want, kMaxBody, response);
}

Status DqliteClient::Send(uint8_t type, const std::string& body) {
  deadline_ = Clock::now() + timeout_;
  std::string message;
  const size_t words = body.size() / 8;  // every body is whole words
  if (words > std::numeric_limits<uint32_t>::max())
    return Status::InvalidArgument(address_, "request too large");
  for (int i = 0; i < 4; ++i)
    message.push_back(static_cast<char>(words >> (8 * i)));
  message.push_back(static_cast<char>(type));
  message.append(3, '\0');  // schema 0, unused
  message.append(body);
  return WriteAll(message.data(), message.size());
}

Status DqliteClient::Receive(uint8_t want, size_t max_body, std::string* body) {
  char header[8];
  Status s = ReadAll(header, sizeof header);
  if (!s.ok()) return s;
  uint64_t words = 0;
  for (int i = 3; i >= 0; --i)
    words = (words << 8) | static_cast<uint8_t>(header[i]);
  const uint8_t type = static_cast<uint8_t>(header[4]);
  if (words > max_body / 8)
    return Broken("response of " + std::to_string(words * 8) +
                  " bytes, more than the " + std::to_string(max_body) +
                  " allowed");
  // Grown as bytes arrive: a header alone does not allocate its size.
  const size_t size = static_cast<size_t>(words) * 8;
  body->clear();
  while (body->size() < size) {
    const size_t have = body->size();
    body->resize(have + std::min<size_t>(size - have, size_t{1} << 20));
    s = ReadAll(body->data() + have, body->size() - have);
    if (!s.ok()) return s;
  }
  if (type == kResponseFailure) {
    Reader r(*body);
    uint64_t code = 0;
    std::string message;
    if (!r.U64(&code) || !r.Text(&message))
      return Broken("malformed FAILURE response");
    return NodeError(code, message.substr(0, kMaxMessage));
  }
  if (type != want)
    return Broken("response of type " + std::to_string(type) + " where type " +
                  std::to_string(want) + " was due");
  return Status();
}

Status DqliteClient::ReadAll(char* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::recv(fd_.get(), data + done, size - done, 0);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n == 0) {
      return Broken("connection closed by the node");
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      Status s = Wait(POLLIN);
      if (!s.ok()) return s;
    } else if (errno != EINTR) {
      return Broken("recv: " + ErrnoText(errno));
    }
  }
  return Status();
}

Status DqliteClient::WriteAll(const char* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::send(fd_.get(), data + done, size - done, MSG_NOSIGNAL);
    if (n >= 0) {
      done += static_cast<size_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      Status s = Wait(POLLOUT);
      if (!s.ok()) return s;
    } else if (errno != EINTR) {
      return Broken("send: " + ErrnoText(errno));
    }
  }
  return Status();
}

Status DqliteClient::Wait(short events) {
  for (;;) {
    const auto left = std::chrono::ceil<Millis>(deadline_ - Clock::now());
    if (left.count() <= 0)
      return Broken("no answer within " + std::to_string(timeout_.count()) +
                    " ms");
    pollfd item{fd_.get(), events, 0};
    const int n = ::poll(
        &item, 1, static_cast<int>(std::min<int64_t>(left.count(), 1 << 30)));
    if (n > 0) return Status();  // ready, or an error the next call reports
    if (n < 0 && errno != EINTR) return Broken("poll: " + ErrnoText(errno));
  }
}

Status DqliteClient::Broken(std::string_view what) {
  Close();
  return Status::Unavailable(address_.empty() ? "dqlite" : address_, what);
}

Status DqliteClient::NotConnected() const {
  return Status::Unavailable(address_.empty() ? "dqlite" : address_,
                             "not connected");
}

// The node's code and message. Not-leader codes are Unavailable with a
// message that starts "not leader"; SQLite's primary code picks the rest.
Status DqliteClient::NodeError(uint64_t code, std::string_view message) const {
  const std::string what =
      std::string(message) + " (dqlite code " + std::to_string(code) + ")";
  if (code == kNotLeader)
    return Status::Unavailable(address_,
                               std::string(kNotLeaderPrefix) + ": " + what);
  if (code == kLeadershipLost)
    return Status::Unavailable(
        address_, std::string(kNotLeaderPrefix) + ": leadership lost: " + what);
  switch (code & 0xff) {
    case 5:   // SQLITE_BUSY
    case 6:   // SQLITE_LOCKED
    case 19:  // SQLITE_CONSTRAINT
      return Status::Conflict(address_, what);
    case 10:  // SQLITE_IOERR
    case 13:  // SQLITE_FULL
      return Status::IoError(address_, what);
    case 1:   // SQLITE_ERROR: bad SQL, no such table...
    case 20:  // SQLITE_MISMATCH
    case 25:  // SQLITE_RANGE
      return Status::InvalidArgument(address_, what);
    default:
      return Status::Internal(address_, what);
  }
}

}  // namespace orchestra::conductor
