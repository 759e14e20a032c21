#!/usr/bin/env python3
"""A Maelstrom node in Python for eddy's end-to-end tests: correct by default, hostile on demand.

It serves echo and unique-ids, and every echo is first relayed to the next node and answered
only when that node acknowledges, so inter-node faults (partitions, loss, duplication, latency)
have traffic to act on. IDs embed time.time_ns(), so clock faults are visible in them, and a
per-process random prefix plus a counter keeps them unique.

    pynode.py [--mode MODE] [--after N] [--only NODE]

With --only, the mode applies on that node alone; the others behave (mode ok).

Modes (each a misbehaviour eddy must report): ok, add-key (an extra key in generate_ok),
stdout-log (a log line on stdout after init), wrong-irt (in_reply_to off by 1000),
exit-early (exit 3 after N requests), no-init (never answer init), bigint (integer IDs above
2^53), mixed (string and integer IDs), fork-child (fork a child that sleeps forever), plain-echo
(no relaying), flood (endless garbage on stdout after init), no-read (stops reading stdin
after init), huge-line (a 100 MB line on stdout), close-stdout (closes stdout after init),
ignore-term (ignores SIGTERM), die-in-init (exits while handling init), chatty (a megabyte of
stderr per request), spam (the first node sends 20 MB of messages to the second before its
init_ok; the second never reads stdin again), nested (unique 2 KB IDs nested 997 arrays deep),
wide-object (unique IDs that are objects of 60,000 keys, about a megabyte each), big-ids
(unique 64 KB string IDs), big-dup (big-ids, but the first node returns its first ID again as
its N-th, N = --after), big-near (big-ids, but the first node's N-th ID differs from its first
only in the last byte).
"""
import json
import os
import random
import signal
import sys
import time

MODE = "ok"
AFTER = 5
ONLY = None
args = sys.argv[1:]
while args:
    flag = args.pop(0)
    if flag == "--mode":
        MODE = args.pop(0)
    elif flag == "--after":
        AFTER = int(args.pop(0))
    elif flag == "--only":
        ONLY = args.pop(0)
    else:
        print(f"pynode: unknown argument {flag}", file=sys.stderr)
        sys.exit(2)

node_id = None
node_ids = []
next_msg_id = 0
counter = 0
requests = 0
prefix = "%016x" % random.SystemRandom().getrandbits(64)
pending = {}  # relay msg_id -> (client, client msg_id, echo value)


def send(dest, body):
    sys.stdout.write(json.dumps({"src": node_id, "dest": dest, "body": body}) + "\n")
    sys.stdout.flush()


def reply(msg, body):
    body["in_reply_to"] = msg["body"]["msg_id"]
    if MODE == "wrong-irt" and body["type"] != "init_ok":
        body["in_reply_to"] += 1000
    sys.stdout.write(json.dumps({"src": node_id, "dest": msg["src"], "body": body}) + "\n")
    sys.stdout.flush()


BIG = 64 * 1024
nested_filler = "x" * (2048 - 2 * 997 - 2 - 40)
wide_template = None


def big_id(n):
    head = f"{node_id}-{prefix}-{n}-"
    return head + "x" * (BIG - 2 - len(head))  # 64 KB with its quotes


def new_id():
    global counter, wide_template
    counter += 1
    if MODE in ("big-ids", "big-dup", "big-near"):
        first = node_id == node_ids[0]
        if first and counter == AFTER and MODE == "big-dup":
            return big_id(1)
        if first and counter == AFTER and MODE == "big-near":
            return big_id(1)[:-1] + "y"
        return big_id(counter)
    if MODE == "bigint":
        # Even IDs on one node, odd on the other: every odd one rounds to an even one when read
        # as a double, so a checker that went through doubles would see duplicates everywhere.
        return 2**53 + 2 * counter + node_ids.index(node_id) % 2
    if MODE == "mixed":
        # Unique, but of two JSON types that Clojure's compare cannot order.
        base = 1000000 * (node_ids.index(node_id) + 1)
        return base + counter if counter % 2 else f"{node_id}-{counter}"
    return f"{node_id}-{prefix}-{time.time_ns()}-{counter}"


for line in sys.stdin:
    msg = json.loads(line)
    body = msg["body"]
    kind = body.get("type")
    if kind == "init":
        if ONLY is not None and body["node_id"] != ONLY:
            MODE = "ok"
        if MODE == "no-init":
            continue
        if MODE == "die-in-init":
            print("pynode: dying during init on purpose", file=sys.stderr, flush=True)
            os._exit(9)
        node_id = body["node_id"]
        node_ids = body["node_ids"]
        if MODE == "spam" and node_id == node_ids[0]:
            # Before init_ok, so that eddy has read every message before the run starts,
            # however slowly this process or eddy runs.
            filler = "z" * 1000
            for i in range(20000):
                send(node_ids[1], {"type": "spam", "filler": filler, "n": i})
        reply(msg, {"type": "init_ok"})
        if MODE == "ignore-term":
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if MODE == "flood":
            junk = "x" * 1000 + "\n"
            while True:
                sys.stdout.write(junk)
        if MODE == "no-read":
            while True:
                time.sleep(3600)
        if MODE == "huge-line":
            chunk = "y" * (1 << 20)
            for _ in range(100):
                sys.stdout.write(chunk)
            sys.stdout.write("\n")
            sys.stdout.flush()
        if MODE == "spam" and node_id == node_ids[1]:
            while True:
                time.sleep(3600)
        if MODE == "close-stdout":
            sys.stdout.flush()
            os.close(1)
            for _ in sys.stdin:  # alive, reading, and unable to answer
                pass
            while True:
                time.sleep(3600)
        print(f"pynode {node_id} pid {os.getpid()} mode {MODE}", file=sys.stderr, flush=True)
        if MODE == "stdout-log":
            print(f"pynode {node_id} ready")
            sys.stdout.flush()
        if MODE == "fork-child":
            child = os.fork()
            if child == 0:
                os.setsid()  # try to escape eddy's process group; PDEATHSIG is eddy's answer
                while True:
                    time.sleep(3600)
            print(f"pynode child pid {child}", file=sys.stderr, flush=True)
        continue
    if kind in ("echo", "generate"):
        requests += 1
        if MODE == "exit-early" and requests > AFTER:
            print("pynode: exiting early on purpose", file=sys.stderr, flush=True)
            sys.exit(3)
    if MODE == "chatty" and kind in ("echo", "generate"):
        sys.stderr.write(("chatter " * 128 + "\n") * 1024)
        sys.stderr.flush()
    if kind == "generate" and MODE in ("nested", "wide-object"):
        # Built as text: json.dumps would recurse 997 deep, and rebuild 60,000 keys each time.
        counter += 1
        if MODE == "nested":
            value = ("[" * 997 + json.dumps(f"{node_id}-{prefix}-{counter}-{nested_filler}")
                     + "]" * 997)
        else:
            if wide_template is None:
                wide_template = ",".join(f'"k{i:07d}":{i}' for i in range(1, 60000))
            value = '{"k0000000":"%s-%s-%d",%s}' % (node_id, prefix, counter, wide_template)
        sys.stdout.write('{"src":%s,"dest":%s,"body":{"type":"generate_ok","id":%s,'
                         '"in_reply_to":%d}}\n' % (json.dumps(node_id), json.dumps(msg["src"]),
                                                   value, body["msg_id"]))
        sys.stdout.flush()
    elif kind == "generate":
        out = {"type": "generate_ok", "id": new_id()}
        if MODE == "add-key":
            out["node"] = node_id
        reply(msg, out)
    elif kind == "echo":
        peers = [n for n in node_ids if n != node_id]
        if MODE == "plain-echo" or not peers:
            reply(msg, {"type": "echo_ok", "echo": body["echo"]})
            continue
        next_msg_id += 1
        pending[next_msg_id] = msg
        peer = peers[next_msg_id % len(peers)]
        send(peer, {"type": "relay", "echo": body["echo"], "msg_id": next_msg_id})
    elif kind == "relay":
        reply(msg, {"type": "relay_ok", "echo": body["echo"]})
    elif kind == "relay_ok":
        original = pending.pop(body["in_reply_to"], None)
        if original is not None:  # a duplicated relay_ok finds nothing the second time
            reply(original, {"type": "echo_ok", "echo": original["body"]["echo"]})
