package speech

import "context"

// Limiter bounds how many engine calls run at once across all tracks of the
// server, so that a meeting of many speakers cannot start more recognitions
// than the machine or the remote service can take. One Limiter is shared by
// every Track; a nil *Limiter sets no bound.
type Limiter struct {
	slots chan struct{}
}

// NewLimiter returns a Limiter that lets n engine calls run at once; n below
// 1 counts as 1.
func NewLimiter(n int) *Limiter {
	return &Limiter{slots: make(chan struct{}, max(n, 1))}
}

// acquire waits for a free slot or for ctx to end.
func (l *Limiter) acquire(ctx context.Context) error {
	if l == nil {
		return ctx.Err()
	}
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release gives back a slot taken by a successful acquire.
func (l *Limiter) release() {
	if l != nil {
		<-l.slots
	}
}
