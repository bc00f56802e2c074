// Shards are forked, never exec'd: they inherit the keys and settings and
// build their own ZeroMQ context (the parent's is never touched in the
// child, which leaves through _exit). A shard dies with the tool
// (PR_SET_PDEATHSIG) and stops on SIGTERM.

#include "tools/bench/fleet.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <new>

namespace orchestra::bench {

using common::Status;

namespace {

constexpr size_t kMaxShards = 64;

volatile bool shard_stop = false;

void OnShardSignal(int) { shard_stop = true; }

[[noreturn]] void RunShard(const ShardSettings& settings,
                           std::vector<const broker::CurveKeyPair*> keys,
                           ShardCounters* counters) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  struct sigaction action {};
  action.sa_handler = OnShardSignal;
  ::sigaction(SIGTERM, &action, nullptr);
  Status s;
  {
    PlayerShard shard(settings, std::move(keys), counters);
    s = shard.Run(&shard_stop);
  }
  if (!s.ok()) {
    std::fprintf(stderr, "shard: %s\n", s.ToString().c_str());
    counters->failed.store(1);
  }
  std::fflush(stderr);
  ::_exit(s.ok() ? 0 : 1);
}

}  // namespace

Fleet::Fleet(const ShardSettings& settings, size_t per_shard)
    : settings_(settings), per_shard_(per_shard) {
  void* memory =
      ::mmap(nullptr, sizeof(ShardCounters) * kMaxShards,
             PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory != MAP_FAILED) counters_ = static_cast<ShardCounters*>(memory);
}

Fleet::~Fleet() {
  Stop();
  if (counters_ != nullptr)
    ::munmap(counters_, sizeof(ShardCounters) * kMaxShards);
}

Status Fleet::Start(const std::vector<broker::CurveKeyPair>& keys,
                    size_t count) {
  if (counters_ == nullptr) return Status::IoError("fleet", "no shared memory");
  count = std::min(count, keys.size());
  const size_t shards = (count + per_shard_ - 1) / per_shard_;
  if (shards > kMaxShards)
    return Status::InvalidArgument("fleet", "too many shards");
  for (size_t i = 0; i < shards; ++i) {
    new (&counters_[i]) ShardCounters();
    const size_t begin = i * per_shard_;
    const size_t end = std::min(count, begin + per_shard_);
    std::vector<const broker::CurveKeyPair*> part;
    for (size_t k = begin; k < end; ++k) part.push_back(&keys[k]);
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) return Status::FromErrno("fork", errno);
    if (pid == 0) RunShard(settings_, std::move(part), &counters_[i]);
    pids_.push_back(pid);
  }
  return Status();
}

void Fleet::Stop() {
  for (pid_t pid : pids_) ::kill(pid, SIGTERM);
  for (pid_t pid : pids_) ::waitpid(pid, nullptr, 0);
  pids_.clear();
}

FleetTotals Fleet::Totals() const {
  FleetTotals t;
  for (size_t i = 0; i < pids_.size(); ++i) {
    const ShardCounters& c = counters_[i];
    t.welcomed += c.welcomed.load();
    t.refused += c.refused.load();
    t.tasks += c.tasks.load();
    t.acks += c.acks.load();
    t.heartbeats += c.heartbeats.load();
    t.moves += c.moves.load();
    t.last_welcome_ns = std::max(t.last_welcome_ns, c.last_welcome_ns.load());
    t.last_task_ns = std::max(t.last_task_ns, c.last_task_ns.load());
    t.last_ack_ns = std::max(t.last_ack_ns, c.last_ack_ns.load());
    t.failed += c.failed.load();
  }
  return t;
}

}  // namespace orchestra::bench
