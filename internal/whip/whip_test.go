package whip

import (
	"testing"

	"github.com/visio-meet/visio/internal/protocol"
)

const obsOffer = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtpmap:111 opus/48000/2\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:3\r\na=recvonly\r\na=rtpmap:111 opus/48000/2\r\n"

func TestAWHIPOfferIsReadAsMicrophoneCameraAndScreen(t *testing.T) {
	got, err := declare(obsOffer)
	if err != nil {
		t.Fatal(err)
	}
	want := []protocol.TrackDeclaration{{Mid: "0", Source: protocol.SourceMicrophone}, {Mid: "1", Source: protocol.SourceCamera}, {Mid: "2", Source: protocol.SourceScreen}}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	}
	if _, err := declare("v=0\r\n"); err == nil {
		t.Fatal("an offer without media was accepted")
	}
	if _, err := declare("not sdp"); err == nil {
		t.Fatal("garbage was accepted")
	}
}

func FuzzDeclare(f *testing.F) {
	f.Add(obsOffer)
	f.Add("v=0\r\nm=video 9 RTP/AVP 96\r\na=mid:\r\n")
	f.Fuzz(func(t *testing.T, offer string) {
		tracks, err := declare(offer)
		if err == nil && (len(tracks) == 0 || len(tracks) > 4) {
			t.Fatalf("%d tracks declared", len(tracks))
		}
	})
}
