"""`make install` and the systemd units, checked with systemd's own tools.

The units are installed with paths that exist (a PREFIX inside a temporary
directory), so `systemd-analyze verify` can check them whole, ExecStart
binaries included. The conductor's system call filter is checked against
what a real conductor does: strace records every call it makes while it
starts, serves a job, reloads, sweeps old jobs and stops, and each call
must be allowed by the unit's SystemCallFilter lines (a refused call would
kill it: ZeroMQ aborts when it may not set its threads' scheduling).
"""

import os
import re
import signal
import socket
import stat
import subprocess
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
# The build under test (`make python-test` names it; see the Makefile).
BIN = os.environ.get("ORCHESTRA_BIN", os.path.join(ROOT, "bin"))
MAKE_VARS = os.environ.get("ORCHESTRA_MAKE_VARS", "").split()
UNITS = ("orchestra-conductor.service", "orchestra-player.service")


def make_install(destdir="", prefix="/usr", sysconfdir="/etc"):
    """Runs `make install`; returns its stdout."""
    result = subprocess.run(
        ["make", "-s", "-C", ROOT, "install", "DESTDIR=" + destdir,
         "PREFIX=" + prefix, "SYSCONFDIR=" + sysconfdir] + MAKE_VARS,
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return result.stdout


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def read(path):
    with open(path) as f:
        return f.read()


def unit_lines(path, key):
    return [line.split("=", 1)[1] for line in read(path).splitlines()
            if line.startswith(key + "=")]


def test_install_puts_every_file_in_place(tmp_path):
    dest = str(tmp_path)
    make_install(destdir=dest)
    expected = {
        "usr/bin/orchestra-conductor": 0o755,
        "usr/bin/orchestra-player": 0o755,
        "usr/bin/orchestra": 0o755,
        "usr/lib/systemd/system/orchestra-conductor.service": 0o644,
        "usr/lib/systemd/system/orchestra-player.service": 0o644,
        "usr/lib/sysusers.d/orchestra.conf": 0o644,
        "etc/orchestra/conductor.conf": 0o644,
        "etc/orchestra/player.conf": 0o644,
        "usr/lib/orchestra/scores/hello": 0o755,
        "usr/lib/orchestra/scores/disk-usage": 0o755,
        "usr/lib/orchestra/scores/disk-usage.conf": 0o644,
        "usr/share/doc/orchestra/README.md": 0o644,
        "usr/share/doc/orchestra/examples/conductor.conf": 0o644,
        "usr/share/doc/orchestra/examples/player.conf": 0o644,
    }
    client = os.path.join(ROOT, "tools/python/orchestra_client.py")
    if os.path.exists(client):
        expected["usr/lib/python3/dist-packages/orchestra_client.py"] = 0o644
    for path, want in expected.items():
        assert mode(os.path.join(dest, path)) == want, path
    assert os.path.isdir(os.path.join(dest, "etc/orchestra/keys"))
    conductor = os.path.join(dest, "usr/lib/systemd/system", UNITS[0])
    assert unit_lines(conductor, "ExecStart") == [
        "/usr/bin/orchestra-conductor --config /etc/orchestra/conductor.conf"]
    version = subprocess.run(
        [os.path.join(dest, "usr/bin/orchestra-player"), "--version"],
        capture_output=True, text=True, timeout=30)
    assert version.stdout.startswith("orchestra-player ")
    # The installed sample settings are the checked-in ones, and valid.
    assert read(os.path.join(dest, "etc/orchestra/conductor.conf")) == read(
        os.path.join(ROOT, "etc/conductor.conf"))
    # Whatever the key files of this host, no line of them is wrong.
    for daemon in ("conductor", "player"):
        conf = os.path.join(dest, "etc/orchestra/%s.conf" % daemon)
        check = subprocess.run(
            [os.path.join(dest, "usr/bin/orchestra-" + daemon), "--config",
             conf, "--check-config"], capture_output=True, text=True,
            timeout=30)
        assert check.returncode in (0, 2)
        assert conf + ":" not in check.stderr, check.stderr


def test_install_never_overwrites_existing_settings(tmp_path):
    dest = str(tmp_path)
    os.makedirs(os.path.join(dest, "etc/orchestra"))
    mine = os.path.join(dest, "etc/orchestra/conductor.conf")
    with open(mine, "w") as f:
        f.write("# the operator's own settings\nretention days = 7\n")
    out = make_install(destdir=dest)
    assert read(mine) == "# the operator's own settings\nretention days = 7\n"
    assert "kept " + mine in out
    assert os.path.exists(os.path.join(dest, "etc/orchestra/player.conf"))
    make_install(destdir=dest)  # again: still the operator's
    assert "retention days = 7" in read(mine)


def test_install_elsewhere_names_its_own_paths(tmp_path):
    dest = str(tmp_path)
    make_install(destdir=dest, prefix="/opt/orchestra",
                 sysconfdir="/opt/orchestra/etc")
    unit = os.path.join(dest, "opt/orchestra/lib/systemd/system", UNITS[1])
    assert unit_lines(unit, "ExecStart") == [
        "/opt/orchestra/bin/orchestra-player "
        "--config /opt/orchestra/etc/orchestra/player.conf"]
    player = read(os.path.join(dest, "opt/orchestra/etc/orchestra/player.conf"))
    assert "\nscore directory = /opt/orchestra/lib/orchestra/scores\n" in player
    assert "\nconductor public key = /opt/orchestra/etc/orchestra/keys/" \
        "conductor.pub\n" in player


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """An installation whose paths exist as written (no DESTDIR)."""
    root = str(tmp_path_factory.mktemp("root"))
    make_install(prefix=root + "/usr", sysconfdir=root + "/etc")
    return root


def test_units_pass_systemd_analyze_verify(installed):
    units = [os.path.join(installed, "usr/lib/systemd/system", u)
             for u in UNITS]
    result = subprocess.run(["systemd-analyze", "verify"] + units,
                            capture_output=True, text=True, timeout=120)
    # verify warns (and still exits 0) on unknown keys and bad values.
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_conductor_unit_is_hardened(installed):
    unit = os.path.join(installed, "usr/lib/systemd/system", UNITS[0])
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", unit],
        capture_output=True, text=True, timeout=120)
    level = re.search(r"Overall exposure level for \S+: ([0-9.]+)",
                      result.stdout)
    assert level, result.stdout + result.stderr
    assert float(level.group(1)) <= 2.0, result.stdout


def test_conductor_unit_bounds_memory_and_descriptors(installed):
    """README "Limits": what libzmq holds for a peer is bounded by
    MemoryMax=, connections by LimitNOFILE=; systemd must read both."""
    unit = os.path.join(installed, "usr/lib/systemd/system", UNITS[0])
    assert unit_lines(unit, "MemoryMax") == ["2G"]
    assert unit_lines(unit, "LimitNOFILE") == ["65536"]
    result = subprocess.run(
        ["systemd-analyze", "verify", unit], capture_output=True, text=True,
        timeout=120)
    assert "MemoryMax" not in result.stderr + result.stdout


def test_units_speak_sd_notify_with_watchdog_and_reload(installed):
    for name in UNITS:
        unit = os.path.join(installed, "usr/lib/systemd/system", name)
        assert unit_lines(unit, "Type") == ["notify"]
        assert unit_lines(unit, "WatchdogSec") == ["30s"]
        assert unit_lines(unit, "ExecReload")[-1] == "/bin/kill -HUP $MAINPID"
        assert unit_lines(unit, "RestartPreventExitStatus") == ["2"]
    conductor = os.path.join(installed, "usr/lib/systemd/system", UNITS[0])
    assert unit_lines(conductor, "User") == ["orchestra"]
    assert unit_lines(conductor, "RuntimeDirectory") == ["orchestra"]
    assert unit_lines(conductor, "StateDirectory") == ["orchestra"]


def test_sysusers_file_creates_the_orchestra_user(tmp_path):
    dest = str(tmp_path)
    make_install(destdir=dest)
    for name in ("passwd", "group"):
        open(os.path.join(dest, "etc", name), "w").close()
    result = subprocess.run(
        ["systemd-sysusers", "--dry-run", "--root=" + dest,
         os.path.join(dest, "usr/lib/sysusers.d/orchestra.conf")],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Creating user 'orchestra'" in result.stdout + result.stderr


# --- the conductor's system calls against its unit's filter ---------------

def expand_syscall_group(name, cache={}):
    """The system calls of `@group` (recursively), per systemd-analyze."""
    if name not in cache:
        out = subprocess.run(["systemd-analyze", "syscall-filter", name],
                             capture_output=True, text=True,
                             timeout=60).stdout
        calls = set()
        for line in out.splitlines()[1:]:
            line = line.strip()
            if line.startswith("@"):
                calls |= expand_syscall_group(line)
            elif re.fullmatch(r"[a-z_0-9]+", line):
                calls.add(line)
        assert calls, "unknown group " + name
        cache[name] = calls
    return cache[name]


def allowed_syscalls(unit):
    """What the unit's SystemCallFilter= lines allow, applied in order (an
    allow list first: later lines remove (~) or add calls)."""
    allowed = set()
    for value in unit_lines(unit, "SystemCallFilter"):
        remove = value.startswith("~")
        for item in value.lstrip("~").split():
            calls = expand_syscall_group(item) if item.startswith("@") \
                else {item}
            allowed = allowed - calls if remove else allowed | calls
    return allowed


class Daemon:
    """A process whose stderr is read on a thread, so tests wait for log
    lines with a deadline."""

    def __init__(self, args, env=None):
        self.lines = []
        self.changed = threading.Condition()
        self.process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, env=env)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stderr:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()

    def wait_for(self, pattern, timeout=30):
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for line in self.lines:
                    if re.search(pattern, line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no log line %r in:\n%s" % (
                        pattern, "".join(self.lines)))
                self.changed.wait(left)

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


def sanitized(program):
    """True when `program` was built with AddressSanitizer (SANITIZE=1)."""
    with open(program, "rb") as f:
        return b"__asan_init" in f.read()


def traced_pid(strace):
    """The pid of the program strace runs."""
    with open("/proc/%d/task/%d/children" % (strace, strace)) as f:
        return int(f.read().split()[0])


def test_conductor_unit_allows_every_call_the_conductor_makes(
        installed, tmp_path):
    if sanitized(BIN + "/orchestra-conductor"):
        pytest.skip("the sanitizer runtime makes system calls of its own and "
                    "LeakSanitizer cannot run under strace; the plain build "
                    "is checked")
    unit = os.path.join(installed, "usr/lib/systemd/system", UNITS[0])
    allowed = allowed_syscalls(unit)
    d = str(tmp_path)
    for name in ("conductor", "p1"):
        subprocess.run([BIN + "/orchestra", "keygen", name, "--dir",
                        d + "/keys"], check=True, capture_output=True)
    with open(d + "/keys/p1.pub") as f:
        with open(d + "/players", "w") as players:
            players.write("p1 " + f.read())
    os.makedirs(d + "/scores", mode=0o755)
    with open(d + "/scores/hello", "w") as f:
        f.write("#!/bin/sh\necho hello\n")
    os.chmod(d + "/scores/hello", 0o755)
    with open(d + "/conductor.conf", "w") as f:
        f.write("player endpoint = tcp://127.0.0.1:*\n"
                "audience endpoint = ipc://%s/c.sock\n"
                "conductor secret key = %s/keys/conductor.key\n"
                "player file path = %s/players\n"
                "database path = %s/c.db\n"
                "heartbeat interval = 200\n"
                "http endpoint = 127.0.0.1:0\n"
                "retention days = 0.00001\n" % (d, d, d, d))
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(d + "/notify.sock")
    env = dict(os.environ, NOTIFY_SOCKET=d + "/notify.sock",
               WATCHDOG_USEC="1000000")
    conductor = Daemon(["strace", "-f", "-qq", "-o", d + "/trace",
                        BIN + "/orchestra-conductor", "--config",
                        d + "/conductor.conf"], env=env)
    player = None
    try:
        endpoint = re.search(r"bound endpoint=(tcp://\S+) role=players",
                             conductor.wait_for("role=players")).group(1)
        conductor.wait_for("started players=1")
        pid = traced_pid(conductor.process.pid)
        with open(d + "/p1.conf", "w") as f:
            f.write("player name = p1\nconductor endpoint = %s\n"
                    "conductor public key = %s/keys/conductor.pub\n"
                    "player secret key = %s/keys/p1.key\n"
                    "score directory = %s/scores\nstate path = %s/p1.db\n"
                    % (endpoint, d, d, d, d))
        player = Daemon([BIN + "/orchestra-player", "--config",
                         d + "/p1.conf"])
        conductor.wait_for("player joined player=p1")
        job = subprocess.run(
            [BIN + "/orchestra", "--endpoint", "ipc://%s/c.sock" % d,
             "submit", "--all", "--wait", "hello", "p1"],
            capture_output=True, text=True, timeout=60)
        assert job.returncode == 0, job.stdout + job.stderr
        conductor.wait_for("retention swept jobs=1 ")
        os.kill(pid, signal.SIGHUP)
        conductor.wait_for("reloaded players=1")
        os.kill(pid, signal.SIGTERM)
        assert conductor.process.wait(timeout=60) == 0
    finally:
        conductor.stop()
        if player:
            player.stop()
        notify.close()
    used = set()
    with open(d + "/trace") as f:
        for line in f:
            m = re.match(r"\d+\s+([a-z_0-9]+)\(", line)
            if m:
                used.add(m.group(1))
    assert "sendmsg" in used and "fdatasync" in used, "the trace is complete"
    assert sorted(used - allowed) == []
