// A small Maelstrom node runtime written for eddy's tests, shaped the way Maelstrom's own Go
// library (github.com/jepsen-io/maelstrom/demo/go) runs a node, because that is how most Gossip
// Glomers nodes are written: stdin is read line by line, every message (init included) is
// handled in a goroutine of its own, and replies are written under a mutex. So a request that
// arrives right behind init can be handled before init has set the node's id, exactly as with
// that library. Standard library only (the module proxy is not reachable here).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sync"
)

// Message is one envelope. Src is omitted when empty, as the library's json tags do, so a
// reply sent before init carries no src at all.
type Message struct {
	Src  string          `json:"src,omitempty"`
	Dest string          `json:"dest,omitempty"`
	Body json.RawMessage `json:"body,omitempty"`
}

// Body holds the fields every body may have.
type Body struct {
	Type      string `json:"type,omitempty"`
	MsgID     int    `json:"msg_id,omitempty"`
	InReplyTo int    `json:"in_reply_to,omitempty"`
}

// HandlerFunc handles one message; it runs in a goroutine of its own.
type HandlerFunc func(msg Message) error

// Node is the runtime: its id and peers (set by init), its handlers and the stdout lock.
type Node struct {
	mu       sync.RWMutex
	id       string
	nodeIDs  []string
	handlers map[string]HandlerFunc
	initHook func() error

	outMu sync.Mutex
	out   *bufio.Writer
	wg    sync.WaitGroup
}

// NewNode returns a node with no handlers.
func NewNode() *Node {
	return &Node{handlers: map[string]HandlerFunc{}, out: bufio.NewWriterSize(os.Stdout, 1<<16)}
}

// ID is the node's id, "" until init has been handled.
func (n *Node) ID() string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.id
}

// NodeIDs is the cluster's node list, nil until init.
func (n *Node) NodeIDs() []string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.nodeIDs
}

// Handle registers the handler of one body type.
func (n *Node) Handle(typ string, fn HandlerFunc) { n.handlers[typ] = fn }

// OnInit runs after init has set the id and before init_ok is sent.
func (n *Node) OnInit(fn func() error) { n.initHook = fn }

// Run reads stdin until it ends, handling each message in a goroutine, then waits for them.
func (n *Node) Run() error {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	for in.Scan() {
		line := append([]byte(nil), in.Bytes()...)
		var msg Message
		if err := json.Unmarshal(line, &msg); err != nil {
			fmt.Fprintf(os.Stderr, "bad line: %v\n", err)
			continue
		}
		var body Body
		if err := json.Unmarshal(msg.Body, &body); err != nil {
			fmt.Fprintf(os.Stderr, "bad body: %v\n", err)
			continue
		}
		var fn HandlerFunc
		if body.Type == "init" {
			fn = n.handleInit
		} else if fn = n.handlers[body.Type]; fn == nil {
			fmt.Fprintf(os.Stderr, "no handler for %q\n", body.Type)
			continue
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			if err := fn(msg); err != nil {
				fmt.Fprintf(os.Stderr, "handler: %v\n", err)
			}
		}()
	}
	n.wg.Wait()
	return in.Err()
}

func (n *Node) handleInit(msg Message) error {
	var body struct {
		NodeID  string   `json:"node_id"`
		NodeIDs []string `json:"node_ids"`
	}
	if err := json.Unmarshal(msg.Body, &body); err != nil {
		return err
	}
	n.mu.Lock()
	n.id, n.nodeIDs = body.NodeID, body.NodeIDs
	n.mu.Unlock()
	if n.initHook != nil {
		if err := n.initHook(); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "node %s initialised\n", body.NodeID)
	return n.Reply(msg, map[string]any{"type": "init_ok"})
}

// Reply answers msg with body, adding in_reply_to.
func (n *Node) Reply(msg Message, body map[string]any) error {
	var req Body
	if err := json.Unmarshal(msg.Body, &req); err != nil {
		return err
	}
	body["in_reply_to"] = req.MsgID
	return n.Send(msg.Src, body)
}

// Send writes one message to dest, as one line, under the stdout lock.
func (n *Node) Send(dest string, body any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	line, err := json.Marshal(Message{Src: n.ID(), Dest: dest, Body: raw})
	if err != nil {
		return err
	}
	n.outMu.Lock()
	defer n.outMu.Unlock()
	n.out.Write(line)
	n.out.WriteByte('\n')
	return n.out.Flush()
}
