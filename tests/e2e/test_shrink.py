#!/usr/bin/env python3
"""End-to-end tests of `eddy shrink`: the smallest run that still fails.

A deliberately flawed node (eddy-node's node-counter, whose counter starts again in every
process) runs a scenario with one kill and restart among faults that cannot matter to it; the
shrink must end at that kill and restart and nothing else, and its minimal.json must run with
`eddy test --scenario` and fail the same way. A flaw that needs no fault at all (a bare counter
on two nodes) must shrink to no fault events. A run that does not fail is refused with exit 2.
"""
import json
import os
import shutil
import subprocess
import tempfile

from eddytest import Run, check, eddy_bin, main, node_bin


def shrink(args, store, budget="150", tries=None):
    own = ["--tries", str(tries), "--need", str(tries)] if tries else []
    p = subprocess.run([eddy_bin(), "shrink", "--budget", budget, "--store", store] + own + args,
                       capture_output=True, text=True, timeout=230)
    return p


def describe(p):
    return f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr[-3000:]}"


def write(obj, d):
    path = os.path.join(d, "scenario.json")
    with open(path, "w") as f:
        json.dump(obj, f)
    return path


def test_shrink_ends_at_the_kill_that_breaks_a_node_counter():
    d = tempfile.mkdtemp(prefix="eddy-shrink-")
    try:
        sc = write({"workload": "unique-ids", "node-count": 2, "time-limit": 3, "rate": 500,
                    "faults": [
                        {"at": 0.2, "f": "clock-bump", "nodes": ["n0"], "delta-ms": 1500},
                        {"at": 0.3, "f": "start-partition", "shape": "majority"},
                        {"at": 0.6, "f": "stop-partition"},
                        {"at": 0.8, "f": "kill", "nodes": ["n1"]},
                        {"at": 1.0, "f": "start"},
                        {"at": 1.1, "f": "pause", "nodes": ["n0"]},
                        {"at": 1.3, "f": "resume"}]}, d)
        # A restarted node-counter repeats IDs every time: two tries per candidate, both must
        # fail, so that the minimal scenario is not one that fails by luck.
        p = shrink(["--scenario", sc, "--bin", node_bin(), "--seed", "5", "--",
                    "--ids", "node-counter"], d, tries=2)
        check(p.returncode == 0, "a smaller failing scenario:\n" + describe(p))
        minimal = os.path.join(d, "shrink", "latest", "minimal.json")
        with open(minimal) as f:
            m = json.load(f)
        fs = [(e["f"], e.get("nodes")) for e in m["faults"]]
        check(fs == [("kill", ["n1"]), ("start", None)], f"the known minimal fault: {fs}\n"
              + describe(p))
        check(m["time-limit"] < 3 and "nemesis" not in m and "random" not in m, m)
        with open(os.path.join(d, "shrink", "latest", "shrink.json")) as f:
            info = json.load(f)
        check(info["fault-events"] == 2 and info["class"] == "across-restarts", info)
        check(info["steps"][0]["kept"], "the original failed")
        check("| step | candidate | failed | kept | seconds |" in p.stdout, "the table")
        check(f"eddy test --scenario {os.path.join(d, 'shrink')}" in p.stdout, "the command")
        check("eddy shrink: [" in p.stderr, "progress on stderr")
        r = Run(["--scenario", minimal])
        try:
            check(r.code == 1, "minimal.json fails under eddy test", r)
            check(r.results["diagnosis"][0]["class"] == "across-restarts", "the same way", r)
        finally:
            r.cleanup()
        check(not os.path.exists(os.path.join(d, "shrink", "latest", "tries")),
              "the tries are cleaned up")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_a_counter_on_two_nodes_needs_no_fault_at_all():
    d = tempfile.mkdtemp(prefix="eddy-shrink-")
    try:
        sc = write({"workload": "unique-ids", "node-count": 2, "time-limit": 3, "rate": 500,
                    "faults": [{"at": 0.5, "f": "kill", "nodes": ["n0"]},
                               {"at": 0.7, "f": "start"},
                               {"at": 1.0, "f": "clock-bump", "nodes": ["n1"], "delta-ms": -500}]},
                   d)
        p = shrink(["--scenario", sc, "--bin", node_bin(), "--seed", "1", "--",
                    "--ids", "counter"], d)
        check(p.returncode == 0, describe(p))
        with open(os.path.join(d, "shrink", "latest", "minimal.json")) as f:
            m = json.load(f)
        check(m["faults"] == [] and m["node-count"] == 2, f"no fault, both nodes: {m}")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_a_run_that_does_not_fail_is_refused_with_exit_2():
    r = Run(["-w", "unique-ids", "--bin", node_bin(), "--node-count", "2", "--time-limit", "1",
             "--rate", "200", "--seed", "2"])
    try:
        check(r.code == 0, "valid", r)
        p = shrink([r.dir], r.store, budget="60")
        check(p.returncode == 2, describe(p))
        check("no longer fails" in p.stdout, describe(p))
    finally:
        r.cleanup()


def test_bad_arguments():
    for args in (["--budget", "0", "x"], ["--tries", "2", "--need", "3", "x"], []):
        p = subprocess.run([eddy_bin(), "shrink"] + args, capture_output=True, text=True,
                           timeout=30)
        check(p.returncode == 254 and p.stderr.count("\n") >= 1, f"{args}: {describe(p)}")


if __name__ == "__main__":
    main(globals())
