// End-to-end: sizes on the wire and start-up refusals of the real binaries.

#include <sys/stat.h>

#include "broker/audience_protocol.h"
#include "broker/curve_keys.h"
#include "common/files.h"
#include "test/cluster.h"

namespace orchestra::test {
namespace {

// Prints the length of each ORC_ parameter, then 1 MiB of 'x' on stdout.
const char kBig[] =
    "#!/bin/sh\n"
    "printf '%s %s %s %s\\n' ${#ORC_A} ${#ORC_B} ${#ORC_C} ${#ORC_D} >&2\n"
    "head -c 1048576 /dev/zero | tr '\\0' x\n";

// Original defect 4: frames larger than one TLS record failed, and messages
// of 64 KiB or more made the sender exit. Here 240 KiB of parameters go to
// a player and a 1 MiB output comes back, whole.
TEST(WireTest, LargeParametersAndOutputsCrossTheWireWhole) {
  Cluster cluster;
  cluster.AddPlayer("p1");
  cluster.WriteScore("p1", "big", kBig);
  ASSERT_TRUE(cluster.StartConductor());
  ASSERT_TRUE(cluster.StartPlayer("p1", "output limit = 1048576\n"));
  auto client = cluster.Client();
  ASSERT_NE(nullptr, client);
  broker::SubmitRequest request;
  request.score = "big";
  request.players = {"p1"};
  for (const char* key : {"A", "B", "C", "D"})
    request.params[key] = std::string(60 * 1024, 'v');
  auto submitted = client->Call(request, 10000);
  ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
  auto* id = std::get_if<broker::SubmitReply>(&submitted.value().body);
  ASSERT_NE(nullptr, id);
  auto waited = client->Call(broker::WaitRequest{id->job, 20000}, 25000);
  ASSERT_TRUE(waited.ok());
  auto* job = std::get_if<broker::JobReply>(&waited.value().body);
  ASSERT_NE(nullptr, job);
  ASSERT_EQ(1u, job->job.tasks.size());
  const broker::TaskRecord& task = job->job.tasks[0];
  EXPECT_EQ(broker::TaskState::kOk, task.state);
  EXPECT_EQ("61440 61440 61440 61440\n", task.stderr_text);
  EXPECT_EQ(1048576u, task.stdout_text.size());
  EXPECT_FALSE(task.stdout_truncated);
}

TEST(WireTest, OversizedParametersAreRefusedAsTooLarge) {
  Cluster cluster;
  cluster.AddPlayer("p1");
  ASSERT_TRUE(cluster.StartConductor());
  auto client = cluster.Client();
  ASSERT_NE(nullptr, client);
  broker::SubmitRequest request;
  request.score = "big";
  request.players = {"p1"};
  request.params["A"] = std::string(65 * 1024, 'v');
  auto reply = client->Call(request, 10000);
  ASSERT_TRUE(reply.ok());
  auto* error = std::get_if<broker::ErrorReply>(&reply.value().body);
  ASSERT_NE(nullptr, error);
  EXPECT_EQ(broker::ErrorCode::kTooLarge, error->error.code);
}

class StartupTest : public testing::Test {
 protected:
  CommandResult Conductor(const std::string& config) {
    EXPECT_OK(
        common::WriteFileAtomically(dir_.File("conductor.conf"), config, 0644));
    return RunCommand(BinaryDir() + "/orchestra-conductor",
                      {"--config", dir_.File("conductor.conf")}, 30s);
  }
  TempDir dir_;
};

TEST_F(StartupTest, BrokenConfigIsRefusedNamingFileAndLine) {
  CommandResult r = Conductor("# comment\nhartbeat interval = 100\n");
  EXPECT_EQ(2, r.exit_code);
  EXPECT_NE(std::string::npos,
            r.err.find("conductor.conf:2: unknown key 'hartbeat interval' "
                       "(did you mean 'heartbeat interval'?)"))
      << r.err;
}

TEST_F(StartupTest, SecretKeyOthersCanReadIsRefused) {
  broker::CurveKeyPair keys = broker::GenerateKeyPair().value();
  ASSERT_OK(broker::WriteKeyPair(dir_.path(), "conductor", keys));
  ASSERT_EQ(0, chmod(dir_.File("conductor.key").c_str(), 0644));
  ASSERT_OK(common::WriteFileAtomically(dir_.File("players"), "", 0644));
  CommandResult r = Conductor(
      "player endpoint = tcp://127.0.0.1:*\n"
      "audience endpoint = ipc://" +
      dir_.File("c.sock") +
      "\n"
      "conductor secret key = " +
      dir_.File("conductor.key") +
      "\n"
      "player file path = " +
      dir_.File("players") +
      "\n"
      "database path = " +
      dir_.File("c.db") + "\n");
  EXPECT_EQ(2, r.exit_code);
  EXPECT_NE(std::string::npos, r.err.find("chmod 600")) << r.err;
}

}  // namespace
}  // namespace orchestra::test
