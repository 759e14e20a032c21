#!/usr/bin/env python3
"""eddy's benchmark table (make bench). Not a test: it measures and prints, it asserts nothing.

    python3 tests/bench/bench.py BUILD_DIR [--runs N] [--quick] [--only 1,7,8,9]

Every figure is the median of N runs (default 5) measured in this one invocation on this
machine, so ratios between rows are meaningful even when the machine is shared and noisy. The
ratio of (3) to (1), and the price of the history, are medians of per-round ratios: each round
runs (1), (3) and (3) without the history one after the other, so that the runs compared see the
same machine, whatever the other tenants do between rounds. (7) and (8) are the diagnosis's
costs: the ID properties in a matrix run and --fail-fast's time to exit.

(9) to (12) measure the bounds on the checker: memory per ID (the ID set fed directly), two
10-minute runs at full speed, made once each (their length is the point): peak RSS, throughput
while the ID set spills against throughput before, and a counter's duplicates counted exactly;
and 64 KB IDs from Python nodes for 60 s against a 64 MiB budget, with one duplicate or one
pair that differs in its last byte. --quick shortens the long runs to 60 s and (12) to 10 s.
--only runs the listed figures alone (1 to 6 go together).

(13) is clock_bench (each clock route, per read); (14), a Go node with and without continuous
clock faults, is paired the same way as (1) to (3).
"""
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
RUNS = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 5
QUICK = "--quick" in sys.argv
ONLY = (set(sys.argv[sys.argv.index("--only") + 1].split(",")) if "--only" in sys.argv
        else None)


def wanted(fig):
    return ONLY is None or fig in ONLY
EDDY = os.path.join(BUILD, "bin", "eddy")
NODE = os.path.join(BUILD, "bin", "eddy-node")
PIPE = os.path.join(BUILD, "tests", "pipe_bench")
MAXRSS = os.path.join(BUILD, "tests", "maxrss")


def med(xs):
    print(f"  runs: {', '.join(f'{x:,.3f}' for x in xs)}", file=sys.stderr, flush=True)
    return statistics.median(xs)


def eddy_run(args, store, codes=(0, 1)):
    p = subprocess.run([EDDY, "test", "--store", store, "--no-progress"] + args,
                       capture_output=True, text=True)
    if p.returncode not in codes:
        raise RuntimeError(f"eddy exited {p.returncode}: {p.stderr}")
    with open(os.path.join(store, "latest", "results.json")) as f:
        r = json.load(f)
    shutil.rmtree(store, ignore_errors=True)
    os.makedirs(store)
    return r


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{model}, {os.cpu_count()} CPUs, {mem:.0f} GiB, Linux {platform.release()}, "
            f"{time.strftime('%Y-%m-%d')}")


def node_alone(n, path):
    """eddy-node on a file of n generate requests: requests/s and peak RSS (KB)."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        with open(path, "w") as f:
            f.write('{"id":0,"src":"c0","dest":"n0","body":{"type":"init","node_id":"n0",'
                    '"node_ids":["n0"],"msg_id":1}}\n')
            line = '{"id":%d,"src":"c2","dest":"n0","body":{"type":"generate","msg_id":%d}}\n'
            chunk = []
            for i in range(1, n + 1):
                chunk.append(line % (i, i))
                if len(chunk) == 100000:
                    f.write("".join(chunk))
                    chunk = []
            f.write("".join(chunk))
    rates, rss = [], []
    for _ in range(RUNS):
        with open(path) as inp, open(os.devnull, "w") as out:
            p = subprocess.run([MAXRSS, NODE], stdin=inp, stdout=out, stderr=subprocess.PIPE,
                               text=True)
        fields = dict(kv.split("=") for kv in p.stderr.split()[-2:])
        rates.append(n / float(fields["seconds"]))
        rss.append(float(fields["maxrss_kb"]))
    return med(rates), med(rss)


def idset_bench(count, id_bytes=0):
    out = subprocess.run([os.path.join(BUILD, "tests", "idset_bench"), str(count), str(id_bytes)],
                         capture_output=True, text=True).stdout
    return dict(kv.split("=") for kv in out.split())


def rates(r, limit):
    """ok ops/s per whole bucket of the client phase, with each bucket's start time."""
    p = r["plot"]
    width = p["bucket-seconds"]
    return [(b["t"], b["ok"] / width) for b in p["buckets"] if b["t"] + width <= limit]


def checker_figures(rows):
    # (9) Memory per ID, exactly: the ID set fed eddy-node's IDs, then 64 KB IDs.
    if wanted("9"):
        f = idset_bench(1_000_000 if QUICK else 10_000_000)
        rows.append((f"9. ID set memory per ID, eddy-node's IDs, {int(f['ids']):,} IDs",
                     f"{float(f['bytes_per_id']):.1f} bytes/ID",
                     f"{float(f['worst_bytes_per_id']):.1f} at worst on the way; plus a fixed "
                     f"{int(f['fixed_bytes']) / 2**20:.1f} MiB (window of recent IDs); "
                     f"{float(f['inserts_per_s']):,.0f} inserts/s"))
        f = idset_bench(5_000 if QUICK else 20_000, 65536)
        rows.append((f"9. ID set memory per ID, 64 KB IDs, {int(f['ids']):,} IDs",
                     f"{float(f['bytes_per_id']):.1f} bytes/ID",
                     f"plus a fixed {int(f['fixed_bytes']) / 2**20:.1f} MiB; the IDs' "
                     f"{int(f['disk_bytes']) / 2**30:.2f} GiB went to the spill file"))
    secs = 60 if QUICK else 600
    store = tempfile.mkdtemp(prefix="eddy-bench-long-")
    base = ["-w", "unique-ids", "--bin", NODE, "--node-count", "3", "--rate", "max",
            "--concurrency", "100n", "--time-limit", str(secs), "--no-history"]
    # (10) Ten minutes at full speed on 3 eddy-nodes: peak RSS, and throughput once the ID set
    # spills (past its 1 GiB default budget) against throughput before, from the same run.
    if wanted("10"):
        r = eddy_run(base, store)
        k = r["workload"]["eddy-checker"]
        rss = r["eddy"]["max-rss-kb"] * 1024
        rows.append((f"10. {secs} s at --rate max, 3 eddy-nodes: eddy's peak RSS",
                     f"{rss / 2**30:.2f} GiB",
                     f"{r['stats']['ok-count']:,} IDs; ID set {k['bytes-max'] / 2**30:.2f} GiB "
                     f"at most (budget {k['memory-budget'] / 2**30:.0f} GiB), "
                     f"{k['runs-on-disk']:,} runs and {k['disk-bytes'] / 2**30:.1f} GiB on disk"))
        series = rates(r, secs)
        start = k.get("runs-from-s")
        if start is None:
            rows.append(("10. throughput while spilling / in memory", "n/a",
                         "the ID set never spilled"))
        else:
            before = [x for t, x in series if t + r["plot"]["bucket-seconds"] <= start]
            after = [x for t, x in series if t >= start]
            rows.append(("10. throughput while spilling / in memory, same run",
                         f"{statistics.median(after) / statistics.median(before):.2f}",
                         f"medians of {r['plot']['bucket-seconds']:.1f}-s buckets: "
                         f"{statistics.median(before):,.0f} ok ops/s before {start:.0f} s, "
                         f"{statistics.median(after):,.0f} after"))
    # (11) The same with eddy-node's counter: every ID returned by up to three nodes. Node i
    # returns 1, 2, ... c_i, so the duplicated IDs are the second largest c_i and the ops beyond
    # the first of each ID sum(c) - max(c): the run's own per-node counts check the checker.
    if wanted("11"):
        r = eddy_run(base + ["--", "--ids", "counter"], store)
        w = r["workload"]
        c = sorted(n["ok"] for n in r["nodes"].values())
        exact = (w["duplicated-count"] == c[-2] and
                 w["eddy-checker"]["ops-beyond-first"] == sum(c) - c[-1])
        rows.append((f"11. {secs} s at --rate max, 3 eddy-nodes --ids counter: duplicates",
                     f"{w['duplicated-count']:,} duplicated IDs",
                     f"{'exact' if exact else 'NOT EXACT'}: per-node ok counts {c} give "
                     f"{c[-2]:,} and {sum(c) - c[-1]:,} ops beyond the first (eddy: "
                     f"{w['eddy-checker']['ops-beyond-first']:,}); peak RSS "
                     f"{r['eddy']['max-rss-kb'] / 2**20:.2f} GiB, "
                     f"{w['eddy-checker']['runs-on-disk']:,} runs on disk"))
    # (12) 64 KB IDs from two Python nodes at --rate max for 60 s, against a 64 MiB budget:
    # the first node returns its first ID again as its 5,000th, or (second run) that ID with
    # its last byte changed. Judged exactly: one duplicate with two ops, then none.
    if wanted("12"):
        big = 10 if QUICK else 60
        pynode = os.path.join(os.path.dirname(__file__), "..", "e2e", "pynode.py")
        for mode, want in (("big-dup", 1), ("big-near", 0)):
            r = eddy_run(["-w", "unique-ids", "--bin", pynode, "--node-count", "2", "--rate",
                          "max", "--time-limit", str(big), "--checker-memory", "64M", "--",
                          "--mode", mode, "--after", "5000"], store)
            w = r["workload"]
            k = w["eddy-checker"]
            ok = r["stats"]["ok-count"]
            exact = (w["duplicated-count"] == want and
                     all(d["count"] == 2 and len(d["ops"]) == 2 for d in w["duplicates"]))
            rows.append((f"12. 64 KB IDs ({mode}), 2 Python nodes, --rate max, {big} s, "
                         "budget 64 MiB",
                         f"ID set {k['bytes-max'] / 2**20:.1f} MiB at most",
                         f"{ok:,} IDs ({ok * 65536 / 2**30:.1f} GiB of them); eddy's peak RSS "
                         f"{r['eddy']['max-rss-kb'] / 1024:.0f} MB; {w['duplicated-count']} "
                         f"duplicated ({'exact' if exact else 'NOT EXACT'}, want {want}); "
                         f"{k['disk-bytes'] / 2**30:.1f} GiB spilled"))
    shutil.rmtree(store, ignore_errors=True)
def clock_bench():
    """One run of clock_bench: {section title: {measurement: ns per call}}."""
    out = subprocess.run([os.path.join(BUILD, "tests", "clock_bench"),
                          "500000" if QUICK else "2000000"],
                         capture_output=True, text=True).stdout
    sections, cur = {}, None
    for line in out.splitlines():
        if not line.startswith("    "):
            cur = sections.setdefault(line.strip(), {})
        elif cur is not None and len(line.split()) == 2:
            name, ns = line.split()
            cur[name] = float(ns)
    return sections


def clock_rows(store, secs):
    """(13) What a faked clock read costs through each route, and (14) what continuous clock
    faults cost a Go node that reads the clock for each ID, at --rate max."""
    rows = []
    runs = [clock_bench() for _ in range(RUNS)]

    def pick(prefix, name):
        return med([next(v for k, v in r.items() if k.startswith(prefix))[name] for r in runs])
    vdso = pick("no preload", "clock_gettime_realtime")
    lib = pick("preload, offset", "clock_gettime_realtime")
    trap = pick("system calls", "clock_gettime_realtime")
    ours = pick("eddy's vDSO", "clock_gettime_realtime")
    rows.append(("13. one faked clock_gettime(CLOCK_REALTIME): preload library",
                 f"{lib:,.0f} ns", f"the real vDSO read: {vdso:,.0f} ns"))
    rows.append(("13. one faked clock_gettime(CLOCK_REALTIME): eddy's vDSO (static program)",
                 f"{ours:,.0f} ns", f"{ours / lib:.1f} times the library's"))
    rows.append(("13. one faked clock_gettime(CLOCK_REALTIME): system calls, answered by eddy",
                 f"{trap:,.0f} ns", f"{trap / lib:,.0f} times the library's"))
    with_filter = pick("filter only", "getppid_syscall")
    without = pick("no filter", "getppid_syscall")
    rows.append(("13. any other system call with the filter installed (getppid)",
                 f"{with_filter:,.0f} ns", f"{without:,.0f} ns without it"))

    # (14) In rounds: the same Go node without clock faults (no route at all), then under a clock
    # fault every 0.2 s on some node (the system-call route), back to back.
    gonode = os.path.join(BUILD, "tests", "gonode")
    faulty = os.path.join(store, "..", "eddy-bench-clock-faults.json")
    with open(faulty, "w") as f:
        json.dump({"random": {"interval": 0.2, "weights": {"clock": 1}}}, f)
    base = ["-w", "unique-ids", "--bin", gonode, "--node-count", "3", "--rate", "max",
            "--concurrency", "100n", "--time-limit", secs, "--no-history"]
    clean, faulted = [], []
    for _ in range(RUNS):
        clean.append(eddy_run(base + ["--", "-ids", "ms-seq"], store)["stats"]["ok-count"] /
                     float(secs))
        faulted.append(eddy_run(["--scenario", faulty] + base + ["--", "-ids", "ms-seq"],
                                store)["stats"]["ok-count"] / float(secs))
    os.unlink(faulty)
    ratio = med([f / c for f, c in zip(faulted, clean)])
    rows.append(("14. Go node (ms-seq: a clock read per ID, under a lock), --rate max, "
                 "continuous clock faults",
                 f"{med(faulted):,.0f} ok ops/s",
                 f"{ratio:.2f} of its {med(clean):,.0f} ops/s without them, median of paired runs"))
    return rows


def main():
    store = tempfile.mkdtemp(prefix="eddy-bench-")
    rows = []
    print(f"eddy benchmark: {machine()}; median of {RUNS} runs\n", flush=True)
    if ONLY is not None and not ONLY & {"1", "2", "3", "4", "5", "6"}:
        checker_figures(rows)
        if wanted("13") or wanted("14"):
            rows += clock_rows(store, "5" if QUICK else "10")
        print_rows(rows)
        return

    # (1) The ceiling, and (3) the whole data path with the history written, in pairs.
    secs = "5" if QUICK else "10"
    base = ["-w", "unique-ids", "--bin", NODE, "--node-count", "3", "--rate", "max",
            "--concurrency", "100n", "--time-limit", secs, "--history-max", "0"]
    # Each round also runs (3) without the history, for (6), so that its price is measured
    # against the same machine too.
    limits, opss, opss_nh = [], [], []
    for _ in range(RUNS):
        limits.append(float(subprocess.run([PIPE, "3" if QUICK else "5", "300"],
                                           capture_output=True, text=True).stdout.split()[0]))
        opss.append(eddy_run(base, store)["stats"]["ok-count"] / float(secs))
        opss_nh.append(eddy_run(base + ["--no-history"], store)["stats"]["ok-count"] / float(secs))
    limit = med(limits)
    ops = med(opss)
    ratio = med([o / lim for o, lim in zip(opss, limits)])
    ops_nh = med(opss_nh)
    history_cost = med([1 - o / nh for o, nh in zip(opss, opss_nh)])
    rows.append(("1. pipe round trips, 2 processes, batched, no JSON (the limit)",
                 f"{limit:,.0f} msgs/s", ""))

    # (2) eddy-node alone.
    tmp = tempfile.mkdtemp(prefix="eddy-bench-node-")
    sizes = [1_000_000, 4_000_000] if QUICK else [1_000_000, 4_000_000, 10_000_000]
    for n in sizes:
        rate, rss = node_alone(n, os.path.join(tmp, f"gen-{n}.jsonl"))
        rows.append((f"2. eddy-node alone, {n:,} generate requests from a file",
                     f"{rate:,.0f} req/s", f"peak RSS {rss / 1024:.1f} MB"))
    shutil.rmtree(tmp, ignore_errors=True)

    rows.append((f"3. eddy test unique-ids, 3 eddy-nodes, --rate max, 300 workers, {secs} s",
                 f"{ops:,.0f} ok ops/s", f"{ratio:.2f} of (1), median of paired runs"))

    # (4) Latency at a fixed 10,000 ops/s.
    lat = [eddy_run(["-w", "unique-ids", "--bin", NODE, "--node-count", "3", "--rate", "10000",
                     "--concurrency", "10n", "--time-limit", secs], store) for _ in range(RUNS)]
    p50 = med([r["latency"]["all-ms"]["p50"] for r in lat])
    p99 = med([r["latency"]["all-ms"]["p99"] for r in lat])
    rows.append(("4. op latency at 10,000 ops/s (eddy + pipes + eddy-node)",
                 f"p50 {p50 * 1000:.0f} us", f"p99 {p99 * 1000:.0f} us"))

    # (5) A thousand nodes.
    big = [eddy_run(["-w", "unique-ids", "--bin", NODE, "--node-count", "1000", "--rate", "max",
                     "--time-limit", "5"], store) for _ in range(RUNS)]
    rows.append(("5. 1,000 nodes: spawn + init all",
                 f"{med([r['eddy']['init-ms'] for r in big]) / 1000:.2f} s",
                 f"eddy peak RSS {med([r['eddy']['max-rss-kb'] for r in big]) / 1024:.0f} MB, "
                 f"{med([r['stats']['ok-count'] / 5 for r in big]):,.0f} ops/s"))

    # (6) The price of the history (the checker's memory is (9)).
    rows.append(("6. throughput without the history (as 3)", f"{ops_nh:,.0f} ok ops/s",
                 f"history costs {history_cost * 100:.0f}%, median of paired runs"))

    # (8) --fail-fast: from the first duplicate to eddy's exit, every output written.
    delays = []
    for _ in range(RUNS):
        t0 = time.monotonic()
        r = eddy_run(["-w", "unique-ids", "--bin", NODE, "--node-count", "3", "--rate", "max",
                      "--concurrency", "10n", "--time-limit", "60", "--fail-fast", "--",
                      "--ids", "counter"], store)
        wall = time.monotonic() - t0
        delays.append(wall - r["eddy"]["init-ms"] / 1000 - r["first-anomaly"]["time"])
    fail_fast = med(delays)

    # (7) What the ID properties (idprops.c) add to the checker thread, per op.
    cb = [[float(x) for x in subprocess.run([os.path.join(BUILD, "tests", "check_bench"),
                                             "1000000" if QUICK else "3000000"],
                                            capture_output=True, text=True).stdout.split()]
          for _ in range(RUNS)]
    rows.append(("7. checker thread CPU per op, without / with the ID properties",
                 f"{med([c[0] for c in cb]):.0f} / {med([c[1] for c in cb]):.0f} ns",
                 f"+{med([c[1] - c[0] for c in cb]):.0f} ns per op (median of paired runs)"))
    rows.append(("8. --fail-fast: from the first duplicate to eddy's exit (counter, 3 nodes, "
                 "--rate max, 60 s limit)", f"{fail_fast * 1000:.0f} ms",
                 "every output and the verdict written"))

    checker_figures(rows)
    if wanted("13") or wanted("14"):
        rows += clock_rows(store, secs)
    shutil.rmtree(store, ignore_errors=True)
    print_rows(rows)


def print_rows(rows):
    print("| measurement | result | note |")
    print("|---|---|---|")
    for name, value, note in rows:
        print(f"| {name} | {value} | {note} |")


if __name__ == "__main__":
    main()
