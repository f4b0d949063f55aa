package pseudonym_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/internal/pseudonym"
)

func TestCompilePattern(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		expr    string
		match   []string
		noMatch []string
	}{
		{"bare", `C-\d{3}`, []string{"C-017"}, []string{"XC-017", "C-0170", "C-017\n", "c-017", ""}},
		{"own anchors", `^C-\d{3}$`, []string{"C-017"}, []string{"XC-017", "C-0170", "C-017\n"}},
		// With hand-written anchors this alternation is the classic bug:
		// ^C-\d+|K-\d+$ matches "C-1<anything>".
		{"alternation", `C-\d+|K-\d+`, []string{"C-1", "K-22"}, []string{"C-1x", "xK-2", "C-1 K-2"}},
		{"half-anchored alternation", `^C-\d+|K-\d+$`, []string{"C-1", "K-2"}, []string{"C-1x", "xK-2"}},
		{"flags stay inside", `(?i)c-\d+`, []string{"C-1", "c-1"}, []string{"C-1x"}},
		{"multi-line flag cannot unanchor", `(?m)^C\d+$`, []string{"C1"}, []string{"X\nC1", "C1\nX"}},
		{"exactly the limit", strings.Repeat("a", pseudonym.MaxPatternLen), []string{strings.Repeat("a", 200)}, []string{strings.Repeat("a", 201)}},
		{"study site and counter", `(KW|ST)[0-9]-[CK][0-9]{3}`, []string{"KW3-C017", "ST1-K001"}, []string{"KW3-C01", "KW3-X017"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			re, err := pseudonym.CompilePattern(tc.expr)
			if err != nil {
				t.Fatalf("CompilePattern(%q) = %v", tc.expr, err)
			}
			for _, s := range tc.match {
				if !re.MatchString(s) {
					t.Errorf("CompilePattern(%q).MatchString(%q) = false, want true", tc.expr, s)
				}
			}
			for _, s := range tc.noMatch {
				if re.MatchString(s) {
					t.Errorf("CompilePattern(%q).MatchString(%q) = true, want false", tc.expr, s)
				}
			}
		})
	}
}

func TestCompilePatternString(t *testing.T) {
	t.Parallel()
	re, err := pseudonym.CompilePattern(`C-\d{3}`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := re.String(), `\A(?:C-\d{3})\z`; got != want {
		t.Errorf("CompilePattern(`C-\\d{3}`).String() = %q, want %q", got, want)
	}
}

func TestCompilePatternRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, expr string }{
		{"empty", ""},
		{"too long", strings.Repeat("a", pseudonym.MaxPatternLen+1)},
		{"unbalanced", `(C-\d+`},
		{"closing paren", `C-\d+)`},
		// Wrapped without the separate parse this would compile to
		// \A(?:a)|(b)\z, which matches any code starting with a.
		{"escapes the wrapper", `a)|(b`},
		{"trailing backslash", `C-\`},
		{"backreference", `(a)\1`},
		{"lookahead", `(?=a)a`},
		{"nested repetition", `a**`},
		{"repeat count", `a{1001}`},
		{"invalid UTF-8", "C-\xff"},
		{"matches empty", `.*`},
		{"stray alternation", `C-\d+|`},
		{"optional everything", `(C-\d+)?`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			re, err := pseudonym.CompilePattern(tc.expr)
			if err == nil {
				t.Fatalf("CompilePattern(%q) = %v, nil; want an error", tc.expr, re)
			}
			if !errors.Is(err, pseudonym.ErrInvalidPattern) {
				t.Errorf("CompilePattern(%q) error %v does not wrap ErrInvalidPattern", tc.expr, err)
			}
		})
	}
}

// TestCheckPattern: a study's pattern must let some well-formed code
// through; one that none can match would refuse every dyad.
func TestCheckPattern(t *testing.T) {
	t.Parallel()
	ok := []string{
		`C-\d{3}`, `(KW|ST)[0-9]-[CK][0-9]{3}`, `(?i)c-\d+`, `\w+`, `.+`,
		`[^ ]{64}`,         // exactly the longest code
		`x*y`,              // the shortest code is one character
		`Ä?B\d`,            // the non-ASCII part is optional
		`\bC\b-\d+`,        // word boundaries inside a code
		`(a|b)*a(a|b){20}`, // many states, still searched to the end
		`[a-z]{10}\d{10}\.[A-Z]+`,
	}
	for _, expr := range ok {
		if err := pseudonym.CheckPattern(expr); err != nil {
			t.Errorf("CheckPattern(%q) = %v, want nil", expr, err)
		}
	}
	none := []string{
		`C \d{3}`,       // a space
		`Ä\d+`,          // a letter outside ASCII
		`[^ ]{65}`,      // longer than any code
		`\d{70,}`,       // likewise
		`-C\d+`,         // a code starts with a letter or digit
		`C@\d+`,         // no '@' in a code
		`C\bD`,          // no boundary between two word characters
		`[^\x00-\x7f]+`, // nothing ASCII
	}
	for _, expr := range none {
		err := pseudonym.CheckPattern(expr)
		if !errors.Is(err, pseudonym.ErrInvalidPattern) || !strings.Contains(err.Error(), "no code can match") {
			t.Errorf("CheckPattern(%q) = %v, want ErrInvalidPattern: no code can match", expr, err)
		}
	}
	// What CompilePattern refuses, CheckPattern refuses too.
	if err := pseudonym.CheckPattern(`(C-\d+`); !errors.Is(err, pseudonym.ErrInvalidPattern) {
		t.Errorf("CheckPattern of an unbalanced pattern = %v", err)
	}
}

// TestWellFormed: the code alphabet.
func TestWellFormed(t *testing.T) {
	t.Parallel()
	for _, c := range []string{"a", "Z9", "KW3-C017", "site.a_1-x", strings.Repeat("a", pseudonym.MaxCodeLen)} {
		if !pseudonym.WellFormed(c) {
			t.Errorf("WellFormed(%q) = false", c)
		}
	}
	for _, c := range []string{"", "-a", ".a", "_a", "a b", "a@b", "Ä1", "a\x00", strings.Repeat("a", pseudonym.MaxCodeLen+1)} {
		if pseudonym.WellFormed(c) {
			t.Errorf("WellFormed(%q) = true", c)
		}
	}
}
