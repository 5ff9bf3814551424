package server

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/visio-meet/visio/internal/client"
	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
)

// fetch downloads path from srv.
func fetch(t *testing.T, srv *testServer, path string) (*http.Response, []byte) {
	t.Helper()
	res, err := http.Get(srv.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func TestFilesAreSharedAndGoWithTheirMeeting(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, withChatFiles(dir, 1<<20, 3<<20))
	ctx := testContext(t)
	code := room.NewCode()
	alice := srv.join(t, ctx, code, "Alice")
	bob := srv.join(t, ctx, code, "Bob")

	content := append([]byte("%PDF-1.4\n"), randomBytes(t, 300<<10)...)
	f, err := alice.UploadFile(ctx, "../Plan de travail 2026.pdf", bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "Plan de travail 2026.pdf" || f.Size != int64(len(content)) || f.Type != "application/pdf" ||
		f.URL != "/api/v1/rooms/"+string(code)+"/files/"+f.ID || !strings.HasPrefix(f.ID, "f_") || len(f.ID) < 2+26 {
		t.Fatalf("uploaded %+v", f)
	}
	if err := alice.SendChat(ctx, protocol.ChatSend{Text: "Le plan", File: f.ID, ClientID: "a1"}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, bob, "Bob gets the file", func(s client.State) bool { return len(s.Chat.Messages) == 1 })
	shared := bob.State().Chat.Messages[0].File
	if shared == nil || *shared != f {
		t.Fatalf("Bob's message carries %+v, want %+v", shared, f)
	}
	res, body := fetch(t, srv, shared.URL)
	if res.StatusCode != http.StatusOK || !bytes.Equal(body, content) {
		t.Fatalf("Bob's download: %d, %d bytes of %d", res.StatusCode, len(body), len(content))
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, "Plan de travail 2026.pdf") {
		t.Fatalf("Content-Disposition: %q", cd)
	}
	if res.Header.Get("Content-Type") != "application/pdf" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("download headers: %v", res.Header)
	}

	// The same file cannot be shared again, nor by someone else.
	refused(t, ctx, alice, &protocol.ChatSend{Text: "encore", File: f.ID}, protocol.CodeInvalid)
	refused(t, ctx, bob, &protocol.ChatSend{Text: "le mien", File: f.ID}, protocol.CodeInvalid)

	// A page is kept as bytes to save, which cannot run in Visio's origin.
	page, err := alice.UploadFile(ctx, "page.html", strings.NewReader("<!DOCTYPE html><script>fetch('/api/v1/me')</script>"))
	if err != nil {
		t.Fatal(err)
	}
	res, _ = fetch(t, srv, page.URL)
	if page.Type != "application/octet-stream" || res.Header.Get("Content-Type") != "application/octet-stream" ||
		!strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") || res.Header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.Contains(res.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("an HTML file is served as %+v with %v", page, res.Header)
	}

	// Over the size limit of a file, then of the meeting's files.
	_, err = alice.UploadFile(ctx, "big.bin", bytes.NewReader(make([]byte, 1<<20+1)))
	var refusal *client.RefusedError
	if !errors.As(err, &refusal) || refusal.Status != http.StatusRequestEntityTooLarge || !strings.Contains(refusal.Message, "1 MiB") {
		t.Fatalf("a file over 1 MiB: %v", err)
	}
	for i := range 2 {
		if _, err := bob.UploadFile(ctx, fmt.Sprint("part", i, ".bin"), bytes.NewReader(make([]byte, 1<<20))); err != nil {
			t.Fatalf("file %d of 1 MiB: %v", i+1, err)
		}
	}
	_, err = bob.UploadFile(ctx, "part3.bin", bytes.NewReader(make([]byte, 1<<20)))
	if !errors.As(err, &refusal) || refusal.Status != http.StatusRequestEntityTooLarge || !strings.Contains(refusal.Message, "meeting") {
		t.Fatalf("a file over what the meeting may hold: %v", err)
	}

	// Only a participant of the meeting, with their token, may upload.
	post := func(id, token string) int {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.url+"/api/v1/rooms/"+string(code)+"/files", strings.NewReader("--x--\r\n"))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
		if id != "" {
			req.Header.Set("X-Visio-Participant", id)
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if status := post(alice.ID(), "FORGED"); status != http.StatusUnauthorized {
		t.Fatalf("a forged resume token: %d", status)
	}
	if status := post("", ""); status != http.StatusUnauthorized {
		t.Fatalf("no credentials: %d", status)
	}
	carol := srv.join(t, ctx, room.NewCode(), "Carol")
	_, err = carol.UploadFileTo(ctx, string(code), "intrus.txt", strings.NewReader("hello"))
	if !errors.As(err, &refusal) || refusal.Status != http.StatusForbidden {
		t.Fatalf("a participant of another room: %v", err)
	}
	if res, _ := fetch(t, srv, "/api/v1/rooms/"+string(code)+"/files/f_"+strings.Repeat("a", 26)); res.StatusCode != http.StatusNotFound {
		t.Fatalf("an unknown file: %d", res.StatusCode)
	}

	// The meeting ends: its files go.
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("the files directory holds %d meetings, want 1", len(entries))
	}
	for _, c := range []*client.Client{alice, bob} {
		if err := c.Leave(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, func() bool { return srv.Meetings().Meeting(code) == nil }, "the meeting did not end")
	if res, _ := fetch(t, srv, f.URL); res.StatusCode != http.StatusNotFound {
		t.Fatalf("a file of an ended meeting: %d", res.StatusCode)
	}
	waitUntil(t, func() bool { entries, _ := os.ReadDir(dir); return len(entries) == 0 }, "the ended meeting's files are still on disk")
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func TestFileSharingCanBeTurnedOff(t *testing.T) {
	srv := startServer(t, withChatFiles(t.TempDir(), 0, 1<<20))
	ctx := testContext(t)
	alice := srv.join(t, ctx, room.NewCode(), "Alice")
	_, err := alice.UploadFile(ctx, "plan.pdf", strings.NewReader("%PDF-1.4"))
	var refusal *client.RefusedError
	if !errors.As(err, &refusal) || refusal.Status != http.StatusServiceUnavailable || !strings.Contains(refusal.Message, "chat.max_file_bytes") {
		t.Fatalf("an upload with file sharing off: %v", err)
	}
	say(t, ctx, alice, "Le chat marche toujours.", "")
}
