// End-to-end: a cell of three real conductors on dqlite (DESIGN.md section
// 17) with real players and the real CLI: failover under load, a paused
// leader that comes back, and a cell that has lost its quorum.

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "test/cell_cluster.h"

namespace orchestra::test {
namespace {

using Clock = std::chrono::steady_clock;

const char kHello[] = "#!/bin/sh\necho \"hello from $ORC_PLAYER\"\n";

// Polls `done` until it holds or `timeout` passes (for states no single log
// line announces, e.g. a count across three processes).
bool WaitUntil(const std::function<bool()>& done,
               std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

bool IsNumber(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

std::string Trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.pop_back();
  return text;
}

std::string Lower(std::string text) {
  for (char& c : text) c = std::tolower(static_cast<unsigned char>(c));
  return text;
}

// One line of a player's run file: what one run of the `record` score saw.
struct TaskRun {
  std::string task, job, submit;
};

// A job of `orchestra jobs`: its id and state.
struct JobRow {
  std::string id, state;
};

class CellTest : public testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"p1", "p2"}) cell_.AddPlayer(name);
    cell_.WriteScoreEverywhere("hello", kHello);
    // Each run appends its task, its job and the submit it came from to
    // its player's run file: a task run twice shows up as two lines.
    cell_.WriteScoreEverywhere(
        "record", "#!/bin/sh\necho \"$ORC_TASK_ID $ORC_JOB_ID $ORC_n\" >> " +
                      cell_.dir() + "/runs-$ORC_PLAYER\n");
    ASSERT_TRUE(cell_.StartAll());
    ASSERT_TRUE(cell_.StartPlayer("p1"));
    ASSERT_TRUE(cell_.StartPlayer("p2"));
  }

  // Every run in the players' run files.
  std::vector<TaskRun> Runs() {
    std::vector<TaskRun> runs;
    for (const char* name : {"p1", "p2"}) {
      std::ifstream in(cell_.dir() + "/runs-" + name);
      TaskRun run;
      while (in >> run.task >> run.job >> run.submit) runs.push_back(run);
    }
    return runs;
  }

  // The jobs the cell lists (through any of its conductors).
  std::vector<JobRow> Jobs() {
    CommandResult r = cell_.Cli({"jobs", "--limit", "10000"});
    EXPECT_EQ(0, r.exit_code) << r.err;
    std::vector<JobRow> jobs;
    std::istringstream lines(r.out);
    std::string line;
    while (std::getline(lines, line)) {
      std::istringstream words(line);
      JobRow row;
      if (words >> row.id >> row.state && IsNumber(row.id)) jobs.push_back(row);
    }
    return jobs;
  }

  // Submits one `record` job for submit `n`; its id, or "" if the CLI did
  // not acknowledge it.
  std::string Submit(int n, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"submit", "-p", "n=" + std::to_string(n)};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"record", "p1,p2"});
    CommandResult r = cell_.Cli(args, 60s);
    const std::string id = Trimmed(r.out);
    return r.exit_code == 0 && IsNumber(id) ? id : "";
  }

  // Submits one `record` job for submit `n` and waits until it is done;
  // true when it ended OK.
  bool RunJob(int n) {
    CommandResult r = cell_.Cli(
        {"submit", "--wait", "-p", "n=" + std::to_string(n), "record", "p1,p2"},
        60s);
    EXPECT_EQ(0, r.exit_code) << r.out << r.err;
    return r.exit_code == 0;
  }

  // Checks that no task ran twice and no submit made two jobs that ran.
  void ExpectEachRunOnce(const std::vector<TaskRun>& runs) {
    std::map<std::string, int> by_task;
    std::map<std::string, std::set<std::string>> jobs_by_submit;
    for (const TaskRun& run : runs) {
      ++by_task[run.task];
      jobs_by_submit[run.submit].insert(run.job);
    }
    for (const auto& [task, count] : by_task)
      EXPECT_EQ(1, count) << "task " << task << " ran " << count << " times";
    for (const auto& [submit, jobs] : jobs_by_submit)
      EXPECT_EQ(1u, jobs.size())
          << "submit " << submit << " ran as " << jobs.size() << " jobs";
  }

  CellCluster cell_;
};

TEST_F(CellTest, JobThroughAllThreeEndpointsRunsAndIsVisible) {
  CommandResult r =
      cell_.Cli({"submit", "--all", "--wait", "hello", "p1", "p2"}, 30s);
  EXPECT_EQ(0, r.exit_code) << r.out << r.err;
  EXPECT_NE(std::string::npos, r.out.find("hello from p1")) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("hello from p2")) << r.out;

  std::vector<JobRow> jobs = Jobs();
  ASSERT_EQ(1u, jobs.size());
  EXPECT_EQ("OK", jobs[0].state);

  // The reporting command, once the CLI has it.
  if (cell_.Cli({"help"}).out.find("  sql ") != std::string::npos) {
    r = cell_.Cli({"sql", "SELECT count(*) FROM jobs"});
    EXPECT_EQ(0, r.exit_code) << r.out << r.err;
    EXPECT_NE(std::string::npos, r.out.find('1')) << r.out;
  }
}

TEST_F(CellTest, KillingTheActiveConductorUnderLoadLosesAndRepeatsNothing) {
  // The load: one submit after another, each acknowledged one recorded.
  std::mutex mu;
  std::map<int, std::string> acked;  // submit -> job
  std::atomic<int> attempts{0};
  std::atomic<bool> stop{false};
  std::thread load;
  // Stops the load however the test ends (an ASSERT returns early).
  struct Joiner {
    std::atomic<bool>* stop;
    std::thread* thread;
    ~Joiner() {
      *stop = true;
      if (thread->joinable()) thread->join();
    }
  } joiner{&stop, &load};
  load = std::thread([&] {
    for (int n = 1; !stop; ++n) {
      ++attempts;
      const std::string job = Submit(n);
      if (job.empty()) continue;
      std::lock_guard<std::mutex> lock(mu);
      acked[n] = job;
    }
  });
  auto acked_count = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return acked.size();
  };

  for (int round = 0; round < 3; ++round) {
    const int active = cell_.WaitForActive();
    ASSERT_GE(active, 0) << "round " << round;
    const int64_t epoch = cell_.epoch();
    // Some load on this leader before it dies.
    const size_t before = acked_count();
    ASSERT_TRUE(WaitUntil([&] { return acked_count() > before; }, 20s))
        << "no submit acknowledged in round " << round;
    const auto killed_at = Clock::now();
    cell_.Kill(active, SIGKILL);
    const int next = cell_.WaitForActive(epoch, 20s);
    ASSERT_GE(next, 0) << "no conductor took over in round " << round << "\n"
                       << cell_.LogTails();
    EXPECT_NE(active, next);
    const size_t at_kill = acked_count();
    EXPECT_TRUE(WaitUntil([&] { return acked_count() > at_kill; }, 20s))
        << "no submit acknowledged after the failover in round " << round;
    std::cerr << "round " << round << ": conductor " << next << " active "
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                     Clock::now() - killed_at)
                     .count()
              << " ms after the kill\n";
    if (getenv("CELL_DEBUG")) std::cerr << cell_.LogTails(14);
    ASSERT_TRUE(cell_.Restart(active));
    EXPECT_TRUE(cell_.conductor(active)
                    ->WaitForLog("role=players standby=true", 15s)
                    .has_value())
        << "the restarted conductor did not come back as a standby";
  }
  stop = true;
  load.join();

  // Every acknowledged submit finishes, as exactly one job.
  std::vector<JobRow> jobs;
  EXPECT_TRUE(WaitUntil(
      [&] {
        jobs = Jobs();
        return std::none_of(jobs.begin(), jobs.end(), [](const JobRow& j) {
          return j.state == "PENDING";
        });
      },
      30s))
      << "jobs still pending";
  std::map<std::string, std::string> state_of;
  for (const JobRow& j : jobs) state_of[j.id] = j.state;
  for (const auto& [n, job] : acked)
    EXPECT_EQ("OK", state_of[job]) << "submit " << n << " job " << job;
  EXPECT_GE(jobs.size(), acked.size());
  // A submit the CLI gave up on may still have made its job, but never more
  // than one; the run files tell which submit each job came from.
  EXPECT_LE(jobs.size(), static_cast<size_t>(attempts.load()));
  const std::vector<TaskRun> runs = Runs();
  ExpectEachRunOnce(runs);
  EXPECT_EQ(jobs.size(), runs.size()) << "jobs and runs differ";
  std::cerr << attempts << " submits, " << acked.size() << " acknowledged, "
            << jobs.size() << " jobs, " << runs.size() << " runs\n";
}

TEST_F(CellTest, PausedLeaderComesBackAsStandbyAndIsNotObeyed) {
  const int old = cell_.WaitForActive();
  ASSERT_GE(old, 0);
  const int64_t epoch = cell_.epoch();
  ASSERT_TRUE(RunJob(1));

  cell_.Kill(old, SIGSTOP);
  const int next = cell_.WaitForActive(epoch, 20s);
  ASSERT_GE(next, 0) << "no conductor took over from the paused one\n"
                     << cell_.LogTails();
  ASSERT_NE(old, next);
  ASSERT_TRUE(RunJob(2)) << "no job on the new leader";

  const size_t mark = cell_.conductor(old)->LogSize();
  cell_.Kill(old, SIGCONT);
  EXPECT_TRUE(cell_.conductor(old)
                  ->WaitForLog("cell: this node no longer leads", 20s, mark)
                  .has_value());
  EXPECT_TRUE(cell_.conductor(old)
                  ->WaitForLog("role=players standby=true", 20s, mark)
                  .has_value())
      << "the old leader did not stand by";

  // Pointed only at the old leader, the CLI is told to go elsewhere (or
  // is forwarded by the hint and then succeeds).
  CommandResult r = cell_.CliAt(old, {"jobs"}, 30s);
  if (r.exit_code != 0) {
    EXPECT_NE(std::string::npos, Lower(r.err).find("unavailable")) << r.err;
  }

  ASSERT_TRUE(RunJob(3));
  // The players ran each of the three jobs once: nothing the old leader
  // sent after it woke up was acted on.
  const std::vector<TaskRun> runs = Runs();
  EXPECT_EQ(3u, runs.size());
  ExpectEachRunOnce(runs);
  EXPECT_EQ(3u, Jobs().size());
}

TEST_F(CellTest, WithoutQuorumSubmitsFailUntilANodeReturns) {
  const int active = cell_.WaitForActive();
  ASSERT_GE(active, 0);
  const int64_t epoch = cell_.epoch();
  const int other = (active + 1) % CellCluster::kSize;
  cell_.Kill(active, SIGKILL);
  cell_.Kill(other, SIGTERM);

  const auto started = Clock::now();
  CommandResult r = cell_.Cli({"submit", "-p", "n=1", "record", "p1"}, 60s);
  const auto took = Clock::now() - started;
  EXPECT_NE(0, r.exit_code) << r.out;
  EXPECT_NE(-1, r.exit_code) << "the CLI did not give up within 60 s";
  // The CLI's failover time (30 s) plus one attempt's timeout at most.
  EXPECT_LT(took, 45s);
  const std::string err = Lower(r.err);
  // The CLI names the last endpoint's failure, which may be a stopped
  // one's refused connection rather than the survivor's `unavailable`.
  EXPECT_TRUE(err.find("unavailable") != std::string::npos ||
              err.find("quorum") != std::string::npos ||
              err.find("no conductor of the cell answered") !=
                  std::string::npos)
      << r.err;
  EXPECT_EQ(3, r.exit_code) << "exit 3: conductor unreachable";
  std::cerr
      << "without quorum the submit failed after "
      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
      << " ms\n";

  ASSERT_TRUE(cell_.Restart(other)) << cell_.LogTails();
  ASSERT_GE(cell_.WaitForActive(epoch, 20s), 0) << cell_.LogTails();
  r = cell_.Cli({"submit", "--wait", "-p", "n=2", "record", "p1"}, 60s);
  EXPECT_EQ(0, r.exit_code) << r.out << r.err;
}

}  // namespace
}  // namespace orchestra::test
