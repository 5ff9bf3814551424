package client

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/opus/pkg/oggreader"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/visio-meet/visio/internal/protocol"
)

// Synthetic media rates: Opus 20 ms frames; VP8 at 15 frames per second.
const (
	audioFrame = 20 * time.Millisecond
	videoFrame = time.Second / 15
)

// Simulcast layers, as the web app sends them: a quarter, half and the full
// resolution of the camera, at the load generator's standard bitrates.
var simulcastLayers = []struct {
	rid     string
	bitrate int
}{{"q", 150_000}, {"h", 500_000}, {"f", 1_500_000}}

// plainVideoBitrate is the rate of a camera sent without simulcast: two
// 900-byte packets per frame.
const plainVideoBitrate = 2 * 900 * 8 * 15

// layerMarkOffset is where a synthetic video payload says which layer it
// belongs to (1 + its index, 0 for none), so that a receiver can tell which
// layer the server forwards.
const layerMarkOffset = 11

// publishedTrack sends synthetic media until stopped.
type publishedTrack struct {
	source           protocol.Source
	h264             bool // the video is H.264, not VP8
	sender           *webrtc.RTPSender
	mid              atomic.Pointer[string]
	encodings        []*encoding
	muted            atomic.Bool
	speaking         atomic.Bool
	keyframeRequests atomic.Int32
	receiverReports  atomic.Int32
	sent             atomic.Int64 // RTP packets written, all encodings
	speech           [][]byte     // Opus packets to say instead of synthetic ones
	spoken           int          // how many of speech were sent; used by the send goroutine only
	stopOnce         sync.Once
	stopped          chan struct{}
}

// encoding is one RTP stream of a track: the only one, or a simulcast layer.
type encoding struct {
	rid            string // empty without simulcast
	layer          int
	bitrate        int
	track          *webrtc.TrackLocalStaticRTP
	active         atomic.Bool
	keyframeNeeded atomic.Bool
	seq            uint16 // used by the send goroutine only
}

// streamID is the msid stream of the client's tracks. It must be an SDP
// token: a display name with spaces would make the offer unreadable.
const streamID = "visio-client"

// newPublishedTrack adds a track for src to pc, with three simulcast
// encodings when simulcast is set.
func newPublishedTrack(pc *webrtc.PeerConnection, src protocol.Source, simulcast, h264 bool) (*publishedTrack, error) {
	codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	if src.Kind() == "video" {
		codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
		if h264 {
			codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
				SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}
		}
	}
	p := &publishedTrack{source: src, h264: h264, stopped: make(chan struct{})}
	p.speaking.Store(true)
	if !simulcast {
		track, err := webrtc.NewTrackLocalStaticRTP(codec, string(src), streamID)
		if err != nil {
			return nil, err
		}
		p.encodings = []*encoding{{track: track, layer: -1, bitrate: plainVideoBitrate}}
	} else {
		for i, l := range simulcastLayers {
			track, err := webrtc.NewTrackLocalStaticRTP(codec, string(src), streamID, webrtc.WithRTPStreamID(l.rid))
			if err != nil {
				return nil, err
			}
			p.encodings = append(p.encodings, &encoding{rid: l.rid, layer: i, bitrate: l.bitrate, track: track})
		}
	}
	for _, e := range p.encodings {
		e.active.Store(true)
	}
	tr, err := pc.AddTransceiverFromTrack(p.encodings[0].track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return nil, err
	}
	p.sender = tr.Sender()
	for _, e := range p.encodings[1:] {
		if err := p.sender.AddEncoding(e.track); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *publishedTrack) stop() { p.stopOnce.Do(func() { close(p.stopped) }) }

// setActive pauses the encodings whose stream id is not listed, as a browser
// does when the server says nobody receives them.
func (p *publishedTrack) setActive(rids []string) {
	for _, e := range p.encodings {
		if e.rid != "" {
			e.active.Store(slices.Contains(rids, e.rid))
		}
	}
}

// readRTCP takes the server's feedback about one encoding.
func (p *publishedTrack) readRTCP(e *encoding) {
	buf := make([]byte, 1500)
	for {
		var n int
		var err error
		if e.rid != "" {
			n, _, err = p.sender.ReadSimulcast(buf, e.rid)
		} else {
			n, _, err = p.sender.Read(buf)
		}
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				p.keyframeRequests.Add(1)
				e.keyframeNeeded.Store(true)
			case *rtcp.ReceiverReport:
				p.receiverReports.Add(1)
			}
		}
	}
}

// headerExtensionIDs are the ids negotiated for the extensions the client
// writes.
type headerExtensionIDs struct{ level, mid, rid uint8 }

func (p *publishedTrack) extensionIDs() headerExtensionIDs {
	var ids headerExtensionIDs
	for _, ext := range p.sender.GetParameters().HeaderExtensions {
		switch ext.URI {
		case audioLevelURI:
			ids.level = uint8(ext.ID)
		case sdp.SDESMidURI:
			ids.mid = uint8(ext.ID)
		case sdp.SDESRTPStreamIDURI:
			ids.rid = uint8(ext.ID)
		}
	}
	return ids
}

func (p *publishedTrack) send(ctx interface{ Done() <-chan struct{} }, epoch time.Time) {
	video := p.source.Kind() == "video"
	frame, rate := audioFrame, uint32(48000)
	if video {
		frame, rate = videoFrame, 90000
	}
	ticker := time.NewTicker(frame)
	defer ticker.Stop()
	var ids headerExtensionIDs
	var mid string
	var ts uint32
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-p.stopped:
			return
		case <-ticker.C:
		}
		if mid == "" {
			// Both are known once the offer is made.
			ids, mid = p.extensionIDs(), p.transceiverMid()
		}
		ts += rate / uint32(time.Second/frame)
		if !epoch.IsZero() {
			ts = uint32(time.Since(epoch) * time.Duration(rate) / time.Second)
		}
		for _, e := range p.encodings {
			if !e.active.Load() {
				continue
			}
			var payloads [][]byte
			if video {
				keyframe := n%30 == 0 || e.keyframeNeeded.Swap(false)
				payloads = framePayloads(n, keyframe, e, p.h264)
			} else if p.speech != nil {
				if p.spoken >= len(p.speech) {
					continue // said everything: silent, as with DTX
				}
				payloads = [][]byte{p.speech[p.spoken]}
			} else {
				payloads = [][]byte{opusFrame(n)}
			}
			for i, payload := range payloads {
				pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: e.seq, Timestamp: ts, Marker: i == len(payloads)-1}, Payload: payload}
				e.seq++
				if ids.level != 0 && !video {
					level := byte(127)
					if p.speaking.Load() && !p.muted.Load() {
						level = 25
					}
					_ = pkt.Header.SetExtension(ids.level, []byte{0x80 | level})
				}
				if e.rid != "" && ids.mid != 0 && ids.rid != 0 {
					// The server tells the layers apart by these.
					_ = pkt.Header.SetExtension(ids.mid, []byte(mid))
					_ = pkt.Header.SetExtension(ids.rid, []byte(e.rid))
				}
				if e.track.WriteRTP(pkt) == nil { // fails only while the connection is not up yet or closing
					p.sent.Add(1)
					if p.speech != nil && !video {
						p.spoken++ // from when it can be heard
					}
				}
			}
		}
	}
}

// transceiverMid returns the mid of the track's transceiver, once the offer
// is made.
func (p *publishedTrack) transceiverMid() string {
	if mid := p.mid.Load(); mid != nil {
		return *mid
	}
	return ""
}

// opusFrame returns a plausible Opus packet: a TOC byte for a 20 ms SILK
// frame and some bytes.
func opusFrame(n int) []byte {
	b := make([]byte, 60)
	b[0] = 0x78
	for i := 1; i < len(b); i++ {
		b[i] = byte(n + i)
	}
	return b
}

// maxVideoPayload keeps packets under a common MTU.
const maxVideoPayload = 1100

// framePayloads returns the RTP payloads of one frame of an encoding: a
// keyframe is three times larger. In VP8 it starts with the keyframe header;
// in H.264 each packet is one NAL unit, IDR slices for a keyframe.
func framePayloads(n int, keyframe bool, e *encoding, h264 bool) [][]byte {
	size := e.bitrate / 8 / 15
	if keyframe {
		size *= 3
	}
	count := (size + maxVideoPayload - 1) / maxVideoPayload
	per := max(size/count, layerMarkOffset+1)
	out := make([][]byte, count)
	for i := range out {
		b := make([]byte, per)
		switch {
		case h264 && keyframe:
			b[0] = 0x65 // IDR slice
		case h264:
			b[0] = 0x41 // non-IDR slice
		case i == 0:
			b[0] = 0x10 // start of partition
			if keyframe {
				copy(b[1:], []byte{0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00}) // 320x240
			} else {
				b[1] = 0x01 // inter frame
			}
		}
		b[layerMarkOffset] = byte(e.layer + 1)
		for j := layerMarkOffset + 1; j < per; j++ {
			b[j] = byte(n + j)
		}
		out[i] = b
	}
	return out
}

// isKeyframe tells whether the first RTP payload of a frame is a keyframe's.
func isKeyframe(payload []byte, mime string) bool {
	if strings.EqualFold(mime, webrtc.MimeTypeH264) {
		return len(payload) >= 1 && payload[0]&0x1f == 5
	}
	return len(payload) >= 2 && payload[0]&0x10 != 0 && payload[0]&0x80 == 0 && payload[1]&0x01 == 0
}

// ReadOggOpus reads the Opus packets of an Ogg Opus file (as opusenc
// writes), for Options.Speech.
func ReadOggOpus(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var packets [][]byte
	for {
		packet, _, err := r.ParseNextPacket()
		if errors.Is(err, io.EOF) {
			return packets, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if bytes.HasPrefix(packet, []byte("OpusTags")) {
			continue
		}
		packets = append(packets, packet)
	}
}
