#!/usr/bin/python3
"""What a hostile peer can make the conductor hold: an attack harness.

`make attacks` (or `tools/bench/attacks.py all`) starts a real
orchestra-conductor for each attack below, in a temporary directory of its
own: fresh Curve keys made with `orchestra keygen`, a players file, an
audience keys file with one limited key, an ipc audience socket in the
directory and a tcp audience endpoint, the player endpoint on
tcp://127.0.0.1:* (the port read back from the log line "bound
endpoint=... role=players"). Most attacks also start one real
orchestra-player (`real-1`, score `true`, a copy of /bin/true). Then it
runs the attack with raw pyzmq clients (msgpack maps as in
broker/PROTOCOL.md) and reports, for each:

  - the conductor's memory: VmRSS before the attack, the peak VmRSS and
    VmHWM (the process's lifetime peak) sampled every 0.1 s from
    /proc/PID/status, VmRSS at the end and a few seconds after;
  - its CPU (utime+stime of /proc/PID/stat, all threads) during the
    attack, and per second in the seconds after it (% of one core);
  - its descriptors (entries of /proc/PID/fd, sampled);
  - whether it is alive (else "died", its exit status and its last log
    lines) and still serves: a `players` request over ipc answered within
    a deadline, and a `one` job on the real player finishing OK;
  - the figure the attack is about.

The attacks (each `attacks.py run NAME [flags]`; `attacks.py run NAME -h`
lists the flags):

  idle-handshakes   N plain TCP connections to the player port that never
                    finish the Curve handshake (a partial ZMTP greeting, or
                    nothing), held open (and opened again when the conductor
                    closes one); meanwhile a `players` request over ipc and a
                    real player connecting. With --nofile L the conductor runs
                    under RLIMIT_NOFILE L:L (`all` runs it with L=1024 and
                    N=1500): does it stay up, what CPU does it burn at the
                    limit, does it recover when the connections close.
                    Figures: connections up, the conductor's descriptors,
                    how many it closed (its handshake timeout), the probes.
  endless-multipart An ipc audience client sends M frames of 4 MiB, each
                    with the MORE flag, and never a last frame (ZMTP written
                    by hand: libzmq would keep the frames on our side until
                    the last one). libzmq keeps an unfinished message until
                    its last frame: the figure is how much of it the
                    conductor holds (RSS growth), and whether it gives it
                    back when the client goes away.
  non-reader        An ipc client submits one job with large parameters (4
                    of 60 KiB, for a listed player that never connects, so
                    it stays PENDING), then sends K `status` requests for it
                    and never reads a reply. Figure: RSS growth against K
                    times the reply's size.
  pending-waits     W `wait` requests (no timeout) for a job that never
                    finishes, spread over C ipc connections, whose replies
                    are read (error codes counted: a newer conductor answers
                    `busy` past its caps); then the clients disconnect.
                    Figures: replies by code, RSS with the waits and after
                    the disconnect, idle CPU over the next seconds (what a
                    tick over forgotten waits costs), and the time to cancel
                    the job (which answers every wait still held).
  scores-flood      A raw player (listed key) says hello, then sends `scores`
                    messages of 10,000 entries as fast as the conductor takes
                    them for S seconds (--mode same: one list again and
                    again; alternate: two lists in turn, so it always
                    changes); a stream of short jobs runs on the real
                    player, one at a time, before and during the flood.
                    Figures: p50, p99 and longest submit-to-result latency
                    without and with the flood (a job waits at most 60 s),
                    the lists taken, the conductor's CPU and RSS, how long
                    until it answers again.
  refusal-log       300 DEALERs with random (unlisted) Curve keys connect to
                    the player port (and reconnect as libzmq does) for a few
                    seconds. Figure: the conductor's log lines about
                    refusals, and how many bytes its log grew.
  greedy-slots      A raw player says hello with slots=4096 and never accepts
                    a task; 10,000 one-task jobs are submitted for it.
                    Figure: how many tasks it was sent unacknowledged (and
                    how many `task` messages, resends included).
  big-record        An `all` job on P raw players that each answer their task
                    with 1 MiB of stdout, so the job record passes 4 MiB.
                    Figures: the record's size (`status` read by a client
                    without a size limit: the first page, if it comes in
                    pages; then how many pages, the largest, the tasks
                    read), whether a client that accepts 4 MiB replies (as
                    the CLI does) gets its `status`, and what `orchestra
                    status --json` does.

Every run is bounded in time (--timeout a attack; `all` runs the plan of
`attacks.py list`, ~6 minutes here). The table goes to stdout; with --json FILE (make attacks:
$(BUILD)/attacks.json) the same figures as JSON. The load average is
recorded before and after each attack: other work on the machine moves
every CPU and latency figure.

Needs only Debian's python3-zmq and python3-msgpack; run it as a user that
can read /proc/PID of its own children (any user).
"""

import argparse
import json
import os
import re
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import msgpack
import zmq
from zmq.utils.monitor import recv_monitor_message

MiB = 1 << 20
KiB = 1 << 10
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
CLK_TCK = os.sysconf("SC_CLK_TCK")
RAW_PLAYERS = 8  # raw-1 .. raw-8 are listed in every players file
SERVE_DEADLINE = 5.0  # s for a `players` reply, and for a probe job


class ConductorDied(Exception):
    pass


class AttackTimeout(Exception):
    pass


def now():
    return time.monotonic()


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def iso_now():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + \
        ".%03dZ" % int((t % 1) * 1000)


def mb(kib):
    return None if kib is None else round(kib / 1024.0, 1)


def percentile(values, p):
    """Nearest-rank percentile (as the bench's Samples)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, int(-(-p * len(ordered) // 100)))
    return ordered[min(rank, len(ordered)) - 1]


# ---------------------------------------------------------------- /proc

def read_proc(pid, fds=False):
    """{rss_kib, hwm_kib, cpu_s[, fds]} of a live process, else None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            status = f.read()
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    out = {}
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            out["rss_kib"] = int(line.split()[1])
        elif line.startswith("VmHWM:"):
            out["hwm_kib"] = int(line.split()[1])
    if "rss_kib" not in out:
        return None  # a zombie
    fields = stat[stat.rfind(")") + 2:].split()
    out["cpu_s"] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    if fds:
        try:
            out["fds"] = len(os.listdir("/proc/%d/fd" % pid))
        except OSError:
            pass
    return out


class Sampler(threading.Thread):
    """Samples the conductor's /proc entries every `period` s."""

    def __init__(self, pid, period=0.1):
        super().__init__(daemon=True)
        self.pid = pid
        self.period = period
        self.samples = []  # (t, {rss_kib, hwm_kib, cpu_s[, fds]})
        self._halt = threading.Event()

    def run(self):
        n = 0
        while not self._halt.is_set():
            s = read_proc(self.pid, fds=(n % 5 == 0))
            if s is None:
                return
            self.samples.append((now(), s))
            n += 1
            self._halt.wait(self.period)

    def stop(self):
        self._halt.set()
        self.join(2)

    def window(self, t0, t1=None):
        """Peaks of the samples taken between t0 and t1."""
        t1 = t1 if t1 is not None else now()
        got = [s for t, s in self.samples if t0 <= t <= t1]
        return {
            "rss_peak_kib": max((s["rss_kib"] for s in got), default=None),
            "hwm_kib": max((s["hwm_kib"] for s in got), default=None),
            "fds_peak": max((s["fds"] for s in got if "fds" in s),
                            default=None),
        }


# ---------------------------------------------------------------- the conductor

class Conductor:
    """A real orchestra-conductor in a temporary directory of its own."""

    def __init__(self, bin_dir, nofile=None, log_level="info"):
        self.bin = bin_dir
        self.nofile = nofile
        self.dir = tempfile.mkdtemp(prefix="orc-attack-")
        os.chmod(self.dir, 0o700)
        self.log_path = os.path.join(self.dir, "conductor.log")
        self.ipc = "ipc://%s/conductor.sock" % self.dir
        self.proc = None
        self.player_endpoint = None
        self.audience_tcp = None
        self.raw_keys = {}  # raw-N -> (public, secret), Z85 bytes
        self._setup(log_level)

    def _keygen(self, name):
        keys = os.path.join(self.dir, "keys")
        subprocess.run([os.path.join(self.bin, "orchestra"), "keygen", name,
                        "--dir", keys], check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(keys, name + ".pub"), "rb") as f:
            return f.read().strip()

    def _setup(self, log_level):
        os.mkdir(os.path.join(self.dir, "keys"), 0o700)
        self.server_public = self._keygen("conductor")
        lines = ["real-1 %s" % self._keygen("real-1").decode()]
        never_public, _ = zmq.curve_keypair()  # listed, never connects
        lines.append("never-1 %s" % never_public.decode())
        for i in range(1, RAW_PLAYERS + 1):
            public, secret = zmq.curve_keypair()
            self.raw_keys["raw-%d" % i] = (public, secret)
            lines.append("raw-%d %s" % (i, public.decode()))
        with open(os.path.join(self.dir, "players"), "w") as f:
            f.write("\n".join(lines) + "\n")
        # One limited audience key, for the tcp audience endpoint.
        self.remote_public = self._keygen("remote")
        with open(os.path.join(self.dir, "audience"), "w") as f:
            f.write("remote %s scores=true players=real-*\n"
                    % self.remote_public.decode())
        with open(os.path.join(self.dir, "keys", "remote.key"), "rb") as f:
            self.remote_secret = f.read().strip()
        with open(os.path.join(self.dir, "conductor.conf"), "w") as f:
            f.write("# written by tools/bench/attacks.py\n"
                    "player endpoint = tcp://127.0.0.1:*\n"
                    "audience endpoint = %s, tcp://127.0.0.1:*\n"
                    "audience socket mode = 0600\n"
                    "audience keys file = %s/audience\n"
                    "conductor secret key = %s/keys/conductor.key\n"
                    "player file path = %s/players\n"
                    "database path = %s/conductor.db\n"
                    "retention days = 0\n"
                    "http endpoint = 127.0.0.1:0\n"
                    "log level = %s\n"
                    % (self.ipc, self.dir, self.dir, self.dir, self.dir,
                       log_level))

    def start(self):
        limit = self.nofile

        def preexec():
            if limit:
                resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(self.bin, "orchestra-conductor"), "--config",
             os.path.join(self.dir, "conductor.conf")],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            preexec_fn=preexec)
        log.close()
        m = self.wait_log(r"bound endpoint=(tcp://[0-9.]+:[0-9]+) role=players",
                          timeout=30)
        self.player_endpoint = m.group(1)
        m = self.wait_log(r"bound endpoint=(tcp://[0-9.]+:[0-9]+) "
                          r"role=audience", timeout=30)
        self.audience_tcp = m.group(1)
        self.wait_log(r"started players=", timeout=30)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def check(self):
        if not self.alive():
            raise ConductorDied()

    def exit_description(self):
        rc = self.proc.poll()
        if rc is None:
            return "running"
        if rc < 0:
            try:
                return "killed by %s" % signal.Signals(-rc).name
            except ValueError:
                return "killed by signal %d" % -rc
        return "exit status %d" % rc

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_text(self, start=0):
        with open(self.log_path, "rb") as f:
            f.seek(start)
            return f.read().decode("utf-8", "replace")

    def log_tail(self, n=12):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(max(0, self.log_size() - 64 * KiB))
                lines = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return []
        return [line[:400] for line in lines[-n:]]

    def wait_log(self, pattern, start=0, timeout=10.0):
        """The first match of `pattern` in the log past byte `start`."""
        rx = re.compile(pattern)
        deadline = now() + timeout
        while True:
            m = rx.search(self.log_text(start))
            if m:
                return m
            if not self.alive():
                raise ConductorDied()
            if now() > deadline:
                return None
            time.sleep(0.05)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class RealPlayer:
    """bin/orchestra-player `real-1` with the score `true`."""

    def __init__(self, conductor):
        self.c = conductor
        self.proc = None
        d = conductor.dir
        scores = os.path.join(d, "scores-real-1")
        os.mkdir(scores, 0o755)
        shutil.copy("/bin/true", os.path.join(scores, "true"))
        os.chmod(os.path.join(scores, "true"), 0o755)
        self.conf = os.path.join(d, "real-1.conf")
        with open(self.conf, "w") as f:
            f.write("player name = real-1\n"
                    "conductor endpoint = %s\n"
                    "conductor public key = %s/keys/conductor.pub\n"
                    "player secret key = %s/keys/real-1.key\n"
                    "score directory = %s\n"
                    "state path = %s/real-1.db\n"
                    "slots = 4\n"
                    "log level = info\n"
                    % (conductor.player_endpoint, d, d, scores, d))

    def start(self, wait=10.0):
        """Starts it; seconds until the conductor logged it joined, or
        None if it did not within `wait`."""
        mark = self.c.log_size()
        log = open(os.path.join(self.c.dir, "real-1.log"), "ab")
        t0 = now()
        self.proc = subprocess.Popen(
            [os.path.join(self.c.bin, "orchestra-player"), "--config",
             self.conf], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        self.mark = mark
        self.t0 = t0
        return self.joined(wait)

    def joined(self, wait):
        if self.c.wait_log(r"player joined player=real-1 ", self.mark,
                           wait):
            return round(now() - self.t0, 3)
        return None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------- clients

class Audience:
    """A raw DEALER on an audience endpoint: one msgpack map a message."""

    def __init__(self, ctx, endpoint, curve=None, maxmsgsize=None,
                 rcvhwm=None, rcvbuf=None, sndhwm=None):
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.SNDTIMEO, 10000)
        if maxmsgsize is not None:
            s.setsockopt(zmq.MAXMSGSIZE, maxmsgsize)
        if rcvhwm is not None:
            s.setsockopt(zmq.RCVHWM, rcvhwm)
        if rcvbuf is not None:
            s.setsockopt(zmq.RCVBUF, rcvbuf)
        if sndhwm is not None:
            s.setsockopt(zmq.SNDHWM, sndhwm)
        if curve is not None:  # (server public, our public, our secret)
            s.curve_serverkey, s.curve_publickey, s.curve_secretkey = curve
        s.connect(endpoint)
        self.socket = s
        self.next_req = 1
        self.last_size = 0

    def send(self, fields, flags=0):
        req = self.next_req
        self.next_req += 1
        self.socket.send(msgpack.packb(dict(fields, req=req)), flags)
        return req

    def recv(self, timeout):
        """One reply map, or None after `timeout` s."""
        if not self.socket.poll(int(timeout * 1000)):
            return None
        data = self.socket.recv()
        self.last_size = len(data)
        try:
            return msgpack.unpackb(data, raw=False, strict_map_key=False)
        except Exception:
            return {"ok": False, "error": {"code": "undecodable"}}

    def request(self, fields, timeout=SERVE_DEADLINE):
        """The final reply to `fields`, or None after `timeout` s."""
        req = self.send(fields)
        deadline = now() + timeout
        while True:
            reply = self.recv(max(0, deadline - now()))
            if reply is None:
                return None
            if reply.get("req") == req and "ok" in reply:
                return reply

    def close(self):
        self.socket.close(linger=0)


def error_code(reply):
    if reply is None:
        return "no reply"
    if reply.get("ok"):
        return "ok"
    return (reply.get("error") or {}).get("code", "?")


class RawPlayer:
    """A raw player: a Curve DEALER with a listed key, speaking the player
    protocol by hand."""

    def __init__(self, ctx, c, name, sndhwm=None):
        public, secret = c.raw_keys[name]
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.SNDTIMEO, 10000)
        if sndhwm is not None:
            s.setsockopt(zmq.SNDHWM, sndhwm)
        s.curve_serverkey = c.server_public
        s.curve_publickey = public
        s.curve_secretkey = secret
        s.connect(c.player_endpoint)
        self.name = name
        self.socket = s
        self.last_sent = now()

    def send(self, fields):
        self.socket.send(msgpack.packb(fields))
        self.last_sent = now()

    def hello(self, scores, slots=4):
        self.scores = scores
        self.slots = slots
        self.send({"type": "hello", "proto": 1, "version": "attacks.py",
                   "slots": slots, "scores": scores, "tasks": []})

    def recv(self, timeout):
        if not self.socket.poll(int(timeout * 1000)):
            return None
        return msgpack.unpackb(self.socket.recv(), raw=False,
                               strict_map_key=False)

    def wait_welcome(self, timeout=10.0):
        deadline = now() + timeout
        while now() < deadline:
            m = self.recv(max(0, deadline - now()))
            if m is not None and m.get("type") == "welcome":
                return True
            if m is not None and m.get("type") == "error":
                return False
        return False

    def keep_alive(self):
        """A heartbeat after 5 s of silence (the session's timeout is
        30 s)."""
        if now() - self.last_sent > 5:
            self.send({"type": "heartbeat"})

    def close(self):
        self.socket.close(linger=0)


def score_entry(name, salt=""):
    import hashlib
    return {"name": name, "sha256": hashlib.sha256(
        (name + salt).encode()).hexdigest(), "interface": "env"}


# ---------------------------------------------------------------- one run

class Run:
    """One attack against a fresh conductor: start, sample, probe, stop."""

    def __init__(self, args, nofile=None, real_player=True):
        self.args = args
        self.ctx = zmq.Context()
        self.c = Conductor(args.bin, nofile=nofile)
        self.player = None
        self.sampler = None
        self.real_player_wanted = real_player
        self.result = {}  # the common figures (RSS, CPU, ...)
        self.fig = {}  # the attack's own, kept also when the conductor dies
        self.steps = [(now(), "starting")]  # what the attack was doing

    @property
    def step(self):
        return self.steps[-1][1]

    @step.setter
    def step(self, text):
        self.steps.append((now(), text))

    def step_at(self, t):
        """What the attack was doing at time t."""
        return [text for t0, text in self.steps if t0 <= t][-1]

    def figures(self, more):
        self.fig.update(more)
        return self.fig

    def __enter__(self):
        try:
            self.c.start()
            self.sampler = Sampler(self.c.pid)
            self.sampler.start()
            self.player = RealPlayer(self.c)
            if self.real_player_wanted:
                if self.player.start() is None:
                    raise RuntimeError("the real player did not join")
            time.sleep(0.5)
            self.base = read_proc(self.c.pid, fds=True)
            if self.base is None:
                raise ConductorDied()
            return self
        except BaseException:
            self.__exit__()
            raise

    def __exit__(self, *exc):
        try:
            if self.player is not None:
                self.player.stop()
        finally:
            self.c.stop()
            if self.sampler:
                self.sampler.stop()
            self.ctx.destroy(linger=0)

    def cpu(self):
        s = read_proc(self.c.pid)
        if s is None:
            raise ConductorDied()
        return s["cpu_s"]

    def rss_kib(self):
        s = read_proc(self.c.pid)
        if s is None:
            raise ConductorDied()
        return s["rss_kib"]

    def measure_attack(self, t0, cpu0):
        """Figures of the attack phase, from t0 (CPU cpu0) to now."""
        t1 = now()
        cpu1 = self.cpu()
        w = self.sampler.window(t0, t1)
        self.result.update({
            "attack_s": round(t1 - t0, 2),
            "cpu_attack_s": round(cpu1 - cpu0, 2),
            "cpu_attack_pct": round(100 * (cpu1 - cpu0) / max(t1 - t0, 1e-3),
                                    1),
            "rss_peak_mb": mb(w["rss_peak_kib"]),
            "rss_end_mb": mb(self.rss_kib()),
            "fds_peak": w["fds_peak"],
        })

    def measure_after(self, seconds=5.0, key="after"):
        """RSS and CPU over `seconds` of quiet."""
        cpu0 = self.cpu()
        t0 = now()
        time.sleep(seconds)
        cpu1 = self.cpu()
        self.result.update({
            "cpu_%s_pct" % key: round(100 * (cpu1 - cpu0) / (now() - t0), 1),
            "%s_s" % key: seconds,
            "rss_%s_mb" % key: mb(self.rss_kib()),
        })

    def serves(self, job=True, timeout=SERVE_DEADLINE):
        """Is the conductor still serving? A `players` request over ipc,
        and a job on the real player."""
        out = {}
        saved = self.step
        self.step = saved + " (probe: `players`, a job)"
        a = Audience(self.ctx, self.c.ipc)
        try:
            t0 = now()
            reply = a.request({"op": "players"}, timeout)
            out["players"] = ("%d ms" % round(1000 * (now() - t0))
                              if reply and reply.get("ok") else
                              "no reply in %g s" % timeout
                              if reply is None else error_code(reply))
            if job and self.player.proc is not None and reply is not None:
                t0 = now()
                r = a.request({"op": "submit", "score": "true",
                               "scope": "one", "players": ["real-1"],
                               "params": {}}, timeout)
                if r is not None and r.get("ok"):
                    r = a.request({"op": "wait", "job": r["job"],
                                   "timeout_ms": int(timeout * 1000)},
                                  timeout + 2)
                state = (r or {}).get("job", {}).get("state") \
                    if r and r.get("ok") else error_code(r)
                out["job"] = ("%s in %d ms" % (state,
                                               round(1000 * (now() - t0)))
                              if state == "OK" else str(state))
        finally:
            a.close()
        self.step = saved
        return out


def summary_of_serves(s):
    if not s:
        return "-"
    text = "players " + s.get("players", "-")
    if "job" in s:
        text += ", job " + s["job"]
    return text


# ---------------------------------------------------------------- attacks

def attack_idle_handshakes(run, a):
    """N TCP connections that never finish the handshake, held open."""
    c = run.c
    host, port = c.player_endpoint[len("tcp://"):].rsplit(":", 1)
    addr = (host, int(port))
    greeting = b"\xff" + b"\x00" * 8 + b"\x7f" if a.greeting == "partial" \
        else b""
    fig = run.figures({"connections": a.connections,
                       "greeting": a.greeting, "nofile": a.nofile,
                       "hold_s": a.hold})
    socks = {}  # fd -> (socket, opened at)
    lock = threading.Lock()
    stats = {"reopened": 0, "open_failed": 0}
    closes = []  # (when, seconds the connection had lived)

    def open_one():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2.0)
        try:
            s.connect(addr)
            if greeting:
                s.send(greeting)
        except OSError:
            s.close()
            stats["open_failed"] += 1
            return None
        s.setblocking(False)
        return s

    t_open = now()
    cpu0 = run.cpu()
    for _ in range(a.connections):
        s = open_one()
        if s is not None:
            socks[s.fileno()] = (s, now())
    fig["connected"] = len(socks)
    fig["open_s"] = round(now() - t_open, 2)
    c.check()

    # A thread drains what the conductor sends (its greeting) and notices
    # the connections it closes; with --reopen it opens another.
    stop = threading.Event()
    poller = select.poll()
    for fd in socks:
        poller.register(fd, select.POLLIN)

    def holder():
        while not stop.is_set():
            for fd, ev in poller.poll(200):
                with lock:
                    entry = socks.get(fd)
                if entry is None:
                    continue
                s, opened = entry
                try:
                    data = s.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if data:
                    continue
                if not c.alive():
                    return  # it died: not a close of its own choosing
                poller.unregister(fd)
                with lock:
                    del socks[fd]
                s.close()
                closes.append((now(), now() - opened))
                if a.reopen and not stop.is_set():
                    n = open_one()
                    if n is not None:
                        stats["reopened"] += 1
                        with lock:
                            socks[n.fileno()] = (n, now())
                        poller.register(n.fileno(), select.POLLIN)

    thread = threading.Thread(target=holder, daemon=True)
    thread.start()
    t_hold = now()
    cpu_hold = run.cpu()
    try:
        # Quiet at first: what holding them costs (at the descriptor limit,
        # libzmq may spin on a listener it cannot accept from).
        run.step = "holding %d connections" % len(socks)
        time.sleep(2.0)
        c.check()
        fig["cpu_held_pct"] = round(100 * (run.cpu() - cpu_hold) /
                                    (now() - t_hold), 1)
        fig["fds_held"] = (read_proc(c.pid, fds=True) or {}).get("fds")
        # The probes, while the connections are held: a real player
        # connects (tcp), then a `players` request (ipc).
        fig["during"] = {}
        run.step = "a real player connecting while held"
        joined = run.player.start(wait=8.0)
        fig["during"]["player_joined"] = ("in %.1f s" % joined if joined
                                          is not None else "no, in 8 s")
        if a.ipc_probe:
            run.step = "an ipc `players` request while held"
            fig["during"].update(run.serves(job=False))
        if joined is not None and a.ipc_probe:  # it asks over ipc too
            run.step = "a job on the real player while held"
            fig["during"]["job"] = run.serves().get("job", "no reply")
        run.step = "holding %d connections" % len(socks)
        rest = a.hold - (now() - t_hold)
        if rest > 0:
            time.sleep(rest)
        c.check()
        t_end = now()
        cpu_end = run.cpu()
        fig["cpu_hold_pct"] = round(100 * (cpu_end - cpu_hold) /
                                    (t_end - t_hold), 1)
        fig["fds_peak"] = run.sampler.window(t_open)["fds_peak"]
    finally:
        stop.set()
        thread.join(2)
        fig.update(stats)
        # A conductor that dies closes them all: only closes more than a
        # second before its last sample are its own doing.
        last = run.sampler.samples[-1][0] if run.sampler.samples else now()
        if c.alive():
            last = now() + 1
        own = [lived for t, lived in closes if t < last - 1]
        fig["closed_by_conductor"] = len(own)
        fig["first_close_s"] = round(min(own), 1) if own else None
        with lock:
            held = len(socks)
            for s, _ in socks.values():
                s.close()
            socks.clear()
        fig["held_at_end"] = held
    run.measure_attack(t_open, cpu0)
    # Recovery: the connections are gone; does it serve again?
    run.step = "recovering after the connections closed"
    t_rel = now()
    joined = None
    if fig["during"].get("player_joined", "").startswith("no"):
        joined = run.player.joined(15.0)
        fig["player_joined_after_release"] = (
            "in %.1f s" % (now() - t_rel) if joined is not None
            else "no, in 15 s")
    fig["after"] = run.serves()
    fig["recovered"] = fig["after"].get("players", "").endswith(" ms") and \
        fig["after"].get("job", "").startswith("OK")
    run.measure_after(3.0)
    fig["fds_after"] = (read_proc(c.pid, fds=True) or {}).get("fds")
    run.result["figure"] = (
        "%d/%d up, fds %s (base %s), CPU %s%% held; closed by conductor %d "
        "(first after %s s); held: player joined %s, players %s; after "
        "release: %s" % (
            fig["connected"], a.connections, fig["fds_peak"],
            run.base.get("fds"), fig["cpu_held_pct"],
            fig["closed_by_conductor"], fig["first_close_s"],
            fig["during"].get("player_joined"),
            fig["during"].get("players", "not asked"),
            "recovered" if fig["recovered"] else "NOT recovered"))
    return fig


class RawZmtpIpc:
    """ZMTP 3.0 by hand over the ipc socket (mechanism NULL, as a DEALER).

    libzmq itself cannot send an endless multipart message: its sending
    side also keeps a message's frames until the last one, so a pyzmq
    client would hold them, not the conductor. We write the frames to the
    socket ourselves."""

    def __init__(self, path, timeout=10.0):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(path)
        # Greeting: signature, version 3.0, mechanism NULL, as-server 0.
        s.sendall(b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" +
                  b"NULL".ljust(20, b"\x00") + b"\x00" + b"\x00" * 31)
        self._read(s, 64)  # the conductor's greeting
        self.socket = s
        self._command(b"READY", [(b"Socket-Type", b"DEALER")])
        # Its READY: one short or long command frame.
        flags = self._read(s, 1)[0]
        size = self._read(s, 8 if flags & 0x02 else 1)
        self._read(s, int.from_bytes(size, "big"))

    @staticmethod
    def _read(s, n):
        data = b""
        while len(data) < n:
            chunk = s.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed by the conductor")
            data += chunk
        return data

    def _command(self, name, properties):
        body = bytes([len(name)]) + name
        for key, value in properties:
            body += bytes([len(key)]) + key + len(value).to_bytes(4, "big") \
                + value
        self.socket.sendall(bytes([0x04, len(body)]) + body)

    def send_frame(self, data, more):
        """One message frame (long form), with the MORE flag or not."""
        flags = 0x02 | (0x01 if more else 0)
        self.socket.sendall(bytes([flags]) + len(data).to_bytes(8, "big"))
        self.socket.sendall(data)

    def close(self):
        self.socket.close()


def attack_endless_multipart(run, a):
    """M frames of 4 MiB with MORE and never a last frame."""
    c = run.c
    frame = bytes(a.frame_mib * MiB)
    fig = run.figures({"frames": a.frames, "frame_mib": a.frame_mib})
    t0 = now()
    cpu0 = run.cpu()
    base = run.rss_kib()
    run.step = "sending frames"
    client = RawZmtpIpc(c.ipc[len("ipc://"):])
    sent = 0
    try:
        for _ in range(a.frames):
            client.send_frame(frame, more=True)
            sent += 1
    except OSError as e:  # closed, or 10 s without progress
        fig["send_stopped"] = "after %d frames: %s" % (sent, e)
    fig["frames_sent"] = sent
    fig["bytes_sent"] = sent * len(frame)
    # The kernel may still hold the last frames: wait until the conductor's
    # RSS stops growing (2 s without 1 MiB more), at most 30 s.
    last, last_t = run.rss_kib(), now()
    while now() - last_t < 2.0 and now() - t0 < 30 + 10:
        time.sleep(0.2)
        rss = run.rss_kib()
        if rss > last + 1024:
            last, last_t = rss, now()
    fig["rss_growth_mb"] = mb(run.rss_kib() - base)
    run.step = "holding the frames"
    fig["during"] = run.serves()
    time.sleep(a.hold)
    c.check()
    run.measure_attack(t0, cpu0)
    run.step = "after the client left"
    client.close()
    time.sleep(2.0)
    fig["rss_after_close_mb"] = mb(run.rss_kib())
    fig["after"] = run.serves()
    run.measure_after(3.0)
    run.result["figure"] = (
        "%d MiB sent in %d frames: conductor RSS +%s MiB, %s MiB after the "
        "client left; during: %s%s" % (
            fig["bytes_sent"] // MiB, sent, fig["rss_growth_mb"],
            fig["rss_after_close_mb"], summary_of_serves(fig["during"]),
            "; " + fig["send_stopped"] if "send_stopped" in fig else ""))
    return fig


def submit_pending_job(run, params=None):
    """A job for `never-1` (listed, never connected) that never finishes:
    its delivery timeout is 0 (for ever)."""
    a = Audience(run.ctx, run.c.ipc)
    try:
        r = a.request({"op": "submit", "score": "true", "scope": "one",
                       "players": ["never-1"], "params": params or {},
                       "delivery_timeout_s": 0}, 10)
        if r is None or not r.get("ok"):
            raise RuntimeError("submit failed: %r" % (r,))
        job = r["job"]
        r = a.request({"op": "status", "job": job}, 10)
        return job, a.last_size
    finally:
        a.close()


def attack_non_reader(run, a):
    """K `status` requests for a job with large parameters, never read."""
    c = run.c
    params = {"P%d" % i: "x" * (a.param_kib * KiB) for i in range(a.params)}
    job, reply_bytes = submit_pending_job(run, params)
    fig = run.figures({"requests": a.requests, "params": a.params,
                       "param_kib": a.param_kib, "job": job,
                       "reply_bytes": reply_bytes,
                       "replies_bytes_total": a.requests * reply_bytes})
    mark = c.log_size()
    t0 = now()
    cpu0 = run.cpu()
    base = run.rss_kib()
    # It never reads: take as little as the kernel lets us (RCVHWM 1, a
    # small socket buffer), so what piles up piles up in the conductor.
    run.step = "sending status requests"
    client = Audience(run.ctx, c.ipc, rcvhwm=1, rcvbuf=4096)
    for _ in range(a.requests):
        client.send({"op": "status", "job": job})
    fig["sent_s"] = round(now() - t0, 2)
    # The conductor works through them: wait until its RSS stops growing.
    last, last_t = run.rss_kib(), now()
    while now() - last_t < 2.0 and now() - t0 < 60:
        time.sleep(0.2)
        rss = run.rss_kib()
        if rss > last + 1024:
            last, last_t = rss, now()
    run.step = "holding the unread replies"
    fig["during"] = run.serves()
    time.sleep(a.hold)
    c.check()
    run.measure_attack(t0, cpu0)
    fig["rss_growth_mb"] = mb((run.sampler.window(t0)["rss_peak_kib"]
                               or base) - base)
    run.step = "after the client left"
    client.close()
    time.sleep(2.0)
    fig["rss_after_close_mb"] = mb(run.rss_kib())
    # What the conductor said about it (a newer one drops replies and
    # ignores requests of a client that does not read, with a log line).
    said = [line for line in c.log_text(mark).splitlines()
            if "dropped" in line or "ignored" in line]
    fig["log_lines_dropped_or_ignored"] = len(said)
    fig["log_sample"] = said[:3]
    fig["after"] = run.serves()
    run.measure_after(3.0)
    run.result["figure"] = (
        "%d replies of %d KiB unread (%d MiB): RSS +%s MiB, %s MiB after "
        "close; %d log lines about dropped replies or ignored requests" % (
            a.requests, reply_bytes // KiB,
            fig["replies_bytes_total"] // MiB, fig["rss_growth_mb"],
            fig["rss_after_close_mb"], fig["log_lines_dropped_or_ignored"]))
    return fig


def attack_pending_waits(run, a):
    """W waits without timeout for a job that never finishes."""
    c = run.c
    job, _ = submit_pending_job(run)
    fig = run.figures({"waits": a.waits, "connections": a.connections,
                       "job": job})
    clients = [Audience(run.ctx, c.ipc, sndhwm=100000)
               for _ in range(a.connections)]
    codes = {}
    answered = [0]

    def drain(timeout=0):
        got = False
        for cl in clients:
            while cl.socket.poll(timeout if not got else 0):
                r = msgpack.unpackb(cl.socket.recv(), raw=False,
                                    strict_map_key=False)
                if "ok" not in r:
                    continue  # a progress message
                code = error_code(r)
                if code == "ok" and r.get("timed_out"):
                    code = "ok timed_out"
                codes[code] = codes.get(code, 0) + 1
                answered[0] += 1
                got = True
        return got

    t0 = now()
    cpu0 = run.cpu()
    base = run.rss_kib()
    per = [a.waits // a.connections + (1 if i < a.waits % a.connections
                                       else 0)
           for i in range(a.connections)]
    packed_req = 1
    chunk = 1000
    run.step = "sending waits"
    while any(per):
        for i, cl in enumerate(clients):
            n = min(chunk, per[i])
            for _ in range(n):
                cl.socket.send(msgpack.packb({"op": "wait", "job": job,
                                              "req": packed_req}))
                packed_req += 1
            per[i] -= n
        drain()
        if now() - t0 > 120:
            fig["gave_up_sending"] = True
            break
        c.check()
    fig["send_s"] = round(now() - t0, 2)
    # Replies still coming (busy ones): read until 2 s of quiet.
    quiet = now()
    while now() - quiet < 2.0 and now() - t0 < 150:
        if drain(100):
            quiet = now()
    fig["replies"] = dict(codes)
    fig["busy"] = codes.get("busy", 0)
    fig["held"] = packed_req - 1 - answered[0]
    run.step = "holding the waits"
    fig["during"] = run.serves()
    run.measure_attack(t0, cpu0)
    fig["rss_with_waits_mb"] = mb(run.rss_kib())
    fig["rss_growth_mb"] = mb(run.rss_kib() - base)
    run.step = "after the clients left"
    for cl in clients:
        cl.close()
    time.sleep(2.0)
    fig["rss_after_disconnect_mb"] = mb(run.rss_kib())
    run.measure_after(a.after, key="idle")
    # Cancel the job: the conductor answers every wait it still holds (to
    # peers long gone).
    run.step = "cancelling the job"
    cl = Audience(run.ctx, c.ipc)
    t1 = now()
    cpu1 = run.cpu()
    r = cl.request({"op": "cancel", "job": job}, 60)
    fig["cancel"] = ("%s in %d ms" % (error_code(r), 1000 * (now() - t1))
                     if r else "no reply in 60 s")
    fig["cancel_cpu_s"] = round(run.cpu() - cpu1, 2)
    cl.close()
    fig["after"] = run.serves()
    time.sleep(0.2)
    fig["cancel_rss_peak_mb"] = mb(run.sampler.window(t1)["rss_peak_kib"])
    run.result["rss_after_mb"] = mb(run.rss_kib())
    run.result["cpu_after_pct"] = run.result.get("cpu_idle_pct")
    run.result["figure"] = (
        "%d waits on %d conns: replies %s; RSS +%s MiB, %s MiB after "
        "disconnect; idle CPU %s%% over %g s; cancel %s" % (
            a.waits, a.connections,
            ", ".join("%s %d" % kv for kv in sorted(codes.items())) or "none",
            fig["rss_growth_mb"], fig["rss_after_disconnect_mb"],
            run.result["cpu_idle_pct"], a.after, fig["cancel"]) +
        " (RSS peak %s MiB then)" % fig["cancel_rss_peak_mb"])
    return fig


def job_stream(run, seconds, limit=30.0):
    """Short `one` jobs on real-1, one at a time, for `seconds`: their
    submit-to-result latencies (s) and failures. A job without its result
    after `limit` s counts as a failure with a latency of `limit` (so the
    longest latency reads "at least")."""
    cl = Audience(run.ctx, run.c.ipc)
    lat, failures = [], {}
    deadline = now() + seconds
    try:
        while now() < deadline:
            t0 = now()
            r = cl.request({"op": "submit", "score": "true", "scope": "one",
                            "players": ["real-1"], "params": {}}, limit)
            if r is not None and r.get("ok"):
                left = max(0.1, limit - (now() - t0))
                r = cl.request({"op": "wait", "job": r["job"],
                                "timeout_ms": int(left * 1000)}, left + 0.5)
            state = (r or {}).get("job", {}).get("state") \
                if r and r.get("ok") else error_code(r)
            lat.append(min(now() - t0, limit))
            if state != "OK":
                state = "no result in %g s" % limit if state in (
                    "no reply", "PENDING") else state
                failures[state] = failures.get(state, 0) + 1
                run.c.check()
    finally:
        cl.close()
    return lat, failures


def latency_figures(lat, failures):
    ms = [1000 * x for x in lat]
    out = {"jobs": len(ms), "failures": failures,
           "p50_ms": round(percentile(ms, 50), 1) if ms else None,
           "p99_ms": round(percentile(ms, 99), 1) if ms else None,
           "max_ms": round(max(ms), 1) if ms else None}
    if failures:
        out["note"] = "failed jobs count with the time they were given"
    return out


def attack_scores_flood(run, a):
    """A raw player floods `scores` while real jobs run."""
    c = run.c
    fig = run.figures({"seconds": a.seconds, "entries": a.entries,
                       "mode": a.mode})
    t0 = now()
    cpu0 = run.cpu()
    # Without the flood.
    run.step = "jobs without a flood"
    lat, failures = job_stream(run, a.quiet_seconds)
    fig["quiet"] = latency_figures(lat, failures)
    fig["quiet"]["cpu_pct"] = round(100 * (run.cpu() - cpu0) /
                                    (now() - t0), 1)
    # The flood, from a process of its own; the same job stream meanwhile.
    public, secret = c.raw_keys["raw-1"]
    run.step = "jobs during a flood of %s lists" % a.mode
    mark = c.log_size()
    env = dict(os.environ, ORC_ATTACK_KEYS="%s %s %s" % (
        c.server_public.decode(), public.decode(), secret.decode()))
    flooder = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "_flood-scores",
         c.player_endpoint, str(a.entries), str(a.seconds), a.mode],
        env=env, stdout=subprocess.PIPE)
    t1 = now()
    cpu1 = run.cpu()
    time.sleep(0.5)  # its hello and first lists
    # A job may wait for everything the flood queued before it: give it
    # as long as the drain limit, so that its latency says how long.
    lat, failures = job_stream(run, a.seconds, limit=a.drain_limit)
    flood = fig["flood"] = latency_figures(lat, failures)
    try:
        out, _ = flooder.communicate(timeout=a.seconds + 30)
        flood.update(json.loads(out.decode() or "{}"))
    except (subprocess.TimeoutExpired, ValueError):
        flooder.kill()
        flooder.wait()
    t_end = now()
    flood["cpu_pct"] = round(100 * (run.cpu() - cpu1) / (t_end - t1), 1)
    flood["rss_peak_mb"] = mb(run.sampler.window(t1)["rss_peak_kib"])
    flood["log_bytes"] = c.log_size() - mark
    flood["log_lines"] = c.log_text(mark).count("\n")
    # How long until it answers again once the flood has ended (what it
    # took in is still queued).
    run.step = "after a flood of %s lists" % a.mode
    cl = Audience(run.ctx, c.ipc)
    r = cl.request({"op": "players"}, a.drain_limit)
    cl.close()
    fig["answers_again_after_s"] = round(now() - t_end, 1) if r else None
    fig["answers_again"] = ("in %.1f s" % (now() - t_end) if r else
                            "not in %g s" % a.drain_limit)
    c.check()
    run.measure_attack(t0, cpu0)
    fig["after"] = run.serves()
    run.measure_after(3.0)

    def line(p):
        failed = sum(p["failures"].values())
        return "p50/p99/max %s/%s/%s ms (%d jobs%s)" % (
            p["p50_ms"], p["p99_ms"], p["max_ms"], p["jobs"],
            ", %d failed" % failed if failed else "")
    run.result["figure"] = (
        "quiet %s; flood of %s lists: %s; %s lists of %s KiB taken in %g s, "
        "CPU %s%%, RSS peak %s MiB; answers again %s after it" % (
            line(fig["quiet"]), a.mode, line(flood), flood.get("sent"),
            (flood.get("message_bytes") or 0) // KiB, a.seconds,
            flood["cpu_pct"], flood["rss_peak_mb"], fig["answers_again"]))
    return fig


def flood_scores_main(argv):
    """The flooder (a process of its own, so that the GIL does not slow
    the job stream): hello, then `scores` as fast as the conductor takes
    them. Prints {"sent", "welcome"}."""
    endpoint, entries, seconds, mode = argv
    server, public, secret = os.environ["ORC_ATTACK_KEYS"].split()
    ctx = zmq.Context()
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.SNDHWM, 8)  # as fast as the conductor takes them
    s.setsockopt(zmq.SNDTIMEO, 1000)
    s.curve_serverkey = server.encode()
    s.curve_publickey = public.encode()
    s.curve_secretkey = secret.encode()
    s.connect(endpoint)
    lists = [[score_entry("s%05d" % i, salt) for i in range(int(entries))]
             for salt in ("a", "b")]
    s.send(msgpack.packb({"type": "hello", "proto": 1, "version": "flood",
                          "slots": 1, "scores": lists[0], "tasks": []}))
    welcome = False
    if s.poll(10000):
        welcome = msgpack.unpackb(s.recv(), raw=False).get("type") == \
            "welcome"
    packed = [msgpack.packb({"type": "scores", "scores": x}) for x in lists]
    sent = 0
    deadline = now() + float(seconds)
    while now() < deadline:
        data = packed[sent % 2] if mode == "alternate" else packed[0]
        try:
            s.send(data, copy=False)
            sent += 1
        except zmq.Again:
            pass
        while s.poll(0):
            s.recv()  # heartbeats, errors
    print(json.dumps({"sent": sent, "welcome": welcome,
                      "message_bytes": len(packed[0])}))
    sys.stdout.flush()
    s.close(linger=0)
    ctx.destroy(linger=0)
    return 0


def attack_refusal_log(run, a):
    """Connections with random unlisted keys; the log lines they cause."""
    c = run.c
    mark = c.log_size()
    t0 = now()
    cpu0 = run.cpu()
    socks, monitors = [], []
    run.step = "connections with unlisted keys"
    for _ in range(a.connections):
        public, secret = zmq.curve_keypair()
        s = run.ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.curve_serverkey = c.server_public
        s.curve_publickey = public
        s.curve_secretkey = secret
        # Its events say how often it tried (libzmq reconnects after a
        # refusal, every 100 ms by default).
        monitors.append(s.get_monitor_socket(
            zmq.EVENT_CONNECTED | zmq.EVENT_HANDSHAKE_FAILED_AUTH
            | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
            | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL))
        s.connect(c.player_endpoint)
        socks.append(s)
    events = {}
    poller = zmq.Poller()
    for m in monitors:
        poller.register(m, zmq.POLLIN)
    names = {zmq.EVENT_CONNECTED: "connected",
             zmq.EVENT_HANDSHAKE_FAILED_AUTH: "refused",
             zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL: "failed",
             zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL: "failed"}
    deadline = now() + a.seconds
    while now() < deadline:
        for m, _ in poller.poll(100):
            ev = recv_monitor_message(m)["event"]
            events[names.get(ev, str(ev))] = \
                events.get(names.get(ev, str(ev)), 0) + 1
    for s in socks:
        s.disable_monitor()
        s.close(linger=0)
    for m in monitors:
        m.close(linger=0)
    time.sleep(1.0)
    c.check()
    run.measure_attack(t0, cpu0)
    log = c.log_text(mark).splitlines()
    refused = [line for line in log if "refused" in line]
    fig = run.figures({"connections": a.connections, "seconds": a.seconds,
                       "client_events": events,
                       "log_lines": len(log),
                       "log_lines_refused": len(refused),
                       "log_bytes": c.log_size() - mark,
                       "sample": refused[:2]})
    fig["after"] = run.serves()
    run.measure_after(3.0)
    run.result["figure"] = (
        "%d keys for %g s, %d handshakes refused: %d refusal lines (%d log "
        "lines, %d bytes)" % (a.connections, a.seconds,
                              events.get("refused", 0), len(refused),
                              len(log), fig["log_bytes"]))
    return fig


def attack_greedy_slots(run, a):
    """A player with 4096 slots that accepts nothing; 10,000 jobs for it."""
    c = run.c
    p = RawPlayer(run.ctx, c, "raw-1")
    p.hello([score_entry("true")], slots=a.slots)
    if not p.wait_welcome():
        raise RuntimeError("raw-1 got no welcome")
    fig = run.figures({"slots": a.slots, "jobs": a.jobs})
    tasks, task_messages = set(), [0]

    def take():
        while True:
            m = p.recv(0)
            if m is None:
                return
            if m.get("type") == "task":
                tasks.add(m.get("task"))
                task_messages[0] += 1
    cl = Audience(run.ctx, c.ipc)
    t0 = now()
    cpu0 = run.cpu()
    sent = done = 0
    codes = {}
    run.step = "submitting jobs for a greedy player"
    while done < a.jobs and now() - t0 < 120:
        while sent < a.jobs and sent - done < a.window:
            cl.send({"op": "submit", "score": "true", "scope": "one",
                     "players": ["raw-1"], "params": {}})
            sent += 1
        r = cl.recv(0.05)
        while r is not None:
            if "ok" in r:
                done += 1
                code = error_code(r)
                codes[code] = codes.get(code, 0) + 1
            r = cl.recv(0)
        take()
        p.keep_alive()
        c.check()
    fig["submit_s"] = round(now() - t0, 2)
    fig["submits"] = codes
    deadline = now() + a.settle
    while now() < deadline:
        take()
        p.keep_alive()
        time.sleep(0.05)
    c.check()
    run.measure_attack(t0, cpu0)
    fig["tasks_unacknowledged"] = len(tasks)
    fig["task_messages"] = task_messages[0]
    st = Audience(run.ctx, c.ipc).request({"op": "players"})
    for pl in (st or {}).get("players", []):
        if pl.get("name") == "raw-1":
            fig["players_says_running"] = pl.get("running")
    fig["after"] = run.serves()
    run.measure_after(3.0)
    p.close()
    cl.close()
    run.result["figure"] = (
        "hello slots=%d: %d tasks sent unacknowledged (%d task messages) "
        "of %d jobs" % (a.slots, len(tasks), task_messages[0], a.jobs))
    return fig


def attack_big_record(run, a):
    """An `all` job whose record passes 4 MiB; can a client read it?"""
    c = run.c
    names = ["raw-%d" % i for i in range(1, a.players + 1)]
    players = [RawPlayer(run.ctx, c, n) for n in names]
    for p in players:
        p.hello([score_entry("big")])
    for p in players:
        if not p.wait_welcome():
            raise RuntimeError("%s got no welcome" % p.name)
    fig = run.figures({"players": a.players, "stdout_kib": a.stdout_kib})
    out = "x" * (a.stdout_kib * KiB)
    t0 = now()
    cpu0 = run.cpu()
    cl = Audience(run.ctx, c.ipc)
    r = cl.request({"op": "submit", "score": "big", "scope": "all",
                    "players": names, "params": {}}, 10)
    if r is None or not r.get("ok"):
        raise RuntimeError("submit failed: %r" % (r,))
    job = r["job"]
    fig["job"] = job
    answered = set()
    deadline = now() + 30
    run.step = "players sending 1 MiB results"
    while len(answered) < len(players) and now() < deadline:
        for p in players:
            m = p.recv(0.02)
            if m is None or m.get("type") != "task":
                continue
            t = m["task"]
            p.send({"type": "accepted", "task": t})
            started = iso_now()
            p.send({"type": "result", "task": t, "state": "OK",
                    "exit_code": 0, "stdout": out, "stderr": "",
                    "stdout_truncated": False, "stderr_truncated": False,
                    "response": {}, "started_at": started,
                    "finished_at": iso_now(), "error": ""})
            answered.add(p.name)
    fig["results_sent"] = len(answered)
    # Wait until the conductor has them all (the `jobs` summaries are
    # small), then read the record three ways.
    state = None
    while now() < deadline:
        r = cl.request({"op": "jobs", "limit": 1}, 5)
        js = (r or {}).get("jobs") or []
        state = js[0].get("state") if js else None
        if state and state != "PENDING":
            break
        time.sleep(0.1)
    fig["job_state"] = state
    run.step = "reading the record"
    r = cl.request({"op": "status", "job": job}, 20)
    fig["record_bytes"] = cl.last_size if r is not None else None
    fig["status_unlimited"] = error_code(r)
    if r is not None and r.get("ok"):
        tasks = r["job"].get("tasks", [])
        fig["record_stdout_bytes"] = sum(len(t.get("stdout") or "")
                                         for t in tasks)
        fig["record_truncated"] = [k for k in r["job"] if "trunc" in k
                                   or "page" in k or "more" in k
                                   or k in ("tasks_total", "tasks_from")]
        # The pages after the first, as a client asks for them.
        pages, largest = 1, cl.last_size
        total = r["job"].get("tasks_total", len(tasks))
        while len(tasks) < total:
            p = cl.request({"op": "status", "job": job,
                            "tasks_from": len(tasks)}, 20)
            if p is None or not p.get("ok") or not p["job"]["tasks"]:
                break
            tasks += p["job"]["tasks"]
            pages, largest = pages + 1, max(largest, cl.last_size)
        fig["record_pages"] = pages
        fig["record_largest_page_bytes"] = largest
        fig["record_tasks_read"] = len(tasks)
    limited = Audience(run.ctx, c.ipc, maxmsgsize=4 * MiB)
    r = limited.request({"op": "status", "job": job}, 10)
    fig["status_4mib_client"] = error_code(r) if r is not None else \
        "no reply in 10 s (libzmq drops an oversized message)"
    if r is not None:
        fig["status_4mib_client_bytes"] = limited.last_size
    limited.close()
    try:
        cli = subprocess.run(
            [os.path.join(c.bin, "orchestra"), "--endpoint", c.ipc, "--json",
             "status", str(job)], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, timeout=40)
        fig["cli_status"] = "exit %d, %d bytes of JSON%s" % (
            cli.returncode, len(cli.stdout),
            (": " + cli.stderr.decode("utf-8", "replace").strip()[-200:])
            if cli.stderr else "")
    except subprocess.TimeoutExpired:
        fig["cli_status"] = "no answer in 40 s (killed)"
    c.check()
    run.measure_attack(t0, cpu0)
    for p in players:
        p.close()
    cl.close()
    fig["after"] = run.serves()
    run.measure_after(3.0)
    run.result["figure"] = (
        "record %s bytes; 4 MiB client: %s; CLI: %s" % (
            fig["record_bytes"], fig["status_4mib_client"],
            fig["cli_status"]))
    return fig


# ---------------------------------------------------------------- the registry

def flags_idle(p):
    p.add_argument("--connections", type=int, default=4000,
                   help="TCP connections to hold (default 4000)")
    p.add_argument("--nofile", type=int, default=None,
                   help="run the conductor under RLIMIT_NOFILE N:N")
    p.add_argument("--hold", type=float, default=12.0,
                   help="seconds to hold them (default 12)")
    p.add_argument("--greeting", choices=("partial", "none"),
                   default="partial",
                   help="send the 10-byte ZMTP signature, or nothing")
    p.add_argument("--no-reopen", dest="reopen", action="store_false",
                   help="do not open another when the conductor closes one")
    p.add_argument("--no-ipc-probe", dest="ipc_probe", action="store_false",
                   help="no ipc connection while held (no `players` request, "
                        "no job): libzmq 4.3.4 aborts on an ipc accept at "
                        "the descriptor limit")


def flags_multipart(p):
    p.add_argument("--frames", type=int, default=100,
                   help="frames of --frame-mib sent (default 100; the "
                        "review: 500, 2 GB)")
    p.add_argument("--frame-mib", type=int, default=4,
                   help="MiB a frame (default 4, ZMQ_MAXMSGSIZE)")
    p.add_argument("--hold", type=float, default=3.0)


def flags_non_reader(p):
    p.add_argument("--requests", type=int, default=6000,
                   help="status requests never read (default 6000)")
    p.add_argument("--params", type=int, default=4)
    p.add_argument("--param-kib", type=int, default=60)
    p.add_argument("--hold", type=float, default=3.0)


def flags_waits(p):
    p.add_argument("--waits", type=int, default=400000,
                   help="wait requests (default 400,000)")
    p.add_argument("--connections", type=int, default=40,
                   help="spread over this many connections (default 40)")
    p.add_argument("--after", type=float, default=10.0,
                   help="seconds of idle CPU measured after the disconnect")


def flags_flood(p):
    p.add_argument("--seconds", type=float, default=5.0,
                   help="seconds of flood (default 5: the original takes "
                        "~10 times longer to work through it)")
    p.add_argument("--quiet-seconds", type=float, default=5.0,
                   help="seconds of jobs before it (default 5)")
    p.add_argument("--mode", choices=("same", "alternate"), default="same",
                   help="the same list again and again, or two lists "
                        "alternately (a list that always changes)")
    p.add_argument("--entries", type=int, default=10000)
    p.add_argument("--drain-limit", type=float, default=60.0,
                   help="seconds a job (and a `players` request after the "
                        "flood) may take (default 60)")


def flags_refusal(p):
    p.add_argument("--connections", type=int, default=300)
    p.add_argument("--seconds", type=float, default=5.0)


def flags_greedy(p):
    p.add_argument("--slots", type=int, default=4096)
    p.add_argument("--jobs", type=int, default=10000)
    p.add_argument("--window", type=int, default=256,
                   help="submits in flight")
    p.add_argument("--settle", type=float, default=6.0,
                   help="seconds to keep counting after the last submit "
                        "(past one dispatch retry, 5 s)")


def flags_big(p):
    p.add_argument("--players", type=int, default=5,
                   help="raw players in the `all` job (at most %d)"
                        % RAW_PLAYERS)
    p.add_argument("--stdout-kib", type=int, default=1024)


# name -> (function, flags, whether a real player runs from the start)
ATTACKS = {
    "idle-handshakes": (attack_idle_handshakes, flags_idle, False),
    "endless-multipart": (attack_endless_multipart, flags_multipart, True),
    "non-reader": (attack_non_reader, flags_non_reader, True),
    "pending-waits": (attack_pending_waits, flags_waits, True),
    "scores-flood": (attack_scores_flood, flags_flood, True),
    "refusal-log": (attack_refusal_log, flags_refusal, True),
    "greedy-slots": (attack_greedy_slots, flags_greedy, True),
    "big-record": (attack_big_record, flags_big, True),
}

# What `all` runs: (label, attack, flags).
PLAN = [
    ("idle-handshakes", "idle-handshakes", []),
    ("idle-handshakes@nofile1024", "idle-handshakes",
     ["--nofile", "1024", "--connections", "1500"]),
    # The same without the ipc request while at the limit (libzmq 4.3.4
    # aborts on an ipc accept that fails with EMFILE): does the player
    # channel recover?
    ("idle-handshakes@nofile1024-noipc", "idle-handshakes",
     ["--nofile", "1024", "--connections", "1500", "--no-ipc-probe"]),
    ("endless-multipart", "endless-multipart", []),
    ("non-reader", "non-reader", []),
    ("pending-waits", "pending-waits", []),
    ("scores-flood", "scores-flood", []),
    ("scores-flood@alternate", "scores-flood", ["--mode", "alternate"]),
    ("refusal-log", "refusal-log", []),
    ("greedy-slots", "greedy-slots", []),
    ("big-record", "big-record", []),
]


def attack_args(name, argv):
    p = argparse.ArgumentParser(prog="attacks.py run " + name)
    ATTACKS[name][1](p)
    return p.parse_args(argv)


def on_alarm(signum, frame):
    raise AttackTimeout()


def run_attack(label, name, argv, common):
    """Runs one attack against a fresh conductor; its result map."""
    a = attack_args(name, argv)
    a.bin = common.bin
    fn, _, real_player = ATTACKS[name]
    result = {"attack": name, "label": label,
              "flags": {k: v for k, v in vars(a).items() if k != "bin"},
              "load_before": loadavg()}
    print("%s: %s..." % (label, " ".join(argv) or "defaults"),
          file=sys.stderr, flush=True)
    t0 = now()
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(common.timeout))
    run = None
    try:
        run = Run(a, nofile=getattr(a, "nofile", None),
                  real_player=real_player)
        with run:
            result["rss_base_mb"] = mb(run.base["rss_kib"])
            result["fds_base"] = run.base.get("fds")
            t_attack = now()
            try:
                fn(run, a)
            except ConductorDied:
                pass
            except AttackTimeout:
                result["error"] = "timed out after %d s" % common.timeout
            except Exception as e:  # the conductor may be why
                result["error"] = "%s: %s" % (type(e).__name__, e)
                result["traceback"] = traceback.format_exc()
            signal.alarm(0)
            result["figures"] = run.fig
            result.update(run.result)
            # Peaks over the whole attack, also when it was cut short.
            w = run.sampler.window(t_attack)
            result.setdefault("rss_peak_mb", mb(w["rss_peak_kib"]))
            result.setdefault("fds_peak", w["fds_peak"])
            final = read_proc(run.c.pid)
            result["hwm_mb"] = mb(final["hwm_kib"] if final else
                                  w["hwm_kib"])
            result["alive"] = run.c.alive()
            if not result["alive"]:
                # It died after its last sample (0.1 s apart).
                last = run.sampler.samples[-1][0] if run.sampler.samples \
                    else t_attack
                result["outcome"] = "died (%s)" % run.c.exit_description()
                during = []
                for t in (last, last + 0.1, last + 0.2):
                    if run.step_at(t) not in during:
                        during.append(run.step_at(t))
                result["died_during"] = " or ".join(during)
                result["died_after_s"] = round(last - t_attack, 1)
                result["log_tail"] = run.c.log_tail()
                result["figure"] = "DIED %s s in, during %s (%s): %s" % (
                    result["died_after_s"], result["died_during"],
                    run.c.exit_description(),
                    (result["log_tail"] or ["?"])[-1])
            else:
                result["outcome"] = "alive"
    except ConductorDied:
        result["alive"] = False
        result["outcome"] = "died (%s)" % (run.c.exit_description()
                                           if run else "?")
        if run:
            result["log_tail"] = run.c.log_tail()
    except AttackTimeout:
        result["outcome"] = "timed out"
        result["error"] = "timed out after %d s" % common.timeout
    except Exception as e:
        result["outcome"] = "error"
        result["error"] = "%s: %s" % (type(e).__name__, e)
        result["traceback"] = traceback.format_exc()
    finally:
        signal.alarm(0)
        if run is not None:
            if "outcome" in result and result["outcome"] != "alive" and \
                    "log_tail" not in result:
                result["log_tail"] = run.c.log_tail()
            if common.keep:
                result["dir"] = run.c.dir
            else:
                run.c.cleanup()
    result["seconds"] = round(now() - t0, 1)
    result["load_after"] = loadavg()
    return result


# ---------------------------------------------------------------- report

def table(results, meta):
    lines = ["conductor: %s (%s, built from %s)" % (
        meta["conductor"], meta["version"], meta["source"]),
             "machine: %d cores, %s; load before/after each attack in the "
             "table" % (meta["cores"], meta["uptime"]), ""]
    head = ("attack", "outcome", "load", "RSS base", "peak", "HWM",
            "end", "after", "CPU att.", "CPU after", "serves after")
    rows = [head]
    for r in results:
        rows.append((
            r["label"], r.get("outcome", "?"),
            "%s>%s" % (r["load_before"].split()[0],
                       r["load_after"].split()[0]),
            str(r.get("rss_base_mb", "-")), str(r.get("rss_peak_mb", "-")),
            str(r.get("hwm_mb", "-")), str(r.get("rss_end_mb", "-")),
            str(r.get("rss_after_mb", "-")),
            "%ss %s%%" % (r.get("cpu_attack_s", "-"),
                          r.get("cpu_attack_pct", "-")),
            "%s%%" % r.get("cpu_after_pct", "-"),
            summary_of_serves((r.get("figures") or {}).get("after"))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    for i, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[j])
                               for j, cell in enumerate(row)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    lines.append("(memory in MiB: RSS before the attack, its peak during "
                 "it, VmHWM, at its end, a few seconds after; CPU: seconds "
                 "and % of one core during the attack, % in the seconds "
                 "after)")
    lines.append("")
    for r in results:
        lines.append("%s: %s" % (r["label"], r.get("figure", "")))
        if r.get("error"):
            lines.append("    error: %s" % r["error"])
        if r.get("log_tail") and not r.get("alive", True):
            lines.append("    last log lines:")
            lines.extend("      " + x for x in r["log_tail"][-6:])
    return "\n".join(lines)


def meta_of(common):
    try:
        version = subprocess.run(
            [os.path.join(common.bin, "orchestra-conductor"), "--version"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=10).stdout.decode().strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        version = "? (%s)" % e
    with open("/proc/uptime") as f:
        up = float(f.read().split()[0])
    # The commit the binaries were built from, when BIN is in a git tree.
    try:
        commit = subprocess.run(
            ["git", "-C", os.path.dirname(os.path.abspath(common.bin)),
             "describe", "--always", "--dirty"], stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, timeout=10).stdout.decode().strip()
    except (OSError, subprocess.TimeoutExpired):
        commit = ""
    return {"conductor": os.path.join(common.bin, "orchestra-conductor"),
            "version": version, "source": commit or "?", "cores": os.cpu_count(),
            "uptime": "up %.1f h, load %s" % (up / 3600, loadavg()),
            "date": iso_now(), "python": sys.version.split()[0],
            "libzmq": zmq.zmq_version(), "pyzmq": zmq.__version__}


def main(argv):
    if argv and argv[0] == "_flood-scores":
        return flood_scores_main(argv[1:])
    env_bin = os.environ.get("BIN", "bin")
    env_build = os.environ.get("BUILD", "build")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--bin", default=env_bin,
                        help="directory of the binaries (default $BIN, "
                             "else bin)")
    common.add_argument("--json", default=None,
                        help="write the figures here (`all`: default "
                             "$BUILD/attacks.json)")
    common.add_argument("--keep", action="store_true",
                        help="keep each conductor's directory (logs)")
    common.add_argument("--timeout", type=float, default=180,
                        help="seconds an attack may take (default 180)")
    p = argparse.ArgumentParser(
        prog="attacks.py",
        description="What a hostile peer can make the conductor hold "
                    "(the top of this file says what each attack does).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="attacks: " + ", ".join(ATTACKS) + """

examples:
  make attacks                      # all, figures in build/attacks.json
  attacks.py all --bin /elsewhere/bin --json /tmp/attacks.json
  attacks.py all --only non-reader,pending-waits
  attacks.py run endless-multipart --frames 500    # the review's 2 GB
  attacks.py run idle-handshakes -h                # an attack's flags""")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", parents=[common],
                       help="one attack: run NAME [its flags]")
    r.add_argument("name", choices=list(ATTACKS))
    r.add_argument("flags", nargs=argparse.REMAINDER,
                   help="the attack's flags (run NAME -h)")
    al = sub.add_parser("all", parents=[common],
                        help="the plan of `list` (~6 minutes)")
    al.add_argument("--only", default=None,
                    help="comma-separated labels of the plan to run")
    sub.add_parser("list", help="the attacks and the plan of `all`")
    args = p.parse_args(argv)
    if args.command == "run":  # common flags may follow the attack's name
        args, args.flags = common.parse_known_args(args.flags, args)
        attack_args(args.name, args.flags)  # -h, or a bad flag: exits here
    if args.command == "list":
        for label, name, flags in PLAN:
            print("%-28s run %s %s" % (label, name, " ".join(flags)))
        return 0
    if not os.path.isabs(args.bin):
        args.bin = os.path.join(TOP, args.bin) if not os.path.isdir(
            args.bin) else os.path.abspath(args.bin)
    if not os.access(os.path.join(args.bin, "orchestra-conductor"),
                     os.X_OK):
        print("attacks.py: no %s/orchestra-conductor (make all, or --bin)"
              % args.bin, file=sys.stderr)
        return 2
    # Our own descriptors: as many as the hard limit lets us.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.command == "run":
        plan = [(args.name, args.name, args.flags)]
    else:
        plan = PLAN
        if args.only:
            keep = set(args.only.split(","))
            plan = [x for x in PLAN if x[0] in keep]
        if args.json is None:
            build = env_build if os.path.isabs(env_build) else \
                os.path.join(TOP, env_build)
            os.makedirs(build, exist_ok=True)
            args.json = os.path.join(build, "attacks.json")
    meta = meta_of(args)
    results = [run_attack(label, name, flags, args)
               for label, name, flags in plan]
    meta["load_end"] = loadavg()
    print(table(results, meta))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "attacks": results}, f, indent=1)
        print("\nfigures in %s" % args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
