package transcript

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const testSecret = "whsec-0123456789abcdef"

// receiver is a webhook endpoint that verifies what it gets like a real
// one would, and answers with the statuses it is given, then 200.
type receiver struct {
	*httptest.Server
	mu         sync.Mutex
	statuses   []int
	attempts   int
	deliveries map[string]bool
	docs       []Document
	problems   []string
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	t.Helper()
	rc := &receiver{statuses: statuses, deliveries: map[string]bool{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.attempts++
		switch {
		case r.Method != http.MethodPost:
			rc.problems = append(rc.problems, "method "+r.Method)
		case r.Header.Get("Content-Type") != "application/json" || r.Header.Get(EventHeader) != ReadyEvent:
			rc.problems = append(rc.problems, "headers "+r.Header.Get("Content-Type")+" "+r.Header.Get(EventHeader))
		}
		if err := VerifySignature(testSecret, r.Header.Get(SignatureHeader), body, time.Now(), time.Minute); err != nil {
			rc.problems = append(rc.problems, err.Error())
		}
		rc.deliveries[r.Header.Get(DeliveryHeader)] = true
		if len(rc.statuses) > 0 {
			status := rc.statuses[0]
			rc.statuses = rc.statuses[1:]
			w.WriteHeader(status)
			return
		}
		var doc Document
		if err := json.Unmarshal(body, &doc); err != nil {
			rc.problems = append(rc.problems, err.Error())
		}
		rc.docs = append(rc.docs, doc)
	}))
	t.Cleanup(rc.Close)
	return rc
}

var quickDelivery = deliveryPolicy{attempts: 4, first: time.Millisecond, longest: 10 * time.Millisecond, timeout: 5 * time.Second}

func TestDeliver(t *testing.T) {
	rc := newReceiver(t)
	if err := Deliver(t.Context(), nil, rc.URL+"/hooks/visio", testSecret, sample()); err != nil {
		t.Fatal(err)
	}
	if len(rc.problems) > 0 {
		t.Errorf("the receiver saw: %q", rc.problems)
	}
	if len(rc.docs) != 1 || rc.docs[0].ID != "tr_sample" || len(rc.docs[0].Segments) != 5 || rc.docs[0].Summary == nil {
		t.Errorf("received %+v", rc.docs)
	}
}

func TestDeliverRetriesServerErrors(t *testing.T) {
	rc := newReceiver(t, http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusTooManyRequests)
	if err := deliver(t.Context(), nil, rc.URL, testSecret, sample(), quickDelivery); err != nil {
		t.Fatal(err)
	}
	if rc.attempts != 4 || len(rc.docs) != 1 || len(rc.problems) > 0 {
		t.Errorf("%d attempts, %d delivered, problems %q; want 4, 1, none", rc.attempts, len(rc.docs), rc.problems)
	}
	if len(rc.deliveries) != 1 {
		t.Errorf("retries carried %d delivery IDs, want one to tell repeats", len(rc.deliveries))
	}

	down := newReceiver(t, 500, 500, 500, 500, 500)
	err := deliver(t.Context(), nil, down.URL, testSecret, sample(), quickDelivery)
	if err == nil || !strings.Contains(err.Error(), "after 4 attempts") || !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("a receiver that keeps failing: %v", err)
	}
}

func TestDeliverDoesNotRetryRefusals(t *testing.T) {
	rc := newReceiver(t, http.StatusUnauthorized)
	err := deliver(t.Context(), nil, rc.URL, testSecret, sample(), quickDelivery)
	if err == nil || rc.attempts != 1 || !strings.Contains(err.Error(), "check the webhook URL, and the secret") {
		t.Errorf("after %d attempts: %v; want one attempt and advice", rc.attempts, err)
	}
}

func TestDeliverErrorsHideSecrets(t *testing.T) {
	rc := newReceiver(t)
	target := strings.Replace(rc.URL, "http://", "http://user:p4ssw0rd@", 1) + "/hook?token=t0ken"
	rc.Close()
	err := deliver(t.Context(), nil, target, testSecret, sample(), quickDelivery)
	if err == nil {
		t.Fatal("a closed receiver took the delivery")
	}
	for _, secret := range []string{testSecret, "p4ssw0rd", "t0ken"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows %q: %v", secret, err)
		}
	}
	if !strings.Contains(err.Error(), "unreachable") || !strings.Contains(err.Error(), "/hook") {
		t.Errorf("the error does not say which receiver is unreachable: %v", err)
	}
	for _, bad := range [][2]string{{"ftp://example.org/x", testSecret}, {"example.org/x", testSecret}, {"https://example.org/x", ""}} {
		if err := Deliver(t.Context(), nil, bad[0], bad[1], sample()); err == nil {
			t.Errorf("Deliver to %q with secret %q was attempted", bad[0], bad[1])
		}
	}
}

func TestDeliverStopsWithTheContext(t *testing.T) {
	rc := newReceiver(t, 500, 500, 500, 500, 500, 500)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	began := time.Now()
	err := deliver(ctx, nil, rc.URL, testSecret, sample(), deliveryPolicy{attempts: 6, first: time.Hour, longest: time.Hour})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(began) > 5*time.Second {
		t.Errorf("after %v: %v, want the deadline soon", time.Since(began), err)
	}
}

func TestVerifySignature(t *testing.T) {
	body := []byte(`{"id":"tr_1"}`)
	now := time.Unix(1_800_000_000, 0)
	good := Sign(testSecret, now, body)
	if !strings.HasPrefix(good, "t=1800000000,v1=") || len(good) != len("t=1800000000,v1=")+64 {
		t.Errorf("signature header %q", good)
	}
	rotated := "t=1800000000,v1=" + strings.Repeat("ab", 32) + "," + good[len("t=1800000000,"):]
	for name, tc := range map[string]struct {
		secret, header string
		body           []byte
		at             time.Time
		ok             bool
	}{
		"good":                 {testSecret, good, body, now, true},
		"good, clock skew":     {testSecret, good, body, now.Add(4 * time.Minute), true},
		"one of two v1 values": {testSecret, rotated, body, now, true},
		"spaces after commas":  {testSecret, strings.ReplaceAll(good, ",", ", "), body, now, true},
		"another secret":       {"other", good, body, now, false},
		"changed body":         {testSecret, good, []byte(`{"id":"tr_2"}`), now, false},
		"replayed later":       {testSecret, good, body, now.Add(6 * time.Minute), false},
		"no time":              {testSecret, good[len("t=1800000000,"):], body, now, false},
		"no signature":         {testSecret, "t=1800000000", body, now, false},
		"empty header":         {testSecret, "", body, now, false},
		"negative time":        {testSecret, "t=-5,v1=" + strings.Repeat("00", 32), body, now, false},
		"no secret":            {"", good, body, now, false},
	} {
		err := VerifySignature(tc.secret, tc.header, tc.body, tc.at, 5*time.Minute)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrSignature) {
			t.Errorf("%s: %v does not wrap ErrSignature", name, err)
		}
	}
}

func FuzzVerifySignature(f *testing.F) {
	body := []byte(`{"id":"tr_1"}`)
	now := time.Unix(1_800_000_000, 0)
	f.Add(Sign(testSecret, now, body))
	f.Add("t=1800000000,v1=zz,v1=" + strings.Repeat("0", 64))
	f.Add("t=99999999999999999999999,v1=")
	f.Add(",,=,t=,v1=,t=1")
	f.Fuzz(func(t *testing.T, header string) {
		err := VerifySignature(testSecret, header, body, now, 5*time.Minute)
		if err == nil {
			// Accepted: the header must hold the true signature of its time.
			ts := ""
			for part := range strings.SplitSeq(header, ",") {
				if k, v, _ := strings.Cut(strings.TrimSpace(part), "="); k == "t" {
					ts = v
				}
			}
			sec, _ := strconv.ParseInt(ts, 10, 64)
			want := Sign(testSecret, time.Unix(sec, 0), body)
			if !strings.Contains(strings.ToLower(header), want[strings.Index(want, "v1=")+3:]) {
				t.Errorf("accepted %q, which lacks the signature %s", header, want)
			}
			return
		}
		if !errors.Is(err, ErrSignature) {
			t.Errorf("%v does not wrap ErrSignature", err)
		}
	})
}

func TestSignMatchesTheDocumentedScheme(t *testing.T) {
	// What a receiver in another language computes from the package
	// documentation: HMAC-SHA256 of "<t>.<body>", in hex.
	body := []byte(`{"id":"tr_1"}`)
	h := hmac.New(sha256.New, []byte(testSecret))
	h.Write([]byte("1800000000." + string(body)))
	want := "t=1800000000,v1=" + hex.EncodeToString(h.Sum(nil))
	if got := Sign(testSecret, time.Unix(1_800_000_000, 0), body); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}
