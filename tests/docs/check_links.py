#!/usr/bin/env python3
"""Check the links of eddy's documentation: every relative link in README.md, docs/*.md and
scenarios/README.md names a file or directory of the tree, and every `#anchor` names a heading of
the page it points into, as GitHub turns headings into anchors. Every page in docs/ is linked
from README.md, so that none is out of reach.

    check_links.py SOURCE_DIR             check the tree; exit 1 with one line per broken link
    check_links.py --self-test            check that the checker finds broken links (scratch tree)

Links inside code (fenced blocks, `inline code`) are text, not links, and are not checked.
Links with a scheme (https:, mailto:) point outside the tree and are not checked either.
"""
import os
import re
import sys
import tempfile
import unicodedata
import urllib.parse

PAGES = ["README.md", "scenarios/README.md"]  # and every docs/*.md

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
# [text](target) and ![alt](target); the target may be <...> and may carry a "title".
INLINE = re.compile(r"!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*(<[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)"
                    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^()]*\)))?\s*\)")
REFDEF = re.compile(r"^ {0,3}\[([^\]]+)\]:\s*(<[^>]*>|\S+)")
HTML_ATTR = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)\s*=\s*\"([^\"]*)\"", re.I)
HTML_ANCHOR = re.compile(r"<[a-z]+\b[^>]*?\b(?:id|name)\s*=\s*\"([^\"]*)\"", re.I)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def strip_code_spans(line):
    """The line with each code span blanked out (same length, so columns stay right)."""
    return CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)


def heading_text(raw):
    """A heading's text as GitHub renders it: code spans keep their content, links keep their
    text, images and HTML tags disappear, emphasis markers go."""
    text = CODE_SPAN.sub(lambda m: m.group(2).strip(), raw)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", "", text)
    return text


def slug(text):
    """GitHub's anchor for a heading (github-slugger): lower case; drop every character that is
    not a letter, a digit, a mark, a space, '-' or '_'; each space becomes '-'."""
    out = []
    for ch in text.lower():
        cat = unicodedata.category(ch)
        if ch in " -_" or cat[0] in "LNM":
            out.append("-" if ch == " " else ch)
    return "".join(out)


def read_page(path):
    """(anchors, links) of one markdown page; links are (line number, target)."""
    anchors, links, seen = set(), [], {}
    fence = None
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for number, line in enumerate(lines, 1):
        m = FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            continue
        if m:
            fence = m.group(1)
            continue
        for a in HTML_ANCHOR.findall(line):
            anchors.add(a)
        h = HEADING.match(line)
        if h:
            base = slug(heading_text(h.group(2)))
            n = seen.get(base, 0)
            seen[base] = n + 1
            anchors.add(base if n == 0 else "%s-%d" % (base, n))
        text = strip_code_spans(line)
        for m in INLINE.finditer(text):
            links.append((number, m.group(2)))
        m = REFDEF.match(text)
        if m:
            links.append((number, m.group(2)))
        for target in HTML_ATTR.findall(text):
            links.append((number, target))
    return anchors, links


def pages_of(root):
    pages = list(PAGES)
    docs = os.path.join(root, "docs")
    if os.path.isdir(docs):
        for dirpath, _, files in os.walk(docs):
            for name in sorted(files):
                if name.endswith(".md"):
                    pages.append(os.path.relpath(os.path.join(dirpath, name), root))
    return sorted(set(pages))


def check(root):
    """Every problem found under root, as 'page:line: message' strings."""
    root = os.path.realpath(root)
    problems = []
    pages = pages_of(root)
    anchors, links = {}, {}
    for page in pages:
        path = os.path.join(root, page)
        if not os.path.isfile(path):
            problems.append("%s: missing page" % page)
            continue
        anchors[page], links[page] = read_page(path)
    if not os.path.isdir(os.path.join(root, "docs")):
        problems.append("docs/: missing directory")

    linked = set()
    for page in sorted(links):
        here = os.path.dirname(page)
        for number, target in links[page]:
            where = "%s:%d: %s" % (page, number, target)
            t = target[1:-1] if target.startswith("<") else target
            if not t:
                problems.append("%s: empty link" % where)
                continue
            if SCHEME.match(t) or t.startswith("//"):
                continue
            path_part, _, anchor = t.partition("#")
            path_part = urllib.parse.unquote(path_part)
            anchor = urllib.parse.unquote(anchor)
            if path_part.startswith("/"):
                problems.append("%s: absolute path (GitHub resolves it against the site, not the "
                                "tree)" % where)
                continue
            rel = os.path.normpath(os.path.join(here, path_part)) if path_part else page
            full = os.path.realpath(os.path.join(root, rel))
            if full != root and not full.startswith(root + os.sep):
                problems.append("%s: points outside the repository" % where)
                continue
            if not os.path.exists(full):
                problems.append("%s: no such file or directory (%s)" % (where, rel))
                continue
            linked.add((page, rel))
            if "#" not in t:
                continue
            if not rel.endswith(".md"):
                problems.append("%s: an anchor into a file that is not markdown" % where)
                continue
            if rel not in anchors:
                anchors[rel], _ = read_page(full)
            if anchor not in anchors[rel]:
                problems.append("%s: no heading with anchor #%s in %s" % (where, anchor, rel))

    for page in pages:
        if page.startswith("docs" + os.sep) and os.path.isfile(os.path.join(root, page)):
            if ("README.md", page) not in linked:
                problems.append("README.md: does not link to %s" % page)
    return problems


def self_test():
    """The checker against a scratch tree with known good and broken links: it must report each
    broken one, and nothing else."""
    good = """# Title

## Flags and `--fail-fast`
## Diagnosis: why a run failed
## Diagnosis: why a run failed
## Ünïcode & more!

[ok](#title) [ok](#flags-and---fail-fast) [ok](#diagnosis-why-a-run-failed-1)
[ok](#ünïcode--more) [ok](docs/a.md) [ok](docs/a.md#section-a) [ok](docs/)
[ok](https://example.org/none) ![ok](pic.png "a title") [ok](<docs/a.md>)
`[not a link](nowhere.md)`

```
[not a link](nowhere.md)
```
"""
    broken = """[bad](#no-such-heading) [bad](missing.md) [bad](docs/a.md#section-b)
[bad](../outside.md) [bad](pic.png#x) [bad](/docs/a.md)
[ref]: missing-too.md
<a href="gone.md">bad</a>
"""
    first = good.count("\n") + 1  # the line the broken links start on
    expected = [  # (where, what the message must say)
        ("README.md:%d: #no-such-heading:" % first, "no heading with anchor #no-such-heading"),
        ("README.md:%d: missing.md:" % first, "no such file"),
        ("README.md:%d: docs/a.md#section-b:" % first, "no heading with anchor #section-b"),
        ("README.md:%d: ../outside.md:" % (first + 1), "points outside"),
        ("README.md:%d: pic.png#x:" % (first + 1), "not markdown"),
        ("README.md:%d: /docs/a.md:" % (first + 1), "absolute path"),
        ("README.md:%d: missing-too.md:" % (first + 2), "no such file"),
        ("README.md:%d: gone.md:" % (first + 3), "no such file"),
        ("README.md:", "does not link to docs/b.md"),
        ("scenarios/README.md:", "missing page"),
    ]
    with tempfile.TemporaryDirectory(prefix="eddy-links-") as tmp:
        os.makedirs(os.path.join(tmp, "docs"))
        with open(os.path.join(tmp, "README.md"), "w", encoding="utf-8") as f:
            f.write(good + broken)
        with open(os.path.join(tmp, "docs", "a.md"), "w", encoding="utf-8") as f:
            f.write("# Section A\n\n[back](../README.md#title)\n")
        with open(os.path.join(tmp, "docs", "b.md"), "w", encoding="utf-8") as f:
            f.write("# B\n")
        with open(os.path.join(tmp, "pic.png"), "wb") as f:
            f.write(b"\x89PNG")
        found = check(tmp)
    ok = True
    for where, what in expected:
        hits = [p for p in found if p.startswith(where) and what in p]
        if len(hits) != 1:
            print("self-test: expected one problem %r ... %r, found %r" % (where, what, hits))
            ok = False
    if len(found) != len(expected):
        print("self-test: expected %d problems, found %d:" % (len(expected), len(found)))
        for p in found:
            print("  " + p)
        ok = False
    print("self-test: %s (%d broken links found, as planted)" % ("ok" if ok else "FAILED",
                                                                   len(found)))
    return 0 if ok else 1


def main(argv):
    if len(argv) == 2 and argv[1] == "--self-test":
        return self_test()
    if len(argv) != 2:
        print("usage: check_links.py SOURCE_DIR | --self-test", file=sys.stderr)
        return 2
    problems = check(argv[1])
    for p in problems:
        print(p)
    pages = pages_of(argv[1])
    print("%d pages checked, %d broken links" % (len(pages), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
