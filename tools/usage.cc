#include "tools/usage.h"

namespace orchestra::tools {

namespace {

constexpr char kOverview[] =
    "usage: orchestra [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGUMENTS]\n"
    "\n"
    "Asks the conductor to run scores on players, and reports on them.\n"
    "\n"
    "commands:\n"
    "  submit [--all|--one] [-p KEY=VALUE]... SCORE PLAYER...  start a job\n"
    "  status JOB                 show a job and its tasks\n"
    "  wait JOB [--timeout S]     wait until a job is finished, then show it\n"
    "  cancel JOB                 cancel a job's unfinished tasks\n"
    "  jobs [--state S] ...       list jobs, newest first\n"
    "  players                    list the players and their scores\n"
    "  sql STATEMENT              run one read-only SQL statement\n"
    "  keygen NAME [--dir DIR]    make a Curve key pair (no conductor needed)\n"
    "  http-user NAME [--operate] make a line of the web page's users file\n"
    "  help [COMMAND]             show the usage of a command\n"
    "\n"
    "global options:\n"
    "  --endpoint E       the conductor's audience endpoint: ipc://PATH or\n"
    "                     tcp://HOST:PORT (default: $ORCHESTRA_ENDPOINT, else\n"
    "                     ipc:///run/orchestra/conductor.sock); a cell's\n"
    "                     conductors as a list split by commas, tried in\n"
    "                     turn (at most 16)\n"
    "  --key FILE         our Curve secret key (tcp endpoints)\n"
    "  --server-key FILE  the conductor's Curve public key (tcp endpoints)\n"
    "  --json             print records as JSON, exactly as the protocol\n"
    "                     carries them\n"
    "  -v, --verbose      show each task's full stdout, stderr and response\n"
    "  -h, --help         show this help\n"
    "  --version          show the version\n"
    "\n"
    "exit status: 0 the job is OK (or the command succeeded); 1 the job\n"
    "finished but not OK (FAIL, PARTIAL_FAIL, CANCELLED); 2 usage error or\n"
    "request refused by the conductor; 3 conductor unreachable or stopping;\n"
    "4 the job is still PENDING.\n";

constexpr char kSubmit[] =
    "usage: orchestra submit [--all|--one] [-p KEY=VALUE]... [--timeout S]\n"
    "                        [--wait [--wait-timeout S]] SCORE PLAYER...\n"
    "       orchestra submit ... --target EXPR [--max-concurrency N|N%]\n"
    "                        [--max-errors N|N%] [--priority N] SCORE\n"
    "\n"
    "Starts a job running SCORE on the PLAYERs (names, or lists split by\n"
    "commas) and prints its id; with --wait, waits and shows it as `wait`.\n"
    "\n"
    "  --one                 one of the players runs it (the default)\n"
    "  --all                 every player runs it\n"
    "  -p, --param KEY=VALUE a parameter; the score sees $ORC_KEY\n"
    "  --timeout S           the score's time limit in seconds\n"
    "  --delivery-timeout S  how long a task may wait for an offline player\n"
    "                        (0: for ever)\n"
    "  --idempotency-key K   a retried submit with the same K returns the\n"
    "                        first job instead of starting another\n"
    "  --wait                wait until the job is finished\n"
    "  --wait-timeout S      give up waiting after S seconds (exit 4)\n"
    "  --target EXPR         the players whose labels match EXPR, instead\n"
    "                        of names: 'role=web dc=syd,mel name!=web-0*'\n"
    "  --max-concurrency N   (--all) at most N (or N% of the tasks, rounded\n"
    "                        up) of the job's tasks out at once\n"
    "  --max-errors N        (--all) past N failures (or N%, rounded down)\n"
    "                        the tasks not yet sent end SKIPPED\n"
    "  --priority N          -100 to 100 (default 0): higher goes first\n";

constexpr char kStatus[] =
    "usage: orchestra status [-v] [--group] [--tasks-from K] [--tasks-limit "
    "N]\n"
    "                        JOB\n"
    "\n"
    "Shows job JOB and its tasks. Exit status as for `wait`; 4 when the job\n"
    "is still PENDING.\n"
    "\n"
    "A reply carries at most 4 MiB, so the conductor sends a large job in\n"
    "pages of whole tasks; status (like wait and cancel) fetches every page\n"
    "and shows them as one. A single task too large for a reply of its own\n"
    "is cut: the ends of its stdout and stderr are kept, marked\n"
    "\"(truncated)\" and \"cut to fit one reply\" (-v).\n"
    "\n"
    "  --tasks-from K   only the page that starts at the job's task K\n"
    "                   (0 is the first); it says where the next one starts\n"
    "  --tasks-limit N  only the page of at most N tasks\n";

constexpr char kWait[] =
    "usage: orchestra wait [-v] [--timeout S] JOB\n"
    "\n"
    "Waits until job JOB is finished, then shows it. On a terminal a\n"
    "progress line is kept up to date meanwhile.\n"
    "\n"
    "  --timeout S  give up after S seconds; the exit status is then 4\n";

constexpr char kCancel[] =
    "usage: orchestra cancel [-v] JOB\n"
    "\n"
    "Cancels job JOB: its queued tasks end CANCELLED and running ones are\n"
    "stopped on their players. Shows the job.\n";

constexpr char kJobs[] =
    "usage: orchestra jobs [--state S] [--score S] [--player P] [--limit N]\n"
    "                      [--before JOB]\n"
    "\n"
    "Lists jobs, newest first.\n"
    "\n"
    "  --state S     only jobs in state S (PENDING, OK, FAIL, PARTIAL_FAIL,\n"
    "                CANCELLED)\n"
    "  --score S     only jobs of score S\n"
    "  --player P    only jobs that list player P\n"
    "  --limit N     at most N jobs (default 100, at most 10000); a list\n"
    "                too large for one reply is fetched in pages\n"
    "  --before JOB  only jobs older than JOB (for the next page)\n";

constexpr char kPlayers[] =
    "usage: orchestra players [--target EXPR]\n"
    "\n"
    "Lists the players the conductor knows (with --target, those whose\n"
    "labels match EXPR), whether they are connected, their labels and\n"
    "their scores. A list too large for one reply (4 MiB) is fetched in\n"
    "pages, by name.\n";

constexpr char kSql[] =
    "usage: orchestra sql STATEMENT\n"
    "\n"
    "Runs one read-only SQL statement (\"SELECT ...\") on the active\n"
    "conductor's database and prints the result as a table, its column\n"
    "names as the header; --json prints {columns, rows, truncated}. A\n"
    "result too large for one reply is cut, and says \"(truncated)\". Only\n"
    "audience keys without limits and the local socket may ask.\n";

constexpr char kKeygen[] =
    "usage: orchestra keygen NAME [--dir DIR]\n"
    "\n"
    "Writes a new Curve key pair: DIR/NAME.key (the secret key, mode 0600)\n"
    "and DIR/NAME.pub (the public key). Never overwrites a key.\n"
    "\n"
    "  --dir DIR  where to write them (default /etc/orchestra/keys)\n";

constexpr char kHttpUser[] =
    "usage: orchestra http-user NAME [--operate]\n"
    "\n"
    "Reads a password (twice, without echo; from a pipe, its first two\n"
    "lines) and prints the line `NAME HASH ROLE` for the conductor's\n"
    "'http users file' (HASH is Argon2id). No conductor needed.\n"
    "\n"
    "  --operate  the user may cancel jobs (role operate); else view only\n";

}  // namespace

std::string Usage(const std::string& word) {
  if (word == "submit" || word == "queue") return kSubmit;
  if (word == "status") return kStatus;
  if (word == "wait") return kWait;
  if (word == "cancel") return kCancel;
  if (word == "jobs") return kJobs;
  if (word == "players") return kPlayers;
  if (word == "sql") return kSql;
  if (word == "keygen") return kKeygen;
  if (word == "http-user") return kHttpUser;
  return kOverview;
}

}  // namespace orchestra::tools
