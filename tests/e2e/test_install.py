#!/usr/bin/env python3
"""What a user gets besides the programs: --version with the commit."""
import os
import re
import subprocess

import eddytest
from eddytest import check, eddy_bin, main, node_bin


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


if __name__ == "__main__":
    main(globals())
