#!/usr/bin/env python3
"""End-to-end tests of eddy against hostile nodes, interruptions and broken storage.

Each test_* function is one ctest test. Waits poll a condition with a deadline; none sleeps for
a fixed time in the hope that something has happened.
"""
import json
import os
import re
import resource
import signal
import subprocess
import tempfile
import time

from eddytest import (Run, alive, check, check_no_node_alive, eddy_bin, main, node_bin,
                      pynode)
import eddytest

# eddy's own peak RSS must stay far below this whatever a node does.
RSS_LIMIT_KB = 200 * 1024


def hostile(mode, limit=2, extra=()):
    start = time.monotonic()
    r = Run(["-w", "unique-ids", "--bin", pynode(), "--node-count", "2", "--time-limit",
             str(limit), "--rate", "200", *extra, "--", "--mode", mode], timeout=90)
    r.elapsed = time.monotonic() - start
    return r


def bounded_and_on_time(r, limit=2):
    check(r.results is not None, "results.json written", r)
    check(r.results["eddy"]["max-rss-kb"] < RSS_LIMIT_KB,
          f"eddy's memory stayed bounded ({r.results['eddy']['max-rss-kb']} KB)", r)
    # The time limit, then at most the 5 s client timeout, then teardown.
    check(r.elapsed < limit + 5 + 5, f"finished on time ({r.elapsed:.1f} s)", r)
    check_no_node_alive(r)


def test_node_floods_stdout():
    r = hostile("flood")
    check(r.code == 1, "a flood of garbage makes the run invalid", r)
    check(all(n["muted"] for n in r.results["nodes"].values()), "both nodes muted", r)
    check(any(n["lines-ignored-after-mute"] > 1000 for n in r.results["nodes"].values()),
          "the flood was drained and counted, not buffered", r)
    bounded_and_on_time(r)
    r.cleanup()


def test_node_never_reads_stdin():
    r = hostile("no-read", extra=("--concurrency", "20n"))
    check(r.code == 1, "no answers: invalid", r)
    check(r.results["stats"]["info-count"] > 0 and r.results["stats"]["ok-count"] == 0,
          "every op timed out", r)
    bounded_and_on_time(r)
    r.cleanup()


def test_node_writes_100_mb_line():
    r = hostile("huge-line")
    check(r.code == 1, "a line over the limit makes the run invalid", r)
    v = [x for x in r.results["protocol"]["violations"] if "longer than" in x["reason"]]
    check(v and v[0]["line-length"] == 0 and "104857600" in v[0]["reason"],
          "the 100 MB line is reported with its length", r)
    bounded_and_on_time(r)
    r.cleanup()


def test_stdin_queue_stops_at_its_maximum():
    # n0 sends n1 20 MB while n1 never reads: eddy's 8 MiB queue for n1 fills, the rest is
    # counted as not delivered, and eddy's memory stays bounded.
    r = hostile("spam")
    n1 = r.results["nodes"]["n1"]
    check(n1["messages-not-delivered"] > 5000, f"drops counted: {n1}", r)
    check(n1["stdin-dropped"] > 5000, "at the queue's maximum", r)
    bounded_and_on_time(r)
    r.cleanup()


def test_node_log_stops_at_its_maximum():
    r = Run(["-w", "unique-ids", "--bin", pynode(), "--node-count", "1", "--time-limit", "1",
             "--rate", "20", "--", "--mode", "chatty"], env={"EDDY_NODE_LOG_MAX": "3000000"})
    check(r.code == 0, "chatter is not a fault", r)
    size = os.path.getsize(os.path.join(r.dir, "node-logs", "n0.log"))
    check(3000000 <= size <= 3000100, f"the log stops at its maximum: {size} bytes", r)
    check(r.node_log("n0").endswith("[eddy: log truncated at its size limit]\n"), "and says so", r)
    check(r.results["nodes"]["n0"]["log-truncated"] is True, "results say so", r)
    r.cleanup()


def test_node_closes_stdout():
    r = hostile("close-stdout")
    check(r.code == 1, "no answers: invalid", r)
    check(all(n["stdout-closed"] for n in r.results["nodes"].values()),
          "eddy says each node closed its stdout while running", r)
    bounded_and_on_time(r)
    r.cleanup()


def test_node_ignores_sigterm():
    r = hostile("ignore-term")
    check(r.code == 0, "SIGTERM is never relied on: nodes get SIGKILL, as in Maelstrom", r)
    bounded_and_on_time(r)
    r.cleanup()


def test_node_dies_during_init():
    r = hostile("die-in-init")
    check(r.code == 255, "dying during init breaks the run", r)
    check("before answering init" in r.out and "dying during init on purpose" in r.out,
          "the summary says when, and quotes the node's last words", r)
    check_no_node_alive(r)
    r.cleanup()


# ==== Interruptions ====

def node_pids_of(pid):
    """eddy-node processes whose parent is pid."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if int(fields[1]) == pid and b"eddy-node" in cmd:
            out.append(int(entry))
    return out


def start_long_run(store, nodes=3):
    p = subprocess.Popen([eddy_bin(), "test", "--store", store, "--no-progress", "-w",
                          "unique-ids", "--bin", node_bin(), "--node-count", str(nodes),
                          "--time-limit", "600", "--rate", "2000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    pids = []
    history = None
    while time.monotonic() < deadline:
        pids = node_pids_of(p.pid)
        latest = os.path.join(store, "latest", "history.jsonl")
        if len(pids) == nodes and os.path.exists(latest) and os.path.getsize(latest) > 0:
            history = latest
            break
        if p.poll() is not None:
            break
        time.sleep(0.05)  # polling a condition, with a deadline
    check(history is not None, f"the run got going: {p.poll()} {pids}")
    return p, pids


def wait_exit(p, seconds):
    try:
        out, err = p.communicate(timeout=seconds)
        return p.returncode, out, err
    except subprocess.TimeoutExpired:
        p.kill()
        raise AssertionError(f"eddy did not exit within {seconds} s")


def test_sigint_stops_cleanly():
    with tempfile.TemporaryDirectory() as store:
        p, pids = start_long_run(store)
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        code, out, err = wait_exit(p, 15)
        check(time.monotonic() - t0 < 10, "exit within a few seconds")
        check(code == 130, f"exit status 128+SIGINT, got {code}: {err}")
        with open(os.path.join(store, "latest", "results.json")) as f:
            r = json.load(f)
        check(r["interrupted"] is True and r["valid?"] == "unknown", "marked interrupted")
        check(r["stats"]["count"] > 0, "what ran is kept")
        with open(os.path.join(store, "latest", "history.jsonl")) as f:
            lines = f.read().splitlines()
        check(len(lines) > 0, "history kept")
        json.loads(lines[-1])  # flushed whole: the last line is complete JSON
        check("interrupted" in out, f"the summary says so: {out}")
        # The figures are over the client phase that ran, not over the 600 s asked for.
        m = re.search(r"\) in ([0-9.]+) s;.*\nRate: ([0-9.]+) ops/s", out)
        check(m, f"the summary's Ops and Rate lines: {out}")
        ran, rate = float(m.group(1)), float(m.group(2))
        check(0 < ran < time.monotonic() - t0 + 60, f"ran {ran} s, not the time limit: {out}")
        check(rate > 0 and abs(r["stats"]["count"] / rate - ran) <= 0.06,
              f"rate {rate} = ops / {ran} s: {out}")
        ops_s = r["latency"]["ops-per-second"]
        check(abs(ops_s - rate) <= 0.1 + 0.01 * rate, f"results.json agrees: {ops_s}")
        for pid in pids:
            check(not alive(pid), f"node {pid} outlived eddy")


def test_sigterm_stops_cleanly():
    with tempfile.TemporaryDirectory() as store:
        p, pids = start_long_run(store)
        p.send_signal(signal.SIGTERM)
        code, out, err = wait_exit(p, 15)
        check(code == 143, f"exit status 128+SIGTERM, got {code}: {err}")
        with open(os.path.join(store, "latest", "results.json")) as f:
            check(json.load(f)["interrupted"] is True, "marked interrupted")
        for pid in pids:
            check(not alive(pid), f"node {pid} outlived eddy")


def test_second_sigint_ends_at_once():
    with tempfile.TemporaryDirectory() as store:
        # Many nodes make the orderly stop long enough to interrupt it.
        p, pids = start_long_run(store, nodes=40)
        p.send_signal(signal.SIGINT)
        p.send_signal(signal.SIGINT)
        code, out, err = wait_exit(p, 15)
        check(code == 130, f"exit status 128+SIGINT, got {code}: {err}")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(alive(pid) for pid in pids):
            time.sleep(0.05)  # SIGKILLed nodes are reaped by init: poll until they are
        for pid in pids:
            check(not alive(pid), f"node {pid} outlived eddy")


def test_sigkill_of_eddy_leaves_no_node():
    with tempfile.TemporaryDirectory() as store:
        p, pids = start_long_run(store)
        p.kill()
        p.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(alive(pid) for pid in pids):
            time.sleep(0.05)
        for pid in pids:
            check(not alive(pid), f"node {pid} outlived a SIGKILLed eddy (PR_SET_PDEATHSIG)")


# ==== Lines cut by eddy's own SIGKILL ====

# A node that writes its third reply in two pieces and never the second: the first incarnation
# of n0 (a marker file tells it apart from the next) and every n1. Killed by a kill fault (n0)
# or at teardown (n1), each leaves an unterminated last line that eddy's SIGKILL cut.
HALF_LINE_NODE = r"""#!/usr/bin/env python3
import json, os, sys, time
marker = sys.argv[1]
node, count = None, 0
for line in sys.stdin:
    msg = json.loads(line)
    body = msg["body"]
    reply = {"src": msg["dest"], "dest": msg["src"], "body": {"in_reply_to": body["msg_id"]}}
    if body["type"] == "init":
        node = body["node_id"]
        reply["body"]["type"] = "init_ok"
    else:
        count += 1
        reply["body"].update(type="generate_ok", id=f"{node}-{os.getpid()}-{count}")
    text = json.dumps(reply) + "\n"
    if count == 3 and (node == "n1" or not os.path.exists(marker)):
        if node == "n0":
            open(marker, "w").close()
        sys.stdout.write(text[:20])
        sys.stdout.flush()
        time.sleep(0.005)
        while True:
            time.sleep(3600)
    sys.stdout.write(text)
    sys.stdout.flush()
"""


def executable(d, name, text):
    """Writes text (str or bytes) to d/name, executable, and returns its path."""
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.write(text.encode() if isinstance(text, str) else text)
    os.chmod(path, 0o755)
    return path


def test_a_line_cut_by_eddys_kill_is_counted_not_a_violation():
    with tempfile.TemporaryDirectory() as d:
        node = executable(d, "half.py", HALF_LINE_NODE)
        scen = os.path.join(d, "kill.json")
        with open(scen, "w") as f:
            json.dump({"workload": "unique-ids", "node-count": 2, "time-limit": 2,
                       "rate": 40, "faults": [{"at": 1, "f": "kill", "nodes": ["n0"]},
                                              {"at": 1.2, "f": "start"}]}, f)
        r = Run(["--scenario", scen, "--bin", node, "--seed", "5", "--",
                 os.path.join(d, "marker")], timeout=120)
    check(r.results is not None, "results.json written", r)
    check(r.results["protocol"]["valid?"] is True and r.code == 0,
          "a line cut by eddy's own SIGKILL is no violation", r)
    for name in ("n0", "n1"):
        cut = r.results["nodes"][name].get("stdout-cut-by-kill")
        check(cut and cut["count"] == 1 and cut["bytes"] == 20 and len(cut["last"]) == 20,
              f"{name}: the cut line is counted and shown: {cut}", r)
    check(r.results["nodes"]["n0"]["incarnations"] == 2, "n0 was killed and restarted", r)
    check("2 unterminated last lines cut by eddy's SIGKILL" in r.out, "the summary says so", r)
    check_no_node_alive(r)
    r.cleanup()


# ==== Bytes that are not UTF-8, IDs no buffer may cut ====

# n0 returns these IDs first (raw bytes on its stdout), then unique ones; n1 prints a line of
# bytes that are not UTF-8, with a NUL, after its init_ok.
BYTES_NODE = rb"""#!/usr/bin/env python3
import json, sys
LONG = b'"' + b"L" * 600 + b'"'
IDS = [b'"x\xf1"', b'"x\xf2"', b'"x\xff1"', b'"x\xff2"', LONG, LONG,
       b'"a\\u0000b"', b'"a\\u0000b"', b'"\\ud800"', b'"\\ud800"']
out = sys.stdout.buffer
node, count = None, 0
for line in sys.stdin.buffer:
    msg = json.loads(line)
    body = msg["body"]
    head = b'{"src":"%s","dest":"%s","body":{"in_reply_to":%d,' % (
        msg["dest"].encode(), msg["src"].encode(), body["msg_id"])
    if body["type"] == "init":
        node = body["node_id"]
        out.write(head + b'"type":"init_ok"}}\n')
        if node == "n1":
            out.write(b"\x00\xff\xfe log line\n")
    else:
        id = IDS[count] if count < len(IDS) else b'"u-%d"' % count
        count += 1
        out.write(head + b'"type":"generate_ok","id":' + id + b"}}\n")
    out.flush()
"""


def strict_utf8(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8")  # raises on any byte that is not UTF-8


def test_every_output_is_utf8_and_ids_are_read_as_maelstrom_reads_them():
    import xml.etree.ElementTree as ET
    with tempfile.TemporaryDirectory() as d:
        node = executable(d, "bytes.py", BYTES_NODE)
        junit = os.path.join(d, "junit.xml")
        r = Run(["-w", "unique-ids", "--bin", node, "--node-count", "2", "--time-limit", "1",
                 "--rate", "60", "--seed", "9", "--junit", junit], timeout=120)
        check(r.code == 1, "invalid: duplicates and a protocol violation", r)
        results = json.loads(strict_utf8(os.path.join(r.dir, "results.json")))
        ET.fromstring(strict_utf8(os.path.join(r.dir, "report.html")))
        ET.fromstring(strict_utf8(junit))
    for line in strict_utf8(os.path.join(r.dir, "history.jsonl")).splitlines():
        json.loads(line)
    dups = [json.loads(l)
            for l in strict_utf8(os.path.join(r.dir, "duplicates.jsonl")).splitlines()]
    w = results["workload"]
    # As Maelstrom's UTF-8 reader sees them: x\xf1 and x\xf2 are both "x\ufffd", one ID.
    want = {"x\ufffd": 2, "L" * 600: 2, "a\x00b": 2, "\ud800": 2}
    check(w["duplicated"] == want, f"the duplicated map, keys whole: {w['duplicated']}", r)
    check(w["duplicated-count"] == 4, "x\\xff1 and x\\xff2 stay two IDs", r)
    check(sorted(x["id"] for x in dups) == sorted(want), f"duplicates.jsonl: {dups}", r)
    check(results["nodes"]["n0"]["stdout-lines-not-utf8"] == 4, "n0's lines counted", r)
    v = [x for x in results["protocol"]["violations"] if x["node"] == "n1"]
    check(v and v[0]["line"] == "\x00\ufffd\ufffd log line" and v[0]["line-length"] == 16,
          f"n1's line as Maelstrom would read it, NUL kept: {v}", r)
    check("line: \ufffd\ufffd\ufffd log line" in r.out, f"the summary shows it too: {r.out}", r)
    r.cleanup()


# ==== Descendants that hop sessions ====

# A node whose init starts two hopping chains and a line of 20 sleeping processes, each in a
# session of its own, their pids running down where the kernel allows it (tests/e2e/hopper.c);
# then it answers as a correct node does. Eight passes over /proc that killed eddy's children
# by pid left the bottom of the line alive.
HOPPER_NODE = r"""#!/usr/bin/env python3
import json, os, subprocess, sys
hopper, name, count = sys.argv[1:4]
for _ in range(2):
    subprocess.Popen([hopper, name, "hop", count])
subprocess.Popen([hopper, name, "deep", "20"])
n = 0
for line in sys.stdin:
    msg = json.loads(line)
    body = msg["body"]
    n += 1
    out = {"in_reply_to": body["msg_id"]}
    if body["type"] == "init":
        out["type"] = "init_ok"
    else:
        out.update(type="generate_ok", id=f"{os.getpid()}-{n}")
    print(json.dumps({"src": msg["dest"], "dest": msg["src"], "body": out}), flush=True)
"""

GENERATIONS = 2000


def named_alive(name):
    out = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/comm") as f:
                if f.read().strip() == name and alive(int(entry)):
                    out.append(int(entry))
        except (OSError, ValueError):
            continue
    return out


def generations(path):
    import struct
    try:
        with open(path, "rb") as f:
            data = f.read(16)
        return struct.unpack("=QQ", data)[0] if len(data) == 16 else 0
    except OSError:
        return 0


def stop_hoppers(path, name):
    """Ends chains that outlived eddy (a failing test leaves nothing behind)."""
    import mmap
    with open(path, "r+b") as f:
        m = mmap.mmap(f.fileno(), 16)
        m[8:16] = (1).to_bytes(8, "little")
        m.close()
    deadline = time.monotonic() + 10
    while named_alive(name) and time.monotonic() < deadline:
        for pid in named_alive(name):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)  # polling a condition, with a deadline


def run_hoppers(env=None):
    """Starts eddy with the hopper node, waits for thousands of generations, stops eddy with
    SIGTERM; the results, eddy's exit status and the hoppers alive once eddy has exited."""
    name = f"ehop{os.getpid() % 100000}"
    hopper = os.path.join(eddytest.BUILD, "tests", "hopper")
    with tempfile.TemporaryDirectory() as d:
        node = executable(d, "node.py", HOPPER_NODE)
        count = os.path.join(d, "count")
        store = os.path.join(d, "store")
        p = subprocess.Popen([eddy_bin(), "test", "--store", store, "--no-progress", "-w",
                              "unique-ids", "--bin", node, "--node-count", "1", "--time-limit",
                              "600", "--rate", "20", "--", hopper, name, count],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, **(env or {})))
        deadline = time.monotonic() + 150
        while generations(count) < GENERATIONS and p.poll() is None:
            check(time.monotonic() < deadline, f"{generations(count)} generations in 150 s")
            time.sleep(0.05)  # polling a condition, with a deadline
        gens = generations(count)
        p.send_signal(signal.SIGTERM)
        code, out, err = wait_exit(p, 60)
        left = named_alive(name)
        if os.path.exists(count):
            stop_hoppers(count, name)
        with open(os.path.join(store, "latest", "results.json")) as f:
            results = json.load(f)
    return results, code, gens, left, out + err


def test_descendants_hopping_sessions_die_with_eddy():
    results, code, gens, left, text = run_hoppers()
    check(code == 143, f"SIGTERM: exit 143, got {code}: {text}")
    check(gens >= GENERATIONS, f"the race was run {gens} times")
    check(not left, f"{len(left)} hoppers outlived eddy: {text}")
    d = results["eddy"]["descendants"]
    check(d["left"] == 0 and d["reaped"] >= 20, f"eddy says so: {d}")
    check(d["seconds"] < 5 + 1, f"bounded: {d}")


def test_descendants_without_a_cgroup_are_killed_or_reported():
    results, code, gens, left, text = run_hoppers({"EDDY_NO_CGROUP": "1"})
    d = results["eddy"]["descendants"]
    check("EDDY_NO_CGROUP" in d.get("no-cgroup", ""), f"no cgroup, and why: {d}")
    check(gens >= GENERATIONS, f"the race was run {gens} times")
    # The line of 20 goes in one round; a chain could outrun the rounds, and then eddy must
    # say so: never "0 left" with hoppers alive.
    check(d["left"] > 0 or not left, f"{len(left)} hoppers outlived eddy, {d['left']} reported")
    check(d["seconds"] < 5 + 1, f"bounded: {d}")


# ==== Descriptors ====

def with_nofile(soft, hard):
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_node_count_beyond_the_descriptor_limit_is_refused_up_front():
    with tempfile.TemporaryDirectory() as store:
        t0 = time.monotonic()
        p = subprocess.run([eddy_bin(), "test", "-w", "echo", "--bin", node_bin(), "--store",
                            store, "--node-count", "4096", "--time-limit", "1"],
                           capture_output=True, text=True, timeout=60,
                           preexec_fn=with_nofile(1024, 1024))
        check(p.returncode == 254, f"exit 254 before any node: {p.returncode} {p.stderr}")
        check("--node-count" in p.stderr and "1024" in p.stderr and "at most 192 nodes" in p.stderr
              and p.stderr.count("\n") == 1, f"one line naming the flag and limit: {p.stderr}")
        check(not os.path.exists(os.path.join(store, "latest")), "no run started")
        check(time.monotonic() - t0 < 30, "at once")


def test_node_count_above_the_soft_descriptor_limit_runs():
    """60 nodes need about 364 descriptors: eddy raises its soft limit of 256 to what it needs,
    and its nodes still get the limit eddy was given."""
    with tempfile.TemporaryDirectory() as d:
        wrapper = executable(d, "node.sh", f"#!/bin/sh\necho \"nofile $(ulimit -Sn)\" >&2\n"
                                           f"exec {node_bin()} \"$@\"\n")
        store = os.path.join(d, "store")
        p = subprocess.run([eddy_bin(), "test", "--store", store, "--no-progress", "-w", "echo",
                            "--bin", wrapper, "--node-count", "60", "--time-limit", "1",
                            "--rate", "20"], capture_output=True, text=True, timeout=120,
                           preexec_fn=with_nofile(256, 4096))
        check(p.returncode == 0, f"valid with 60 nodes: {p.returncode} {p.stdout} {p.stderr}")
        logs = os.path.join(store, "latest", "node-logs")
        for name in ("n0", "n59"):
            with open(os.path.join(logs, name + ".log")) as f:
                check("nofile 256\n" in f.read(), f"{name} got eddy's own soft limit")


# ==== Storage ====

def test_unwritable_store_fails_before_the_run():
    for store in ("/proc/eddy-store", "/etc/passwd/store"):
        p = subprocess.run([eddy_bin(), "test", "-w", "echo", "--bin", node_bin(), "--store",
                            store], capture_output=True, text=True, timeout=30)
        check(p.returncode == 254, f"{store}: exit {p.returncode}: {p.stderr}")
        check("cannot create" in p.stderr and store.split("/")[1] in p.stderr,
              f"{store}: a clear message: {p.stderr!r}")


def limit_file_size():
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))


def test_full_disk_keeps_the_results():
    """A file-size limit makes history.jsonl hit EFBIG after 1 MiB, as a full disk would. At
    10,000 ops/s the checker's own spill file stays in memory (its first 16 MiB), so only the
    history is hit (test_bounded.py hits the checker's)."""
    with tempfile.TemporaryDirectory() as store:
        p = subprocess.run([eddy_bin(), "test", "--store", store, "--no-progress", "-w",
                            "unique-ids", "--bin", node_bin(), "--node-count", "2",
                            "--time-limit", "2", "--rate", "10000", "--concurrency", "10n"],
                           capture_output=True, text=True, timeout=60, preexec_fn=limit_file_size)
        check(p.returncode == 0, f"the run itself is valid: {p.returncode} {p.stdout} {p.stderr}")
        with open(os.path.join(store, "latest", "results.json")) as f:
            r = json.load(f)
        err = r["eddy"].get("history-error", "")
        check("incomplete" in err and "File too large" in err, f"history error said: {err!r}")
        check(r["workload"]["acknowledged-count"] > 10000, "the checker saw every op")
        check("History: incomplete" in p.stdout, "the summary says so")



def test_full_disk_during_duplicates_keeps_the_verdict():
    """duplicates.jsonl hitting the same 1 MiB limit: one message, and results.json still holds
    the exact count and the first 1,000 duplicates."""
    with tempfile.TemporaryDirectory() as store:
        p = subprocess.run([eddy_bin(), "test", "--store", store, "--no-progress", "-w",
                            "unique-ids", "--bin", node_bin(), "--node-count", "2",
                            "--time-limit", "1", "--rate", "max", "--concurrency", "20n", "--no-history",
                            "--", "--ids", "counter"],
                           capture_output=True, text=True, timeout=60, preexec_fn=limit_file_size)
        check(p.returncode == 1, f"the run is invalid: {p.returncode} {p.stdout} {p.stderr}")
        msgs = [l for l in p.stderr.splitlines() if "duplicates.jsonl" in l]
        check(len(msgs) == 1 and "File too large" in msgs[0], f"one clear message: {msgs}")
        with open(os.path.join(store, "latest", "results.json")) as f:
            w = json.load(f)["workload"]
        check(w["duplicated-count"] > 5000, f"load was real: {w['duplicated-count']}")
        check(len(w["duplicates"]) == 1000, "results.json keeps the first 1,000")
        check("Analysis invalid!" in p.stdout, "the verdict is printed")

if __name__ == "__main__":
    main(globals())
