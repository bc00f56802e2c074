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

A Client is not thread-safe: use one per thread.
"""

import itertools
import os
import stat
import time

import msgpack
import zmq
from zmq.utils.monitor import recv_monitor_message

__all__ = ["Client", "OrchestraError"]

_REQUEST_TIMEOUT = 30.0  # seconds, every op but wait
_WAIT_SLACK = 15.0  # seconds beyond the conductor's own wait timeout
_JOB_FILTERS = ("state", "score", "player", "limit", "before")


class OrchestraError(Exception):
    """An error reply (or an unreachable conductor: code "unavailable")."""

    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message


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
    """A connection to the conductor's audience endpoint."""

    def __init__(self, endpoint=None, server_key=None, public_key=None,
                 secret_key=None, timeout=_REQUEST_TIMEOUT,
                 connect_timeout=5.0):
        """Connects to `endpoint` (default: $ORCHESTRA_ENDPOINT, else the
        local ipc socket) and waits for the handshake. `server_key`,
        `public_key` and `secret_key` are key file paths. `timeout` bounds
        every request but wait(), in seconds."""
        self.endpoint = (endpoint or os.environ.get("ORCHESTRA_ENDPOINT")
                         or "ipc:///run/orchestra/conductor.sock")
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._connected = False
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.DEALER)
        self._monitor = None
        try:
            self._configure(server_key, public_key, secret_key)
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

    def request(self, fields, timeout=_REQUEST_TIMEOUT, progress=None):
        """Sends one request map (with "op") and returns the final reply
        map. Raises OrchestraError for an error reply, or with code
        "unavailable" when no reply comes within `timeout` seconds (None:
        no limit) or the connection is lost."""
        if timeout is _REQUEST_TIMEOUT:
            timeout = self.timeout
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
                raise OrchestraError(error.get("code", "bad_request"),
                                     error.get("message", ""))
            return reply

    def close(self):
        """Closes the connection; the Client cannot be used afterwards."""
        if self._monitor is not None:
            self._socket.disable_monitor()
            self._monitor.close(linger=0)
            self._monitor = None
        if not self._socket.closed:
            self._socket.close(linger=0)
        self._context.term()

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

    # ---- the connection ----

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
