// orchestra-bench-load: measures the conductor alone under load. It starts
// a real orchestra-conductor (generated keys, players file and config in a
// temporary directory) and simulated players that answer every task at
// once (see Fleet and PlayerShard), then reports, as one JSON object:
//   throughput  `one` and `all` jobs pipelined through P players: tasks/s
//               from first submit to last result_ack (every result durable:
//               checked in the database after a kill -9)
//   cell        with --cell 1: the same `one` jobs (a quarter as many
//               unless --cell-jobs says) through a cell of three
//               conductors on dqlite on loopback (DESIGN.md section 17),
//               the players on the active one: tasks/s and jobs/s beside
//               the single conductor's, and each conductor's resident
//               memory (dqlite keeps the whole database in memory on each
//               node). Not checked for durability: dqlite's files are not
//               SQLite databases to count in.
//   cell_failover  with --cell-fleet N: N players given a cell's three
//               endpoints connect to it; the active conductor is killed
//               (SIGKILL) and the time until 50%, 90%, 99% and all of them
//               have a session with the new one is measured
//   fleet       for each size N: time for all N to connect (first start and
//               after a conductor restart), resident memory per player,
//               idle CPU, and the time for 1 and for 10 `all` jobs over N.
//
//   orchestra-bench-load [--conductor BIN] [--jobs N] [--players N]
//       [--targets N] [--slots N] [--window N] [--all-jobs N] [--fleet N,N,...]
//       [--idle-seconds S] [--per-shard N] [--cell 0|1] [--cell-jobs N]
//       [--cell-fleet N] [--keep DIR]

#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "broker/audience_client.h"
#include "broker/curve_keys.h"
#include "common/files.h"
#include "common/sqlite.h"
#include "tools/bench/conductor_process.h"
#include "tools/bench/fleet.h"

using namespace orchestra;
using bench::ConductorProcess;
using bench::Fleet;
using bench::FleetTotals;
using bench::MonotonicNs;
using common::Result;
using common::Status;

namespace {

struct Flags {
  std::string conductor;
  std::string keep;  // use this directory and leave it behind
  int jobs = 20000;
  int players = 100;
  int targets = 4;  // players listed in each `one` job
  int slots = 64;
  int window = 256;
  int all_jobs = 200;
  std::vector<int> fleet = {1000, 3000, 10000};
  int idle_seconds = 10;
  int per_shard = 2500;
  bool cell = false;   // the `one` jobs again, through a cell of three
  int cell_jobs = -1;  // how many; -1: a quarter of `jobs`
  int cell_fleet = 0;  // players through a failover of a cell; 0: none
};

const char kUsage[] =
    "usage: orchestra-bench-load [--conductor BIN] [--jobs N] [--players N]\n"
    "    [--targets N] [--slots N] [--window N] [--all-jobs N] [--fleet "
    "N,N,...]\n"
    "    [--idle-seconds S] [--per-shard N] [--cell 0|1] [--cell-jobs N]\n"
    "    [--cell-fleet N]\n"
    "    [--keep DIR]\n";

bool ParseFlags(int argc, char** argv, Flags* f) {
  static const option kOptions[] = {
      {"conductor", required_argument, nullptr, 'c'},
      {"jobs", required_argument, nullptr, 'j'},
      {"players", required_argument, nullptr, 'p'},
      {"targets", required_argument, nullptr, 't'},
      {"slots", required_argument, nullptr, 's'},
      {"window", required_argument, nullptr, 'w'},
      {"all-jobs", required_argument, nullptr, 'a'},
      {"fleet", required_argument, nullptr, 'f'},
      {"idle-seconds", required_argument, nullptr, 'i'},
      {"per-shard", required_argument, nullptr, 'n'},
      {"cell", required_argument, nullptr, 'C'},
      {"cell-jobs", required_argument, nullptr, 'J'},
      {"cell-fleet", required_argument, nullptr, 'F'},
      {"keep", required_argument, nullptr, 'k'},
      {nullptr, 0, nullptr, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "", kOptions, nullptr)) != -1) {
    switch (c) {
      case 'c':
        f->conductor = optarg;
        break;
      case 'j':
        f->jobs = std::atoi(optarg);
        break;
      case 'p':
        f->players = std::atoi(optarg);
        break;
      case 't':
        f->targets = std::max(1, std::atoi(optarg));
        break;
      case 's':
        f->slots = std::atoi(optarg);
        break;
      case 'w':
        f->window = std::max(1, std::atoi(optarg));
        break;
      case 'a':
        f->all_jobs = std::atoi(optarg);
        break;
      case 'f': {
        f->fleet.clear();
        std::string list = optarg;
        for (size_t at = 0; at < list.size();) {
          size_t comma = list.find(',', at);
          if (comma == std::string::npos) comma = list.size();
          if (comma > at)
            f->fleet.push_back(std::atoi(list.substr(at).c_str()));
          at = comma + 1;
        }
        break;
      }
      case 'i':
        f->idle_seconds = std::atoi(optarg);
        break;
      case 'n':
        f->per_shard = std::max(1, std::atoi(optarg));
        break;
      case 'C':
        f->cell = std::atoi(optarg) != 0;
        break;
      case 'J':
        f->cell_jobs = std::max(0, std::atoi(optarg));
        break;
      case 'F':
        f->cell_fleet = std::max(0, std::atoi(optarg));
        break;
      case 'k':
        f->keep = optarg;
        break;
      default:
        return false;
    }
  }
  if (f->conductor.empty()) {
    std::string self = argv[0];
    size_t slash = self.rfind('/');
    f->conductor = (slash == std::string::npos ? std::string(".")
                                               : self.substr(0, slash)) +
                   "/orchestra-conductor";
  }
  return optind == argc;
}

double Seconds(int64_t from_ns, int64_t to_ns) {
  return static_cast<double>(to_ns - from_ns) / 1e9;
}

void Note(const char* format, const std::string& what) {
  std::fprintf(stderr, format, what.c_str());
}

// Polls `done` every millisecond until it holds or `timeout_s` passes.
template <typename Done>
bool WaitUntil(Done done, double timeout_s) {
  const int64_t end = MonotonicNs() + static_cast<int64_t>(timeout_s * 1e9);
  while (!done()) {
    if (MonotonicNs() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

std::string PlayerName(size_t i) {
  char name[32];
  std::snprintf(name, sizeof name, "sim-%05zu", i);
  return name;
}

// One phase's directory: a fresh conductor key and a players file listing
// the first `count` of `keys`. Returns the conductor's public key.
Result<std::string> PreparePhase(const std::string& dir,
                                 const std::vector<broker::CurveKeyPair>& keys,
                                 size_t count) {
  Status s = common::MakeDirectories(dir + "/keys", 0700);
  if (!s.ok()) return s;
  Result<broker::CurveKeyPair> conductor = broker::GenerateKeyPair();
  if (!conductor.ok()) return conductor.status();
  s = broker::WriteKeyPair(dir + "/keys", "conductor", conductor.value());
  if (!s.ok()) return s;
  std::string players = "# written by orchestra-bench-load\n";
  for (size_t i = 0; i < count; ++i)
    players += PlayerName(i) + " " + keys[i].public_key + "\n";
  s = common::WriteFileAtomically(dir + "/players", players, 0644);
  if (!s.ok()) return s;
  return conductor.value().public_key;
}

Result<std::unique_ptr<broker::AudienceClient>> Audience(
    const ConductorProcess& conductor) {
  broker::ClientOptions options;
  options.endpoint = conductor.audience_endpoint();
  return broker::AudienceClient::Connect(options);
}

// Sends `submits` keeping `window` requests in flight; counts refusals.
Status SubmitPipelined(broker::AudienceClient* client,
                       const std::vector<broker::SubmitRequest>& submits,
                       int window, int* refused) {
  size_t sent = 0, answered = 0;
  while (answered < submits.size()) {
    while (sent < submits.size() &&
           sent - answered < static_cast<size_t>(window)) {
      Result<int64_t> req = client->Send(submits[sent]);
      if (!req.ok()) return req.status();
      ++sent;
    }
    auto reply = client->Receive(60000);
    if (!reply.ok()) return reply.status();
    if (!reply.value())
      return Status::Unavailable("submit", "no reply in 60 s");
    if (!std::holds_alternative<broker::SubmitReply>(reply.value()->body))
      ++*refused;
    ++answered;
  }
  return Status();
}

broker::SubmitRequest AllJob(size_t players) {
  broker::SubmitRequest submit;
  submit.score = "noop";
  submit.scope = broker::Scope::kAll;
  for (size_t i = 0; i < players; ++i) submit.players.push_back(PlayerName(i));
  return submit;
}

// Counts rows of `sql` (one integer column) in the database at `path`.
Result<int64_t> Count(const std::string& path, const char* sql) {
  Result<common::Database> db = common::Database::OpenReadOnly(path);
  if (!db.ok()) return db.status();
  Result<common::Statement> st = db.value().Prepare(sql);
  if (!st.ok()) return st.status();
  Result<bool> row = st.value().Step();
  if (!row.ok()) return row.status();
  return row.value() ? st.value().Int(0) : 0;
}

struct Rate {
  int64_t tasks = 0;
  double seconds = 0;
  double submit_seconds = 0;  // until the last submit reply
  int refused = 0;
};

// Submits `submits` and waits until `tasks` more results were acknowledged.
Result<Rate> Pump(broker::AudienceClient* client, Fleet* fleet,
                  const std::vector<broker::SubmitRequest>& submits,
                  int64_t tasks, int window) {
  const int64_t acks = fleet->Totals().acks;
  Rate rate;
  rate.tasks = tasks;
  const int64_t start = MonotonicNs();
  Status s = SubmitPipelined(client, submits, window, &rate.refused);
  if (!s.ok()) return s;
  rate.submit_seconds = Seconds(start, MonotonicNs());
  if (!WaitUntil([&] { return fleet->Totals().acks >= acks + tasks; }, 600))
    return Status::Unavailable("bench", "results missing after 600 s");
  rate.seconds = Seconds(start, fleet->Totals().last_ack_ns);
  return rate;
}

std::string RateJson(const Rate& r) {
  char text[256];
  std::snprintf(text, sizeof text,
                "{\"tasks\": %lld, \"seconds\": %.3f, \"tasks_per_s\": %.0f, "
                "\"submit_seconds\": %.3f, \"refused\": %d}",
                static_cast<long long>(r.tasks), r.seconds,
                r.seconds > 0 ? r.tasks / r.seconds : 0.0, r.submit_seconds,
                r.refused);
  return text;
}

// `jobs` `one` jobs; job i lists `targets` players from player
// i * targets on: the fleet shares the work and each job still has a
// choice of players.
std::vector<broker::SubmitRequest> OneJobs(const Flags& flags, int jobs) {
  std::vector<broker::SubmitRequest> ones(jobs);
  const size_t targets = std::min(flags.targets, flags.players);
  for (size_t i = 0; i < ones.size(); ++i) {
    ones[i].score = "noop";
    for (size_t k = 0; k < targets; ++k)
      ones[i].players.push_back(
          PlayerName((i * targets + k) % static_cast<size_t>(flags.players)));
  }
  return ones;
}

// What the `one` jobs measured, by one conductor or by a cell: the rate,
// the active conductor's CPU, and resident memory of each conductor (the
// active one first) with the players connected, before and after the jobs.
struct OnePhase {
  int jobs = 0;
  Rate rate;
  double cpu_us_per_task = 0;
  std::vector<int64_t> rss_before, rss_after;
};

// Resident memory of each of `conductors`, in bytes (0 if unreadable).
std::vector<int64_t> Resident(
    const std::vector<const ConductorProcess*>& conductors) {
  std::vector<int64_t> rss;
  for (const ConductorProcess* c : conductors) {
    Result<int64_t> bytes = c->ResidentBytes();
    rss.push_back(bytes.ok() ? bytes.value() : 0);
  }
  return rss;
}

// `jobs` `one` jobs through `fleet`, connected to `conductors[0]`.
Result<OnePhase> PumpOnes(
    const Flags& flags, int jobs, broker::AudienceClient* client, Fleet* fleet,
    const std::vector<const ConductorProcess*>& conductors) {
  OnePhase phase;
  phase.jobs = jobs;
  std::vector<broker::SubmitRequest> ones = OneJobs(flags, jobs);
  phase.rss_before = Resident(conductors);
  const double cpu0 = conductors[0]->CpuSeconds().value();
  Result<Rate> rate = Pump(client, fleet, ones, jobs, flags.window);
  if (!rate.ok()) return rate.status();
  phase.rate = rate.value();
  phase.cpu_us_per_task =
      (conductors[0]->CpuSeconds().value() - cpu0) * 1e6 / jobs;
  phase.rss_after = Resident(conductors);
  return phase;
}

// Dispatch throughput through `flags.players` players; the `one` jobs'
// figures also in `*single`.
Result<std::string> Throughput(const Flags& flags, const std::string& dir,
                               const std::vector<broker::CurveKeyPair>& keys,
                               OnePhase* single) {
  Result<std::string> server = PreparePhase(dir, keys, flags.players);
  if (!server.ok()) return server.status();
  ConductorProcess conductor(flags.conductor, dir);
  Status s = conductor.Start();
  if (!s.ok()) return s;
  bench::ShardSettings settings{
      {conductor.player_endpoint()}, server.value(), flags.slots, "noop"};
  Fleet fleet(settings, flags.per_shard);
  s = fleet.Start(keys, static_cast<size_t>(flags.players));
  if (!s.ok()) return s;
  if (!WaitUntil([&] { return fleet.Totals().welcomed >= flags.players; }, 60))
    return Status::Unavailable("bench", "players did not all connect");
  auto client = Audience(conductor);
  if (!client.ok()) return client.status();
  const int targets = std::min(flags.targets, flags.players);
  Note("bench: %s\n", "throughput: " + std::to_string(flags.jobs) +
                          " one jobs over " + std::to_string(flags.players) +
                          " players");
  Result<OnePhase> one =
      PumpOnes(flags, flags.jobs, client.value().get(), &fleet, {&conductor});
  if (!one.ok()) return one.status();
  *single = one.value();
  const double cpu1 = conductor.CpuSeconds().value();
  std::vector<broker::SubmitRequest> alls(flags.all_jobs,
                                          AllJob(flags.players));
  Note("bench: %s\n",
       "throughput: " + std::to_string(flags.all_jobs) + " all jobs");
  // None (--all-jobs 0): zeros, not the rate of nothing.
  const int64_t all_tasks = int64_t{flags.all_jobs} * flags.players;
  Result<Rate> all = Rate{};
  if (all_tasks > 0)
    all = Pump(client.value().get(), &fleet, alls, all_tasks, flags.window);
  if (!all.ok()) return all.status();
  const double cpu2 = conductor.CpuSeconds().value();
  // Durable means it survives a crash: kill -9, then count what is stored.
  ::kill(conductor.pid(), SIGKILL);
  (void)conductor.Stop();
  fleet.Stop();
  Result<int64_t> ok_tasks = Count(
      dir + "/conductor.db", "SELECT count(*) FROM tasks WHERE state = 'OK'");
  if (!ok_tasks.ok()) return ok_tasks.status();
  Result<int64_t> ok_jobs = Count(
      dir + "/conductor.db", "SELECT count(*) FROM jobs WHERE state = 'OK'");
  if (!ok_jobs.ok()) return ok_jobs.status();
  char text[768];
  std::snprintf(
      text, sizeof text,
      "{\"players\": %d, \"targets\": %d, \"slots\": %d, \"window\": %d, "
      "\"one\": %s, "
      "\"all\": %s, \"conductor_cpu_us_per_task_one\": %.1f, "
      "\"conductor_cpu_us_per_task_all\": %.1f, "
      "\"conductor_rss_before_one_bytes\": %lld, "
      "\"conductor_rss_after_one_bytes\": %lld, \"durable_ok_tasks\": %lld, "
      "\"durable_ok_jobs\": %lld, \"expected_tasks\": %lld, "
      "\"expected_jobs\": %d}",
      flags.players, targets, flags.slots, flags.window,
      RateJson(single->rate).c_str(), RateJson(all.value()).c_str(),
      single->cpu_us_per_task,
      all_tasks > 0 ? (cpu2 - cpu1) * 1e6 / all_tasks : 0.0,
      static_cast<long long>(single->rss_before[0]),
      static_cast<long long>(single->rss_after[0]),
      static_cast<long long>(ok_tasks.value()),
      static_cast<long long>(ok_jobs.value()),
      static_cast<long long>(flags.jobs +
                             int64_t{flags.all_jobs} * flags.players),
      flags.jobs + flags.all_jobs);
  return std::string(text);
}

// `n` distinct free TCP ports on 127.0.0.1, the system's choice: all bound
// at once, then closed for the conductors to bind.
Result<std::vector<int>> FreePorts(size_t n) {
  std::vector<int> fds, ports;
  Status s;
  for (size_t i = 0; i < n && s.ok(); ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      s = Status::FromErrno("socket", errno);
      break;
    }
    fds.push_back(fd);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0)
      s = Status::FromErrno("binding 127.0.0.1:0", errno);
    else
      ports.push_back(ntohs(address.sin_port));
  }
  for (int fd : fds) ::close(fd);
  if (!s.ok()) return s;
  return ports;
}

// How many `one` jobs the cell runs: --cell-jobs, or a quarter of --jobs
// (a cell dispatches about a quarter as fast).
int CellJobs(const Flags& flags) {
  return flags.cell_jobs >= 0 ? flags.cell_jobs : flags.jobs / 4;
}

// Seconds from `start_ns` until `count` players are welcomed.
Result<double> ConnectTime(Fleet* fleet, int64_t count, int64_t start_ns) {
  if (!WaitUntil([&] { return fleet->Totals().welcomed >= count; }, 300)) {
    FleetTotals t = fleet->Totals();
    return Status::Unavailable(
        "bench", std::to_string(t.welcomed) + " of " + std::to_string(count) +
                     " players connected in 300 s (refused " +
                     std::to_string(t.refused) + ")");
  }
  return Seconds(start_ns, fleet->Totals().last_welcome_ns);
}

// A cell of three conductors on dqlite, on loopback (DESIGN.md section
// 17), under `dir`: the key pair and the players file (`players` of
// `keys`) shared, node-1..3 each with its config, log, audience socket,
// data directory and a player port of its own, fixed so that a player's
// list of the three stays right after a failover. Node 1 has the cell
// address that sorts first: it bootstraps the cell and is the active
// conductor; the other two join as voters and stand by.
struct Cell {
  std::string server_public_key;
  std::vector<std::unique_ptr<ConductorProcess>> nodes;
  std::vector<std::string> player_endpoints() const {
    std::vector<std::string> endpoints;
    for (const auto& node : nodes) endpoints.push_back(node->player_endpoint());
    return endpoints;
  }
};

Result<Cell> StartCell(const Flags& flags, const std::string& dir,
                       const std::vector<broker::CurveKeyPair>& keys,
                       size_t players) {
  Cell cell;
  Result<std::string> server = PreparePhase(dir, keys, players);
  if (!server.ok()) return server.status();
  cell.server_public_key = server.value();
  Result<std::vector<int>> ports = FreePorts(6);
  if (!ports.ok()) return ports.status();
  std::vector<std::string> addresses;
  for (size_t i = 0; i < 3; ++i)
    addresses.push_back("127.0.0.1:" + std::to_string(ports.value()[i]));
  std::sort(addresses.begin(), addresses.end());
  for (size_t i = 0; i < addresses.size(); ++i) {
    const std::string node_dir = dir + "/node-" + std::to_string(i + 1);
    Status s = common::MakeDirectories(node_dir, 0700);
    if (!s.ok()) return s;
    cell.nodes.push_back(
        std::make_unique<ConductorProcess>(flags.conductor, node_dir, dir));
    ConductorProcess* node = cell.nodes.back().get();
    node->set_database_path(node_dir + "/dqlite");
    node->set_player_endpoint("tcp://127.0.0.1:" +
                              std::to_string(ports.value()[3 + i]));
    std::string peers;
    for (size_t j = 0; j < addresses.size(); ++j) {
      if (j != i) peers += (peers.empty() ? "" : ",") + addresses[j];
    }
    const std::string extra =
        "database engine = dqlite\ncell address = " + addresses[i] +
        "\ncell peers = " + peers + "\n";
    s = i == 0 ? node->Start(extra) : node->StartStandby(extra);
    if (!s.ok()) return s;
  }
  return cell;
}

// The `one` jobs through a cell, the players on the active conductor. All
// three stop at the end.
Result<OnePhase> CellThroughput(const Flags& flags, const std::string& dir,
                                const std::vector<broker::CurveKeyPair>& keys) {
  const int jobs = CellJobs(flags);
  Note("bench: %s\n", "cell: " + std::to_string(jobs) + " one jobs over " +
                          std::to_string(flags.players) +
                          " players through a cell of 3 conductors");
  Result<Cell> cell = StartCell(flags, dir, keys, flags.players);
  if (!cell.ok()) return cell.status();
  const auto& nodes = cell.value().nodes;
  std::vector<const ConductorProcess*> conductors;
  for (const auto& node : nodes) conductors.push_back(node.get());
  bench::ShardSettings settings{{nodes[0]->player_endpoint()},
                                cell.value().server_public_key,
                                flags.slots,
                                "noop"};
  Fleet fleet(settings, flags.per_shard);
  Status s = fleet.Start(keys, static_cast<size_t>(flags.players));
  if (!s.ok()) return s;
  if (!WaitUntil([&] { return fleet.Totals().welcomed >= flags.players; }, 60))
    return Status::Unavailable("bench", "players did not all connect");
  auto client = Audience(*nodes[0]);
  if (!client.ok()) return client.status();
  Result<OnePhase> phase =
      PumpOnes(flags, jobs, client.value().get(), &fleet, conductors);
  if (!phase.ok()) return phase.status();
  fleet.Stop();
  // The active conductor first, so that it still has a quorum while it
  // stops; then the two that stand by.
  for (const auto& node : nodes) {
    s = node->Stop();
    if (!s.ok()) Note("bench: cell: %s\n", s.ToString());
  }
  return phase;
}

// What a failover of a cell's fleet measured: seconds from the kill of
// the active conductor until the share of players in the name had a
// session with the new one.
struct FailoverFigures {
  size_t players = 0;
  double connect_s = 0;  // the first connection of all, to the cell
  double half_s = 0, p90_s = 0, p99_s = 0, all_s = 0;
  int64_t moves = 0;    // players moving on (not_leader, drop, silence)
  int64_t refused = 0;  // sessions refused otherwise
  double new_leader_cpu_s = 0;
};

double CpuOrZero(const ConductorProcess& conductor) {
  Result<double> cpu = conductor.CpuSeconds();
  return cpu.ok() ? cpu.value() : 0;
}

// `n` players, each given the three player endpoints (the active
// conductor's first), connect to a cell; then the active conductor is
// killed with SIGKILL and the players find the new one by themselves, as
// real players do (PlayerShard). The kill's time to each share of the
// players welcomed again.
Result<FailoverFigures> CellFailover(
    const Flags& flags, const std::string& dir,
    const std::vector<broker::CurveKeyPair>& keys, size_t n) {
  Note("bench: %s\n", "cell failover of " + std::to_string(n) + " players");
  Result<Cell> cell = StartCell(flags, dir, keys, n);
  if (!cell.ok()) return cell.status();
  auto& nodes = cell.value().nodes;
  bench::ShardSettings settings{cell.value().player_endpoints(),
                                cell.value().server_public_key, 4, "noop"};
  Fleet fleet(settings, flags.per_shard);
  FailoverFigures f;
  f.players = n;
  const int64_t start = MonotonicNs();
  Status s = fleet.Start(keys, n);
  if (!s.ok()) return s;
  Result<double> connect = ConnectTime(&fleet, n, start);
  if (!connect.ok()) return connect.status();
  f.connect_s = connect.value();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // settle the store
  const FleetTotals before = fleet.Totals();
  std::vector<double> cpu_before;
  for (size_t i = 1; i < nodes.size(); ++i)
    cpu_before.push_back(CpuOrZero(*nodes[i]));
  const int64_t kill_ns = MonotonicNs();
  nodes[0]->Kill();
  const std::vector<double> shares = {0.5, 0.9, 0.99, 1.0};
  std::vector<double*> figures = {&f.half_s, &f.p90_s, &f.p99_s, &f.all_s};
  size_t next = 0;
  const int64_t deadline = kill_ns + int64_t{300} * 1000000000;
  while (next < shares.size() && MonotonicNs() < deadline) {
    const int64_t again = fleet.Totals().welcomed - before.welcomed;
    while (next < shares.size() &&
           again >= static_cast<int64_t>(std::ceil(shares[next] * n))) {
      *figures[next++] = Seconds(kill_ns, MonotonicNs());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const FleetTotals after = fleet.Totals();
  f.moves = after.moves - before.moves;
  f.refused = after.refused - before.refused;
  for (size_t i = 1; i < nodes.size(); ++i)
    f.new_leader_cpu_s =
        std::max(f.new_leader_cpu_s, CpuOrZero(*nodes[i]) - cpu_before[i - 1]);
  fleet.Stop();
  for (auto& node : nodes) node->Kill();  // two of three: no quorum to stop
  if (next < shares.size())
    return Status::Unavailable(
        "bench", std::to_string(after.welcomed - before.welcomed) + " of " +
                     std::to_string(n) + " players back in 300 s");
  return f;
}

std::string FailoverJson(const FailoverFigures& f) {
  char text[512];
  std::snprintf(
      text, sizeof text,
      "{\"players\": %zu, \"connect_s\": %.3f, \"half_back_s\": %.3f, "
      "\"p90_back_s\": %.3f, \"p99_back_s\": %.3f, \"all_back_s\": %.3f, "
      "\"moves\": %lld, \"refused\": %lld, \"new_leader_cpu_s\": %.3f}",
      f.players, f.connect_s, f.half_s, f.p90_s, f.p99_s, f.all_s,
      static_cast<long long>(f.moves), static_cast<long long>(f.refused),
      f.new_leader_cpu_s);
  return text;
}

double Megabytes(int64_t bytes) { return static_cast<double>(bytes) / 1e6; }

std::string CellJson(const Flags& flags, const OnePhase& cell,
                     const OnePhase* single) {
  char text[1024];
  std::snprintf(
      text, sizeof text,
      "{\"conductors\": 3, \"engine\": \"dqlite\", \"players\": %d, "
      "\"jobs\": %d, \"jobs_single\": %d, \"one\": %s, \"tasks_per_s\": %.0f, "
      "\"jobs_per_s\": %.0f, \"single_tasks_per_s\": %.0f, "
      "\"single_jobs_per_s\": %.0f, \"over_single\": %.3f, "
      "\"active_cpu_us_per_task\": %.1f, \"active_rss_before_bytes\": %lld, "
      "\"active_rss_after_bytes\": %lld, "
      "\"others_rss_before_bytes\": [%lld, %lld], "
      "\"others_rss_after_bytes\": [%lld, %lld]}",
      flags.players, cell.jobs, single ? single->jobs : 0,
      RateJson(cell.rate).c_str(), cell.rate.tasks / cell.rate.seconds,
      cell.jobs / cell.rate.seconds,
      single ? single->rate.tasks / single->rate.seconds : 0.0,
      single ? single->jobs / single->rate.seconds : 0.0,
      single ? (cell.jobs / cell.rate.seconds) /
                   (single->jobs / single->rate.seconds)
             : 0.0,
      cell.cpu_us_per_task, static_cast<long long>(cell.rss_before[0]),
      static_cast<long long>(cell.rss_after[0]),
      static_cast<long long>(cell.rss_before[1]),
      static_cast<long long>(cell.rss_before[2]),
      static_cast<long long>(cell.rss_after[1]),
      static_cast<long long>(cell.rss_after[2]));
  return text;
}

std::string Format(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

void Row(const std::string& figure, const std::string& single,
         const std::string& cell) {
  std::fprintf(stderr, "%-30s %18s %22s\n", figure.c_str(), single.c_str(),
               cell.c_str());
}

// The `one` jobs of one conductor (if they ran) and of the cell side by
// side, on stderr.
void PrintCellTable(const Flags& flags, const OnePhase& cell,
                    const OnePhase* single) {
  auto figure = [&](const OnePhase& p, const std::string& which) {
    if (which == "tasks/s")
      return Format("%.0f", p.rate.tasks / p.rate.seconds);
    if (which == "jobs/s") return Format("%.0f", p.jobs / p.rate.seconds);
    if (which == "cpu") return Format("%.1f", p.cpu_us_per_task);
    if (which == "rss") {
      return Format("%.1f", Megabytes(p.rss_before[0])) + " -> " +
             Format("%.1f MB", Megabytes(p.rss_after[0]));
    }
    return std::string();
  };
  auto both = [&](const std::string& name, const std::string& which) {
    Row(name, single ? figure(*single, which) : "-", figure(cell, which));
  };
  Row("one jobs, " + std::to_string(flags.players) + " players",
      "one conductor", "cell of 3 (dqlite)");
  Row("jobs", single ? std::to_string(single->jobs) : "-",
      std::to_string(cell.jobs) +
          (flags.cell_jobs < 0 ? " (1/4 of --jobs)" : ""));
  both("tasks/s", "tasks/s");
  both("jobs/s", "jobs/s");
  both("active CPU us/task", "cpu");
  both("active RSS before -> after", "rss");
  for (size_t i = 1; i < cell.rss_after.size(); ++i) {
    Row("standby " + std::to_string(i) + " RSS before -> after", "-",
        Format("%.1f", Megabytes(cell.rss_before[i])) + " -> " +
            Format("%.1f MB", Megabytes(cell.rss_after[i])));
  }
}

struct FanOut {
  double reach = 0;   // until the last player received its task
  double finish = 0;  // until the wait reply said the job finished
  double cpu = 0;     // the conductor's CPU seconds meanwhile
};

// One `all` job over `n` players: submit, then wait for its end.
Result<FanOut> OneAllJob(broker::AudienceClient* client, Fleet* fleet,
                         const ConductorProcess& conductor, size_t n) {
  const int64_t tasks = fleet->Totals().tasks;
  const double cpu = conductor.CpuSeconds().value();
  const int64_t start = MonotonicNs();
  auto reply = client->Call(AllJob(n), 60000);
  if (!reply.ok()) return reply.status();
  auto* submitted = std::get_if<broker::SubmitReply>(&reply.value().body);
  if (submitted == nullptr) return Status::Internal("bench", "submit refused");
  auto done = client->Call(broker::WaitRequest{submitted->job, 120000}, 130000);
  if (!done.ok()) return done.status();
  auto* job = std::get_if<broker::JobReply>(&done.value().body);
  if (job == nullptr || job->job.state != broker::JobState::kOk)
    return Status::Internal("bench", "the all job did not end OK");
  FanOut f;
  f.finish = Seconds(start, MonotonicNs());
  f.cpu = conductor.CpuSeconds().value() - cpu;
  if (!WaitUntil([&] { return fleet->Totals().tasks >= tasks + int64_t(n); },
                 10))
    return Status::Internal("bench", "tasks missing");
  f.reach = Seconds(start, fleet->Totals().last_task_ns);
  return f;
}

// Idle CPU of the conductor over `seconds`, in percent of one core.
double IdleCpu(const ConductorProcess& conductor, int seconds) {
  const double before = conductor.CpuSeconds().value();
  const int64_t start = MonotonicNs();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const double after = conductor.CpuSeconds().value();
  return 100.0 * (after - before) / Seconds(start, MonotonicNs());
}

// What one fleet size measured.
struct FleetFigures {
  size_t players = 0;
  double connect_s = 0, reconnect_s = 0;
  int64_t rss_idle = 0, rss_connected = 0, rss_after_jobs = 0;
  int64_t rss_after_restart = 0, beats = 0;
  double idle_cpu_percent = 0;
  FanOut one;
  Rate ten;
  double ten_cpu = 0;
};

// Connects the first `f->players` of `keys` from a fresh fleet; the connect
// time, memory, idle CPU.
Status MeasureConnected(const Flags& flags, const ConductorProcess& conductor,
                        Fleet* fleet,
                        const std::vector<broker::CurveKeyPair>& keys,
                        FleetFigures* f) {
  const int64_t start = MonotonicNs();
  Status s = fleet->Start(keys, f->players);
  if (!s.ok()) return s;
  Result<double> connect = ConnectTime(fleet, f->players, start);
  if (!connect.ok()) return connect.status();
  f->connect_s = connect.value();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  f->rss_connected = conductor.ResidentBytes().value();
  const int64_t beats = fleet->Totals().heartbeats;
  f->idle_cpu_percent = IdleCpu(conductor, flags.idle_seconds);
  f->beats = fleet->Totals().heartbeats - beats;
  return Status();
}

// One `all` job over the fleet, then ten at once.
Status MeasureJobs(const ConductorProcess& conductor, Fleet* fleet,
                   FleetFigures* f) {
  auto client = Audience(conductor);
  if (!client.ok()) return client.status();
  Result<FanOut> one =
      OneAllJob(client.value().get(), fleet, conductor, f->players);
  if (!one.ok()) return one.status();
  f->one = one.value();
  const double cpu = conductor.CpuSeconds().value();
  Result<Rate> ten =
      Pump(client.value().get(), fleet,
           std::vector<broker::SubmitRequest>(10, AllJob(f->players)),
           int64_t{10} * static_cast<int64_t>(f->players), 10);
  if (!ten.ok()) return ten.status();
  f->ten = ten.value();
  f->ten_cpu = conductor.CpuSeconds().value() - cpu;
  f->rss_after_jobs = conductor.ResidentBytes().value();
  return Status();
}

// A restart: the players keep trying while the conductor is down, and all
// connect again (Curve handshake, hello) once it is back.
Status MeasureRestart(ConductorProcess* conductor,
                      const bench::ShardSettings& settings, size_t per_shard,
                      const std::vector<broker::CurveKeyPair>& keys,
                      FleetFigures* f) {
  Status s = conductor->Stop();
  if (!s.ok()) return s;
  Fleet fleet(settings, per_shard);
  s = fleet.Start(keys, f->players);
  if (!s.ok()) return s;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const int64_t start = MonotonicNs();
  s = conductor->Start();
  if (!s.ok()) return s;
  Result<double> again = ConnectTime(&fleet, f->players, start);
  if (!again.ok()) return again.status();
  f->reconnect_s = again.value();
  f->rss_after_restart = conductor->ResidentBytes().value();
  return conductor->Stop();
}

std::string FleetJson(const FleetFigures& f, int idle_seconds) {
  char text[1024];
  std::snprintf(
      text, sizeof text,
      "{\"players\": %zu, \"connect_s\": %.3f, \"reconnect_after_restart_s\": "
      "%.3f, \"rss_idle_bytes\": %lld, \"rss_connected_bytes\": %lld, "
      "\"rss_bytes_per_player\": %.0f, \"rss_after_jobs_bytes\": %lld, "
      "\"rss_after_restart_bytes\": %lld, \"idle_cpu_percent\": %.2f, "
      "\"idle_seconds\": %d, \"player_heartbeats\": %lld, "
      "\"all_job_reach_s\": %.3f, \"all_job_finish_s\": %.3f, "
      "\"all_job_conductor_cpu_s\": %.3f, \"ten_all_jobs_s\": %.3f, "
      "\"ten_all_jobs_tasks_per_s\": %.0f, "
      "\"ten_all_jobs_conductor_cpu_s\": %.3f}",
      f.players, f.connect_s, f.reconnect_s, static_cast<long long>(f.rss_idle),
      static_cast<long long>(f.rss_connected),
      static_cast<double>(f.rss_connected - f.rss_idle) / f.players,
      static_cast<long long>(f.rss_after_jobs),
      static_cast<long long>(f.rss_after_restart), f.idle_cpu_percent,
      idle_seconds, static_cast<long long>(f.beats), f.one.reach, f.one.finish,
      f.one.cpu, f.ten.seconds, f.ten.tasks / f.ten.seconds, f.ten_cpu);
  return text;
}

// The figures for `n` connected players.
Result<FleetFigures> FleetPhase(const Flags& flags, const std::string& dir,
                                const std::vector<broker::CurveKeyPair>& keys,
                                size_t n) {
  Note("bench: %s\n", "fleet of " + std::to_string(n) + " players");
  Result<std::string> server = PreparePhase(dir, keys, n);
  if (!server.ok()) return server.status();
  ConductorProcess conductor(flags.conductor, dir);
  Status s = conductor.Start();
  if (!s.ok()) return s;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  FleetFigures f;
  f.players = n;
  f.rss_idle = conductor.ResidentBytes().value();
  bench::ShardSettings settings{
      {conductor.player_endpoint()}, server.value(), 4, "noop"};
  {
    Fleet fleet(settings, flags.per_shard);
    s = MeasureConnected(flags, conductor, &fleet, keys, &f);
    if (s.ok()) s = MeasureJobs(conductor, &fleet, &f);
    if (!s.ok()) return s;
  }
  s = MeasureRestart(&conductor, settings, flags.per_shard, keys, &f);
  if (!s.ok()) return s;
  Note("bench: %s\n", FleetJson(f, flags.idle_seconds));
  return f;
}

// The fleet figures as a table, on stderr.
void PrintTable(const std::vector<FleetFigures>& fleets) {
  std::fprintf(stderr, "%8s %9s %9s %9s %7s %9s %9s %8s %9s %8s\n", "players",
               "connect", "restart", "B/player", "idle%", "1x reach", "1x end",
               "1x cpu", "10x end", "10x cpu");
  for (const FleetFigures& f : fleets) {
    std::fprintf(stderr,
                 "%8zu %8.2fs %8.2fs %9.0f %6.1f%% %8.3fs %8.3fs %7.3fs "
                 "%8.3fs %7.3fs\n",
                 f.players, f.connect_s, f.reconnect_s,
                 static_cast<double>(f.rss_connected - f.rss_idle) / f.players,
                 f.idle_cpu_percent, f.one.reach, f.one.finish, f.one.cpu,
                 f.ten.seconds, f.ten_cpu);
  }
}

int Main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  Result<uint64_t> files = common::RaiseOpenFileLimit();
  if (!files.ok()) Note("bench: %s\n", files.status().ToString());
  std::string dir = flags.keep;
  if (dir.empty()) {
    char pattern[] = "/tmp/orchestra-bench-load.XXXXXX";
    if (::mkdtemp(pattern) == nullptr) return 1;
    dir = pattern;
  }
  size_t most = static_cast<size_t>(flags.players);
  for (int n : flags.fleet) most = std::max(most, static_cast<size_t>(n));
  most = std::max(most, static_cast<size_t>(flags.cell_fleet));
  std::vector<broker::CurveKeyPair> keys;
  for (size_t i = 0; i < most; ++i)
    keys.push_back(broker::GenerateKeyPair().value());
  std::string json =
      "{\"open_file_limit\": " + std::to_string(files.ok() ? files.value() : 0);
  OnePhase single;
  if (flags.jobs > 0) {
    Result<std::string> t =
        Throughput(flags, dir + "/throughput", keys, &single);
    if (!t.ok()) {
      Note("bench: throughput failed: %s\n", t.status().ToString());
      return 1;
    }
    Note("bench: %s\n", t.value());
    json += ", \"throughput\": " + t.value();
  }
  if (flags.cell && CellJobs(flags) > 0) {
    Result<OnePhase> cell = CellThroughput(flags, dir + "/cell", keys);
    if (!cell.ok()) {
      Note("bench: cell failed: %s\n", cell.status().ToString());
      return 1;
    }
    const OnePhase* one = flags.jobs > 0 ? &single : nullptr;
    Note("bench: %s\n", CellJson(flags, cell.value(), one));
    PrintCellTable(flags, cell.value(), one);
    json += ", \"cell\": " + CellJson(flags, cell.value(), one);
  }
  if (flags.cell_fleet > 0) {
    Result<FailoverFigures> failover =
        CellFailover(flags, dir + "/cell-failover", keys,
                     static_cast<size_t>(flags.cell_fleet));
    if (!failover.ok()) {
      Note("bench: cell failover failed: %s\n", failover.status().ToString());
      return 1;
    }
    const FailoverFigures& f = failover.value();
    Note("bench: %s\n", FailoverJson(f));
    std::fprintf(stderr,
                 "cell failover, %zu players: back 50%% %.2fs, 90%% %.2fs, "
                 "99%% %.2fs, all %.2fs after the kill (%lld moves)\n",
                 f.players, f.half_s, f.p90_s, f.p99_s, f.all_s,
                 static_cast<long long>(f.moves));
    json += ", \"cell_failover\": " + FailoverJson(f);
  }
  json += ", \"fleet\": [";
  std::vector<FleetFigures> fleets;
  for (size_t i = 0; i < flags.fleet.size(); ++i) {
    const size_t n = static_cast<size_t>(flags.fleet[i]);
    Result<FleetFigures> f =
        FleetPhase(flags, dir + "/fleet-" + std::to_string(n), keys, n);
    if (!f.ok()) {
      Note("bench: fleet failed: %s\n", f.status().ToString());
      return 1;
    }
    json += (i ? ", " : "") + FleetJson(f.value(), flags.idle_seconds);
    fleets.push_back(f.value());
  }
  if (!fleets.empty()) PrintTable(fleets);
  json += "]}";
  std::printf("%s\n", json.c_str());
  if (flags.keep.empty()) {
    const std::string rm = "rm -rf '" + dir + "'";
    if (std::system(rm.c_str()) != 0) return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
