"""The Python audience client against a real conductor and real players:
every op, every error code, and remote clients with their own keys."""

import os
import pwd
import signal

import msgpack
import pytest
import zmq

from orchestra_client import Client, OrchestraError


@pytest.fixture
def client(cluster):
    with Client(cluster.endpoint) as c:
        yield c


def remote(cluster, name):
    return Client(cluster.tcp_endpoint,
                  server_key=cluster.key_file("conductor"),
                  secret_key=cluster.key_file(name, secret=True))


def error_of(call, *args, **kwargs):
    with pytest.raises(OrchestraError) as caught:
        call(*args, **kwargs)
    return caught.value


def raw_reply(cluster, data, max_bytes=-1):
    """The decoded reply to the bytes `data`, sent on a socket of its own
    (that takes messages of at most `max_bytes`, if given)."""
    context = zmq.Context()
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 0)
    socket.setsockopt(zmq.MAXMSGSIZE, max_bytes)
    try:
        socket.connect(cluster.endpoint)
        socket.send(data)
        assert socket.poll(10000), "no reply"
        return msgpack.unpackb(socket.recv(), raw=False)
    finally:
        socket.close()
        context.term()


# ---- the ops ----

def test_submit_wait_and_status_give_the_whole_record(client):
    job = client.submit("hello", ["p1", "p2"], scope="all",
                        params={"NAME": "you"}, timeout=60)
    assert isinstance(job, int)
    record = client.wait(job, timeout=20)
    assert record == client.status(job)
    assert record["state"] == "OK"
    assert record["players"] == ["p1", "p2"]
    assert record["params"] == {"NAME": "you"}
    assert record["timeout_s"] == 60
    assert record["submitted_by"] == pwd.getpwuid(os.getuid()).pw_name
    assert sorted(t["stdout"] for t in record["tasks"]) == [
        "hello you from p1\n", "hello you from p2\n"]
    assert record["finished_at"].endswith("Z")


def test_a_failing_job_reports_its_exit_code(client):
    record = client.wait(client.submit("fail", ["p1", "p2"]), timeout=20)
    assert record["state"] == "FAIL"
    assert [(t["exit_code"], t["stderr"]) for t in record["tasks"]] == [
        (3, "failing\n")]


def test_queue_is_an_alias_of_submit(client):
    job = client.request({"op": "queue", "score": "hello", "scope": "one",
                          "players": ["p2"]})["job"]
    assert client.wait(job, timeout=20)["tasks"][0]["player"] == "p2"


def test_a_retried_submit_with_its_key_returns_the_first_job(client):
    first = client.submit("hello", ["p1"], key="py-nightly-1")
    assert client.submit("hello", ["p1"], key="py-nightly-1") == first


def test_wait_reports_progress_and_times_out_still_pending(client):
    job = client.submit("hello", ["p1", "p2", "p3"], scope="all")  # p3 off
    seen = []
    record = client.wait(job, timeout=0.5, progress=seen.append)
    assert record["state"] == "PENDING"
    assert seen and all(p["total"] == 3 for p in seen)
    assert seen[0]["by_state"].get("QUEUED") == 1
    client.cancel(job)


def test_cancel_ends_queued_tasks_and_answers_waits(cluster, client):
    job = client.submit("hello", ["p3"])  # p3 is offline: it waits
    cancelled = []

    def cancel_once(progress):  # the wait is registered by now
        if not cancelled:
            cancelled.append(client.cancel(job))

    with Client(cluster.endpoint) as waiter:
        record = waiter.wait(job, progress=cancel_once)
    assert record["state"] == "CANCELLED"
    assert record["tasks"][0]["state"] == "CANCELLED"
    assert cancelled[0]["state"] == "CANCELLED"


def test_jobs_filters_newest_first_and_pages(client):
    a = client.submit("true", ["p1"])
    b = client.submit("fail", ["p2"])
    c = client.submit("true", ["p2"])
    for job in (a, b, c):
        client.wait(job, timeout=20)
    ids = [j["id"] for j in client.jobs(limit=3)]
    assert ids == [c, b, a]
    assert [j["id"] for j in client.jobs(score="true", limit=2)] == [c, a]
    assert [j["id"] for j in client.jobs(score="true", player="p2")] == [c]
    assert b in [j["id"] for j in client.jobs(state="FAIL")]
    assert [j["id"] for j in client.jobs(limit=1, before=b)] == [a]
    summary = client.jobs(limit=1)[0]
    assert summary["tasks"] == {"OK": 1} and summary["players"] == 1
    with pytest.raises(TypeError):
        client.jobs(colour="red")


def test_players_says_who_is_connected_and_what_they_run(client):
    players = {p["name"]: p for p in client.players()}
    assert sorted(players) == ["p1", "p2", "p3"]
    assert players["p1"]["connected"] and not players["p3"]["connected"]
    assert "hello" in players["p2"]["scores"]
    assert players["p1"]["slots"] == 4


# ---- replies within the message limit (DESIGN.md section 6) ----

def test_a_record_larger_than_a_message_comes_whole_in_pages(loud_cluster):
    params = {key: "v" * 60 * 1024 for key in "ABCD"}
    with Client(loud_cluster.endpoint) as client:
        job = client.submit("loud", ["p1", "p2", "p3"], scope="all",
                            params=params)
        record = client.wait(job, timeout=60)
        assert record["state"] == "OK"
        assert "tasks_total" not in record and "tasks_from" not in record
        assert sorted(t["player"] for t in record["tasks"]) == [
            "p1", "p2", "p3"]
        for task in record["tasks"]:
            assert task["stdout"] == "from %s\n%s" % (task["player"],
                                                      "o" * 1000000)
            assert task["stderr"] == "e" * 1000000
            assert "cut" not in task
        assert client.status(job) == record
        assert client.cancel(job) == record  # finished: nothing to cancel

        first = client.status(job, tasks_from=0)
        assert first["tasks_total"] == 3 and first["tasks_from"] == 0
        assert 0 < len(first["tasks"]) < 3
        second = client.status(job, tasks_from=len(first["tasks"]))
        assert second["tasks_from"] == len(first["tasks"])
        one = client.status(job, tasks_from=2, tasks_limit=1)
        assert [t["player"] for t in one["tasks"]] == [
            record["tasks"][2]["player"]]
    # A client that, like the CLI, takes at most 4 MiB a message.
    reply = raw_reply(loud_cluster, msgpack.packb(
        {"op": "status", "job": job, "req": 1}), max_bytes=4 << 20)
    assert reply["ok"] and reply["job"]["tasks_total"] == 3


def test_jobs_and_players_follow_their_pages(client, monkeypatch):
    sent = []
    pages = {
        ("jobs", None): {"jobs": [{"id": 9}, {"id": 8}], "jobs_omitted": 3},
        ("jobs", 8): {"jobs": [{"id": 7}, {"id": 6}, {"id": 5}]},
        ("players", None): {"players": [{"name": "a"}], "players_omitted": 1},
        ("players", "a"): {"players": [{"name": "b"}]},
    }

    def request(fields, *args):
        sent.append(dict(fields))
        key = fields.get("before", fields.get("after"))
        return dict(pages[(fields["op"], key)], ok=True)

    monkeypatch.setattr(client, "request", request)
    assert [j["id"] for j in client.jobs(limit=5)] == [9, 8, 7, 6, 5]
    assert sent[1] == {"op": "jobs", "limit": 3, "before": 8}
    assert [p["name"] for p in client.players()] == ["a", "b"]
    assert sent[3] == {"op": "players", "after": "a"}


def offline_client(monkeypatch, replies):
    """A Client that connects nowhere: its requests are recorded in the
    list it returns, and answered from `replies` (by op)."""
    c = Client.__new__(Client)
    sent = []

    def request(fields, *args):
        sent.append(dict(fields))
        return dict(replies[fields["op"]], ok=True)

    monkeypatch.setattr(c, "request", request)
    return c, sent


def test_submit_sends_the_fleet_fields_only_when_given(monkeypatch):
    c, sent = offline_client(monkeypatch, {"submit": {"job": 5}})
    assert c.submit("hello", ["p1"]) == 5
    assert sent[-1] == {"op": "submit", "score": "hello", "scope": "one",
                        "players": ["p1"], "params": {}}
    c.submit("hello", target="role=web dc=syd", scope="all",
             max_concurrency="10%", max_errors=2, priority=50)
    assert sent[-1] == {"op": "submit", "score": "hello", "scope": "all",
                        "params": {}, "target": "role=web dc=syd",
                        "max_concurrency": "10%", "max_errors": 2,
                        "priority": 50}
    c.submit("hello", "p2", "all", {"A": "1"}, 60, None, 1, 0, -3)
    assert sent[-1] == {"op": "submit", "score": "hello", "scope": "all",
                        "players": ["p2"], "params": {"A": "1"},
                        "timeout_s": 60, "max_concurrency": 1,
                        "max_errors": 0, "priority": -3}


def test_players_by_target_and_labels_always_there(monkeypatch):
    c, sent = offline_client(monkeypatch, {"players": {"players": [
        {"name": "web-1", "labels": {"role": "web"}}, {"name": "db-1"}]}})
    players = c.players(target="name=*-1")
    assert sent == [{"op": "players", "target": "name=*-1"}]
    assert [p["labels"] for p in players] == [{"role": "web"}, {}]
    c.players()
    assert sent[-1] == {"op": "players"}


def test_fleet_field_errors_are_named(client):
    assert error_of(client.submit, "hello", ["p1"],
                    target="role=web").code == "bad_request"
    assert error_of(client.submit, "hello", ["p1"],
                    max_errors=1).code == "bad_request"
    assert error_of(client.submit, "hello", ["p1"], scope="all",
                    max_concurrency="0%").code == "bad_request"
    assert error_of(client.submit, "hello", ["p1"],
                    priority=101).code == "bad_request"
    assert error_of(client.submit, "hello").code == "missing_field"


def test_a_rollout_and_its_priority_are_in_the_record(client):
    job = client.submit("hello", ["p1", "p2"], scope="all",
                        max_concurrency="50%", max_errors=0, priority=7)
    record = client.wait(job, timeout=20)
    assert record["state"] == "OK"
    assert (record["max_concurrency"], record["max_errors"],
            record["priority"]) == ("50%", 0, 7)
    assert "target" not in record


# ---- the error codes ----

def test_bytes_that_are_not_a_request_are_a_bad_request(cluster):
    reply = raw_reply(cluster, b"\xc1 not msgpack")
    assert reply["ok"] is False
    assert reply["error"]["code"] == "bad_request"
    assert reply["error"]["message"]


def test_every_reply_names_its_kind(cluster, client):
    job = client.submit("hello", ["p1"])
    assert client.request({"op": "status", "job": job})["kind"] == "job"
    assert client.request({"op": "jobs"})["kind"] == "jobs"
    assert client.request({"op": "players"})["kind"] == "players"
    submit = {"op": "submit", "score": "hello", "scope": "one",
              "players": ["p1"]}
    assert client.request(submit)["kind"] == "submit"
    reply = raw_reply(cluster, b"\xc1 not msgpack")
    assert reply["kind"] == "error"


def test_an_op_nobody_knows_is_unknown_op(client):
    e = error_of(client.request, {"op": "reboot"})
    assert e.code == "unknown_op" and "reboot" in e.message


def test_a_missing_field_is_named(client):
    e = error_of(client.request, {"op": "status"})
    assert e.code == "missing_field" and "'job'" in e.message


def test_a_scope_other_than_one_or_all_is_invalid_scope(client):
    assert error_of(client.submit, "hello", ["p1"],
                    scope="some").code == "invalid_scope"


def test_a_player_not_in_the_players_file_is_invalid_player(client):
    e = error_of(client.submit, "hello", ["p1", "nobody"])
    assert (e.code, e.message) == ("invalid_player",
                                   "not in the players file: nobody")


def test_a_score_every_player_lacks_is_unknown_score(client):
    assert error_of(client.submit, "nope",
                    ["p1", "p2"]).code == "unknown_score"


def test_a_bad_parameter_key_is_invalid_param(client):
    e = error_of(client.submit, "hello", ["p1"], params={"no spaces": "x"})
    assert e.code == "invalid_param" and "no spaces" in e.message


def test_a_parameter_over_its_limit_is_too_large(client):
    assert error_of(client.submit, "hello", ["p1"],
                    params={"BIG": "x" * (65 * 1024)}).code == "too_large"


def test_an_unknown_job_is_not_found(client):
    for call in (client.status, client.wait, client.cancel):
        e = error_of(call, 987654)
        assert (e.code, e.message) == ("not_found", "no job 987654")


def test_a_key_limited_to_backup_scores_cannot_run_restart_web(cluster):
    with remote(cluster, "backup-bot") as bot:
        e = error_of(bot.submit, "restart-web", ["p1"])
        assert e.code == "unauthorized"
        assert "may not run score 'restart-web'" in e.message
        e = error_of(bot.submit, "backup-home", ["p1", "p2"])
        assert e.code == "unauthorized" and "on p2" in e.message
        record = bot.wait(bot.submit("backup-home", ["p1"]), timeout=20)
        assert (record["state"], record["submitted_by"]) == ("OK",
                                                             "backup-bot")


def test_a_limited_key_sees_and_cancels_only_jobs_it_could_submit(
        cluster, client):
    web = client.submit("restart-web", ["p3"], params={"TOKEN": "secret"})
    mine = client.submit("backup-home", ["p3"])
    with remote(cluster, "backup-bot") as bot:
        for op in (bot.cancel, bot.status):
            e = error_of(op, web)
            assert (e.code, e.message) == ("not_found", "no job %d" % web)
        seen = [j["id"] for j in bot.jobs()]
        assert mine in seen and web not in seen
        assert bot.cancel(mine)["state"] == "CANCELLED"
    assert client.status(web)["state"] == "PENDING"
    client.cancel(web)


def test_a_listed_key_works_over_tcp_in_its_own_name(cluster):
    with remote(cluster, "ci") as ci:
        record = ci.wait(ci.submit("restart-web", ["p2"]), timeout=20)
        assert (record["state"], record["submitted_by"]) == ("OK", "ci")
        assert len(ci.players()) == 3


def test_an_unknown_key_cannot_connect(cluster):
    e = error_of(remote, cluster, "stranger")
    assert e.code == "unavailable" and "refused our key" in e.message


def test_tcp_needs_keys(cluster):
    with pytest.raises(ValueError):
        Client(cluster.tcp_endpoint)


def test_a_missing_socket_is_unavailable(tmp_path):
    e = error_of(Client, "ipc://%s/none.sock" % tmp_path)
    assert e.code == "unavailable" and "no such socket" in e.message


def test_a_stopping_conductor_answers_waits_unavailable(own_cluster):
    conductor = own_cluster.conductor.process
    with Client(own_cluster.endpoint, timeout=3) as client:
        job = client.submit("hello", ["p3"])  # p3 is offline: it waits
        e = error_of(client.wait, job,
                     progress=lambda p: conductor.send_signal(signal.SIGTERM))
        assert e.code == "unavailable" and "stopping" in e.message
        assert conductor.wait(timeout=20) == 0
        assert error_of(client.status, job).code == "unavailable"


def test_the_client_reconnects_after_a_conductor_restart(own_cluster):
    with Client(own_cluster.endpoint) as client:
        job = client.submit("hello", ["p1"])
        own_cluster.conductor.stop()
        own_cluster.start_conductor(tcp=True)
        assert client.status(job)["id"] == job
