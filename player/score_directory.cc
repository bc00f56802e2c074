// The rules of DESIGN.md section 7. A score must be a regular file (or a
// link to one), executable, not writable by group or others, owned by root
// or the player's user, and so must every directory on its real path and
// every link on the way (TrustedDirectory says which may be sticky):
// whoever can change a score, or what its name leads to, can run code as
// the player. Each score is opened here, judged by the fstat of that
// descriptor, hashed from it and later run through it (ScoreFile), so no
// name is looked up twice. NAME.conf is held to the same rules, since it
// can name the user a score runs as; it must be a regular file in the
// score directory itself, not a link, and is read relative to the
// directory's descriptor. A bad NAME.conf leaves the score listed but
// unusable, so the conductor learns why each of its runs fails instead of
// the score vanishing. Beyond the names DESIGN.md rules out, editors' and
// package managers' leftovers (.dpkg-old, .bak, ...) are not scores
// either. NAME.conf of the original Orchestra keeps working: its `path` is
// accepted and ignored (as the original did), an empty `user` or `dir` is
// the default, `user` may be a uid.

#include "player/score_directory.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>

#include "common/config_file.h"
#include "common/files.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/result.h"
#include "common/text.h"
#include "common/unique_fd.h"
#include "player/trusted_directory.h"

namespace orchestra::player {

using common::Result;
using common::Status;

namespace {

constexpr size_t kMaxConfBytes = 1 << 20;

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.substr(text.size() - suffix.size()) == suffix;
}

Status ParseInterface(std::string_view value, bool* pipe) {
  if (value != "env" && value != "pipe")
    return Status::InvalidArgument("", "must be env or pipe");
  *pipe = (value == "pipe");
  return Status();
}

Status ParseTimeout(std::string_view value, std::optional<int64_t>* out) {
  int64_t seconds = 0;
  if (!common::ParseInt64(value, 0, kMaxTimeLimitS, &seconds))
    return Status::InvalidArgument(
        "", "must be whole seconds from 0 (no limit) to " +
                std::to_string(kMaxTimeLimitS));
  *out = seconds;
  return Status();
}

// A user name, or (as the original allowed) a numeric uid; empty: the
// player's own user.
Status ParseUser(std::string_view value, uid_t owner, std::string* user) {
  if (value.empty()) return Status();
  std::string name(value);
  int64_t uid = -1;
  struct passwd* pw = common::ParseInt64(value, 0, INT32_MAX, &uid)
                          ? ::getpwuid(static_cast<uid_t>(uid))
                          : ::getpwnam(name.c_str());
  if (pw == nullptr)
    return Status::InvalidArgument("", "no user '" + name + "'");
  if (owner != 0 && pw->pw_uid != owner)
    return Status::InvalidArgument(
        "", "running as '" + name + "' needs a player running as root");
  *user = pw->pw_name;
  return Status();
}

// Bytes with an optional K, M or G (powers of 1024): `memory max`.
Status ParseMemoryMax(std::string_view value, CgroupLimits* limits) {
  int64_t unit = 1;
  std::string_view digits = value;
  const char last = value.empty() ? '\0' : value.back();
  if (last == 'K' || last == 'k') unit = int64_t{1} << 10;
  if (last == 'M' || last == 'm') unit = int64_t{1} << 20;
  if (last == 'G' || last == 'g') unit = int64_t{1} << 30;
  if (unit > 1) digits.remove_suffix(1);
  int64_t number = 0;
  if (!common::ParseInt64(digits, 1, INT64_MAX / (int64_t{1} << 30), &number))
    return Status::InvalidArgument(
        "", "must be bytes, with K, M or G after the number (e.g. 256M)");
  limits->memory_max = number * unit;
  limits->memory_max_text = std::string(value);
  return Status();
}

// At most this many processes and threads at once: `tasks max`.
Status ParseTasksMax(std::string_view value, CgroupLimits* limits) {
  constexpr int64_t kPidMaxLimit = 4194304;
  int64_t count = 0;
  if (!common::ParseInt64(value, 1, kPidMaxLimit, &count))
    return Status::InvalidArgument("", "must be a number of tasks from 1 to " +
                                           std::to_string(kPidMaxLimit));
  limits->tasks_max = count;
  return Status();
}

// An absolute path; empty keeps the default, "/".
Status ParseDir(std::string_view value, std::string* dir) {
  if (value.empty()) return Status();
  if (value[0] != '/')
    return Status::InvalidArgument("", "must be an absolute path");
  *dir = std::string(value);
  return Status();
}

// The original parsed `path` and never used it; its scores still carry it.
Status IgnorePath(const std::string& conf, std::string_view) {
  common::LogInfo(
      "score setting ignored conf=%s key=path "
      "reason=\"PATH is always /usr/bin:/usr/sbin:/bin:/sbin\"",
      conf.c_str());
  return Status();
}

// The text of NAME.conf `name` in `dir`, "" if there is none; the error
// says why it may not be used. `path` names it in messages.
Status ReadConfText(const TrustedDirectory& dir, const std::string& name,
                    const std::string& path, std::string* text) {
  const int dir_fd = dir.fd()->get();
  struct stat st;
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT ? Status() : Status::FromErrno(path, errno);
  if (S_ISLNK(st.st_mode))
    return Status::InvalidArgument(path, "a link, not a regular file");
  if (!S_ISREG(st.st_mode))
    return Status::InvalidArgument(path, "not a regular file");
  common::UniqueFd fd(
      ::openat(dir_fd, name.c_str(),
               O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0)
    return Status::FromErrno(path, errno);
  if (!S_ISREG(st.st_mode))
    return Status::InvalidArgument(path, "not a regular file");
  std::string problem = OwnershipProblem(st, dir.owner(), "file");
  if (!problem.empty()) return Status::PermissionDenied(path, problem);
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(path, errno);
    if (n == 0) return Status();
    if (text->size() + n > kMaxConfBytes)
      return Status::InvalidArgument(path, "larger than 1 MiB");
    text->append(buffer, static_cast<size_t>(n));
  }
}

// Applies NAME.conf `name` in `dir` to `score`; the error says what is
// wrong.
Status ReadScoreConf(const TrustedDirectory& dir, const std::string& name,
                     Score* score) {
  const std::string path = score->path + ".conf";
  const uid_t owner = dir.owner();
  std::string text;
  Status read = ReadConfText(dir, name, path, &text);
  if (!read.ok() || text.empty()) return read;
  return ParseScoreConf(path, text, owner, score);
}

// Left behind by editors and package managers; never scores (run-parts
// skips the same).
constexpr const char* kBackupSuffixes[] = {
    "~",        ".bak",      ".old",      ".orig",      ".rej",      ".swp",
    ".tmp",     ".dpkg-old", ".dpkg-new", ".dpkg-dist", ".dpkg-tmp", ".ucf-old",
    ".ucf-new", ".ucf-dist", ".rpmnew",   ".rpmsave",   ".rpmorig"};

// Why directory entry `name` is not a score, or "" when it may be one.
std::string NameProblem(const std::string& name) {
  if (name[0] == '.') return "hidden file";
  if (name[0] == '#') return "editor file";
  for (const char* suffix : kBackupSuffixes) {
    if (EndsWith(name, suffix)) return "backup file";
  }
  if (EndsWith(name, ".conf")) return "score configuration";
  if (!common::IsValidScoreName(name))
    return "name is not a score name (it must match " +
           common::ScoreNameRule() + ")";
  return "";
}

// The names in the score directory, or none (logged) if it is unusable.
std::vector<std::string> ListNames(const std::string& path,
                                   const Result<TrustedDirectory>& dir) {
  std::string problem = dir.status().message();
  std::unique_ptr<DIR, int (*)(DIR*)> list(nullptr, ::closedir);
  if (dir.ok()) {
    common::UniqueFd fd(::openat(dir.value().fd()->get(), ".",
                                 O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.valid()) list.reset(::fdopendir(fd.get()));
    if (list)
      fd.Release();  // The DIR owns it now
    else
      problem = std::strerror(errno);
  }
  if (!list) {
    common::LogWarning("score directory unusable dir=%s reason=%s",
                       path.c_str(), common::LogQuote(problem).c_str());
    return {};
  }
  std::vector<std::string> names;
  while (struct dirent* entry = ::readdir(list.get())) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  return names;
}

// The score `name` in `dir`, or why it is not one.
Result<Score> LoadScore(const std::string& path, const TrustedDirectory& dir,
                        const std::string& name) {
  Score score;
  score.name = name;
  score.path = path + "/" + name;
  std::string problem = NameProblem(name);
  if (!problem.empty()) return Status::InvalidArgument("", problem);
  Result<std::shared_ptr<const ScoreFile>> file = ScoreFile::Open(dir, name);
  if (!file.ok()) return file.status();
  score.file = std::move(file.value());
  Result<std::string> sha = score.file->Sha256();
  if (!sha.ok()) return sha.status();
  score.sha256 = sha.value();
  Status conf = ReadScoreConf(dir, name + ".conf", &score);
  if (!conf.ok()) {
    score.problem = conf.message();
    common::LogWarning("score unusable name=%s error=%s", name.c_str(),
                       common::LogQuote(score.problem).c_str());
  }
  return score;
}

}  // namespace

Status ParseScoreConf(const std::string& path, std::string_view text,
                      uid_t owner, Score* score) {
  Result<common::ConfigFile> file = common::ConfigFile::Parse(path, text);
  if (!file.ok()) return file.status();
  common::ConfigReader r(file.value());
  r.Custom("interface", [&](std::string_view v) {
    return ParseInterface(v, &score->pipe_interface);
  });
  r.Custom("timeout", [&](std::string_view v) {
    return ParseTimeout(v, &score->timeout_s);
  });
  r.Custom("user", [&](std::string_view v) {
    return ParseUser(v, owner, &score->user);
  });
  r.Custom("dir", [&](std::string_view v) { return ParseDir(v, &score->dir); });
  r.Custom("path", [&](std::string_view v) { return IgnorePath(path, v); });
  r.Int("concurrency", 1, 1024, &score->concurrency);
  r.Custom("memory max", [&](std::string_view v) {
    return ParseMemoryMax(v, &score->limits);
  });
  r.Custom("tasks max", [&](std::string_view v) {
    return ParseTasksMax(v, &score->limits);
  });
  return r.Finish();
}

ScoreDirectory ScoreDirectory::Scan(const std::string& path, uid_t owner) {
  if (sodium_init() < 0) common::LogError("libsodium failed to initialise");
  ScoreDirectory table;
  const Result<TrustedDirectory> dir = TrustedDirectory::Open(path, owner);
  const std::vector<std::string> names = ListNames(path, dir);
  for (const std::string& name : names) {
    Result<Score> score = LoadScore(path, dir.value(), name);
    if (score.ok()) {
      table.scores_[name] = std::move(score.value());
      continue;
    }
    std::string reason = score.status().message();
    if (EndsWith(name, ".conf")) {
      const std::string score_name = name.substr(0, name.size() - 5);
      if (std::find(names.begin(), names.end(), score_name) != names.end())
        continue;  // Read with its score
      reason = "a score configuration with no score '" + score_name + "'";
    }
    common::LogWarning("score skipped name=%s reason=%s",
                       common::LogQuote(name).c_str(),
                       common::LogQuote(reason).c_str());
  }
  common::LogInfo("scores scanned dir=%s count=%zu", path.c_str(),
                  table.scores_.size());
  return table;
}

const Score* ScoreDirectory::Find(std::string_view name) const {
  auto it = scores_.find(name);
  return it == scores_.end() ? nullptr : &it->second;
}

std::vector<broker::ScoreInfo> ScoreDirectory::List() const {
  std::vector<broker::ScoreInfo> list;
  list.reserve(scores_.size());
  for (const auto& [name, score] : scores_)
    list.push_back({name, score.sha256, score.pipe_interface ? "pipe" : "env"});
  return list;
}

}  // namespace orchestra::player
