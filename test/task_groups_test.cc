// Tests for broker/task_groups.h: tasks fold by state, exit code,
// signal, stdout, stderr and error; groups keep the order of their first
// tasks; 10,000 identical results make one group.

#include "broker/task_groups.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace orchestra::broker {
namespace {

TaskRecord Task(int64_t id, const std::string& out,
                TaskState state = TaskState::kOk) {
  TaskRecord t;
  t.task = id;
  t.player = "host-" + std::to_string(id);
  t.state = state;
  t.exit_code = state == TaskState::kOk ? 0 : 1;
  t.stdout_text = out;
  return t;
}

TEST(TaskGroupsTest, TenThousandIdenticalResultsMakeOneGroup) {
  std::vector<TaskRecord> tasks;
  for (int i = 1; i <= 10000; ++i) tasks.push_back(Task(i, "same\n"));
  const std::vector<TaskGroup> groups = GroupTasks(tasks);
  ASSERT_EQ(1u, groups.size());
  EXPECT_EQ(10000, groups[0].count);
  EXPECT_EQ(1, groups[0].first_task);
  ASSERT_EQ(10000u, groups[0].players.size());
  EXPECT_EQ("host-10000", groups[0].players.back());
  EXPECT_EQ(10000, groups[0].tasks.back());
}

TEST(TaskGroupsTest, DifferentOutputsMakeGroupsInOrderOfFirstTask) {
  const std::vector<TaskRecord> tasks = {Task(1, "b"), Task(2, "a"),
                                         Task(3, "b"), Task(4, "c")};
  const std::vector<TaskGroup> groups = GroupTasks(tasks);
  ASSERT_EQ(3u, groups.size());
  EXPECT_EQ("b", groups[0].outcome.stdout_text);
  EXPECT_EQ((std::vector<int64_t>{1, 3}), groups[0].tasks);
  EXPECT_EQ((std::vector<std::string>{"host-1", "host-3"}), groups[0].players);
  EXPECT_EQ(2, groups[1].first_task);
  EXPECT_EQ(4, groups[2].first_task);
}

TEST(TaskGroupsTest, EachFieldOfTheOutcomeSplitsAGroup) {
  std::vector<TaskRecord> tasks(8, Task(1, "out"));
  tasks[1].state = TaskState::kFail;
  tasks[2].exit_code = 3;
  tasks[3].exit_code.reset();
  tasks[3].signal = 9;
  tasks[4].stderr_text = "err";
  tasks[5].error = "exec failed";
  tasks[6].stdout_truncated = true;
  for (size_t i = 0; i < tasks.size(); ++i) tasks[i].task = 1 + i;
  EXPECT_EQ(7u, GroupTasks(tasks).size());
}

TEST(TaskGroupsTest, OtherFieldsDoNotSplitAGroup) {
  std::vector<TaskRecord> tasks = {Task(1, "x"), Task(2, "x")};
  tasks[1].attempt = 2;
  tasks[1].started_at = 12345;
  tasks[1].response = {{"k", "v"}};
  EXPECT_EQ(1u, GroupTasks(tasks).size());
}

TEST(TaskGroupsTest, OutcomeIsThatOfTheFirstTask) {
  std::vector<TaskRecord> tasks = {Task(7, "x"), Task(8, "x")};
  tasks[0].finished_at = 111;
  tasks[1].finished_at = 222;
  const std::vector<TaskGroup> groups = GroupTasks(tasks);
  ASSERT_EQ(1u, groups.size());
  EXPECT_EQ(111, groups[0].outcome.finished_at);
  EXPECT_EQ(7, groups[0].first_task);
}

TEST(TaskGroupsTest, OnlyTheWindowsGroupsKeepTheirTextsCut) {
  std::vector<TaskRecord> tasks;
  for (int i = 0; i < 5; ++i)
    tasks.push_back(Task(i + 1, std::string(100, 'a') + std::to_string(i)));
  tasks[2].error = std::string(50, 'e');
  tasks[2].response = {{"k", "v"}};
  TaskGrouper grouper(2, 4, 10);
  for (const TaskRecord& t : tasks) grouper.Add(t);
  grouper.Add(tasks[2]);          // found again by its digest, though its texts
  EXPECT_EQ(6, grouper.tasks());  // were not kept
  const std::vector<TaskGroup> groups = grouper.Take();
  ASSERT_EQ(5u, groups.size());
  EXPECT_EQ(2, groups[2].count);
  EXPECT_EQ("", groups[1].outcome.stdout_text);
  EXPECT_EQ(101u, groups[1].stdout_bytes);
  EXPECT_EQ(std::string(9, 'a') + "2", groups[2].outcome.stdout_text);
  EXPECT_EQ(101u, groups[2].stdout_bytes);
  EXPECT_EQ(std::string(10, 'e'), groups[2].outcome.error);
  EXPECT_EQ(50u, groups[2].error_bytes);
  EXPECT_EQ(1u, groups[2].outcome.response.size());
  EXPECT_EQ(std::string(9, 'a') + "3", groups[3].outcome.stdout_text);
  EXPECT_EQ("", groups[4].outcome.stdout_text);
}

TEST(TaskGroupsTest, TextsSplitAtDifferentPlacesAreDifferent) {
  std::vector<TaskRecord> tasks = {Task(1, "ab"), Task(2, "a")};
  tasks[1].stderr_text = "b";
  EXPECT_EQ(2u, GroupTasks(tasks).size());
}

TEST(TaskGroupsTest, AGroupOfQueuedTasksSaysEachReasonOnceInOrderSeen) {
  std::vector<TaskRecord> tasks(4);
  const broker::WaitReason reasons[] = {
      broker::WaitReason::kRollout, broker::WaitReason::kPlayerOffline,
      broker::WaitReason::kRollout, broker::WaitReason::kPlayerOffline};
  for (int i = 0; i < 4; ++i) {
    tasks[i].task = i + 1;
    tasks[i].state = broker::TaskState::kQueued;
    tasks[i].waiting = reasons[i];
  }
  const std::vector<TaskGroup> groups = GroupTasks(tasks);
  ASSERT_EQ(1u, groups.size());
  EXPECT_EQ("rollout, player_offline", broker::WaitingText(groups[0].waiting));
}

TEST(TaskGroupsTest, NoTasksMakeNoGroups) {
  EXPECT_TRUE(GroupTasks({}).empty());
}

}  // namespace
}  // namespace orchestra::broker
