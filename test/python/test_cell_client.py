"""The Python client with a cell of conductors: endpoint lists, the leader
hint of an "unavailable" error, and one key for every retry of a submit,
against fake conductors (ROUTERs on their own threads, answering from a
function)."""

import threading
import time

import msgpack
import pytest
import zmq

from orchestra_client import Client, OrchestraError, parse_endpoints


class FakeConductor:
    """A ROUTER bound to `endpoint` answering each request map with the
    reply map `answer` gives (None: no reply); `asked` lists the requests."""

    def __init__(self, endpoint, answer):
        self.endpoint = endpoint
        self.asked = []
        self._answer = answer
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.ROUTER)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.bind(endpoint)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            if not self._socket.poll(10):
                continue
            peer, data = self._socket.recv_multipart()
            request = msgpack.unpackb(data, raw=False)
            self.asked.append(request)
            reply = self._answer(request)
            if reply is not None:
                reply = dict(reply, req=request.get("req"))
                self._socket.send_multipart(
                    [peer, msgpack.packb(reply, use_bin_type=True)])

    def close(self):
        self._stop.set()
        self._thread.join()
        self._socket.close()
        self._context.term()


@pytest.fixture
def fakes(tmp_path):
    started = []

    def start(name, answer):
        fake = FakeConductor("ipc://%s/%s.sock" % (tmp_path, name), answer)
        started.append(fake)
        return fake
    yield start
    for fake in started:
        fake.close()


def accept(request):
    if request["op"] == "sql":
        return {"ok": True, "kind": "sql", "columns": ["n"], "rows": [[1]],
                "truncated": False}
    return {"ok": True, "kind": "submit", "job": 7}


def unavailable(leader=""):
    return lambda request: {
        "ok": False, "kind": "error",
        "error": {"code": "unavailable", "message": "the cell has no quorum",
                  "leader": leader}}


def keys(fake):
    return [r.get("key") for r in fake.asked if r["op"] == "submit"]


def test_endpoint_lists_are_split_checked_and_bounded():
    assert parse_endpoints("tcp://c1:7101, tcp://[::1]:7101") == [
        "tcp://c1:7101", "tcp://[::1]:7101"]
    for bad in ("", "tcp://a:1,,tcp://b:2", "http://a:1", "tcp://a:0",
                "tcp://*:1", "tcp://a:1,tcp://a:1", "tcp://a b:1"):
        with pytest.raises(ValueError):
            parse_endpoints(bad)
    with pytest.raises(ValueError):
        parse_endpoints(",".join("tcp://c:%d" % p for p in range(1, 18)))
    with pytest.raises(ValueError):
        Client("tcp://a:1,,tcp://b:2")


def test_the_leader_hint_is_followed_with_the_same_submit_key(fakes,
                                                               tmp_path):
    leader = fakes("leader", accept)
    follower = fakes("follower", unavailable(leader.endpoint))
    gone = "ipc://%s/gone.sock" % tmp_path
    with Client("%s,%s" % (follower.endpoint, gone)) as client:
        assert client.submit("backup", ["web-1"]) == 7
        assert client.endpoint == leader.endpoint
    assert len(keys(follower)) == 1 and len(keys(leader)) == 1
    assert keys(follower)[0].startswith("auto-")
    assert len(keys(follower)[0]) == len("auto-") + 32
    assert keys(follower) == keys(leader)


def test_a_silent_conductor_is_left_for_the_next(fakes):
    silent = fakes("silent", lambda request: None)
    live = fakes("live", accept)
    with Client([silent.endpoint, live.endpoint], timeout=0.3) as client:
        assert client.submit("backup", ["web-1"], key="deploy-1") == 7
    assert keys(silent) == ["deploy-1"] and keys(live) == ["deploy-1"]


def test_a_cell_without_a_leader_is_given_up_on_naming_what_was_tried(fakes):
    first = fakes("first", unavailable())
    second = fakes("second", unavailable())
    client = Client([first.endpoint, second.endpoint], failover=0.3)
    started = time.monotonic()
    with pytest.raises(OrchestraError) as caught:
        client.submit("backup", ["web-1"])
    assert time.monotonic() - started < 5
    e = caught.value
    assert e.code == "unavailable"
    assert first.endpoint in e.message and second.endpoint in e.message
    assert "the cell has no quorum" in e.message
    assert len(keys(first)) >= 2 and len(set(keys(first) + keys(second))) == 1
    client.close()


def test_one_endpoint_without_a_hint_fails_at_once(fakes):
    alone = fakes("alone", unavailable())
    with Client(alone.endpoint) as client:
        with pytest.raises(OrchestraError) as caught:
            client.submit("backup", ["web-1"])
    assert caught.value.message == "the cell has no quorum"
    assert len(alone.asked) == 1


def test_sql_returns_columns_rows_and_truncated(fakes):
    conductor = fakes("conductor", accept)
    with Client(conductor.endpoint) as client:
        assert client.sql("SELECT 1") == {"columns": ["n"], "rows": [[1]],
                                          "truncated": False}
    assert conductor.asked[-1]["sql"] == "SELECT 1"
