package meeting

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/speech"
)

// Speech is what meetings need to caption and transcribe what people say.
// Each participant's microphone is listened to on its own, so captions and
// transcripts know who spoke without guessing.
type Speech struct {
	// Engine turns speech into text; nil turns captions and transcripts off.
	Engine speech.Engine
	// Unavailable says why Engine is nil, and what an operator should
	// configure; participants are shown it.
	Unavailable string
	// Health returns the engine's latest known health. It must not block.
	Health func() speech.Health
	// Limiter bounds the engine calls of all meetings at once.
	Limiter *speech.Limiter
	// Detector makes each listener's voice detector; nil keeps the
	// pipeline's own.
	Detector func() speech.VoiceDetector
	// Language is spoken in rooms that do not say; default "fr".
	Language string
	// Transcripts keeps transcripts; nil offers captions only.
	Transcripts Transcripts
}

// Transcripts keeps the transcripts of meetings.
type Transcripts interface {
	// Start begins a transcript of the meeting in room code.
	Start(ctx context.Context, code room.Code, language, startedBy string, at time.Time) (Transcript, error)
	// Resume goes on with transcript id, begun by a meeting whose node
	// was lost, for the meeting that continues it.
	Resume(ctx context.Context, id string) (Transcript, error)
}

// Transcript is a transcript being made.
type Transcript interface {
	ID() string
	// Add keeps a final segment, with times since the transcript's start.
	// It must not block.
	Add(seg speech.Segment)
	// Finish saves what is left and ends the transcript, which can then be
	// downloaded.
	Finish(ctx context.Context) error
}

// Errors of ControlSpeech.
var (
	ErrSpeechOff     = errors.New("speech recognition is not set up on this server")
	ErrNoTranscripts = errors.New("this server keeps no transcripts")
)

// speechState is a meeting's captions and transcript. Guarded by the
// meeting's mu.
type speechState struct {
	origin     time.Time // segment times count from here: the meeting's start
	captions   bool
	transcript Transcript // nil when not transcribing
	since      time.Time  // when transcript started
	last       string     // the latest finished transcript, for hosts
	closing    map[*listener]bool
}

// listener is what hears one participant's microphone.
type listener struct {
	track *speech.Track
	// transcript keeps the participant's final words, with times shifted
	// by since; nil while not transcribing. A closing listener keeps its
	// transcript so that the last words still reach it. Guarded by the
	// meeting's mu.
	transcript Transcript
	since      time.Duration
	closed     chan struct{} // closed once the track has handed over its last words
}

func (m *Meeting) speechConfig() *Speech { return &m.registry.cfg.Speech }

func (m *Meeting) languageLocked() string {
	if l := m.settings.Language; l != "" {
		return l
	}
	if l := m.speechConfig().Language; l != "" {
		return l
	}
	return "fr"
}

// speechFor is what participant p is told of captions and transcription.
func (m *Meeting) speechFor(p *Participant) *protocol.Speech {
	cfg := m.speechConfig()
	s := &protocol.Speech{Available: cfg.Engine != nil, Reason: cfg.Unavailable, Captions: m.speech.captions,
		Transcribing: m.speech.transcript != nil, Language: m.languageLocked()}
	if s.Transcribing {
		s.TranscribingSince = m.speech.since.UnixMilli()
	}
	if p.identity.Role.IsHost() {
		s.Transcript = m.speech.last
		if cfg.Engine != nil {
			h := speech.Health{State: speech.Healthy}
			if cfg.Health != nil {
				h = cfg.Health()
			}
			s.Engine = &protocol.SpeechEngine{Name: cfg.Engine.Name(), State: string(h.State), Detail: h.Detail}
		}
	}
	return s
}

// SpeechChanged tells the hosts of every meeting the engine's new health.
func (r *Registry) SpeechChanged() {
	for _, m := range r.live() {
		m.mu.Lock()
		m.tellSpeechLocked()
		m.mu.Unlock()
	}
}

func (m *Meeting) tellSpeechLocked() {
	for _, o := range m.participants {
		o.sink.Send(m.speechFor(o))
	}
}

// ControlSpeech applies a host's change to captions, transcription or the
// room's language, and tells everyone.
func (p *Participant) ControlSpeech(ctx context.Context, c *protocol.SpeechControl) error {
	m := p.meeting
	cfg := m.speechConfig()
	// Changes take turns, so that the lasting state keeps the latest.
	m.lasting.writes.Lock()
	defer m.lasting.writes.Unlock()
	m.mu.Lock()
	if err := p.hostLocked(); err != nil {
		m.mu.Unlock()
		return err
	}
	wantsSpeech := c.Captions != nil && *c.Captions || c.Transcribe != nil && *c.Transcribe
	if wantsSpeech && cfg.Engine == nil {
		m.mu.Unlock()
		return ErrSpeechOff
	}
	if c.Transcribe != nil && *c.Transcribe && cfg.Transcripts == nil {
		m.mu.Unlock()
		return ErrNoTranscripts
	}
	settings := m.settings
	language := m.languageLocked()
	newLanguage := c.Language != nil && *c.Language != settings.Language
	if newLanguage {
		settings.Language, language = *c.Language, *c.Language
	}
	startTranscript := c.Transcribe != nil && *c.Transcribe && m.speech.transcript == nil
	m.mu.Unlock()

	// Storage is written without the meeting's lock.
	if newLanguage {
		if err := m.registry.cfg.Rooms.SaveSettings(ctx, m.code, settings); err != nil {
			return fmt.Errorf("save the room's language: %w", err)
		}
	}
	var started Transcript
	startedAt := time.Now()
	if startTranscript {
		var err error
		if started, err = cfg.Transcripts.Start(ctx, m.code, language, p.name, startedAt); err != nil {
			return fmt.Errorf("start the transcript: %w", err)
		}
	}

	m.mu.Lock()
	if err := p.hostLocked(); err != nil {
		if started != nil {
			m.finishTranscriptLocked(started)
		}
		m.mu.Unlock()
		return err
	}
	m.settings.Language = settings.Language
	if c.Captions != nil {
		m.speech.captions = *c.Captions
	}
	var finished Transcript
	switch {
	case started != nil && m.speech.transcript == nil:
		m.speech.transcript, m.speech.since = started, startedAt
		p.log.Info("transcription started", "transcript", started.ID())
	case started != nil:
		finished = started // another host started one meanwhile
	case c.Transcribe != nil && !*c.Transcribe && m.speech.transcript != nil:
		p.log.Info("transcription stopped", "transcript", m.speech.transcript.ID())
		finished, m.speech.transcript = m.speech.transcript, nil
	}
	if newLanguage || finished != nil {
		// The next listeners hear the new language; the closing ones hand
		// what they heard so far to the finished transcript.
		m.closeListenersLocked()
	}
	m.updateListenersLocked()
	if finished != nil {
		m.finishTranscriptLocked(finished)
	}
	kept := m.lastingSpeechLocked()
	m.mu.Unlock()

	// Kept before anyone is told, so that a transcript everyone saw start
	// is continued if the node is lost right after.
	m.keepSpeech(kept)
	m.mu.Lock()
	m.tellSpeechLocked()
	m.mu.Unlock()
	return nil
}

// finishTranscriptLocked ends t once the listeners closing now have handed
// over their last words, then tells hosts it can be downloaded.
func (m *Meeting) finishTranscriptLocked(t Transcript) {
	r := m.registry
	var closing []chan struct{}
	for l := range m.speech.closing {
		if l.transcript == t {
			closing = append(closing, l.closed)
		}
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for _, c := range closing {
			<-c
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := t.Finish(ctx); err != nil {
			r.log.Error("transcript not finished", "room", m.code, "transcript", t.ID(), "err", err)
			return
		}
		r.log.Info("transcript ready", "room", m.code, "transcript", t.ID())
		m.mu.Lock()
		m.speech.last = t.ID()
		m.tellSpeechLocked()
		m.mu.Unlock()
		m.saveSpeech()
	}()
}

// updateListenersLocked listens to the microphone of each participant while
// captions or transcription are on, and stops listening when both are off.
func (m *Meeting) updateListenersLocked() {
	cfg := m.speechConfig()
	on := cfg.Engine != nil && (m.speech.captions || m.speech.transcript != nil)
	for _, p := range m.participants {
		pub := p.published[protocol.SourceMicrophone]
		switch {
		case on && pub != nil && p.listener == nil:
			p.listener = m.listen(p)
			pub.track.ObservePackets(p.listener.track)
		case (!on || pub == nil) && p.listener != nil:
			p.stopListeningLocked()
		}
		if l := p.listener; l != nil {
			l.track.SetPartials(m.speech.captions)
			m.tuneListenerLocked(l)
		}
	}
}

// tuneListenerLocked has l keep what it hears in the running transcript,
// with times since the transcript's start.
func (m *Meeting) tuneListenerLocked(l *listener) {
	l.transcript, l.since = m.speech.transcript, m.speech.since.Sub(m.speech.origin)
}

func (m *Meeting) closeListenersLocked() {
	for _, p := range m.participants {
		if p.listener != nil {
			p.stopListeningLocked()
		}
	}
}

func (m *Meeting) listen(p *Participant) *listener {
	cfg := m.speechConfig()
	l := &listener{closed: make(chan struct{})}
	tc := speech.TrackConfig{
		Participant: string(p.id), Name: p.name, Language: m.languageLocked(),
		Engine: cfg.Engine, Limiter: cfg.Limiter, Origin: m.speech.origin,
		Partials: m.speech.captions, Logger: p.log,
		Emit: func(seg speech.Segment) { m.heard(l, seg) },
	}
	if cfg.Detector != nil {
		tc.Detector = cfg.Detector()
	}
	l.track = speech.NewTrack(tc)
	return l
}

// stopListeningLocked stops hearing p; the words being said are still
// captioned and kept, from another goroutine.
func (p *Participant) stopListeningLocked() {
	m := p.meeting
	if pub := p.published[protocol.SourceMicrophone]; pub != nil {
		pub.track.ObservePackets(nil)
	}
	l := p.listener
	p.listener = nil
	if m.speech.closing == nil {
		m.speech.closing = map[*listener]bool{}
	}
	m.speech.closing[l] = true
	m.registry.wg.Add(1)
	go func() {
		defer m.registry.wg.Done()
		l.track.Close()
		if st := l.track.Stats(); st.DroppedUtterances > 0 || st.EngineErrors > 0 || st.DroppedPackets > 0 {
			p.log.Warn("some of what the participant said was not captioned", "utterances", st.Utterances,
				"dropped_utterances", st.DroppedUtterances, "engine_errors", st.EngineErrors, "dropped_packets", st.DroppedPackets)
		}
		m.mu.Lock()
		delete(m.speech.closing, l)
		m.mu.Unlock()
		close(l.closed)
	}()
}

// heard shows what someone said as a caption and keeps it in the transcript.
func (m *Meeting) heard(l *listener, seg speech.Segment) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.speech.captions {
		m.broadcastLocked(nil, &protocol.Caption{Participant: seg.Participant, Name: seg.Name, Utterance: seg.Utterance,
			Text: seg.Text, Final: seg.Final, StartMS: seg.Start.Milliseconds(), EndMS: seg.End.Milliseconds(), Missed: seg.Missed})
	}
	if t := l.transcript; t != nil && seg.Final && seg.Text != "" {
		shift := l.since
		if seg.End < shift {
			return // said before the transcript began
		}
		seg.Start = max(seg.Start-shift, 0)
		seg.End -= shift
		t.Add(seg)
	}
}

// endSpeechLocked finishes the transcript of a meeting that ends.
func (m *Meeting) endSpeechLocked() {
	m.closeListenersLocked()
	if t := m.speech.transcript; t != nil {
		m.speech.transcript = nil
		m.finishTranscriptLocked(t)
	}
}
