"""A real Orchestra on loopback for the Python client's tests.

Cluster starts bin/orchestra-conductor and bin/orchestra-player processes in
a temporary directory with fresh Curve keys (from `bin/orchestra keygen`), a
players file, an audience keys file, real score scripts and a real SQLite
database; it waits on their log lines (with deadlines), never on sleeps.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
BIN = os.environ.get("ORCHESTRA_BIN", os.path.join(ROOT, "bin"))
# What AddressSanitizer, LeakSanitizer and UBSan print (SANITIZE=1 builds),
# and ThreadSanitizer (SANITIZE=thread).
SANITIZER_REPORTS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:", "WARNING: ThreadSanitizer")
sys.path.insert(0, os.path.join(ROOT, "tools", "python"))

SCORES = {
    "hello": '#!/bin/sh\necho "hello $ORC_NAME from $ORC_PLAYER"\n',
    "fail": "#!/bin/sh\necho failing >&2\nexit 3\n",
    "true": "#!/bin/sh\nexit 0\n",
    "backup-home": "#!/bin/sh\necho saved\n",
    "restart-web": "#!/bin/sh\necho restarted\n",
    # ~1 MB on each stream (with `output limit = 1048576`, all of it).
    "loud": "#!/bin/sh\necho \"from $ORC_PLAYER\"\n"
            "head -c 1000000 /dev/zero | tr '\\0' o\n"
            "head -c 1000000 /dev/zero | tr '\\0' e >&2\n",
}


class Daemon:
    """One running binary whose stderr (the log) is read on a thread."""

    def __init__(self, args):
        self.log = []
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stderr:
            with self._changed:
                self.log.append(line)
                self._changed.notify_all()
        with self._changed:
            self.log.append(None)  # end of the log
            self._changed.notify_all()

    def wait_for_log(self, pattern, timeout=15.0, start=0):
        """The first match of `pattern` in the log from line `start` on
        (its first group, if any); fails the test at the deadline."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = start
        with self._changed:
            while True:
                for line in self.log[seen:]:
                    if line is None:
                        pytest.fail("process ended before %r:\n%s" % (
                            pattern, "".join(l for l in self.log if l)))
                    found = regex.search(line)
                    if found:
                        return found.group(1) if regex.groups else line
                seen = len(self.log)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail("no log line %r within %ss:\n%s" % (
                        pattern, timeout, "".join(l for l in self.log if l)))
                self._changed.wait(remaining)

    def mark(self):
        with self._changed:
            return len(self.log)

    def stop(self, sig=signal.SIGTERM):
        """Stops the process; fails the test if its log holds a sanitizer
        report (a leak check runs as it exits)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        status = self.process.wait(timeout=20)
        self._reader.join(timeout=20)
        log = "".join(line for line in self.log if line)
        for report in SANITIZER_REPORTS:
            if report in log:
                pytest.fail("%s made a sanitizer report:\n%s" % (
                    self.process.args[0], log[log.index(report):][:8192]))
        return status


class Cluster:
    """Keys, files and daemons under `directory`."""

    def __init__(self, directory):
        self.dir = str(directory)
        self.keys = os.path.join(self.dir, "keys")
        self.conductor = None
        self.players = {}
        self.endpoint = "ipc://" + os.path.join(self.dir, "conductor.sock")
        self.tcp_endpoint = None
        self.keygen("conductor")

    def keygen(self, name):
        """Makes key pair `name` with the CLI; returns its public key."""
        subprocess.run([os.path.join(BIN, "orchestra"), "keygen", name,
                        "--dir", self.keys], check=True,
                       stdout=subprocess.DEVNULL)
        return self.read(os.path.join(self.keys, name + ".pub")).strip()

    @staticmethod
    def read(path):
        with open(path) as f:
            return f.read()

    def write(self, name, text, mode=0o644):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def add_players(self, names):
        lines = ["%s %s\n" % (name, self.keygen(name)) for name in names]
        self.write("players", "".join(lines))
        for name in names:
            os.mkdir(os.path.join(self.dir, "scores-" + name))
            for score, script in SCORES.items():
                self.write(os.path.join("scores-" + name, score), script,
                           0o755)

    def add_audience_keys(self, limits):
        """Writes the audience keys file: {name: "scores=... players=..."}."""
        lines = ["%s %s %s\n" % (name, self.keygen(name), extra)
                 for name, extra in limits.items()]
        return self.write("audience", "".join(lines))

    def key_file(self, name, secret=False):
        return os.path.join(self.keys, name + (".key" if secret else ".pub"))

    def start_conductor(self, tcp=False, http=""):
        """`http`: more conductor.conf lines (the web page's users, TLS)."""
        audience = self.endpoint
        extra = ""
        if tcp:
            audience += ", tcp://127.0.0.1:*"
            extra = "audience keys file = %s/audience\n" % self.dir
        config = self.write("conductor.conf", (
            "player endpoint = tcp://127.0.0.1:*\n"
            "audience endpoint = %s\n"
            "conductor secret key = %s/conductor.key\n"
            "player file path = %s/players\n"
            "database path = %s/conductor.db\n"
            "heartbeat interval = 200\n"
            "player timeout = 2000\n"
            "dispatch retry = 1000\n"
            "http endpoint = 127.0.0.1:0\n" % (audience, self.keys, self.dir,
                                               self.dir)) + extra + http)
        self.conductor = Daemon([os.path.join(BIN, "orchestra-conductor"),
                                 "--config", config])
        self.player_endpoint = self.conductor.wait_for_log(
            r"bound endpoint=(tcp://[0-9.]+:[0-9]+) role=players")
        if tcp:
            self.tcp_endpoint = self.conductor.wait_for_log(
                r"bound endpoint=(tcp://[0-9.]+:[0-9]+) role=audience")
        self.http_url = self.conductor.wait_for_log(
            r"bound endpoint=(https?://[^ ]+) role=http")
        self.conductor.wait_for_log(r"started players=")

    def start_player(self, name, extra=""):
        config = self.write(name + ".conf", (
            "player name = %s\n"
            "conductor endpoint = %s\n"
            "conductor public key = %s/conductor.pub\n"
            "player secret key = %s/%s.key\n"
            "score directory = %s/scores-%s\n"
            "state path = %s/%s.db\n"
            "kill grace = 1\n" % (name, self.player_endpoint, self.keys,
                                  self.keys, name, self.dir, name, self.dir,
                                  name)) + extra)
        mark = self.conductor.mark()
        self.players[name] = Daemon([os.path.join(BIN, "orchestra-player"),
                                     "--config", config])
        self.conductor.wait_for_log(r"player joined player=%s " % name,
                                    start=mark)

    def stop(self):
        for player in self.players.values():
            player.stop()
        if self.conductor is not None:
            self.conductor.stop()


def make_cluster(directory):
    """p1 and p2 running, p3 listed but offline (its jobs wait), and the
    audience keys ci (any score), backup-bot (backup-* on p1 and p3) and
    stranger (not listed) over tcp."""
    cluster = Cluster(directory)
    cluster.add_players(["p1", "p2", "p3"])
    cluster.add_audience_keys({"ci": "",
                               "backup-bot": "scores=backup-* players=p1,p3"})
    cluster.keygen("stranger")
    cluster.start_conductor(tcp=True)
    cluster.start_player("p1")
    cluster.start_player("p2")
    return cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """One cluster for a module's tests, which must not change it."""
    c = make_cluster(tmp_path_factory.mktemp("cluster"))
    yield c
    c.stop()


@pytest.fixture
def own_cluster(tmp_path):
    """A cluster of the test's own, which it may stop or change."""
    c = make_cluster(tmp_path)
    yield c
    c.stop()


@pytest.fixture
def loud_cluster(tmp_path):
    """p1, p2 and p3 running with an output limit of 1 MiB: three tasks of
    the `loud` score make a record larger than one message."""
    c = Cluster(tmp_path)
    c.add_players(["p1", "p2", "p3"])
    c.start_conductor()
    for name in ("p1", "p2", "p3"):
        c.start_player(name, "output limit = 1048576\n")
    yield c
    c.stop()
