package client

import (
	"context"
	"fmt"
	"maps"
	"slices"

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
			err = fmt.Errorf("join refused: %v %s", st.Errors, st.Bye)
		}
	}
	return err
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
	grant, err := RequestJoin(ctx, c.opts)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.signalURL = grant.SignalURL
	c.mu.Unlock()
	if err := c.dial(ctx); err != nil {
		return err
	}
	if err := c.sendJoin(ctx, grant.Token, rejoin); err != nil {
		return err
	}
	c.mu.Lock()
	c.republish = nil
	c.mu.Unlock()
	if len(sources) == 0 {
		return nil
	}
	return c.Publish(ctx, sources...)
}
