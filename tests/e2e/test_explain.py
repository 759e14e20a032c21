#!/usr/bin/env python3
"""End-to-end tests of eddy's explanations: the diagnosis of failures (results.json "diagnosis",
the summary, report.html, JUnit) and the ID properties.

Each test runs a deliberately flawed node (eddy-node's naive strategies, the Go test node's
schemes, the Python node's misbehaviours) for a short time and checks that the diagnosis names
the class of the failure, the nodes involved, an example with both ops and their clocks, and a
cause that fits the flaw.
"""
import json
import os
import tempfile
import time
import xml.etree.ElementTree as ET

from eddytest import Run, check, check_no_node_alive, gonode, main, node_bin, pynode, scenario


def write_scenario(obj):
    fd, path = tempfile.mkstemp(suffix=".json", prefix="eddy-explain-")
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f)
    return path


def summary_lines(r):
    """The summary's lines from "Run:" up to the verdict (which is not counted)."""
    lines = r.out.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("Run: "))
    end = next(i for i, l in enumerate(lines) if l.startswith(("Analysis invalid!",
                                                               "Everything looks good!",
                                                               "Errors occurred")))
    return [l for l in lines[start:end] if l.strip()]


def finding(r, cls):
    found = [d for d in r.results["diagnosis"] if d["class"] == cls]
    check(found, f"no {cls} finding", r)
    return found[0]


def check_example(r, d):
    ex = d["example"]
    check(len(ex["ops"]) == 2, "the example has both ops", r)
    for op in ex["ops"]:
        for key in ("node", "incarnation", "client", "process", "time", "clock-offset-ms",
                    "clock-rate", "clock-faults", "started"):
            check(key in op, f"example op without {key}: {op}", r)
    check(ex["ops"][0]["time"] <= ex["ops"][1]["time"], "the example's ops in time order", r)


# ==== Duplicated IDs ====

def test_counter_on_two_nodes_is_across_nodes():
    r = Run(["-w", "unique-ids", "--bin", node_bin(), "--node-count", "2", "--time-limit", "2",
             "--rate", "2000", "--concurrency", "4n", "--seed", "3", "--", "--ids", "counter"])
    try:
        check(r.code == 1, "invalid", r)
        d = r.results["diagnosis"][0]
        check(d["class"] == "across-nodes", f"across-nodes first: {d}", r)
        check(d["count"] == r.results["workload"]["duplicated-count"],
              "every duplicated ID is across nodes", r)
        check(d["involved"][0]["nodes"] == ["n0", "n1"], "n0 and n1", r)
        check("node id is not in the ID" in d["cause"], d["cause"], r)
        check_example(r, d)
        check({op["node"] for op in d["example"]["ops"]} == {"n0", "n1"}, "one op each", r)
        lines = summary_lines(r)
        check(len(lines) <= 15, f"{len(lines)} summary lines before the verdict", r)
        check(lines[1] == "Diagnosis:" and lines[2].startswith("  across-nodes: "),
              "the diagnosis comes first", r)
        check("first-anomaly" in r.results, "the first anomaly is recorded", r)
        page = open(os.path.join(r.dir, "report.html"), encoding="utf-8").read()
        root = ET.fromstring(page)
        ids = [el.get("id") for el in root.iter()]
        check(ids.index("diagnosis") < ids.index("command"), "diagnosis at the top of the page", r)
        check(d["cause"].split(":")[0] in page, "the cause is on the page", r)
    finally:
        r.cleanup()


def test_junit_failure_message_carries_the_cause():
    out = tempfile.mktemp(suffix=".xml")
    r = Run(["-w", "unique-ids", "--bin", node_bin(), "--node-count", "2", "--time-limit", "1",
             "--rate", "500", "--seed", "3", "--junit", out, "--", "--ids", "counter"])
    try:
        check(r.code == 1, "invalid", r)
        root = ET.parse(out).getroot()
        fails = [f for f in root.iter("failure")]
        check(fails, "a failure", r)
        msg = fails[0].get("message")
        check(msg.startswith("workload invalid: across-nodes ("), f"message: {msg}", r)
        check("node id is not in the ID" in msg, f"message: {msg}", r)
    finally:
        r.cleanup()
        if os.path.exists(out):
            os.unlink(out)


def test_counter_lost_on_restart_is_across_restarts():
    # One kill and one restart, nothing random: the new process has 2.5 s to repeat IDs.
    sc = write_scenario({"workload": "unique-ids", "node-count": 2, "time-limit": 3,
                         "rate": 2000, "concurrency": "2n",
                         "faults": [{"at": 0.3, "f": "kill", "nodes": ["n0"]},
                                    {"at": 0.5, "f": "start"}]})
    r = Run(["--scenario", sc, "--bin", node_bin(), "--seed", "2", "--", "--ids", "node-counter"])
    os.unlink(sc)
    try:
        check(r.code == 1, "invalid", r)
        d = r.results["diagnosis"][0]
        check(d["class"] == "across-restarts", f"across-restarts first: {d['class']}", r)
        check(d["evidence"]["dominant"] == "state-lost", d["evidence"], r)
        check("State lost on restart" in d["cause"], d["cause"], r)
        check_example(r, d)
        a, b = d["example"]["ops"]
        check(a["node"] == b["node"] and b["incarnation"] > a["incarnation"],
              "one node, a later incarnation", r)
        check(b["started"].startswith("restarted at"), b["started"], r)
        inv = d["involved"][0]
        check(len(inv["incarnations"]) == 2, "the two incarnations are named", r)
    finally:
        r.cleanup()


def test_snowflake_with_two_node_bits_collides_n0_with_n4():
    # The example: a Go node whose Snowflake layout keeps 2 bits of the node's index.
    r = Run(["-w", "unique-ids", "--bin", gonode(), "--node-count", "5", "--time-limit", "2",
             "--rate", "5000", "--concurrency", "2n", "--seed", "7",
             "--", "-ids", "snowflake", "-node-bits", "2"])
    try:
        check(r.code == 1, "invalid", r)
        d = finding(r, "across-nodes")
        check(d["involved"][0]["nodes"] == ["n0", "n4"], f"n0 & n4: {d['involved']}", r)
        check(d["evidence"].get("node-bits") == 2, f"2 node bits: {d['evidence']}", r)
        check("low 2 bits (n0 & n4)" in d["cause"], d["cause"], r)
    finally:
        r.cleanup()


def test_racing_counter_is_within_process():
    r = Run(["-w", "unique-ids", "--bin", gonode(), "--node-count", "1", "--time-limit", "2",
             "--rate", "max", "--concurrency", "16", "--seed", "5", "--", "-ids", "racy-counter"])
    try:
        check(r.code == 1, "invalid (the race shows within seconds)", r)
        d = r.results["diagnosis"][0]
        check(d["class"] == "within-process", d["class"], r)
        check(d["evidence"]["dominant"] == "a-moment-apart", d["evidence"], r)
        check("without a lock" in d["cause"], d["cause"], r)
        check(d["involved"][0]["node"] == "n0" and d["involved"][0]["incarnations"] == [0],
              d["involved"], r)
    finally:
        r.cleanup()


# ==== --fail-fast ====

def test_fail_fast_ends_the_run_soon_after_the_first_duplicate():
    start = time.monotonic()
    r = Run(["-w", "unique-ids", "--bin", node_bin(), "--node-count", "2", "--time-limit", "60",
             "--rate", "200", "--seed", "4", "--fail-fast", "--", "--ids", "counter"])
    wall = time.monotonic() - start
    try:
        check(r.code == 1, "invalid", r)
        # Generous bounds (a loaded machine): the measured figure is in make bench.
        check(wall < 30, f"a 60 s run ended after {wall:.1f} s", r)
        ff, first = r.results["fail-fast"], r.results["first-anomaly"]
        check(ff["what"] == "the first duplicated ID", ff, r)
        check(0 <= ff["time"] - first["time"] < 5, f"seen {ff['time'] - first['time']:.3f} s "
              "after the first duplicate", r)
        check(r.results["workload"]["duplicated-count"] >= 1, "the duplicate is reported", r)
        for name in ("results.json", "report.html", "history.jsonl", "duplicates.jsonl"):
            check(os.path.getsize(os.path.join(r.dir, name)) > 0, f"{name} written", r)
        check("Fail-fast: the run ended at " in r.out, "the summary says so", r)
        check(r.out.rstrip().endswith("┻━┻"), "the verdict is printed", r)
        check_no_node_alive(r)
    finally:
        r.cleanup()


def test_fail_fast_stops_at_a_protocol_violation_and_not_without_one():
    # A protocol violation is an anomaly of the run when the verdict counts it: with --strict.
    r = Run(["-w", "unique-ids", "--bin", pynode(), "--node-count", "2", "--time-limit", "60",
             "--rate", "50", "--seed", "1", "--fail-fast", "--strict",
             "--", "--mode", "stdout-log"])
    try:
        check(r.code == 1, "invalid", r)
        check("protocol violation by n" in r.results["fail-fast"]["what"], r.results["fail-fast"],
              r)
        check(r.results["fail-fast"]["time"] < 30, "ended early", r)
    finally:
        r.cleanup()
    r = Run(["-w", "unique-ids", "--bin", node_bin(), "--node-count", "2", "--time-limit", "1",
             "--rate", "500", "--seed", "1", "--fail-fast"])
    try:
        check(r.code == 0 and "fail-fast" not in r.results, "a valid run runs its course", r)
    finally:
        r.cleanup()


# ==== Other failures ====

def test_availability_below_target_names_the_node_and_fault():
    r = Run(["--scenario", scenario("kill-restart.json"), "--bin", node_bin(), "--time-limit", "3",
             "--seed", "2", "--availability", "total"])
    try:
        if r.results["availability"]["valid?"] is True:
            check(False, "kills must cost some ops their ok", r)
        d = finding(r, "availability")
        check(d["count"] > 0 and d["involved"], d, r)
        check(any("kill" in x["faults"] for x in d["during"]), f"during kill: {d['during']}", r)
        check("below the required 1 (total)" in d["cause"], d["cause"], r)
    finally:
        r.cleanup()


def test_protocol_problem_shows_its_first_line_and_maelstrom():
    r = Run(["-w", "unique-ids", "--bin", pynode(), "--node-count", "2", "--time-limit", "1",
             "--rate", "50", "--seed", "1", "--", "--mode", "stdout-log"])
    try:
        d = finding(r, "protocol-mute")
        check(d["example"]["line"] and d["example"]["line-number"] >= 1, d, r)
        check("Maelstrom" in d["maelstrom"] and d["maelstrom"] in d["cause"], d, r)
        lines = summary_lines(r)
        check(any(l.startswith("  protocol-mute: ") for l in lines), "in the summary", r)
        check(any(l.startswith("    line: ") for l in lines), "with the line", r)
        check(len(lines) <= 15, f"{len(lines)} summary lines", r)
    finally:
        r.cleanup()


# ==== ID properties ====

def test_id_properties_of_eddy_node_and_timestamp_under_clock_faults():
    r = Run(["-w", "unique-ids", "--bin", node_bin(), "--node-count", "3", "--time-limit", "1",
             "--rate", "2000", "--seed", "1"])
    try:
        check(r.code == 0, "valid", r)
        p = r.results["id-properties"]
        check(p["types"] == {"string": p["ids"]}, p["types"], r)
        check(p["length-bytes"]["min"] >= 30 and p["length-bytes"]["max"] <= 40, p, r)
        w = p["within-incarnations"]
        check(w["all-increasing"] is True and w["decreases"] == 0, w, r)
        check(w["incarnations"] == 3 and len(w["per-incarnation"]) == 3, w, r)
        check(r.results["diagnosis"] == [], "nothing to diagnose", r)
    finally:
        r.cleanup()
    r = Run(["--scenario", scenario("clock-skew.json"), "--bin", node_bin(), "--time-limit", "1",
             "--seed", "1", "--", "--ids", "timestamp"])
    try:
        p = r.results["id-properties"]
        check(p["types"] == {"integer": p["ids"]}, p["types"], r)
        w = p["within-incarnations"]
        # n0's clock goes back an hour at 0.5 s: its timestamps fall far below what it gave.
        n0 = [x for x in w["per-incarnation"] if x["node"] == "n0"][0]
        check(n0["increasing"] is False and n0["decreases"] > 0, n0, r)
        check(n0["largest-decrease-ms"] > 100, n0, r)
        check(p["across-nodes"]["out-of-real-time-order"] > 0, p["across-nodes"], r)
        page = open(os.path.join(r.dir, "report.html"), encoding="utf-8").read()
        check('id="id-properties"' in page, "the report has the section", r)
    finally:
        r.cleanup()


if __name__ == "__main__":
    main(globals())
