#!/usr/bin/env python3
"""End-to-end tests of clock faults on the nodes the preload library cannot reach.

Go nodes (tests/nodes/go, static and dynamically linked), a static C node and a C node that reads
the clock with raw system calls (tests/nodes/c): each flawed ID scheme is caught by the scenario
aimed at its flaw, each correct one is valid with every clock fault applied. Then the route under
stress (a heavily threaded Go node paused and killed mid-call, a flood of calls, 128 nodes), an
exec inside a node (a wrapper script), the routes forced either way, and what eddy says when the
system forbids the route. Each test_* function is one ctest test.
"""
import json
import os
import re
import subprocess
import tempfile
import time

from eddytest import Run, check, check_no_node_alive, main, node_bin, scenario
import eddytest

SHIPPED = ["fly-io-challenge-1.json", "fly-io-challenge-2.json", "partitions.json",
           "clock-skew.json", "kill-restart.json", "restart-into-the-past.json", "pause.json",
           "chaos.json"]
YEAR_NS = 365 * 24 * 3600 * 10**9


def built(name):
    return os.path.join(eddytest.BUILD, "tests", name)


def events(r, kind):
    return [e for e in r.results["faults"]["events"] if e["kind"] == kind]


def check_clock_faults_all_applied(r):
    clock = events(r, "clock")
    bad = [e["detail"] for e in clock if not e["applied"]]
    check(not bad, f"every clock fault applied, not: {bad[:3]}", r)
    check("unreached" not in r.results["faults"], "no fault kind left a node unreached", r)


def check_route(r, route, reason):
    for name, c in r.results["faults"]["clocks"].items():
        check(c["route"] == route, f"{name}: route {c['route']}, want {route}", r)
        check(reason in c["route-reason"], f"{name}: reason {c['route-reason']!r}", r)


def run(node, args, scen, limit, seed=11, extra=()):
    return Run(["--scenario", scenario(scen), "--bin", node, "--time-limit", str(limit),
                "--seed", str(seed)] + list(extra) + ["--"] + args, timeout=180)


def caught(node, args, scen, limit, route, reason):
    """The scheme's flaw is found: duplicated IDs, with every clock fault applied."""
    r = run(node, args, scen, limit)
    check(r.code == 1, f"{node} {args} must be caught by {scen}", r)
    check(r.results["workload"]["duplicated-count"] > 0, "caught by its duplicated IDs", r)
    check_clock_faults_all_applied(r)
    check_route(r, route, reason)
    r.cleanup()


def valid_everywhere(node, args, scenarios, route, reason):
    """A correct scheme is valid on each scenario, every clock fault applied."""
    for scen in scenarios:
        r = run(node, args, scen, 2)
        check(r.code == 0, f"{node} {args} must be valid under {scen}", r)
        check_clock_faults_all_applied(r)
        if r.results["faults"]["clocks"]:
            check_route(r, route, reason)
        check_no_node_alive(r)
        r.cleanup()


# ==== Go: eddy's vDSO, chosen because the binary is Go ====

GO = "a Go program (statically linked)"


def test_go_ms_seq_caught_by_clock_skew():
    caught(eddytest.gonode(), ["-ids", "ms-seq"], "clock-skew.json", 5, "vdso", GO)


def test_go_ms_seq_caught_by_chaos():
    caught(eddytest.gonode(), ["-ids", "ms-seq"], "chaos.json", 6, "vdso", GO)


def test_go_ms_seq_caught_through_system_calls_alone():
    """--clock-via syscall: the vDSO hidden, every read of the Go runtime a trapped call."""
    r = run(eddytest.gonode(), ["-ids", "ms-seq"], "clock-skew.json", 5,
            extra=["--clock-via", "syscall"])
    check(r.code == 1 and r.results["workload"]["duplicated-count"] > 0, "caught", r)
    check_clock_faults_all_applied(r)
    check_route(r, "syscall", "--clock-via syscall")
    for name, c in r.results["faults"]["clocks"].items():
        check(c["vdso"] == "hidden" and c["trapped-reads"] > 0, f"{name}: reads trapped", r)
    r.cleanup()


def test_go_unique_valid_without_restarts():
    valid_everywhere(eddytest.gonode(), ["-ids", "unique"],
                     [s for s in SHIPPED if s not in ("kill-restart.json",
                                                      "restart-into-the-past.json", "chaos.json")],
                     "vdso", GO)


def test_go_dynamically_linked_still_gets_eddys_vdso():
    caught(built("gonode-dynamic"), ["-ids", "ms-seq"], "clock-skew.json", 5, "vdso",
           "a Go program (dynamically linked; its runtime reads the vDSO itself)")


# ==== C: static, and raw system calls ====

STATIC = "a statically linked program"
RAW = "a dynamically linked program: the preload library, and raw clock system calls trapped"


def test_static_c_ms_seq_caught_by_clock_skew_and_chaos():
    caught(built("cnode-static"), ["-ids", "ms-seq"], "clock-skew.json", 5, "vdso", STATIC)
    caught(built("cnode-static"), ["-ids", "ms-seq"], "chaos.json", 6, "vdso", STATIC)


def test_static_c_ms_seq_caught_by_restart_into_the_past():
    caught(built("cnode-static"), ["-ids", "ms-seq"], "restart-into-the-past.json", 5, "vdso",
           STATIC)


def test_static_c_unique_valid_everywhere():
    valid_everywhere(built("cnode-static"), ["-ids", "unique"], SHIPPED, "vdso", STATIC)


def test_raw_syscall_c_ms_seq_caught_by_clock_skew_and_chaos():
    caught(built("cnode-raw"), ["-ids", "ms-seq"], "clock-skew.json", 5, "preload", RAW)
    caught(built("cnode-raw"), ["-ids", "ms-seq"], "chaos.json", 6, "preload", RAW)


def test_raw_syscall_c_ms_seq_caught_by_restart_into_the_past():
    caught(built("cnode-raw"), ["-ids", "ms-seq"], "restart-into-the-past.json", 5, "preload", RAW)


def test_raw_syscall_c_unique_valid_everywhere():
    valid_everywhere(built("cnode-raw"), ["-ids", "unique"], SHIPPED, "preload", RAW)


# ==== The route under stress ====

def stress_go(faults):
    """A Go node, a goroutine per message and hundreds of them reading the clock at once, with
    every clock set a year ahead from the start and `faults` on top. Checks that every ID of an
    op made after the clock was set carries a faked read (the real clock would be a year off,
    garbage anything else) and that the run ended; returns the run and the ops checked."""
    scen = {"workload": "unique-ids", "node-count": 3, "time-limit": 4, "rate": "max",
            "concurrency": "30n",
            "faults": [{"at": 0.0, "f": "clock-set", "targets": "all",
                        "offset-ms": YEAR_NS // 10**6}] + faults}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(scen, f)
    t0 = time.time_ns()
    r = Run(["--scenario", f.name, "--bin", eddytest.gonode(), "--seed", "3", "--",
             "-ids", "wallclock"], timeout=120)
    t1 = time.time_ns()
    os.unlink(f.name)
    check(r.code in (0, 1), "the run ends, whatever a node did (no hang)", r)
    check_clock_faults_all_applied(r)
    hist = r.history()
    set_at = min(o["time"] for o in hist
                 if o["process"] == "nemesis" and o["f"] == "clock-set")
    limit_ns = 4 * 10**9
    invoked, checked = {}, 0
    for o in hist:
        if o["process"] == "nemesis":
            continue
        if o["type"] == "invoke":
            invoked[o["process"]] = o["time"]
        elif o["type"] == "ok" and o["f"] == "generate":
            start = invoked.get(o["process"], -1)
            if start < set_at or o["time"] > limit_ns - 10**8:
                continue  # read before the clock was set, or maybe after the heal
            read_ns = int(o["value"].rsplit("-", 1)[1])
            check(t0 + YEAR_NS - 5 * 10**9 <= read_ns <= t1 + YEAR_NS + 5 * 10**9,
                  f"{o['value']}: not a faked read (read {read_ns}, run {t0}..{t1})", r)
            checked += 1
    reads = sum(c["reads"] for c in r.results["faults"]["clocks"].values())
    check(reads >= checked, f"every read was a faked one ({reads} < {checked})", r)
    check_no_node_alive(r)
    return r, hist, checked


def test_threaded_go_node_paused_with_calls_pending():
    """Paused while goroutines wait in trapped calls: the calls are withdrawn and made again
    after the resume, nothing hangs, and every read is a faked one."""
    pauses = []
    for k in range(8):
        at = 0.3 + 0.45 * k
        who = {"targets": "all"} if k % 3 == 2 else {"nodes": [f"n{k % 3}"]}
        pauses += [dict({"at": at, "f": "pause"}, **who), {"at": at + 0.15, "f": "resume"}]
    r, hist, checked = stress_go(pauses)
    check(r.code == 0, "valid", r)
    check(all(e["applied"] for e in events(r, "pause")), "every pause applied", r)
    check(checked > 1000, f"enough reads checked: {checked}", r)
    resumes = [o["time"] for o in hist if o["process"] == "nemesis" and o["f"] == "resume"]
    last_ok = max(o["time"] for o in hist if o["type"] == "ok")
    check(last_ok > max(resumes), "the nodes kept answering after the last resume", r)
    r.cleanup()


def test_threaded_go_node_killed_while_eddy_answers():
    """Killed (SIGKILL to the group) at full speed, mid-call: eddy's answer finds nobody, the run
    goes on and ends, and every read that reached an ID was a faked one. (Whether the restarted
    Go node then answers correctly is the restart's business: its init runs in a goroutine.)"""
    kills = [{"at": 0.9, "f": "kill", "nodes": ["n1"]}, {"at": 1.2, "f": "start"},
             {"at": 2.0, "f": "kill", "nodes": ["n0", "n2"]}, {"at": 2.3, "f": "start"},
             {"at": 3.1, "f": "kill", "nodes": ["n1"]}, {"at": 3.3, "f": "start"}]
    r, hist, checked = stress_go(kills)
    check(all(e["applied"] for e in events(r, "kill") if "already" not in e["detail"]),
          "every kill applied", r)
    check(checked > 500, f"enough reads checked: {checked}", r)
    r.cleanup()


def test_a_flood_of_clock_calls_does_not_starve_the_run():
    """Every node reads the clock in two threads as fast as it can, for the whole run, through
    eddy: the workload still gets every op answered."""
    r = Run(["-w", "unique-ids", "--bin", built("cnode-raw"), "--node-count", "3",
             "--time-limit", "3", "--rate", "100", "--nemesis", "clock",
             "--nemesis-interval", "0.5", "--availability", "total", "--seed", "5", "--",
             "-ids", "unique", "-flood", "2"], timeout=120)
    check(r.code == 0, "valid, every op ok", r)
    trapped = sum(c["trapped-reads"] for c in r.results["faults"]["clocks"].values())
    check(trapped > 10000, f"the flood went through eddy: {trapped} reads", r)
    check_clock_faults_all_applied(r)
    r.cleanup()


def test_128_static_nodes_all_get_eddys_vdso():
    scen = {"workload": "unique-ids", "node-count": 128, "time-limit": 2, "rate": 500,
            "faults": [{"at": 0.3, "f": "clock-bump", "targets": "all", "delta-ms": -60000},
                       {"at": 0.8, "f": "clock-strobe", "targets": "all", "delta-ms": 500,
                        "period-ms": 30},
                       {"at": 1.3, "f": "clock-reset", "targets": "all"}]}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(scen, f)
    r = Run(["--scenario", f.name, "--bin", built("cnode-static"), "--seed", "2", "--",
             "-ids", "unique"], timeout=180)
    os.unlink(f.name)
    check(r.code == 0, "valid", r)
    check(len(events(r, "clock")) >= 3 * 128, "a clock event for every node", r)
    check_clock_faults_all_applied(r)
    check_route(r, "vdso", STATIC)
    check(all(c["vdso"] == "eddy's" for c in r.results["faults"]["clocks"].values()),
          "every node got eddy's vDSO", r)
    check_no_node_alive(r)
    r.cleanup()


# ==== An exec inside the node ====

def test_wrapper_script_that_execs_a_go_node_is_followed():
    """The script's shell loads the library; the Go program it execs cannot use it, so eddy
    follows the exec, gives the new program eddy's vDSO, and the node goes over to it."""
    with tempfile.TemporaryDirectory() as d:
        script = os.path.join(d, "node.sh")
        with open(script, "w") as f:
            f.write(f"#!/bin/sh\nexec {eddytest.gonode()} \"$@\"\n")
        os.chmod(script, 0o755)
        r = run(script, ["-ids", "ms-seq"], "clock-skew.json", 5)
    check(r.code == 1 and r.results["workload"]["duplicated-count"] > 0,
          "the Go program's ms-seq IDs are caught", r)
    check_clock_faults_all_applied(r)
    check_route(r, "vdso", "it exec'd a program the preload library cannot reach")
    for name, c in r.results["faults"]["clocks"].items():
        check(c["trap"]["execs-followed"] >= 1 and c["trap"]["execs-vdso-replaced"] >= 1,
              f"{name}: the exec was followed and the vDSO replaced", r)
    r.cleanup()


# ==== Forcing a route ====

def test_forced_syscall_route_on_a_dynamic_node():
    r = run(node_bin(), ["--ids", "snowflake"], "clock-skew.json", 5,
            extra=["--clock-via", "syscall"])
    check(r.code == 1 and r.results["workload"]["duplicated-count"] > 0,
          "eddy-node's snowflake caught through system calls alone", r)
    check_clock_faults_all_applied(r)
    check_route(r, "syscall", "--clock-via syscall")
    for name, c in r.results["faults"]["clocks"].items():
        check(not c["library-loaded"] and c["trapped-reads"] > 0, f"{name}: no library", r)
    r.cleanup()
    r = run(node_bin(), ["--ids", "eddy"], "clock-skew.json", 3, extra=["--clock-via", "syscall"])
    check(r.code == 0, "the default scheme stays valid", r)
    r.cleanup()


# ==== Where the system forbids the route ====

def forbidden(call, args, code):
    deny = built("deny-syscall")
    cmd = [deny, call, "--", eddytest.eddy_bin(), "test", "--no-progress"]
    with tempfile.TemporaryDirectory() as store:
        p = subprocess.run(cmd + ["--store", store] + args, capture_output=True, text=True,
                           timeout=120)
        latest = os.path.join(store, "latest", "results.json")
        with open(latest) as f:
            res = json.load(f)
    check(p.returncode == code, f"exit {p.returncode}, want {code}:\n{p.stdout}\n{p.stderr}")
    return p, res


def test_forbidden_ptrace_or_seccomp_is_said_once_per_node():
    base = ["--scenario", scenario("clock-skew.json"), "--time-limit", "2", "--seed", "4",
            "--bin", built("cnode-static"), "--", "-ids", "unique"]
    for call, words in (("ptrace", "ptrace is not permitted here"),
                        ("seccomp", "the kernel refused a seccomp filter with user notification")):
        p, res = forbidden(call, base, 2)
        lines = [l for l in p.stderr.splitlines() if "clock faults cannot reach" in l]
        check(len(lines) == 3 and all(words in l for l in lines),
              f"{call}: one plain line per node: {lines}")
        clock = [e for e in res["faults"]["events"] if e["kind"] == "clock"]
        check(clock and not any(e["applied"] for e in clock), f"{call}: nothing faked")
        check(res["valid?"] == "unknown" and words in res["faults"]["unreached"],
              f"{call}: unknown, and why: {res['faults'].get('unreached')}")
        last = p.stdout.strip().splitlines()[-1]
        check(last.startswith("Errors occurred during analysis") and words in last,
              f"{call}: the verdict line says why: {last}")


def test_forbidden_process_vm_writev_falls_back_to_proc_mem():
    base = ["--scenario", scenario("clock-skew.json"), "--time-limit", "5", "--seed", "4",
            "--bin", built("cnode-static"), "--", "-ids", "ms-seq"]
    p, res = forbidden("process_vm_writev", base, 1)
    check(res["workload"]["duplicated-count"] > 0, "the clock was still faked, and caught")
    check(not [e for e in res["faults"]["events"] if e["kind"] == "clock" and not e["applied"]],
          "every clock fault applied")


if __name__ == "__main__":
    main(globals())
