#!/usr/bin/env python3
"""check_html.py: asserts the structure of an eddy report.html.

    check_html.py PAGE [--results RESULTS.json] [--expect NAME=N ...] [--max-bytes N]

The page must parse as XML (xml.etree.ElementTree), be self-contained (no scripts with a
source, no external references, no http(s) URL outside namespace declarations) and keep its
parts in their documented shape. With --results, the counts of marks, bars, fault spans, arrows
and table rows are compared with what that result map implies; the fault spans are derived here
independently of the C code, by the rules in sim/report/report_span.h. --expect NAME=N pins a count
exactly (names: see COUNTS). Exits 0 when every check passes, 1 with one line per failure.
"""

import argparse
import json
import re
import sys
import xml.etree.ElementTree as ET

XHTML = "http://www.w3.org/1999/xhtml"
SVG = "http://www.w3.org/2000/svg"

DUPS_MAX = 200
FAULT_ROWS_MAX = 1000
ROWS_MAX = 200
LANES_MAX = 32
SPAN_MAX = 3000
CLOCKS_MAX = 32
NODES_MAX = 64
COLUMNS_MAX = 40
MESSAGES_MAX = 1000
FINDINGS_MAX = 20

# What --expect can pin, and how each count is taken from the parsed page.
COUNTS = {
    "svg": "every <svg>",
    "marks": "scatter marks in #plot-latency",
    "marks_ok": "ok marks", "marks_info": "info marks", "marks_fail": "fail marks",
    "bars": "throughput bars",
    "faults": "fault span rects in #plot-latency's lanes",
    "faults_na": "not-applied marks in #plot-latency's lanes",
    "fault_marks": "instant (clock) marks in #plot-latency's lanes",
    "shades": "fault shading rects in #plot-latency",
    "arrows": "message arrows (delivered)",
    "stubs": "messages that never arrived",
    "dup_rows": "rows of the duplicates table",
    "violation_rows": "rows of the violations table",
    "fault_rows": "rows of the fault table",
    "not_applied_rows": "fault table rows marked not applied",
    "clock_lines": "clock offset lines",
    "node_bars": "bars of the ops-per-node chart",
    "findings": "findings in #diagnosis",
    "example_ops": "rows of the findings' example tables",
}


def local(tag):
    return tag.rsplit("}", 1)[-1]


def classes(el):
    return el.get("class", "").split()


def find_id(root, ident):
    for el in root.iter():
        if el.get("id") == ident:
            return el
    return None


def count(el, tag, cls=None, **attrs):
    if el is None:
        return 0
    n = 0
    for x in el.iter():
        if local(x.tag) != tag or (cls and cls not in classes(x)):
            continue
        if all(x.get(k.replace("_", "-")) == v for k, v in attrs.items()):
            n += 1
    return n


def text_of(el):
    return "".join(el.itertext()) if el is not None else ""


# ==== Self-containment ====

REF_ATTRS = ("href", "src", "srcset", "action", "poster", "data", "formaction",
             "{http://www.w3.org/1999/xlink}href")


def check_self_contained(raw, root, fail):
    for el in root.iter():
        name = local(el.tag)
        if name == "script" and el.get("src") is not None:
            fail("a <script src=...>")
        if name in ("link", "iframe", "img", "object", "embed", "base", "audio", "video"):
            fail(f"an external-resource element <{name}>")
        for attr in REF_ATTRS:
            v = el.get(attr)
            if v is not None and not v.startswith("#"):
                fail(f"<{name}> has a non-local {attr}={v!r}")
        style = el.get("style", "") + (el.text or "" if name == "style" else "")
        for ref in re.findall(r"url\(\s*['\"]?([^)'\"]*)", style):
            if not ref.startswith("#"):
                fail(f"<{name}> style references {ref!r}")
        if name == "style" and "@import" in style:
            fail("<style> has an @import")
    # Namespace declarations are the only place a URL may appear.
    stripped = re.sub(r'xmlns(:\w+)?="[^"]*"', "", raw)
    for m in re.finditer(r"https?://", stripped):
        fail(f"a URL outside xmlns: {stripped[m.start():m.start() + 60]!r}")


# ==== Structure ====

HTML_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
             "source", "track", "wbr"}


def check_self_closing(raw, fail):
    """An HTML parser reads <div/> as an open tag: outside <svg>, only void elements may
    close themselves. ElementTree cannot tell <x/> from <x></x>, so look at the source."""
    html_part = re.sub(r"<svg\b.*?</svg>", "", raw, flags=re.S)
    for m in re.finditer(r"<([A-Za-z][\w-]*)\b[^<>]*/>", html_part):
        if m.group(1).lower() not in HTML_VOID:
            fail(f"<{m.group(1)}/> closes itself outside <svg>")


def check_structure(root, fail):
    if root.tag != f"{{{XHTML}}}html":
        fail(f"the root is {root.tag}, not XHTML's <html>")
    for el in root.iter():
        if local(el.tag) == "svg" and el.tag != f"{{{SVG}}}svg":
            fail("an <svg> without the SVG namespace")
    verdict = find_id(root, "verdict")
    if verdict is None:
        fail("no #verdict")
    elif not set(classes(verdict)) & {"valid", "invalid", "unknown"}:
        fail(f"#verdict has class {verdict.get('class')!r}")
    if find_id(root, "command") is None:
        fail("no #command")


def page_counts(root):
    lat = find_id(root, "plot-latency")
    thr = find_id(root, "plot-throughput")
    msgs = find_id(root, "plot-messages")
    marks = {t: sum(len(list(g)) for g in lat.iter() if local(g.tag) == "g"
                    and "marks" in classes(g) and g.get("data-type") == t) if lat is not None
             else 0 for t in ("ok", "info", "fail")}
    return {
        "svg": count(root, "svg"),
        "marks": sum(marks.values()),
        "marks_ok": marks["ok"], "marks_info": marks["info"], "marks_fail": marks["fail"],
        "bars": count(thr, "rect", "bar"),
        "faults": count(lat, "rect", "fault"),
        "faults_na": count(lat, "rect", "fault-na"),
        "fault_marks": count(lat, "path", "fault-mark"),
        "shades": count(lat, "rect", "shade"),
        "arrows": count(msgs, "line", "arrow"),
        "stubs": count(msgs, "line", "stub"),
        "dup_rows": count(root, "tr", "dup"),
        "violation_rows": count(root, "tr", "violation"),
        "fault_rows": count(root, "tr", "fault-row"),
        "not_applied_rows": count(root, "tr", "not-applied"),
        "clock_lines": count(find_id(root, "plot-clocks"), "path", "clock"),
        "node_bars": count(find_id(root, "plot-nodes"), "rect", "ops"),
        "findings": count(find_id(root, "diagnosis"), "div", "finding"),
        "example_ops": count(find_id(root, "diagnosis"), "tr", "example-op"),
    }


# ==== What a result map implies ====

def get(o, *keys):
    for k in keys:
        if not isinstance(o, dict) or k not in o:
            return None
        o = o[k]
    return o


def arr(v):
    return v if isinstance(v, list) else []


def obj(v):
    return v if isinstance(v, dict) else {}


def num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def kind_of_action(f):
    for kind in ("partition", "loss", "duplicate"):
        if f in (f"start-{kind}", f"stop-{kind}"):
            return kind
    return {"kill": "kill", "start": "kill", "pause": "pause", "resume": "pause"}.get(
        f, "clock" if f.startswith("clock-") else "other")


def fault_spans(results):
    """(periods, instants applied, instants not applied) on the lanes, as report_span.h says."""
    lanes = list(obj(get(results, "nodes")))[:LANES_MAX]
    shared = len(lanes)
    opened = {}  # (kind, lane) -> True while open
    periods = instants = not_applied = 0
    total = 0

    def named(detail):
        words = re.split(r"[ \t\n:;,()]+", detail if isinstance(detail, str) else "")
        return sorted({lanes.index(w) for w in words if w in lanes})

    def add():
        nonlocal total
        total += 1
        return total <= SPAN_MAX

    for e in arr(get(results, "faults", "events")):
        if not isinstance(e, dict):
            continue
        f = e.get("f") if isinstance(e.get("f"), str) else ""
        kind = e.get("kind") if isinstance(e.get("kind"), str) else kind_of_action(f)
        hit = named(e.get("detail"))
        if e.get("applied") is False:
            for _ in hit or [shared]:
                not_applied += add()
            continue
        if kind == "partition":
            opened = {k: v for k, v in opened.items() if k[0] != kind}
            if f != "stop-partition":
                for lane in hit or [shared]:
                    if add():
                        periods += 1
                        opened[(kind, lane)] = True
        elif kind in ("kill", "pause"):
            starts = f == kind
            for lane in hit or ([shared] if starts else []):
                if starts and (kind, lane) not in opened:
                    if add():
                        periods += 1
                        opened[(kind, lane)] = True
                elif not starts:
                    opened.pop((kind, lane), None)
        elif kind in ("loss", "duplicate"):
            opened.pop((kind, shared), None)
            if not f.startswith("stop"):
                if add():
                    periods += 1
                    opened[(kind, shared)] = True
        else:
            for _ in hit or [shared]:
                instants += add()
    return periods, instants, not_applied


def implied_counts(results):
    plot = obj(get(results, "plot"))
    exp = {}
    marks = {"ok": 0, "info": 0, "fail": 0}
    for s in arr(plot.get("samples")):
        if (isinstance(s, list) and len(s) >= 3 and num(s[0]) and num(s[1])
                and s[2] in marks):
            marks[s[2]] += 1
    if "plot" in results:
        exp.update(marks=sum(marks.values()), marks_ok=marks["ok"], marks_info=marks["info"],
                   marks_fail=marks["fail"])
        exp["bars"] = sum(1 for b in arr(plot.get("buckets")) if isinstance(b, dict)
                          and num(b.get("t")) for k in ("ok", "info", "fail")
                          if num(b.get(k)) and b[k] > 0)
        periods, instants, not_applied = fault_spans(results)
        exp.update(faults=periods, fault_marks=instants, faults_na=not_applied)
    msgs = [m for m in arr(plot.get("messages"))[:MESSAGES_MAX] if isinstance(m, dict)
            and isinstance(m.get("from"), str) and isinstance(m.get("to"), str)
            and num(m.get("send"))]
    procs = {m["from"] for m in msgs} | {m["to"] for m in msgs}
    nodes = obj(get(results, "nodes"))
    if len(nodes) <= 16:
        procs |= set(nodes)
    if len(procs) <= COLUMNS_MAX:
        exp["arrows"] = sum(1 for m in msgs if num(m.get("recv")))
        exp["stubs"] = sum(1 for m in msgs if not num(m.get("recv")))
    workload = obj(get(results, "workload"))
    exp["dup_rows"] = min(len(arr(workload.get("duplicates"))), DUPS_MAX)
    exp["violation_rows"] = min(len(arr(get(results, "protocol", "violations"))), ROWS_MAX)
    events = arr(get(results, "faults", "events"))[:FAULT_ROWS_MAX]
    if get(results, "faults") is not None:
        exp["fault_rows"] = len(events)
        exp["not_applied_rows"] = sum(1 for e in events if isinstance(e, dict)
                                      and e.get("applied") is False)
    clocks = obj(get(results, "faults", "clocks"))
    exp["clock_lines"] = min(sum(1 for c in clocks.values() if arr(get(c, "offsets"))),
                             CLOCKS_MAX)
    exp["node_bars"] = min(len(obj(get(results, "nodes"))), NODES_MAX)
    findings = [d for d in arr(get(results, "diagnosis"))][:FINDINGS_MAX]
    exp["findings"] = len(findings)
    exp["example_ops"] = sum(len(arr(get(d, "example", "ops"))) for d in findings
                             if isinstance(get(d, "example", "ops"), list))
    return exp


def check_results(root, results, counts, fail):
    plot = get(results, "plot")
    if isinstance(plot, dict):
        for ident in ("plot-latency", "plot-throughput"):
            if find_id(root, ident) is None:
                fail(f"no #{ident} although results have a plot")
        if arr(plot.get("buckets")):
            lat = find_id(root, "plot-latency")
            for cls in ("p50", "p99"):
                if count(lat, "path", cls) != 1:
                    fail(f"#plot-latency has no {cls} line")
    valid = results.get("valid?")
    want = {True: "valid", False: "invalid"}.get(valid, "unknown")
    verdict = find_id(root, "verdict")
    if verdict is not None and want not in classes(verdict):
        fail(f"#verdict is {verdict.get('class')!r}, results say {want}")
    if isinstance(results.get("error"), str) and find_id(root, "error") is None:
        fail("results have an error but the page has no #error")
    if results.get("interrupted") is True and find_id(root, "interrupted") is None:
        fail("results say interrupted but the page has no #interrupted")
    cmd = get(results, "eddy", "command")
    if isinstance(cmd, str) and cmd.isprintable() and len(cmd) < 1000:
        if text_of(find_id(root, "command")) != cmd:
            fail("#command differs from results' eddy.command")
    periods = counts["faults"]
    if periods and counts["shades"] == 0:
        fail("fault periods but no shading")
    for name, n in implied_counts(results).items():
        if counts[name] != n:
            fail(f"{name}: the page has {counts[name]}, the results imply {n}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("page")
    ap.add_argument("--results")
    ap.add_argument("--expect", action="append", default=[], metavar="NAME=N")
    ap.add_argument("--max-bytes", type=int, default=4 << 20)
    args = ap.parse_args()
    failures = []
    fail = failures.append
    with open(args.page, "rb") as f:
        data = f.read()
    if len(data) > args.max_bytes:
        fail(f"the page has {len(data)} bytes, more than {args.max_bytes}")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        print(f"{args.page}: not well-formed XML: {e}")
        return 1
    check_structure(root, fail)
    check_self_contained(data.decode("utf-8"), root, fail)
    check_self_closing(data.decode("utf-8"), fail)
    counts = page_counts(root)
    if args.results:
        with open(args.results, "rb") as f:
            results = json.loads(f.read().decode("utf-8", "surrogateescape"))
        check_results(root, results, counts, fail)
    for e in args.expect:
        name, _, n = e.partition("=")
        if name not in COUNTS:
            fail(f"--expect: unknown count {name!r}")
        elif counts[name] != int(n):
            fail(f"{name}: the page has {counts[name]}, expected {n}")
    for msg in failures:
        print(f"{args.page}: {msg}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
