// One sample of every message type of both channels (and of each optional
// part a message may carry), for the wire compatibility test: the encoder
// must keep writing what test/data/wire_before.txt holds.

#ifndef ORCHESTRA_TEST_WIRE_SAMPLES_H_
#define ORCHESTRA_TEST_WIRE_SAMPLES_H_

#include <string>
#include <vector>

namespace orchestra::test {

struct WireSample {
  std::string name;    // e.g. "player/result-signal", "reply/job-page"
  std::string bytes;   // what today's encoder writes
  bool reply = false;  // an audience reply (it may gain a "kind")
};

std::vector<WireSample> AllWireSamples();

}  // namespace orchestra::test

#endif  // ORCHESTRA_TEST_WIRE_SAMPLES_H_
