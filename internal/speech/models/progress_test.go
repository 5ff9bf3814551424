package models

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// clock advances by step at each reading, so that rates and ETAs are known.
func clock(step time.Duration) func() time.Time {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(step)
		return t
	}
}

func TestPullShowsProgressEveryTenPercentInALog(t *testing.T) {
	srv := newServer(t)
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	m := Model{Name: "vad", Kind: VAD, Source: srv.put("/vad.onnx", body), SHA256: sum(body), Size: int64(len(body))}
	var out bytes.Buffer
	p := puller{client: http.DefaultClient, now: clock(10 * time.Millisecond), lim: defaultLimits}
	if err := p.pull(context.Background(), m, t.TempDir(), &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	percent := regexp.MustCompile(`^vad: +(\d+)%  (\d+\.\d)/1\.0 MiB  \d+\.\d MiB/s`)
	var seen []int
	for _, l := range lines {
		if strings.Contains(l, "\r") {
			t.Fatalf("a log got terminal control characters: %q", l)
		}
		if m := percent.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			seen = append(seen, n)
		}
	}
	if len(seen) < 9 || len(seen) > 10 || seen[len(seen)-1] != 100 {
		t.Fatalf("progress lines %v, want one per 10 %% ending at 100 %%:\n%s", seen, out.String())
	}
	for i := 1; i < len(seen); i++ {
		if seen[i]/10 <= seen[i-1]/10 {
			t.Fatalf("progress %v does not advance by tenths", seen)
		}
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "installed in") {
		t.Fatalf("the output does not end by saying where the model went: %q", last)
	}
	if !strings.Contains(out.String(), "SHA-256 checked") {
		t.Fatal("the output does not say the checksum was checked")
	}
}

func TestProgressOnATerminalRewritesOneLine(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, "whisper", 100*mib, clock(100*time.Millisecond))
	p.terminal = true
	chunk := make([]byte, mib)
	for range 100 {
		p.Write(chunk)
	}
	p.finish()
	s := out.String()
	if strings.Count(s, "\n") != 1 || !strings.HasSuffix(s, "\n") {
		t.Fatalf("a terminal got several lines: %q", s)
	}
	updates := strings.Split(strings.TrimSuffix(s, "\n"), "\r")[1:]
	if len(updates) < 10 || len(updates) > 60 {
		t.Fatalf("%d updates for 100 writes over 10 s, want a few per second", len(updates))
	}
	mid := updates[len(updates)/2]
	if !regexp.MustCompile(`whisper: +\d+%  \d+\.\d/100\.0 MiB  10\.0 MiB/s  ETA \d+s`).MatchString(mid) {
		t.Fatalf("update %q lacks percent, MiB done/total, rate or ETA", mid)
	}
	if !strings.Contains(updates[len(updates)-1], "100%") {
		t.Fatalf("the last update is %q, want 100%%", updates[len(updates)-1])
	}
}

func TestProgressWithoutATotal(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, "m", 0, clock(time.Second))
	chunk := make([]byte, mib)
	for range 25 {
		p.Write(chunk)
	}
	p.finish()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[2], "m: 25.0 MiB") {
		t.Fatalf("lines = %q, want one per 10 MiB and the total", lines)
	}
}
