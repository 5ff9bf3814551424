package chatfiles

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func newDisk(t *testing.T) *Disk {
	t.Helper()
	return NewDisk(filepath.Join(t.TempDir(), "files"), slog.New(slog.DiscardHandler))
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	list, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list {
		names = append(names, e.Name())
	}
	return names
}

func TestAFileIsKeptUntilDeleted(t *testing.T) {
	ctx := context.Background()
	d := newDisk(t)
	content := bytes.Repeat([]byte("plan "), 1000)
	f, err := d.Put(ctx, "abc-defg-hij_k1", "plan.txt", "text/plain; charset=utf-8", bytes.NewReader(content), int64(len(content)))
	if err != nil {
		t.Fatal(err)
	}
	if f.Size != int64(len(content)) || f.Name != "plan.txt" || !validID(f.ID) {
		t.Fatalf("stored %+v", f)
	}
	got, rc, err := d.Open(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	back, _ := io.ReadAll(rc)
	rc.Close()
	if got != f || !bytes.Equal(back, content) {
		t.Fatalf("opened %+v with %d bytes, want %+v with %d", got, len(back), f, len(content))
	}
	if err := d.Delete(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Open(ctx, f.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a deleted file opens: %v", err)
	}
	if left := entries(t, filepath.Join(d.Dir(), "abc-defg-hij_k1")); len(left) != 0 {
		t.Fatalf("left on disk: %v", left)
	}
	if err := d.Delete(ctx, f.ID); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
}

func TestAFileOverTheLimitLeavesNothing(t *testing.T) {
	ctx := context.Background()
	d := newDisk(t)
	_, err := d.Put(ctx, "m1", "big.bin", "application/octet-stream", bytes.NewReader(make([]byte, 1001)), 1000)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("1001 bytes with a limit of 1000: %v", err)
	}
	if left := entries(t, filepath.Join(d.Dir(), "m1")); len(left) != 0 {
		t.Fatalf("left on disk: %v", left)
	}
	if _, err := d.Put(ctx, "m1", "exact.bin", "application/octet-stream", bytes.NewReader(make([]byte, 1000)), 1000); err != nil {
		t.Fatalf("exactly the limit: %v", err)
	}
}

func TestMeetingKeysCannotEscapeTheDirectory(t *testing.T) {
	ctx := context.Background()
	d := newDisk(t)
	for _, key := range []string{"", "..", "../x", "a/b", "A", strings.Repeat("a", 101)} {
		if _, err := d.Put(ctx, key, "x", "text/plain", strings.NewReader("x"), 10); !errors.Is(err, ErrBadMeeting) {
			t.Errorf("Put in meeting %q: %v", key, err)
		}
		if err := d.DeleteMeeting(ctx, key); !errors.Is(err, ErrBadMeeting) {
			t.Errorf("DeleteMeeting %q: %v", key, err)
		}
	}
	if _, _, err := d.Open(ctx, "../../etc/passwd"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open of a path: %v", err)
	}
}

func TestDeletingAMeetingRemovesItsFilesOnly(t *testing.T) {
	ctx := context.Background()
	d := newDisk(t)
	a, _ := d.Put(ctx, "meeting-a", "a.txt", "text/plain", strings.NewReader("a"), 10)
	b, _ := d.Put(ctx, "meeting-b", "b.txt", "text/plain", strings.NewReader("b"), 10)
	if err := d.DeleteMeeting(ctx, "meeting-a"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Open(ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the ended meeting's file opens: %v", err)
	}
	if _, rc, err := d.Open(ctx, b.ID); err != nil {
		t.Fatalf("the other meeting lost its file: %v", err)
	} else {
		rc.Close()
	}
	if got := entries(t, d.Dir()); len(got) != 1 || got[0] != "meeting-b" {
		t.Fatalf("directories left: %v", got)
	}
}

func TestSweepRemovesLeftoversAndNothingElse(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "files")
	crashed := NewDisk(dir, slog.New(slog.DiscardHandler))
	if _, err := crashed.Put(ctx, "old-meeting", "a.txt", "text/plain", strings.NewReader("a"), 10); err != nil {
		t.Fatal(err)
	}
	if _, err := crashed.Put(ctx, "live-meeting", "b.txt", "text/plain", strings.NewReader("b"), 10); err != nil {
		t.Fatal(err)
	}
	// An upload cut short by the crash.
	if err := os.WriteFile(filepath.Join(dir, "old-meeting", tempPrefix+"123"), []byte("par"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Things the store did not write, in a directory set by mistake.
	if err := os.MkdirAll(filepath.Join(dir, "photos"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "photos", "holiday.jpg"), []byte("jpg"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "visio.db"), []byte("db"), 0o600); err != nil {
		t.Fatal(err)
	}

	restarted := NewDisk(dir, slog.New(slog.DiscardHandler))
	removed, err := restarted.Sweep(ctx, func(key string) bool { return key == "live-meeting" })
	if err != nil || removed != 1 {
		t.Fatalf("Sweep removed %d meetings, %v; want 1", removed, err)
	}
	got := strings.Join(entries(t, dir), " ")
	if got != "live-meeting photos visio.db" {
		t.Fatalf("after the sweep: %s", got)
	}
	if _, err := NewDisk(filepath.Join(t.TempDir(), "never-made"), slog.New(slog.DiscardHandler)).Sweep(ctx, func(string) bool { return false }); err != nil {
		t.Fatalf("sweeping a directory not made yet: %v", err)
	}
}

func TestCleanName(t *testing.T) {
	cases := map[string]string{
		"plan.pdf":                      "plan.pdf",
		"../../etc/passwd":              "passwd",
		`C:\Users\zoé\Budget 2026.xlsx`: "Budget 2026.xlsx",
		"  rapport\x00\x07.doc  ":       "rapport.doc",
		"evil\u202Efdp.exe":             "evilfdp.exe",
		"tab\tand\nnewline.txt":         "tab and newline.txt",
		"":                              "file",
		"..":                            "file",
		"/":                             "file",
		"\xff\xfe":                      "file",
	}
	for in, want := range cases {
		if got := CleanName(in); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
	long := CleanName(strings.Repeat("é", 300) + ".pdf")
	if utf8.RuneCountInString(long) != MaxNameRunes || !strings.HasSuffix(long, "é.pdf") {
		t.Fatalf("a long name becomes %q (%d characters)", long, utf8.RuneCountInString(long))
	}
}

// FuzzCleanName feeds file names as a browser may send them: whatever
// comes, the name is short, has no path and no control characters.
func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"plan.pdf", "../../x", `a\b`, "\x00", strings.Repeat("a", 300) + ".tar.gz", "\u202Eabc", "é.png"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := CleanName(in)
		switch {
		case out == "" || !utf8.ValidString(out) || utf8.RuneCountInString(out) > MaxNameRunes:
			t.Fatalf("CleanName(%q) = %q", in, out)
		case strings.ContainsAny(out, `/\`) || out == "." || out == "..":
			t.Fatalf("CleanName(%q) = %q, a path", in, out)
		case strings.ContainsFunc(out, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }):
			t.Fatalf("CleanName(%q) = %q, with control characters", in, out)
		}
		if CleanName(out) != out {
			t.Fatalf("CleanName is not stable on %q: %q then %q", in, out, CleanName(out))
		}
	})
}
