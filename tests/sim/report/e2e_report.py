#!/usr/bin/env python3
"""e2e_report.py: report.html and --junit from real eddy runs.

    e2e_report.py EDDY EDDY_NODE

Runs eddy twice on eddy-node for about two seconds each, into a temporary --store:
  1. unique-ids with partition, kill, pause and clock faults: report.html must pass
     check_html.py against its results.json and show fault spans; the JUnit XML must parse and
     hold one testcase per checker in results.json.
  2. unique-ids without faults and with --ids counter (passed to eddy-node), which hands out
     duplicated IDs on three nodes: eddy exits 1, the page lists the duplicates, and the JUnit
     "workload" testcase has a <failure>.
Exits 0 when everything holds, 1 (with the reasons) otherwise.
"""

import glob
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKERS = ("workload", "stats", "availability", "protocol", "exceptions", "net", "perf",
            "timeline")


def run_eddy(eddy, node, store, junit, extra):
    # Node arguments go after "--" in extra, which comes last.
    cmd = [eddy, "test", "-w", "unique-ids", "--bin", node, "--node-count", "3",
           "--time-limit", "2", "--rate", "300", "--store", store, "--junit", junit,
           "--no-progress", *extra]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=60)
    runs = sorted(glob.glob(os.path.join(store, "unique-ids", "*", "results.json")))
    return p, (os.path.dirname(runs[-1]) if runs else None)


def check_page(run_dir, expect, fail):
    page = os.path.join(run_dir, "report.html")
    results = os.path.join(run_dir, "results.json")
    if not os.path.exists(page):
        fail(f"no report.html in {run_dir}")
        return
    args = [sys.executable, os.path.join(HERE, "check_html.py"), page, "--results", results]
    for e in expect:
        args += ["--expect", e]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        fail(f"check_html.py failed on {page}:\n{p.stdout}")


def check_junit(path, results, want_failure, fail):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        fail(f"{path}: not well-formed XML: {e}")
        return
    if root.tag != "testsuites":
        fail(f"{path}: root <{root.tag}>, not <testsuites>")
    cases = {c.get("name"): c for c in root.iter("testcase")}
    present = [c for c in CHECKERS if c in results]
    if sorted(k for k in cases if k != "run") != sorted(present):
        fail(f"{path}: testcases {sorted(cases)}, results have checkers {sorted(present)}")
    for name in present:
        valid = results[name].get("valid?")
        failure = cases.get(name).find("failure") if name in cases else None
        error = cases.get(name).find("error") if name in cases else None
        if (valid is False) != (failure is not None):
            fail(f"{path}: {name} is valid?={valid} but <failure> is {failure}")
        if (valid is True) and error is not None:
            fail(f"{path}: {name} is valid but has an <error>")
    suite = root.find("testsuite")
    if suite is None or int(suite.get("tests", -1)) != len(cases):
        fail(f"{path}: testsuite tests= does not count its testcases")
    if want_failure and (want_failure not in cases or cases[want_failure].find("failure") is None):
        fail(f"{path}: expected a <failure> in testcase {want_failure}")


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    eddy, node = sys.argv[1:]
    failures = []
    fail = failures.append
    with tempfile.TemporaryDirectory(prefix="eddy-report-e2e-") as tmp:
        # 1. Faults: a partition, kills, pauses and clock changes within two seconds.
        junit = os.path.join(tmp, "faults.xml")
        p, run = run_eddy(eddy, node, os.path.join(tmp, "faults"), junit,
                          ["--nemesis", "partition,kill,pause,clock", "--nemesis-interval", "0.3",
                           "--seed", "7"])
        if p.returncode not in (0, 1, 2) or run is None:
            fail(f"the fault run exited {p.returncode} or wrote no results.json:\n{p.stdout}")
        else:
            with open(os.path.join(run, "results.json")) as f:
                results = json.load(f)
            events = results["faults"]["events"]
            if not any(e["applied"] and e["f"] in ("kill", "start-partition", "pause")
                       for e in events):
                fail("the fault run applied no kill, partition or pause")
            check_page(run, [], fail)
            with open(os.path.join(run, "report.html"), encoding="utf-8") as f:
                page = f.read()
            if 'class="fault"' not in page or 'class="shade"' not in page:
                fail("the fault run's page shows no fault spans")
            check_junit(junit, results, None, fail)
        # 2. Duplicates: eddy-node's naive counter IDs on three nodes, without faults.
        junit = os.path.join(tmp, "dups.xml")
        p, run = run_eddy(eddy, node, os.path.join(tmp, "dups"), junit,
                          ["--seed", "8", "--", "--ids", "counter"])
        if p.returncode != 1 or run is None:
            fail(f"the duplicate run exited {p.returncode} (want 1) or wrote no "
                 f"results.json:\n{p.stdout}")
        else:
            with open(os.path.join(run, "results.json")) as f:
                results = json.load(f)
            dups = len(results["workload"].get("duplicates", []))
            if dups == 0:
                fail("the duplicate run reported no duplicates")
            check_page(run, [f"dup_rows={min(dups, 200)}"], fail)
            check_junit(junit, results, "workload", fail)
    for msg in failures:
        print(f"e2e_report: {msg}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
