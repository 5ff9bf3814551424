package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/visio-meet/visio/internal/meeting"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/store"
	"github.com/visio-meet/visio/internal/summary"
	"github.com/visio-meet/visio/internal/transcript"
)

// transcriptKeeper records meetings' transcripts in the store and, once one
// is finished, has it summarised and sends it to the webhook, in the
// background.
type transcriptKeeper struct {
	store         *store.Store
	summary       *summary.Client // nil: no summaries
	webhookURL    string
	webhookSecret string
	client        *http.Client
	log           *slog.Logger
	ctx           context.Context // ends the deliveries
	deliveries    sync.WaitGroup
}

// Start implements meeting.Transcripts.
func (k *transcriptKeeper) Start(ctx context.Context, code room.Code, language, startedBy string, at time.Time) (meeting.Transcript, error) {
	rec, err := transcript.Start(ctx, k.store, string(code), language, startedBy, at, transcript.WithLogger(k.log))
	if err != nil {
		return nil, err
	}
	return keptTranscript{rec, k}, nil
}

type keptTranscript struct {
	*transcript.Recorder
	keeper *transcriptKeeper
}

// Finish implements meeting.Transcript: it saves the last segments, then
// delivers the transcript.
func (t keptTranscript) Finish(ctx context.Context) error {
	done, err := t.Stop(ctx)
	if err != nil {
		return err
	}
	if st := t.Stats(); st.Dropped > 0 || st.Failed > 0 {
		t.keeper.log.Warn("transcript incomplete", "transcript", done.ID, "dropped", st.Dropped, "failed", st.Failed)
	}
	k := t.keeper
	if k.summary == nil && k.webhookURL == "" {
		return nil
	}
	k.deliveries.Add(1)
	go func() {
		defer k.deliveries.Done()
		k.deliver(done)
	}()
	return nil
}

// deliver summarises t, when a summary service is set, then sends it to the
// webhook, when one is set.
func (k *transcriptKeeper) deliver(t transcript.Transcript) {
	log := k.log.With("room", t.Room, "transcript", t.ID)
	if k.summary != nil {
		s, err := k.summary.Summarize(k.ctx, t.Language, t.Lines())
		switch {
		case errors.Is(err, summary.ErrNothingSaid):
		case err != nil:
			log.Warn("no summary", "err", err)
		default:
			t.Summary = &s
			if err := k.saveSummary(t.ID, s); err != nil {
				log.Warn("summary not saved", "err", err)
			}
		}
	}
	if k.webhookURL != "" {
		if err := transcript.Deliver(k.ctx, k.client, k.webhookURL, k.webhookSecret, t); err != nil {
			log.Error("transcript not delivered to transcripts.webhook_url", "err", err)
			return
		}
		log.Info("transcript delivered to the webhook")
	}
}

func (k *transcriptKeeper) saveSummary(id string, s summary.Summary) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	return k.store.SetTranscriptSummary(k.ctx, store.TranscriptID(id), b)
}

// wait returns once the deliveries under way have ended.
func (k *transcriptKeeper) wait() { k.deliveries.Wait() }
