package pseudonym_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/internal/pseudonym"
)

var reasons = map[pseudonym.Reason]bool{se: true, no: true, fi: true, ssn: true, dk: true, email: true, phone: true, name: true}

// FuzzIdentifying checks that Identifying never panics, gives the same
// answer twice, and reports a known reason exactly when it refuses.
func FuzzIdentifying(f *testing.F) {
	for _, s := range []string{
		"C-017", "19121212-1212", "811218+9876", "01010750160", "010107 50160", "131052-308T",
		"010594Y9032", "078-05-1120", "010190-1234", "john.doe@example.com", "john.doe.gmail.com",
		"+46 70 123 45 67", "(555) 123-4567", "Anna.von.Svensson", "Sean.O'Brien", "１２３４５６７８９０",
		"123456", "X-", "-", "0", "\xff\xfe", "Å", "2024-01-17", "a.b.c", "@", "+",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		r1, ok1 := pseudonym.Identifying(code)
		r2, ok2 := pseudonym.Identifying(code)
		if r1 != r2 || ok1 != ok2 {
			t.Fatalf("Identifying(%q) = %q, %v then %q, %v", code, r1, ok1, r2, ok2)
		}
		if ok1 != (r1 != "") || ok1 && !reasons[r1] {
			t.Fatalf("Identifying(%q) = %q, %v: want a known reason exactly when refused", code, r1, ok1)
		}
	})
}

// FuzzCompilePattern checks that CompilePattern never panics, wraps
// ErrInvalidPattern on every error, and returns only patterns that match
// whole codes; and that CheckPattern refuses no pattern that a
// well-formed code matches.
func FuzzCompilePattern(f *testing.F) {
	for _, s := range [][2]string{
		{`C-\d{3}`, "C-017"}, {`^C-\d+|K-\d+$`, "C-1x"}, {`a)|(b`, "ab"}, {`(?m)^C\d+$`, "X\nC1"},
		{`(?i)c-\d+`, "C-1"}, {`.*`, ""}, {`[`, "["}, {`\z`, "x"}, {`x|`, "x"},
		{`\bC\b-\d`, "C-1"}, {`(?i)k\w{2,}`, "Kx_"}, {`[^ ]{64}`, strings.Repeat("a", 64)},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, expr, code string) {
		re, err := pseudonym.CompilePattern(expr)
		if err != nil {
			if !errors.Is(err, pseudonym.ErrInvalidPattern) {
				t.Fatalf("CompilePattern(%q) error %v does not wrap ErrInvalidPattern", expr, err)
			}
			return
		}
		if len(expr) > pseudonym.MaxPatternLen || re.MatchString("") {
			t.Fatalf("CompilePattern(%q) accepted a pattern over the limit or matching \"\"", expr)
		}
		if loc := re.FindStringIndex(code); loc != nil && (loc[0] != 0 || loc[1] != len(code)) {
			t.Fatalf("CompilePattern(%q) matched %q at %v, not the whole code", expr, code, loc)
		}
		// CheckPattern may refuse a pattern for matching no code only
		// if it is right.
		if err := pseudonym.CheckPattern(expr); err != nil && pseudonym.WellFormed(code) && re.MatchString(code) {
			t.Fatalf("CheckPattern(%q) = %v, but it matches the code %q", expr, err, code)
		}
	})
}
