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


def fidnode():
    return os.path.join(HERE, "fidnode.py")


def scenario_file(d, **fields):
    """A scenario in directory d with the given fields (underscores become dashes)."""
    path = os.path.join(d, "scenario.json")
    with open(path, "w") as f:
        json.dump({k.replace("_", "-"): v for k, v in fields.items()}, f)
    return path


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
    r = Run(["-w", "unique-ids", "--bin", fidnode(), "--node-count", "2", "--time-limit", "3",
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


def test_a_restart_waits_for_the_killed_process_to_be_reaped():
    """A start that comes before the killed process is reaped (here at the same instant; on a
    loaded machine, 200 ms later can be enough) restarts the node as soon as it is gone, and
    the record says which scenario event asked for it."""
    with tempfile.TemporaryDirectory() as d:
        path = scenario_file(d, workload="unique-ids", node_count=2, time_limit=2, rate=50,
                             faults=[{"at": 0.5, "f": "kill", "nodes": ["n0"]},
                                     {"at": 0.5, "f": "start"}])
        r = Run(["--scenario", path, "--bin", node_bin(), "--seed", "11"])
        check(r.code == 0, "valid", r)
        check(r.results["nodes"]["n0"]["incarnations"] == 2, "n0 was started again", r)
        starts = [e for e in r.results["faults"]["events"] if e["f"] == "start"]
        check(len(starts) == 1 and starts[0]["applied"] and starts[0]["timeline"] == 1,
              f"by the scenario's second event: {starts}", r)
        restart_ns = starts[0]["time"]
        later = [o for o in r.history() if o.get("node") == "n0" and o["type"] == "ok"
                 and o["time"] > restart_ns]
        check(later, "and served requests after", r)
        r.cleanup()


def test_what_waits_for_a_restarted_node_is_bounded_and_in_order():
    """While n1, restarted, has not answered init, n0 sends it 100 messages of 128 KiB: the
    held queue keeps what fits in its 8 MiB, counts the rest as not delivered, and delivers
    what it kept, in order, after init_ok."""
    with tempfile.TemporaryDirectory() as d:
        path = scenario_file(d, workload="unique-ids", node_count=2, time_limit=8, rate=50,
                             faults=[{"at": 0.2, "f": "kill", "nodes": ["n1"]},
                                     {"at": 0.3, "f": "start"}])
        r = Run(["--scenario", path, "--bin", fidnode(), "--seed", "10",
                 "--", "--mode", "held-flood", "--dir", d])
        check(r.code == 0, "valid", r)
        n1 = r.results["nodes"]["n1"]
        check(n1["incarnations"] == 2, "n1 was restarted", r)
        got = [int(l.rsplit(" ", 1)[1]) for l in r.node_log("n1").splitlines()
               if ": gossip: " in l]
        kept = (8 << 20) // (128 << 10)
        check(got == list(range(1, len(got) + 1)), f"in order, from the first: {got[:5]}...", r)
        check(kept - 4 <= len(got) <= kept, f"as many as fit in 8 MiB: {len(got)}", r)
        check(n1["messages-not-delivered"] >= 100 - len(got), f"the rest counted: {n1}", r)
        r.cleanup()


def test_early_answer_is_diagnosed():
    """A node that answers a peer's request before its init_ok, without src because its id is
    not set yet, is muted as Maelstrom would, and eddy says what happened in plain words."""
    r = Run(["-w", "unique-ids", "--bin", fidnode(), "--node-count", "2", "--time-limit", "1",
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


# ==== The audit (shared/reference/maelstrom-fidelity.md), row by row ====

def test_audit_bodies_between_nodes_need_no_type():
    """maelstrom net.clj: :body s/Any; process.clj parse-msg reads a missing or null body as {}.
    A node may send a peer a body without type, an empty one, null or none at all."""
    r = Run(["-w", "unique-ids", "--bin", fidnode(), "--node-count", "2", "--time-limit", "1",
             "--rate", "20", "--", "--mode", "untyped-gossip"])
    check(r.code == 0, "valid", r)
    check(r.results["protocol"]["violations"] == [], "no violation", r)
    bodies = [l.split("body: ", 1)[1] for l in r.node_log("n1").splitlines() if "body: " in l]
    check(bodies == ['{"gossip": 1}', "{}", "{}", "{}"], f"delivered as Maelstrom would: {bodies}",
          r)
    r.cleanup()


def test_audit_reply_without_type_fails_only_its_op():
    """maelstrom client.clj check-body: the reply's schema fails, malformed-rpc-response, the op
    is info; the node is not muted."""
    r = Run(["-w", "unique-ids", "--bin", fidnode(), "--node-count", "2", "--time-limit", "1",
             "--rate", "40", "--seed", "2", "--", "--mode", "no-type"])
    check(r.code == 0, "valid: n0's ops are ok, and the exceptions checker is always valid", r)
    v = r.results["protocol"]["violations"]
    check(v and all(x["node"] == "n1" and x["class"] == "malformed-rpc-response" for x in v),
          "each reply of n1 is a malformed RPC response", r)
    check("no type" in v[0]["reason"], "for want of a type", r)
    check(not r.results["nodes"]["n1"]["muted"], "n1 is not muted", r)
    check(r.results["nodes"]["n1"]["ok"] == 0 and r.results["nodes"]["n0"]["ok"] > 0,
          "only n1's ops fail", r)
    r.cleanup()


def test_audit_partitions_and_latency_follow_the_src_field():
    """maelstrom net.clj: recv! drops a message whose src is in the receiver's grudge, and
    latency-for gives none to a message whose src is a client. n0, cut off from the others,
    forwards each request to n1 keeping the client as src: it crosses the partition, with no
    latency, and n1 answers the client."""
    with tempfile.TemporaryDirectory() as d:
        path = scenario_file(d, workload="unique-ids", node_count=3, time_limit=1.5, rate=30,
                             latency=2000,
                             faults=[{"at": 0, "f": "start-partition", "nodes": ["n0"]}])
        r = Run(["--scenario", path, "--bin", fidnode(), "--seed", "3",
                 "--", "--mode", "forward-client"])
        check(r.code == 0, "valid", r)
        check(r.results["nodes"]["n0"]["ops"] > 0, "ops went to n0", r)
        check(r.results["stats"]["info-count"] == 0, "every op answered: none crossed late", r)
        check(r.results["latency"]["ok-ms"]["max"] < 1000,
              "none waited for the 2 s inter-node latency", r)
        r.cleanup()
        # The same forwarding with src "n2", which the partition cuts off from n1: cut as n2.
        path = scenario_file(d, workload="unique-ids", node_count=3, time_limit=1, rate=30,
                             faults=[{"at": 0, "f": "start-partition", "nodes": ["n2"]}])
        r = Run(["--scenario", path, "--bin", fidnode(), "--seed", "3",
                 "--", "--mode", "forward-as-n2"])
        check(r.code == 0, "valid (availability is not checked)", r)
        n0 = r.results["nodes"]["n0"]
        check(n0["ops"] > 0 and n0["ok"] == 0, "every op through n0 was cut, as from n2", r)
        check(r.results["net"]["eddy-faults"]["partitioned"] >= n0["ops"], "by the partition", r)
        r.cleanup()


def test_audit_client_requests_wait_behind_a_delayed_message():
    """maelstrom net.clj recv!: a node's receiver sleeps until the message it took is due, so a
    client's request, which has no latency, waits behind a delayed inter-node message. At its
    first op (at 0 s) n0 sends n1 gossip with 3 s of latency; n1's requests from 0.2 s to 2 s
    (the first ops of its four workers) wait for it, n0's do not."""
    r = Run(["-w", "unique-ids", "--bin", fidnode(), "--node-count", "2", "--time-limit", "3.5",
             "--rate", "20", "--concurrency", "4n", "--latency", "3000", "--seed", "8",
             "--", "--mode", "late-gossip"])
    check(r.code == 0, "valid", r)
    invoked = {}
    waited, fast = [], []
    for o in r.history():
        if o["process"] == "nemesis":
            continue
        if o["type"] == "invoke":
            invoked[o["process"]] = o["time"]
        elif o["node"] == "n1" and 0.2e9 < invoked[o["process"]] < 2e9:
            waited.append(o["time"])
        elif o["node"] == "n0":
            fast.append(o["time"] - invoked[o["process"]])
    check(waited and min(waited) > 2.5e9,
          f"n1's requests were answered after the gossip arrived: {waited[:5]}", r)
    check(fast and sorted(fast)[len(fast) // 2] < 0.5e9, "n0's were not held up", r)
    r.cleanup()


def test_audit_faults_heal_after_the_ops_in_flight():
    """maelstrom core.clj: echo and unique-ids have no final generator, so Jepsen tears the
    nemesis down (healing) after the client phase, once every op in flight has completed
    (jepsen core.clj with-client+nemesis-setup-teardown). n0 is paused over the time limit:
    its ops in flight time out before it is resumed."""
    with tempfile.TemporaryDirectory() as d:
        path = scenario_file(d, workload="unique-ids", node_count=2, time_limit=1, rate=50,
                             faults=[{"at": 0.5, "f": "pause", "nodes": ["n0"]}])
        r = Run(["--scenario", path, "--bin", node_bin(), "--seed", "4"])
        check(r.code == 0, "valid", r)
        hist = r.history()
        resume = [o for o in hist if o["process"] == "nemesis" and o["f"] == "resume"]
        check(len(resume) == 1, "one resume, at the end", r)
        last = max(o["time"] for o in hist if o["process"] != "nemesis")
        check(resume[0]["time"] >= last, "after the last op completed", r)
        late = [o for o in hist if o.get("node") == "n0" and o["type"] == "info"]
        check(late and all(o.get("error") == "net-timeout" for o in late),
              "n0's ops in flight timed out rather than completing after a heal", r)
        r.cleanup()


def test_audit_setup_clients_stay_open():
    """jepsen core.clj opens a client per node before the client phase and closes them in its
    finally: a message to one is queued, never read, and mutes nobody."""
    r = Run(["-w", "unique-ids", "--bin", fidnode(), "--node-count", "2", "--time-limit", "1",
             "--rate", "20", "--strict", "--", "--mode", "hello-setup"])
    check(r.code == 0, "valid, even with --strict: a warning, not a violation", r)
    v = r.results["protocol"]["violations"]
    check(len(v) == 2 and all(x["class"] == "warning" for x in v), "one warning per node", r)
    check("waiting for no reply" in v[0]["reason"], "which says why", r)
    check(not any(x["muted"] for x in r.results["nodes"].values()), "nobody muted", r)
    check({x["line"].split('"dest": "')[1][:2] for x in v} == {"c2", "c3"},
          "to the setup clients c2 and c3", r)
    r.cleanup()


def test_audit_echo_client_closes_at_the_workers_next_op():
    """jepsen generator/interpreter.clj ClientWorker: a client that is not reusable (echo's) is
    closed when an op of the worker's next process arrives, not when the op times out. Seed 7's
    schedule issues ops at 0.0, 1.3 and 8.7 s: the op at 1.3 s (up to a second late on a loaded
    machine) is paused, times out before the resume at 7.3 s, and its answer comes then, while
    its client is still open."""
    with tempfile.TemporaryDirectory() as d:
        path = scenario_file(d, workload="echo", node_count=1, concurrency="1", rate=0.25,
                             time_limit=9,
                             faults=[{"at": 0.5, "f": "pause", "nodes": ["n0"]},
                                     {"at": 7.3, "f": "resume"}])
        r = Run(["--scenario", path, "--bin", node_bin(), "--seed", "7"])
        # Maelstrom's echo checker holds the timed-out op against the run (its completion has
        # no echo): invalid, but not for the late answer.
        check(r.code == 1 and r.results["workload"]["error-count"] == 1, "one op timed out", r)
        invokes = [o["time"] / 1e9 for o in r.history() if o["type"] == "invoke"]
        check(len(invokes) >= 2 and 0.5 < invokes[1] < 2.3 and all(t > 8 for t in invokes[2:]),
              f"the schedule this test relies on: {invokes}", r)
        n0 = r.results["nodes"]["n0"]
        check(n0["late-replies"] == 1 and not n0["muted"], "a late reply, harmless", r)
        check(r.results["protocol"]["violations"] == [], "no violation", r)
        r.cleanup()


def test_audit_unique_ids_ops_rotate_over_workers():
    """jepsen generator/context.clj: a map generator's op goes to the first free thread at or
    after a position that turns by one at every op, over the workers and the nemesis thread
    (which clients skip, starting again at 0). Replays the history to check every choice."""
    r = Run(["-w", "unique-ids", "--bin", node_bin(), "--node-count", "3", "--concurrency", "2n",
             "--time-limit", "1", "--rate", "400", "--seed", "5"])
    check(r.code == 0, "valid", r)
    workers, pos = 6, 0
    busy = set()
    checked = 0
    for o in r.history():
        w = o["process"] % workers
        if o["type"] != "invoke":
            busy.discard(w)
            continue
        free = [i for i in list(range(pos, workers)) + list(range(workers)) if i not in busy]
        check(free and free[0] == w, f"op {o['index']} went to worker {w}, Jepsen's is {free[:1]}",
              r)
        busy.add(w)
        pos = (pos + 1) % (workers + 1)
        checked += 1
    check(checked > 100, f"{checked} choices checked", r)
    r.cleanup()


def test_audit_envelope_ids_count_every_message():
    """maelstrom net.clj send!: every message gets the next id, replies to clients included, so
    one node answering one client sees ids 0 (init), then 2, 4, 6..."""
    r = Run(["-w", "unique-ids", "--bin", node_bin(), "--node-count", "1", "--time-limit", "0.5",
             "--rate", "20", "--log-net-send"])
    check(r.code == 0, "valid", r)
    sent = [json.loads(l.split(":send ", 1)[1]) for l in r.err.splitlines() if ":send {" in l]
    to_node = [m["id"] for m in sent if m["src"].startswith("c")]
    check(len(to_node) > 3 and to_node == list(range(0, 2 * len(to_node), 2)),
          f"ids of the messages to the node: {to_node[:10]}", r)
    r.cleanup()


def test_audit_exceptions_are_exception_info():
    """jepsen checker.clj unhandled-exceptions groups by the exception's class; Maelstrom's are
    all clojure.lang.ExceptionInfo (slingshot), whose :type eddy also gives."""
    r = Run(["-w", "unique-ids", "--bin", fidnode(), "--node-count", "2", "--time-limit", "1",
             "--rate", "40", "--seed", "2", "--", "--mode", "no-type"])
    x = r.results["exceptions"]
    check(x["valid?"] is True, "always valid", r)
    e = x["exceptions"]
    check(len(e) == 1 and e[0]["class"] == "clojure.lang.ExceptionInfo"
          and e[0]["type"] == "malformed-rpc-response" and e[0]["count"] > 0, f"{e}", r)
    r.cleanup()


def test_audit_nodes_named_like_clients_stay_nodes():
    """Deliberate difference: Maelstrom takes any id starting with c for a client (util.clj
    client?), so messages between nodes c7 and c8 would get no latency there. eddy routes them
    as a node's, with latency."""
    r = Run(["-w", "echo", "--bin", pynode(), "--nodes", "c7,c8", "--time-limit", "1",
             "--rate", "10", "--latency", "300", "--seed", "9"])
    check(r.code == 0, "valid", r)
    check(r.results["protocol"]["violations"] == [], "no violation", r)
    # Two hops of 300 ms each; one hop (a client's) would be about 300. The bound leaves room for
    # the event loop's cached time, which can make a measured pair of hops a few ms short.
    check(r.results["latency"]["ok-ms"]["p50"] >= 500, "each relay hop took its 300 ms", r)
    r.cleanup()


def test_audit_a_crashed_run_is_still_checked():
    """Deliberate difference: Maelstrom's teardown throws on a crashed node before any checker
    runs; eddy keeps the run's results, checked, with the crash, and exits 255 as Maelstrom
    does."""
    r = Run(["-w", "unique-ids", "--bin", pynode(), "--node-count", "2", "--time-limit", "1",
             "--rate", "40", "--", "--mode", "exit-early"])
    check(r.code == 255, "255, as Maelstrom", r)
    check("crashed" in r.results["error"], "the crash is in results.json", r)
    check(r.results["workload"]["valid?"] is True and r.results["stats"]["ok-count"] > 0,
          "and the ops before it are checked", r)
    check(r.results["valid?"] == "unknown", "the run's verdict is unknown", r)
    r.cleanup()


if __name__ == "__main__":
    main(globals())
