// gonode: a Gossip Glomers node for echo and unique-ids, written as users write them in Go,
// with a choice of ID scheme so that eddy's tests have both correct and flawed subjects.
//
//	gonode [-ids SCHEME] [-node-bits B]
//
// Schemes:
//
//	unique       node id, 64 random bits drawn at start, atomic counter: unique under every fault
//	ms-seq       node id, wall-clock milliseconds, a sequence within the millisecond; no guard
//	             against a clock that goes back, so a clock bump back or a restart that
//	             replays the clock repeats IDs
//	snowflake    a 64-bit integer: 41 bits of milliseconds, B bits of the node's position in
//	             node_ids (-node-bits, default 10), 12 bits of sequence; no backward guard
//	node-counter node id and a counter that starts again at 1 in every process
//	counter      a bare counter, the same on every node
//	racy-counter node id and a counter incremented without a lock, so that goroutines race
//	wallclock    unique as "unique", with the wall clock read for this ID (time.Now, ns) last,
//	             without a lock: tests check every read a busy node made
package main

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

type idGen func(n *Node) any

func main() {
	scheme := flag.String("ids", "unique", "ID scheme")
	nodeBits := flag.Uint("node-bits", 10, "snowflake: bits of the node's index")
	flag.Parse()
	gen, ok := schemes(*nodeBits)[*scheme]
	if !ok {
		fmt.Fprintf(os.Stderr, "gonode: unknown scheme %q\n", *scheme)
		os.Exit(2)
	}
	n := NewNode()
	n.Handle("echo", func(msg Message) error {
		var body map[string]any
		if err := json.Unmarshal(msg.Body, &body); err != nil {
			return err
		}
		return n.Reply(msg, map[string]any{"type": "echo_ok", "echo": body["echo"]})
	})
	n.Handle("generate", func(msg Message) error {
		return n.Reply(msg, map[string]any{"type": "generate_ok", "id": gen(n)})
	})
	if err := n.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "gonode: %v\n", err)
		os.Exit(1)
	}
}

func schemes(nodeBits uint) map[string]idGen {
	var incarnation [8]byte
	if _, err := rand.Read(incarnation[:]); err != nil {
		panic(err)
	}
	var counter uint64
	var racy uint64
	var mu sync.Mutex
	var lastMs, seq int64
	return map[string]idGen{
		"unique": func(n *Node) any {
			c := atomic.AddUint64(&counter, 1)
			return fmt.Sprintf("%s-%x-%d", n.ID(), binary.BigEndian.Uint64(incarnation[:]), c)
		},
		"ms-seq": func(n *Node) any {
			mu.Lock()
			ms := time.Now().UnixMilli()
			if ms != lastMs {
				lastMs, seq = ms, 0
			}
			seq++
			s := seq
			mu.Unlock()
			return fmt.Sprintf("%s-%d-%d", n.ID(), ms, s)
		},
		"snowflake": func(n *Node) any {
			mu.Lock()
			defer mu.Unlock()
			ms := time.Now().UnixMilli()
			if ms != lastMs {
				lastMs, seq = ms, 0
			}
			s := seq & 4095
			seq++
			idx := int64(0)
			for i, id := range n.NodeIDs() {
				if id == n.ID() {
					idx = int64(i)
				}
			}
			idx &= int64(1)<<nodeBits - 1
			return (ms-1288834974657)<<22 | idx<<12 | s
		},
		"wallclock": func(n *Node) any {
			c := atomic.AddUint64(&counter, 1)
			return fmt.Sprintf("%s-%x-%d-%d", n.ID(), binary.BigEndian.Uint64(incarnation[:]), c,
				time.Now().UnixNano())
		},
		"node-counter": func(n *Node) any {
			return fmt.Sprintf("%s-%d", n.ID(), atomic.AddUint64(&counter, 1))
		},
		"counter": func(n *Node) any {
			return atomic.AddUint64(&counter, 1)
		},
		"racy-counter": func(n *Node) any {
			c := atomic.LoadUint64(&racy) + 1
			runtime.Gosched()
			atomic.StoreUint64(&racy, c)
			return fmt.Sprintf("%s-%d", n.ID(), c)
		},
	}
}
