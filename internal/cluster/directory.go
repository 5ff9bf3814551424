package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/visio-meet/visio/internal/room"
)

// The directory maps each room with a meeting to the node hosting it. Any
// node answers the join API (Place); the node named then starts the meeting
// (Host). An entry naming a node that is lost, or that restarted since,
// is taken over, and the meeting that starts continues the lost one.

// roomTTL bounds how long the entry of a room outlives its node; nodes
// refresh the entries of their meetings well within it.
const roomTTL = 10 * time.Minute

// ErrNoNode is returned by Place when no node can take a new meeting.
var ErrNoNode = errors.New("no node of the cluster can take a new meeting now")

type roomEntry struct {
	Node        NodeID `json:"node"`
	Incarnation string `json:"incarnation"`
	// Moved says the room was taken from a lost node: the next meeting on
	// Node continues that one.
	Moved bool `json:"moved,omitempty"`
}

// Place returns the node that hosts the meeting of room code, choosing one
// if there is none: the node already hosting it while alive, else the least
// loaded. The caller sends the participant there.
func (c *Cluster) Place(ctx context.Context, code room.Code) (Node, error) {
	if err := c.Ready(); err != nil {
		return Node{}, err
	}
	for attempt := range directoryAttempts {
		if err := settle(ctx, attempt); err != nil {
			return Node{}, err
		}
		entry, rev, err := c.entry(ctx, code)
		if err != nil {
			return Node{}, err
		}
		if rev != 0 {
			if n, ok := c.alive(entry.Node); ok && n.Incarnation == entry.Incarnation {
				return n, nil
			}
		}
		n, ok := c.leastLoaded(string(code))
		if !ok {
			return Node{}, ErrNoNode
		}
		next := roomEntry{Node: n.ID, Incarnation: n.Incarnation, Moved: rev != 0}
		if _, err := c.write(ctx, code, next, rev); err == nil {
			c.placed(n.ID)
			if next.Moved {
				c.log.Info("room re-placed: its node was lost", "room", code, "from", entry.Node, "to", n.ID)
			}
			return n, nil
		} else if !conflict(err) {
			return Node{}, err
		}
		// Another node placed it meanwhile: read again.
	}
	return Node{}, fmt.Errorf("room %s: the directory keeps changing; try again", code)
}

// Lookup returns the other node hosting the meeting of room code, if one
// does: requests about that meeting are its to answer.
func (c *Cluster) Lookup(ctx context.Context, code room.Code) (Node, bool) {
	if c.Ready() != nil {
		return Node{}, false
	}
	entry, rev, err := c.entry(ctx, code)
	if err != nil || rev == 0 || entry.Node == c.cfg.Node {
		return Node{}, false
	}
	n, ok := c.alive(entry.Node)
	return n, ok && n.Incarnation == entry.Incarnation
}

// Host implements the meetings' Directory: it confirms that this node hosts room
// code, taking the room over if it was placed on a lost node. starting
// says a meeting is about to start here: the entry then names this run of
// the node, so that a Release of the previous meeting cannot remove it.
func (c *Cluster) Host(ctx context.Context, code room.Code, starting bool) (moved bool, err error) {
	if err := c.Ready(); err != nil {
		return false, fmt.Errorf("%w: %v", room.ErrElsewhere, err)
	}
	for attempt := range directoryAttempts {
		if err := settle(ctx, attempt); err != nil {
			return false, err
		}
		entry, rev, err := c.entry(ctx, code)
		if err != nil {
			return false, err
		}
		mine := rev != 0 && entry.Node == c.cfg.Node
		if rev != 0 && !mine {
			if n, ok := c.alive(entry.Node); ok && n.Incarnation == entry.Incarnation {
				return false, fmt.Errorf("%w: node %s", room.ErrElsewhere, entry.Node)
			}
		}
		if mine && entry.Incarnation == c.incarnation && (!entry.Moved || !starting) {
			c.mu.Lock()
			written := c.hosted[code] == rev
			c.mu.Unlock()
			// A meeting starting on an entry this node did not write since
			// its last meeting ended writes it again, so that the Release of
			// that meeting (which names its revision) cannot remove it.
			if !starting || written {
				return false, nil
			}
		}
		if c.draining.Load() && !mine {
			return false, fmt.Errorf("%w: this node is draining", room.ErrElsewhere)
		}
		// A taken-over room stays marked moved until its meeting started
		// here (refreshRooms clears it), whichever of its first joins
		// starts it.
		moved = rev != 0 && (entry.Moved || entry.Incarnation != c.incarnation)
		next, err := c.write(ctx, code, roomEntry{Node: c.cfg.Node, Incarnation: c.incarnation, Moved: moved}, rev)
		if err == nil {
			c.mu.Lock()
			c.hosted[code] = next
			c.mu.Unlock()
			return moved, nil
		}
		if !conflict(err) {
			return false, err
		}
	}
	return false, fmt.Errorf("room %s: the directory keeps changing; try again", code)
}

// Release implements the meetings' Directory: the meeting of room code ended
// here, so the room no longer belongs to this node, unless a new meeting
// started meanwhile.
func (c *Cluster) Release(code room.Code) {
	c.mu.Lock()
	rev, ok := c.hosted[code]
	delete(c.hosted, code)
	c.mu.Unlock()
	if !ok {
		return
	}
	c.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.rooms.Delete(ctx, string(code), jetstream.LastRevision(rev)); err != nil && !conflict(err) {
			c.log.Warn("cluster: cannot remove a room from the directory", "room", code, "err", err)
		}
	})
}

// Handoff names another node as the host of the meeting of room code, for
// it to continue the meeting this node gives up (when it drains), and
// returns that node.
func (c *Cluster) Handoff(ctx context.Context, code room.Code) (Node, error) {
	for attempt := range directoryAttempts {
		if err := settle(ctx, attempt); err != nil {
			return Node{}, err
		}
		entry, rev, err := c.entry(ctx, code)
		if err != nil {
			return Node{}, err
		}
		if rev == 0 || entry.Node != c.cfg.Node {
			return Node{}, fmt.Errorf("room %s is not this node's", code)
		}
		n, ok := c.leastLoaded(string(code)) // not this node: it drains
		if !ok || n.ID == c.cfg.Node {
			return Node{}, ErrNoNode
		}
		_, err = c.write(ctx, code, roomEntry{Node: n.ID, Incarnation: n.Incarnation, Moved: true}, rev)
		if err == nil {
			c.placed(n.ID)
			c.mu.Lock()
			delete(c.hosted, code)
			c.mu.Unlock()
			c.log.Info("room handed over", "room", code, "to", n.ID)
			return n, nil
		}
		if !conflict(err) {
			return Node{}, err
		}
	}
	return Node{}, fmt.Errorf("room %s: the directory keeps changing; try again", code)
}

// refreshRooms keeps the entries of this node's meetings from expiring
// (and clears their moved mark: those meetings started here). An entry
// that changed meanwhile is no longer this node's to keep.
func (c *Cluster) refreshRooms(ctx context.Context) {
	c.mu.Lock()
	hosted := maps.Clone(c.hosted)
	c.mu.Unlock()
	for code, rev := range hosted {
		attempt, cancel := context.WithTimeout(ctx, 5*time.Second)
		next, err := c.write(attempt, code, roomEntry{Node: c.cfg.Node, Incarnation: c.incarnation}, rev)
		cancel()
		c.mu.Lock()
		switch {
		case err == nil && c.hosted[code] == rev:
			c.hosted[code] = next
		case conflict(err) && c.hosted[code] == rev:
			delete(c.hosted, code)
			c.log.Warn("cluster: a room of this node was taken in the directory", "room", code)
		case err != nil && !conflict(err):
			c.log.Warn("cluster: cannot refresh a room in the directory", "room", code, "err", err)
		}
		c.mu.Unlock()
	}
}

// electionWait bounds how long a read of the directory waits for its stream
// to have a leader again: when the node that led it is lost, the others
// elect one within a few seconds, and nothing answers meanwhile.
const electionWait = 5 * time.Second

// entry reads the directory's entry for code; rev is 0 when there is none.
func (c *Cluster) entry(ctx context.Context, code room.Code) (roomEntry, uint64, error) {
	e, err := c.rooms.Get(ctx, string(code))
	for waited := time.Duration(0); errors.Is(err, nats.ErrNoResponders) && waited < electionWait; waited += 100 * time.Millisecond {
		select {
		case <-ctx.Done():
			return roomEntry{}, 0, fmt.Errorf("room %s: read the directory: %w", code, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		e, err = c.rooms.Get(ctx, string(code))
	}
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return roomEntry{}, 0, nil
	}
	if err != nil {
		return roomEntry{}, 0, fmt.Errorf("room %s: read the directory: %w", code, err)
	}
	var entry roomEntry
	if err := json.Unmarshal(e.Value(), &entry); err != nil {
		return roomEntry{}, e.Revision(), nil // unreadable: as if its node were lost
	}
	return entry, e.Revision(), nil
}

// write replaces the entry of code at revision rev (0: creates it) and
// returns its new revision.
func (c *Cluster) write(ctx context.Context, code room.Code, entry roomEntry, rev uint64) (uint64, error) {
	b, _ := json.Marshal(entry)
	var next uint64
	var err error
	if rev == 0 {
		next, err = c.rooms.Create(ctx, string(code), b)
	} else {
		next, err = c.rooms.Update(ctx, string(code), b, rev)
	}
	if err != nil {
		return 0, fmt.Errorf("room %s: write the directory: %w", code, err)
	}
	return next, nil
}

// directoryAttempts bounds the reads and writes of one change of the
// directory that other nodes keep changing too.
const directoryAttempts = 8

// settle waits before attempt (from 0) of a change of the directory: a
// little longer each time, since after a conflict the replica read from may
// not have the winning write yet.
func settle(ctx context.Context, attempt int) error {
	if attempt == 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(attempt) * 20 * time.Millisecond):
		return nil
	}
}

// conflict reports whether err says the entry changed under us.
func conflict(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) ||
		errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}
