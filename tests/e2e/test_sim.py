#!/usr/bin/env python3
"""End-to-end tests of `eddy test`: the built eddy against the built eddy-node and pynode.py.

Each test_* function is one ctest test (see CMakeLists.txt). Runs are a few seconds each.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from eddytest import (Run, check, check_no_node_alive, eddy_bin, main, node_bin, pynode,
                      scenario, alive)

RESULT_KEYS = ["valid?", "perf", "timeline", "exceptions", "stats", "availability", "net",
               "workload", "protocol", "seed", "faults", "nodes", "latency", "eddy"]


# ==== Faithful runs ====

def test_echo_valid():
    r = Run(["-w", "echo", "--bin", node_bin(), "--node-count", "1", "--time-limit", "1",
             "--rate", "30"])
    check(r.code == 0, "echo on eddy-node must be valid", r)
    for k in RESULT_KEYS:
        check(k in r.results, f"results.json lacks {k}", r)
    check(r.results["valid?"] is True, "valid? must be true", r)
    check(r.out.rstrip().endswith("Everything looks good! ヽ(‘ー`)ノ"), "verdict line last", r)
    hist = r.history()
    invokes = [o for o in hist if o["type"] == "invoke"]
    oks = [o for o in hist if o["type"] == "ok"]
    check(len(invokes) >= 10 and len(invokes) == len(oks), "every echo answered", r)
    for i, o in enumerate(hist):
        check(o["index"] == i, "history indices are line numbers", r)
        for key in ("time", "process", "type", "f", "value", "node"):
            check(key in o, f"history line lacks {key}", r)
    check(all(re.fullmatch(r"Please echo \d+", o["value"]) for o in invokes),
          "echo payloads are 'Please echo N'", r)
    check(r.results["stats"]["count"] == len(oks), "stats count", r)
    check(os.path.exists(os.path.join(r.dir, "node-logs", "n0.log")), "node log", r)
    check(os.path.islink(os.path.join(r.store, "latest")), "store/latest", r)
    check(os.path.islink(os.path.join(r.store, "echo", "latest")), "store/echo/latest", r)
    net = r.results["net"]
    # Init and init_ok are counted, as in Maelstrom: 2 per op plus 2.
    check(net["all"]["msg-count"] == 2 * len(invokes) + 2, "net message count", r)
    check_no_node_alive(r)
    r.cleanup()


def test_maelstrom_defaults():
    """No node flag: Maelstrom's n1..n5; init clients c0..c4, setup c5..c9, workers from c10."""
    r = Run(["-w", "unique-ids", "--bin", node_bin(), "--time-limit", "1", "--rate", "50"])
    check(r.code == 0, "valid run", r)
    check(sorted(r.results["nodes"]) == ["n1", "n2", "n3", "n4", "n5"], "nodes n1..n5", r)
    hist = r.history()
    clients = {int(o["client"][1:]) for o in hist}
    check(min(clients) >= 10, f"worker clients start at c10, got {sorted(clients)}", r)
    procs = {o["process"] for o in hist}
    check(procs <= set(range(5)), f"1n concurrency: processes 0..4, got {procs}", r)
    check(r.results["eddy"]["concurrency"] == 5, "concurrency 1n = 5", r)
    r.cleanup()


def test_unique_ids_partition_total():
    r = Run(["-w", "unique-ids", "--bin", node_bin(), "--node-count", "3", "--time-limit", "3",
             "--rate", "1000", "--nemesis", "partition", "--nemesis-interval", "0.5",
             "--availability", "total"])
    check(r.code == 0, "eddy-node must pass with partitions and total availability", r)
    f = [e for e in r.results["faults"]["events"] if e["f"] == "start-partition"]
    check(len(f) >= 1 and all(e["applied"] for e in f), "partitions were applied", r)
    check(r.results["availability"]["ok-fraction"] == 1, "every op ok", r)
    check(r.results["workload"]["acknowledged-count"] > 1000, "load was real", r)
    check_no_node_alive(r)
    r.cleanup()


def test_counter_caught():
    r = Run(["-w", "unique-ids", "--bin", node_bin(), "--node-count", "3", "--time-limit", "1",
             "--rate", "300", "--", "--ids", "counter"])
    check(r.code == 1, "a per-node counter must be invalid", r)
    w = r.results["workload"]
    check(w["valid?"] is False and w["duplicated-count"] > 0, "duplicates found", r)
    d = w["duplicates"][0]
    check(d["count"] >= 2 and len(d["ops"]) == d["count"], "every op of a duplicate listed", r)
    nodes = set()
    for op in d["ops"]:
        for key in ("node", "client", "time", "process"):
            check(key in op, f"duplicate op lacks {key}", r)
        nodes.add(op["node"])
    check(len(nodes) >= 2, "a counter duplicates across nodes", r)
    check("Analysis invalid!" in r.out and "Reproduce: eddy test --seed" in r.out,
          "verdict and reproduction command", r)
    check(os.path.exists(os.path.join(r.dir, "duplicates.jsonl")), "duplicates.jsonl", r)
    r.cleanup()


def test_timestamp_caught():
    r = Run(["-w", "unique-ids", "--bin", node_bin(), "--node-count", "3", "--time-limit", "1",
             "--rate", "max", "--", "--ids", "timestamp"])
    check(r.code == 1, "a bare timestamp must be invalid", r)
    check(r.results["workload"]["duplicated-count"] > 0, "duplicates found", r)
    r.cleanup()


# ==== Protocol conformance ====

def test_hundreds_of_thousands_of_duplicates_are_all_written():
    """A counter at full speed duplicates most of its IDs: duplicates.jsonl lists every one,
    each with all its ops up to the checker's bound (the rest counted in the results), and
    writing it stays linear (it once took 50 s at 300,000)."""
    start = time.monotonic()
    r = Run(["-w", "unique-ids", "--bin", node_bin(), "--node-count", "3", "--time-limit", "2",
             "--rate", "max", "--concurrency", "60", "--", "--ids", "counter"])
    elapsed = time.monotonic() - start
    check(r.code == 1, "a per-node counter must be invalid", r)
    w = r.results["workload"]
    check(w["duplicated-count"] > 10000, f"load was real: {w['duplicated-count']} duplicates", r)
    seen = set()
    missing = 0  # ops past the checker's bound on kept ops (CHECK_DUP_OPS_MAX), counted
    with open(os.path.join(r.dir, "duplicates.jsonl")) as f:
        for line in f:
            d = json.loads(line)
            check(d["id"] not in seen, f"{d['id']} listed twice", r)
            seen.add(d["id"])
            check(d["count"] >= 2 and len(d["ops"]) <= d["count"],
                  f"{d['id']}: count {d['count']}, {len(d['ops'])} ops", r)
            missing += d["count"] - len(d["ops"])
    check(len(seen) == w["duplicated-count"],
          f"duplicates.jsonl lists {len(seen)} of {w['duplicated-count']}", r)
    check(missing == w.get("duplicate-ops-not-kept", 0),
          f"{missing} ops missing, {w.get('duplicate-ops-not-kept', 0)} reported not kept", r)
    check(len(w["duplicates"]) == min(1000, len(seen)), "results.json keeps the first 1000", r)
    check(elapsed < 60, f"the run took {elapsed:.0f} s (gross regression guard)", r)
    r.cleanup()


def pynode_run(mode, workload="unique-ids", extra=()):
    return Run(["-w", workload, "--bin", pynode(), "--node-count", "2", "--time-limit", "1",
                "--rate", "40", *extra, "--", "--mode", mode])


def violations(r, cls):
    return [v for v in r.results["protocol"]["violations"] if v["class"] == cls]


def test_extra_reply_key():
    r = pynode_run("add-key")
    check(r.code == 1, "every op fails on its extra reply key: no op is ok (stats)", r)
    v = violations(r, "malformed-rpc-response")
    check(v, "reported as a malformed RPC response", r)
    check('"node"' in v[0]["reason"] and "closed" in v[0]["reason"], "the key is named", r)
    check(v[0]["line"].startswith("{") and v[0]["line-number"] >= 2, "line and number", r)
    x = r.results["exceptions"]["exceptions"][0]
    check(x["class"] == "clojure.lang.ExceptionInfo" and x["type"] == "malformed-rpc-response",
          "recorded as an exception, as Maelstrom does", r)
    check(x["example"].startswith('generate_ok has a disallowed key "node"'),
          f"with the reason as its example: {x['example']!r}", r)
    check(r.results["stats"]["ok-count"] == 0, "no op can be ok", r)
    r.cleanup()


def test_log_line_on_stdout():
    r = pynode_run("stdout-log")
    check(r.code == 1, "both nodes muted by their log lines: no op is ok (stats)", r)
    v = violations(r, "mute")
    check(v, "reported as a line that mutes the node", r)
    check(v[0]["line"].startswith("pynode n") and v[0]["line-number"] == 2,
          "the line after init_ok, quoted", r)
    check("not well-formed JSON" in v[0]["reason"], "the reason", r)
    check("never reads its stdout" in v[0]["maelstrom"], "what Maelstrom would do", r)
    muted = [n for n, x in r.results["nodes"].items() if x["muted"]]
    check(len(muted) == 2, "both nodes muted", r)
    check(r.results["stats"]["ok-count"] == 0, "a muted node's replies are lost", r)
    r.cleanup()


def test_wrong_in_reply_to():
    # 300 workers: more violations than eddy keeps in detail (100), all of them counted.
    r = pynode_run("wrong-irt", extra=("--concurrency", "150n", "--rate", "max"))
    check(r.code == 1, "every reply is dropped: no op is ok (stats)", r)
    v = violations(r, "dropped-reply")
    check(v and "matches no request" in v[0]["reason"], "reported with the reason", r)
    p = r.results["protocol"]
    check(p["violation-count"] >= 300, f"every violation counted: {p['violation-count']}", r)
    check(len(p["violations"]) == 100, "100 kept in detail, no more", r)
    r.cleanup()


def test_node_exits_early():
    r = pynode_run("exit-early")
    check(r.code == 255, "a node that exits ends the run with 255", r)
    check("crashed with exit status 3" in r.out, "the exit status is said", r)
    check("exiting early on purpose" in r.out, "the node's last stderr lines are shown", r)
    check(r.results is not None and "error" in r.results, "results kept with the error", r)
    check_no_node_alive(r)
    r.cleanup()


def test_node_ignores_init():
    r = Run(["-w", "echo", "--bin", pynode(), "--node-count", "1", "--time-limit", "1",
             "--", "--mode", "no-init"], timeout=60)
    check(r.code == 255, "no init_ok in 10 s is a broken run", r)
    check("did not respond" in r.out, "Maelstrom's message", r)
    check_no_node_alive(r)
    r.cleanup()


# ==== The unique-ids checker's equality ====

def test_integers_beyond_2_53_are_exact():
    r = pynode_run("bigint")
    check(r.code == 0, "distinct integers above 2^53 are not duplicates", r)
    w = r.results["workload"]
    check(w["acknowledged-count"] > 10 and w["duplicated-count"] == 0, "all distinct", r)
    lo, hi = w["range"]
    check(lo > 2**53 and hi > lo, "range holds the big integers", r)
    r.cleanup()


def test_mixed_id_types_are_unknown():
    r = pynode_run("mixed")
    check(r.code == 2, "string and integer IDs give unknown, as Maelstrom's checker does", r)
    w = r.results["workload"]
    check(w["valid?"] == "unknown", "workload unknown", r)
    check("string" in w["error"] and "integer" in w["error"], "the types are named", r)
    check("Errors occurred during analysis" in r.out, "Maelstrom's unknown verdict line", r)
    r.cleanup()


# ==== Bad arguments, missing binaries, no orphans ====

def run_bad(args):
    p = subprocess.run([eddy_bin()] + args, capture_output=True, text=True, timeout=30)
    return p.returncode, p.stderr


def test_bad_flags():
    base = ["test", "-w", "echo", "--bin", node_bin()]
    cases = [
        (base + ["--rate", "-1"], "--rate"),
        (base + ["--rate", "fast"], "--rate"),
        (base + ["--node-count", "0"], "--node-count"),
        (base + ["--time-limit", "0"], "--time-limit"),
        (base + ["--latency", "-5"], "--latency"),
        (base + ["--latency-dist", "gaussian"], "--latency-dist"),
        (base + ["--nemesis", "partition,meteor"], "--nemesis"),
        (base + ["--nemesis-interval", "0"], "--nemesis-interval"),
        (base + ["--concurrency", "x3"], "--concurrency"),
        (base + ["--availability", "2"], "--availability"),
        (base + ["--seed", "-3"], "--seed"),
        (["test", "-w", "lin-kv", "--bin", node_bin()], "--workload"),
        (["test", "-w", "echo"], "--bin"),
        (["test", "--frobnicate", "-w", "echo", "--bin", node_bin()], "--frobnicate"),
        (base + ["--rate"], "--rate"),
        (["frobnicate"], "frobnicate"),
        ([], "usage"),
    ]
    for args, word in cases:
        code, err = run_bad(args)
        check(code == 254, f"{args}: exit {code}, want 254; stderr {err!r}")
        check(word in err, f"{args}: the message should name {word}: {err!r}")
        if word != "usage":
            check(err.count("\n") == 1, f"{args}: one line, got {err!r}")


def test_missing_binary():
    r = Run(["-w", "echo", "--bin", "/nonexistent/node"])
    check(r.code == 255, "a missing binary is a broken run", r)
    check("/nonexistent/node" in r.err and "No such file" in r.err, "a clear message", r)
    with tempfile.NamedTemporaryFile() as f:
        r2 = Run(["-w", "echo", "--bin", f.name])
        check(r2.code == 255 and "not executable" in r2.err, "not executable", r2)
        r2.cleanup()
    r.cleanup()


def test_no_orphans_even_escaped():
    r = pynode_run("fork-child", workload="echo", extra=("--concurrency", "1"))
    check(r.code in (0, 1), "the run completes", r)
    children = []
    for name in r.results["nodes"]:
        children += [int(x) for x in re.findall(r"child pid (\d+)", r.node_log(name))]
    check(len(children) == 2, "each node forked a child (which left the process group)", r)
    for pid in children:
        check(not alive(pid), f"forked child {pid} outlived eddy", r)
    check(r.results["eddy"]["orphans-killed"] >= 2, "eddy says it killed them", r)
    check_no_node_alive(r)
    r.cleanup()


def test_help_lists_every_flag():
    p = subprocess.run([eddy_bin(), "test", "--help"], capture_output=True, text=True)
    check(p.returncode == 0, "eddy test --help exits 0")
    for flag in ["--workload", "--bin", "--node-count", "--time-limit", "--rate", "--concurrency",
                 "--latency", "--latency-dist", "--nemesis", "--nemesis-interval",
                 "--availability", "--log-stderr", "--log-net-send", "--log-net-recv", "--seed",
                 "--store", "--scenario", "--junit"]:
        check(flag in p.stdout, f"--help lists {flag}")
    p = subprocess.run([eddy_bin(), "--help"], capture_output=True, text=True)
    check(p.returncode == 0 and "test" in p.stdout and "matrix" in p.stdout, "eddy --help")


def test_log_flags():
    r = Run(["-w", "echo", "--bin", pynode(), "--node-count", "2", "--time-limit", "0.5",
             "--rate", "20", "--log-stderr", "--log-net-send", "--log-net-recv"])
    check(r.code == 0, "valid", r)
    check(re.search(r"^n0: pynode n0 pid \d+", r.err, re.M), "--log-stderr copies node stderr", r)
    check(re.search(r'^eddy: :send \{"id":\d+,"src":"c\d+","dest":"n', r.err, re.M),
          "--log-net-send prints client requests", r)
    check(re.search(r'^eddy: :send .*"type": "relay"', r.err, re.M),
          "and inter-node messages", r)
    check(re.search(r"^eddy: :recv ", r.err, re.M), "--log-net-recv prints deliveries", r)
    quiet = Run(["-w", "echo", "--bin", pynode(), "--node-count", "2", "--time-limit", "0.5",
                 "--rate", "20"])
    check(":send" not in quiet.err and "pynode n0 pid" not in quiet.err, "silent by default",
          quiet)
    r.cleanup()
    quiet.cleanup()


def test_progress_bar_only_on_a_terminal():
    import pty
    import select
    master, slave = pty.openpty()
    store = tempfile.mkdtemp(prefix="eddy-e2e-")
    p = subprocess.Popen([eddy_bin(), "test", "--store", store, "-w", "unique-ids", "--bin",
                          node_bin(), "--node-count", "2", "--time-limit", "1.5", "--rate", "500",
                          "--nemesis", "partition", "--nemesis-interval", "0.2"],
                         stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break  # the terminal closed: eddy is gone
        if not chunk:
            break
        seen += chunk
    out, _ = p.communicate(timeout=30)
    os.close(master)
    text = seen.decode(errors="replace")
    check(p.returncode == 0, f"valid run: {out}")
    check("\r\x1b[K[" in text and "ops/s" in text, f"a bar on the terminal: {text[-300:]!r}")
    check(re.search(r"\d+\.\d/2s", text) and "ok " in text, "time against the limit, counts")
    check("faults: partition" in text or "faults: none" in text, "the faults in force")
    # Without --no-progress, but with stderr a pipe: no bar.
    q = subprocess.run([eddy_bin(), "test", "--store", store, "-w", "unique-ids", "--bin",
                        node_bin(), "--node-count", "2", "--time-limit", "0.5", "--rate", "50"],
                       capture_output=True, text=True, timeout=60)
    check(q.returncode == 0, f"valid: {q.stdout}")
    check("\x1b[K" not in q.stderr and "ops/s" not in q.stderr,
          f"nothing when not a terminal: {q.stderr!r}")
    shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    main(globals())
