#!/usr/bin/env python3
"""Detection rates: every eddy-node ID strategy against scenarios, over many seeds.

    python3 tests/e2e/sweep.py BUILD_DIR [--seeds 20] [--first-seed 1]
                               [--scenario FILE]... [--strategy NAME]... [--go NAME]...
                               [--time-limit S]

Runs `eddy matrix` once per seed (rows: the strategies, columns: the scenarios) and prints, as
markdown, how many seeds caught each strategy in each scenario (an invalid verdict), plus the
seeds that did not. The default scenario list is chaos.json; the default strategies are all of
eddy-node's, plus the Go test node (tests/nodes/go) with the schemes given by --go (default
unique, ms-seq, snowflake, node-counter; --go none for none), in rows named go:NAME: their
clocks reach eddy's faults through system calls. Not a test: full-length chaos runs take 30 s
each.
"""
import json
import os
import subprocess
import sys
import tempfile

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


SEEDS = int(opt("--seeds", "20"))
FIRST = int(opt("--first-seed", "1"))
SCENARIOS = opt("--scenario", [os.path.join(SOURCE, "scenarios", "chaos.json")], many=True)
STRATEGIES = opt("--strategy", ["eddy", "counter", "timestamp", "node-counter",
                                "node-counter-time", "snowflake", "random32", "uuid4", "uuid7"],
                 many=True)
GO = [g for g in opt("--go", ["unique", "ms-seq", "snowflake", "node-counter"], many=True)
      if g != "none"]
LIMIT = opt("--time-limit", None)

eddy = os.path.join(BUILD, "bin", "eddy")
node = os.path.join(BUILD, "bin", "eddy-node")
gonode = os.path.join(BUILD, "tests", "gonode")
ROWS = [(s, f"{node} --ids {s}") for s in STRATEGIES] + [(f"go:{g}", f"{gonode} -ids {g}")
                                                         for g in GO]
STRATEGIES = [label for label, _ in ROWS]
caught = {(s, c): [] for s in STRATEGIES for c in SCENARIOS}
missed = {(s, c): [] for s in STRATEGIES for c in SCENARIOS}
broke = []
unfaulted = []  # runs in which some of the scenario's faults could not be injected
untimed = []  # runs in which a timeline event left no record in faults.events


def timeline_missing(scenario, run):
    """Indices of the scenario's timeline events (within the run's time limit) that left no
    record in the run's faults.events: an event that did not happen, applied or not."""
    with open(scenario) as f:
        timeline = json.load(f).get("faults", [])
    try:
        with open(os.path.join(run, "results.json")) as f:
            results = json.load(f)
    except (OSError, ValueError):
        return None
    limit = results["eddy"]["time-limit"]
    seen = {e["timeline"] for e in results["faults"]["events"] if "timeline" in e}
    return [i for i, e in enumerate(timeline) if e["at"] <= limit and i not in seen]


with tempfile.TemporaryDirectory(prefix="eddy-sweep-") as store:
    for seed in range(FIRST, FIRST + SEEDS):
        cmd = [eddy, "matrix", "--store", store, "--seed", str(seed)]
        for c in SCENARIOS:
            cmd += ["--scenario", c]
        for label, command in ROWS:
            cmd += ["--node", f"{label}={command}"]
        if LIMIT:
            cmd += ["--time-limit", LIMIT]
        subprocess.run(cmd, capture_output=True, text=True)
        mdir = os.path.join(store, "matrix")
        latest = max(os.listdir(mdir), key=lambda d: os.path.getmtime(os.path.join(mdir, d)))
        with open(os.path.join(mdir, latest, "matrix.json")) as f:
            cells = json.load(f)
        os.rename(os.path.join(mdir, latest), os.path.join(mdir, f"done-{seed}"))
        for cell in cells:
            key = (cell["node"], cell["scenario"])
            if cell.get("faults-not-applied", 0) > 0:
                unfaulted.append((seed, cell["node"], os.path.basename(cell["scenario"]),
                                  int(cell["faults-not-applied"])))
            missing = timeline_missing(cell["scenario"], cell.get("run", ""))
            if missing:
                untimed.append((seed, cell["node"], os.path.basename(cell["scenario"]), missing))
            if cell["verdict"] == "INVALID":
                caught[key].append(seed)
            elif cell["verdict"] == "valid":
                missed[key].append(seed)
            else:
                broke.append((seed, cell["node"], os.path.basename(cell["scenario"]),
                              cell["verdict"]))
        # Runs are big (history.jsonl); keep only the tables.
        for wl in os.listdir(store):
            if wl != "matrix" and not os.path.islink(os.path.join(store, wl)):
                subprocess.run(["rm", "-rf", os.path.join(store, wl)])
        print(f"seed {seed} done", file=sys.stderr, flush=True)

names = [os.path.basename(c) for c in SCENARIOS]
print(f"Seeds {FIRST}..{FIRST + SEEDS - 1}; each cell: seeds on which the strategy was caught "
      f"(an invalid verdict) out of {SEEDS}" + (f"; --time-limit {LIMIT}" if LIMIT else ""))
print()
print("| strategy | " + " | ".join(names) + " |")
print("|---|" + "---|" * len(names))
for s in STRATEGIES:
    cells = []
    for c in SCENARIOS:
        n = len(caught[(s, c)])
        miss = missed[(s, c)]
        cells.append(f"{n}/{SEEDS}" + (f" (valid on {','.join(map(str, miss))})"
                                        if miss and n else ""))
    print(f"| `{s}` | " + " | ".join(cells) + " |")
if broke:
    print()
    print("Runs that did not end in a verdict:", broke)
if unfaulted:
    print()
    print("Runs with faults that could not be applied (seed, node, scenario, count):", unfaulted)
print()
if untimed:
    print("Runs in which timeline events never happened (seed, node, scenario, indices):",
          untimed)
else:
    print("Every timeline event of every run is in its faults.events.")
