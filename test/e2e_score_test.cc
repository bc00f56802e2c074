// End-to-end: scores run safely and within bounds (DESIGN.md section 7).
// The real conductor and player on loopback with fresh Curve keys, a real
// SQLite file and real score scripts. Scores that must be held running
// wait on a gate (a file the test holds an exclusive flock on); a score's
// progress is read from files it writes (test/file_watch.h).

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "broker/audience_protocol.h"
#include "common/unique_fd.h"
#include "test/cluster.h"
#include "test/file_watch.h"

namespace orchestra::test {
namespace {

using broker::JobId;
using broker::JobRecord;
using broker::JobState;
using broker::TaskId;
using broker::TaskRecord;
using broker::TaskState;

// The most scores that ran at once, from the "+task"/"-task" lines that
// gated scores append to their marks file.
int MostAtOnce(const std::string& marks) {
  int running = 0, most = 0;
  for (const std::string& line : Lines(marks)) {
    running += line[0] == '+' ? 1 : -1;
    most = std::max(most, running);
  }
  return most;
}

class ScoreTest : public testing::Test {
 protected:
  void SetUp() override {
    cluster_.AddPlayer("p1");
    ASSERT_TRUE(cluster_.StartConductor());
    gate_.Reset(
        ::open(File("gate").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644));
    ASSERT_TRUE(gate_.valid());
    ASSERT_EQ(0, ::flock(gate_.get(), LOCK_EX));
  }
  // A player stopped with SIGTERM stops its scores; the cluster's SIGKILL
  // would leave a failed test's scores running.
  void TearDown() override {
    if (Process* p = player()) {
      p->Signal(SIGTERM);
      p->Wait(20s);
    }
  }

  // Starts player p1 with `extra` lines in its config, and a client.
  void StartPlayer(const std::string& extra = "") {
    ASSERT_TRUE(cluster_.StartPlayer("p1", extra));
    client_ = cluster_.Client();
    ASSERT_NE(nullptr, client_);
  }
  Process* player() { return cluster_.player("p1"); }
  std::string File(const std::string& name) const {
    return cluster_.dir() + "/" + name;
  }
  std::string ScoreFile(const std::string& name) const {
    return cluster_.dir() + "/scores-p1/" + name;
  }
  void Install(const std::string& name, const std::string& script,
               const std::string& conf = "") {
    cluster_.WriteScore("p1", name, script, conf);
  }
  // A copy of the program at `path` as score `name`.
  void InstallCopyOf(const std::string& path, const std::string& name) {
    Install(name, ReadText(path));
  }
  // Installs score `name` that marks its start, waits for the gate to
  // open, and marks its end.
  void InstallGated(const std::string& name, const std::string& conf = "") {
    Install(name,
            "#!/bin/sh\necho \"+$ORC_TASK_ID\" >> " + File("marks") +
                "\nflock -s " + File("gate") +
                " true\necho \"-$ORC_TASK_ID\" >> " + File("marks") + "\n",
            conf);
  }
  // Installs score `name` that ignores SIGTERM, as does the child it
  // starts; it writes "SCORE-PID CHILD-PID" to File(name + ".pids").
  void InstallStubborn(const std::string& name) {
    Install(name,
            "#!/bin/sh\ntrap '' TERM\necho started\nsleep 600 &\n"
            "echo \"$$ $!\" > " +
                File(name + ".pids") + "\nwait\n");
  }
  void OpenGate() { ASSERT_EQ(0, ::flock(gate_.get(), LOCK_UN)); }

  JobId Submit(const std::string& score,
               std::optional<int64_t> timeout_s = std::nullopt,
               broker::StringMap params = {}) {
    broker::SubmitRequest r;
    r.score = score;
    r.scope = broker::Scope::kOne;
    r.players = {"p1"};
    r.params = std::move(params);
    r.timeout_s = timeout_s;
    auto reply = client_->Call(r, 10000);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    if (!reply.ok()) return 0;
    auto* submitted = std::get_if<broker::SubmitReply>(&reply.value().body);
    EXPECT_NE(nullptr, submitted);
    return submitted ? submitted->job : 0;
  }
  // The error code of a submit of `score` to p1 that must be refused.
  std::optional<broker::ErrorCode> SubmitRefusal(const std::string& score) {
    broker::SubmitRequest r;
    r.score = score;
    r.scope = broker::Scope::kOne;
    r.players = {"p1"};
    auto reply = client_->Call(r, 10000);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    if (!reply.ok()) return std::nullopt;
    auto* error = std::get_if<broker::ErrorReply>(&reply.value().body);
    EXPECT_NE(nullptr, error) << score << " was accepted";
    if (error == nullptr) return std::nullopt;
    return error->error.code;
  }
  // The scores p1 listed to the conductor.
  std::vector<std::string> ListedScores() {
    auto players = client_->Call(broker::PlayersRequest{}, 10000);
    EXPECT_TRUE(players.ok());
    if (!players.ok()) return {};
    auto* reply = std::get_if<broker::PlayersReply>(&players.value().body);
    EXPECT_NE(nullptr, reply);
    if (reply == nullptr || reply->players.size() != 1) return {};
    return reply->players[0].scores;
  }
  JobRecord Ask(const broker::AudienceOp& op) {
    auto reply = client_->Call(op, 30000);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    if (!reply.ok()) return {};
    auto* job = std::get_if<broker::JobReply>(&reply.value().body);
    EXPECT_NE(nullptr, job);
    if (job == nullptr) return {};
    EXPECT_FALSE(job->timed_out) << "job " << job->job.id << " still pending";
    return job->job;
  }
  JobRecord Wait(JobId job) { return Ask(broker::WaitRequest{job, 25000}); }
  JobRecord Status(JobId job) { return Ask(broker::StatusRequest{job}); }
  JobRecord Cancel(JobId job) { return Ask(broker::CancelRequest{job}); }
  // Runs `score` on p1 and returns its (last) task.
  TaskRecord Run(const std::string& score,
                 std::optional<int64_t> timeout_s = std::nullopt,
                 broker::StringMap params = {}) {
    JobRecord job = Wait(Submit(score, timeout_s, std::move(params)));
    if (job.tasks.empty()) {
      ADD_FAILURE() << "job " << job.id << " has no task";
      return {};
    }
    return job.tasks.back();
  }
  TaskId TaskOf(JobId job) {
    JobRecord record = Status(job);
    return record.tasks.empty() ? 0 : record.tasks.back().task;
  }

  // Waits until File(name) holds at least `count` lines; returns them.
  std::vector<std::string> WaitForLines(const std::string& name, size_t count) {
    std::vector<std::string> lines = test::WaitForLines(File(name), count);
    EXPECT_LE(count, lines.size()) << name << " has too few lines";
    return lines;
  }
  // The pids a stubborn score wrote, once it wrote them.
  std::vector<pid_t> StubbornPids(const std::string& name) {
    std::vector<std::string> lines = WaitForLines(name + ".pids", 1);
    std::istringstream in(lines.empty() ? "" : lines[0]);
    pid_t score = 0, child = 0;
    in >> score >> child;
    EXPECT_GT(score, 0);
    EXPECT_GT(child, 0);
    return {score, child};
  }
  // Returns once the player has finished the loop turn it is in: a SIGHUP
  // is handled in a later turn than anything already logged.
  void PlayerTurnPasses() {
    const size_t mark = player()->LogSize();
    player()->Signal(SIGHUP);
    ASSERT_TRUE(player()->WaitForLog("rescanning scores", 10s, mark));
  }

  Cluster cluster_;
  common::UniqueFd gate_;
  std::unique_ptr<broker::AudienceClient> client_;
};

// ---- time limits ----------------------------------------------------------

// The player's default limit: Defect8HungScoreEndsAtThePlayersDefaultLimit.
// A job may ask for less time than its score's `timeout`, never more: the
// score's limit is its administrator's.
TEST_F(ScoreTest, TimeLimitIsTheJobsWithinTheScores) {
  const std::string kSlow =
      "#!/bin/sh\necho started\necho working >&2\nexec sleep 600\n";
  Install("limit-600", kSlow, "timeout = 600\n");
  Install("limit-1", kSlow, "timeout = 1\n");
  Install("unlimited", "#!/bin/sh\nsleep 2\necho done\n", "timeout = 0\n");
  StartPlayer();
  JobId by_job = Submit("limit-600", 1);
  JobId by_score = Submit("limit-1");
  JobId job_over_score = Submit("limit-1", 3600);
  JobId no_score_limit = Submit("unlimited", 30);
  for (JobId id : {by_job, by_score, job_over_score}) {
    TaskRecord task = Wait(id).tasks.back();
    EXPECT_EQ(TaskState::kTimeout, task.state) << "job " << id;
    EXPECT_EQ(SIGTERM, task.signal.value_or(0));
    EXPECT_EQ("started\n", task.stdout_text);  // What it wrote so far
    EXPECT_EQ("working\n", task.stderr_text);
  }
  TaskRecord allowed = Wait(no_score_limit).tasks.back();
  EXPECT_EQ(TaskState::kOk, allowed.state) << allowed.error;
  EXPECT_EQ("done\n", allowed.stdout_text);
}

TEST_F(ScoreTest, ScoreIgnoringTermIsKilledWithItsChildrenAfterTheGrace) {
  InstallStubborn("stubborn");
  StartPlayer();
  JobId job = Submit("stubborn", 2);  // Time for its trap to be set
  std::vector<pid_t> pids = StubbornPids("stubborn");
  TaskRecord task = Wait(job).tasks.back();
  EXPECT_EQ(TaskState::kTimeout, task.state);
  EXPECT_EQ(SIGKILL, task.signal.value_or(0));
  EXPECT_EQ("started\n", task.stdout_text);
  for (pid_t pid : pids) EXPECT_TRUE(ProcessEnds(pid)) << "pid " << pid;
  EXPECT_TRUE(player()->WaitForLog("task killed after grace", 1s));
}

// ---- cancel ---------------------------------------------------------------

TEST_F(ScoreTest, CancelEndsAQueuedTaskAtOnceAndStopsARunningOne) {
  InstallGated("gated");
  StartPlayer("slots = 1\n");
  JobId running = Submit("gated");
  WaitForLines("marks", 1);
  JobId queued = Submit("gated");
  ASSERT_EQ(TaskState::kQueued, Status(queued).tasks.back().state);

  CommandResult cli = cluster_.Cli({"cancel", std::to_string(queued)});
  EXPECT_EQ(0, cli.exit_code) << cli.out << cli.err;  // The cancel was done
  EXPECT_NE(std::string::npos, cli.out.find("CANCELLED")) << cli.out;
  JobRecord at_once = Status(queued);
  EXPECT_EQ(JobState::kCancelled, at_once.state);
  EXPECT_EQ(TaskState::kCancelled, at_once.tasks.back().state);

  JobRecord asked = Cancel(running);
  EXPECT_EQ(JobState::kPending, asked.state);  // Its player stops it first
  JobRecord stopped = Wait(running);
  EXPECT_EQ(JobState::kCancelled, stopped.state);
  EXPECT_EQ(TaskState::kCancelled, stopped.tasks.back().state);
  EXPECT_EQ(SIGTERM, stopped.tasks.back().signal.value_or(0));
  EXPECT_EQ(1u, Lines(ReadText(File("marks"))).size());  // Never started
}

TEST_F(ScoreTest, CancelKillsAScoreIgnoringTermAndItsChildren) {
  InstallStubborn("stubborn");
  StartPlayer();
  JobId job = Submit("stubborn");
  std::vector<pid_t> pids = StubbornPids("stubborn");
  Cancel(job);
  JobRecord record = Wait(job);
  EXPECT_EQ(JobState::kCancelled, record.state);
  EXPECT_EQ(TaskState::kCancelled, record.tasks.back().state);
  EXPECT_EQ(SIGKILL, record.tasks.back().signal.value_or(0));
  for (pid_t pid : pids) EXPECT_TRUE(ProcessEnds(pid)) << "pid " << pid;
}

// ---- concurrency ----------------------------------------------------------

TEST_F(ScoreTest, ConductorNeverSendsAPlayerMoreThanItsSlots) {
  InstallGated("gated");
  StartPlayer("slots = 2\n");
  std::vector<JobId> jobs;
  for (int i = 0; i < 4; ++i) jobs.push_back(Submit("gated"));
  std::map<TaskState, int> states;
  for (JobId job : jobs) ++states[Status(job).tasks.back().state];
  EXPECT_EQ(2, states[TaskState::kQueued]);
  EXPECT_EQ(2, states[TaskState::kDispatched] + states[TaskState::kRunning]);
  WaitForLines("marks", 2);
  PlayerTurnPasses();
  EXPECT_EQ(2u, player()->CountLog("task started"));
  OpenGate();
  for (JobId job : jobs) EXPECT_EQ(JobState::kOk, Wait(job).state);
  EXPECT_EQ(2, MostAtOnce(ReadText(File("marks"))));
}

TEST_F(ScoreTest, ScoreConcurrencyMakesExtraTasksWaitOnThePlayer) {
  InstallGated("solo", "concurrency = 1\n");
  StartPlayer("slots = 4\n");
  std::vector<JobId> jobs;
  for (int i = 0; i < 3; ++i) jobs.push_back(Submit("solo"));
  for (JobId job : jobs) {  // All three are on the player...
    const TaskId task = TaskOf(job);
    ASSERT_TRUE(player()->WaitForLog(
        "task accepted task=" + std::to_string(task) + " ", 10s));
  }
  WaitForLines("marks", 1);
  PlayerTurnPasses();
  EXPECT_EQ(1u, player()->CountLog("task started"));  // ...one runs
  OpenGate();
  for (JobId job : jobs) EXPECT_EQ(JobState::kOk, Wait(job).state);
  EXPECT_EQ(1, MostAtOnce(ReadText(File("marks"))));
  EXPECT_EQ(6u, Lines(ReadText(File("marks"))).size());
}

// ---- the score directory --------------------------------------------------

TEST_F(ScoreTest, FilesThatAreNotScoresAreSkippedWithTheReason) {
  const std::string kTrue = "#!/bin/sh\nexit 0\n";
  for (const char* name :
       {"good", "noexec", "groupw", "old~", "old.dpkg-old", ".hidden"})
    Install(name, kTrue);
  Install("good", kTrue, "interface = pipe\n");
  std::ofstream(ScoreFile("orphan.conf")) << "interface = pipe\n";
  ASSERT_EQ(0, ::chmod(ScoreFile("noexec").c_str(), 0644));
  ASSERT_EQ(0, ::chmod(ScoreFile("groupw").c_str(), 0775));
  const bool root = ::geteuid() == 0;  // Only root can give files away
  if (root) {
    Install("theirs", kTrue);
    ASSERT_EQ(0, ::chown(ScoreFile("theirs").c_str(), 4242, 4242));
  }
  StartPlayer();
  const std::map<std::string, std::string> reasons = {
      {"noexec", "not executable"},
      {"groupw", "file is writable by group or others"},
      {"old~", "backup file"},
      {"old.dpkg-old", "backup file"},
      {".hidden", "hidden file"},
      {"orphan.conf", "a score configuration with no score 'orphan'"}};
  for (const auto& [name, reason] : reasons)
    EXPECT_TRUE(player()->WaitForLog(
        "score skipped name=" + name + " reason=\"" + reason + "\"", 1s))
        << name;
  if (root) {
    EXPECT_TRUE(player()->WaitForLog(
        "score skipped name=theirs reason=\"file is owned by uid 4242", 1s));
  }
  auto players = client_->Call(broker::PlayersRequest{}, 10000);
  ASSERT_TRUE(players.ok());
  auto* reply = std::get_if<broker::PlayersReply>(&players.value().body);
  ASSERT_NE(nullptr, reply);
  ASSERT_EQ(1u, reply->players.size());
  EXPECT_EQ(std::vector<std::string>{"good"}, reply->players[0].scores);
}

TEST_F(ScoreTest, HelloAndRescanReportEachScoresSha256) {
  Install("alpha", "#!/bin/sh\necho one\n");
  Install("beta", "#!/bin/sh\necho two\n", "interface = pipe\n");
  StartPlayer();
  auto query = [&] {
    return RunCommand("/usr/bin/sqlite3",
                      {"-readonly", File("conductor.db"),
                       "SELECT score, sha256, interface FROM player_scores "
                       "WHERE player = 'p1' ORDER BY score"},
                      10s)
        .out;
  };
  auto row = [&](const std::string& name, const char* interface) {
    return name + "|" + Sha256Hex(ReadText(ScoreFile(name))) + "|" + interface +
           "\n";
  };
  // A reply comes after the commit of every earlier turn, the hello's too.
  ASSERT_TRUE(client_->Call(broker::PlayersRequest{}, 10000).ok());
  EXPECT_EQ(row("alpha", "env") + row("beta", "pipe"), query());

  Install("alpha", "#!/bin/sh\necho changed\n");
  Install("gamma", "#!/bin/sh\necho three\n");
  const size_t mark = cluster_.conductor()->LogSize();
  player()->Signal(SIGHUP);
  // Stored at most once a second a player (PlayerChannel::SaveScoreLists).
  ASSERT_TRUE(cluster_.conductor()->WaitForLog(
      "scores saved player=p1 scores=3", 10s, mark));
  ASSERT_TRUE(client_->Call(broker::PlayersRequest{}, 10000).ok());
  EXPECT_EQ(row("alpha", "env") + row("beta", "pipe") + row("gamma", "env"),
            query());
  EXPECT_EQ("changed\n", Run("alpha").stdout_text);
  EXPECT_EQ("three\n", Run("gamma").stdout_text);
}

// Issue 11: a score linked into a directory others could write was
// checked once and run later by its name; someone swapped the target and
// it ran as root. A link is a score only if every directory on its real
// path is as trusted as the score itself.
TEST_F(ScoreTest, LinkedScoreInADirectoryOthersMayWriteIsNoScore) {
  const std::string kHello = "#!/bin/sh\necho hello\n";
  for (const auto& [dir, mode] : std::map<std::string, int>{
           {"trusted", 0755}, {"group", 0775}, {"world", 0777}}) {
    ASSERT_EQ(0, ::mkdir(File(dir).c_str(), 0700));
    ASSERT_EQ(0, ::chmod(File(dir).c_str(), mode));
    const std::string target = File(dir + "/hello");
    std::ofstream(target) << kHello;
    ASSERT_EQ(0, ::chmod(target.c_str(), 0755));
    ASSERT_EQ(0, ::symlink(target.c_str(), ScoreFile("via-" + dir).c_str()));
  }
  StartPlayer();
  for (const char* dir : {"group", "world"}) {
    EXPECT_TRUE(player()->WaitForLog(
        std::string("score skipped name=via-") + dir + " reason=\"directory " +
            File(dir) + " is writable by group or others and not sticky\"",
        1s))
        << dir;
  }
  EXPECT_EQ(std::vector<std::string>{"via-trusted"}, ListedScores());
  // Not in p1's score list, so the conductor refuses a job at once.
  EXPECT_EQ(broker::ErrorCode::kUnknownScore, SubmitRefusal("via-group"));
  EXPECT_EQ(broker::ErrorCode::kUnknownScore, SubmitRefusal("via-world"));
  EXPECT_EQ("hello\n", Run("via-trusted").stdout_text);
}

// Issue 11, the swap itself: a file renamed over a checked score without
// a SIGHUP does not run; the checked file does, and the player says once
// that the score changed on disk. A rescan takes the new file.
TEST_F(ScoreTest, ScoreReplacedAfterTheScanRunsTheCheckedFile) {
  Install("swapped", "#!/bin/sh\necho checked\n");
  StartPlayer();
  Install("swapped", "#!/bin/sh\necho swapped-in\n");  // A rename over it
  EXPECT_EQ("checked\n", Run("swapped").stdout_text);
  EXPECT_EQ("checked\n", Run("swapped").stdout_text);
  const std::string kWarning =
      "score changed on disk since the scan name=swapped ";
  EXPECT_TRUE(player()->WaitForLog(kWarning, 1s));
  const size_t mark = player()->LogSize();
  player()->Signal(SIGHUP);  // Its log line follows every earlier one
  ASSERT_TRUE(player()->WaitForLog("scores scanned", 10s, mark));
  EXPECT_EQ(1u, player()->CountLog(kWarning));  // Once, not per run
  EXPECT_EQ("swapped-in\n", Run("swapped").stdout_text);
}

TEST_F(ScoreTest, BadScoreConfEndsHostErrorAndThePlayerServesOn) {
  Install("broken", "#!/bin/sh\necho never\n", "interface = carrier-pigeon\n");
  Install("hello", "#!/bin/sh\necho hello\n");
  StartPlayer();
  TaskRecord task = Run("broken");
  EXPECT_EQ(TaskState::kHostError, task.state);
  EXPECT_NE(std::string::npos, task.error.find("broken.conf:1")) << task.error;
  EXPECT_TRUE(task.stdout_text.empty());
  EXPECT_EQ(TaskState::kOk, Run("hello").state);
}

TEST_F(ScoreTest, ScoreRunsAsItsConfiguredUserAndGroups) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs a player running as root";
  ASSERT_EQ(0, ::chmod(cluster_.dir().c_str(), 0755));  // nobody may enter
  Install("as-nobody", "#!/bin/sh\nid -u\nid -G\n", "user = nobody\n");
  StartPlayer();
  CommandResult groups = RunCommand("/usr/bin/id", {"-G", "nobody"}, 10s);
  TaskRecord task = Run("as-nobody");
  EXPECT_EQ(TaskState::kOk, task.state) << task.error << task.stderr_text;
  EXPECT_EQ("65534\n" + groups.out, task.stdout_text);
}

TEST_F(ScoreTest, DirectoryTheScoresUserCannotEnterIsHostError) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs a player running as root";
  ASSERT_EQ(0, ::chmod(cluster_.dir().c_str(), 0755));
  ASSERT_EQ(0, ::mkdir(File("private").c_str(), 0700));
  Install("locked-out", "#!/bin/sh\npwd\n",
          "user = nobody\ndir = " + File("private") + "\n");
  Install("missing-dir", "#!/bin/sh\npwd\n", "dir = /no/such/orchestra/dir\n");
  StartPlayer();
  TaskRecord locked_out = Run("locked-out");
  EXPECT_EQ(TaskState::kHostError, locked_out.state);
  EXPECT_NE(std::string::npos, locked_out.error.find("Permission denied"))
      << locked_out.error;
  TaskRecord missing = Run("missing-dir");
  EXPECT_EQ(TaskState::kHostError, missing.state);
  EXPECT_NE(std::string::npos, missing.error.find("/no/such/orchestra/dir"))
      << missing.error;
}

// ---- what a score sees ----------------------------------------------------

TEST_F(ScoreTest, EnvironmentIsBuiltFromScratch) {
  InstallCopyOf("/usr/bin/env", "printenv");
  StartPlayer();
  JobId job = Submit("printenv", std::nullopt, {{"greeting", "hello world"}});
  TaskRecord task = Wait(job).tasks.back();
  std::vector<std::string> env = Lines(task.stdout_text);
  std::sort(env.begin(), env.end());
  EXPECT_EQ(
      (std::vector<std::string>{
          "ORC_JOB_ID=" + std::to_string(job), "ORC_PLAYER=p1",
          "ORC_TASK_ID=" + std::to_string(task.task),
          "ORC_greeting=hello world", "PATH=/usr/bin:/usr/sbin:/bin:/sbin"}),
      env);
}

// Besides stdin and its two output pipes a score has fd 3, the score file
// itself, read-only: it runs through that descriptor (the one its scan
// opened), and a script's interpreter reads it through /proc/self/fd/3.
// Nothing else of the player's leaks.
TEST_F(ScoreTest, ScoreHasStdinOutputPipesItselfOnFd3AndNothingElse) {
  Install("fds",
          "#!/bin/sh\nstat -L -c %d:%i /proc/$$/fd/3\n"
          "sed -n 's/^flags:[[:space:]]*//p' /proc/$$/fdinfo/3\n"
          "exec ls -l /proc/self/fd/\n");
  StartPlayer();
  std::vector<std::string> lines = Lines(Run("fds").stdout_text);
  ASSERT_LE(2u, lines.size());
  struct stat st;
  ASSERT_EQ(0, ::stat(ScoreFile("fds").c_str(), &st));
  EXPECT_EQ(std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino),
            lines[0]);  // The very file
  EXPECT_EQ(O_RDONLY, std::stoi(lines[1], nullptr, 8) & O_ACCMODE) << lines[1];
  std::map<std::string, std::string> fds;  // fd -> what it is
  for (const std::string& line : lines) {
    const size_t arrow = line.find(" -> ");
    if (arrow == std::string::npos) continue;
    const size_t space = line.rfind(' ', arrow - 1);
    fds[line.substr(space + 1, arrow - space - 1)] = line.substr(arrow + 4);
  }
  ASSERT_EQ(5u, fds.size()) << "a descriptor leaked";
  EXPECT_EQ("/dev/null", fds["0"]);
  EXPECT_EQ(0u, fds["1"].rfind("pipe:", 0));
  EXPECT_EQ(0u, fds["2"].rfind("pipe:", 0));
  EXPECT_NE(fds["1"], fds["2"]);
  EXPECT_EQ(ScoreFile("fds"), fds["3"]);
  EXPECT_NE(std::string::npos, fds["4"].find("/fd"));  // ls reading the list
}

TEST_F(ScoreTest, ScoreLeadsItsOwnProcessGroup) {
  Install("group", "#!/bin/sh\necho $$\ncut -d' ' -f5 /proc/$$/stat\n");
  StartPlayer();
  std::vector<std::string> ids = Lines(Run("group").stdout_text);
  ASSERT_EQ(2u, ids.size());
  EXPECT_EQ(ids[0], ids[1]);
  EXPECT_NE(std::to_string(::getpgid(player()->pid())), ids[1]);
}

// ---- output ---------------------------------------------------------------

TEST_F(ScoreTest, OutputKeepsTheLastBytesOfEachStreamWithTruncatedFlags) {
  Install("chatty",
          "#!/bin/sh\nhead -c 5000 /dev/zero | tr '\\0' a\necho\n"
          "echo last-line\nhead -c 300 /dev/zero | tr '\\0' e >&2\n");
  StartPlayer("output limit = 1000\n");
  TaskRecord task = Run("chatty");
  EXPECT_EQ(TaskState::kOk, task.state);
  EXPECT_TRUE(task.stdout_truncated);
  ASSERT_EQ(1000u, task.stdout_text.size());
  EXPECT_EQ(std::string(989, 'a') + "\nlast-line\n", task.stdout_text);
  EXPECT_FALSE(task.stderr_truncated);
  EXPECT_EQ(std::string(300, 'e'), task.stderr_text);
}

TEST_F(ScoreTest, PipeScoreLosesNoResponseLineAfterMegabytesOfOutput) {
  Install("reporter",
          "#!/bin/sh\nhead -c 3000000 /dev/zero | tr '\\0' x\necho\n"
          "i=0\nwhile [ $i -lt 200 ]; do echo \"key$i=value $i\"; "
          "i=$((i+1)); done\nprintf 'last=no newline'\n",
          "interface = pipe\n");
  StartPlayer();
  TaskRecord task = Run("reporter");
  EXPECT_EQ(TaskState::kOk, task.state);
  EXPECT_TRUE(task.stdout_truncated);
  ASSERT_EQ(201u, task.response.size());
  EXPECT_EQ("value 0", task.response["key0"]);
  EXPECT_EQ("value 199", task.response["key199"]);
  EXPECT_EQ("no newline", task.response["last"]);
}

// ---- no process left behind -----------------------------------------------

TEST_F(ScoreTest, ChildrenAScoreLeavesBehindAreKilledWhenItExits) {
  Install("leaver", "#!/bin/sh\nsleep 600 &\necho $! > " + File("leaver.pid") +
                        "\necho bye\nexit 0\n");
  StartPlayer();
  TaskRecord task = Run("leaver");
  EXPECT_EQ(TaskState::kOk, task.state);
  EXPECT_EQ("bye\n", task.stdout_text);
  std::vector<std::string> pid = WaitForLines("leaver.pid", 1);
  ASSERT_FALSE(pid.empty());
  EXPECT_TRUE(ProcessEnds(std::stoi(pid[0])));
}

// ---- scores of the original Orchestra ---------------------------------------

// A score and .conf as the original ran them: configureit syntax without
// spaces, its `path` key (parsed and ignored there), an empty `user` and
// `dir`; parameters as ORC_ variables; pipe responses.
TEST_F(ScoreTest, ScoreWrittenForTheOriginalRunsUnchanged) {
  Install("legacy",
          "#!/bin/sh\necho \"greeting=hello $ORC_name\"\n"
          "echo \"count=$ORC_COUNT\"\necho not a response line\n",
          "# written for Orchestra 0.3\ninterface=pipe\npath=/usr/bin:/bin\n"
          "dir=\nuser=\n");
  StartPlayer();
  TaskRecord task =
      Run("legacy", std::nullopt, {{"name", "world"}, {"COUNT", "3"}});
  EXPECT_EQ(TaskState::kOk, task.state) << task.error;
  EXPECT_EQ((broker::StringMap{{"count", "3"}, {"greeting", "hello world"}}),
            task.response);
}

// ---- original defect 8 ------------------------------------------------------
// The original player had no score timeout, ran one score at a time, left
// scores running (orphaned) when it exited, started them with an empty argv
// and set its umask, which scores inherited, to 0. One test per part.

// Defect 8, part 1: with no time limit anywhere, a hung score blocked its
// player for ever. Now the player's default limit always applies.
TEST_F(ScoreTest, Defect8HungScoreEndsAtThePlayersDefaultLimit) {
  Install("hangs", "#!/bin/sh\nexec sleep 600\n");
  StartPlayer("default score timeout = 1\n");
  EXPECT_EQ(TaskState::kTimeout, Run("hangs").state);
}

// Defect 8, part 2: execution was strictly serial, one score at a time.
TEST_F(ScoreTest, Defect8ScoresRunAtTheSameTime) {
  InstallGated("gated");
  StartPlayer("slots = 2\n");
  JobId first = Submit("gated");
  JobId second = Submit("gated");
  std::vector<std::string> marks = WaitForLines("marks", 2);  // Both started
  OpenGate();
  EXPECT_EQ(JobState::kOk, Wait(first).state);
  EXPECT_EQ(JobState::kOk, Wait(second).state);
  EXPECT_EQ(2, MostAtOnce(ReadText(File("marks"))));
}

// Defect 8, part 3: on SIGTERM the player exited at once and left its
// running score orphaned. Now it stops the score's whole process group
// (SIGKILL after the grace for what ignores SIGTERM), exits 0, and reports
// the task LOST when it is back.
TEST_F(ScoreTest, Defect8PlayerExitLeavesNoScoreRunning) {
  InstallStubborn("stubborn");
  StartPlayer();
  JobId job = Submit("stubborn");
  std::vector<pid_t> pids = StubbornPids("stubborn");
  player()->Signal(SIGTERM);
  std::optional<int> status = player()->Wait(20s);
  ASSERT_TRUE(status.has_value()) << "the player did not exit";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  for (pid_t pid : pids) EXPECT_TRUE(ProcessEnds(pid)) << "orphan " << pid;
  ASSERT_TRUE(cluster_.StartPlayer("p1"));
  JobRecord record = Wait(job);
  EXPECT_EQ(JobState::kFail, record.state);
  EXPECT_EQ(TaskState::kLost, record.tasks.back().state);
}

// Defect 8, part 4: scores were started with an empty argv (no argv[0]).
// A copy of basename names itself after argv[0] and, given no operand,
// says so: argv is exactly {score name}.
TEST_F(ScoreTest, Defect8ArgvHoldsTheScoreName) {
  InstallCopyOf("/usr/bin/basename", "argv0-check");
  StartPlayer();
  TaskRecord task = Run("argv0-check");
  EXPECT_EQ(0u, task.stderr_text.rfind("argv0-check: missing operand", 0))
      << task.stderr_text;
}

// Defect 8, part 5: the player set umask 0, so scores created files that
// anyone could write.
TEST_F(ScoreTest, Defect8ScoreRunsWithUmask022) {
  Install("maker", "#!/bin/sh\numask\n: > " + File("made") + "\n");
  StartPlayer();
  EXPECT_EQ("0022\n", Run("maker").stdout_text);
  EXPECT_EQ(0644u, ModeOf(File("made")));
}

}  // namespace
}  // namespace orchestra::test
