// A score is judged by the fstat of its descriptor, at the scan and again
// before each run: the trusted owner may chmod it in between, and a file
// others could write may hold anything by now. Replacing the score under
// its name (a rename, as install(1) and dpkg do) does not change what runs
// until a rescan; WarnIfReplaced() says so once. Writing into the checked
// file in place does change it, but only its owner, root or the player's
// user, can.

#include "player/score_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/log.h"

namespace orchestra::player {

using common::Result;
using common::Status;
using common::UniqueFd;

ScoreFile::ScoreFile(UniqueFd fd, const TrustedDirectory& dir,
                     const std::string& name, const std::string& what)
    : fd_(std::move(fd)),
      dir_(dir.fd()),
      name_(name),
      what_(what),
      owner_(dir.owner()) {}

Result<std::shared_ptr<const ScoreFile>> ScoreFile::Open(
    const TrustedDirectory& dir, const std::string& name) {
  Result<OpenedFile> opened = dir.OpenFile(name);
  if (!opened.ok()) return opened.status();
  UniqueFd fd = std::move(opened.value().fd);
  // A child's dup2s onto 0, 1 and 2 would clobber it before it reaches 3
  // (possible only if the player was started with those closed).
  if (fd.get() < 3) fd.Reset(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3));
  if (!fd.valid()) return Status::FromErrno("dup " + name, errno);
  const std::string what = opened.value().via_link
                               ? "link target " + opened.value().real_path
                               : "file";
  std::shared_ptr<ScoreFile> file(
      new ScoreFile(std::move(fd), dir, name, what));
  struct stat st;
  if (::fstat(file->fd(), &st) != 0) return Status::FromErrno(name, errno);
  std::string problem = file->FileProblem(st);
  if (!problem.empty()) return Status::InvalidArgument("", problem);
  file->dev_ = st.st_dev;
  file->ino_ = st.st_ino;
  return std::shared_ptr<const ScoreFile>(std::move(file));
}

std::string ScoreFile::FileProblem(const struct stat& st) const {
  if (!S_ISREG(st.st_mode)) return "not a regular file";
  if ((st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0)
    return "not executable";
  return OwnershipProblem(st, owner_, what_);
}

Result<std::string> ScoreFile::Sha256() const {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  unsigned char buffer[65536];
  for (off_t offset = 0;;) {
    ssize_t n = ::pread(fd_.get(), buffer, sizeof(buffer), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(name_, errno);
    if (n == 0) break;
    crypto_hash_sha256_update(&state, buffer, static_cast<size_t>(n));
    offset += n;
  }
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
  return std::string(hex);
}

Status ScoreFile::CheckBeforeRun() const {
  struct stat st;
  if (::fstat(fd_.get(), &st) != 0)
    return Status::FromErrno("score " + name_, errno);
  std::string problem = FileProblem(st);
  if (problem.empty()) return Status();
  return Status::PermissionDenied(
      "score " + name_, "changed since the scan: " + problem +
                            "; not run (fix it, then reload with SIGHUP)");
}

void ScoreFile::WarnIfReplaced() const {
  if (warned_) return;
  struct stat st;
  if (::fstatat(dir_->get(), name_.c_str(), &st, 0) == 0 && st.st_dev == dev_ &&
      st.st_ino == ino_)
    return;
  warned_ = true;
  common::LogWarning(
      "score changed on disk since the scan name=%s "
      "action=\"running the checked file; reload (SIGHUP) to use the new "
      "one\"",
      common::LogQuote(name_).c_str());
}

}  // namespace orchestra::player
