#!/usr/bin/python3
"""The web page's cost on a busy conductor (make bench, after run-bench's
own figures, on its cluster).

    web_load.py URL ENDPOINT CONDUCTOR_PID PLAYER... > web.json

Keeps the conductor busy with `one` jobs of the score `true` (a window of
jobs in flight through the Python client, ENDPOINT), and measures its CPU
(utime + stime of CONDUCTOR_PID) for BENCH_WEB_SECONDS (default 20) in
three phases: BENCH_BROWSERS (default 10) headless chromium windows keeping
the overview open (each polls the JSON API once a second) on the idle
conductor, the same on the busy conductor, then the busy conductor
without browsers. Prints one JSON object: the CPU share (and jobs a second)
in each phase, and the overview's and a job page's fetch time as a client
sees it. The browsers share the machine's cores with the conductor and
the players, so the busy conductor runs fewer jobs while they are open.
"""
import json
import os
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "python"))
import orchestra_client  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


class Load(threading.Thread):
    """`one` jobs of `true`, at most `window` in flight, until stopped."""

    def __init__(self, endpoint, players, window=16):
        super().__init__(daemon=True)
        self.endpoint, self.players, self.window = endpoint, players, window
        self.done = 0
        self.error = None
        self.stop = threading.Event()

    def run(self):
        try:
            self.submit_and_wait()
        except Exception as e:  # reported by main(), which then fails
            self.error = e

    def submit_and_wait(self):
        waiting = []
        with orchestra_client.Client(self.endpoint) as client:
            while not self.stop.is_set():
                while len(waiting) < self.window:
                    waiting.append(client.submit("true", self.players))
                client.wait(waiting.pop(0), timeout=60)
                self.done += 1


def measure(pid, load, seconds):
    jobs, cpu, start = load.done, cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - start
    if load.error is not None:
        raise SystemExit("web_load.py: the load stopped: %s" % load.error)
    return {"cpu_percent": round(100 * (cpu_seconds(pid) - cpu) / elapsed, 1),
            "jobs_per_s": round((load.done - jobs) / elapsed, 1)}


def browsers(url, count):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    drivers = []
    for _ in range(count):
        options = Options()
        options.binary_location = "/usr/bin/chromium"
        for argument in ("--headless=new", "--no-sandbox",
                         "--disable-dev-shm-usage", "--disable-gpu"):
            options.add_argument(argument)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                                  options=options)
        driver.get(url + "/")
        drivers.append(driver)
    return drivers


def fetch_ms(url, runs=50):
    """Median time to fetch `url` whole, as a client sees it."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        with urllib.request.urlopen(url, timeout=10) as reply:
            reply.read()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return round(times[len(times) // 2], 2)


def idle(pid, seconds):
    cpu, start = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - start
    return {"cpu_percent": round(100 * (cpu_seconds(pid) - cpu) / elapsed, 1)}


def main(url, endpoint, pid, players):
    """Three phases: the browsers on an idle conductor (the web page's own
    cost), the browsers on a busy one, the busy one alone."""
    seconds = float(os.environ.get("BENCH_WEB_SECONDS", "20"))
    count = int(os.environ.get("BENCH_BROWSERS", "10"))
    drivers = browsers(url, count)
    load = Load(endpoint, players)
    try:
        time.sleep(2)  # every window has polled
        watched_idle = idle(pid, seconds)
        load.start()
        time.sleep(2)  # the window of jobs fills
        watched = measure(pid, load, seconds)
        with orchestra_client.Client(endpoint) as client:
            job = client.jobs(limit=1)[0]["id"]
        overview_ms = fetch_ms(url + "/")
        job_ms = fetch_ms("%s/jobs/%d" % (url, job))
    finally:
        for driver in drivers:
            driver.quit()
    time.sleep(2)
    quiet = measure(pid, load, seconds)
    load.stop.set()
    load.join(120)
    json.dump({"browsers": count, "seconds": seconds,
               "idle_with_browsers": watched_idle,
               "busy_with_browsers": watched,
               "busy_without_browsers": quiet,
               "overview_fetch_ms_p50": overview_ms,
               "job_page_fetch_ms_p50": job_ms}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:])
