package server

import (
	"context"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/client"
	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/speech/speechtest"
)

// BenchmarkCaptions has n people speak at once (each says speaker A's part
// of the test conversation) in one meeting with live captions, twice: with
// captions off, then on. It reports what captions cost the process in CPU
// per second of speech (the difference of the two runs, so the media
// forwarding and the test clients cancel out), how many speakers one core
// would caption, and how long after someone stops speaking the final
// caption reaches another participant. Run it with
//
//	go test -tags pocketsphinx -run '^$' -bench Captions -benchtime 1x ./internal/server
func BenchmarkCaptions(b *testing.B) {
	d := speechtest.Conversation(b)
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("speakers=%d", n), func(b *testing.B) {
			for range b.N {
				off, _ := speakAtOnce(b, d, n, false)
				on, latencies := speakAtOnce(b, d, n, true)
				rtf := (on - off).Seconds() / (float64(n) * d.Duration.Seconds())
				b.ReportMetric(rtf, "cpu-rtf")
				b.ReportMetric(1/rtf, "speakers/core")
				if len(latencies) > 0 {
					slices.Sort(latencies)
					b.ReportMetric(float64(latencies[len(latencies)/2].Milliseconds()), "p50-ms")
					b.ReportMetric(float64(latencies[len(latencies)*95/100].Milliseconds()), "p95-ms")
					b.ReportMetric(float64(len(latencies)), "captions")
				}
			}
		})
	}
}

// speakAtOnce runs one meeting where n people say speaker A's part at once
// while a host listens, and returns the process's CPU time over the
// conversation and, with captions, how long each final caption took from
// the end of its speech.
func speakAtOnce(b *testing.B, d *speechtest.Dialogue, n int, captions bool) (time.Duration, []time.Duration) {
	srv := speechServer(b)
	ctx, cancel := context.WithTimeout(context.Background(), d.Duration+time.Minute)
	defer cancel()
	packets, err := client.ReadOggOpus(d.Tracks[speechtest.SpeakerA].OggOpus)
	if err != nil {
		b.Fatal(err)
	}
	host := srv.guest(b, "Host")
	code := host.newRoom("public")
	hc := host.join(ctx, code)
	if captions {
		if err := hc.ControlSpeech(ctx, protocol.SpeechControl{Captions: ptr(true), Language: ptr("en")}); err != nil {
			b.Fatal(err)
		}
		waitState(b, ctx, hc, "captions are on", func(s client.State) bool { return s.Speech.Captions })
	}
	speakers := make([]*client.Client, n)
	for i := range speakers {
		speakers[i] = srv.joinWith(b, ctx, client.Options{Room: code, Name: fmt.Sprintf("Speaker %d", i+1), Speech: packets})
	}
	before := cpuTime()
	started := make([]time.Time, n)
	published := make(chan error, n)
	for i, c := range speakers {
		go func() { started[i] = time.Now(); published <- c.Publish(ctx, mic) }()
	}
	for range n {
		if err := <-published; err != nil {
			b.Fatal(err)
		}
	}
	time.Sleep(d.Duration + 3*time.Second)
	used := cpuTime() - before
	if !captions {
		return used, nil
	}
	return used, captionDelays(hc.State().Captions, speakers, started, d)
}

// captionDelays lines each speaker's first final caption up with the
// first turn of their part, and so tells when each utterance's speech
// ended, and how long its final caption took to arrive after that.
func captionDelays(caps []client.ReceivedCaption, speakers []*client.Client, started []time.Time, d *speechtest.Dialogue) []time.Duration {
	var firstTurn time.Duration = -1
	for _, t := range d.Turns {
		if t.Speaker == speechtest.SpeakerA {
			firstTurn = t.Start
			break
		}
	}
	var delays []time.Duration
	for i, s := range speakers {
		var origin time.Time // the meeting time 0, on our clock
		for _, c := range caps {
			if c.Participant != s.ID() || !c.Final || c.Text == "" {
				continue
			}
			if origin.IsZero() {
				origin = started[i].Add(firstTurn - time.Duration(c.StartMS)*time.Millisecond)
			}
			delays = append(delays, c.At.Sub(origin.Add(time.Duration(c.EndMS)*time.Millisecond)))
		}
	}
	return delays
}

// cpuTime is the CPU time this process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
