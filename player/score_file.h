// ScoreFile is one score opened when the score directory was scanned; the
// score runs through this descriptor (DESIGN.md section 7), so the file
// that was checked is the file that runs. Shared by the scan's table and
// the runs taken from it, so a rescan never closes it under a spawn. Used
// by the player loop thread only.

#ifndef ORCHESTRA_PLAYER_SCORE_FILE_H_
#define ORCHESTRA_PLAYER_SCORE_FILE_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"
#include "player/trusted_directory.h"

namespace orchestra::player {

class ScoreFile {
 public:
  // Opens score `name` in `dir` and checks the file: regular, executable,
  // owned by root or the directory's owner, not writable by group or
  // others. The error is why it is not a score.
  static common::Result<std::shared_ptr<const ScoreFile>> Open(
      const TrustedDirectory& dir, const std::string& name);

  ScoreFile(const ScoreFile&) = delete;
  ScoreFile& operator=(const ScoreFile&) = delete;

  // The SHA-256 of the content as lower-case hex, read from the descriptor.
  common::Result<std::string> Sha256() const;

  // Checks the descriptor again (a fresh fstat) just before a run; the
  // error says what changed since the scan.
  common::Status CheckBeforeRun() const;

  // Logs a warning, once, if the name in the score directory no longer
  // names this file (replaced or removed since the scan).
  void WarnIfReplaced() const;

  int fd() const { return fd_.get(); }  // O_RDONLY | O_CLOEXEC, at least 3

 private:
  ScoreFile(common::UniqueFd fd, const TrustedDirectory& dir,
            const std::string& name, const std::string& what);
  std::string FileProblem(const struct stat& st) const;

  common::UniqueFd fd_;
  std::shared_ptr<const common::UniqueFd> dir_;  // The score directory
  std::string name_;
  std::string what_;  // "file", or "link target PATH"; for messages
  uid_t owner_;       // The player's user
  dev_t dev_ = 0;     // As opened
  ino_t ino_ = 0;
  mutable bool warned_ = false;  // WarnIfReplaced() logged
};

}  // namespace orchestra::player

#endif  // ORCHESTRA_PLAYER_SCORE_FILE_H_
