#!/usr/bin/env python3
"""What a user gets besides the programs: --version with the commit, the man pages, and what
`make install` (cmake --install) puts where.

The man pages are written at build time from the tables that --help prints; these tests read
both and check that every option and every ID strategy of one is in the other.
"""
import os
import re
import shutil
import subprocess
import tempfile

import eddytest
from eddytest import check, eddy_bin, main, node_bin


def man_text(page):
    """The page as man renders it, plain text, hyphens and all."""
    path = os.path.join(eddytest.BUILD, "man", page)
    check(os.path.exists(path), f"{path} was built")
    out = subprocess.run(["groff", "-man", "-Tutf8", "-P-cbou", path], capture_output=True,
                         text=True, env=dict(os.environ, MANWIDTH="200"))
    check(out.returncode == 0 and out.stderr == "", f"groff renders {page}: {out.stderr}")
    # groff's utf8 device prints a hyphen as U+2010 and wraps long lines with hyphenation.
    return out.stdout.replace("\u2010", "-").replace("\u2212", "-")


def source_commit():
    p = subprocess.run(["git", "-C", eddytest.SOURCE, "rev-parse", "HEAD"], capture_output=True,
                       text=True)
    return p.stdout.strip() if p.returncode == 0 else None


def test_version_names_the_commit():
    commit = source_commit()
    for prog, name in ((eddy_bin(), "eddy"), (node_bin(), "eddy-node")):
        out = subprocess.run([prog, "--version"], capture_output=True, text=True)
        check(out.returncode == 0, f"{name} --version exits 0")
        line = out.stdout.strip()
        m = re.fullmatch(rf"{name} \d+\.\d+\.\d+(?: \(git ([0-9a-f]{{12,40}})(?:-dirty)?\))?", line)
        check(m, f"{name} --version: {line!r}")
        if commit:
            # Built from this checkout (the tests run on what was just built): its HEAD.
            check(m.group(1) and commit.startswith(m.group(1)), f"{line!r} names HEAD {commit}")
        else:
            check("(git" not in line, f"no git, no commit: {line!r}")


def test_eddy_man_page_lists_every_option_of_help():
    help_text = subprocess.run([eddy_bin(), "test", "--help"], capture_output=True,
                               text=True).stdout
    options = set(re.findall(r"^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)", help_text, re.M))
    check(len(options) > 30, f"eddy test --help lists the options: {sorted(options)}")
    text = man_text("eddy.1")
    listed = set(re.findall(r"^\s{7}(?:-\w, )?(--[a-z][a-z0-9-]*)", text, re.M))
    check(listed == options, f"man page and --help differ: only in the page "
          f"{sorted(listed - options)}, only in --help {sorted(options - listed)}")
    for sub in ("matrix", "shrink"):
        usage = subprocess.run([eddy_bin(), sub, "--help"], capture_output=True, text=True).stdout
        first = usage.splitlines()[0].strip()
        check(first in text, f"eddy {sub}'s usage is in the page: {first!r}")
    check("EXIT STATUS" in text and "254 bad arguments" in text, "exit statuses")


def test_eddy_node_man_page_lists_every_strategy():
    help_text = subprocess.run([node_bin(), "--help"], capture_output=True, text=True).stdout
    strategies = re.findall(r"^ {6}([a-z0-9-]+) ", help_text, re.M)
    check(len(strategies) >= 9, f"eddy-node --help lists its strategies: {strategies}")
    text = man_text("eddy-node.1")
    for s in strategies:
        check(re.search(rf"^\s+{re.escape(s)}\b", text, re.M), f"strategy {s} in eddy-node(1)")
    check("EDDY_IDS" in text, "the environment variable")


def test_install_puts_programs_libraries_and_man_pages():
    prefix = tempfile.mkdtemp(prefix="eddy-install-")
    try:
        p = subprocess.run(["cmake", "--install", eddytest.BUILD, "--prefix", prefix],
                           capture_output=True, text=True)
        check(p.returncode == 0, f"cmake --install: {p.stdout}{p.stderr}")
        for rel in ("bin/eddy", "bin/eddy-node", "share/man/man1/eddy.1",
                    "share/man/man1/eddy-node.1", "lib/eddy/libeddyclock.so"):
            check(os.path.exists(os.path.join(prefix, rel)), f"{rel} installed")
        man = subprocess.run(["man", "-M", os.path.join(prefix, "share", "man"), "-P", "cat",
                              "eddy-node"], capture_output=True, text=True,
                             env=dict(os.environ, MANWIDTH="100"))
        check(man.returncode == 0 and "eddy-node" in man.stdout and "EDDY_IDS" in man.stdout,
              f"man -M PREFIX/share/man eddy-node: {man.stderr}")
        out = subprocess.run([os.path.join(prefix, "bin", "eddy"), "--version"],
                             capture_output=True, text=True)
        check(out.returncode == 0 and out.stdout.startswith("eddy "), "the installed eddy runs")
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


if __name__ == "__main__":
    main(globals())
