package speechtest

import (
	"strconv"
	"strings"
	"unicode"
)

// WER returns the word error rate of hypothesis against reference: the
// fewest word substitutions, insertions and deletions that turn one into
// the other (errors), divided by the number of words of the reference
// (words). Both are normalised first (see Words), so that "12%" and
// "twelve percent" match. With an empty reference the rate is 0 when the
// hypothesis is empty too, else 1.
func WER(reference, hypothesis string) (rate float64, errors, words int) {
	ref, hyp := Words(reference), Words(hypothesis)
	errors = editDistance(ref, hyp)
	words = len(ref)
	switch {
	case words > 0:
		rate = float64(errors) / float64(words)
	case errors > 0:
		rate = 1
	}
	return rate, errors, words
}

// Words splits text into the words WER compares: lower case, without
// punctuation (apostrophes are dropped, "don't" becomes "dont"; other marks
// separate words), "%" read as "percent", a decimal point between digits
// read as "point", and whole numbers up to 999 written as words; larger
// numbers stay in digits ("1,500" becomes "1500").
func Words(text string) []string {
	var b strings.Builder
	runes := []rune(strings.ToLower(text))
	for i, r := range runes {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		case r == '\'' || r == '’':
		case r == '%':
			b.WriteString(" percent ")
		case r == '.' && betweenDigits(runes, i):
			b.WriteString(" point ")
		case r == ',' && betweenDigits(runes, i):
			// A thousands separator: "1,500" is one number.
		default:
			b.WriteByte(' ')
		}
	}
	var words []string
	for _, w := range strings.Fields(b.String()) {
		if n, err := strconv.Atoi(w); err == nil && n >= 0 && n <= 999 {
			words = append(words, numberWords(n)...)
			continue
		}
		words = append(words, w)
	}
	return words
}

func betweenDigits(runes []rune, i int) bool {
	return i > 0 && i+1 < len(runes) && unicode.IsDigit(runes[i-1]) && unicode.IsDigit(runes[i+1])
}

var (
	smallNumbers = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
		"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
	tensNumbers = []string{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}
)

// numberWords writes 0 ≤ n ≤ 999 as words the way recognisers spell them:
// "one hundred twenty three", without "and".
func numberWords(n int) []string {
	var words []string
	if n >= 100 {
		words = append(words, smallNumbers[n/100], "hundred")
		n %= 100
		if n == 0 {
			return words
		}
	}
	switch {
	case n < 20:
		words = append(words, smallNumbers[n])
	case n%10 == 0:
		words = append(words, tensNumbers[n/10])
	default:
		words = append(words, tensNumbers[n/10], smallNumbers[n%10])
	}
	return words
}

// editDistance is the Levenshtein distance between two word sequences.
func editDistance(a, b []string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
