package transcript

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Webhook headers; see the package documentation.
const (
	EventHeader     = "Visio-Event"
	DeliveryHeader  = "Visio-Delivery"
	SignatureHeader = "Visio-Signature"
	// ReadyEvent is the event of a finished transcript.
	ReadyEvent = "transcript.ready"
	// DefaultTolerance is how far from the receiver's clock a signature's
	// time may be when VerifySignature is given no tolerance.
	DefaultTolerance = 5 * time.Minute
)

// ErrSignature is wrapped by every error of VerifySignature.
var ErrSignature = errors.New("transcript webhook signature refused")

// deliveryPolicy says how often and how patiently Deliver tries.
type deliveryPolicy struct {
	attempts       int
	first, longest time.Duration
	timeout        time.Duration // of a client without one
}

var defaultDelivery = deliveryPolicy{attempts: 6, first: time.Second, longest: 30 * time.Second, timeout: 30 * time.Second}

// Deliver POSTs the JSON rendering of t to a webhook, signed with secret,
// and tries again with growing pauses, for about a minute, while the
// receiver cannot be reached or answers 408, 429 or 5xx. client may be nil.
func Deliver(ctx context.Context, client *http.Client, webhookURL, secret string, t Transcript) error {
	return deliver(ctx, client, webhookURL, secret, t, defaultDelivery)
}

func deliver(ctx context.Context, client *http.Client, webhookURL, secret string, t Transcript, policy deliveryPolicy) error {
	u, err := url.Parse(webhookURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("transcript webhook: the URL must be an http:// or https:// URL: check the webhook setting")
	}
	// The user information and query of the URL may hold credentials:
	// errors name the receiver without them.
	display := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
	if secret == "" {
		return fmt.Errorf("transcript webhook %s: no secret to sign with: set the webhook's secret", display)
	}
	if client == nil {
		client = &http.Client{Timeout: policy.timeout}
	}
	var body bytes.Buffer
	if err := writeJSON(&body, t); err != nil {
		return fmt.Errorf("transcript webhook %s: encode %s: %w", display, t.ID, err)
	}
	delivery := rand.Text()

	delay := policy.first
	for attempt := 1; ; attempt++ {
		retry, err := post(ctx, client, u.String(), secret, delivery, body.Bytes())
		if err == nil {
			return nil
		}
		if !retry || attempt >= policy.attempts {
			return fmt.Errorf("transcript webhook %s: %s not delivered after %d attempts: %w", display, t.ID, attempt, err)
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return fmt.Errorf("transcript webhook %s: %s not delivered: %w (last attempt: %w)", display, t.ID, ctx.Err(), err)
		}
		delay = min(2*delay, policy.longest)
	}
}

// post makes one attempt, and says whether another may succeed.
func post(ctx context.Context, client *http.Client, target, secret, delivery string, body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Visio-Webhook")
	req.Header.Set(EventHeader, ReadyEvent)
	req.Header.Set(DeliveryHeader, delivery)
	req.Header.Set(SignatureHeader, Sign(secret, time.Now(), body))
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the full URL
		}
		return ctx.Err() == nil, fmt.Errorf("receiver unreachable: %w", err)
	}
	// Draining lets the connection serve the next delivery.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return false, nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return true, fmt.Errorf("receiver answered HTTP %d", code)
	default:
		return false, fmt.Errorf("receiver refused the delivery with HTTP %d: check the webhook URL, and the secret the receiver verifies with", code)
	}
}

// Sign returns the Visio-Signature header of body sent at now.
func Sign(secret string, now time.Time, body []byte) string {
	ts := strconv.FormatInt(now.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// VerifySignature checks a Visio-Signature header against the raw body of a
// delivery: one of its v1 values must be the HMAC of its t and body under
// secret, and t within tolerance of now (DefaultTolerance when tolerance is
// 0 or less). Errors wrap ErrSignature.
func VerifySignature(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if secret == "" {
		return fmt.Errorf("%w: no secret to verify with", ErrSignature)
	}
	var (
		ts     string
		hashes [][]byte
	)
	for part := range strings.SplitSeq(header, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch key {
		case "t":
			if ts != "" {
				return fmt.Errorf("%w: two times in the header", ErrSignature)
			}
			ts = value
		case "v1":
			if h, err := hex.DecodeString(value); err == nil && len(h) == sha256.Size {
				hashes = append(hashes, h)
			}
		}
	}
	sent, err := strconv.ParseInt(ts, 10, 64)
	// A time past year 36000 is a forgery, and would overflow below.
	if err != nil || ts != strconv.FormatInt(sent, 10) || sent < 0 || sent > 1<<40 {
		return fmt.Errorf("%w: the header has no time (want t=<unix seconds>,v1=<hex>)", ErrSignature)
	}
	if len(hashes) == 0 {
		return fmt.Errorf("%w: the header has no v1 signature", ErrSignature)
	}
	// Compared in seconds: a Duration of a far time would overflow.
	if skew := now.Unix() - sent; skew > int64(tolerance/time.Second) || -skew > int64(tolerance/time.Second) {
		return fmt.Errorf("%w: signed at %s, more than %v from now: check the clocks, or this is a replay",
			ErrSignature, time.Unix(sent, 0).UTC().Format(time.RFC3339), tolerance)
	}
	want := mac(secret, ts, body)
	for _, h := range hashes {
		if hmac.Equal(h, want) {
			return nil
		}
	}
	return fmt.Errorf("%w: no v1 signature matches the body: check the secret, and verify the raw body", ErrSignature)
}
