package speechtest

import (
	"slices"
	"strings"
	"testing"
)

func TestWER(t *testing.T) {
	tests := []struct {
		name          string
		ref, hyp      string
		errors, words int
		rate          float64
	}{
		{"identical", "see you next week", "see you next week", 0, 4, 0},
		{"case and punctuation ignored", "Hello, Sarah! See you?", "hello sarah see you", 0, 4, 0},
		// "the" replaced by "a": one substitution in five words.
		{"substitution", "book the room on monday", "book a room on monday", 1, 5, 0.2},
		// "room" missing: one deletion in four words.
		{"deletion", "book the room now", "book the now", 1, 4, 0.25},
		// "please" and "now" added: two insertions in three words.
		{"insertions", "send the notes", "please send the notes now", 2, 3, 2.0 / 3},
		// Nothing heard: every reference word is deleted.
		{"empty hypothesis", "we can afford two more weeks", "", 6, 6, 1},
		{"both empty", "", "...", 0, 0, 0},
		{"nothing to hear", "", "um hello", 2, 0, 1},
		// Two substitutions (a->the, minute->minutes) and one deletion (call).
		{"mixed", "a minute before my call", "the minutes before my", 3, 5, 0.6},
		{"numbers and percent", "Sales grew by 12% in 5 days", "sales grew by twelve percent in five days", 0, 8, 0},
		{"hundreds", "room 105 and 240", "room one hundred five and two hundred forty", 0, 8, 0},
		{"apostrophes", "Don't worry, it’s fine", "dont worry its fine", 0, 4, 0},
		{"hyphen separates", "a follow-up meeting", "a follow up meeting", 0, 4, 0},
		// Word order matters: swapping two words costs two substitutions.
		{"swap", "next week", "week next", 2, 2, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rate, errors, words := WER(tc.ref, tc.hyp)
			if errors != tc.errors || words != tc.words || !nearlyEqual(rate, tc.rate) {
				t.Errorf("WER(%q, %q) = %.3f, %d errors, %d words; want %.3f, %d, %d",
					tc.ref, tc.hyp, rate, errors, words, tc.rate, tc.errors, tc.words)
			}
		})
	}
}

func nearlyEqual(a, b float64) bool {
	d := a - b
	return d < 1e-9 && d > -1e-9
}

func TestWords(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"It costs 3.5 euros.", "it costs three point five euros"},
		{"0 problems, 19 ideas, 20 people, 99 bottles", "zero problems nineteen ideas twenty people ninety nine bottles"},
		{"100 or 1,500 or 2026", "one hundred or 1500 or 2026"},
		{"End.Next line", "end next line"},
		{"12th floor", "12th floor"},
	}
	for _, tc := range tests {
		if got := strings.Join(Words(tc.in), " "); got != tc.want {
			t.Errorf("Words(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzWER checks the properties of an edit distance on any text: a text
// has no error against itself, and the distance lies between the difference
// of the lengths and the longer length.
func FuzzWER(f *testing.F) {
	f.Add("see you next week", "see you next weak")
	f.Add("Sales grew by 12%", "sales grew by twelve percent")
	f.Add("", "hello")
	f.Add("3.5, 1,000 % '", "’’ -- ..")
	f.Fuzz(func(t *testing.T, ref, hyp string) {
		if rate, errors, _ := WER(ref, ref); rate != 0 || errors != 0 {
			t.Fatalf("WER(%q, itself) = %v, %d errors", ref, rate, errors)
		}
		rate, errors, words := WER(ref, hyp)
		hypWords := len(Words(hyp))
		if errors < abs(words-hypWords) || errors > max(words, hypWords) {
			t.Fatalf("WER(%q, %q): %d errors for %d and %d words", ref, hyp, errors, words, hypWords)
		}
		if back, _, _ := WER(hyp, ref); (back == 0) != (rate == 0) {
			t.Fatalf("WER(%q, %q) = %v but the other way round %v", ref, hyp, rate, back)
		}
		if slices.Contains(Words(hyp), "") {
			t.Fatalf("Words(%q) has an empty word", hyp)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
