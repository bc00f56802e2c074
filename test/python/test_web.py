"""The conductor's web page in a real browser, and its /metrics.

Debian's chromium, driven headless through /usr/bin/chromedriver by
python3-selenium, against a real conductor and players (conftest.Cluster):
the overview shows a job submitted by the CLI without a reload; a job's
page lists each task's output; an `operate` user cancels a running job
from its page; a `view` user has no cancel button and a forged POST is
refused; a wrong password gets 401. The page with users is served over
TLS (a fresh self-signed certificate). /metrics is read by
python3-prometheus-client's own text parser.
"""

import base64
import json
import os
import re
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import BIN, Cluster

selenium = pytest.importorskip("selenium")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.common.exceptions import (  # noqa: E402
    NoSuchElementException, StaleElementReferenceException)
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from prometheus_client.parser import text_string_to_metric_families  # noqa

SLEEP = "#!/bin/sh\necho sleeping on $ORC_PLAYER\nexec sleep 60\n"
USERS = {"viewer": ("viewer-password", "view"),
         "operator": ("operator-password", "operate")}


def until(driver, seconds, condition):
    """Waits for condition(driver), which may look at a page that is being
    replaced: an element found on the old page and gone is looked up again."""
    WebDriverWait(driver, seconds, ignored_exceptions=(
        NoSuchElementException, StaleElementReferenceException)).until(
            condition)


def browser(tls=False):
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox",
                     "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    if tls:  # our own self-signed certificate
        options.add_argument("--ignore-certificate-errors")
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                            options=options)


def log_in(driver, user):
    """Every request of `driver` carries `user`'s Basic credentials."""
    password = USERS[user][0]
    token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders",
                           {"headers": {"Authorization": "Basic " + token}})


def cli(cluster, *args):
    return subprocess.run([os.path.join(BIN, "orchestra"), "--endpoint",
                           cluster.endpoint] + list(args),
                          capture_output=True, text=True, timeout=60)


def submit(cluster, *args):
    done = cli(cluster, "submit", *args)
    assert done.returncode == 0, done.stderr
    return int(re.search(r"\d+", done.stdout).group())  # "N" or "job N ..."


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail("not within %s s: %s" % (seconds, what))


def make_tls(directory):
    certificate = os.path.join(directory, "web.crt")
    key = os.path.join(directory, "web.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", certificate],
                   check=True, capture_output=True)
    os.chmod(key, 0o600)
    return certificate, key


def make_users(directory):
    lines = []
    for name, (password, role) in USERS.items():
        done = subprocess.run(
            [os.path.join(BIN, "orchestra"), "http-user", name] +
            (["--operate"] if role == "operate" else []),
            input="%s\n%s\n" % (password, password), capture_output=True,
            text=True, check=True)
        lines.append(done.stdout)
    path = os.path.join(directory, "web-users")
    with open(path, "w") as f:
        f.write("".join(lines))
    os.chmod(path, 0o600)
    return path


@pytest.fixture(scope="module")
def anonymous(tmp_path_factory):
    """p1 and p2, the page on loopback without users."""
    c = Cluster(tmp_path_factory.mktemp("web"))
    c.add_players(["p1", "p2"])
    c.start_conductor()
    c.start_player("p1")
    c.start_player("p2")
    yield c
    c.stop()


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    """p1 and p2 with a `sleep` score; the page over TLS with users."""
    directory = str(tmp_path_factory.mktemp("web-tls"))
    c = Cluster(directory)
    c.add_players(["p1", "p2"])
    for name in ("p1", "p2"):
        path = os.path.join(directory, "scores-" + name, "sleep")
        with open(path, "w") as f:
            f.write(SLEEP)
        os.chmod(path, 0o755)
    certificate, key = make_tls(directory)
    c.start_conductor(http="http users file = %s\n"
                           "http tls certificate = %s\n"
                           "http tls key = %s\n"
                      % (make_users(directory), certificate, key))
    c.certificate = certificate
    c.start_player("p1")
    c.start_player("p2")
    yield c
    c.stop()


def request(cluster, path, user=None, password=None, method="GET",
            headers=None):
    """(status, headers, body) of one request to the cluster's page."""
    context = None
    if cluster.http_url.startswith("https://"):
        context = ssl.create_default_context(cafile=cluster.certificate)
    r = urllib.request.Request(cluster.http_url + path, method=method,
                               headers=dict(headers or {}),
                               data=b"" if method == "POST" else None)
    if user is not None:
        token = base64.b64encode(("%s:%s" % (user, password)).encode())
        r.add_header("Authorization", "Basic " + token.decode())
    try:
        with urllib.request.urlopen(r, context=context, timeout=10) as reply:
            return reply.status, reply.headers, reply.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def test_the_overview_shows_a_cli_job_within_2s_without_a_reload(anonymous):
    driver = browser()
    try:
        driver.get(anonymous.http_url + "/")
        assert "Overview" in driver.title
        driver.execute_script("window.notReloaded = true;")
        job = submit(anonymous, "--all", "hello", "p1", "p2")
        row = '#recent-jobs tr[data-job="%d"]' % job
        until(driver, 2,
            lambda d: d.find_elements(By.CSS_SELECTOR, row))
        assert driver.execute_script("return window.notReloaded === true;")
        # The row follows the job to its end, in place.
        until(driver, 10,
            lambda d: d.find_element(
                By.CSS_SELECTOR, row + ' td[data-field="state"]'
            ).text.strip() == "OK")
        assert driver.execute_script("return window.notReloaded === true;")
    finally:
        driver.quit()


def test_a_jobs_page_lists_each_task_with_its_output(anonymous):
    job = submit(anonymous, "--all", "--wait", "-p", "NAME=web", "hello",
                 "p1", "p2")
    driver = browser()
    try:
        driver.get("%s/jobs/%d" % (anonymous.http_url, job))
        assert driver.find_element(By.ID, "job-state").text.strip() == "OK"
        outputs = [e.text for e in driver.find_elements(
            By.CSS_SELECTOR, 'pre[data-stream="stdout"]')]
        assert any("hello web from p1" in o for o in outputs), outputs
        assert any("hello web from p2" in o for o in outputs), outputs
        players = [e.text for e in driver.find_elements(
            By.CSS_SELECTOR, "span[data-task]")]
        assert sorted(players) == ["p1", "p2"]
        # Read-only without users: no cancel button.
        assert not driver.find_elements(By.ID, "cancel-form")
    finally:
        driver.quit()


def test_an_operator_cancels_a_running_job_from_its_page(secured):
    job = submit(secured, "--all", "sleep", "p1", "p2")
    for name in ("p1", "p2"):
        secured.players[name].wait_for_log(r"task accepted .*job=%d " % job)
    driver = browser(tls=True)
    try:
        log_in(driver, "operator")
        driver.get("%s/jobs/%d" % (secured.http_url, job))
        assert driver.find_element(By.ID, "job-state").text == "PENDING"
        driver.find_element(By.CSS_SELECTOR, "#cancel-form button").click()
        until(driver, 10,
            lambda d: d.find_element(By.ID, "job-state").text.strip()
            == "CANCELLED")
        assert driver.current_url.endswith("/jobs/%d" % job)
    finally:
        driver.quit()
    done = cli(secured, "status", str(job))
    assert "CANCELLED" in done.stdout


def test_a_viewer_has_no_cancel_button_and_a_forged_post_is_refused(secured):
    job = submit(secured, "--all", "sleep", "p1", "p2")
    driver = browser(tls=True)
    try:
        log_in(driver, "viewer")
        driver.get("%s/jobs/%d" % (secured.http_url, job))
        assert driver.find_element(By.ID, "job-state").text == "PENDING"
        assert not driver.find_elements(By.ID, "cancel-form")
        # The viewer's browser forges the form's POST: refused.
        status = driver.execute_script(
            "return fetch('/jobs/%d/cancel', {method: 'POST'})"
            ".then(r => r.status);" % job)
        assert status == 403
    finally:
        driver.quit()
    path = "/api/v1/jobs/%d/cancel" % job
    # An operator's POST from another site's page carries that origin.
    status, _, body = request(secured, path, "operator", "operator-password",
                              "POST", {"Origin": "https://attacker.example"})
    assert status == 403 and json.loads(body)["error"]["code"] == \
        "unauthorized"
    status, _, _ = request(secured, path, "viewer", "viewer-password",
                           "POST", {"X-Orchestra": "1"})
    assert status == 403
    assert "PENDING" in cli(secured, "status", str(job)).stdout
    status, _, body = request(secured, path, "operator", "operator-password",
                              "POST", {"X-Orchestra": "1"})
    assert status == 200 and json.loads(body)["id"] == job
    # The players stop the running tasks, then the job ends.
    done = cli(secured, "wait", str(job))
    assert "CANCELLED" in done.stdout


def test_a_wrong_password_gets_401(secured):
    mark = secured.conductor.mark()
    status, headers, _ = request(secured, "/", "operator", "wrong-password")
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Basic")
    status, _, _ = request(secured, "/metrics")
    assert status == 401
    secured.conductor.wait_for_log(
        r"http login refused user=operator peer=127\.0\.0\.1", start=mark)
    assert request(secured, "/healthz")[0] == 200
    assert request(secured, "/", "viewer", "viewer-password")[0] == 200


def metrics(cluster, user=None, password=None):
    status, headers, body = request(cluster, "/metrics", user, password)
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {f.name: f for f in text_string_to_metric_families(body)}


def sample(families, name, **labels):
    """The value of sample `name` (a counter's `_total`, a histogram's
    `_count` or `_bucket`) with `labels`; 0 when it is not there yet."""
    for family in families.values():
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v
                                      for k, v in labels.items()):
                return s.value
    return 0.0


def test_metrics_count_exactly_the_jobs_and_tasks_run(anonymous):
    before = metrics(anonymous)
    ok = submit(anonymous, "--all", "--wait", "hello", "p1", "p2")
    failed = cli(anonymous, "submit", "--all", "--wait", "fail", "p1", "p2")
    assert failed.returncode == 1
    one = submit(anonymous, "--one", "--wait", "hello", "p1", "p2")
    after = metrics(anonymous)
    assert sample(after, "orchestra_jobs_submitted_total") == \
        sample(before, "orchestra_jobs_submitted_total") + 3
    for state, more in (("OK", 2), ("FAIL", 1)):
        assert sample(after, "orchestra_jobs_finished_total",
                      state=state) == \
            sample(before, "orchestra_jobs_finished_total", state=state) + more
    for state, more in (("OK", 3), ("FAIL", 2)):
        assert sample(after, "orchestra_tasks_finished_total",
                      state=state) == \
            sample(before, "orchestra_tasks_finished_total", state=state) + \
            more
    assert sample(after, "orchestra_players", state="connected") == 2
    assert sample(after, "orchestra_store_writable") == 1
    for state in ("QUEUED", "DISPATCHED", "RUNNING"):
        assert sample(after, "orchestra_tasks", state=state) == 0
    # Histograms: cumulative buckets ending in +Inf, which is the count.
    for name in ("orchestra_task_queue_seconds",
                 "orchestra_task_duration_seconds",
                 "orchestra_store_commit_seconds"):
        family = after[name]
        assert family.type == "histogram"
        buckets = [s for s in family.samples if s.name == name + "_bucket"]
        bounds = [float(s.labels["le"]) for s in buckets]
        counts = [s.value for s in buckets]
        assert bounds == sorted(bounds) and bounds[-1] == float("inf")
        assert counts == sorted(counts)
        count = [s.value for s in family.samples if s.name == name + "_count"]
        assert counts[-1] == count[0] and count[0] > 0
    assert sample(after, "orchestra_task_duration_seconds_count") - \
        sample(before, "orchestra_task_duration_seconds_count") == 5
    # Bounded cardinality: no label names or holds a job, a task or a
    # player (a histogram's `le` is a bound in seconds, whatever its digits).
    forbidden = {str(ok), str(one), "p1", "p2"}
    for family in after.values():
        for s in family.samples:
            labels = {k: v for k, v in s.labels.items() if k != "le"}
            assert not {"job", "task", "player"} & set(labels), s
            assert not forbidden & set(labels.values()), (s.name, s.labels)
    assert sample(after, "process_open_fds") > 0
    assert sample(after, "process_resident_memory_bytes") > 1 << 20
    assert sample(after, "orchestra_build_info",
                  version=after["orchestra_build_info"].samples[0]
                  .labels["version"]) == 1


def test_metrics_need_a_user_when_there_are_users(secured):
    assert request(secured, "/metrics")[0] == 401
    families = metrics(secured, "viewer", "viewer-password")
    assert "orchestra_jobs_submitted" in families
    assert sample(families, "orchestra_auth_denied_total",
                  channel="http") >= 0
