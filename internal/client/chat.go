package client

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"

	"github.com/visio-meet/visio/internal/protocol"
)

// ChatState is what the client knows of the meeting's chat, as the web app
// keeps it.
type ChatState struct {
	// Messages has one of each message id, in id order: those that came
	// live and those of every history.
	Messages []protocol.Chat
	// Histories counts the chat_history messages received.
	Histories int
	Deleted   []protocol.ChatDeleted // in order
	Reactions []protocol.Reaction    // in order
}

// chatLog keeps the chat. Guarded by the client's mu.
type chatLog struct {
	messages  []protocol.Chat
	histories int
	deleted   []protocol.ChatDeleted
	reactions []protocol.Reaction
}

func (l *chatLog) state() ChatState {
	return ChatState{Messages: slices.Clone(l.messages), Histories: l.histories,
		Deleted: slices.Clone(l.deleted), Reactions: slices.Clone(l.reactions)}
}

func (l *chatLog) handle(msg protocol.Message) {
	switch m := msg.(type) {
	case *protocol.Chat:
		l.keep(*m)
	case *protocol.ChatHistory:
		l.histories++
		for _, c := range m.Messages {
			l.keep(c)
		}
	case *protocol.ChatDeleted:
		l.deleted = append(l.deleted, *m)
		l.keep(protocol.Chat{ID: m.ID, Deleted: true})
	case *protocol.Reaction:
		l.reactions = append(l.reactions, *m)
	}
}

// keep adds or updates a message by id; a deleted one stays deleted.
func (l *chatLog) keep(c protocol.Chat) {
	i, found := slices.BinarySearchFunc(l.messages, c.ID, func(m protocol.Chat, id uint64) int { return cmp.Compare(m.ID, id) })
	if !found {
		l.messages = slices.Insert(l.messages, i, c)
		return
	}
	old := &l.messages[i]
	if c.Deleted {
		old.Text, old.File, old.Deleted = "", nil, true
		return
	}
	if c.ClientID != "" {
		old.ClientID = c.ClientID
	}
}

// SendChat sends a chat message.
func (c *Client) SendChat(ctx context.Context, m protocol.ChatSend) error {
	return c.SendMessage(ctx, &m)
}

// DeleteChat deletes a message, as a host.
func (c *Client) DeleteChat(ctx context.Context, id uint64) error {
	return c.SendMessage(ctx, &protocol.ChatDelete{ID: id})
}

// React sends a reaction.
func (c *Client) React(ctx context.Context, emoji string) error {
	return c.SendMessage(ctx, &protocol.React{Emoji: emoji})
}

// UploadFile shares a file in the client's meeting, as the web app does
// before it sends the message that carries it.
func (c *Client) UploadFile(ctx context.Context, name string, content io.Reader) (protocol.ChatFile, error) {
	return c.UploadFileTo(ctx, c.opts.Room, name, content)
}

// UploadFileTo uploads a file to the meeting of another room with this
// participant's credentials, which that room should refuse.
func (c *Client) UploadFileTo(ctx context.Context, room, name string, content io.Reader) (protocol.ChatFile, error) {
	c.mu.Lock()
	id, token := c.self.ID, c.welcome.ResumeToken
	c.mu.Unlock()
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	part, err := form.CreateFormFile("file", name)
	if err != nil {
		return protocol.ChatFile{}, err
	}
	if _, err := io.Copy(part, content); err != nil {
		return protocol.ChatFile{}, err
	}
	if err := form.Close(); err != nil {
		return protocol.ChatFile{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.opts.URL+"/api/v1/rooms/"+url.PathEscape(room)+"/files", &body)
	if err != nil {
		return protocol.ChatFile{}, err
	}
	req.Header.Set("Content-Type", form.FormDataContentType())
	req.Header.Set("X-Visio-Participant", id)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return protocol.ChatFile{}, fmt.Errorf("upload %s: %w", name, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		var e struct{ Error, Message string }
		_ = json.NewDecoder(res.Body).Decode(&e)
		return protocol.ChatFile{}, &RefusedError{Status: res.StatusCode, Code: e.Error, Message: e.Message}
	}
	var f protocol.ChatFile
	if err := json.NewDecoder(res.Body).Decode(&f); err != nil {
		return protocol.ChatFile{}, fmt.Errorf("upload %s: %w", name, err)
	}
	return f, nil
}
