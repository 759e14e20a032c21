#!/usr/bin/env python3
"""End-to-end tests of eddy's fidelity to Maelstrom (issue 11): restarts and init ordering, the
verdict and --strict, the command line, and each row of the Maelstrom-fidelity audit.

Each test_* function is one ctest test. Nodes are written the way users write them: the Go test
node (tests/nodes/go, a goroutine per message like Maelstrom's Go library), Python nodes, and
eddy-node.
"""
import json
import os
import re
import tempfile
import xml.etree.ElementTree as ET

from eddytest import (Run, check, check_no_node_alive, gonode, main, node_bin, pynode,
                      scenario)

HERE = os.path.dirname(os.path.abspath(__file__))


def initnode():
    return os.path.join(HERE, "initnode.py")


# ==== Restarts: init, and nothing else until init_ok ====

def chaos_go(ids, seed):
    """chaos.json, shortened to 6 s: its timeline kills and restarts four of the five nodes (two
    of them into the past) at 20,000 requests a second, with every other fault kind around."""
    return Run(["--scenario", scenario("chaos.json"), "--bin", gonode(), "--time-limit", "6",
                "--seed", str(seed), "--", "-ids", ids], timeout=180)


def check_restarted(r):
    restarted = [n for n, x in r.results["nodes"].items() if x["incarnations"] > 1]
    check(len(restarted) >= 3, f"nodes were killed and restarted: {restarted}", r)


def test_go_node_valid_under_chaos_when_ids_are_unique():
    r = chaos_go("unique", 11)
    check(r.code == 0, "a goroutine-per-message Go node with unique IDs passes chaos.json", r)
    check(r.results["valid?"] is True, "valid", r)
    check(r.results["protocol"]["violation-count"] == 0, "no protocol violation", r)
    check_restarted(r)
    check(r.results["stats"]["ok-count"] > 1000, "under load", r)
    check_no_node_alive(r)
    r.cleanup()


def test_go_node_invalid_under_chaos_only_for_duplicates():
    r = chaos_go("node-counter", 12)
    check(r.code == 1, "a Go node whose counter restarts is caught", r)
    res = r.results
    check(res["workload"]["valid?"] is False and res["workload"]["duplicated-count"] > 0,
          "by its duplicates", r)
    others = [k for k, v in res.items()
              if isinstance(v, dict) and "valid?" in v and k != "workload" and v["valid?"] is not True]
    check(others == [], f"and by nothing else: {others}", r)
    check(res["protocol"]["violation-count"] == 0, "no protocol violation", r)
    check_restarted(r)
    r.cleanup()


def test_restarted_node_gets_only_init_until_init_ok():
    """A node that takes 0.3 s to answer init sees nothing else arrive meanwhile, even though
    requests piled up while it was down; they all arrive after its init_ok."""
    r = Run(["-w", "unique-ids", "--bin", initnode(), "--node-count", "2", "--time-limit", "3",
             "--rate", "max", "--concurrency", "2n", "--nemesis", "kill",
             "--nemesis-interval", "0.5", "--seed", "5", "--", "--mode", "slow-init"])
    check(r.code == 0, "valid", r)
    incarnations = sum(x["incarnations"] for x in r.results["nodes"].values())
    check(incarnations > 2, "some node was restarted", r)
    clean = 0
    for name, node in r.results["nodes"].items():
        log = r.node_log(name)
        check("early:" not in log, f"{name} got something before its init_ok:\n{log}", r)
        # The last restart (at the end of the run) may be killed before its check is logged.
        k = log.count("clean: nothing arrived")
        check(k >= node["incarnations"] - 1, f"{name}: its incarnations were checked", r)
        clean += k
    check(clean > 2, "restarted incarnations were checked", r)
    hist = r.history()
    restarts = [o for o in hist if o["process"] == "nemesis" and o["f"] == "start"]
    check(restarts, "restarts are in the history", r)
    after = [o for o in hist if o.get("type") == "ok" and o["time"] > restarts[0]["time"]]
    check(after, "requests were served after the first restart", r)
    r.cleanup()


def test_early_answer_is_diagnosed():
    """A node that answers a peer's request before its init_ok, without src because its id is
    not set yet, is muted as Maelstrom would, and eddy says what happened in plain words."""
    r = Run(["-w", "unique-ids", "--bin", initnode(), "--node-count", "2", "--time-limit", "1",
             "--seed", "6", "--", "--mode", "early-answer"], timeout=120)
    check(r.code == 255, "the muted node never answers init (as in Maelstrom)", r)
    v = r.results["protocol"]["violations"]
    check(len(v) == 1 and v[0]["node"] == "n1" and v[0]["before-init-ok"] is True,
          "n1's reply is the violation", r)
    check("answered a request before its init_ok" in v[0]["diagnosis"], "diagnosed", r)
    check("answered a request before its init_ok" in r.err, "and said at once", r)
    check("did not respond" in r.results["error"], "init timed out", r)
    r.cleanup()


# ==== The verdict: Maelstrom's by default; protocol problems warn, --strict fails ====

def log_line_on_n1(*extra):
    """Three nodes; n1 prints one log line on stdout after init, and Maelstrom would stop
    reading it there: its later replies are lost and their ops time out as info."""
    return Run(["-w", "unique-ids", "--bin", pynode(), "--node-count", "3", "--time-limit", "2",
                "--rate", "30", "--seed", "7", *extra,
                "--", "--mode", "stdout-log", "--only", "n1"])


def check_n1_muted(r):
    nodes = r.results["nodes"]
    check(nodes["n1"]["muted"] and not nodes["n0"]["muted"] and not nodes["n2"]["muted"],
          "only n1 is muted", r)
    v = r.results["protocol"]["violations"]
    check(len(v) == 1 and v[0]["node"] == "n1" and v[0]["class"] == "mute", "one violation", r)
    check("never reads its stdout again" in v[0]["maelstrom"], "what Maelstrom would do", r)
    check(r.results["stats"]["info-count"] > 0, "n1's ops timed out", r)


def test_one_log_line_is_a_warning_by_default():
    with tempfile.TemporaryDirectory() as d:
        junit = os.path.join(d, "junit.xml")
        r = log_line_on_n1("--junit", junit)
        check(r.code == 0, "valid, as Maelstrom would judge it", r)
        check_n1_muted(r)
        p = r.results["protocol"]
        check(r.results["valid?"] is True and p["valid?"] is False and p["strict"] is False,
              "the protocol checker fails but does not count", r)
        check("--strict" in p["warning"] and "does not count" in p["warning"], "it says so", r)
        check("eddy: warning: n1, stdout line 2" in r.err, "a warning at once", r)
        check("not counted in the verdict" in r.out, "and in the summary", r)
        suite = ET.parse(junit).getroot()
        check(suite.get("failures") == "0" and suite.get("errors") == "0", "JUnit passes", r)
        case = [c for c in suite.iter("testcase") if c.get("name") == "protocol"][0]
        out = case.find("system-out")
        check(out is not None and "never reads its stdout" in out.text,
              "with the warnings in the protocol test case's output", r)
    r.cleanup()


def test_one_log_line_fails_with_strict():
    r = log_line_on_n1("--strict")
    check(r.code == 1, "--strict: a protocol violation fails the run", r)
    check_n1_muted(r)
    check(r.results["protocol"]["strict"] is True and "warning" not in r.results["protocol"],
          "counted, not a warning", r)
    check(r.results["workload"]["valid?"] is True, "no duplicate: only the protocol fails", r)
    check("eddy: n1, stdout line 2" in r.err, "reported at once, not as a warning", r)
    r.cleanup()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "strict.json")
        with open(path, "w") as f:
            json.dump({"workload": "unique-ids", "node-count": 3, "time-limit": 2, "rate": 30,
                       "strict": True}, f)
        r = Run(["--scenario", path, "--bin", pynode(), "--seed", "7",
                 "--", "--mode", "stdout-log", "--only", "n1"])
        check(r.code == 1, "a scenario's \"strict\": true does the same", r)
        check(r.results["protocol"]["strict"] is True, "strict", r)
        r.cleanup()


def test_one_log_line_fails_availability_total():
    r = log_line_on_n1("--availability", "total")
    check(r.code == 1, "the lost ops fail --availability total, as in Maelstrom", r)
    check_n1_muted(r)
    check(r.results["availability"]["valid?"] is False, "through availability", r)
    check(r.results["protocol"]["strict"] is False, "not through the protocol checker", r)
    r.cleanup()


# ==== The command line: every Maelstrom option, unknown ones refused, --test-count ====

def test_misspelt_option_is_refused_with_a_suggestion():
    r = Run(["-w", "unique-ids", "--bin", node_bin(), "--time-limt", "2"], timeout=30)
    check(r.code == 254, "an unknown option is refused, as Maelstrom refuses it", r)
    check('"--time-limt"' in r.err and "--time-limit?" in r.err,
          "naming it and suggesting the nearest known option", r)
    check(len(r.err.strip().splitlines()) == 1, "in one line", r)
    check(r.dir is None, "no run was made", r)


def test_maelstrom_options_are_accepted_with_notes():
    r = Run(["-w", "echo", "--bin", node_bin(), "--node-count", "1", "--time-limit", "0.5",
             "--topology", "tree4", "--no-ssh", "--username", "admin", "--leave-db-running",
             "--logging-json", "--key-count", "3", "--consistency-models", "serializable",
             "--max-txn-length", "2", "--max-writes-per-key", "4", "--password", "pw",
             "--strict-host-key-checking", "--ssh-private-key", "id_rsa"], timeout=60)
    check(r.code == 0, "accepted", r)
    notes = [l for l in r.err.splitlines() if l.startswith("eddy: note: ")]
    check(len(notes) == 12, f"one note per ignored option: {notes}", r)
    check(any(l.startswith("eddy: note: --topology ") for l in notes), "naming it", r)


def test_node_words_and_double_dash_reach_the_node():
    base = ["-w", "unique-ids", "--bin", node_bin()]
    rest = ["--node-count", "2", "--time-limit", "1", "--rate", "200", "--seed", "3"]
    for args in (base + ["counter"] + rest, base + rest + ["--", "--ids", "counter"]):
        r = Run(args)
        check(r.code == 1, "the node ran the counter strategy and was caught", r)
        check(r.results["workload"]["duplicated-count"] > 0, "duplicates", r)
        r.cleanup()


def test_test_count_runs_until_one_is_not_valid():
    r = Run(["-w", "unique-ids", "--bin", node_bin(), "--node-count", "2", "--time-limit", "0.5",
             "--rate", "50", "--test-count", "3", "--seed", "100"], timeout=120)
    check(r.code == 0, "three valid runs", r)
    runs = [d for d in os.listdir(os.path.join(r.store, "unique-ids")) if d != "latest"]
    check(len(runs) == 3, f"each in its own run directory: {runs}", r)
    seeds = re.findall(r"eddy: seed (\d+)", r.out)
    check(seeds == ["100", "101", "102"], f"run i uses seed S+i: {seeds}", r)
    r.cleanup()
    r = Run(["-w", "unique-ids", "--bin", node_bin(), "--node-count", "2", "--time-limit", "0.5",
             "--rate", "50", "--test-count", "3", "--seed", "100", "--", "--ids", "counter"],
            timeout=120)
    check(r.code == 1, "the worst verdict: invalid", r)
    runs = [d for d in os.listdir(os.path.join(r.store, "unique-ids")) if d != "latest"]
    check(len(runs) == 1, f"Jepsen stops at the first run that is not valid: {runs}", r)
    check("--test-count" not in r.out.split("Reproduce: ")[1].splitlines()[0],
          "the reproduction repeats this run only", r)
    r.cleanup()


if __name__ == "__main__":
    main(globals())
