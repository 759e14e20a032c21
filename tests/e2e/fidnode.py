#!/usr/bin/env python3
"""A unique-ids node for eddy's fidelity tests: each mode does one thing whose treatment
Maelstrom's source decides, so that a test can check eddy does the same.

    fidnode.py --mode MODE

slow-init       on init, waits 0.3 s before answering, then looks whether anything else has
                arrived on stdin meanwhile; logs "early: N bytes arrived before init_ok" or
                "clean: nothing arrived before init_ok" on stderr for the test to read.
early-answer    the first node of node_ids answers init at once and pings every other node;
                the others, on init, wait for that ping and answer it before answering init,
                with no src (their node id is not known yet), as a goroutine runtime can.
untyped-gossip  after init, the first node sends the second four messages whose bodies have no
                type: {"gossip": 1}, {}, null, and none at all; the second logs each body it
                receives as "body: <json>".
no-type         the second node of node_ids answers generate without a type in the reply.
late-gossip     at its first generate, the first node sends the second one message of gossip.
forward-client  the first node forwards each generate to the second, keeping the client as src
                (and naming it in the body); the second answers the client directly.
forward-as-n2   the same, but the forwarded message claims to come from the third node.
hello-setup     at its first generate, each node sends {"type": "hello"} to the setup client
                Maelstrom opened for it (c<N + i> for node i of N), which never reads it.
held-flood DIR  the second node, started again, waits to answer init until the first node has
                sent it 100 messages of 128 KiB of gossip, numbered 1 to 100 (more than its held
                queue keeps), and then logs "gossip: <n>" for each it receives. The two meet
                through files in DIR: n1-started, n1-restarted, flood-done.

Stdin is read with os.read, not Python's buffered reader, so that slow-init can see what is
waiting.
"""
import json
import os
import random
import select
import sys
import time

MODE = "slow-init"
DIR = None
args = sys.argv[1:]
while args:
    flag = args.pop(0)
    if flag == "--mode":
        MODE = args.pop(0)
    elif flag == "--dir":
        DIR = args.pop(0)
    else:
        print(f"fidnode: unknown argument {flag}", file=sys.stderr)
        sys.exit(2)

node_id = None
node_ids = []
prefix = "%016x" % random.SystemRandom().getrandbits(64)
counter = 0
pending = bytearray()
greeted = False


def log(text):
    print(f"fidnode {node_id}: {text}", file=sys.stderr, flush=True)


def write(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def read_line(timeout=None):
    """The next line of stdin, or None at its end (or after timeout seconds)."""
    global pending
    deadline = None if timeout is None else time.monotonic() + timeout
    searched = 0
    while True:
        nl = pending.find(b"\n", searched)
        if nl >= 0:
            break
        searched = len(pending)
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([0], [], [], left)[0]:
                return None
        chunk = os.read(0, 1 << 20)
        if not chunk:
            return None
        pending += chunk
    line = bytes(pending[:nl])
    del pending[:nl + 1]
    return json.loads(line)


def available():
    """Bytes that have arrived on stdin and are not consumed yet, without blocking."""
    while select.select([0], [], [], 0)[0]:
        chunk = os.read(0, 1 << 20)
        if not chunk:
            break
        pending.extend(chunk)
    return len(pending)


def reply(msg, body, src=None):
    body["in_reply_to"] = msg["body"]["msg_id"]
    write({"src": src or node_id, "dest": msg["src"], "body": body})


def on_init(msg):
    global node_id, node_ids
    node_id = msg["body"]["node_id"]
    node_ids = msg["body"]["node_ids"]
    if MODE == "held-flood" and node_id == node_ids[1]:
        if os.path.exists(os.path.join(DIR, "n1-started")):
            open(os.path.join(DIR, "n1-restarted"), "w").close()
            done = os.path.join(DIR, "flood-done")
            while not os.path.exists(done):  # a condition, polled
                time.sleep(0.02)
        else:
            open(os.path.join(DIR, "n1-started"), "w").close()
        reply(msg, {"type": "init_ok"})
    elif MODE == "slow-init":
        time.sleep(0.3)
        early = available()
        log(f"early: {early} bytes arrived before init_ok" if early
            else "clean: nothing arrived before init_ok")
        reply(msg, {"type": "init_ok"})
    elif MODE == "early-answer" and node_id != node_ids[0]:
        ping = read_line(timeout=60)
        if ping is not None:
            write({"dest": ping["src"],
                   "body": {"type": "pong", "in_reply_to": ping["body"]["msg_id"]}})
        reply(msg, {"type": "init_ok"})
    else:
        reply(msg, {"type": "init_ok"})
    if MODE == "early-answer" and node_id == node_ids[0]:
        for i, peer in enumerate(node_ids[1:]):
            write({"src": node_id, "dest": peer, "body": {"type": "ping", "msg_id": i + 1}})
    if MODE == "untyped-gossip" and node_id == node_ids[0]:
        peer = node_ids[1]
        write({"src": node_id, "dest": peer, "body": {"gossip": 1}})
        write({"src": node_id, "dest": peer, "body": {}})
        write({"src": node_id, "dest": peer, "body": None})
        write({"src": node_id, "dest": peer})


def new_id():
    global counter
    counter += 1
    return f"{node_id}-{prefix}-{counter}"


gossip_sent = 0


def on_generate(msg):
    global greeted, gossip_sent
    if MODE == "held-flood" and node_id == node_ids[0] and gossip_sent == 0 \
            and os.path.exists(os.path.join(DIR, "n1-restarted")):
        for gossip_sent in range(1, 101):
            write({"src": node_id, "dest": node_ids[1],
                   "body": {"type": "gossip", "n": gossip_sent, "pad": "x" * 131072}})
        open(os.path.join(DIR, "flood-done"), "w").close()
    if MODE == "late-gossip" and node_id == node_ids[0] and not greeted:
        greeted = True
        write({"src": node_id, "dest": node_ids[1], "body": {"type": "gossip", "n": 1}})
    if MODE == "hello-setup" and not greeted:
        greeted = True
        write({"src": node_id, "dest": f"c{len(node_ids) + node_ids.index(node_id)}",
               "body": {"type": "hello"}})
    if MODE in ("forward-client", "forward-as-n2") and node_id == node_ids[0] \
            and msg["src"].startswith("c"):
        src = msg["src"] if MODE == "forward-client" else node_ids[2]
        write({"src": src, "dest": node_ids[1],
               "body": dict(msg["body"], client=msg["src"])})
        return
    body = {"type": "generate_ok", "id": new_id(), "in_reply_to": msg["body"]["msg_id"]}
    if MODE == "no-type" and node_id == node_ids[1]:
        del body["type"]
    write({"src": node_id, "dest": msg["body"].get("client", msg["src"]), "body": body})


while True:
    msg = read_line()
    if msg is None:
        break
    kind = msg["body"].get("type")
    if kind == "init":
        on_init(msg)
    elif kind == "generate":
        on_generate(msg)
    elif MODE == "untyped-gossip":
        log("body: " + json.dumps(msg["body"], sort_keys=True))
    elif kind == "gossip":
        log(f"gossip: {msg['body']['n']}")
