// An outcome's key is its codes and a 128-bit BLAKE2b digest of its three
// texts (each prefixed with its length, so that no two splits of the same
// bytes collide): equal keys are equal outcomes, and a group need not keep
// its texts to be found again. The hash table maps the key's first bytes
// to the groups that share them.

#include "broker/task_groups.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "common/text.h"

namespace orchestra::broker {

namespace {

// Appends `text` to `out` after its length.
void Append(std::string_view text, std::string* out) {
  const uint64_t size = text.size();
  out->append(reinterpret_cast<const char*>(&size), sizeof(size));
  out->append(text);
}

uint64_t HashOf(const std::array<uint8_t, 16>& digest, TaskState state,
                const std::optional<int64_t>& exit_code) {
  uint64_t h;
  std::memcpy(&h, digest.data(), sizeof(h));
  return h ^ (static_cast<uint64_t>(state) << 56) ^
         static_cast<uint64_t>(exit_code.value_or(-1000));
}

}  // namespace

bool TaskGrouper::Key::operator==(const Key& other) const {
  return state == other.state && exit_code == other.exit_code &&
         signal == other.signal && stdout_truncated == other.stdout_truncated &&
         stderr_truncated == other.stderr_truncated && texts == other.texts;
}

TaskGrouper::TaskGrouper(size_t keep_from, size_t keep_to, size_t text_bytes)
    : keep_from_(keep_from), keep_to_(keep_to), text_bytes_(text_bytes) {}

// One BLAKE2b call over the texts gathered in one buffer (reused): its
// setup costs more than hashing a short output.
TaskGrouper::Key TaskGrouper::KeyOf(const TaskOutcome& o) {
  Key key{
      o.state, o.exit_code, o.signal, o.stdout_truncated, o.stderr_truncated,
      {}};
  texts_.clear();
  Append(o.stdout_text, &texts_);
  Append(o.stderr_text, &texts_);
  Append(o.error, &texts_);
  crypto_generichash(key.texts.data(), key.texts.size(),
                     reinterpret_cast<const uint8_t*>(texts_.data()),
                     texts_.size(), nullptr, 0);
  return key;
}

TaskGroup TaskGrouper::StartGroup(const TaskRecord& task) const {
  TaskGroup group;
  group.outcome.state = task.state;
  group.outcome.exit_code = task.exit_code;
  group.outcome.signal = task.signal;
  group.outcome.stdout_truncated = task.stdout_truncated;
  group.outcome.stderr_truncated = task.stderr_truncated;
  group.outcome.started_at = task.started_at;
  group.outcome.finished_at = task.finished_at;
  group.stdout_bytes = task.stdout_text.size();
  group.stderr_bytes = task.stderr_text.size();
  group.error_bytes = task.error.size();
  group.first_task = task.task;
  const size_t number = groups_.size();
  if (number >= keep_from_ && number < keep_to_) {
    group.outcome.stdout_text =
        common::LastUtf8Bytes(task.stdout_text, text_bytes_);
    group.outcome.stderr_text =
        common::LastUtf8Bytes(task.stderr_text, text_bytes_);
    group.outcome.error = common::FirstUtf8Bytes(task.error, text_bytes_);
    group.outcome.response = task.response;
  }
  return group;
}

void TaskGrouper::Add(const TaskRecord& task) {
  ++tasks_;
  const Key key = KeyOf(task);
  const uint64_t hash = HashOf(key.texts, key.state, key.exit_code);
  size_t found = groups_.size();
  auto [at, end] = by_key_.equal_range(hash);
  for (; at != end; ++at) {
    if (keys_[at->second] == key) {
      found = at->second;
      break;
    }
  }
  if (found == groups_.size()) {
    by_key_.emplace(hash, found);
    groups_.push_back(StartGroup(task));
    keys_.push_back(key);
  }
  TaskGroup& group = groups_[found];
  group.players.push_back(task.player);
  group.tasks.push_back(task.task);
  ++group.count;
  if (task.waiting && std::find(group.waiting.begin(), group.waiting.end(),
                                *task.waiting) == group.waiting.end())
    group.waiting.push_back(*task.waiting);
}

std::vector<TaskGroup> TaskGrouper::Take() {
  by_key_.clear();
  keys_.clear();
  tasks_ = 0;
  std::vector<TaskGroup> groups;
  groups.swap(groups_);
  return groups;
}

std::vector<TaskGroup> GroupTasks(const std::vector<TaskRecord>& tasks) {
  TaskGrouper grouper;
  for (const TaskRecord& task : tasks) grouper.Add(task);
  return grouper.Take();
}

std::string WaitingText(const std::vector<WaitReason>& reasons) {
  std::string out;
  for (WaitReason reason : reasons)
    out += (out.empty() ? "" : ", ") + std::string(WaitReasonName(reason));
  return out;
}

}  // namespace orchestra::broker
