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

from eddytest import Run, alive, check, check_no_node_alive, eddy_bin, main, pynode

# results.json holds the lowest and highest ID (Maelstrom's range): 997 arrays deep here.
sys.setrecursionlimit(20000)

RSS_LIMIT_KB = 200 * 1024


def hostile(mode, limit, extra=(), node_args=(), env=None):
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
    says so. Nothing times out for it, the run ends on time, and the queue stayed bounded. Ten
    requests in flight per node keep more than the queue's 8 MiB on their way at once."""
    r = hostile("wide-object", 4, extra=("--concurrency", "10n"))
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
    """The checker is held at the end of the run (a test hook), as a long run's final checks
    would keep it: eddy still serves SIGTERM and writes results.json."""
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
        check(r["eddy"]["checker"].get("ops-not-checked", 0) > 0, "unchecked ops counted")
        check("interrupted" in out, "the summary says so")


if __name__ == "__main__":
    main(globals())
