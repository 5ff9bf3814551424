package meeting

import (
	"slices"

	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
)

// Rooms returns the rooms whose meetings are live on this node.
func (r *Registry) Rooms() []room.Code {
	all := r.live()
	out := make([]room.Code, len(all))
	for i, m := range all {
		out[i] = m.code
	}
	return out
}

// HandOver ends the meeting of room code on this node for another node to
// continue it, as when this node is drained: everyone is told the meeting
// moved (their apps rejoin it where the directory now places it), and what
// the meeting keeps (chat, transcript) stays for the next node instead of
// going with the meeting. The directory must name the other node first.
func (r *Registry) HandOver(code room.Code) {
	m := r.Meeting(code)
	if m == nil {
		return
	}
	m.mu.Lock()
	m.handedOver = true
	everyone := slices.Concat(m.participants, m.lobby)
	m.mu.Unlock()
	for _, p := range everyone {
		if p.sink.attached() {
			p.sink.Close(protocol.ReasonMoved)
		} else {
			p.Leave(protocol.ReasonMoved) // waiting to reconnect: they will find it elsewhere
		}
	}
	r.log.Info("meeting handed over to another node", "room", code, "participants", len(everyone))
}

// continuesElsewhere reports whether what the meeting keeps must outlive
// it here: it was handed over, or it was taken over from a lost node but
// could not load what that one kept (the next join tries again).
func (m *Meeting) continuesElsewhere() bool {
	if m.handedOver {
		return true
	}
	if !m.moved {
		return false
	}
	select {
	case <-m.lasting.ready:
		return !m.lasting.kept
	default:
		return true
	}
}
