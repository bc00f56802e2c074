// ScoreDirectory is the table of scores found in the score directory
// (DESIGN.md section 7): each score's open file, SHA-256 and NAME.conf
// settings. Built by one Scan() at start-up and on each SIGHUP, then
// read-only; owned by the player loop thread.

#ifndef ORCHESTRA_PLAYER_SCORE_DIRECTORY_H_
#define ORCHESTRA_PLAYER_SCORE_DIRECTORY_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/protocol.h"
#include "common/status.h"
#include "player/score_file.h"
#include "player/task_cgroups.h"

namespace orchestra::player {

struct Score {
  std::string name;
  std::string path;                       // Score directory + "/" + name
  std::shared_ptr<const ScoreFile> file;  // Opened and checked; runs
  std::string sha256;                     // Lower-case hex, of `file`
  bool pipe_interface = false;            // `interface = pipe`
  std::optional<int64_t> timeout_s;       // `timeout`; 0 = no limit
  std::string user;                       // `user`; empty: the player's own
  std::string dir = "/";                  // `dir`, the working directory
  int concurrency = 0;                    // `concurrency`; 0 = only `slots`
  CgroupLimits limits;                    // `memory max`, `tasks max`
  std::string problem;  // The NAME.conf error; set: every run is HOST_ERROR

  bool usable() const { return problem.empty(); }
};

// Applies the text of a score's NAME.conf (`path` names it in errors) to
// `score`. `owner` is the player's uid, as for Scan(): `user =` needs 0.
// InvalidArgument "path:line: ..." for what is wrong.
common::Status ParseScoreConf(const std::string& path, std::string_view text,
                              uid_t owner, Score* score);

class ScoreDirectory {
 public:
  ScoreDirectory() = default;

  // Scans directory `path`. Scores, the directories on their real paths
  // and the links on the way must be owned by root or `owner`, the
  // player's uid (see TrustedDirectory); `user =` needs owner 0. Each
  // score is opened here and runs through that descriptor. Everything
  // skipped is logged with the reason; an unusable directory yields no
  // scores. Never fails.
  static ScoreDirectory Scan(const std::string& path, uid_t owner);

  // The score called `name`, or nullptr.
  const Score* Find(std::string_view name) const;
  // The list for `hello` and `scores`, by name.
  std::vector<broker::ScoreInfo> List() const;
  size_t size() const { return scores_.size(); }

 private:
  std::map<std::string, Score, std::less<>> scores_;
};

}  // namespace orchestra::player

#endif  // ORCHESTRA_PLAYER_SCORE_DIRECTORY_H_
