#!/usr/bin/python3
"""Joins the bench probes' JSON into one bench.json and prints the table.

    report.py BENCH_DIR OUT_JSON

BENCH_DIR holds limits.json, latency.json, throughput.json and, when
orchestra-bench-load ran, load.json (merged as is under the key "load").
Each of our figures is printed beside the limit of this machine that bounds
it, measured in the same run.
"""
import json
import os
import sys

# DESIGN.md section 11: a 2-core reference machine, and the targets.
REFERENCE = {
    "curve_round_trip_us": 77, "curve_pipelined_msgs_per_s": 290e3,
    "sqlite_commits_per_s": 15e3, "sqlite_batched_rows_per_s": 380e3,
    "spawn_per_s": 3600,
}
TARGETS = {"latency_p50_ms": 1.5, "latency_p99_ms": 10.0,
           "throughput_over_spawn": 0.5}
# Durable commits one after another on a job's path: the conductor's (the
# job), the player's (the task, before `accepted`), the player's (the
# result, before `result`), the conductor's (the result, before the reply).
COMMITS_ON_PATH = 4


def load(path):
    with open(path) as f:
        return json.load(f)


def latency_floor_ms(limits):
    """The sum of the limits one job's path cannot avoid."""
    commits = COMMITS_ON_PATH * limits["sqlite_commit"]["p50_us"]
    spawn = 1e6 / limits["spawn_per_s"]
    hops = 2 * limits["curve_round_trip"]["p50_us"]  # 4 one-way messages
    return (commits + spawn + hops) / 1000


def main(bench_dir, out_path):
    limits = load(os.path.join(bench_dir, "limits.json"))
    latency = load(os.path.join(bench_dir, "latency.json"))
    throughput = load(os.path.join(bench_dir, "throughput.json"))
    latency["score"] = "true (a copy of /bin/true)"
    latency["floor_ms"] = latency_floor_ms(limits)
    latency["floor"] = ("%d commits p50 + 1/spawn_per_s + 2 Curve round "
                        "trips p50" % COMMITS_ON_PATH)
    spawn2 = limits["spawn_per_s_2_parallel"]
    throughput["score"] = latency["score"]
    throughput["spawn_per_s_2_parallel"] = spawn2
    throughput["over_spawn"] = throughput["jobs_per_s"] / spawn2
    out = {"limits": limits, "latency": latency, "throughput": throughput,
           "targets": TARGETS, "reference": REFERENCE,
           "machine": machine(bench_dir)}
    load_path = os.path.join(bench_dir, "load.json")
    if os.path.exists(load_path):  # orchestra-bench-load's object, as is
        out["load"] = load(load_path)
    cgroup_path = os.path.join(bench_dir, "throughput-cgroup.json")
    if os.path.exists(cgroup_path):  # the same, each task in a cgroup
        cgroup = load(cgroup_path)
        cgroup["over_plain"] = cgroup["jobs_per_s"] / throughput["jobs_per_s"]
        out["throughput_cgroup"] = cgroup
    web_path = os.path.join(bench_dir, "web.json")
    if os.path.exists(web_path):  # web_load.py's object, as is
        out["web"] = load(web_path)
    with open(out_path, "w") as f:
        json.dump(out, f, indent=2, sort_keys=True)
        f.write("\n")
    print_table(out)
    print("(figures also in %s)" % out_path)


def machine(bench_dir):
    """Cores and the 1-minute load average at the start and the end."""
    loads = []
    path = os.path.join(bench_dir, "loadavg")
    if os.path.exists(path):
        with open(path) as f:
            loads = [float(line.split()[0]) for line in f if line.strip()]
    return {"cores": os.cpu_count(), "loadavg_1min": loads}


def row(figure, ours, bound, note=""):
    print("%-38s %-16s %-30s %s" % (figure, ours, bound, note))


def print_table(out):
    limits, lat, thr = out["limits"], out["latency"], out["throughput"]
    rt, commit = limits["curve_round_trip"], limits["sqlite_commit"]
    row("figure", "ours", "bounded by (this machine)", "target / reference")
    row("latency p50, score true", "%.2f ms" % lat["p50_ms"],
        "floor %.2f ms (*)" % lat["floor_ms"],
        "target <= %.1f ms" % TARGETS["latency_p50_ms"])
    row("latency p99, score true", "%.2f ms" % lat["p99_ms"], "",
        "target <= %.0f ms" % TARGETS["latency_p99_ms"])
    row("real throughput, 2 players", "%.0f jobs/s" % thr["jobs_per_s"],
        "spawn x2 %.0f/s (%.2f of it)" % (thr["spawn_per_s_2_parallel"],
                                          thr["over_spawn"]),
        "target >= %.1f of it" % TARGETS["throughput_over_spawn"])
    if "throughput_cgroup" in out:
        cg = out["throughput_cgroup"]
        row("  the same, each task in a cgroup",
            "%.0f jobs/s" % cg["jobs_per_s"],
            "%.2f of the rate without" % cg["over_plain"],
            "target >= 0.8 of it")
    cell = out.get("load", {}).get("cell")
    if cell:  # orchestra-bench-load --cell 1: the same `one` jobs twice
        mb = 1e6
        if cell["jobs_single"]:  # 0 when the single phase did not run
            rss = out["load"]["throughput"]["conductor_rss_after_one_bytes"]
            row("load: one jobs, 1 conductor",
                "%.0f jobs/s" % cell["single_jobs_per_s"],
                "%d jobs, RSS %.0f MB after" % (cell["jobs_single"],
                                                rss / mb), "")
        row("  the same, a cell of 3 on dqlite",
            "%.0f jobs/s" % cell["jobs_per_s"],
            "%d jobs, %.2f of 1 conductor" % (cell["jobs"],
                                              cell["over_single"]), "")
        row("  cell RSS after: active / standbys",
            "%.0f MB" % (cell["active_rss_after_bytes"] / mb),
            "%.0f / %.0f MB" % tuple(
                b / mb for b in cell["others_rss_after_bytes"]), "")
    failover = out.get("load", {}).get("cell_failover")
    if failover:  # --cell-fleet N: the leader killed under N players
        row("cell leader killed, %d players" % failover["players"],
            "99%% back in %.2f s" % failover["p99_back_s"],
            "all in %.2f s, %d moves" % (failover["all_back_s"],
                                         failover["moves"]),
            "target: 99% within 10 s")
    print()
    row("limit", "this machine", "", "reference (2 cores)")
    row("Curve round trip p50 / mean",
        "%.0f / %.0f us" % (rt["p50_us"], rt["mean_us"]), "", "~77 us")
    row("Curve messages pipelined",
        "%.0f k/s" % (limits["curve_pipelined_msgs_per_s"] / 1e3), "",
        "~290 k/s")
    row("SQLite commits (WAL, FULL), 1 row",
        "%.0f /s" % limits["sqlite_commits_per_s"],
        "p50 %.0f us, p99 %.0f us" % (commit["p50_us"], commit["p99_us"]),
        "~15 k/s")
    row("SQLite rows, %d a commit" % limits["sqlite_batch_rows"],
        "%.0f k/s" % (limits["sqlite_batched_rows_per_s"] / 1e3), "",
        "~380 k/s")
    row("posix_spawn+waitpid /bin/true", "%.0f /s" % limits["spawn_per_s"],
        "", "~3,600 /s")
    row("  the same, 2 at once", "%.0f /s" % limits["spawn_per_s_2_parallel"],
        "", "")
    if "codec_result_round_trip_us" in limits:
        row("result encoded + decoded",
            "%.2f us" % limits["codec_result_round_trip_us"], "",
            "~1.3 us")
        row("job record, %d tasks (%.1f MB)" % (
                limits["codec_record_tasks"],
                limits["codec_record_bytes"] / 1e6),
            "enc %.1f / dec %.1f ms" % (limits["codec_record_encode_ms"],
                                        limits["codec_record_decode_ms"]),
            "sizing its tasks %.1f ms" % limits["codec_record_size_tasks_ms"],
            "~5 / 11 / 0.9 ms")
    if "web_job_page_10k_stored_ms" in limits:
        row("web page of a 10,000-task job",
            "%.1f ms" % limits["web_job_page_10k_stored_ms"],
            "render only: %.1f (alike) / %.1f ms (distinct)" % (
                limits["web_job_page_10k_identical_ms"],
                limits["web_job_page_10k_distinct_ms"]),
            "< 50 ms")
    if "target_resolve_10k_ms" in limits:
        row("target resolved over 10,000 players",
            "%.2f ms" % limits["target_resolve_10k_ms"],
            "%d players picked" % limits["target_resolve_10k_players"],
            "< 20 ms")
    if "waiting_record_10k_ms" in limits:
        row("rollout record of 10,000 tasks + waiting",
            "%.1f ms" % limits["waiting_record_10k_ms"],
            ", ".join("%s %d" % kv for kv in sorted(
                limits["waiting_record_10k_reasons"].items())),
            "< 50 ms")
        row("rollout of 10,000, 9,000 players offline",
            "%.1f ms" % limits["rollout_10k_offline_ms"],
            "1,000 sent and released", "")
    if "load" in out:
        print()
        print("load (orchestra-bench-load, simulated players):")
        for key, value in flatten("load", out["load"]):
            print("  %-52s %s" % (key, value))
    if "web" in out:
        print()
        print("web (browsers keeping the overview open on a busy conductor):")
        for key, value in flatten("web", out["web"]):
            print("  %-52s %s" % (key, value))
    print()
    print("(*) %s, each measured above" % lat["floor"])
    m = out["machine"]
    if m["loadavg_1min"] and max(m["loadavg_1min"]) > 0.5 * m["cores"]:
        print("warning: load average %s on %d cores: other work shared the "
              "machine, so these figures are lower than it can do" %
              (" -> ".join("%.1f" % x for x in m["loadavg_1min"]), m["cores"]))


def flatten(prefix, value):
    if isinstance(value, dict):
        for key in sorted(value):
            yield from flatten(prefix + "." + key, value[key])
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from flatten("%s[%d]" % (prefix, i), item)
    elif isinstance(value, float):
        yield prefix, "%.0f" % value if abs(value) >= 1000 else "%.4g" % value
    else:
        yield prefix, value


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: report.py BENCH_DIR OUT_JSON")
    main(sys.argv[1], sys.argv[2])
