package server

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/visio-meet/visio/internal/chatfiles"
	"github.com/visio-meet/visio/internal/chatfiles/s3test"
	"github.com/visio-meet/visio/internal/client"
	"github.com/visio-meet/visio/internal/config"
	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
)

// withChatFilesIn keeps shared files in the bucket of an S3 server.
func withChatFilesIn(srv *s3test.Server) func(*config.Config, *Options) {
	return func(c *config.Config, _ *Options) {
		c.Chat.S3Endpoint, c.Chat.S3Region, c.Chat.S3Bucket = srv.Endpoint, srv.Region, srv.Bucket
		c.Chat.S3AccessKey, c.Chat.S3SecretKey, c.Chat.S3Prefix = srv.AccessKey, srv.SecretKey, "visio/chat/"
		c.Chat.FilesDir = "" // nothing may go to a directory
	}
}

// objectsIn lists the keys of the objects in the bucket.
func objectsIn(t *testing.T, srv *s3test.Server) []string {
	t.Helper()
	out, err := srv.Client().ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: &srv.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{}
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

func TestFilesSharedInAChatAreKeptInObjectStorage(t *testing.T) {
	bucket := s3test.Start(t)
	srv := startServer(t, withChatFilesIn(bucket))
	ctx := testContext(t)
	code := room.NewCode()
	alice := srv.join(t, ctx, code, "Alice")
	bob := srv.join(t, ctx, code, "Bob")

	// Large enough to go up in several parts.
	content := append([]byte("%PDF-1.4\n"), randomBytes(t, 11<<20)...)
	f, err := alice.UploadFile(ctx, "Compte rendu.pdf", bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.SendChat(ctx, protocol.ChatSend{Text: "Le compte rendu", File: f.ID, ClientID: "a1"}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, bob, "Bob gets the file", func(s client.State) bool { return len(s.Chat.Messages) == 1 })
	shared := bob.State().Chat.Messages[0].File
	if shared == nil || *shared != f {
		t.Fatalf("Bob's message carries %+v, want %+v", shared, f)
	}
	res, body := fetch(t, srv, shared.URL)
	if res.StatusCode != http.StatusOK || !bytes.Equal(body, content) || res.Header.Get("Content-Type") != "application/pdf" ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "Compte rendu.pdf") {
		t.Fatalf("Bob's download: %d, %d bytes of %d, %v", res.StatusCode, len(body), len(content), res.Header)
	}
	// A download that resumes halfway, as browsers do.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.url+shared.URL, nil)
	req.Header.Set("Range", "bytes=6000000-")
	resumed, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var rest bytes.Buffer
	_, _ = rest.ReadFrom(resumed.Body)
	resumed.Body.Close()
	if resumed.StatusCode != http.StatusPartialContent || !bytes.Equal(rest.Bytes(), content[6000000:]) {
		t.Fatalf("the second half: %d, %d bytes of %d", resumed.StatusCode, rest.Len(), len(content)-6000000)
	}
	if keys := strings.Join(objectsIn(t, bucket), " "); !strings.Contains(keys, "visio/chat/") || !strings.Contains(keys, f.ID) {
		t.Fatalf("the bucket holds %s", keys)
	}

	// The meeting ends: its files go.
	for _, c := range []*client.Client{alice, bob} {
		if err := c.Leave(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, func() bool { return srv.Meetings().Meeting(code) == nil }, "the meeting did not end")
	waitUntil(t, func() bool { return len(objectsIn(t, bucket)) == 0 }, "the ended meeting's files are still in the bucket")
}

func TestAServerAloneRemovesTheFilesACrashLeftInTheBucket(t *testing.T) {
	bucket := s3test.Start(t)
	crashed, err := chatfiles.NewS3(t.Context(), chatfiles.S3Config{Endpoint: bucket.Endpoint, Region: bucket.Region, Bucket: bucket.Bucket,
		AccessKey: bucket.AccessKey, SecretKey: bucket.SecretKey, Prefix: "visio/chat/"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crashed.Put(t.Context(), "old-meeting", "a.txt", "text/plain", strings.NewReader("a"), 10); err != nil {
		t.Fatal(err)
	}
	// Not Visio's: kept.
	if _, err := bucket.Client().PutObject(t.Context(), &s3.PutObjectInput{Bucket: &bucket.Bucket, Key: aws.String("recordings/r1.webm"),
		Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	startServer(t, withChatFilesIn(bucket))
	if keys := objectsIn(t, bucket); strings.Join(keys, " ") != "recordings/r1.webm" {
		t.Fatalf("the bucket holds %v after the start", keys)
	}
}

func TestAServerWithAWrongS3SecretDoesNotStart(t *testing.T) {
	bucket := s3test.Start(t)
	cfg := config.Default()
	cfg.HTTP.Addr, cfg.Media.UDPPort, cfg.Media.TCPPort = "127.0.0.1:0", 0, 0
	cfg.TURN.UDPPort, cfg.TURN.TCPPort, cfg.TURN.TLSPort = 0, 0, 0
	cfg.Database.URL = "sqlite:" + t.TempDir() + "/visio.db"
	withChatFilesIn(bucket)(cfg, nil)
	cfg.Chat.S3SecretKey = "a-wrong-secret-key"
	srv, err := Start(cfg, Options{}, slog.New(slog.DiscardHandler))
	if err == nil {
		_ = srv.Shutdown(t.Context())
		t.Fatal("the server started with a wrong secret key")
	}
	if msg := err.Error(); !strings.Contains(msg, "chat.s3_") || !strings.Contains(msg, "secret key") || strings.Contains(msg, cfg.Chat.S3SecretKey) {
		t.Fatalf("the error: %v", err)
	}
}

func TestS3SettingsThatDoNotFitSayWhatToSet(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"VISIO_CHAT_S3_ENDPOINT": "http://127.0.0.1:7070"}, "set chat.s3_bucket"},
		{map[string]string{"VISIO_CHAT_S3_BUCKET": "visio", "VISIO_CHAT_S3_ACCESS_KEY": "key"}, "set both"},
		{map[string]string{"VISIO_CHAT_S3_BUCKET": "visio", "VISIO_CHAT_S3_REGION": ""}, "chat.s3_region"},
		{map[string]string{"VISIO_CHAT_S3_BUCKET": "visio", "VISIO_CHAT_S3_ENDPOINT": "127.0.0.1:7070"}, "http(s) URL"},
		{map[string]string{"VISIO_CHAT_S3_BUCKET": "visio", "VISIO_CHAT_S3_PREFIX": "/chat"}, "no leading slash"},
	} {
		_, err := config.Load(nil, func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error saying %q", c.env, err, c.want)
		}
	}
	cfg, err := config.Load(nil, func(k string) (string, bool) {
		v, ok := map[string]string{"VISIO_CHAT_S3_BUCKET": "visio", "VISIO_CHAT_S3_ENDPOINT": "http://127.0.0.1:7070",
			"VISIO_CHAT_S3_ACCESS_KEY": "key", "VISIO_CHAT_S3_SECRET_KEY": "secret"}[k]
		return v, ok
	}, nil)
	if err != nil || cfg.Chat.S3Bucket != "visio" {
		t.Fatalf("a whole S3 configuration: %v", err)
	}
}
