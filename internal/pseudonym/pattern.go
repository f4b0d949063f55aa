package pseudonym

import (
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
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

// CheckPattern is CompilePattern for a pattern a study is about to set:
// it also refuses a pattern that no well-formed code matches (a space,
// a letter outside ASCII, more than MaxCodeLen characters), which would
// refuse every dyad the study enrols with a pattern_mismatch that no
// code could cure.
func CheckPattern(expr string) error {
	re, err := CompilePattern(expr)
	if err != nil {
		return err
	}
	// The program of the anchored pattern, as regexp compiles it.
	parsed, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidPattern, err)
	}
	prog, err := syntax.Compile(parsed.Simplify())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidPattern, err)
	}
	if !matchesSomeCode(prog) {
		return fmt.Errorf("%w: no code can match it: codes are 1-%d letters (A-Z, a-z), digits, '.', '_' or '-', starting with a letter or digit",
			ErrInvalidPattern, MaxCodeLen)
	}
	return nil
}

// searchBudget bounds the work matchesSomeCode does, in instructions
// visited; a pattern that needs more is given the benefit of the doubt.
// Patterns are at most MaxPatternLen bytes and checked once, when a study
// is defined; a plain one takes a few thousand.
const searchBudget = 2_000_000

// matchesSomeCode reports whether prog accepts a well-formed code. It runs
// the pattern's automaton on every code at once, breadth first: the
// states reached after n characters are the sets of instructions the
// program can be at, with the class of the last character (for \b),
// each kept once, so the search ends after MaxCodeLen characters or when
// no new state is left.
func matchesSomeCode(prog *syntax.Prog) bool {
	type state struct {
		pcs  string // the sorted instruction numbers, 4 bytes each
		prev rune   // -1 before the first character, else 'a' for a word character and '.' for another
	}
	work := 0
	closure := func(pcs []uint32, ctx syntax.EmptyOp) []uint32 {
		var out []uint32
		seen := make(map[uint32]bool)
		stack := append([]uint32(nil), pcs...)
		for len(stack) > 0 {
			pc := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[pc] {
				continue
			}
			seen[pc] = true
			work++
			switch in := &prog.Inst[pc]; in.Op {
			case syntax.InstAlt, syntax.InstAltMatch:
				stack = append(stack, in.Out, in.Arg)
			case syntax.InstCapture, syntax.InstNop:
				stack = append(stack, in.Out)
			case syntax.InstEmptyWidth:
				if syntax.EmptyOp(in.Arg)&^ctx == 0 {
					stack = append(stack, in.Out)
				}
			case syntax.InstMatch, syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
				out = append(out, pc)
			}
		}
		return out
	}
	encode := func(pcs []uint32) string {
		slices.Sort(pcs)
		pcs = slices.Compact(pcs)
		b := make([]byte, 0, 4*len(pcs))
		for _, pc := range pcs {
			b = binary.LittleEndian.AppendUint32(b, pc)
		}
		return string(b)
	}
	decode := func(s string) []uint32 {
		pcs := make([]uint32, len(s)/4)
		for i := range pcs {
			pcs[i] = binary.LittleEndian.Uint32([]byte(s[4*i:]))
		}
		return pcs
	}
	class := func(r rune) rune {
		if syntax.IsWordChar(r) {
			return 'a'
		}
		return '.'
	}
	start := state{encode([]uint32{uint32(prog.Start)}), -1}
	seen := map[state]bool{start: true}
	frontier := []state{start}
	for n := 0; len(frontier) > 0; n++ {
		var next []state
		for _, st := range frontier {
			pcs := decode(st.pcs)
			if n > 0 {
				for _, pc := range closure(pcs, syntax.EmptyOpContext(st.prev, -1)) {
					if prog.Inst[pc].Op == syntax.InstMatch {
						return true
					}
				}
			}
			if n == MaxCodeLen {
				continue
			}
			alphabet := codeRest
			if n == 0 {
				alphabet = codeStart
			}
			// The empty-width context of the next character depends on
			// its being a word character or not (the alphabet has no
			// newline), so two closures serve the whole alphabet.
			closed := map[syntax.EmptyOp][]uint32{}
			for _, c := range alphabet {
				ctx := syntax.EmptyOpContext(st.prev, c)
				if _, ok := closed[ctx]; !ok {
					closed[ctx] = closure(pcs, ctx)
				}
				var to []uint32
				for _, pc := range closed[ctx] {
					if in := &prog.Inst[pc]; in.Op != syntax.InstMatch && in.MatchRune(c) {
						to = append(to, in.Out)
					}
				}
				if work > searchBudget {
					return true
				}
				if len(to) == 0 {
					continue
				}
				if s := (state{encode(to), class(c)}); !seen[s] {
					seen[s] = true
					next = append(next, s)
				}
			}
		}
		frontier = next
	}
	return false
}
