package chatfiles

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/visio-meet/visio/internal/chatfiles/s3test"
)

func TestS3FilesAreServedByAnotherNode(t *testing.T) {
	ctx := t.Context()
	srv := s3test.Start(t)
	first, second := newS3(t, srv, "visio/chat"), newS3(t, srv, "visio/chat")
	content := randomContent(t, 3000)
	f, err := first.Put(ctx, "abc-defg-hij", "Compte rendu « été ».pdf", "application/pdf", bytes.NewReader(content), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	got, rc, err := second.Open(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	back, _ := io.ReadAll(rc)
	rc.Close()
	if got != f || !bytes.Equal(back, content) {
		t.Fatalf("the other node opens %+v with %d bytes, want %+v with %d", got, len(back), f, len(content))
	}
	if err := second.Delete(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := first.Open(ctx, f.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a file the other node deleted opens: %v", err)
	}
	if left := bucketContent(t, srv); len(left) != 0 {
		t.Fatalf("left in the bucket: %v", left)
	}
}

func TestS3SweepRemovesLeftoversAndNothingElse(t *testing.T) {
	ctx := t.Context()
	srv := s3test.Start(t)
	client := srv.Client()
	crashed := newS3(t, srv, "chat")
	if _, err := crashed.Put(ctx, "old-meeting", "a.txt", "text/plain", strings.NewReader("a"), 10); err != nil {
		t.Fatal(err)
	}
	live, err := crashed.Put(ctx, "live-meeting", "b.txt", "text/plain", strings.NewReader("b"), 10)
	if err != nil {
		t.Fatal(err)
	}
	// An upload cut short by the crash, in a meeting with no file yet.
	if _, err := client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &srv.Bucket,
		Key: aws.String("chat/cut-short/" + NewID())}); err != nil {
		t.Fatal(err)
	}
	// Things the store did not write, under its prefix set by mistake, and
	// a meeting's file outside it.
	others := []string{"chat/photos/holiday.jpg", "chat/visio.db", "elsewhere/old-meeting/" + NewID()}
	for _, key := range others {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &srv.Bucket, Key: aws.String(key), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}

	restarted := newS3(t, srv, "chat")
	removed, err := restarted.Sweep(ctx, func(key string) bool { return key == "live-meeting" })
	if err != nil || removed != 2 {
		t.Fatalf("Sweep removed %d meetings, %v; want 2", removed, err)
	}
	want := append([]string{"chat/live-meeting/" + live.ID, "chat/.ids/" + live.ID + "/live-meeting"}, others...)
	slices.Sort(want)
	if got := bucketContent(t, srv); !slices.Equal(got, want) {
		t.Fatalf("after the sweep:\n%v\nwant\n%v", got, want)
	}
	if _, rc, err := restarted.Open(ctx, live.ID); err != nil {
		t.Fatalf("the live meeting's file: %v", err)
	} else {
		rc.Close()
	}
}

func TestS3StartFailsClearly(t *testing.T) {
	srv := s3test.Start(t)
	good := S3Config{Endpoint: srv.Endpoint, Region: srv.Region, Bucket: srv.Bucket, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}
	wrongSecret, noBucket, nobodyThere := good, good, good
	wrongSecret.SecretKey = "not-the-secret-at-all"
	noBucket.Bucket = "no-such-bucket"
	nobodyThere.Endpoint = "http://127.0.0.1:1"
	for _, c := range []struct {
		cfg  S3Config
		want string
	}{
		{wrongSecret, "check the access key and the secret key"},
		{noBucket, "create it"},
		{nobodyThere, "cannot reach"},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		_, err := NewS3(ctx, c.cfg, slog.New(slog.DiscardHandler))
		cancel()
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.cfg.Bucket) {
			t.Errorf("start with %s: %v, want an error saying %q", c.want, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), c.cfg.SecretKey) {
			t.Errorf("the error tells the secret key: %v", err)
		}
	}
}

func TestS3TakesTheEnvironmentsCredentialsWhenGivenNone(t *testing.T) {
	srv := s3test.Start(t)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	cfg := S3Config{Endpoint: srv.Endpoint, Region: srv.Region, Bucket: srv.Bucket}
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	if _, err := NewS3(t.Context(), cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Fatalf("start without credentials: %v, want an error saying where to give them", err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	st, err := NewS3(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("start with the credentials in the environment: %v", err)
	}
	if _, err := st.Put(t.Context(), "m1", "a.txt", "text/plain", strings.NewReader("a"), 10); err != nil {
		t.Fatal(err)
	}
}
