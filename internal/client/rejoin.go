package client

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/visio-meet/visio/internal/protocol"
)

// sendJoin joins (or rejoins) and waits for the welcome or the lobby.
func (c *Client) sendJoin(ctx context.Context, token, rejoin string) error {
	if err := c.SendMessage(ctx, &protocol.Join{Room: c.opts.Room, Name: c.opts.Name, Token: token, Rejoin: rejoin}); err != nil {
		return err
	}
	err := c.WaitFor(ctx, func(s State) bool { return s.Self.ID != "" || s.Waiting || len(s.Errors) > 0 || s.Bye != "" })
	if err == nil {
		if st := c.State(); st.Self.ID == "" && !st.Waiting {
			err = &JoinRefusedError{Errors: st.Errors, Bye: st.Bye}
		}
	}
	return err
}

// rejoinOnce asks where the meeting is and joins it there.
func (c *Client) rejoinOnce(ctx context.Context, rejoin string) error {
	grant, err := RequestJoin(ctx, c.opts)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.signalURL = grant.SignalURL
	c.errors = nil
	c.mu.Unlock()
	if err := c.dial(ctx); err != nil {
		return err
	}
	return c.sendJoin(ctx, grant.Token, rejoin)
}

// worthRetrying tells a refusal that says "try again in a moment" (the
// meeting is between nodes, or a node is briefly unreachable) from a final
// one (the token expired, the room is closed).
func worthRetrying(err error) bool {
	if refused, ok := errors.AsType[*RefusedError](err); ok {
		return refused.Status >= http.StatusInternalServerError
	}
	if refused, ok := errors.AsType[*JoinRefusedError](err); ok {
		return slices.ContainsFunc(refused.Errors, func(e protocol.Error) bool { return e.Code == protocol.CodeRoomUnavailable })
	}
	// The node asked or the node hosting did not answer.
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// JoinRefusedError is the signalling server's refusal of a join.
type JoinRefusedError struct {
	Errors []protocol.Error
	Bye    string
}

func (e *JoinRefusedError) Error() string {
	return fmt.Sprintf("join refused: %v %s", e.Errors, e.Bye)
}

// SignalURL returns where the signalling connection goes: the node hosting
// the meeting, or "" for the server of Options.URL.
func (c *Client) SignalURL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.signalURL
}

// Rejoin comes back into the meeting after the node hosting it was lost,
// as the web app does: it asks Options.URL where the meeting is now, opens
// new connections there with the rejoin token of the last welcome, and
// publishes again what it published.
func (c *Client) Rejoin(ctx context.Context) error {
	c.mu.Lock()
	rejoin := c.welcome.RejoinToken
	// A failed attempt published nothing: what to publish again stays.
	c.republish = append(c.republish, slices.Collect(maps.Keys(c.published))...)
	sources := c.republish
	for _, p := range c.published {
		p.stop()
	}
	clear(c.published)
	clear(c.pubMids)
	clear(c.offered)
	c.self, c.bye, c.waiting = protocol.Participant{}, "", false
	c.errors = nil
	c.mu.Unlock()
	c.cutSocket()
	c.media.close()
	// While a meeting moves, the new node may not host it yet, or the
	// cluster's directory may still be electing: the web app asks again a
	// moment later, and so does this.
	for {
		err := c.rejoinOnce(ctx, rejoin)
		if err == nil {
			break
		}
		if !worthRetrying(err) {
			return err
		}
		c.cutSocket()
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last refusal: %v)", ctx.Err(), err)
		case <-time.After(500 * time.Millisecond):
		}
	}
	c.mu.Lock()
	c.republish = nil
	c.mu.Unlock()
	if len(sources) == 0 {
		return nil
	}
	return c.Publish(ctx, sources...)
}
