package server

import (
	"strings"
	"testing"

	"github.com/visio-meet/visio/internal/config"
	"github.com/visio-meet/visio/internal/metrics/metricstest"
	"github.com/visio-meet/visio/internal/room"
)

func TestMetricsShowTheMeetingsAndTheirMedia(t *testing.T) {
	const (
		tokenSecret = "metrics-test-token-secret-0123456789"
		turnSecret  = "metrics-test-turn-secret-9876543210"
	)
	srv := startServer(t, withTURN(t), func(c *config.Config, _ *Options) {
		c.Metrics.Addr = "127.0.0.1:0"
		c.Tokens.Secret = tokenSecret
		c.TURN.Secret = turnSecret
	})
	if srv.MetricsAddr() == "" {
		t.Fatal("metrics.addr is set but no metrics are served")
	}
	url := "http://" + srv.MetricsAddr() + "/metrics"
	ctx := testContext(t)
	scrape := func() metricstest.Scrape {
		t.Helper()
		s, err := metricstest.Get(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{tokenSecret, turnSecret} {
			if strings.Contains(s.Text, secret) {
				t.Fatalf("the metrics reveal a secret: %q", secret)
			}
		}
		return s
	}
	value := func(s metricstest.Scrape, name string, labels ...string) float64 {
		t.Helper()
		v, ok := s.Value(name, labels...)
		if !ok {
			t.Fatalf("%s%v is missing from the metrics", name, labels)
		}
		return v
	}

	code := room.NewCode()
	alice := srv.join(t, ctx, code, "Alice", mic, camera)
	bob := srv.join(t, ctx, code, "Bob", mic, camera)
	receiving(t, ctx, alice, bob, 30, mic, camera)
	receiving(t, ctx, bob, alice, 30, mic, camera)

	first := scrape()
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"visio_meetings", nil, 1},
		{"visio_participants", nil, 2},
		{"visio_tracks", []string{"kind", "audio"}, 2},
		{"visio_tracks", []string{"kind", "video"}, 2},
		{"visio_subscriptions", nil, 4},
	} {
		if got := value(first, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if value(first, "process_cpu_seconds_total") <= 0 {
		t.Error("the server's CPU time is not reported")
	}

	// Media keeps flowing: the counters grow between scrapes.
	seen := packets(bob, alice, camera)
	receiving(t, ctx, bob, alice, seen+50, camera)
	second := scrape()
	for _, series := range [][]string{
		{"visio_rtp_packets_total", "direction", "in"},
		{"visio_rtp_packets_total", "direction", "out"},
		{"visio_rtp_bytes_total", "direction", "in"},
		{"visio_rtp_bytes_total", "direction", "out"},
	} {
		before, after := value(first, series[0], series[1:]...), value(second, series[0], series[1:]...)
		if after <= before {
			t.Errorf("%s%v went from %v to %v while media flowed", series[0], series[1:], before, after)
		}
	}

	// Bob leaves: what his streams moved stays counted.
	bob.Kill()
	var third metricstest.Scrape
	waitUntil(t, func() bool {
		third = scrape()
		return value(third, "visio_participants") == 1 && value(third, "visio_subscriptions") == 0 &&
			value(third, "visio_tracks", "kind", "audio") == 1 && value(third, "visio_tracks", "kind", "video") == 1
	}, "Bob's departure does not show in the metrics: one participant, one camera, one microphone, nothing sent")
	for _, series := range [][]string{
		{"visio_rtp_packets_total", "direction", "in"},
		{"visio_rtp_packets_total", "direction", "out"},
		{"visio_rtp_packets_lost_total", "direction", "in"},
		{"visio_rtp_packets_lost_total", "direction", "out"},
		{"visio_nack_total"},
	} {
		if before, after := value(second, series[0], series[1:]...), value(third, series[0], series[1:]...); after < before {
			t.Errorf("%s%v went down from %v to %v when a participant left", series[0], series[1:], before, after)
		}
	}
}

func TestNoMetricsUnlessAsked(t *testing.T) {
	srv := startServer(t)
	if addr := srv.MetricsAddr(); addr != "" {
		t.Fatalf("metrics are served on %s though metrics.addr is empty", addr)
	}
}
