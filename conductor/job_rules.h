// The rules of DESIGN.md section 5 that decide a job's state from its
// tasks. Pure functions, shared by the conductor's JobBoard and its tests.

#ifndef ORCHESTRA_CONDUCTOR_JOB_RULES_H_
#define ORCHESTRA_CONDUCTOR_JOB_RULES_H_

#include <set>
#include <string>
#include <vector>

#include "broker/audience_protocol.h"

namespace orchestra::conductor {

// Players of a `one` job that may still be tried: listed, and without a
// soft failure (UNK_SCORE, HOST_ERROR, ABORTED, EXPIRED) in this job.
std::vector<std::string> EligiblePlayers(const broker::JobRecord& job);

// The job's state given its tasks. An `all` job is finished when every
// task is final: OK when all are OK, PARTIAL_FAIL when some are, else
// FAIL. A SKIPPED task (a rollout's max_errors ran out) is final and not
// OK, like any failure: a job with one is PARTIAL_FAIL or FAIL, never OK
// (it has more failures than its max_errors, so at least one). A `one`
// job is finished when a task is OK or ends in a state that is not soft
// (SKIPPED is not), or when every task ended softly and none is open (the
// caller queues a new attempt while an eligible player is left).
// `cancelled`: the audience cancelled it, so once finished it is CANCELLED.
broker::JobState EvaluateJob(const broker::JobRecord& job, bool cancelled);

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_JOB_RULES_H_
