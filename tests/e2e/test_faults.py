#!/usr/bin/env python3
"""End-to-end tests of eddy's faults, scenarios, reproducibility and detection.

Each test_* function is one ctest test. Scenario runs are shortened with --time-limit; the
20-seed sweep with full-length scenarios is tests/e2e/sweep.sh, not a test.
"""
import json
import os
import re
import subprocess
import tempfile

from eddytest import (BUILD, Run, check, check_no_node_alive, eddy_bin, main, node_bin, pynode,
                      scenario)
import eddytest

HERE = os.path.dirname(os.path.abspath(__file__))


def all_faults():
    return os.path.join(HERE, "all-faults.json")


def events(r, kind=None):
    return [e for e in r.results["faults"]["events"] if kind is None or e["kind"] == kind]


# ==== Every fault kind, on eddy-node and on a node in Python ====

def check_every_kind_injected(r, expect_traffic):
    for kind in ("partition", "clock", "kill", "pause", "loss", "duplicate"):
        applied = [e for e in events(r, kind) if e["applied"]]
        check(applied, f"{kind}: no event applied", r)
    for name, c in r.results["faults"]["clocks"].items():
        check(c["controlled"] and c["library-loaded"], f"{name}: clock library loaded", r)
        check(c["reads"] > 0, f"{name}: the node read its clock through the library", r)
        offsets = [o for _, o in c["offsets"]]
        check(offsets, f"{name}: offsets recorded over time", r)
    n0 = [o for _, o in r.results["faults"]["clocks"]["n0"]["offsets"]]
    check(min(n0) < -3_000_000, "n0's clock went back an hour", r)
    n1 = r.results["nodes"]["n1"]
    check(n1["incarnations"] == 2 and len(n1["pids"]) == 2, "n1 was killed and restarted", r)
    net = r.results["net"]["eddy-faults"]
    if expect_traffic:
        check(net["lost"] > 0, "inter-node messages were lost", r)
        check(net["duplicated"] > 0, "inter-node messages were duplicated", r)
        check(net["partitioned"] > 0, "inter-node messages were cut by the partition", r)
    else:
        # eddy-node never talks to other nodes: nothing to lose, and eddy says so (0).
        check(net["lost"] == 0 and net["duplicated"] == 0, "no inter-node traffic", r)
    hist = r.history()
    nemesis = [o for o in hist if o["process"] == "nemesis"]
    check(len(nemesis) == len(events(r)), "every fault event is in the history", r)


def test_python_node_every_fault():
    r = Run(["--scenario", all_faults(), "--bin", pynode(), "--seed", "4"])
    check(r.code in (0, 1), "the run completes", r)
    check_every_kind_injected(r, expect_traffic=True)
    # pynode speaks the protocol. Under kills and pauses a relayed echo can come back after its
    # op timed out and its worker's next op closed the client; Maelstrom mutes a node for that
    # too (node-not-found), so it is the one violation a correct node can cause here.
    bad = [v for v in r.results["protocol"]["violations"] if "has been closed" not in v["reason"]]
    check(bad == [], "pynode speaks the protocol", r)
    check_no_node_alive(r)
    r.cleanup()


def test_eddy_node_every_fault():
    r = Run(["--scenario", all_faults(), "-w", "unique-ids", "--bin", node_bin(), "--seed", "4"])
    check(r.code == 0, "eddy-node's IDs stay unique under every fault", r)
    check_every_kind_injected(r, expect_traffic=False)
    check_no_node_alive(r)
    r.cleanup()


def test_static_node_clock_not_applied_under_preload_only():
    """Forced onto the preload route, a static binary gets no clock fault: never reported as
    injected, and the run's verdict is unknown, not valid, unless that is explicitly allowed."""
    static = os.path.join(eddytest.BUILD, "tests", "eddy-node-static")
    args = ["--scenario", all_faults(), "-w", "unique-ids", "--bin", static, "--seed", "4",
            "--clock-via", "preload"]
    junit = os.path.join(tempfile.mkdtemp(prefix="eddy-junit-"), "j.xml")
    r = Run(args + ["--junit", junit])
    check(r.code == 2, "a run that could not inject its clock faults is unknown (exit 2)", r)
    with open(junit) as f:
        xml = f.read()
    check('name="faults">' in xml and "faults could not be applied" in xml and
          'errors="1"' in xml, f"JUnit says so as an error: {xml[-600:]}", r)
    os.unlink(junit)
    os.rmdir(os.path.dirname(junit))
    clock = events(r, "clock")
    check(clock and not any(e["applied"] for e in clock),
          "no clock fault may be reported as injected into a static binary", r)
    check(all("did not load libeddyclock.so" in e["detail"] for e in clock), "and why", r)
    for name, c in r.results["faults"]["clocks"].items():
        check(not c["library-loaded"] and c["reads"] == 0, f"{name}: library not loaded", r)
        check(c["route"] == "preload" and c["route-reason"] == "--clock-via preload",
              f"{name}: the forced route is recorded", r)
    check(r.results["valid?"] == "unknown", "valid? is unknown", r)
    check(r.results["workload"]["valid?"] is True, "the IDs themselves were fine", r)
    # The clock events, and the restart whose clock was to replay its first start.
    into_past = [e for e in events(r, "kill")
                 if not e["applied"] and "restarted, but clock faults cannot reach" in e["detail"]]
    check(len(into_past) == 1, "the restart's clock could not be reached either", r)
    check(r.results["faults"]["unreached-count"] == len(clock) + len(into_past),
          "every unreached event counted", r)
    last = r.out.strip().splitlines()[-1]
    check(last.startswith("Errors occurred during analysis, but no anomalies found.") and
          re.search(r"clock faults could not reach [23] of 3 nodes \(n0, n1", last) and
          "did not load libeddyclock.so" in last,
          f"the verdict line gives the reason: {last}", r)
    check("could not be applied" in r.out, "the summary says so", r)
    r.cleanup()

    r = Run(args + ["--allow-unapplied-faults"])
    check(r.code == 0, "allowed: the run is valid", r)
    last = r.out.strip().splitlines()[-1]
    check(last.startswith("Everything looks good!") and
          f"({len(clock) + len(into_past)} faults not applied, allowed: clock faults could not "
          "reach" in last,
          f"with the count on the verdict line: {last}", r)
    check(r.results["faults"]["unreached-allowed"] is True, "results.json says so", r)
    r.cleanup()


def test_static_node_gets_every_clock_fault_through_eddys_vdso():
    static = os.path.join(eddytest.BUILD, "tests", "eddy-node-static")
    r = Run(["--scenario", all_faults(), "-w", "unique-ids", "--bin", static, "--seed", "4"])
    check(r.code == 0, "valid, with every fault applied", r)
    clock = events(r, "clock")
    check(clock and all(e["applied"] for e in clock), "every clock fault applied", r)
    for name, c in r.results["faults"]["clocks"].items():
        check(c["route"] == "vdso" and "statically linked" in c["route-reason"],
              f"{name}: eddy's vDSO, and why", r)
        check(c["vdso"] == "eddy's" and c["reads"] > 0, f"{name}: reads faked", r)
    n0 = [o for _, o in r.results["faults"]["clocks"]["n0"]["offsets"]]
    check(min(n0) < -3_000_000, "n0's clock went back an hour", r)
    check("Clocks: every node through eddy's vDSO: a statically linked program" in r.out,
          "the summary names the route", r)
    check_no_node_alive(r)
    r.cleanup()


# ==== Reproducibility ====

def test_same_seed_same_schedule():
    args = ["-w", "echo", "--bin", pynode(), "--node-count", "3", "--time-limit", "2",
            "--rate", "200", "--concurrency", "2n", "--latency", "3",
            "--latency-dist", "exponential", "--nemesis", "partition,clock,pause,loss,duplicate",
            "--nemesis-interval", "0.3", "--seed", "12345"]
    a, b = Run(args), Run(args)
    c = Run(args[:-1] + ["54321"])
    for r in (a, b, c):
        check(r.code in (0, 1), "runs complete", r)
    # A drifting clock's offset depends on the real time between events; the rest may not vary.
    plan = lambda r: [(e["f"], re.sub(r"offset now .*", "", e["detail"])) for e in events(r)]
    check(plan(a) == plan(b), f"same seed, same fault schedule:\n{plan(a)}\n{plan(b)}", a)
    check(plan(a) != plan(c), "another seed, another schedule", c)
    payloads = lambda r: [o["value"] for o in r.history() if o["type"] == "invoke"][:200]
    check(payloads(a) == payloads(b), "same seed, same workload draws", a)
    check(payloads(a) != payloads(c), "another seed, other draws", c)
    check(a.results["seed"] == 12345 and "eddy: seed 12345" in a.out.splitlines()[0],
          "the seed is printed first", a)
    for r in (a, b, c):
        r.cleanup()


# ==== Scenario files ====

def test_scenario_errors_name_field_and_position():
    cases = [
        ('{"workload": "unique-ids",\n  "time_limit": 5}', "2:3", "time_limit"),
        ('{"workload": "unique-ids", "rate": -4}', "1:36", "rate"),
        ('{"workload": "kafka"}', "1:14", "workload"),
        ('{"workload": "echo", "faults": [{"at": 1, "f": "explode"}]}', "1:", "explode"),
        ('{"workload": "echo", "faults": [{"at": 1, "f": "kill"}]}', "1:", "targets"),
        ('{"workload": "echo",\n "faults": [{"at": 1, "f": "kill", "nodes": ["n9"]}]}', "2:13:",
         "n9"),
        ('{"workload": "echo", "node-count": 3,\n "faults": [{"at": 1, "f": "pause",\n'
         ' "targets": "minority-third"}]}', "2:13:", "picks no node among 3"),
        ('{"workload": "echo", "time-limit": 5, "faults": [{"at": 9, "f": "stop-loss"}]}',
         "after", "time limit"),
        ('{"workload": "echo",, }', "1:21", "JSON"),
        ('[1, 2]', "1:1", "object"),
        ('{"workload": "echo", "random": {"weights": {"volcano": 1}}}', "1:", "volcano"),
    ]
    with tempfile.TemporaryDirectory() as d:
        for i, (text, where, word) in enumerate(cases):
            path = os.path.join(d, f"s{i}.json")
            with open(path, "w") as f:
                f.write(text)
            p = subprocess.run([eddy_bin(), "test", "--scenario", path, "--bin", node_bin()],
                               capture_output=True, text=True, timeout=30)
            check(p.returncode == 254, f"{text!r}: exit {p.returncode}, stderr {p.stderr!r}")
            check(where in p.stderr and word in p.stderr,
                  f"{text!r}: message should hold {where!r} and {word!r}: {p.stderr!r}")
            check(p.stderr.count("\n") == 1, f"one line: {p.stderr!r}")
        big = os.path.join(d, "big.json")
        with open(big, "w") as f:
            f.write('{"comment": "' + "x" * (1 << 21) + '"}')
        p = subprocess.run([eddy_bin(), "test", "--scenario", big, "--bin", node_bin()],
                           capture_output=True, text=True)
        check(p.returncode == 254 and "at most 1048576 bytes" in p.stderr,
              f"a scenario over the size limit: {p.stderr!r}")
        p = subprocess.run([eddy_bin(), "test", "--scenario", os.path.join(d, "missing.json"),
                            "--bin", node_bin()], capture_output=True, text=True)
        check(p.returncode == 254 and "missing.json" in p.stderr, "a missing scenario")


def test_flags_override_scenario():
    r = Run(["--scenario", scenario("fly-io-challenge-2.json"), "--bin", node_bin(),
             "--time-limit", "1", "--node-count", "2", "--rate", "100"])
    check(r.code == 0, "valid", r)
    e = r.results["eddy"]
    check(e["time-limit"] == 1 and e["node-count"] == 2 and e["rate"] == 100,
          "flags override the file", r)
    check(r.results["availability"]["valid?"] is True, "availability total came from the file", r)
    r.cleanup()


# ==== Every timeline event of every shipped scenario is applied ====

TARGETED = ("clock-bump", "clock-strobe", "clock-drift", "clock-set", "clock-reset", "kill",
            "pause")


def target_count(spec, n):
    return {"one": 1, "minority": n // 2, "minority-third": (n - 1) // 3,
            "majority": n // 2 + 1, "all": n}[spec]


def node_of(detail):
    """The node a per-node record names: "kill n1 (...)", "clock-bump n1: ...", "pause n1: down"."""
    return detail.split()[1].rstrip(":")


def check_timeline_applied(name):
    """Runs a shipped scenario up to just past its last timeline event (at a low rate: only the
    faults matter here) and finds every timeline event in faults.events by its "timeline" index,
    with one record per target node, each applied or saying why not."""
    path = scenario(name)
    with open(path) as f:
        timeline = json.load(f)["faults"]
    limit = max(e["at"] for e in timeline) + 0.3
    r = Run(["--scenario", path, "--bin", node_bin(), "--time-limit", f"{limit:g}",
             "--rate", "50", "--seed", "7"], timeout=180)
    check(r.code == 0, f"{name}: the default node is valid", r)
    n = len(r.results["nodes"])
    for i, ev in enumerate(timeline):
        recs = [e for e in events(r) if e.get("timeline") == i]
        what = f"{name}: timeline event {i} {ev}"
        check(recs, f"{what} is missing from faults.events", r)
        check(all(x["f"] == ev["f"] for x in recs), f"{what}: records {recs}", r)
        check(all(x["time"] >= ev["at"] * 1e9 for x in recs), f"{what}: not early: {recs}", r)
        # Not applied only with a reason: the node was down or paused already (the scenario's
        # random faults overlap its timeline), or, on a loaded machine, a restarted node had
        # not loaded the clock library yet when a clock fault came.
        for x in recs:
            check(x["applied"] or any(w in x["detail"] for w in ("already", "down", "did not load")),
                  f"{what}: not applied, for another reason: {x}", r)
        if ev["f"] not in TARGETED:
            continue
        nodes = [node_of(x["detail"]) for x in recs]
        check(len(set(nodes)) == len(nodes), f"{what}: a node twice: {nodes}", r)
        if "nodes" in ev:
            check(sorted(nodes) == sorted(ev["nodes"]), f"{what}: hit {nodes}", r)
        elif ev["targets"] == "random":
            check(1 <= len(nodes) <= n, f"{what}: hit {nodes}", r)
        else:
            check(len(nodes) == target_count(ev["targets"], n), f"{what}: hit {nodes}", r)
    hist = [o for o in r.history() if o["process"] == "nemesis"]
    check(len(hist) == len(events(r)), "every fault record is in the history", r)
    check_no_node_alive(r)
    r.cleanup()


def test_timeline_chaos():
    check_timeline_applied("chaos.json")


def test_timeline_clock_skew():
    check_timeline_applied("clock-skew.json")


def test_timeline_kill_restart():
    check_timeline_applied("kill-restart.json")


def test_timeline_partitions():
    check_timeline_applied("partitions.json")


def test_timeline_pause():
    check_timeline_applied("pause.json")


def test_timeline_restart_into_the_past():
    check_timeline_applied("restart-into-the-past.json")


def test_timeline_tests_cover_every_scenario():
    """A scenario added with a timeline needs its test_timeline_* above."""
    sdir = os.path.join(eddytest.SOURCE, "scenarios")
    for fname in sorted(os.listdir(sdir)):
        if not fname.endswith(".json"):
            continue
        with open(os.path.join(sdir, fname)) as f:
            if not json.load(f).get("faults"):
                continue
        fn = "test_timeline_" + fname[:-5].replace("-", "_")
        check(fn in globals(), f"scenarios/{fname} has a timeline but no {fn}")


def test_a_start_before_the_killed_process_is_reaped_waits_for_it():
    """A start at the very time of the kill comes before eddy can have reaped the process it
    killed: it restarts the node as soon as the process is gone, rather than not at all."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "kill-start.json")
        with open(path, "w") as f:
            json.dump({"workload": "unique-ids", "node-count": 2, "time-limit": 2, "rate": 50,
                       "faults": [{"at": 1, "f": "kill", "nodes": ["n0"]},
                                  {"at": 1, "f": "start", "restart-clock": "behind",
                                   "behind-ms": 5000}]}, f)
        r = Run(["--scenario", path, "--bin", node_bin(), "--seed", "2"])
    check(r.code == 0, "valid", r)
    check(r.results["nodes"]["n0"]["incarnations"] == 2, "n0 was started again", r)
    start = [e for e in events(r) if e.get("timeline") == 1]
    check(len(start) == 1 and start[0]["applied"] and "restart n0 (incarnation 1), clock behind"
          in start[0]["detail"], f"the start's record: {start}", r)
    check(1e9 <= start[0]["time"] < 2e9, "after the kill, and long before the end", r)
    r.cleanup()


def test_random_targets_that_pick_nobody_are_reported():
    """On one node a random kill or pause may draw "minority" (no node): it is recorded as not
    applied, never dropped in silence, so every planned event leaves a record."""
    r = Run(["-w", "unique-ids", "--bin", node_bin(), "--node-count", "1", "--nemesis",
             "kill,pause", "--nemesis-interval", "0.2", "--time-limit", "2", "--rate", "50",
             "--seed", "1"])
    check(r.code == 0, "valid", r)
    nobody = [e for e in events(r) if "picks no node among 1" in e["detail"]]
    check(nobody and not any(e["applied"] for e in nobody), "reported as not applied", r)
    check(len(events(r)) >= r.results["faults"]["planned"], "every planned event is recorded", r)
    check(f"{r.results['faults']['not-applied-count']} could not be applied" in r.out,
          "the summary counts them", r)
    r.cleanup()


def test_clock_before_1970_is_refused():
    """A bump, a set or a restart into the past that would put a clock before 1970 (which the
    clock library can only read as 0) is reported as not applied, never as done."""
    text = json.dumps({
        "workload": "unique-ids", "node-count": 2, "time-limit": 1.5, "rate": 50,
        "faults": [
            {"at": 0.2, "f": "clock-bump", "nodes": ["n0"], "delta-ms": -9e12},
            {"at": 0.3, "f": "clock-set", "nodes": ["n1"], "offset-ms": -8e12},
            {"at": 0.4, "f": "clock-bump", "nodes": ["n1"], "delta-ms": -60000},
            {"at": 0.5, "f": "kill", "nodes": ["n1"]},
            {"at": 0.7, "f": "start", "restart-clock": "behind", "behind-ms": 9e12}]})
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "epoch.json")
        with open(path, "w") as f:
            f.write(text)
        r = Run(["--scenario", path, "--bin", node_bin(), "--seed", "3"])
    check(r.code == 0, "valid", r)
    by = {e["timeline"]: e for e in events(r) if "timeline" in e and e["f"] != "start"}
    for i in (0, 1):
        check(not by[i]["applied"] and "before 1970" in by[i]["detail"], f"refused: {by[i]}", r)
    check(by[2]["applied"], f"a bump of a minute is applied: {by[2]}", r)
    start = [e for e in events(r) if e.get("timeline") == 4]
    check(any(not e["applied"] and "before 1970" in e["detail"] for e in start),
          f"the restart's clock is refused: {start}", r)
    check(any(e["applied"] and "restart n1" in e["detail"] for e in start),
          f"the node itself is restarted: {start}", r)
    for name, c in r.results["faults"]["clocks"].items():
        check(all(o > -1e10 for _, o in c["offsets"]), f"{name}'s clock stayed after 1970", r)
    r.cleanup()


# ==== Detection: each naive strategy caught by the scenario aimed at its flaw ====

def run_strategy(scen, strategy, limit):
    return Run(["--scenario", scenario(scen), "--bin", node_bin(), "--time-limit", str(limit),
                "--seed", "77", "--", "--ids", strategy], timeout=180)


def caught(scen, strategy, limit):
    r = run_strategy(scen, strategy, limit)
    check(r.code == 1, f"{strategy} must be caught by {scen}", r)
    check(r.results["workload"]["duplicated-count"] > 0, "with duplicates named", r)
    r.cleanup()


def test_caught_counter():
    caught("fly-io-challenge-2.json", "counter", 2)


def test_caught_timestamp():
    caught("fly-io-challenge-2.json", "timestamp", 2)


def test_caught_node_counter():
    caught("kill-restart.json", "node-counter", 5)


def test_caught_node_counter_time():
    caught("restart-into-the-past.json", "node-counter-time", 5)


def test_caught_snowflake():
    caught("clock-skew.json", "snowflake", 5)


def test_caught_random32():
    caught("clock-skew.json", "random32", 5)


def valid_under(scen, limit):
    r = run_strategy(scen, "eddy", limit)
    check(r.code == 0, f"the default strategy must be valid under {scen}", r)
    check_no_node_alive(r)
    r.cleanup()


def test_default_valid_fly_io_1():
    valid_under("fly-io-challenge-1.json", 3)


def test_default_valid_fly_io_2():
    valid_under("fly-io-challenge-2.json", 3)


def test_default_valid_partitions():
    valid_under("partitions.json", 5)


def test_default_valid_clock_skew():
    valid_under("clock-skew.json", 5)


def test_default_valid_kill_restart():
    valid_under("kill-restart.json", 5)


def test_default_valid_restart_into_the_past():
    valid_under("restart-into-the-past.json", 5)


def test_default_valid_pause():
    valid_under("pause.json", 4)


def test_default_valid_chaos():
    valid_under("chaos.json", 8)


# ==== eddy matrix ====

def test_matrix_table():
    with tempfile.TemporaryDirectory() as store:
        p = subprocess.run([eddy_bin(), "matrix", "--store", store, "--seed", "3",
                            "--time-limit", "1",
                            "--scenario", scenario("fly-io-challenge-2.json"),
                            "--node", f"eddy={node_bin()}",
                            "--node", f"counter={node_bin()} --ids counter"],
                           capture_output=True, text=True, timeout=120)
        check(p.returncode == 0, f"first row as expected: {p.stdout} {p.stderr}")
        rows = [l for l in p.stdout.splitlines() if l.startswith("| `")]
        check(len(rows) == 2, f"one row per node command: {p.stdout}")
        check("| valid |" in rows[0] and "INVALID (" in rows[1], f"verdicts: {rows}")
        mdir = os.path.join(store, "matrix")
        runs = os.listdir(mdir)
        check(len(runs) == 1, "one matrix directory")
        with open(os.path.join(mdir, runs[0], "matrix.json")) as f:
            cells = json.load(f)
        check(len(cells) == 2 and cells[1]["duplicated"] > 0, f"matrix.json: {cells}")
        check(os.path.exists(os.path.join(mdir, runs[0], "matrix.csv")), "matrix.csv")
        # The IDs column: eddy-node's strings increase in every incarnation; counters are
        # integers.
        check(re.search(r"\| string, \d+ B; increasing in every incarnation; stray <= \d+ ms \|$",
                        rows[0]), f"the IDs column: {rows[0]}")
        check(re.search(r"\| integer, \d+ B; ", rows[1]), f"the IDs column: {rows[1]}")
        check(cells[0]["ids"]["type"] == "string" and cells[1]["ids"]["type"] == "integer",
              f"matrix.json ids: {cells}")



def test_matrix_says_which_faults_were_not_applied():
    """A static binary forced onto the preload route (the scenario's "clock-via") cannot get clock
    faults: its cell says so, and is unknown rather than valid."""
    static = os.path.join(eddytest.BUILD, "tests", "eddy-node-static")
    with tempfile.TemporaryDirectory() as store:
        with open(scenario("clock-skew.json")) as f:
            scen = json.load(f)
        scen["clock-via"] = "preload"
        preload_only = os.path.join(store, "clock-skew-preload.json")
        with open(preload_only, "w") as f:
            json.dump(scen, f)
        p = subprocess.run([eddy_bin(), "matrix", "--store", store, "--seed", "2",
                            "--time-limit", "2", "--scenario", preload_only,
                            "--node", f"eddy={node_bin()}", "--node", f"static={static}"],
                           capture_output=True, text=True, timeout=120)
        check(p.returncode == 0, f"first row as expected: {p.stdout} {p.stderr}")
        rows = [l for l in p.stdout.splitlines() if l.startswith("| `")]
        check(len(rows) == 2 and "not applied" not in rows[0], f"eddy-node gets them all: {rows}")
        check(re.search(r"\| unknown \[\d+ faults? not applied\]", rows[1]),
              f"the static row says so: {rows}")
        mdir = os.path.join(store, "matrix")
        run = os.listdir(mdir)[0]
        with open(os.path.join(mdir, run, "matrix.json")) as f:
            cells = json.load(f)
        check(cells[0]["faults-not-applied"] == 0 and cells[1]["faults-not-applied"] > 0,
              f"matrix.json: {cells}")
        with open(os.path.join(mdir, run, "matrix.csv")) as f:
            head = f.readline().strip().split(",")
        check("faults_not_applied" in head, f"matrix.csv header: {head}")


if __name__ == "__main__":
    main(globals())
