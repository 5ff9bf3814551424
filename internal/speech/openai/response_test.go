package openai

import (
	"strings"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/speech"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func piece(start, end time.Duration, text string) speech.Piece {
	return speech.Piece{Start: start, End: end, Text: text}
}

func TestParseResponse(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		want        speech.Result
	}{
		{"OpenAI json", "application/json", `{"text":"Hello there."}`,
			speech.Result{Text: "Hello there."}},
		{"verbose_json", "application/json", `{"task":"transcribe","language":"english","duration":2.5,"text":" Hi. Bye.",
			"segments":[{"id":0,"seek":0,"start":0.0,"end":1.25,"text":" Hi.","tokens":[1,2],"avg_logprob":-0.2},
			{"id":1,"start":1.25,"end":2.5,"text":" Bye."}]}`,
			speech.Result{Text: "Hi. Bye.", Language: "en", Pieces: []speech.Piece{piece(0, ms(1250), "Hi."), piece(ms(1250), ms(2500), "Bye.")}}},
		{"times as strings", "application/json", `{"text":"a b c","segments":[
			{"start":"1.5","end":"00:00:02.250","text":"a"},{"start":"00:02.25","end":"00:00:03,000","text":"b"},
			{"start":"1:00:00","end":"1:00:01.5","text":"c"}]}`,
			speech.Result{Text: "a b c", Pieces: []speech.Piece{piece(ms(1500), ms(2250), "a"), piece(ms(2250), ms(3000), "b"), piece(time.Hour, time.Hour+ms(1500), "c")}}},
		{"WhisperX speakers and words, no top-level text", "application/json", `{"segments":[
			{"start":0.1,"end":0.9,"text":" Bonjour","speaker":"SPEAKER_00","words":[{"word":"Bonjour","start":0.1,"end":0.9,"score":0.9}]},
			{"start":1.0,"end":1.8,"text":" Salut","speaker":"SPEAKER_01"}],"language":"fr"}`,
			speech.Result{Text: "Bonjour Salut", Language: "fr", Pieces: []speech.Piece{piece(ms(100), ms(900), "Bonjour"), piece(ms(1000), ms(1800), "Salut")}}},
		{"language name in capitals", "application/json", `{"text":"Hallo","language":"German"}`,
			speech.Result{Text: "Hallo", Language: "de"}},
		{"language tag", "application/json", `{"text":"Bonjour","language":"fr-CA"}`,
			speech.Result{Text: "Bonjour", Language: "fr"}},
		{"unknown language name", "application/json", `{"text":"x","language":"klingon"}`,
			speech.Result{Text: "x"}},
		{"bad segment times are not pieces, their text stays", "application/json", `{"segments":[
			{"start":"soon","end":1,"text":"a"},{"start":-1,"end":2,"text":"b"},{"start":2,"end":1,"text":"c"},{"text":"d"},"junk",{"start":1,"end":2,"text":7}]}`,
			speech.Result{Text: "a b c d", Pieces: []speech.Piece{piece(ms(2000), ms(2000), "c")}}},
		{"null text uses the segments", "application/json", `{"text":null,"segments":[{"start":0,"end":1,"text":"only"}]}`,
			speech.Result{Text: "only", Pieces: []speech.Piece{piece(0, time.Second, "only")}}},
		{"nothing heard", "application/json", `{"text":"","segments":[]}`, speech.Result{}},
		{"plain text", "text/plain; charset=utf-8", "  Hello world\n", speech.Result{Text: "Hello world"}},
		{"plain text without a type", "", "Hello\x00 world", speech.Result{Text: "Hello world"}},
		{"plain text with a brace", "text/plain", "{laughs} yes", speech.Result{Text: "{laughs} yes"}},
		{"JSON sent as text/plain", "text/plain", `{"text":"hi"}`, speech.Result{Text: "hi"}},
		{"a bare JSON string", "application/json", `" hi there "`, speech.Result{Text: "hi there"}},
		{"text labelled JSON", "application/json", "hi there", speech.Result{Text: "hi there"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseResponse(tt.contentType, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if !equalResult(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseResponseErrors(t *testing.T) {
	tests := []struct {
		name, contentType, body, want string
	}{
		{"broken JSON", "application/json", `{"text":`, "not valid JSON"},
		{"error in a 200", "application/json", `{"error":{"message":"model not loaded"}}`, "model not loaded"},
		{"no text", "application/json", `{"task":"transcribe"}`, "neither text nor segments"},
		{"a web page", "text/html", "<html><body>Welcome to nginx</body></html>", "web page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseResponse(tt.contentType, []byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"error":{"message":"Invalid file format.","type":"invalid_request_error"}}`, "Invalid file format."},
		{`{"error":"model missing"}`, "model missing"},
		{`{"detail":"Not authenticated"}`, "Not authenticated"},
		{`{"message":"rate limited"}`, "rate limited"},
		{"upstream connect error\n", "upstream connect error"},
		{"<html><h1>502 Bad Gateway</h1></html>", ""},
		{strings.Repeat("é", 300), strings.Repeat("é", 100) + "…"},
	}
	for _, tt := range tests {
		if got := errorMessage([]byte(tt.body)); got != tt.want {
			t.Errorf("errorMessage(%.40q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

// FuzzParseResponse feeds the parser what a server may answer: it must not
// panic, and pieces must have sane times and text.
func FuzzParseResponse(f *testing.F) {
	f.Add("application/json", []byte(`{"text":"hi","language":"french","segments":[{"start":0,"end":"00:01.5","text":"hi"}]}`))
	f.Add("application/json", []byte(`{"segments":[{"start":"1:2:3","end":1e308,"text":"x","speaker":"A"}]}`))
	f.Add("text/plain", []byte("hello"))
	f.Add("", []byte(`{"error":{"message":"no"}}`))
	f.Add("application/json; charset=utf-8", []byte(`{"text":null,"segments":null}`))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		res, err := parseResponse(contentType, body)
		if err != nil {
			return
		}
		if strings.ContainsFunc(res.Text, func(r rune) bool { return r < ' ' }) {
			t.Fatalf("text with control characters: %q", res.Text)
		}
		for _, p := range res.Pieces {
			if p.Start < 0 || p.End < p.Start || p.End > time.Duration(maxSeconds)*time.Second {
				t.Fatalf("piece with bad times: %+v", p)
			}
			if p.Text == "" {
				t.Fatalf("piece without text: %+v", p)
			}
		}
		if len(res.Language) > 3 {
			t.Fatalf("language %q is not a primary tag", res.Language)
		}
	})
}
