package openai

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/speech/wav"
)

// Transcribe sends the utterance to the endpoint, retrying network errors,
// 429 and 5xx answers with exponential backoff.
func (e *Engine) Transcribe(ctx context.Context, a speech.Audio) (speech.Result, error) {
	res, attempts, err := e.transcribe(ctx, a, e.retries, e.timeout)
	// A caller that gave up says nothing about the endpoint.
	if ctx.Err() == nil {
		e.health.record(attempts, err)
	}
	return res, err
}

// transcribe returns the result and the number of attempts it took.
func (e *Engine) transcribe(ctx context.Context, a speech.Audio, retries int, timeout time.Duration) (speech.Result, int, error) {
	if e.closed.Load() {
		return speech.Result{}, 0, errors.New("openai speech engine: used after Close")
	}
	if len(a.Samples) == 0 {
		return speech.Result{Language: a.Language}, 0, nil
	}
	body, contentType, err := e.form(a)
	if err != nil {
		return speech.Result{}, 0, err
	}
	select {
	case e.slots <- struct{}{}:
	case <-ctx.Done():
		return speech.Result{}, 0, fmt.Errorf("openai speech engine: waiting for a free request slot to %s: %w", e.host, ctx.Err())
	}
	defer func() { <-e.slots }()

	for attempt := 1; ; attempt++ {
		start := time.Now()
		res, err := e.attempt(ctx, body, contentType, timeout)
		if err == nil {
			if res.Language == "" {
				res.Language = a.Language
			}
			e.log.Debug("transcribed", "audio", a.Duration(), "took", time.Since(start), "attempts", attempt)
			return res, attempt, nil
		}
		var retry *retryableError
		if !errors.As(err, &retry) || attempt > retries || ctx.Err() != nil {
			return speech.Result{}, attempt, err
		}
		delay := e.delay(attempt, retry.after)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < delay {
			return speech.Result{}, attempt, fmt.Errorf("%w (no time left to retry)", err)
		}
		e.log.Warn("speech endpoint call failed; retrying", "attempt", attempt, "retry_in", delay, "err", err)
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return speech.Result{}, attempt, fmt.Errorf("openai speech engine: gave up retrying %s: %w", e.host, ctx.Err())
		}
	}
}

// form builds the multipart body once, to be sent again by each attempt.
func (e *Engine) form(a speech.Audio) ([]byte, string, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fields := [][2]string{{"model", e.model}, {"response_format", "verbose_json"}}
	if a.Language != "" {
		fields = append(fields, [2]string{"language", a.Language})
	}
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return nil, "", fmt.Errorf("openai speech engine: build request: %w", err)
		}
	}
	file, err := mw.CreateFormFile("file", "audio.wav")
	if err != nil {
		return nil, "", fmt.Errorf("openai speech engine: build request: %w", err)
	}
	if err := wav.Encode(file, a.Samples, speech.SampleRate); err != nil {
		return nil, "", fmt.Errorf("openai speech engine: encode audio: %w", err)
	}
	if err := mw.Close(); err != nil {
		return nil, "", fmt.Errorf("openai speech engine: build request: %w", err)
	}
	return body.Bytes(), mw.FormDataContentType(), nil
}

// retryableError is a failure that another attempt may not have: the
// network, a timeout, 429 or 5xx.
type retryableError struct {
	err   error
	after time.Duration // the server's Retry-After, 0 when it gave none
}

func (r *retryableError) Error() string { return r.err.Error() }
func (r *retryableError) Unwrap() error { return r.err }

func (e *Engine) attempt(ctx context.Context, body []byte, contentType string, timeout time.Duration) (speech.Result, error) {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, e.endpoint, bytes.NewReader(body))
	if err != nil {
		return speech.Result{}, fmt.Errorf("openai speech engine: build request: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	if e.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+e.apiKey)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return speech.Result{}, e.networkError(ctx, err, timeout)
	}
	defer func() { _ = resp.Body.Close() }()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return speech.Result{}, e.networkError(ctx, err, timeout)
	}
	if len(answer) > maxResponseBytes {
		return speech.Result{}, fmt.Errorf("openai speech engine: %s sent an answer over %d MiB; check that speech.openai.url points to a transcription server", e.host, maxResponseBytes>>20)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return speech.Result{}, e.statusError(resp, answer)
	}
	res, err := parseResponse(resp.Header.Get("Content-Type"), answer)
	if err != nil {
		return speech.Result{}, fmt.Errorf("openai speech engine: %s: %s", e.host, e.scrub(err.Error()))
	}
	return res, nil
}

// networkError describes a failure to get an answer. The URL is left out:
// the host is enough to act on, and a URL may carry more than it should.
func (e *Engine) networkError(ctx context.Context, err error, timeout time.Duration) error {
	if ctx.Err() != nil {
		return fmt.Errorf("openai speech engine: call to %s stopped: %w", e.host, ctx.Err())
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &retryableError{err: fmt.Errorf("openai speech engine: %s did not answer within %s; check the server's load, or raise speech.openai.timeout", e.host, timeout)}
	}
	return &retryableError{err: fmt.Errorf("openai speech engine: cannot reach %s (%w); check that the server runs and that speech.openai.url points to it", e.host, err)}
}

// statusError describes an answer other than 2xx, with the server's own
// message and what to check.
func (e *Engine) statusError(resp *http.Response, body []byte) error {
	status := resp.StatusCode
	msg := fmt.Sprintf("openai speech engine: %s answered %d %s", e.host, status, http.StatusText(status))
	if detail := errorMessage(body); detail != "" {
		msg += ": " + e.scrub(detail)
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("%s; check speech.openai.api_key: %w", msg, speech.ErrUnavailable)
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
		return fmt.Errorf("%s; check speech.openai.url (the server's base URL, e.g. http://whisper:8000): %w", msg, speech.ErrUnavailable)
	case status == http.StatusTooManyRequests:
		return &retryableError{err: errors.New(msg + "; the server limits its rate: lower speech.openai.concurrency or give it more capacity"),
			after: retryAfter(resp.Header.Get("Retry-After"))}
	case status == http.StatusRequestTimeout || status >= 500:
		return &retryableError{err: errors.New(msg + "; see the transcription server's logs"),
			after: retryAfter(resp.Header.Get("Retry-After"))}
	case status == http.StatusRequestEntityTooLarge:
		return errors.New(msg + "; the server refuses audio this long: raise its upload limit")
	default:
		return errors.New(msg + "; check speech.openai.model and the server's logs")
	}
}

// scrub removes the API key from text that came from the server: some
// servers quote the key they refused.
func (e *Engine) scrub(s string) string {
	if e.apiKey == "" {
		return s
	}
	return strings.ReplaceAll(s, e.apiKey, "[api key]")
}

// delay is how long to wait before attempt+1: the server's Retry-After when
// it gave one (capped), otherwise exponential backoff with jitter, so that
// many callers that failed together do not come back together.
func (e *Engine) delay(attempt int, after time.Duration) time.Duration {
	if after > 0 {
		return min(after, e.maxRetryAfter)
	}
	d := e.baseDelay << min(attempt-1, 16)
	d = min(d, e.maxDelay)
	return d/2 + rand.N(d/2+1)
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, 24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
