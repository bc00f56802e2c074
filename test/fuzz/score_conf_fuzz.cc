// Fuzz target: a score's NAME.conf (player::ParseScoreConf, what the score
// directory's scan does with the file's text), for a player running as
// root (`user =` allowed) and as another user.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/log.h"
#include "player/score_directory.h"
#include "test/fuzz/fuzz_check.h"

namespace player = orchestra::player;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // `path =` logs a line each time it is seen; keep the run quiet.
  static bool quiet = [] {
    orchestra::common::InitLogging("score_conf_fuzz",
                                   orchestra::common::LogLevel::kError);
    return true;
  }();
  (void)quiet;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (uid_t owner : {uid_t{0}, uid_t{65534}}) {
    player::Score score;
    orchestra::common::Status s =
        player::ParseScoreConf("hello.conf", text, owner, &score);
    if (!s.ok()) continue;
    FUZZ_CHECK(!score.dir.empty() && score.dir[0] == '/');
    FUZZ_CHECK(score.concurrency >= 0 && score.concurrency <= 1024);
  }
  return 0;
}
