package protocol

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestEncodePutsTypeFirst(t *testing.T) {
	b, err := Encode(&Mute{Source: SourceMicrophone, Muted: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"type":"mute","source":"microphone","muted":true}`; got != want {
		t.Fatalf("Encode = %s, want %s", got, want)
	}
	b, _ = Encode(&Leave{})
	if string(b) != `{"type":"leave"}` {
		t.Fatalf("Encode(Leave) = %s", b)
	}
}

func TestRoundTrip(t *testing.T) {
	mid := "0"
	client := []Message{
		&Join{Room: "abc-defg-hij", Name: "Alice Martin"},
		&Publish{SDP: "v=0...", Tracks: []TrackDeclaration{{Mid: "0", Source: SourceMicrophone}, {Mid: "1", Source: SourceCamera, Muted: true}}},
		&Publish{Tracks: []TrackDeclaration{}},
		&Answer{SDP: "v=0..."},
		&Candidate{Target: TargetSubscribe, Candidate: ICECandidate{Candidate: "candidate:1 1 udp 1 10.0.0.1 5000 typ host", SDPMid: &mid}},
		&Mute{Source: SourceScreenAudio},
		&View{Tracks: []ViewedTrack{{Participant: "p1", Source: SourceCamera, Width: 320, Height: 180}}},
		&Resume{Participant: "p1", Token: "T0KEN"},
		&Restart{},
		&Leave{},
		&ChatSend{Text: "Bonjour à tous 👋\nOrdre du jour :\tpoint 1", File: "f_abc123", ClientID: "c1"},
		&ChatDelete{ID: 42},
		&React{Emoji: "🎉"},
	}
	for _, m := range client {
		b, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeClient(b)
		if err != nil {
			t.Fatalf("DecodeClient(%s): %v", b, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("round trip of %s gave %#v", b, got)
		}
	}
	server := []Message{
		&Welcome{Protocol: Version, Room: "abc-defg-hij", You: Participant{ID: "p1", Name: "A", Tracks: []Track{}},
			Participants: []Participant{{ID: "p2", Name: "B", Tracks: []Track{{Source: SourceCamera, Muted: true}}}}},
		&ParticipantLeft{ID: "p2", Reason: ReasonConnectionFailed},
		&Offer{SDP: "v=0", Tracks: []OfferedTrack{{Mid: "0", Participant: "p2", Source: SourceScreen}}},
		&Speakers{Active: "p2", Speaking: []string{"p2"}},
		&Layers{Mid: "1", Active: []string{"q", "h"}},
		&QualityReport{Participants: map[string]Quality{"p2": QualityPoor}},
		&Error{Code: CodeBadSDP, Message: "x", Request: "publish"},
		&Bye{Reason: ReasonServerShutdown},
		&Chat{ID: 1, From: "p1", Name: "Alice", At: 1764633600000, Text: "hello", ClientID: "c1",
			File: &ChatFile{ID: "f_x", Name: "plan.pdf", Size: 12345, Type: "application/pdf", URL: "/api/v1/rooms/abc-defg-hij/files/f_x"}},
		&ChatHistory{Messages: []Chat{{ID: 1, From: "p1", Name: "Alice", At: 1, Text: "", Deleted: true}}},
		&ChatDeleted{ID: 1, By: "Host"},
		&Reaction{Participant: "p1", Emoji: "👍"},
	}
	for _, m := range server {
		b, _ := Encode(m)
		got, err := DecodeServer(b)
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Fatalf("round trip of %s gave %#v, %v", b, got, err)
		}
	}
}

func TestDecodeClientErrors(t *testing.T) {
	long := strings.Repeat("x", MaxNameRunes+1)
	cases := []struct {
		in   string
		code ErrorCode
	}{
		{``, CodeBadJSON},
		{`{`, CodeBadJSON},
		{`[1,2]`, CodeBadJSON},
		{`null`, CodeBadJSON},
		{`{"room":"x"}`, CodeBadJSON},
		{`{"type":5}`, CodeBadJSON},
		{`{"type":"dance"}`, CodeUnknownType},
		{`{"type":"welcome"}`, CodeUnknownType}, // a server message from a client
		{`{"type":"join","room":"abc-defg-hij","name":7}`, CodeBadJSON},
		{`{"type":"join","room":"abc-defg-hij","name":"  "}`, CodeInvalid},
		{`{"type":"join","room":"abc-defg-hij","name":"` + long + `"}`, CodeInvalid},
		{`{"type":"join","room":"abc-defg-hij","name":"a\u0007b"}`, CodeInvalid},
		{`{"type":"join","room":"","name":"A"}`, CodeInvalid},
		{`{"type":"publish"}`, CodeInvalid},
		{`{"type":"publish","tracks":[{"mid":"0","source":"webcam"}]}`, CodeInvalid},
		{`{"type":"publish","tracks":[{"mid":"0","source":"camera"},{"mid":"0","source":"microphone"}]}`, CodeInvalid},
		{`{"type":"publish","tracks":[{"mid":"0","source":"camera"},{"mid":"1","source":"camera"}]}`, CodeInvalid},
		{`{"type":"publish","tracks":[{"mid":"","source":"camera"}]}`, CodeInvalid},
		{`{"type":"answer","sdp":""}`, CodeInvalid},
		{`{"type":"candidate","target":"both","candidate":{"candidate":""}}`, CodeInvalid},
		{`{"type":"mute","source":"keyboard","muted":true}`, CodeInvalid},
		{`{"type":"view"}`, CodeInvalid},
		{`{"type":"resume","participant":"p1"}`, CodeInvalid},
		{`{"type":"view","tracks":[{"participant":"p1","source":"microphone","width":1,"height":1}]}`, CodeInvalid},
		{`{"type":"view","tracks":[{"participant":"p1","source":"camera","width":-1,"height":1}]}`, CodeInvalid},
		{`{"type":"view","tracks":[{"participant":"","source":"camera","width":1,"height":1}]}`, CodeInvalid},
		{`{"type":"answer","sdp":"` + strings.Repeat("a", MaxMessageBytes) + `"}`, CodeTooLarge},
	}
	for _, c := range cases {
		_, err := DecodeClient([]byte(c.in))
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("DecodeClient(%.60s) error = %v, want a *protocol.Error", c.in, err)
			continue
		}
		if pe.Code != c.code {
			t.Errorf("DecodeClient(%.60s) code = %s (%s), want %s", c.in, pe.Code, pe.Message, c.code)
		}
		if pe.Message == "" {
			t.Errorf("DecodeClient(%.60s): empty error message", c.in)
		}
	}
}

func TestJoinNameIsTrimmed(t *testing.T) {
	m, err := DecodeClient([]byte(`{"type":"join","room":"abc-defg-hij","name":"  Zoé Lefèvre "}`))
	if err != nil {
		t.Fatal(err)
	}
	if name := m.(*Join).Name; name != "Zoé Lefèvre" {
		t.Fatalf("name = %q", name)
	}
}

func FuzzDecodeClient(f *testing.F) {
	seeds := []string{
		`{"type":"join","room":"abc-defg-hij","name":"Alice"}`,
		`{"type":"publish","sdp":"v=0\r\n","tracks":[{"mid":"0","source":"camera","muted":false}]}`,
		`{"type":"answer","sdp":"v=0\r\n"}`,
		`{"type":"candidate","target":"publish","candidate":{"candidate":"candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0}}`,
		`{"type":"mute","source":"microphone","muted":true}`,
		`{"type":"leave"}`,
		`{"type":"view","tracks":[{"participant":"p1","source":"camera","width":640,"height":360}]}`,
		`{"type":"resume","participant":"p1","token":"ABCDEFGH"}`,
		`{"type":"restart"}`,
		`{"type":"join","room":{"a":1}}`,
		`{"type":"admit","participant":"p1"}`,
		`{"type":"deny","participant":"p1"}`,
		`{"type":"admit_all"}`,
		`{"type":"moderate","action":"mute","participant":"p1"}`,
		`{"type":"moderate","action":"stop","participant":"p1","source":"screen"}`,
		`{"type":"moderate","action":"remove","participant":"p1","ban":true}`,
		`{"type":"moderate","action":"role","participant":"p1","role":"administrator"}`,
		`{"type":"moderate","action":"pin"}`,
		`{"type":"moderate","action":"end"}`,
		`{"type":"hand","raised":true}`,
		`{"type":"moderate","action":"lower_hand","participant":"p1"}`,
		`{"type":"moderate","action":"lower_hand"}`,
		`{"type":"room_settings","access":"trusted","max_participants":50,"publishing":{"microphone":true,"camera":true,"screen":false}}`,
		`{"type":"speech_control","captions":true,"transcribe":false,"language":"fr"}`,
		`{"type":"chat_send","text":"Bonjour à tous","client_id":"c123"}`,
		`{"type":"chat_send","text":"","file":"f_k3j2abcdefghijklmnopqrstuv"}`,
		`{"type":"chat_send","text":"  line one\r\nline two\t😀  "}`,
		`{"type":"chat_send","text":"bell\u0007"}`,
		`{"type":"chat_send","text":"x","file":"../../etc/passwd"}`,
		`{"type":"chat_delete","id":42}`,
		`{"type":"chat_delete","id":-1}`,
		`{"type":"react","emoji":"👍"}`,
		`{"type":"react","emoji":"❤"}`,
		`{"type":"react","emoji":"💩"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeClient(data)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Code == "" || pe.Message == "" {
				t.Fatalf("error %v is not a complete *protocol.Error", err)
			}
			return
		}
		// What decodes must encode and decode to the same message.
		b, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeClient(b)
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("re-decoding %s gave %#v, %v; want %#v", b, again, err, m)
		}
	})
}

func TestHostMessagesAreChecked(t *testing.T) {
	bad := map[string]string{
		`{"type":"admit"}`: "participant",
		`{"type":"moderate","action":"explode","participant":"p1"}`:                "action",
		`{"type":"moderate","action":"mute","participant":"p1","source":"camera"}`: "audio",
		`{"type":"moderate","action":"stop","participant":"p1"}`:                   "video",
		`{"type":"moderate","action":"role","participant":"p1","role":"owner"}`:    "role",
		`{"type":"moderate","action":"remove"}`:                                    "participant",
		`{"type":"room_settings","access":"secret"}`:                               "access",
		`{"type":"room_settings","max_participants":-1}`:                           "max_participants",
		`{"type":"speech_control"}`:                                                "changes nothing",
		`{"type":"speech_control","language":"tlh"}`:                               "language",
	}
	for msg, want := range bad {
		_, err := DecodeClient([]byte(msg))
		var pe *Error
		if !errors.As(err, &pe) || pe.Code != CodeInvalid || !strings.Contains(pe.Message, want) {
			t.Errorf("%s: got %v, want an invalid_message about %s", msg, err, want)
		}
	}
	m, err := DecodeClient([]byte(`{"type":"moderate","action":"mute","participant":"p1"}`))
	if err != nil || m.(*Moderate).Source != SourceMicrophone {
		t.Fatalf("mute without a source mutes the microphone: %+v %v", m, err)
	}
}

func TestChatMessagesAreChecked(t *testing.T) {
	long := strings.Repeat("é", MaxChatRunes+1)
	bad := map[string]string{
		`{"type":"chat_send","text":"   "}`:                                             "empty",
		`{"type":"chat_send","text":"` + long + `"}`:                                    "longer than 4000",
		`{"type":"chat_send","text":"ring\u0007"}`:                                      "control",
		`{"type":"chat_send","text":"a\rb"}`:                                            "control",
		`{"type":"chat_send","text":"x","file":"../x"}`:                                 "file",
		`{"type":"chat_send","text":"x","client_id":"` + strings.Repeat("c", 65) + `"}`: "client_id",
		`{"type":"chat_delete"}`:                                                        "id",
		`{"type":"react","emoji":"💩"}`:                                                  "emoji",
		`{"type":"react","emoji":""}`:                                                   "emoji",
	}
	for msg, want := range bad {
		_, err := DecodeClient([]byte(msg))
		var pe *Error
		if !errors.As(err, &pe) || pe.Code != CodeInvalid || !strings.Contains(pe.Message, want) {
			t.Errorf("%.80s: got %v, want an invalid_message about %s", msg, err, want)
		}
	}
	m, err := DecodeClient([]byte(`{"type":"chat_send","text":"  line one\r\nline two\t✓ \n"}`))
	if err != nil || m.(*ChatSend).Text != "line one\nline two\t✓" {
		t.Fatalf("the text is trimmed and CR LF becomes LF: %+v %v", m, err)
	}
	if _, err := DecodeClient([]byte(`{"type":"chat_send","text":"","file":"f_abc"}`)); err != nil {
		t.Fatalf("a file without text is a message: %v", err)
	}
	if _, err := DecodeClient([]byte(`{"type":"chat_send","text":"` + strings.Repeat("é", MaxChatRunes) + `"}`)); err != nil {
		t.Fatalf("%d characters are allowed: %v", MaxChatRunes, err)
	}
	for _, e := range Reactions() {
		if _, err := DecodeClient([]byte(`{"type":"react","emoji":"` + e + `"}`)); err != nil {
			t.Errorf("reaction %s refused: %v", e, err)
		}
	}
	m, err = DecodeClient([]byte(`{"type":"react","emoji":"❤"}`))
	if err != nil || m.(*React).Emoji != "❤️" {
		t.Fatalf("a bare heart is the heart reaction: %+v %v", m, err)
	}
}
