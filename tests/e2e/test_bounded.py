#!/usr/bin/env python3
"""End-to-end tests of eddy's bounds against nodes whose IDs are built to hurt: deeply nested,
huge, wide objects. Whatever the nodes return, eddy's memory stays within its budget, the run
ends on time, signals are served, and the verdict stays exact.

Each test_* function is one ctest test. Waits poll a condition with a deadline; none sleeps for
a fixed time in the hope that something has happened.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import collections
import re
import resource

from eddytest import (Run, alive, check, check_no_node_alive, eddy_bin, main, node_bin,
                      pynode)

# results.json holds the lowest and highest ID (Maelstrom's range): 997 arrays deep here.
sys.setrecursionlimit(20000)

RSS_LIMIT_KB = 200 * 1024


def hostile(mode, limit, extra=(), node_args=(), env=None):  # noqa: D103
    start = time.monotonic()
    r = Run(["-w", "unique-ids", "--bin", pynode(), "--node-count", "2", "--time-limit",
             str(limit), "--rate", "max", *extra, "--", "--mode", mode, *node_args],
            timeout=240, env=env)
    r.elapsed = time.monotonic() - start
    return r


def on_time(r, limit):
    """The run ended within seconds of its limit. Starting the Python nodes (init) is not part
    of the limit and takes seconds on a loaded machine, so it is taken off."""
    check(r.results is not None, "results.json written", r)
    spent = r.elapsed - r.results["eddy"]["init-ms"] / 1000
    check(spent < limit + 10, f"the run took {spent:.1f} s after init for a {limit} s limit", r)


def test_nested_ids_end_on_time():
    """2 KB IDs nested 997 arrays deep, as fast as two nodes return them: checking one cost
    5.5 ms (more on a loaded machine) and such a 10-second run went on past 115 s."""
    r = hostile("nested", 10)
    check(r.code == 0, "unique nested IDs are valid", r)
    on_time(r, 10)
    w = r.results["workload"]
    check(w["acknowledged-count"] > 1000, f"load was real: {w['acknowledged-count']}", r)
    check(w["acknowledged-count"] == r.results["stats"]["ok-count"], "every ok op was checked", r)
    check(r.results["eddy"]["max-rss-kb"] < RSS_LIMIT_KB,
          f"eddy's memory stayed bounded ({r.results['eddy']['max-rss-kb']} KB)", r)
    check_no_node_alive(r)
    r.cleanup()


def test_checker_slowed_the_nodes_not_the_loop():
    """IDs that are objects of 60,000 keys (a megabyte each) cost the checker more than the
    nodes take to make them: the queue fills, eddy stops reading the nodes until it drains, and
    says so. Nothing times out for it, the run ends on time, and the queue stayed bounded. Six
    requests in flight per node keep more than the queue's 8 MiB on their way at once, and few
    enough that each waits well under the 5 s timeout even on a loaded machine."""
    r = hostile("wide-object", 4, extra=("--concurrency", "6n"))
    check(r.code == 2, "object IDs cannot be ordered: unknown, as Maelstrom", r)
    on_time(r, 4)
    k = r.results["eddy"]["checker"]
    stats = r.results["stats"]
    check(stats["ok-count"] > 10, f"load was real: {stats}", r)
    check(stats["info-count"] == 0, "no op timed out for eddy's pauses", r)
    check(k["queue-bytes-max"] <= 16 * 2**20 + 4 * 2**20,
          f"the queue stayed near its bound: {k}", r)
    check(k["backpressure-pauses"] > 0 and k["backpressure-s"] > 0, f"back-pressure: {k}", r)
    check("their output was not read" in r.out, "the summary says so", r)
    check(r.results["eddy"]["max-rss-kb"] < RSS_LIMIT_KB,
          f"eddy's memory stayed bounded ({r.results['eddy']['max-rss-kb']} KB)", r)
    r.cleanup()


# ==== IDs of 64 KB: memory per ID, not per byte ====

BUDGET = 16 * 2**20


def checker_within_budget(r, budget=BUDGET, rss=True):
    """The ID set's own account of its memory, and (unless a run at full speed makes eddy's
    other buffers, and ASan's quarantine in sanitized builds, the larger part) eddy's RSS."""
    k = r.results["workload"]["eddy-checker"]
    check(k["memory-budget"] == budget, f"the budget asked for: {k}", r)
    check(k["bytes-max"] <= budget, f"the ID set stayed within its budget: {k}", r)
    if rss:
        check(r.results["eddy"]["max-rss-kb"] < RSS_LIMIT_KB,
              f"eddy's memory stayed bounded ({r.results['eddy']['max-rss-kb']} KB)", r)
    return k


def test_big_ids_stay_within_the_budget_and_a_repeat_is_found():
    """64 KB IDs as fast as two nodes return them, at a 16 MiB budget: the set keeps 16 bytes
    of each in memory and its bytes on disk. The first node returns its first ID again as its
    300th: exactly one duplicate, with both ops; results.json keeps 1 KB of its text, and
    duplicates.jsonl all of it."""
    r = hostile("big-dup", 4, extra=("--checker-memory", "16M"), node_args=("--after", "300"))
    check(r.code == 1, "one duplicated ID: invalid", r)
    on_time(r, 4)
    w = r.results["workload"]
    check(w["acknowledged-count"] > 300, f"load was real: {w['acknowledged-count']}", r)
    k = checker_within_budget(r)
    check(k["disk-bytes"] > 50 * 2**20, f"the IDs' bytes went to disk, not memory: {k}", r)
    check(w["duplicated-count"] == 1, f"exactly one duplicate: {w['duplicated-count']}", r)
    d = w["duplicates"][0]
    check(d["count"] == 2 and len(d["ops"]) == 2, f"with both its ops: {d['ops']}", r)
    check(d["ops"][0]["node"] == d["ops"][1]["node"] == "n0", "both from n0", r)
    check(isinstance(d["id"], dict) and d["id"]["id-bytes"] == 65536 and
          len(d["id"]["id-prefix"]) <= 1024, "results.json keeps a prefix of the ID", r)
    with open(os.path.join(r.dir, "duplicates.jsonl")) as f:
        lines = f.read().splitlines()
    check(len(lines) == 1, f"one line in duplicates.jsonl, not {len(lines)}", r)
    full = json.loads(lines[0])["id"]
    check(isinstance(full, str) and len(full) == 65534 and full.startswith("n0-"),
          "duplicates.jsonl has the whole ID", r)
    check(w["duplicates-file"]["ids"] == 1, "and says so", r)
    r.cleanup()


def test_big_ids_that_differ_in_their_last_byte_are_told_apart():
    """The first node's 300th ID is its first with the last byte changed. A test hook makes
    the fingerprint cover the first KB only, so the two share it: the bytes must decide."""
    r = hostile("big-near", 4, extra=("--checker-memory", "16M"), node_args=("--after", "300"),
                env={"EDDY_TEST_FINGERPRINT_PREFIX": "1024"})
    check(r.code == 0, "no ID was returned twice: valid", r)
    w = r.results["workload"]
    check(w["acknowledged-count"] > 300, f"load was real: {w['acknowledged-count']}", r)
    check(w["duplicated-count"] == 0, "the near twins are two IDs", r)
    checker_within_budget(r)
    r.cleanup()


# ==== Past the budget: runs on disk, counted exactly ====

def test_duplicates_across_spilled_runs_are_counted_exactly():
    """A counter on three nodes returns each ID about three times, at a budget (2 MiB) that
    holds a fraction of them: the set writes sorted runs to disk and merges them at the end.
    Every duplicated ID and its count must match what the history says."""
    r = Run(["-w", "unique-ids", "--bin", node_bin(), "--node-count", "3", "--time-limit", "2",
             "--rate", "max", "--concurrency", "20n", "--checker-memory", "2M", "--",
             "--ids", "counter"], timeout=240)
    check(r.code == 1, "a counter on three nodes is invalid", r)
    w = r.results["workload"]
    k = checker_within_budget(r, 2 * 2**20, rss=False)
    check(k["runs-on-disk"] > 0, f"the set spilled: {k}", r)
    counts = collections.Counter()
    ok = re.compile(r'"type":"ok","f":"generate","value":(-?\d+),')
    with open(os.path.join(r.dir, "history.jsonl")) as f:
        for line in f:
            m = ok.search(line)
            if m:
                counts[int(m.group(1))] += 1
    want = {i: n for i, n in counts.items() if n > 1}
    check(sum(counts.values()) == w["acknowledged-count"], "the history has every ok op", r)
    check(w["duplicated-count"] == len(want),
          f"{w['duplicated-count']} duplicated IDs, the history says {len(want)}", r)
    got = {}
    with open(os.path.join(r.dir, "duplicates.jsonl")) as f:
        for line in f:
            d = json.loads(line)
            got[d["id"]] = d["count"]
    check(got == want, "every duplicated ID with its exact count", r)
    r.cleanup()


def limit_file_size():
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))


def test_full_disk_under_the_checker_makes_the_verdict_unknown():
    """A file-size limit makes the checker's spill file hit EFBIG, as a full disk would: the IDs
    after that cannot be checked, so a valid run is unknown, and eddy says why."""
    with tempfile.TemporaryDirectory() as store:
        p = subprocess.run([eddy_bin(), "test", "--store", store, "--no-progress", "-w",
                            "unique-ids", "--bin", node_bin(), "--node-count", "3",
                            "--time-limit", "2", "--rate", "max", "--checker-memory", "2M",
                            "--no-history"],
                           capture_output=True, text=True, timeout=120,
                           preexec_fn=limit_file_size)
        check(p.returncode == 2, f"unknown, not valid: {p.returncode} {p.stdout} {p.stderr}")
        r = results_of(store)
        inc = r["workload"]["eddy-checker"].get("incomplete", "")
        check("could not write its spill file" in inc and "File too large" in inc,
              f"the reason: {inc!r}")
        check(r["workload"]["valid?"] == "unknown", "the workload's verdict is unknown")
        check("Checker: incomplete" in p.stdout, f"the summary says so: {p.stdout}")


def test_duplicates_file_stops_at_its_size():
    """duplicates.jsonl keeps whole lines, in the order the IDs were first returned, up to its
    size limit (here 100 kB, through a test hook); results.json says how many were left out."""
    r = Run(["-w", "unique-ids", "--bin", node_bin(), "--node-count", "3", "--time-limit", "1",
             "--rate", "max", "--concurrency", "10n", "--no-history", "--",
             "--ids", "counter"],
            env={"EDDY_DUPLICATES_MAX": "100000"})
    check(r.code == 1, "invalid", r)
    w = r.results["workload"]
    path = os.path.join(r.dir, "duplicates.jsonl")
    size = os.path.getsize(path)
    check(50000 < size <= 100000, f"duplicates.jsonl stopped at its limit: {size} bytes", r)
    with open(path) as f:
        lines = [json.loads(line) for line in f]
    f = w["duplicates-file"]
    check(f["ids"] == len(lines) and f["bytes"] == size, f"results.json knows: {f}", r)
    check(f["ids-not-written"] == w["duplicated-count"] - len(lines) > 0, f"{f}", r)
    ids = [d["id"] for d in lines]
    check(ids == sorted(ids), "in the order first returned (a counter's order)", r)
    r.cleanup()


# ==== Disk per op: the history and the node logs ====

def test_history_stops_at_its_budget():
    r = Run(["-w", "unique-ids", "--bin", node_bin(), "--node-count", "2", "--time-limit", "2",
             "--rate", "max", "--history-max", "1M"])
    check(r.code == 0, "a budget is not a fault: the run is valid", r)
    path = os.path.join(r.dir, "history.jsonl")
    size = os.path.getsize(path)
    check(1 << 19 < size <= 1 << 20, f"history.jsonl stopped at its budget: {size} bytes", r)
    with open(path) as f:
        lines = f.read().splitlines()
    json.loads(lines[-1])  # the file ends on a whole line
    lim = r.results["eddy"]["history-limit"]
    check(lim["max-bytes"] == 1 << 20 and lim["lines-not-written"] > 0, f"and says so: {lim}", r)
    stats = r.results["stats"]
    check(len(lines) + lim["lines-not-written"] == 2 * stats["count"],
          "every line is written or counted (an invoke and a completion per op)", r)
    check("History: stopped at its size limit" in r.out, "the summary says so", r)
    r.cleanup()


def test_node_logs_stop_at_their_total():
    """Each node's log has its own cap, and all of them together another (here 3 MB across
    three chatty nodes, each allowed 100 MB): a thousand nodes cannot write 256 GB."""
    r = Run(["-w", "unique-ids", "--bin", pynode(), "--node-count", "3", "--time-limit", "2",
             "--rate", "20", "--", "--mode", "chatty"],
            env={"EDDY_NODE_LOGS_MAX": "3000000", "EDDY_NODE_LOG_MAX": "100000000"})
    check(r.code == 0, "chatter is not a fault", r)
    logs = os.path.join(r.dir, "node-logs")
    sizes = {n: os.path.getsize(os.path.join(logs, n)) for n in os.listdir(logs)}
    note = "\n[eddy: log truncated: the node logs together reached their size limit]\n"
    check(sum(sizes.values()) <= 3000000 + 3 * len(note), f"3 MB in all: {sizes}", r)
    check(sum(sizes.values()) >= 3000000, f"and not less: {sizes}", r)
    check(all(r.node_log(n[:-4]).endswith(note) for n in sizes), "each log says why it stopped",
          r)
    check("node-logs-limit" in r.results["eddy"], "results.json says so", r)
    check(all(n["log-truncated"] for n in r.results["nodes"].values()), "per node too", r)
    r.cleanup()


def node_pids_of(pid):
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


def start(store, mode, limit, env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.Popen([eddy_bin(), "test", "--store", store, "--no-progress", "-w",
                             "unique-ids", "--bin", pynode(), "--node-count", "2",
                             "--time-limit", str(limit), "--rate", "max", "--", "--mode", mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=full_env)


def wait_until(cond, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)  # polling a condition, with a deadline
    raise AssertionError(f"timed out waiting for {what}")


def results_of(store):
    with open(os.path.join(store, "latest", "results.json")) as f:
        return json.load(f)


def test_sigterm_during_nested_run_leaves_results():
    with tempfile.TemporaryDirectory() as store:
        p = start(store, "nested", 600)
        hist = os.path.join(store, "latest", "history.jsonl")
        wait_until(lambda: os.path.exists(hist) and os.path.getsize(hist) > 100000 or
                   p.poll() is not None, 60, "the run to get going")
        check(p.poll() is None, "eddy still running")
        pids = node_pids_of(p.pid)
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
        check(p.returncode == 143, f"exit 128+SIGTERM, got {p.returncode}: {err}")
        r = results_of(store)
        check(r["interrupted"] is True and r["valid?"] == "unknown", "marked interrupted")
        check(r["stats"]["ok-count"] > 0, "what ran is kept")
        for pid in pids:
            check(not alive(pid), f"node {pid} outlived eddy")


def test_sigterm_during_the_final_checks_leaves_results():
    """The checker is held once the nodes are gone (a test hook), as a long run's final checks
    would keep it: eddy still serves SIGTERM and writes results.json, which says the final
    checks did not run."""
    with tempfile.TemporaryDirectory() as store:
        p = start(store, "nested", 2, env={"EDDY_TEST_HOLD_CHECKER": "1"})
        hist = os.path.join(store, "latest", "history.jsonl")
        wait_until(lambda: os.path.exists(hist) and os.path.getsize(hist) > 0 or
                   p.poll() is not None, 60, "the run to get going")
        pids = node_pids_of(p.pid)
        check(len(pids) == 2, f"two nodes: {pids}")
        # The nodes are killed when the client phase ends; then only the checks remain.
        wait_until(lambda: not any(alive(pid) for pid in pids) or p.poll() is not None, 60,
                   "the client phase to end")
        check(p.poll() is None, "eddy waits for its checker")
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
        check(p.returncode == 143, f"exit 128+SIGTERM, got {p.returncode}: {err}")
        r = results_of(store)
        check(r["interrupted"] is True and r["valid?"] == "unknown", "marked interrupted")
        inc = r["workload"]["eddy-checker"].get("incomplete", "")
        check("did not run" in inc, f"the checker says why it is incomplete: {inc!r}")
        check("interrupted" in out, "the summary says so")


if __name__ == "__main__":
    main(globals())
