package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSummarizeGivesNearestRankPercentiles(t *testing.T) {
	var ds []time.Duration
	for i := 20; i >= 1; i-- { // 20 ms down to 1 ms: the order must not matter
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := summarize(ds)
	want := spread{N: 20, P50: 10 * time.Millisecond, P95: 19 * time.Millisecond, Max: 20 * time.Millisecond}
	if got != want {
		t.Errorf("summarize(1..20 ms) = %+v, want %+v", got, want)
	}
	if ds[0] != 20*time.Millisecond {
		t.Error("summarize sorted its caller's slice")
	}
	if got := summarize([]time.Duration{3 * time.Second}); got.P50 != 3*time.Second || got.P95 != 3*time.Second || got.Max != 3*time.Second {
		t.Errorf("one value: %+v", got)
	}
	if got := summarize(nil).String(); got != "—" {
		t.Errorf("no values print as %q, want a dash", got)
	}
	if got := summarize([]time.Duration{1500 * time.Microsecond, 2 * time.Second}).String(); got != "2 ms / 2000 ms / 2000 ms" {
		t.Errorf("printed as %q", got)
	}
}

func TestReasonsListTheMostFrequentFirst(t *testing.T) {
	got := reasons(map[string]int{"refused: 429 rate_limited": 1, "no welcome within 30s": 4, "dial": 1})
	want := ": 4 × no welcome within 30s; 1 × dial; 1 × refused: 429 rate_limited"
	if got != want {
		t.Errorf("reasons = %q, want %q", got, want)
	}
	if reasons(nil) != "" {
		t.Error("no failures should add nothing")
	}
}

func TestSignalURLNamesTheNodeAsGivenInURL(t *testing.T) {
	for in, want := range map[string]string{
		"ws://127.0.0.1:8080/ws":         "http://127.0.0.1:8080",
		"wss://node1.example.org/ws":     "https://node1.example.org",
		"wss://node1.example.org:444/ws": "https://node1.example.org:444",
	} {
		if got := nodeOfSignalURL(in); got != want {
			t.Errorf("nodeOfSignalURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlacementAndBusiestNodeComeFromTheSignalURLs(t *testing.T) {
	a, b, c := "http://a", "http://b", "http://c"
	r := &roomsReport{cfg: roomsConfig{entries: []string{a, b, c}}}
	for i, node := range []string{b, b, a, a, b, b, c, c} { // rooms of two: b hosts rooms 0 and 2
		r.people = append(r.people, &participant{room: i / 2, node: node})
	}
	for _, p := range r.people[2:4] { // room 1 moves from a to c
		p.affected, p.after = true, c
	}
	rooms, people := r.placement(false)
	if rooms[a] != 1 || rooms[b] != 2 || rooms[c] != 1 || people[b] != 4 || people[a] != 2 {
		t.Errorf("placement: rooms %v, participants %v", rooms, people)
	}
	if got := r.busiestNode(); got != b {
		t.Errorf("busiest node = %s, want %s", got, b)
	}
	roomsAfter, peopleAfter := r.placement(true)
	if roomsAfter[a] != 0 || roomsAfter[b] != 2 || roomsAfter[c] != 2 || peopleAfter[c] != 4 {
		t.Errorf("after the kill: rooms %v, participants %v", roomsAfter, peopleAfter)
	}
}

func TestParseRoomsRefusesAKillItCannotCarryOut(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--url", "http://a,http://b", "--pids", "1"},
		{"--url", "http://a", "--kill-after", "5s"},
		{"--url", "http://a", "--kill-after", "5s", "--kill-url", "busiest"},
		{"--url", "http://a", "--kill-after", "5s", "--kill-url", "http://z", "--pids", "1"},
	} {
		if _, ok := parseRooms(args, io.Discard); ok {
			t.Errorf("parseRooms(%q) accepted", args)
		}
	}
	cfg, ok := parseRooms([]string{"--url", "http://a/, http://b", "--pids", "10,20", "--kill-url", "http://b", "--kill-after", "5s"}, io.Discard)
	if !ok || len(cfg.entries) != 2 || cfg.entries[0] != "http://a" || cfg.pids[1] != 20 {
		t.Errorf("parseRooms of a good command line: %+v, %v", cfg, ok)
	}
}

func TestFrontSkipsANodeThatDoesNotAnswer(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Path", r.URL.Path)
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write(body)
	}))
	defer live.Close()
	fr, err := startFront([]string{dead.URL, live.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer fr.close()
	res, err := http.Post(fr.entry(0)+"/api/v1/rooms/abc/join", "application/json", strings.NewReader(`{"name":"Robot"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusTeapot || res.Header.Get("X-Path") != "/api/v1/rooms/abc/join" || string(body) != `{"name":"Robot"}` {
		t.Errorf("through the front: %d %q %q", res.StatusCode, res.Header.Get("X-Path"), body)
	}
}

// TestRoomsOnAClusterWithANodeKilled runs the subcommand's whole path,
// shortly, on the three-node cluster of scripts/cluster.sh.
func TestRoomsOnAClusterWithANodeKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and three servers")
	}
	if dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(dirs) == 0 && os.Getenv("VISIO_POSTGRES_BIN") == "" {
		if os.Getenv("VISIO_REQUIRE_TEST_SERVICES") == "1" {
			t.Fatal("PostgreSQL's server is not installed: run scripts/deps.sh")
		}
		t.Skip("PostgreSQL's server is not installed: run scripts/deps.sh")
	}
	urls, pids := startScriptCluster(t)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cfg := roomsConfig{entries: urls, pids: pids, rooms: 3, perRoom: 2, audio: true, parallel: 2,
		duration: 4 * time.Second, killAfter: time.Second, killURL: busiest, recoveryLimit: 15 * time.Second}
	rep, err := runRooms(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep)
	placed := 0
	for _, p := range rep.people {
		if p.failure != "" || p.joined <= 0 {
			t.Errorf("%s did not join: %q", p.name, p.failure)
		}
		if indexOf(urls, p.node) < 0 {
			t.Errorf("%s is placed at %q, which is no node", p.name, p.node)
		}
		if p.node == rep.killedURL {
			placed++
		}
	}
	i := indexOf(urls, rep.killedURL)
	if i < 0 {
		t.Fatalf("killed %q, which is no node", rep.killedURL)
	}
	if err := syscall.Kill(pids[i], 0); err == nil {
		t.Errorf("the busiest node, pid %d, is still running", pids[i])
	}
	rooms, _ := rep.placement(false)
	for _, n := range urls {
		if rooms[n] > rooms[rep.killedURL] {
			t.Errorf("killed %s with %d rooms while %s had %d", rep.killedURL, rooms[rep.killedURL], n, rooms[n])
		}
	}
	affected := 0
	for _, p := range rep.people {
		if !p.affected {
			continue
		}
		affected++
		switch {
		case p.lost != "":
			t.Errorf("%s did not recover: %s", p.name, p.lost)
		case p.recovered <= 0 || p.recovered > cfg.recoveryLimit:
			t.Errorf("%s recovered after %v", p.name, p.recovered)
		case p.after == rep.killedURL || indexOf(urls, p.after) < 0:
			t.Errorf("%s came back at %q", p.name, p.after)
		}
	}
	if affected != placed || affected == 0 {
		t.Errorf("%d participants counted as on the killed node, %d were placed there", affected, placed)
	}
	if !strings.Contains(rep.String(), rep.killedURL+" (killed)") {
		t.Error("the report does not name the killed node")
	}
}

// startScriptCluster runs scripts/cluster.sh with a fresh build of visio
// and returns the nodes' URLs and pids; the cluster stops with the test.
func startScriptCluster(t *testing.T) ([]string, []int) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "visio")
	if out, err := exec.Command("go", "build", "-o", bin, "../visio").CombinedOutput(); err != nil {
		t.Fatalf("build visio: %v\n%s", err, out)
	}
	// The command holds the cluster up until its standard input closes.
	cmd := exec.Command("bash", "../../scripts/cluster.sh", "--rooms.allow_unregistered=true", "--limits.joins_per_minute=0",
		"--log.level=warn", "--", "sh", "-c", `echo "cluster $VISIO_CLUSTER_URLS $VISIO_CLUSTER_PIDS"; read _`)
	cmd.Env = append(os.Environ(), "VISIO="+bin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		rest, ok := strings.CutPrefix(lines.Text(), "cluster ")
		if !ok {
			continue
		}
		go func() { _, _ = io.Copy(io.Discard, stdout) }()
		urlList, pidList, _ := strings.Cut(rest, " ")
		var pids []int
		for p := range strings.SplitSeq(pidList, ",") {
			n, err := strconv.Atoi(p)
			if err != nil {
				t.Fatalf("cluster.sh gave pids %q", pidList)
			}
			pids = append(pids, n)
		}
		return strings.Split(urlList, ","), pids
	}
	_ = cmd.Wait()
	t.Fatalf("cluster.sh did not start the cluster: %s", stderr.String())
	return nil, nil
}
