package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/visio-meet/visio/internal/client"
	"github.com/visio-meet/visio/internal/loadtest"
)

// spread sums up durations: how many, the median, the 95th percentile and
// the largest. loadtest.Histogram stops at 200 ms, too short for joins and
// recoveries that take seconds, so these are exact ranks.
type spread struct {
	N             int
	P50, P95, Max time.Duration
}

func summarize(ds []time.Duration) spread {
	if len(ds) == 0 {
		return spread{}
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	return spread{N: len(sorted), P50: nearestRank(sorted, 0.50), P95: nearestRank(sorted, 0.95), Max: sorted[len(sorted)-1]}
}

// nearestRank returns the smallest value with at least fraction q of the
// values at or below it.
func nearestRank(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

func (s spread) String() string {
	if s.N == 0 {
		return "—"
	}
	return fmt.Sprintf("%s / %s / %s", ms(s.P50), ms(s.P95), ms(s.Max))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

// cpuMeter reads the CPU time of the generator and of the nodes over the
// run. A killed node's time is its last reading before the kill.
type cpuMeter struct {
	pids             []int
	begin, last      []time.Duration
	selfBegin, selfD time.Duration
}

func (m *cpuMeter) start(pids []int) {
	m.pids = pids
	m.begin = make([]time.Duration, len(pids))
	m.last = make([]time.Duration, len(pids))
	for i, pid := range pids {
		m.begin[i], _ = loadtest.ProcessCPU(pid)
		m.last[i] = m.begin[i]
	}
	m.selfBegin = loadtest.SelfCPU()
}

func (m *cpuMeter) sample() {
	for i, pid := range m.pids {
		if d, err := loadtest.ProcessCPU(pid); err == nil {
			m.last[i] = d
		}
	}
}

func (m *cpuMeter) stop() {
	m.sample()
	m.selfD = loadtest.SelfCPU() - m.selfBegin
}

// node returns the CPU time node i used over the run.
func (m *cpuMeter) node(i int) time.Duration { return m.last[i] - m.begin[i] }

// roomsReport is what a run of the rooms subcommand found.
type roomsReport struct {
	cfg       roomsConfig
	people    []*participant
	cpu       cpuMeter
	joinPhase time.Duration
	wall      time.Duration
	held      int
	split     int // rooms whose members, in meetings, do not all see each other
	start     time.Time
	killedURL string
	killedAt  time.Time
}

// roommates counts the others who got into p's meeting.
func (r *roomsReport) roommates(p *participant) int {
	n := 0
	for _, o := range r.people {
		if o != p && o.room == p.room && o.c != nil {
			n++
		}
	}
	return n
}

// splitRooms counts the rooms where a member in a meeting does not see
// another member that is in one: the room's meeting runs on several nodes
// at once, or someone is left out.
func (r *roomsReport) splitRooms() int {
	type view struct {
		id     string
		others map[string]bool
	}
	byRoom := map[int][]view{}
	for _, p := range r.people {
		if p.c == nil {
			continue
		}
		s := p.c.State()
		if s.Self.ID == "" || s.Closed {
			continue
		}
		v := view{id: s.Self.ID, others: map[string]bool{}}
		for id := range s.Others {
			v.others[id] = true
		}
		byRoom[p.room] = append(byRoom[p.room], v)
	}
	n := 0
	for _, views := range byRoom {
	check:
		for _, a := range views {
			for _, b := range views {
				if a.id != b.id && !a.others[b.id] {
					n++
					break check
				}
			}
		}
	}
	return n
}

// placement counts rooms and participants per node: where they joined,
// or where they are after the kill.
func (r *roomsReport) placement(afterKill bool) (rooms, people map[string]int) {
	rooms, people = map[string]int{}, map[string]int{}
	seen := map[string]bool{}
	for _, p := range r.people {
		node := p.node
		if afterKill && p.affected {
			node = p.after
		}
		if node == "" {
			continue
		}
		people[node]++
		if key := fmt.Sprintf("%s %d", node, p.room); !seen[key] {
			seen[key] = true
			rooms[node]++
		}
	}
	return rooms, people
}

// busiestNode is the node hosting the most rooms, the first of --url on a
// tie.
func (r *roomsReport) busiestNode() string {
	rooms, _ := r.placement(false)
	best := ""
	for _, n := range r.nodes(rooms) {
		if best == "" || rooms[n] > rooms[best] {
			best = n
		}
	}
	return best
}

// nodes lists the nodes of --url, then any other the signal URLs named.
func (r *roomsReport) nodes(counts map[string]int) []string {
	list := slices.Clone(r.cfg.entries)
	for _, n := range slices.Sorted(maps.Keys(counts)) {
		if !slices.Contains(list, n) {
			list = append(list, n)
		}
	}
	return list
}

func (r *roomsReport) String() string {
	var b strings.Builder
	cfg := r.cfg
	media := "no media"
	if cfg.audio {
		media = "a microphone each"
	}
	fmt.Fprintf(&b, "\n%d rooms × %d participants (%s), %d entry points, held %v after the joins (%v)\n\n",
		cfg.rooms, cfg.perRoom, media, len(cfg.entries), cfg.duration, r.joinPhase.Round(time.Millisecond))

	rooms, people := r.placement(false)
	roomsAfter, peopleAfter := r.placement(true)
	b.WriteString("| Node | Rooms | Participants | Rooms after the kill | Participants after the kill | CPU time | Cores |\n|---|---|---|---|---|---|---|\n")
	var nodesCPU time.Duration
	for _, n := range r.nodes(people) {
		label := n
		if n == r.killedURL {
			label += " (killed)"
		}
		cpu, cores := "—", "—"
		if i := indexOf(cfg.entries, n); i >= 0 && len(r.cpu.pids) > 0 {
			d, alive := r.cpu.node(i), r.wall
			if n == r.killedURL {
				alive = r.killedAt.Sub(r.start)
			}
			nodesCPU += d
			cpu, cores = fmt.Sprintf("%.1f s", d.Seconds()), fmt.Sprintf("%.2f", d.Seconds()/alive.Seconds())
		}
		after, afterP := "—", "—"
		if r.killedURL != "" {
			after, afterP = fmt.Sprint(roomsAfter[n]), fmt.Sprint(peopleAfter[n])
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %s | %s |\n", label, rooms[n], people[n], after, afterP, cpu, cores)
	}
	self := fmt.Sprintf("%.1f s", r.cpu.selfD.Seconds())
	fmt.Fprintf(&b, "| load generator | | | | | %s | %.2f |\n", self, r.cpu.selfD.Seconds()/r.wall.Seconds())
	if len(r.cpu.pids) > 0 {
		fmt.Fprintf(&b, "\nCPU over the %v run: nodes %.1f s, load generator %.1f s (%.0f%% of the nodes').\n",
			r.wall.Round(time.Second), nodesCPU.Seconds(), r.cpu.selfD.Seconds(), 100*r.cpu.selfD.Seconds()/nodesCPU.Seconds())
	}

	var joins []time.Duration
	failures := map[string]int{}
	for _, p := range r.people {
		if p.joined > 0 {
			joins = append(joins, p.joined)
		}
		if p.failure != "" {
			failures[p.failure]++
		}
	}
	b.WriteString("\n| Measure | Value |\n|---|---|\n")
	fmt.Fprintf(&b, "| Joined (welcome received) | %d of %d |\n", len(joins), len(r.people))
	fmt.Fprintf(&b, "| Join time p50 / p95 / max (RequestJoin to welcome) | %s |\n", summarize(joins))
	fmt.Fprintf(&b, "| Failed to join | %d%s |\n", sum(failures), reasons(failures))
	fmt.Fprintf(&b, "| Held at the end (in their meeting) | %d |\n", r.held)
	fmt.Fprintf(&b, "| Rooms whose members do not all see each other at the end | %d of %d |\n", r.split, cfg.rooms)
	if r.killedURL != "" {
		var recoveries, rejoins []time.Duration
		affected := 0
		lost := map[string]int{}
		for _, p := range r.people {
			if !p.affected {
				continue
			}
			affected++
			if p.rejoined > 0 {
				rejoins = append(rejoins, p.rejoined)
			}
			if p.lost != "" {
				lost[p.lost]++
			} else {
				recoveries = append(recoveries, p.recovered)
			}
		}
		check := "back in and seeing the others"
		if cfg.audio {
			check += ", and receiving their audio"
		}
		fmt.Fprintf(&b, "| Participants on the killed node | %d |\n", affected)
		fmt.Fprintf(&b, "| Rejoin succeeded p50 / p95 / max (after the kill) | %s |\n", summarize(rejoins))
		fmt.Fprintf(&b, "| Recovery p50 / p95 / max (kill to %s) | %s |\n", check, summarize(recoveries))
		fmt.Fprintf(&b, "| Not recovered within %v | %d%s |\n", cfg.recoveryLimit, sum(lost), reasons(lost))
	}
	return b.String()
}

func sum(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// reasons lists why, most frequent first.
func reasons(counts map[string]int) string {
	if len(counts) == 0 {
		return ""
	}
	keys := slices.Sorted(maps.Keys(counts))
	slices.SortStableFunc(keys, func(a, b string) int { return counts[b] - counts[a] })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d × %s", counts[k], k)
	}
	return ": " + strings.Join(parts, "; ")
}

// nodeOfSignalURL turns ws://host:port/ws into http://host:port, the form
// of --url.
func nodeOfSignalURL(s string) string {
	s = strings.TrimSuffix(s, "/ws")
	if rest, ok := strings.CutPrefix(s, "wss://"); ok {
		return "https://" + rest
	}
	if rest, ok := strings.CutPrefix(s, "ws://"); ok {
		return "http://" + rest
	}
	return s
}

// joinFailure says briefly why a join failed, in words shared by all the
// participants that failed alike.
func joinFailure(err error) string {
	var refused *client.RefusedError
	switch {
	case errors.As(err, &refused):
		return fmt.Sprintf("refused: %d %s", refused.Status, refused.Code)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no welcome within %v", joinLimit)
	case errors.Is(err, context.Canceled):
		return "interrupted"
	}
	// The client prints the server's errors as Go values: [{code text}].
	msg := strings.NewReplacer("[{", "", "}]", "").Replace(err.Error())
	if len(msg) > 100 {
		msg = msg[:100] + "…"
	}
	return msg
}
