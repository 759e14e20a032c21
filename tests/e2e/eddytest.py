"""Helpers for eddy's end-to-end tests: run the built eddy, read what it left, check no process
outlived it. Each test module calls main(globals()) so that ctest can run one test by name:

    python3 test_sim.py BUILD_DIR SOURCE_DIR TEST_NAME
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback

BUILD = SOURCE = None


def eddy_bin():
    return os.path.join(BUILD, "bin", "eddy")


def node_bin():
    return os.path.join(BUILD, "bin", "eddy-node")


def gonode():
    """The Go test node (tests/nodes/go): a goroutine per message, as Maelstrom's Go library."""
    return os.path.join(BUILD, "tests", "gonode")


def pynode():
    return os.path.join(SOURCE, "tests", "e2e", "pynode.py")


def scenario(name):
    return os.path.join(SOURCE, "scenarios", name)


class Run:
    """One `eddy test` run in a private store."""

    def __init__(self, args, timeout=120, env=None):
        self.store = tempfile.mkdtemp(prefix="eddy-e2e-")
        cmd = [eddy_bin(), "test", "--store", self.store, "--no-progress"] + list(args)
        full_env = dict(os.environ)
        # Python nodes start with `#!/usr/bin/env python3`: let that find this interpreter
        # itself, not a version manager's shim (pyenv's takes seconds to start on a loaded
        # machine, which eats into the 10 s a node has to answer init).
        full_env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + full_env.get("PATH", "")
        full_env.update(env or {})
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env)
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr
        self.cmd = cmd
        latest = os.path.join(self.store, "latest")
        self.dir = os.path.realpath(latest) if os.path.exists(latest) else None
        self.results = None
        if self.dir and os.path.exists(os.path.join(self.dir, "results.json")):
            with open(os.path.join(self.dir, "results.json")) as f:
                self.results = json.load(f)

    def history(self):
        with open(os.path.join(self.dir, "history.jsonl")) as f:
            return [json.loads(line) for line in f]

    def node_log(self, name):
        with open(os.path.join(self.dir, "node-logs", name + ".log")) as f:
            return f.read()

    def describe(self):
        return f"command: {' '.join(self.cmd)}\nexit {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}"

    def cleanup(self):
        shutil.rmtree(self.store, ignore_errors=True)


def check(cond, what, run=None):
    if not cond:
        raise AssertionError(what + ("\n" + run.describe() if run else ""))


def alive(pid):
    """True if pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def check_no_node_alive(run):
    """Every process eddy started for a node is gone."""
    check(run.results is not None, "no results.json", run)
    for name, node in run.results["nodes"].items():
        for pid in node.get("pids", []):
            check(not alive(pid), f"{name}'s process {pid} outlived eddy", run)


def main(tests):
    global BUILD, SOURCE
    if len(sys.argv) != 4:
        print("usage: test_X.py BUILD_DIR SOURCE_DIR TEST", file=sys.stderr)
        sys.exit(2)
    BUILD, SOURCE, name = sys.argv[1], sys.argv[2], sys.argv[3]
    fn = tests.get("test_" + name)
    if not fn:
        print(f"no test named {name}", file=sys.stderr)
        sys.exit(2)
    try:
        fn()
    except Exception:
        traceback.print_exc()
        sys.exit(1)
    print(f"{name}: ok")
