package chatfiles

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/visio-meet/visio/internal/chatfiles/s3test"
)

// testStore is a store under test, with what it holds as an operator
// would see it: the files in its directory, or the objects and uploads in
// its bucket.
type testStore struct {
	Store
	stored func(t *testing.T) []string
}

// eachStore runs test against a Disk and an S3 store.
func eachStore(t *testing.T, test func(t *testing.T, st testStore)) {
	t.Run("disk", func(t *testing.T) {
		d := newDisk(t)
		test(t, testStore{Store: d, stored: func(t *testing.T) []string { return filesUnder(t, d.Dir()) }})
	})
	t.Run("s3", func(t *testing.T) {
		srv := s3test.Start(t)
		st := newS3(t, srv, "chat/")
		test(t, testStore{Store: st, stored: func(t *testing.T) []string { return bucketContent(t, srv) }})
	})
}

func newS3(t *testing.T, srv *s3test.Server, prefix string) *S3 {
	t.Helper()
	st, err := NewS3(t.Context(), S3Config{Endpoint: srv.Endpoint, Region: srv.Region, Bucket: srv.Bucket,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Prefix: prefix}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// filesUnder lists the files under dir, by their paths in it.
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, rel)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// bucketContent lists the objects of the bucket, and its unfinished
// uploads as "upload KEY".
func bucketContent(t *testing.T, srv *s3test.Server) []string {
	t.Helper()
	client := srv.Client()
	var content []string
	objects, err := client.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: &srv.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objects.Contents {
		content = append(content, aws.ToString(o.Key))
	}
	uploads, err := client.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: &srv.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range uploads.Uploads {
		content = append(content, "upload "+aws.ToString(u.Key))
	}
	slices.Sort(content)
	return content
}

func randomContent(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func TestStoresKeepAFileUntilDeleted(t *testing.T) {
	eachStore(t, func(t *testing.T, st testStore) {
		ctx := t.Context()
		// One file fits in one request to S3, the other takes three parts.
		for _, content := range [][]byte{bytes.Repeat([]byte("plan "), 1000), randomContent(t, 2*partSize+12345)} {
			f, err := st.Put(ctx, "abc-defg-hij_k1", "Budget zoé 2026.txt", "text/plain; charset=utf-8", bytes.NewReader(content), 20<<20)
			if err != nil {
				t.Fatal(err)
			}
			if f.Size != int64(len(content)) || f.Name != "Budget zoé 2026.txt" || f.Meeting != "abc-defg-hij_k1" || !validID(f.ID) {
				t.Fatalf("stored %+v", f)
			}
			got, rc, err := st.Open(ctx, f.ID)
			if err != nil {
				t.Fatal(err)
			}
			back, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || got != f || !bytes.Equal(back, content) {
				t.Fatalf("opened %+v with %d bytes (%v), want %+v with %d", got, len(back), err, f, len(content))
			}
			if err := st.Delete(ctx, f.ID); err != nil {
				t.Fatal(err)
			}
			if _, _, err := st.Open(ctx, f.ID); !errors.Is(err, ErrNotFound) {
				t.Fatalf("a deleted file opens: %v", err)
			}
			if left := st.stored(t); len(left) != 0 {
				t.Fatalf("left stored: %v", left)
			}
			if err := st.Delete(ctx, f.ID); err != nil {
				t.Fatalf("deleting twice: %v", err)
			}
		}
	})
}

func TestStoresServeAnyPartOfAFile(t *testing.T) {
	eachStore(t, func(t *testing.T, st testStore) {
		content := randomContent(t, 100<<10+777)
		f, err := st.Put(t.Context(), "m1", "video.webm", "video/webm", bytes.NewReader(content), 20<<20)
		if err != nil {
			t.Fatal(err)
		}
		_, rc, err := st.Open(t.Context(), f.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		// Reads in small steps, seeks everywhere and reads again.
		if err := iotest.TestReader(rc, content); err != nil {
			t.Fatal(err)
		}
	})
}

func TestStoresLeaveNothingOfAFileOverTheLimit(t *testing.T) {
	eachStore(t, func(t *testing.T, st testStore) {
		ctx := t.Context()
		// Over the limit within the first part, then after parts were sent.
		for _, c := range []struct{ size, limit int }{{1001, 1000}, {2*partSize + 1, partSize + 10}} {
			_, err := st.Put(ctx, "m1", "big.bin", "application/octet-stream", bytes.NewReader(make([]byte, c.size)), int64(c.limit))
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%d bytes with a limit of %d: %v", c.size, c.limit, err)
			}
			if left := st.stored(t); len(left) != 0 {
				t.Fatalf("%d bytes with a limit of %d left stored: %v", c.size, c.limit, left)
			}
			f, err := st.Put(ctx, "m1", "exact.bin", "application/octet-stream", bytes.NewReader(make([]byte, c.limit)), int64(c.limit))
			if err != nil || f.Size != int64(c.limit) {
				t.Fatalf("exactly the limit of %d: %+v, %v", c.limit, f, err)
			}
			if err := st.Delete(ctx, f.ID); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestStoresKnowNoOtherFiles(t *testing.T) {
	eachStore(t, func(t *testing.T, st testStore) {
		ctx := t.Context()
		if _, err := st.Put(ctx, "m1", "a.txt", "text/plain", strings.NewReader("a"), 10); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{NewID(), "../../etc/passwd", "m1", "", "f_"} {
			if _, _, err := st.Open(ctx, id); !errors.Is(err, ErrNotFound) {
				t.Errorf("Open(%q): %v, want ErrNotFound", id, err)
			}
			if err := st.Delete(ctx, id); err != nil {
				t.Errorf("Delete(%q): %v", id, err)
			}
		}
		for _, key := range []string{"", "..", "../x", "a/b", "A", ".ids", strings.Repeat("a", 101)} {
			if _, err := st.Put(ctx, key, "x", "text/plain", strings.NewReader("x"), 10); !errors.Is(err, ErrBadMeeting) {
				t.Errorf("Put in meeting %q: %v", key, err)
			}
			if err := st.DeleteMeeting(ctx, key); !errors.Is(err, ErrBadMeeting) {
				t.Errorf("DeleteMeeting %q: %v", key, err)
			}
		}
	})
}

func TestStoresDeleteAMeetingsFilesOnly(t *testing.T) {
	eachStore(t, func(t *testing.T, st testStore) {
		ctx := t.Context()
		var a []File
		for range 3 {
			f, err := st.Put(ctx, "meeting-a", "a.txt", "text/plain", strings.NewReader("a"), 10)
			if err != nil {
				t.Fatal(err)
			}
			a = append(a, f)
		}
		// A meeting whose key starts with the other's.
		b, err := st.Put(ctx, "meeting-ab", "b.txt", "text/plain", strings.NewReader("b"), 10)
		if err != nil {
			t.Fatal(err)
		}
		before := len(st.stored(t))
		if err := st.DeleteMeeting(ctx, "meeting-a"); err != nil {
			t.Fatal(err)
		}
		for _, f := range a {
			if _, _, err := st.Open(ctx, f.ID); !errors.Is(err, ErrNotFound) {
				t.Fatalf("the ended meeting's file opens: %v", err)
			}
		}
		if _, rc, err := st.Open(ctx, b.ID); err != nil {
			t.Fatalf("the other meeting lost its file: %v", err)
		} else {
			rc.Close()
		}
		// One file of four is left, with whatever the store keeps per file.
		if after := st.stored(t); len(after)*4 != before || !strings.Contains(strings.Join(after, " "), b.ID) {
			t.Fatalf("stored before: %d things; after: %v", before, after)
		}
		if err := st.DeleteMeeting(ctx, "never-met"); err != nil {
			t.Fatalf("deleting a meeting without files: %v", err)
		}
	})
}
