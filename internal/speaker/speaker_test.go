package speaker

import (
	"slices"
	"testing"
)

// feed sends one interval's worth of packets (10 at 20 ms = 200 ms) at a level.
func feed(m *Meter, level uint8) {
	for range 10 {
		m.Observe(level)
	}
}

func TestSpeakerIsFoundAndKeptWhileQuiet(t *testing.T) {
	d := NewDetector()
	alice, bob := d.Meter("alice"), d.Meter("bob")

	var r Result
	for range 3 {
		feed(alice, 30)
		feed(bob, 127)
		r, _ = d.Update()
	}
	if r.Active != "alice" || !slices.Equal(r.Speaking, []string{"alice"}) {
		t.Fatalf("alice talks, bob is silent: got %+v", r)
	}
	for range 5 {
		feed(alice, 127)
		feed(bob, 127)
		r, _ = d.Update()
	}
	if r.Active != "alice" || len(r.Speaking) != 0 {
		t.Fatalf("silence should keep the last speaker active and nobody speaking: got %+v", r)
	}
	for range 3 {
		feed(bob, 20)
		feed(alice, 127)
		r, _ = d.Update()
	}
	if r.Active != "bob" {
		t.Fatalf("bob talks alone: got %+v", r)
	}
}

func TestBriefNoiseDoesNotTakeTheFloor(t *testing.T) {
	d := NewDetector()
	alice, bob := d.Meter("alice"), d.Meter("bob")
	for range 5 {
		feed(alice, 30)
		feed(bob, 127)
		d.Update()
	}
	// Bob coughs for one interval while Alice keeps talking.
	feed(alice, 30)
	feed(bob, 10)
	r, _ := d.Update()
	if r.Active != "alice" {
		t.Fatalf("a cough took the floor: %+v", r)
	}
}

func TestChangedAndRemove(t *testing.T) {
	d := NewDetector()
	m := d.Meter("alice")
	feed(m, 30)
	if _, changed := d.Update(); !changed {
		t.Fatal("first speaker not reported as a change")
	}
	feed(m, 30)
	if _, changed := d.Update(); changed {
		t.Fatal("no change reported as a change")
	}
	d.Remove("alice")
	if r, changed := d.Update(); !changed || r.Active != "" || len(r.Speaking) != 0 {
		t.Fatalf("after removal: %+v changed=%v", r, changed)
	}
	bob, again, carol := d.Meter("bob"), d.Meter("bob"), d.Meter("carol")
	if bob == carol || bob != again {
		t.Fatal("Meter must return one meter per participant")
	}
}
