package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// front stands for the load balancer before the nodes. Participant i asks
// its entry point (i modulo the nodes) first, and the next ones when that
// one does not answer, as a balancer skips a dead backend: so participants
// may enter through any node, the one to be killed too, and still find a
// live one to rejoin through. Only the REST API goes through it; signalling
// and media go straight to the node the signal URL names.
type front struct {
	nodes []string
	ln    net.Listener
	srv   *http.Server
	fwd   *http.Client
	done  chan struct{}
}

func startFront(nodes []string) (*front, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the entry points: %w", err)
	}
	f := &front{nodes: nodes, ln: ln, done: make(chan struct{}),
		fwd: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(f.done)
		_ = f.srv.Serve(ln)
	}()
	return f, nil
}

// entry returns the base URL through which a participant enters by node i.
func (f *front) entry(i int) string {
	return fmt.Sprintf("http://%s/%d", f.ln.Addr(), i)
}

func (f *front) close() {
	_ = f.srv.Close()
	<-f.done
	f.fwd.CloseIdleConnections()
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	first, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	i, err := strconv.Atoi(first)
	if err != nil || i < 0 || i >= len(f.nodes) {
		http.Error(w, "no such entry point", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	var errs []error
	for k := range f.nodes {
		node := f.nodes[(i+k)%len(f.nodes)]
		target := node + "/" + rest
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		req, err := http.NewRequestWithContext(r.Context(), r.Method, target, bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Header = r.Header.Clone()
		res, err := f.fwd.Do(req)
		if err != nil {
			errs = append(errs, err) // down: try the next node
			continue
		}
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, res.Body)
		res.Body.Close()
		return
	}
	http.Error(w, "no node answers: "+errors.Join(errs...).Error(), http.StatusBadGateway)
}
