package summary

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const testKey = "sk-test-0123456789abcdef"

// chatServer is a fake OpenAI-compatible endpoint that records the requests
// it gets and answers with reply.
type chatServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []chatRequest
	paths    []string
	auth     []string
}

func newChatServer(t *testing.T, reply func(w http.ResponseWriter, req chatRequest)) *chatServer {
	t.Helper()
	cs := &chatServer{}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req chatRequest
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "want a JSON POST", http.StatusMethodNotAllowed)
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		cs.mu.Lock()
		cs.requests = append(cs.requests, req)
		cs.paths = append(cs.paths, r.URL.Path)
		cs.auth = append(cs.auth, r.Header.Get("Authorization"))
		cs.mu.Unlock()
		reply(w, req)
	}))
	t.Cleanup(cs.Close)
	return cs
}

func answer(w http.ResponseWriter, content string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"choices": []any{map[string]any{"message": map[string]any{"role": "assistant", "content": content}}},
	})
}

var meeting = []Line{
	{Speaker: "Alice", Text: "Bonjour, on parle du budget aujourd'hui.", Start: 2 * time.Second},
	{Speaker: "Bob", Text: "Je t'envoie les chiffres demain.", Start: 75 * time.Second},
}

func newClient(t *testing.T, url string, mutate func(*Config)) *Client {
	t.Helper()
	cfg := Config{URL: url, APIKey: testKey, Model: "small-model"}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSummarizeSendsAChatRequestInTheMeetingLanguage(t *testing.T) {
	cs := newChatServer(t, func(w http.ResponseWriter, req chatRequest) {
		answer(w, `{"short":"L'équipe a parlé du budget.","topics":["Budget"],"action_items":["Bob envoie les chiffres demain."]}`)
	})
	got, err := newClient(t, cs.URL+"/v1/", nil).Summarize(t.Context(), "fr-FR", meeting)
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{Short: "L'équipe a parlé du budget.", Topics: []string{"Budget"}, ActionItems: []string{"Bob envoie les chiffres demain."}}
	if !equal(got, want) {
		t.Errorf("summary = %+v, want %+v", got, want)
	}
	if len(cs.requests) != 1 {
		t.Fatalf("%d requests, want 1", len(cs.requests))
	}
	req := cs.requests[0]
	if cs.paths[0] != "/v1/chat/completions" || cs.auth[0] != "Bearer "+testKey {
		t.Errorf("request to %s with %q", cs.paths[0], cs.auth[0])
	}
	if req.Model != "small-model" || req.ResponseFormat == nil || req.ResponseFormat.Type != "json_object" {
		t.Errorf("model %q, response_format %+v", req.Model, req.ResponseFormat)
	}
	if len(req.Messages) != 2 || req.Messages[0].Role != "system" || req.Messages[1].Role != "user" {
		t.Fatalf("messages %+v, want a system and a user message", req.Messages)
	}
	system, user := req.Messages[0].Content, req.Messages[1].Content
	for _, word := range []string{"Écris en français", `"short"`, `"topics"`, `"action_items"`, "JSON"} {
		if !strings.Contains(system, word) {
			t.Errorf("system prompt lacks %q:\n%s", word, system)
		}
	}
	if strings.Contains(system, "[…]") {
		t.Error("the prompt speaks of a cut in a transcript sent whole")
	}
	wantUser := "[00:00:02] Alice: Bonjour, on parle du budget aujourd'hui.\n[00:01:15] Bob: Je t'envoie les chiffres demain."
	if user != wantUser {
		t.Errorf("transcript sent:\n%s\nwant\n%s", user, wantUser)
	}
}

func TestPromptLanguages(t *testing.T) {
	for tag, phrase := range map[string]string{
		"fr": "Écris en français", "en": "Write in English", "de": "Schreibe auf Deutsch",
		"nl-BE": "Schrijf in het Nederlands", "pt": "Write in English", "": "Write in English",
	} {
		if p := systemPrompt(tag, false); !strings.Contains(p, phrase) {
			t.Errorf("prompt for %q lacks %q", tag, phrase)
		}
	}
}

func TestEndpointForms(t *testing.T) {
	cs := newChatServer(t, func(w http.ResponseWriter, req chatRequest) { answer(w, `{"short":"ok"}`) })
	for _, base := range []string{cs.URL, cs.URL + "/", cs.URL + "/v1", cs.URL + "/v1/chat/completions"} {
		if _, err := newClient(t, base, nil).Summarize(t.Context(), "en", meeting); err != nil {
			t.Errorf("base %s: %v", base, err)
		}
	}
	for i, p := range cs.paths {
		if p != "/v1/chat/completions" {
			t.Errorf("request %d went to %s", i, p)
		}
	}
	proxied := newClient(t, cs.URL+"/openai", nil)
	if proxied.endpoint != cs.URL+"/openai/v1/chat/completions" {
		t.Errorf("a base under a path gives %s", proxied.endpoint)
	}
	for _, bad := range []Config{{URL: "ftp://x", Model: "m"}, {URL: "api.openai.com", Model: "m"}, {URL: "https://x"}} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v) accepted", bad)
		}
	}
}

func TestErrorsSayWhatToDoAndHideTheKey(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   string
	}{
		{http.StatusUnauthorized, `{"error":{"message":"Incorrect API key provided: ` + testKey + `"}}`, "check summary.api_key"},
		{http.StatusForbidden, `{}`, "check summary.api_key"},
		{http.StatusNotFound, `{"error":{"message":"model small-model does not exist"}}`, "check summary.url and summary.model"},
		{http.StatusInternalServerError, `oops`, "try again later"},
		{http.StatusTooManyRequests, `{}`, "try again later"},
	} {
		cs := newChatServer(t, func(w http.ResponseWriter, req chatRequest) {
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(tc.body))
		})
		_, err := newClient(t, cs.URL, nil).Summarize(t.Context(), "en", meeting)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("HTTP %d: %v, want an error saying %q", tc.status, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), testKey) {
			t.Errorf("HTTP %d: the error shows the API key: %v", tc.status, err)
		}
	}
}

func TestUnreachableAndSlowEndpoints(t *testing.T) {
	cs := newChatServer(t, func(w http.ResponseWriter, req chatRequest) {})
	url := cs.URL + "/v1?key=" + testKey
	cs.Close()
	_, err := newClient(t, url, nil).Summarize(t.Context(), "en", meeting)
	if err == nil || !strings.Contains(err.Error(), "check summary.url") || strings.Contains(err.Error(), testKey) {
		t.Errorf("closed endpoint: %v, want advice without the key", err)
	}

	release := make(chan struct{})
	slow := newChatServer(t, func(w http.ResponseWriter, req chatRequest) { <-release })
	defer close(release)
	_, err = newClient(t, slow.URL, func(c *Config) { c.Timeout = 50 * time.Millisecond }).Summarize(t.Context(), "en", meeting)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "summary.timeout") {
		t.Errorf("slow endpoint: %v, want a deadline error naming summary.timeout", err)
	}
}

func TestServerWithoutResponseFormat(t *testing.T) {
	cs := newChatServer(t, func(w http.ResponseWriter, req chatRequest) {
		if req.ResponseFormat != nil {
			http.Error(w, `{"error":{"message":"unknown field response_format"}}`, http.StatusBadRequest)
			return
		}
		answer(w, "Sure! Here it is:\n```json\n{\"short\": \"We met.\", \"topics\": [], \"action_items\": []}\n```")
	})
	got, err := newClient(t, cs.URL, nil).Summarize(t.Context(), "en", meeting)
	if err != nil || got.Short != "We met." {
		t.Fatalf("summary %+v, %v", got, err)
	}
	if len(cs.requests) != 2 || cs.requests[1].ResponseFormat != nil {
		t.Errorf("%d requests; the second must leave response_format out", len(cs.requests))
	}
}

func TestNothingSaid(t *testing.T) {
	cs := newChatServer(t, func(w http.ResponseWriter, req chatRequest) { answer(w, `{"short":"x"}`) })
	_, err := newClient(t, cs.URL, nil).Summarize(t.Context(), "en", []Line{{Speaker: "A", Text: "  "}})
	if !errors.Is(err, ErrNothingSaid) || len(cs.requests) != 0 {
		t.Errorf("empty meeting: %v after %d requests, want ErrNothingSaid without a request", err, len(cs.requests))
	}
}

func TestLongMeetingKeepsStartAndEnd(t *testing.T) {
	var lines []Line
	for i := range 600 {
		lines = append(lines, Line{Speaker: "Alice", Text: strings.Repeat("blah ", 10) + "line " + itoa(i), Start: time.Duration(i) * 10 * time.Second})
	}
	cs := newChatServer(t, func(w http.ResponseWriter, req chatRequest) { answer(w, `{"short":"long"}`) })
	const budget = 5000
	if _, err := newClient(t, cs.URL, func(c *Config) { c.MaxChars = budget }).Summarize(t.Context(), "de", lines); err != nil {
		t.Fatal(err)
	}
	system, user := cs.requests[0].Messages[0].Content, cs.requests[0].Messages[1].Content
	if n := len([]rune(user)); n > budget {
		t.Errorf("sent %d characters, budget %d", n, budget)
	}
	if !strings.Contains(user, "line 0\n") || !strings.HasSuffix(user, "line 599") || !strings.Contains(user, "\n[…]\n") {
		t.Errorf("the cut transcript must keep the first and last lines around the marker:\n%.300s…", user)
	}
	if strings.Contains(user, "line 300\n") {
		t.Error("the middle of the meeting was sent")
	}
	if !strings.Contains(system, "Mittelteil wurde weggelassen") {
		t.Errorf("the German prompt does not say the middle was cut:\n%s", system)
	}
}

func TestTranscriptTextWithAHugeLine(t *testing.T) {
	lines := []Line{{Speaker: "A", Text: strings.Repeat("é", 1000)}, {Speaker: "B", Text: "end"}}
	text, cut := transcriptText(lines, 100)
	if !cut || len([]rune(text)) > 100 || !strings.HasPrefix(text, "[00:00:00] A: éé") || !strings.HasSuffix(text, "B: end") {
		t.Errorf("cut=%v, %d characters: %q", cut, len([]rune(text)), text)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func equal(a, b Summary) bool {
	return a.Short == b.Short && slices.Equal(a.Topics, b.Topics) && slices.Equal(a.ActionItems, b.ActionItems)
}
