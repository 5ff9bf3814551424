package meeting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/visio-meet/visio/internal/room"
)

// brokenDirectory answers every placement with err.
type brokenDirectory struct{ err error }

func (d brokenDirectory) Host(context.Context, room.Code, bool) (bool, error) { return false, d.err }
func (brokenDirectory) Release(room.Code)                                     {}

// A directory that cannot answer (a cluster electing a new leader) makes a
// join worth trying again; a meeting hosted elsewhere is not that.
func TestAJoinTheDirectoryCannotPlaceIsWorthTryingAgain(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name                string
		dirErr              error
		unplaced, elsewhere bool
	}{
		{"directory unreachable", fmt.Errorf("read the directory: %w", context.DeadlineExceeded), true, false},
		{"hosted on another node", fmt.Errorf("room on node-2: %w", ErrElsewhere), false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := NewRegistry(Config{}, nil, brokenDirectory{c.dirErr}, slog.New(slog.DiscardHandler))
			code := room.NewCode()
			_, err := r.Join(t.Context(), code, host("Alice"), &inbox{})
			if err == nil {
				t.Fatal("joined a meeting nobody could place")
			}
			if errors.Is(err, ErrUnplaced) != c.unplaced || errors.Is(err, ErrElsewhere) != c.elsewhere {
				t.Errorf("error %q: unplaced %v, elsewhere %v; want %v, %v", err, errors.Is(err, ErrUnplaced), errors.Is(err, ErrElsewhere), c.unplaced, c.elsewhere)
			}
			if r.Meeting(code) != nil {
				t.Error("a meeting started that no node hosts")
			}
		})
	}
}
