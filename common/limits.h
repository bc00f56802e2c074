// The named limits of DESIGN.md: how long a name may be, how large a
// parameter, a message or a result, how long a time limit. The decoders, the
// CLI, the configs and the score directory all check against these, and
// their error texts are built from them (common/text.h's *Rule() texts),
// so a limit changes in one place.

#ifndef ORCHESTRA_COMMON_LIMITS_H_
#define ORCHESTRA_COMMON_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace orchestra {

// Player connections the kernel queues before a conductor (active or
// standing by) accepts them. With libzmq's 100, a fleet reconnecting at
// once (a restart, a cell's failover) overflowed the queue, and the
// dropped players waited out TCP's SYN back-off (1, 3, 7, 15 s...). The
// kernel caps it at net.core.somaxconn.
constexpr int kPlayerBacklog = 8192;

// ---- names ----
// Player names: [A-Za-z0-9._-], not starting with '.' or '-' (a DNS name).
constexpr size_t kMaxPlayerNameBytes = 253;
// Score names: [A-Za-z0-9._-], not starting with '.'.
constexpr size_t kMaxScoreNameBytes = 128;
// Parameter keys: [A-Za-z_][A-Za-z0-9_]* (they become ORC_<KEY>).
constexpr size_t kMaxParamKeyBytes = 64;
// A client's idempotency key, and its request id ("req") when a string.
constexpr size_t kMaxIdempotencyKeyBytes = 128;
constexpr size_t kMaxRequestIdBytes = 256;
// A version string ("0.2.0") and a free-text error or session message.
constexpr size_t kMaxVersionBytes = 128;
constexpr size_t kMaxErrorBytes = 4096;
// A ZeroMQ endpoint ("tcp://host:port"), as a cell's hint names one.
constexpr size_t kMaxEndpointBytes = 512;
// The other nodes of a cell one conductor.conf may name (a cell of 7).
constexpr size_t kMaxCellPeers = 6;

// ---- reporting (DESIGN.md section 17) ----
// An `sql` request's one statement, and what its reply may carry: columns
// (SQLite's own limit is 2000), their names, and rows.
constexpr size_t kMaxSqlBytes = 64 << 10;
constexpr size_t kMaxSqlColumns = 2000;
constexpr size_t kMaxSqlColumnNameBytes = 1024;
constexpr size_t kMaxSqlRows = 100000;

// ---- labels and targets (DESIGN.md section 13) ----
// Label keys: [a-z][a-z0-9_.-]*; values: [A-Za-z0-9._:/-]+. A players file
// line may carry at most kMaxPlayerLabels of them.
constexpr size_t kMaxLabelKeyBytes = 63;
constexpr size_t kMaxLabelValueBytes = 128;
constexpr size_t kMaxPlayerLabels = 64;
// A target expression comes from the audience and is matched against every
// listed player at submit: its length, its terms and its globs (in all)
// bound that work (conductor/target.cc says how).
constexpr size_t kMaxTargetBytes = 1024;
constexpr size_t kMaxTargetTerms = 32;
constexpr size_t kMaxTargetGlobs = 128;

// ---- jobs ----
// Parameters: each value is UTF-8 without NUL.
constexpr size_t kMaxParams = 4096;
constexpr size_t kMaxParamValueBytes = 64 << 10;
constexpr size_t kMaxParamsBytes = 256 << 10;  // keys and values, in all
// Players one job may list (and tasks an `all` job may have).
constexpr size_t kMaxJobPlayers = 100000;
// Priorities of jobs: dispatch takes the highest first.
constexpr int64_t kMinPriority = -100;
constexpr int64_t kMaxPriority = 100;
// The longest time limit anything takes: a job's, a score's, a delivery
// timeout, a wait. Ten years: "no limit" is spelled 0 or absent.
constexpr int64_t kMaxTimeLimitS = 10LL * 365 * 24 * 3600;

// ---- players ----
// Tasks one player may run at once (its `slots`): the conductor keeps at
// most this many of a player's tasks unfinished, with their parameters.
constexpr int kMaxSlots = 256;
// Scores one player may list, and tasks its journal may report in hello.
constexpr size_t kMaxScores = 10000;
constexpr size_t kMaxHeldTasks = 100000;
// What one result may carry: each output stream, and the response map.
constexpr size_t kMaxOutputBytes = 1 << 20;
constexpr size_t kMaxResponseEntries = 10000;
constexpr size_t kMaxResponseBytes = 64 << 10;  // per key or value

// ---- messages ----
// Inbound messages larger than this are refused by ZMQ_MAXMSGSIZE.
constexpr int64_t kMaxMessageBytes = 4 << 20;

}  // namespace orchestra

#endif  // ORCHESTRA_COMMON_LIMITS_H_
