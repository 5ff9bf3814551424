// Package summary asks a language model for a meeting's summary: a few
// sentences, the topics discussed and the action items agreed, written in the
// meeting's language. Any OpenAI-compatible chat completions endpoint serves
// (OpenAI, Mistral, vLLM, llama.cpp, Ollama, LiteLLM...).
//
// Long meetings are cut to a character budget, keeping their start and their
// end, and the model is told so. Models do not always answer with the JSON
// asked for: the answer is read leniently (a JSON object anywhere in the
// text, or headed markdown sections).
package summary

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Summary is what a model made of a meeting.
type Summary struct {
	Short       string   `json:"short"`        // a few sentences
	Topics      []string `json:"topics"`       // a few words each
	ActionItems []string `json:"action_items"` // a sentence each, naming who when known
}

// Line is one utterance of the meeting to summarise.
type Line struct {
	Speaker string
	Text    string
	Start   time.Duration // since the meeting's start
}

// Config says which endpoint and model to use.
type Config struct {
	// URL is the endpoint's base, such as https://api.openai.com, with or
	// without /v1; a URL that already ends in /chat/completions is used as
	// it is.
	URL    string
	APIKey string // sent as a bearer token; may be empty for local servers
	Model  string
	// Timeout bounds one Summarize call; 0 means DefaultTimeout.
	Timeout time.Duration
	// HTTPClient is http.DefaultClient when nil.
	HTTPClient *http.Client
	// MaxChars is the budget of transcript characters sent to the model;
	// 0 means DefaultMaxChars.
	MaxChars int
}

// Defaults of Config.
const (
	DefaultTimeout = 2 * time.Minute
	// DefaultMaxChars, about 15,000 tokens, fits the context of the small
	// models people run themselves along with the prompt and the answer.
	DefaultMaxChars = 60_000
)

// ErrNothingSaid is returned by Summarize for a meeting without text.
var ErrNothingSaid = errors.New("summary: the transcript has no text to summarise")

// Client summarises meetings through one endpoint. It is safe for
// concurrent use.
type Client struct {
	endpoint string // full URL of chat/completions
	display  string // endpoint without user information or query, for errors
	apiKey   string
	model    string
	timeout  time.Duration
	http     *http.Client
	maxChars int
}

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("summary: summary.url must be an http:// or https:// URL, such as https://api.openai.com/v1")
	}
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, errors.New("summary: summary.model is empty: name the model to use, such as gpt-4o-mini")
	}
	if cfg.Timeout < 0 || cfg.MaxChars < 0 {
		return nil, errors.New("summary: summary.timeout and the character budget must not be negative")
	}
	path := strings.TrimRight(u.Path, "/")
	switch {
	case strings.HasSuffix(path, "/chat/completions"):
	case strings.HasSuffix(path, "/v1"):
		path += "/chat/completions"
	default:
		path += "/v1/chat/completions"
	}
	u.Path, u.RawPath = path, ""
	c := &Client{
		endpoint: u.String(),
		display:  (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String(),
		apiKey:   cfg.APIKey,
		model:    cfg.Model,
		timeout:  cfg.Timeout,
		http:     cfg.HTTPClient,
		maxChars: cfg.MaxChars,
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.http == nil {
		c.http = http.DefaultClient
	}
	if c.maxChars == 0 {
		c.maxChars = DefaultMaxChars
	}
	return c, nil
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type responseFormat struct {
	Type string `json:"type"`
}

type chatRequest struct {
	Model          string          `json:"model"`
	Messages       []chatMessage   `json:"messages"`
	ResponseFormat *responseFormat `json:"response_format,omitempty"`
	Temperature    float64         `json:"temperature"`
}

type chatResponse struct {
	Choices []struct {
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
	} `json:"choices"`
}

// Summarize asks the model for a summary of lines, written in language (a
// BCP 47 tag; languages other than fr, en, de and nl get English).
func (c *Client) Summarize(ctx context.Context, language string, lines []Line) (Summary, error) {
	text, cut := transcriptText(lines, c.maxChars)
	if strings.TrimSpace(text) == "" {
		return Summary{}, ErrNothingSaid
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req := chatRequest{
		Model: c.model,
		Messages: []chatMessage{
			{Role: "system", Content: systemPrompt(language, cut)},
			{Role: "user", Content: text},
		},
		ResponseFormat: &responseFormat{Type: "json_object"},
		Temperature:    0.2,
	}
	answer, err := c.complete(ctx, req)
	if errors.Is(err, errFormatRefused) {
		// Some servers do not know response_format; the prompt asks for
		// JSON anyway and the answer is read leniently.
		req.ResponseFormat = nil
		answer, err = c.complete(ctx, req)
	}
	if err != nil {
		return Summary{}, err
	}
	s, err := parseAnswer(answer)
	if err != nil {
		return Summary{}, fmt.Errorf("summary: the answer of %s: %w", c.model, err)
	}
	return s, nil
}

// errFormatRefused is a 400 that names response_format.
var errFormatRefused = errors.New("the endpoint does not accept response_format")

// complete sends one chat request and returns the content of the answer.
func (c *Client) complete(ctx context.Context, chat chatRequest) (string, error) {
	body, err := json.Marshal(chat)
	if err != nil {
		return "", fmt.Errorf("summary: encode the request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("summary: request to %s: %w", c.display, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", c.transportError(ctx, err)
	}
	defer resp.Body.Close()
	// Answers are a few kilobytes; the limit keeps a misbehaving server
	// from filling memory.
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return "", c.transportError(ctx, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", c.statusError(resp.StatusCode, data)
	}
	var answer chatResponse
	if err := json.Unmarshal(data, &answer); err != nil {
		return "", fmt.Errorf("summary: %s did not answer like a chat completions endpoint (%v): check summary.url", c.display, err)
	}
	if len(answer.Choices) == 0 || strings.TrimSpace(answer.Choices[0].Message.Content) == "" {
		return "", fmt.Errorf("summary: %s gave an empty answer: try again, or another summary.model", c.model)
	}
	return answer.Choices[0].Message.Content, nil
}

func (c *Client) transportError(ctx context.Context, err error) error {
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("summary: %s did not answer within %v: raise summary.timeout or use a faster model: %w",
			c.display, c.timeout, context.DeadlineExceeded)
	}
	// A *url.Error repeats the full URL, which may hold a secret in its
	// query or user information: only its cause is kept.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("summary: cannot reach %s: check summary.url and the network: %w", c.display, err)
}

func (c *Client) statusError(status int, body []byte) error {
	detail := c.errorDetail(body)
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("summary: %s refused the API key (HTTP %d%s): check summary.api_key", c.display, status, detail)
	case status == http.StatusNotFound:
		return fmt.Errorf("summary: %s answered HTTP 404%s: check summary.url and summary.model", c.display, detail)
	case status == http.StatusBadRequest && bytes.Contains(body, []byte("response_format")):
		return errFormatRefused
	case status == http.StatusTooManyRequests:
		return fmt.Errorf("summary: %s is rate limiting (HTTP 429%s): try again later", c.display, detail)
	case status >= 500:
		return fmt.Errorf("summary: %s failed (HTTP %d%s): try again later", c.display, status, detail)
	}
	return fmt.Errorf("summary: %s refused the request (HTTP %d%s): check summary.model", c.display, status, detail)
}

// errorDetail returns the message of an OpenAI-style error body, short and
// without the API key, which some servers echo.
func (c *Client) errorDetail(body []byte) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	msg := ""
	if json.Unmarshal(body, &e) == nil {
		msg = e.Error.Message
	}
	if c.apiKey != "" {
		msg = strings.ReplaceAll(msg, c.apiKey, "[api key]")
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if msg == "" {
		return ""
	}
	if r := []rune(msg); len(r) > 200 {
		msg = string(r[:200]) + "…"
	}
	return ": " + msg
}
