package sfu

import (
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// arrive runs one packet through the forwarder's accounting and fan-out.
func arrive(t *testing.T, l *layer, seq uint16, payload []byte) {
	t.Helper()
	receiveOn(t, l, publisherPacket(t, seq, payload))
}

func TestEngineStatsCountWhatFlowsAndKeepWhatEnded(t *testing.T) {
	up, d, _ := fixture(t)
	e := up.owner.engine
	l := low(up)
	e.streams.addLayer(l)
	e.streams.addDown(d)
	payload := make([]byte, 100)

	for seq := uint16(100); seq < 110; seq++ {
		if seq == 103 || seq == 104 {
			continue // lost on the publisher's uplink
		}
		arrive(t, l, seq, payload)
	}
	got := e.Stats()
	want := EngineStats{VideoTracks: 1, DownTracks: 1, PacketsIn: 8, BytesIn: 800, PacketsOut: 8, BytesOut: 800, PacketsLostIn: 2}
	if got != want {
		t.Fatalf("after 8 of 10 packets:\n got %+v\nwant %+v", got, want)
	}

	// 103 comes late (a repair): the loss counted stays, as counters do.
	arrive(t, l, 103, payload)
	d.handleRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{MediaSSRC: 555, Nacks: []rtcp.NackPair{{PacketID: 101, LostPackets: 0b1}}}})
	got = e.Stats()
	want = EngineStats{VideoTracks: 1, DownTracks: 1, PacketsIn: 9, BytesIn: 900, PacketsOut: 9, BytesOut: 900, PacketsLostIn: 2,
		NACKs: 2, Retransmits: 2}
	if got != want {
		t.Fatalf("after a late packet and a NACK of two:\n got %+v\nwant %+v", got, want)
	}

	// The subscriber reports its losses, cumulative; a lower count later (or
	// a negative one, from duplicates) does not lower the total.
	for _, c := range []struct {
		reported uint32
		want     uint64
	}{{3, 3}, {5, 5}, {4, 5}, {0xFFFFFE, 5}, {6, 6}} {
		d.handleRTCP([]rtcp.Packet{&rtcp.ReceiverReport{Reports: []rtcp.ReceptionReport{{SSRC: 555, TotalLost: c.reported}}}})
		if got := e.Stats().PacketsLostOut; got != c.want {
			t.Fatalf("after a report of %d lost: PacketsLostOut = %d, want %d", c.reported, got, c.want)
		}
	}
	want.PacketsLostOut = 6

	// The streams end: nothing flows, the totals remain.
	e.streams.retireDown(d)
	e.streams.retireLayer(l)
	e.streams.retireLayer(l) // a second retirement must not count twice
	want.VideoTracks, want.DownTracks = 0, 0
	if got = e.Stats(); got != want {
		t.Fatalf("after the streams ended:\n got %+v\nwant %+v", got, want)
	}
}

func TestEngineStatsTellAudioFromVideoAndCountSimulcastOnce(t *testing.T) {
	up, _, _ := fixture(t)
	e := up.owner.engine
	e.streams.addLayer(low(up))
	medium := &layer{track: up, index: LayerMedium, ssrc: 1235}
	e.streams.addLayer(medium)
	audio := &UpTrack{id: "publisher-1", owner: up.owner, kind: webrtc.RTPCodecTypeAudio}
	e.streams.addLayer(&layer{track: audio, index: LayerLow, ssrc: 99})

	if s := e.Stats(); s.AudioTracks != 1 || s.VideoTracks != 1 {
		t.Fatalf("a two-layer video track and an audio track counted as %d audio, %d video", s.AudioTracks, s.VideoTracks)
	}
}
