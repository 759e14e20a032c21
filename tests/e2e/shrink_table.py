#!/usr/bin/env python3
"""What `eddy shrink` finds for each eddy-node ID strategy: README's strategy x shrink table.

    python3 tests/e2e/shrink_table.py BUILD_DIR [--scenario FILE] [--seed N] [--budget S]
                                      [--strategy NAME]...

For each strategy, runs the scenario (default chaos.json) once with the given seed; when the run
is invalid, runs `eddy shrink` on its run directory and prints, as markdown, the diagnosis class
that dominates the original run, the minimal scenario's fault events, its time limit, node count
and rate, and the seconds the search took. A strategy the run does not catch gets a row that says
so. Also shrinks `counter` on 2 nodes with no faults asked for, the flaw that needs none. Not a
test: each shrink may take up to its budget (default 180 s).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

args = sys.argv[1:]
if "-h" in args or "--help" in args:
    print(__doc__.strip())
    sys.exit(0)
BUILD = args.pop(0) if args and not args[0].startswith("--") else "build"
SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def opt(name, default, many=False):
    vals = [args[i + 1] for i, a in enumerate(args) if a == name and i + 1 < len(args)]
    if many:
        return vals or default
    return vals[-1] if vals else default


SCENARIO = opt("--scenario", os.path.join(SOURCE, "scenarios", "chaos.json"))
SEED = opt("--seed", "1")
BUDGET = opt("--budget", "180")
STRATEGIES = opt("--strategy", ["eddy", "counter", "timestamp", "node-counter",
                                "node-counter-time", "snowflake", "random32", "uuid4", "uuid7"],
                 many=True)
eddy = os.path.join(BUILD, "bin", "eddy")
node = os.path.join(BUILD, "bin", "eddy-node")


def run_dir(stdout):
    for line in stdout.splitlines():
        if line.startswith("Run: "):
            return line[5:].strip()
    return None


def shrink_row(label, test_args, store):
    t0 = time.monotonic()
    p = subprocess.run([eddy, "test", "--store", store, "--no-progress"] + test_args,
                       capture_output=True, text=True)
    d = run_dir(p.stdout)
    if p.returncode != 1 or not d:
        what = {0: "valid", 2: "unknown"}.get(p.returncode, f"exit {p.returncode}")
        return f"| {label} | not caught ({what}) | | | |"
    with open(os.path.join(d, "results.json")) as f:
        res = json.load(f)
    diag = res.get("diagnosis") or [{}]
    cls = f"{diag[0].get('class', '?')} ({diag[0].get('count', '?')})"
    p = subprocess.run([eddy, "shrink", "--budget", BUDGET, "--store", store, d],
                       capture_output=True, text=True)
    info_path = os.path.join(store, "shrink", "latest", "shrink.json")
    if p.returncode not in (0, 1) or not os.path.exists(info_path):
        return f"| {label} | {cls} | shrink exited {p.returncode} | | {time.monotonic() - t0:.0f} |"
    with open(info_path) as f:
        info = json.load(f)
    with open(os.path.join(store, "shrink", "latest", "minimal.json")) as f:
        m = json.load(f)
    events = ", ".join(e["f"] + (" " + ",".join(e["nodes"]) if e.get("nodes") else "")
                       for e in m.get("faults", [])) or "none"
    nodes = m.get("node-count", "?")
    scen = (f"{info['fault-events']} event{'' if info['fault-events'] == 1 else 's'} ({events}); "
            f"{nodes} node{'' if nodes == 1 else 's'}, rate {m.get('rate')}, {m.get('time-limit')} s")
    same = "" if info.get("class") == diag[0].get("class") else f" (class {info.get('class')})"
    return (f"| {label} | {cls} | {scen}{same} | {len(info.get('steps', []))} | "
            f"{info['seconds']:.0f} |")


def main():
    print(f"eddy shrink per strategy: {os.path.basename(SCENARIO)}, seed {SEED}, budget "
          f"{BUDGET} s\n", flush=True)
    print("| strategy | dominant class (IDs) | minimal scenario | candidates | search s |")
    print("|---|---|---|---|---|", flush=True)
    for s in STRATEGIES:
        store = tempfile.mkdtemp(prefix="eddy-shrink-table-")
        try:
            print(shrink_row(s, ["--scenario", SCENARIO, "--bin", node, "--seed", SEED, "--",
                                 "--ids", s], store), flush=True)
        finally:
            shutil.rmtree(store, ignore_errors=True)
    store = tempfile.mkdtemp(prefix="eddy-shrink-table-")
    try:
        print(shrink_row("counter, 2 nodes, no faults", ["-w", "unique-ids", "--bin", node,
                                                         "--node-count", "2", "--time-limit",
                                                         "10", "--rate", "100", "--seed", SEED,
                                                         "--", "--ids", "counter"], store),
              flush=True)
    finally:
        shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    main()
