package server

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/visio-meet/visio/internal/chatfiles"
	"github.com/visio-meet/visio/internal/meeting"
	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/store"
	"github.com/visio-meet/visio/internal/transcript"
)

// liveState keeps the lasting state of live meetings in the store, where
// another node finds a meeting whose node was lost.
type liveState struct{ store *store.Store }

func (l liveState) Start(ctx context.Context, code room.Code, m meeting.LastingMeeting) (string, error) {
	stale, err := l.store.StartLiveMeeting(ctx, store.LiveMeeting{Key: m.Key, Code: code, StartedAt: m.StartedAt,
		Speech: toLiveSpeech(m.Speech)})
	if err != nil || stale == nil {
		return "", err
	}
	return stale.Key, nil
}

func (l liveState) Load(ctx context.Context, code room.Code) (*meeting.LastingMeeting, error) {
	rec, messages, err := l.store.LiveMeeting(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	sp := rec.Speech
	m := &meeting.LastingMeeting{Key: rec.Key, StartedAt: rec.StartedAt, Messages: make([]protocol.Chat, 0, len(messages)),
		Speech: meeting.LastingSpeech{Captions: sp.Captions, Transcript: string(sp.Transcript),
			TranscriptSince: sp.TranscriptSince, LastTranscript: string(sp.LastTranscript)}}
	for _, msg := range messages {
		chat := protocol.Chat{ID: msg.ID, From: msg.ParticipantID, Name: msg.SenderName, At: msg.At.UnixMilli(), Text: msg.Text,
			Deleted: msg.Deleted, ClientID: msg.ClientID}
		if f := msg.File; f != nil {
			chat.File = &protocol.ChatFile{ID: f.ID, Name: f.Name, Size: f.Size, Type: f.Type}
		}
		m.Messages = append(m.Messages, chat)
	}
	return m, nil
}

func (l liveState) AppendMessage(ctx context.Context, key string, msg protocol.Chat, keepFrom uint64) error {
	kept := store.LiveMessage{ID: msg.ID, At: time.UnixMilli(msg.At), ParticipantID: msg.From, SenderName: msg.Name,
		ClientID: msg.ClientID, Text: msg.Text, Deleted: msg.Deleted}
	if f := msg.File; f != nil {
		kept.File = &store.LiveFile{ID: f.ID, Name: f.Name, Type: f.Type, Size: f.Size}
	}
	return l.store.AppendLiveMessage(ctx, key, kept, keepFrom)
}

func (l liveState) DeleteMessage(ctx context.Context, key string, id uint64) error {
	return l.store.DeleteLiveMessage(ctx, key, id)
}

func (l liveState) SaveSpeech(ctx context.Context, key string, s meeting.LastingSpeech) error {
	return l.store.SetLiveSpeech(ctx, key, toLiveSpeech(s))
}

func (l liveState) End(ctx context.Context, key string) error {
	return l.store.EndLiveMeeting(ctx, key)
}

func toLiveSpeech(s meeting.LastingSpeech) store.LiveSpeech {
	return store.LiveSpeech{Captions: s.Captions, Transcript: store.TranscriptID(s.Transcript), TranscriptSince: s.TranscriptSince,
		LastTranscript: store.TranscriptID(s.LastTranscript)}
}

// sweepLiveMeetings removes what the meetings of a node that stopped
// without ending them (a crash) left in the store: their records and chats,
// their files, and their running transcripts, which end where their last
// words were, as do the running transcripts no record names. Only a node
// that hosts every room may call it at its start: in a cluster, the records
// may be other nodes' live meetings.
func sweepLiveMeetings(ctx context.Context, st *store.Store, files chatfiles.Store, log *slog.Logger) {
	leftovers, err := st.LiveMeetings(ctx)
	if err != nil {
		log.Warn("the meetings a previous run left unfinished are still recorded: they go when their rooms are used again", "err", err)
		return
	}
	for _, m := range leftovers {
		if files != nil {
			if err := files.DeleteMeeting(ctx, m.Key); err != nil {
				log.Warn("the files of a meeting a previous run left unfinished are left", "room", m.Code, "err", err)
				continue // its record names them for the next sweep
			}
		}
		if err := st.DropLiveMeeting(ctx, m.Key); err != nil {
			log.Warn("a meeting a previous run left unfinished is still recorded", "room", m.Code, "err", err)
			continue
		}
		log.Info("a meeting a previous run left unfinished was removed", "room", m.Code, "transcript_ended", m.Speech.Transcript != "")
	}
	if n, err := st.EndUnclaimedTranscripts(ctx); err != nil {
		log.Warn("transcripts a previous run left running still show as running", "err", err)
	} else if n > 0 {
		log.Info("transcripts a previous run left running were ended at their last words", "transcripts", n)
	}
}

// Resume implements meeting.Transcripts.
func (k *transcriptKeeper) Resume(ctx context.Context, id string) (meeting.Transcript, error) {
	rec, err := transcript.Resume(ctx, k.store, store.TranscriptID(id), transcript.WithLogger(k.log))
	if err != nil {
		return nil, err
	}
	return keptTranscript{rec, k}, nil
}
