package sfu

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/visio-meet/visio/internal/sfu/packetcache"
)

// simulcastTrack is a published camera with three layers and a subscriber's
// down track that wants up to want.
func simulcastTrack(t *testing.T, subscriber *Peer, name string, want Layer) *DownTrack {
	up, _, _ := fixture(t)
	up.id = TrackID(name)
	for _, i := range []Layer{LayerMedium, LayerHigh} {
		up.addLayer(&layer{track: up, index: i, ssrc: uint32(10 + i), cache: packetcache.New(8), keyframe: vp8KeyframeStart})
	}
	d := newDownTrack(up, subscriber)
	d.want.Store(int32(want))
	return d
}

func TestBandwidthIsSharedAudioFirstThenBiggerTiles(t *testing.T) {
	_, sub, _ := fixture(t)
	peer := sub.subscriber
	big := simulcastTrack(t, peer, "big", LayerHigh)
	middle := simulcastTrack(t, peer, "middle", LayerMedium)
	small := simulcastTrack(t, peer, "small", LayerLow)
	audioUp, _, _ := fixture(t)
	audioUp.kind = webrtc.RTPCodecTypeAudio
	audio := newDownTrack(audioUp, peer)
	downs := []*DownTrack{small, audio, middle, big}

	// 1 Mbit/s: 50k of audio, 3 x 150k of lowest layers, then the biggest
	// tile moves up (350k more); the middle one would need 200k more.
	limits, missing := share(downs, 1_000_000)
	if limits[big] != LayerMedium || limits[middle] != LayerLow || limits[small] != LayerHigh || missing != 200_000 {
		t.Fatalf("1 Mbit/s: big %d, middle %d, small %d (no limit is %d), missing %d", limits[big], limits[middle], limits[small], LayerHigh, missing)
	}
	if _, ok := limits[audio]; ok {
		t.Fatal("audio is limited")
	}

	// Plenty: nobody is limited and nothing is missing.
	limits, missing = share(downs, 10_000_000)
	for _, d := range []*DownTrack{big, middle, small} {
		if limits[d] != LayerHigh {
			t.Fatalf("10 Mbit/s: %s limited to %d", d.up.id, limits[d])
		}
	}
	if missing != 0 {
		t.Fatalf("10 Mbit/s: missing %d", missing)
	}

	// Too little for any video: the videos pause, the audio goes on.
	limits, _ = share(downs, 120_000)
	for _, d := range []*DownTrack{big, middle, small} {
		if limits[d] != LayerNone {
			t.Fatalf("120 kbit/s: %s still gets layer %d", d.up.id, limits[d])
		}
	}

	// A track limited below what is wanted is sent at the limit.
	big.setLimit(LayerLow)
	if Layer(big.target.Load()) != LayerLow {
		t.Fatalf("limited to the low layer, the target is %d", big.target.Load())
	}
}

func TestALayerIsMeasuredOnceItHasFlowedForASecond(t *testing.T) {
	var m rateMeter
	const frame = int64(time.Second / 30)
	start := int64(10 * time.Second)
	send := func(from, to, every int64) { // 1.5 Mbit/s
		for at := from; at < to; at += every {
			m.add(int(1_500_000/8*every/int64(time.Second)), at)
		}
	}
	ms := func(n int64) int64 { return n * int64(time.Millisecond) }
	// Resumed 300 ms ago: it has sent a third of a second, and its rate
	// over the window looks like a fraction of what it costs.
	send(start, start+ms(300), frame)
	if bps, steady := m.bitsPerSecond(start + ms(300)); steady || bps > 1_000_000 {
		t.Fatalf("300 ms after resuming: %d bit/s, steady %v; want a low rate, not steady", bps, steady)
	}
	// After more than a second of flow it is measured.
	send(start+ms(300), start+ms(1500), frame)
	now := start + ms(1500)
	if bps, steady := m.bitsPerSecond(now); !steady || bps < 1_300_000 || bps > 1_700_000 {
		t.Fatalf("after 1.5 s of flow: %d bit/s, steady %v; want about 1.5 Mbit/s, steady", bps, steady)
	}
	// Paused: it keeps its rate until the window empties, then has none.
	if bps, _ := m.bitsPerSecond(now + ms(300)); bps < 1_300_000 {
		t.Fatalf("300 ms after the last packet: %d bit/s, want what it cost while flowing", bps)
	}
	if bps, steady := m.bitsPerSecond(now + ms(1100)); bps != 0 || steady {
		t.Fatalf("1.1 s after the last packet: %d bit/s, steady %v", bps, steady)
	}
	// A shared screen that changes little sends a frame every 600 ms: it is
	// measured all the same.
	send(now+ms(2000), now+ms(5000), ms(600))
	if bps, steady := m.bitsPerSecond(now + ms(5000)); !steady || bps < 1_000_000 {
		t.Fatalf("a frame every 600 ms for 3 s: %d bit/s, steady %v", bps, steady)
	}
}
