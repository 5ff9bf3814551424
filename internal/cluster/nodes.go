package cluster

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Node is a node as it last reported itself.
type Node struct {
	ID       NodeID `json:"id"`
	URL      string `json:"url"`
	Draining bool   `json:"draining,omitempty"`
	Load
	// Incarnation changes each time the node starts.
	Incarnation string `json:"incarnation"`
}

// heartbeat reports this node and its load.
func (c *Cluster) heartbeat(ctx context.Context) {
	if c.nodes == nil {
		return
	}
	n := Node{ID: c.cfg.Node, URL: c.cfg.URL, Draining: c.draining.Load(), Load: c.cfg.Load(), Incarnation: c.incarnation}
	b, _ := json.Marshal(n)
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Heartbeat)
	defer cancel()
	if _, err := c.nodes.Put(ctx, string(n.ID), b); err != nil && ctx.Err() == nil {
		c.log.Warn("cluster: cannot report this node", "err", err)
	}
	c.record(n) // this node knows it is alive without NATS telling it
}

// saw records what a node reported, or that it left.
func (c *Cluster) saw(e jetstream.KeyValueEntry) {
	if e.Operation() != jetstream.KeyValuePut {
		c.mu.Lock()
		delete(c.seen, NodeID(e.Key()))
		c.mu.Unlock()
		c.log.Info("cluster: node left", "other", e.Key())
		return
	}
	var n Node
	if json.Unmarshal(e.Value(), &n) != nil || n.ID != NodeID(e.Key()) {
		return
	}
	c.record(n)
}

func (c *Cluster) record(n Node) {
	c.mu.Lock()
	_, known := c.seen[n.ID]
	c.seen[n.ID] = seenNode{Node: n, at: time.Now()}
	c.mu.Unlock()
	if !known && n.ID != c.cfg.Node {
		c.log.Info("cluster: node seen", "other", n.ID, "url", n.URL)
	}
}

// Nodes returns the nodes alive now, by id.
func (c *Cluster) Nodes() []Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Node, 0, len(c.seen))
	for _, s := range c.seen {
		if time.Since(s.at) < c.cfg.NodeTimeout {
			out = append(out, s.Node)
		}
	}
	slices.SortFunc(out, func(a, b Node) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return out
}

// alive returns a node that is alive now.
func (c *Cluster) alive(id NodeID) (Node, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.seen[id]
	return s.Node, ok && time.Since(s.at) < c.cfg.NodeTimeout
}

// leastLoaded picks the node for a new meeting: the one with the fewest
// participants (a meeting counting as one, so that empty meetings spread
// too) among those alive and not draining. Ties go by a hash of the room,
// so that nodes placing rooms at the same moment spread them rather than
// all pick the same node before the next heartbeats.
func (c *Cluster) leastLoaded(code string) (Node, bool) {
	var best Node
	found := false
	bestScore := 0
	for _, n := range c.Nodes() {
		if n.Draining {
			continue
		}
		score := n.Participants + n.Meetings
		if !found || score < bestScore || score == bestScore && tieBreak(code, n.ID) < tieBreak(code, best.ID) {
			best, bestScore, found = n, score, true
		}
	}
	return best, found
}

func tieBreak(code string, id NodeID) uint64 {
	h := fnv.New64a()
	h.Write([]byte(code))
	h.Write([]byte(id))
	return h.Sum64()
}
