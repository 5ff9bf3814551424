package ratelimit

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestTheClientAddressBehindTrustedProxies(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32")}
	cases := []struct {
		peer      string
		forwarded []string
		want      string
	}{
		{"198.51.100.9:4000", nil, "198.51.100.9"},                            // no proxy
		{"198.51.100.9:4000", []string{"203.0.113.5"}, "198.51.100.9"},        // an untrusted peer cannot say who it is
		{"10.1.2.3:4000", []string{"203.0.113.5"}, "203.0.113.5"},             // through the proxy
		{"10.1.2.3:4000", []string{"6.6.6.6, 203.0.113.5"}, "203.0.113.5"},    // what the client wrote before is ignored
		{"10.1.2.3:4000", []string{"203.0.113.5, 192.0.2.7"}, "203.0.113.5"},  // two proxies
		{"10.1.2.3:4000", []string{"203.0.113.5", "10.9.9.9"}, "203.0.113.5"}, // several headers
		{"10.1.2.3:4000", []string{"garbage, 203.0.113.5"}, "203.0.113.5"},    // stops at the first untrusted hop
		{"10.1.2.3:4000", []string{"203.0.113.5, garbage"}, "10.1.2.3"},       // a malformed nearest hop: the proxy itself
		{"10.1.2.3:4000", nil, "10.1.2.3"},                                    // a proxy that says nothing
		{"[::ffff:10.1.2.3]:4000", []string{"2001:db8::1"}, "2001:db8::1"},    // IPv4 in IPv6
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		for _, h := range c.forwarded {
			r.Header.Add("X-Forwarded-For", h)
		}
		if got := ClientAddress(r, proxies); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q: %s, want %s", c.peer, c.forwarded, got, c.want)
		}
	}
}
