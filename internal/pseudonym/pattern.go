package pseudonym

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
)

// MaxPatternLen is the longest code_pattern a study may set, in bytes. A
// code pattern describes a short code; the bound keeps compiled programs
// small, since every dyad creation runs the pattern.
const MaxPatternLen = 200

// ErrInvalidPattern is wrapped by every error CompilePattern returns, so the
// caller can answer 422 without knowing the reasons.
var ErrInvalidPattern = errors.New("invalid code pattern")

// CompilePattern validates a study's code_pattern and compiles it so that it
// must match the whole code. The pattern uses Go's RE2 syntax (linear time,
// no backreferences), is at most MaxPatternLen bytes, and must not match the
// empty string, which would say the pattern is mistyped (a stray '|' or '*').
//
// The pattern is anchored here rather than requiring the study to write ^ and
// $: compiled as \A(?:expr)\z, so C-\d{3} and ^C-\d{3}$ mean the same, and an
// alternation such as C-\d+|K-\d+ cannot match inside a longer code, the
// classic mistake with hand-written anchors. The returned Regexp's String
// shows the anchored form.
//
// A code pattern only narrows what a study accepts: codes that match it are
// still checked by Identifying.
func CompilePattern(expr string) (*regexp.Regexp, error) {
	switch {
	case expr == "":
		return nil, fmt.Errorf("%w: empty", ErrInvalidPattern)
	case len(expr) > MaxPatternLen:
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidPattern, len(expr), MaxPatternLen)
	}
	// Parse the pattern alone first: wrapping an unbalanced one such as
	// "a)|(b" would otherwise compile into an unanchored alternation.
	if _, err := syntax.Parse(expr, syntax.Perl); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPattern, err)
	}
	re, err := regexp.Compile(`\A(?:` + expr + `)\z`)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPattern, err)
	}
	if re.MatchString("") {
		return nil, fmt.Errorf("%w: matches the empty code", ErrInvalidPattern)
	}
	return re, nil
}
