#!/usr/bin/env python3
"""A unique-ids node for eddy's tests of init ordering: it watches what reaches it before it
answers init, which a node reading stdin through Python's buffered reader could not see.

    initnode.py --mode slow-init | early-answer

slow-init     on init, waits 0.3 s before answering init_ok, then looks whether anything else
              has arrived on stdin meanwhile. It logs on stderr, for the test to read,
              "early: N bytes arrived before init_ok" or "clean: nothing arrived before init_ok",
              and then "requests after init_ok: N" every tenth request.
early-answer  the first node of node_ids answers init at once and then pings every other node;
              the others, on init, wait for that ping and answer it before answering init, with
              no src (their node id is not known yet), as a runtime that handles messages in
              goroutines can.
"""
import json
import os
import random
import select
import sys
import time

MODE = "slow-init"
args = sys.argv[1:]
while args:
    flag = args.pop(0)
    if flag == "--mode":
        MODE = args.pop(0)
    else:
        print(f"initnode: unknown argument {flag}", file=sys.stderr)
        sys.exit(2)

node_id = None
prefix = "%016x" % random.SystemRandom().getrandbits(64)
counter = 0
pending = b""


def log(text):
    print(f"initnode {node_id}: {text}", file=sys.stderr, flush=True)


def write(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def read_line(timeout=None):
    """The next line of stdin, or None at its end (or after timeout seconds)."""
    global pending
    deadline = None if timeout is None else time.monotonic() + timeout
    while b"\n" not in pending:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([0], [], [], left)[0]:
                return None
        chunk = os.read(0, 1 << 16)
        if not chunk:
            return None
        pending += chunk
    line, pending = pending.split(b"\n", 1)
    return json.loads(line)


def available():
    """Bytes that have arrived on stdin and are not consumed yet, without blocking."""
    global pending
    while select.select([0], [], [], 0)[0]:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            break
        pending += chunk
    return len(pending)


def answer_init(msg):
    write({"src": node_id, "dest": msg["src"],
           "body": {"type": "init_ok", "in_reply_to": msg["body"]["msg_id"]}})


requests = 0
while True:
    msg = read_line()
    if msg is None:
        break
    body = msg["body"]
    kind = body.get("type")
    if kind == "init":
        node_id = body["node_id"]
        node_ids = body["node_ids"]
        if MODE == "slow-init":
            time.sleep(0.3)
            early = available()
            log(f"early: {early} bytes arrived before init_ok" if early
                else "clean: nothing arrived before init_ok")
            answer_init(msg)
        elif node_id == node_ids[0]:
            answer_init(msg)
            for i, peer in enumerate(node_ids[1:]):
                write({"src": node_id, "dest": peer, "body": {"type": "ping", "msg_id": i + 1}})
        else:
            ping = read_line(timeout=60)
            if ping is not None:
                write({"dest": ping["src"],
                       "body": {"type": "pong", "in_reply_to": ping["body"]["msg_id"]}})
            answer_init(msg)
    elif kind == "generate":
        counter += 1
        requests += 1
        if requests % 10 == 0:
            log(f"requests after init_ok: {requests}")
        write({"src": node_id, "dest": msg["src"],
               "body": {"type": "generate_ok", "in_reply_to": body["msg_id"],
                        "id": f"{node_id}-{prefix}-{counter}"}})
