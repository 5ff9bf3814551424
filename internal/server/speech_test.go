package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/client"
	"github.com/visio-meet/visio/internal/config"
	"github.com/visio-meet/visio/internal/identity"
	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/restapi"
	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/speech/speechtest"
	"github.com/visio-meet/visio/internal/store"
	"github.com/visio-meet/visio/internal/transcript"
)

// speechServer starts a server whose speech engine is pocketsphinx, or one
// that change sets; it skips the test when this build lacks the engine.
func speechServer(t testing.TB, change ...func(*config.Config, *Options)) *testServer {
	t.Helper()
	srv := startServer(t, append([]func(*config.Config, *Options){func(c *config.Config, _ *Options) {
		c.Speech.Engine = "pocketsphinx"
		c.Speech.Language = "en"
	}}, change...)...)
	if srv.speech.engine == nil {
		if os.Getenv("VISIO_REQUIRE_TEST_SERVICES") == "1" || !strings.Contains(srv.speech.reason, "built without") {
			t.Fatalf("no speech engine: %s", srv.speech.reason)
		}
		t.Skipf("no speech engine: %s", srv.speech.reason)
	}
	return srv
}

// jsonTranscript is the JSON download of a transcript, as far as these
// tests read it.
type jsonTranscript struct {
	ID       string `json:"id"`
	Language string `json:"language"`
	Segments []struct {
		Participant string `json:"participant"`
		Speaker     string `json:"speaker"`
		StartMS     int64  `json:"start_ms"`
		EndMS       int64  `json:"end_ms"`
		Text        string `json:"text"`
	} `json:"segments"`
}

// meetAndTalk has Alice (the host) and Bob say the test conversation in a
// new room of srv, with captions and transcription on, and returns the
// transcript and what Bob saw.
func meetAndTalk(t *testing.T, srv *testServer) (jsonTranscript, *speechtest.Dialogue, client.State) {
	t.Helper()
	d := speechtest.Conversation(t)
	ctx, cancel := context.WithTimeout(context.Background(), d.Duration+90*time.Second)
	defer cancel()
	alice, bob := srv.guest(t, "Alice"), srv.guest(t, "Bob")
	code := alice.newRoom("public")
	said := func(speaker string) [][]byte {
		packets, err := client.ReadOggOpus(d.Tracks[speaker].OggOpus)
		if err != nil {
			t.Fatal(err)
		}
		return packets
	}
	ac := srv.joinWith(t, ctx, client.Options{Room: code, Name: "Alice", Cookies: alice.jar, Speech: said("A")})
	bc := srv.joinWith(t, ctx, client.Options{Room: code, Name: "Bob", Cookies: bob.jar, Speech: said("B")})
	waitState(t, ctx, ac, "Alice is told speech is available", func(s client.State) bool { return s.Speech.Available && s.Speech.Engine != nil })
	if bc.State().Speech.Engine != nil {
		t.Error("Bob, who is no host, was told the engine's health")
	}
	// Only hosts turn transcription on.
	if err := bc.ControlSpeech(ctx, protocol.SpeechControl{Transcribe: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, bc, "Bob is refused", func(s client.State) bool {
		return slices.ContainsFunc(s.Errors, func(e protocol.Error) bool { return e.Code == protocol.CodeForbidden })
	})
	if err := ac.ControlSpeech(ctx, protocol.SpeechControl{Captions: ptr(true), Transcribe: ptr(true), Language: ptr("en")}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, bc, "Bob sees that the meeting is transcribed", func(s client.State) bool { return s.Speech.Transcribing && s.Speech.Captions })

	published := make(chan error, 2)
	for _, c := range []*client.Client{ac, bc} {
		go func() { published <- c.Publish(ctx, mic) }()
	}
	for range 2 {
		if err := <-published; err != nil {
			t.Fatal(err)
		}
	}
	select { // the conversation plays in real time
	case <-time.After(d.Duration + 2*time.Second):
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	if err := ac.ControlSpeech(ctx, protocol.SpeechControl{Transcribe: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, ac, "the transcript is ready for Alice", func(s client.State) bool { return s.Speech.Transcript != "" })
	waitState(t, ctx, bc, "Bob sees that transcription stopped", func(s client.State) bool { return !s.Speech.Transcribing })
	id := ac.State().Speech.Transcript

	var tr jsonTranscript
	path := fmt.Sprintf("/api/v1/rooms/%s/transcripts/%s?format=json", code, id)
	if status := alice.call(http.MethodGet, path, nil, &tr); status != http.StatusOK {
		t.Fatalf("Alice cannot download the transcript: %d", status)
	}
	if status := bob.call(http.MethodGet, path, nil, nil); status != http.StatusForbidden {
		t.Errorf("Bob, who is no host, downloads the transcript: %d", status)
	}
	return tr, d, bc.State()
}

// checkAttribution checks that the transcript gives every turn of the
// conversation to the right person, in order, at sensible times, and prints
// the word error rate.
func checkAttribution(t *testing.T, tr jsonTranscript, d *speechtest.Dialogue, names map[string]string) {
	t.Helper()
	if len(tr.Segments) == 0 {
		t.Fatal("the transcript is empty")
	}
	// The conversation's clock starts when the microphones did, some time
	// after the transcript: line the first segment up with the first turn.
	offset := time.Duration(tr.Segments[0].StartMS)*time.Millisecond - d.Turns[0].Start
	var speakers []string
	var heard []string
	var last int64
	for i, s := range tr.Segments {
		start, end := time.Duration(s.StartMS)*time.Millisecond-offset, time.Duration(s.EndMS)*time.Millisecond-offset
		if s.StartMS < last-200 || s.EndMS <= s.StartMS {
			t.Errorf("segment %d runs from %d to %d ms, after one that ended at %d", i, s.StartMS, s.EndMS, last)
		}
		last = s.EndMS
		turn := overlapping(d.Turns, start, end)
		if turn < 0 {
			t.Errorf("segment %d (%s, %v-%v, %q) is in no turn of the conversation", i, s.Speaker, start, end, s.Text)
			continue
		}
		if want := names[d.Turns[turn].Speaker]; s.Speaker != want {
			t.Errorf("segment %d (%q, %v-%v) is given to %s; %s said it", i, s.Text, start, end, s.Speaker, want)
		}
		if n := len(speakers); n == 0 || speakers[n-1] != s.Speaker {
			speakers = append(speakers, s.Speaker)
		}
		heard = append(heard, s.Text)
	}
	var want []string
	var script []string
	for _, turn := range d.Turns {
		want = append(want, names[turn.Speaker])
		script = append(script, turn.Text)
	}
	if !slices.Equal(speakers, want) {
		t.Errorf("speakers in order: %v, want %v", speakers, want)
	}
	rate, errs, words := speechtest.WER(strings.Join(script, " "), strings.Join(heard, " "))
	t.Logf("word error rate %.1f %% (%d errors in %d words); heard: %q", 100*rate, errs, words, strings.Join(heard, " / "))
	if rate > 0.9 {
		t.Errorf("word error rate %.0f %%: the recogniser heard almost nothing of the script", 100*rate)
	}
}

// overlapping returns the turn that overlaps [start, end] most, or -1.
func overlapping(turns []speechtest.Turn, start, end time.Duration) int {
	best, most := -1, time.Duration(0)
	for i, turn := range turns {
		if o := min(end, turn.End) - max(start, turn.Start); o > most {
			best, most = i, o
		}
	}
	return best
}

func ptr[T any](v T) *T { return &v }

func TestTheTranscriptKnowsWhoSaidWhat(t *testing.T) {
	t.Parallel()
	srv := speechServer(t)
	tr, d, bob := meetAndTalk(t, srv)
	checkAttribution(t, tr, d, map[string]string{"A": "Alice", "B": "Bob"})

	// Bob saw live captions of both, partial ones replaced by finals.
	finals := map[string]int{}
	partials := 0
	for _, c := range bob.Captions {
		if c.Final {
			finals[c.Name]++
		} else {
			partials++
		}
	}
	if finals["Alice"] == 0 || finals["Bob"] == 0 {
		t.Errorf("Bob saw final captions %v, want some of Alice and of himself", finals)
	}
	if partials == 0 {
		t.Error("Bob saw no partial captions while people spoke")
	}
}

// TestOneVisioTranscribesThroughAnother points the openai engine of one
// server at the OpenAI-compatible endpoint of a second, which runs
// pocketsphinx: the same conversation comes out attributed the same way.
func TestOneVisioTranscribesThroughAnother(t *testing.T) {
	t.Parallel()
	transcriber := speechServer(t)
	secret := "visio_test_" + strings.Repeat("k", 32)
	ctx := testContext(t)
	owner, err := transcriber.store.UpsertUser(ctx, store.User{Issuer: "urn:test", Subject: "service", Name: "Service"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := transcriber.store.CreateAPIToken(ctx, store.APIToken{Hash: identity.HashToken(secret), UserID: owner.ID,
		Name: "meetings", Scopes: []string{restapi.ScopeSpeech}}); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, func(c *config.Config, _ *Options) {
		c.Speech.Engine = "openai"
		c.Speech.OpenAI.URL = transcriber.url
		c.Speech.OpenAI.APIKey = secret
	})
	if srv.speech.engine == nil {
		t.Fatalf("the openai engine did not start: %s", srv.speech.reason)
	}
	if h := srv.speech.engine.Health(ctx); h.State != speech.Healthy {
		t.Fatalf("the openai engine reports %s: %s", h.State, h.Detail)
	}
	tr, d, _ := meetAndTalk(t, srv)
	checkAttribution(t, tr, d, map[string]string{"A": "Alice", "B": "Bob"})
}

// TestTheTranscriptionEndpointWantsAToken checks who may use a server's
// transcription endpoint.
func TestTheTranscriptionEndpointWantsAToken(t *testing.T) {
	srv := speechServer(t)
	ctx := testContext(t)
	owner, _ := srv.store.UpsertUser(ctx, store.User{Issuer: "urn:test", Subject: "service", Name: "Service"})
	for scope, secret := range map[string]string{restapi.ScopeSpeech: "visio_ok_" + strings.Repeat("a", 32), restapi.ScopeRoomsRead: "visio_no_" + strings.Repeat("b", 32)} {
		if _, err := srv.store.CreateAPIToken(ctx, store.APIToken{Hash: identity.HashToken(secret), UserID: owner.ID, Name: scope, Scopes: []string{scope}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		token string
		want  int
	}{
		{"", http.StatusUnauthorized},
		{"forged", http.StatusUnauthorized},
		{"visio_no_" + strings.Repeat("b", 32), http.StatusForbidden},
		{"visio_ok_" + strings.Repeat("a", 32), http.StatusBadRequest}, // allowed, but sends no audio
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.url+"/v1/audio/transcriptions", strings.NewReader("not a form"))
		req.Header.Set("Content-Type", "text/plain")
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error struct{ Message string } `json:"error"`
		}
		_ = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if res.StatusCode != c.want || body.Error.Message == "" {
			t.Errorf("token %.12q: %d %q, want %d with a message", c.token, res.StatusCode, body.Error.Message, c.want)
		}
		if strings.Contains(body.Error.Message, "visio_") {
			t.Errorf("the error repeats the token: %q", body.Error.Message)
		}
	}
}

// TestSpeechOffSaysWhy checks that a server without an engine tells
// participants why captions are off, and refuses to turn them on.
func TestSpeechOffSaysWhy(t *testing.T) {
	srv := startServer(t)
	ctx := testContext(t)
	alice := srv.guest(t, "Alice")
	code := alice.newRoom("public")
	ac := alice.join(ctx, code)
	waitState(t, ctx, ac, "Alice is told speech is off", func(s client.State) bool {
		return !s.Speech.Available && strings.Contains(s.Speech.Reason, "speech.engine")
	})
	if err := ac.ControlSpeech(ctx, protocol.SpeechControl{Captions: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, ac, "Alice is refused", func(s client.State) bool {
		return slices.ContainsFunc(s.Errors, func(e protocol.Error) bool {
			return e.Code == protocol.CodeUnavailable && strings.Contains(e.Message, "speech.engine")
		})
	})
	var list struct{ Transcripts []any }
	if status := alice.call(http.MethodGet, "/api/v1/rooms/"+code+"/transcripts", nil, &list); status != http.StatusOK || len(list.Transcripts) != 0 {
		t.Errorf("transcripts of a room never transcribed: %d %v", status, list.Transcripts)
	}

	// The room's language needs no engine, and is kept with the room.
	if err := ac.ControlSpeech(ctx, protocol.SpeechControl{Language: ptr("de")}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, ac, "Alice is told the language", func(s client.State) bool { return s.Speech.Language == "de" })
	var kept struct{ Language string }
	if alice.call(http.MethodGet, "/api/v1/rooms/"+code, nil, &kept); kept.Language != "de" {
		t.Errorf("the room's language is %q, want de", kept.Language)
	}
	if err := ac.ControlSpeech(ctx, protocol.SpeechControl{Language: ptr("klingon")}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, ac, "a language Visio does not offer is refused", func(s client.State) bool {
		return slices.ContainsFunc(s.Errors, func(e protocol.Error) bool { return e.Code == protocol.CodeInvalid })
	})
}

// TestAFinishedTranscriptIsSummarisedAndSentToTheWebhook: when the meeting
// ends, its transcript is summarised by the chat service and delivered,
// signed, to the webhook. No language model runs on these machines, so the
// chat service is a stand-in that answers like one; the webhook receiver is
// what an integrator would run.
func TestAFinishedTranscriptIsSummarisedAndSentToTheWebhook(t *testing.T) {
	const secret = "webhook-secret-for-the-test"
	chat := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []struct{ Content string } `json:"messages"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		if !strings.Contains(fmt.Sprint(req.Messages), "Alice") {
			http.Error(w, "the transcript is not in the prompt", http.StatusBadRequest)
			return
		}
		answer := `{"short":"Alice tested the microphone.","topics":["microphone"],"action_items":["none"]}`
		_ = json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": map[string]string{"role": "assistant", "content": answer}}}})
	}))
	defer chat.Close()
	type delivery struct {
		body   []byte
		header http.Header
	}
	delivered := make(chan delivery, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		delivered <- delivery{body, r.Header.Clone()}
	}))
	defer hook.Close()
	srv := speechServer(t, func(c *config.Config, _ *Options) {
		c.Transcripts.WebhookURL, c.Transcripts.WebhookSecret = hook.URL, secret
		c.Summary.URL = chat.URL
	})
	ctx := testContext(t)
	packets, err := client.ReadOggOpus("../speech/testdata/speech.opus")
	if err != nil {
		t.Fatal(err)
	}
	alice := srv.guest(t, "Alice")
	code := alice.newRoom("public")
	ac := srv.joinWith(t, ctx, client.Options{Room: code, Name: "Alice", Cookies: alice.jar, Speech: packets})
	if err := ac.ControlSpeech(ctx, protocol.SpeechControl{Transcribe: ptr(true), Language: ptr("en")}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, ac, "transcription is on", func(s client.State) bool { return s.Speech.Transcribing })
	if err := ac.Publish(ctx, mic); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Duration(len(packets))*20*time.Millisecond + time.Second)
	if err := ac.Leave(ctx); err != nil { // the meeting ends with her
		t.Fatal(err)
	}

	var d delivery
	select {
	case d = <-delivered:
	case <-ctx.Done():
		t.Fatal("no transcript reached the webhook")
	}
	if err := transcript.VerifySignature(secret, d.header.Get(transcript.SignatureHeader), d.body, time.Now(), 0); err != nil {
		t.Errorf("the signature does not verify: %v", err)
	}
	if got := d.header.Get(transcript.EventHeader); got != transcript.ReadyEvent {
		t.Errorf("event %q", got)
	}
	var tr struct {
		jsonTranscript
		Summary *struct{ Short string } `json:"summary"`
	}
	if err := json.Unmarshal(d.body, &tr); err != nil {
		t.Fatal(err)
	}
	if len(tr.Segments) == 0 || tr.Segments[0].Speaker != "Alice" || tr.Segments[0].Text == "" {
		t.Errorf("the delivered transcript: %+v", tr.Segments)
	}
	if tr.Summary == nil || tr.Summary.Short != "Alice tested the microphone." {
		t.Errorf("the delivered summary: %+v", tr.Summary)
	}
	// The summary is kept with the transcript.
	var kept struct {
		Summary *struct{ Short string } `json:"summary"`
	}
	if status := alice.call(http.MethodGet, fmt.Sprintf("/api/v1/rooms/%s/transcripts/%s?format=json", code, tr.ID), nil, &kept); status != http.StatusOK ||
		kept.Summary == nil || kept.Summary.Short == "" {
		t.Errorf("the stored transcript: %d %+v", status, kept.Summary)
	}
}
