package meeting

import (
	"context"
	"errors"
	"time"

	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/store"
)

// StoredState keeps the lasting state of live meetings in the store, where
// another node finds a meeting whose node was lost. It implements
// LastingState.
type StoredState struct{ Store *store.Store }

func (l StoredState) Start(ctx context.Context, code room.Code, m LastingMeeting) (string, error) {
	stale, err := l.Store.StartLiveMeeting(ctx, store.LiveMeeting{Key: m.Key, Code: code, StartedAt: m.StartedAt,
		Speech: liveSpeech(m.Speech)})
	if err != nil || stale == nil {
		return "", err
	}
	return stale.Key, nil
}

func (l StoredState) Load(ctx context.Context, code room.Code) (*LastingMeeting, error) {
	rec, messages, err := l.Store.LiveMeeting(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	sp := rec.Speech
	m := &LastingMeeting{Key: rec.Key, StartedAt: rec.StartedAt, Messages: make([]protocol.Chat, 0, len(messages)),
		Speech: LastingSpeech{Captions: sp.Captions, Transcript: string(sp.Transcript),
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

func (l StoredState) AppendMessage(ctx context.Context, key string, msg protocol.Chat, keepFrom uint64) error {
	kept := store.LiveMessage{ID: msg.ID, At: time.UnixMilli(msg.At), ParticipantID: msg.From, SenderName: msg.Name,
		ClientID: msg.ClientID, Text: msg.Text, Deleted: msg.Deleted}
	if f := msg.File; f != nil {
		kept.File = &store.LiveFile{ID: f.ID, Name: f.Name, Type: f.Type, Size: f.Size}
	}
	return l.Store.AppendLiveMessage(ctx, key, kept, keepFrom)
}

func (l StoredState) DeleteMessage(ctx context.Context, key string, id uint64) error {
	return l.Store.DeleteLiveMessage(ctx, key, id)
}

func (l StoredState) SaveSpeech(ctx context.Context, key string, s LastingSpeech) error {
	return l.Store.SetLiveSpeech(ctx, key, liveSpeech(s))
}

func (l StoredState) End(ctx context.Context, key string) error {
	return l.Store.EndLiveMeeting(ctx, key)
}

func liveSpeech(s LastingSpeech) store.LiveSpeech {
	return store.LiveSpeech{Captions: s.Captions, Transcript: store.TranscriptID(s.Transcript), TranscriptSince: s.TranscriptSince,
		LastTranscript: store.TranscriptID(s.LastTranscript)}
}
