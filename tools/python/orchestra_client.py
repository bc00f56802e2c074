"""Orchestra audience client (DESIGN.md sections 4 and 9).

Asks the conductor to run scores on players and reports on the jobs, over
the audience channel: one ZeroMQ DEALER, one msgpack map per message. Needs
only Debian's python3-zmq and python3-msgpack.

    from orchestra_client import Client, OrchestraError

    with Client("ipc:///run/orchestra/conductor.sock") as orchestra:
        job = orchestra.submit("backup", ["db-1", "db-2"], scope="all",
                               params={"TARGET": "/srv"})
        record = orchestra.wait(job, timeout=600)
        print(record["state"], [t["state"] for t in record["tasks"]])

A tcp:// endpoint uses CurveZMQ: pass the conductor's public key file and
our secret key file (``Client(endpoint, server_key=..., secret_key=...)``);
our public key is derived from the secret one unless ``public_key`` names
its file. Every error reply raises OrchestraError with the protocol's
``.code`` and ``.message``; a conductor that cannot be reached, or that goes
away while we wait, raises OrchestraError with code ``"unavailable"``.

`endpoint` may list a cell's conductors, split by commas (DESIGN.md
section 17): the client tries them in turn, follows the active conductor's
hint in an "unavailable" error, and retries a request there until one
answers or `failover` seconds of failing have passed. Every submit without
a `key` gets one of its own ("auto-" and 32 hex digits), kept for its
retries, so a failover never makes a second job.

A Client is not thread-safe: use one per thread.
"""

import itertools
import os
import re
import stat
import time

import msgpack
import zmq
from zmq.utils.monitor import recv_monitor_message

__all__ = ["Client", "OrchestraError"]

_REQUEST_TIMEOUT = 30.0  # seconds, every op but wait
_WAIT_SLACK = 15.0  # seconds beyond the conductor's own wait timeout
_JOB_FILTERS = ("state", "score", "player", "limit", "before")
_DEFAULT_ENDPOINT = "ipc:///run/orchestra/conductor.sock"
_FAILOVER = 30.0  # seconds of failing before a call gives up
_MAX_ENDPOINTS = 16
_MAX_ENDPOINT_BYTES = 512
_MAX_HINT_HOPS = 3  # hints followed in a row
_MAX_BACKOFF = 2.0  # seconds, the longest pause after a round of failures
_TCP = re.compile(r"tcp://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):([0-9]{1,5})\Z")


class OrchestraError(Exception):
    """An error reply (or an unreachable conductor: code "unavailable").
    `leader` is the active conductor's endpoint that an "unavailable" reply
    from another conductor of a cell may name ("" when none)."""

    def __init__(self, code, message, leader=""):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.leader = leader


class _Final(OrchestraError):
    """An "unavailable" that no other conductor can help with."""


def is_valid_endpoint(endpoint):
    """True for "ipc://PATH" or "tcp://HOST:PORT" (a port from 1 to
    65535), at most 512 bytes, without spaces, commas or control
    characters: what a list may hold and a leader hint must be."""
    if not isinstance(endpoint, str):
        return False
    if (len(endpoint.encode("utf-8", "replace")) > _MAX_ENDPOINT_BYTES
            or any(c <= " " or c in ",\x7f" for c in endpoint)):
        return False
    if endpoint.startswith("ipc://"):
        return len(endpoint) > len("ipc://")
    match = _TCP.match(endpoint)
    return bool(match) and 1 <= int(match.group(2)) <= 65535


def parse_endpoints(endpoints):
    """The endpoints of `endpoints`, a comma-separated string (or a list),
    in order. ValueError naming the culprit for an empty item, an invalid
    or repeated endpoint, or more than 16."""
    items = (endpoints.split(",") if isinstance(endpoints, str)
             else list(endpoints))
    out = []
    for item in items:
        item = item.strip() if isinstance(item, str) else item
        if not item:
            raise ValueError("an empty item in the endpoint list %r" %
                             (endpoints,))
        if not is_valid_endpoint(item):
            raise ValueError("%r is not ipc://PATH or tcp://HOST:PORT" %
                             (item,))
        if item in out:
            raise ValueError("%r is listed twice" % (item,))
        out.append(item)
    if len(out) > _MAX_ENDPOINTS:
        raise ValueError("more than %d endpoints" % _MAX_ENDPOINTS)
    return out


def new_key():
    """A fresh idempotency key: "auto-" and 32 hex digits (128 bits)."""
    return "auto-" + os.urandom(16).hex()


def _read_key(path, secret):
    """The 40-character Z85 key in file `path`, as bytes."""
    if secret and os.stat(path).st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PermissionError(
            "%s: a secret key file must not be readable by group or others "
            "(chmod 600 it)" % path)
    with open(path, "rb") as f:
        key = f.read().strip()
    if len(key) != 40:
        raise ValueError("%s: expected one 40-character Z85 key" % path)
    return key


class Client:
    """A connection to the conductor's audience endpoint (or to the active
    conductor of a cell)."""

    def __init__(self, endpoint=None, server_key=None, public_key=None,
                 secret_key=None, timeout=_REQUEST_TIMEOUT,
                 connect_timeout=5.0, failover=_FAILOVER):
        """Connects to `endpoint` (default: $ORCHESTRA_ENDPOINT, else the
        local ipc socket; a cell's endpoints split by commas, or a list)
        and waits for the handshake. `server_key`, `public_key` and
        `secret_key` are key file paths. `timeout` bounds every request
        but wait(), and `failover` the time a call keeps trying a cell's
        conductors, in seconds."""
        self.endpoints = parse_endpoints(
            endpoint or os.environ.get("ORCHESTRA_ENDPOINT")
            or _DEFAULT_ENDPOINT)
        self.endpoint = self.endpoints[0]  # the conductor asked now
        self.timeout = timeout
        self.failover = failover
        self._keys = (server_key, public_key, secret_key)
        self._connect_timeout = connect_timeout
        self._cursor = 0  # self.endpoint's place in the list (hints aside)
        self._connection = None
        self._failing_over(lambda connection, elapsed: None)

    # ---- the ops ----

    def submit(self, score, players=None, scope="one", params=None,
               timeout=None, target=None, max_concurrency=None,
               max_errors=None, priority=0, delivery_timeout=None, key=None):
        """Starts a job running `score` and returns its id once the job is
        durable. Its players are `players` (a list of names) or those the
        `target` expression matches ("role=web dc=syd"), never both.
        `timeout` is the score's time limit and `delivery_timeout` how long
        a task may wait for an offline player, in seconds; a retried submit
        with the same `key` returns the first job instead of starting
        another. An `all` job may be a rollout: at most `max_concurrency`
        tasks at once, and once more than `max_errors` failed the rest are
        SKIPPED (each an int, or a string "N%" of the job's tasks).
        `priority` (-100 to 100) orders dispatch, highest first. Fields
        left at their defaults are not sent, so an older conductor takes
        the request as before."""
        if isinstance(players, str):
            players = [players]
        request = {"op": "submit", "score": score, "scope": scope,
                   "params": dict(params or {})}
        if players is not None:
            request["players"] = list(players)
        for field, value in (("target", target),
                             ("timeout_s", timeout),
                             ("delivery_timeout_s", delivery_timeout),
                             ("key", key),
                             ("max_concurrency", max_concurrency),
                             ("max_errors", max_errors)):
            if value is not None:
                request[field] = value
        if priority:
            request["priority"] = priority
        return self.request(request)["job"]

    def status(self, job, tasks_from=None, tasks_limit=None):
        """The record of `job`, with every task. A reply carries at most
        4 MiB, so the conductor sends a large record in pages; this asks
        for each and returns them as one record. Given `tasks_from` (the
        index of a task, 0 the first) or `tasks_limit`, it returns only
        that page, as the conductor sent it: its "tasks_from" and
        "tasks_total" say where it stands and what is left."""
        if tasks_from is None and tasks_limit is None:
            return self._whole(self.request({"op": "status", "job": job}))
        request = {"op": "status", "job": job}
        if tasks_from is not None:
            request["tasks_from"] = tasks_from
        if tasks_limit is not None:
            request["tasks_limit"] = tasks_limit
        return self.request(request)["job"]

    def wait(self, job, timeout=None, progress=None):
        """Waits until `job` is finished (the conductor pushes the answer)
        and returns its record. After `timeout` seconds it returns the
        record as it stands, still PENDING. `progress`, when given, is
        called with each interim {"done", "total", "by_state"} map."""
        request = {"op": "wait", "job": job, "progress": progress is not None}
        deadline = None
        if timeout is not None:
            request["timeout_ms"] = max(1, int(timeout * 1000))
            deadline = timeout + _WAIT_SLACK
        return self._whole(self.request(request, deadline, progress))

    def cancel(self, job):
        """Cancels `job`: queued tasks end CANCELLED and running ones are
        stopped on their players. Returns its record."""
        return self._whole(self.request({"op": "cancel", "job": job}))

    def jobs(self, **filters):
        """Job summaries, newest first. Filters: state, score, player,
        limit (default 100), before (a job id: only older jobs)."""
        unknown = set(filters) - set(_JOB_FILTERS)
        if unknown:
            raise TypeError("unknown filter(s): %s (use %s)" % (
                ", ".join(sorted(unknown)), ", ".join(_JOB_FILTERS)))
        request = {"op": "jobs"}
        request.update((k, v) for k, v in filters.items() if v is not None)
        jobs = []
        while True:  # a list cut to fit one reply goes on from its last job
            reply = self.request(request)
            jobs.extend(reply["jobs"])
            if not reply.get("jobs_omitted") or not reply["jobs"]:
                return jobs
            request["limit"] = request.get("limit", 100) - len(reply["jobs"])
            request["before"] = reply["jobs"][-1]["id"]

    def players(self, target=None):
        """The players in the players file: connected or not, their
        version, slots, running tasks, scores and labels (every page of
        them); with `target`, only those the expression matches."""
        request = {"op": "players"}
        if target is not None:
            request["target"] = target
        players = []
        while True:
            reply = self.request(request)
            for player in reply["players"]:
                player.setdefault("labels", {})  # absent when it has none
            players.extend(reply["players"])
            if not reply.get("players_omitted") or not reply["players"]:
                return players
            request["after"] = reply["players"][-1]["name"]

    def sql(self, statement):
        """Runs one read-only SQL statement on the active conductor's
        database: {"columns": [names], "rows": [[values]], "truncated":
        bool}, a value None, an int, a float or a str."""
        reply = self.request({"op": "sql", "sql": statement})
        return {"columns": reply["columns"], "rows": reply["rows"],
                "truncated": bool(reply.get("truncated"))}

    def request(self, fields, timeout=_REQUEST_TIMEOUT, progress=None):
        """Sends one request map (with "op") and returns the final reply
        map. Raises OrchestraError for an error reply, or with code
        "unavailable" when no reply comes within `timeout` seconds (None:
        no limit) or the connection is lost, and no other conductor of a
        cell answers. A submit without a "key" gets one of its own."""
        if timeout is _REQUEST_TIMEOUT:
            timeout = self.timeout
        if fields.get("op") in ("submit", "queue") and not fields.get("key"):
            fields = dict(fields, key=new_key())

        def ask(connection, elapsed):
            request, left = fields, timeout
            if fields.get("op") == "wait" and elapsed > 0:
                # A wait retried elsewhere waits only for what is left.
                if fields.get("timeout_ms"):
                    request = dict(fields, timeout_ms=max(
                        1, fields["timeout_ms"] - int(elapsed * 1000)))
                if timeout is not None:
                    left = timeout - elapsed
                    if left <= 0:
                        raise _Final("unavailable", "no reply from the "
                                     "conductors in time")
            return connection.request(request, left, progress)
        return self._failing_over(ask)

    def close(self):
        """Closes the connection; the Client cannot be used afterwards."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _whole(self, reply):
        """The record of a status, wait or cancel `reply`, with the tasks
        of the pages after it (a job running meanwhile may show different
        moments on different pages)."""
        record = reply["job"]
        while "tasks_total" in record:
            start = record.get("tasks_from", 0) + len(record["tasks"])
            if start >= record["tasks_total"]:
                break
            page = self.request({"op": "status", "job": record["id"],
                                 "tasks_from": start})["job"]
            record["tasks"].extend(page["tasks"])
            record["tasks_total"] = page.get("tasks_total", 0)
            if not page["tasks"]:
                break
        record.pop("tasks_from", None)
        record.pop("tasks_total", None)
        return record

    # ---- failing over ----

    def _failing_over(self, call):
        """call(connection, elapsed seconds) on the conductor asked now;
        on "unavailable" (a failed connection, no reply in time, or the
        reply), asks the one its hint names, else the next in the list,
        pausing after each round, until `failover` seconds of failing have
        passed. With one endpoint and no hint, the first failure is final."""
        start = time.monotonic()
        state = {"since": None, "failed": set(), "tried": [], "hops": 0,
                 "hinted": False, "round": self._cursor, "backoff": 0.1}
        while True:
            try:
                if self._connection is None:
                    self._connection = _Connection(
                        self.endpoint, self._keys, self.timeout,
                        self._connect_timeout)
                return call(self._connection, time.monotonic() - start)
            except _Final:
                raise
            except OrchestraError as e:
                if e.code != "unavailable":
                    raise
                self.close()
                hint = e.leader if (is_valid_endpoint(e.leader)
                                    and e.leader != self.endpoint
                                    and e.leader not in state["failed"]) \
                    else ""
                if len(self.endpoints) == 1 and not hint \
                        and not state["hinted"]:
                    raise
                self._move_on(hint, state, e)

    def _move_on(self, hint, state, error):
        """Points self.endpoint at the next conductor to ask, or raises
        the final "unavailable" when the failover time is spent."""
        now = time.monotonic()
        if state["since"] is None:
            state["since"] = now
        state["failed"].add(self.endpoint)
        if self.endpoint not in state["tried"]:
            state["tried"].append(self.endpoint)
        state["last"] = "%s: %s" % (self.endpoint, error.message) \
            if self.endpoint not in error.message else error.message
        end = state["since"] + self.failover
        if now >= end:
            self._give_up(state)
        if hint and state["hops"] < _MAX_HINT_HOPS:
            state["hops"] += 1
            state["hinted"] = True
            self.endpoint = hint
            return
        state["hops"] = 0
        while True:
            self._cursor = (self._cursor + 1) % len(self.endpoints)
            if self._cursor == state["round"]:  # a round without an answer
                time.sleep(max(0.0, min(state["backoff"],
                                        end - time.monotonic())))
                state["backoff"] = min(2 * state["backoff"], _MAX_BACKOFF)
                state["failed"].clear()
                if time.monotonic() >= end:
                    self._give_up(state)
            if self.endpoints[self._cursor] not in state["failed"]:
                break
        self.endpoint = self.endpoints[self._cursor]

    def _give_up(self, state):
        tried = ", ".join(state["tried"][:8])
        raise _Final("unavailable", "no conductor of the cell answered "
                     "within %g s (tried %s); last: %s" % (
                         self.failover, tried, state.get("last", "")))


class _Connection:
    """One DEALER connected to one conductor."""

    def __init__(self, endpoint, keys, timeout, connect_timeout):
        self.endpoint = endpoint
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._connected = False
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.DEALER)
        self._monitor = None
        try:
            self._configure(*keys)
            self._monitor = self._socket.get_monitor_socket(
                zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_DISCONNECTED
                | zmq.EVENT_HANDSHAKE_FAILED_AUTH
                | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
                | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL)
            self._socket.connect(self.endpoint)
            self._await_handshake(time.monotonic() + connect_timeout)
        except BaseException:
            self.close()
            raise

    def request(self, fields, timeout, progress=None):
        """Sends one request map (with "op") and returns the final reply
        map. Raises OrchestraError for an error reply (with the leader
        hint of an "unavailable" one), or with code "unavailable" when no
        reply comes within `timeout` seconds (None: no limit) or the
        connection is lost."""
        req = next(self._ids)
        while self._monitor.poll(0):  # what happened while we were idle
            self._read_event()
        if not self._connected:
            self._await_handshake(time.monotonic() + self.timeout)
        message = dict(fields, req=req)
        self._socket.send(msgpack.packb(message, use_bin_type=True))
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("req") != req:
                continue  # a late reply to a request we gave up on
            kind = reply.get("kind")
            if kind == "progress":
                if progress is not None:
                    progress(reply["progress"])
                continue
            if kind == "error" or not reply.get("ok"):
                error = reply.get("error") or {}
                leader = error.get("leader")
                raise OrchestraError(error.get("code", "bad_request"),
                                     error.get("message", ""),
                                     leader if isinstance(leader, str)
                                     else "")
            return reply

    def close(self):
        """Closes the connection."""
        if self._monitor is not None:
            self._socket.disable_monitor()
            self._monitor.close(linger=0)
            self._monitor = None
        if not self._socket.closed:
            self._socket.close(linger=0)
        self._context.term()

    def _configure(self, server_key, public_key, secret_key):
        s = self._socket
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.HEARTBEAT_IVL, 2000)
        s.setsockopt(zmq.HEARTBEAT_TIMEOUT, 6000)
        s.setsockopt(zmq.RECONNECT_IVL_MAX, 1000)
        if self.endpoint.startswith("ipc://"):
            path = self.endpoint[len("ipc://"):]
            if not path.startswith("@") and not os.path.exists(path):
                raise OrchestraError(
                    "unavailable", "conductor at %s: no such socket; is "
                    "orchestra-conductor running?" % self.endpoint)
        elif not self.endpoint.startswith("tcp://"):
            raise ValueError("an endpoint is ipc://PATH or tcp://HOST:PORT, "
                             "not %r" % self.endpoint)
        if (server_key is None) != (secret_key is None):
            raise ValueError("give both server_key (the conductor's .pub "
                             "file) and secret_key (our .key file)")
        if server_key is None:
            if self.endpoint.startswith("tcp://"):
                raise ValueError("tcp endpoints use CurveZMQ: give server_key "
                                 "and secret_key (key file paths)")
            return
        secret = _read_key(secret_key, True)
        s.curve_serverkey = _read_key(server_key, False)
        s.curve_secretkey = secret
        s.curve_publickey = (_read_key(public_key, False) if public_key
                             else zmq.curve_public(secret))

    def _await_handshake(self, deadline):
        while not self._connected:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._monitor.poll(remaining * 1000):
                raise OrchestraError(
                    "unavailable", "conductor at %s: no handshake; is it "
                    "running, and is our key in its audience keys file?"
                    % self.endpoint)
            self._read_event()

    def _read_event(self):
        """Applies one socket event; True when the connection was lost."""
        event = recv_monitor_message(self._monitor)["event"]
        if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
            self._connected = True
        elif event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
            raise OrchestraError(
                "unavailable", "conductor at %s refused our key; is it in "
                "the conductor's audience keys file?" % self.endpoint)
        elif event == zmq.EVENT_DISCONNECTED and self._connected:
            self._connected = False
            return True
        return False

    def _receive(self, deadline):
        poller = zmq.Poller()
        poller.register(self._socket, zmq.POLLIN)
        poller.register(self._monitor, zmq.POLLIN)
        while True:
            if self._socket.poll(0):
                return self._decode(self._socket.recv())
            wait = None
            if deadline is not None:
                wait = max(0, deadline - time.monotonic())
                if wait == 0:
                    raise OrchestraError(
                        "unavailable", "no reply from the conductor at %s in "
                        "time" % self.endpoint)
                wait *= 1000
            ready = dict(poller.poll(wait))
            if self._socket in ready or self._monitor not in ready:
                continue
            if self._read_event():
                # A reply sent just before the conductor went away is
                # readable once its DISCONNECTED event is.
                if self._socket.poll(0):
                    return self._decode(self._socket.recv())
                raise OrchestraError(
                    "unavailable", "lost the connection to the conductor at "
                    "%s while waiting for a reply" % self.endpoint)

    def _decode(self, data):
        try:
            reply = msgpack.unpackb(data, raw=False,
                                    unicode_errors="replace")
        except Exception as e:  # any decoding problem of a peer's bytes
            raise OrchestraError("bad_request",
                                 "undecodable reply: %s" % e) from None
        if not isinstance(reply, dict):
            raise OrchestraError("bad_request", "a reply is a msgpack map")
        return reply
