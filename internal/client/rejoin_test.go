package client

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/visio-meet/visio/internal/protocol"
)

func TestRejoinAsksAgainOnlyWhenTheServerSaysToTryAgain(t *testing.T) {
	for _, c := range []struct {
		name  string
		err   error
		again bool
	}{
		{"no node can host it yet", &RefusedError{Status: 503, Code: "unavailable"}, true},
		{"the join token is refused", &RefusedError{Status: 403, Code: "forbidden"}, false},
		{"the meeting is between nodes", &JoinRefusedError{Errors: []protocol.Error{{Code: protocol.CodeRoomUnavailable}}}, true},
		{"banned", &JoinRefusedError{Errors: []protocol.Error{{Code: protocol.CodeBanned}}}, false},
		{"the node does not answer", fmt.Errorf("dial ws://node-2/ws: %w", errors.New("connection refused")), true},
		{"the caller gave up", fmt.Errorf("dial: %w", context.Canceled), false},
	} {
		if got := worthRetrying(c.err); got != c.again {
			t.Errorf("%s: asks again %v, want %v", c.name, got, c.again)
		}
	}
}
