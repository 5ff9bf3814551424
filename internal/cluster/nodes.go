package cluster

import (
	"encoding/json"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// Node is a node as it last reported itself.
type Node struct {
	ID       NodeID `json:"id"`
	URL      string `json:"url"`
	Draining bool   `json:"draining,omitempty"`
	Load
	// Incarnation changes each time the node starts.
	Incarnation string `json:"incarnation"`
	// Leaving is the last report of a node that stops.
	Leaving bool `json:"leaving,omitempty"`
}

// heartbeat reports this node and its load.
func (c *Cluster) heartbeat() {
	n := Node{ID: c.cfg.Node, URL: c.cfg.URL, Draining: c.draining.Load(), Load: c.cfg.Load(), Incarnation: c.incarnation}
	c.record(n) // this node knows it is alive without NATS telling it
	c.publish(n)
}

// leave tells the others at once that this node goes, so that they stop
// sending meetings its way.
func (c *Cluster) leave() {
	c.publish(Node{ID: c.cfg.Node, Incarnation: c.incarnation, Leaving: true})
	_ = c.conn.FlushTimeout(time.Second)
}

func (c *Cluster) publish(n Node) {
	b, _ := json.Marshal(n)
	if err := c.conn.Publish(nodesSubject, b); err != nil {
		c.log.Warn("cluster: cannot report this node", "err", err)
	}
}

// saw records what a node reported, or that it left.
func (c *Cluster) saw(m *nats.Msg) {
	var n Node
	if json.Unmarshal(m.Data, &n) != nil || n.ID == "" || n.ID == c.cfg.Node {
		return
	}
	if n.Leaving {
		c.mu.Lock()
		s, known := c.seen[n.ID]
		if known && s.Incarnation == n.Incarnation {
			delete(c.seen, n.ID)
		}
		c.mu.Unlock()
		c.log.Info("cluster: node left", "other", n.ID)
		return
	}
	c.record(n)
}

func (c *Cluster) record(n Node) {
	c.mu.Lock()
	_, known := c.seen[n.ID]
	c.seen[n.ID] = seenNode{Node: n, at: time.Now()} // its load now counts what was placed there
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

// placed counts a meeting this node sent to another since that node's
// last report, which does not count it yet.
func (c *Cluster) placed(id NodeID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.seen[id]; ok {
		s.sentSince++
		c.seen[id] = s
	}
}

// leastLoaded picks the node for a new meeting: the one with the fewest
// participants (a meeting counting as one, so that empty meetings spread
// too) among those alive and not draining, counting the meetings this node
// sent there since their last report (as meetings of the average size), so
// that a burst of placements (the meetings of a lost node) spreads. Ties go by a hash of the room, so that
// nodes placing rooms at the same moment spread them too.
func (c *Cluster) leastLoaded(code string) (Node, bool) {
	c.mu.Lock()
	candidates := make([]seenNode, 0, len(c.seen))
	for _, s := range c.seen {
		if time.Since(s.at) < c.cfg.NodeTimeout && !s.Draining {
			candidates = append(candidates, s)
		}
	}
	c.mu.Unlock()
	// A meeting sent somewhere will bring about as many participants as
	// the meetings going on have.
	participants, meetings := 0, 0
	for _, s := range candidates {
		participants, meetings = participants+s.Participants, meetings+s.Meetings
	}
	perMeeting := 1 + participants/max(meetings, 1)
	var best Node
	found := false
	bestScore := 0
	for _, s := range candidates {
		n := s.Node
		score := n.Participants + n.Meetings + s.sentSince*perMeeting
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
