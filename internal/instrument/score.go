package instrument

import (
	"fmt"
	"math"
	"strconv"
)

// ScoringVersion identifies the scoring rules in this file. It is stored
// with every score, followed by the form definition that was scored (see
// Form.ScoringVersion), so that results stay reproducible; bump it
// whenever the rules (keying, proration, rounding) change.
const ScoringVersion = "2"

// FieldError codes, stable for API clients.
const (
	CodeWrongCount = "wrong_count"
	CodeOutOfRange = "out_of_range"
	CodeNotOnStep  = "not_on_step"
)

// Reasons a score is not computed (Score.Reason).
const (
	// ReasonTooManyMissing: more items are missing than the policy allows.
	ReasonTooManyMissing = "too_many_missing"
	// ReasonSubscaleMissing: the policy requires every subscale to be
	// scorable for the total, and one is not.
	ReasonSubscaleMissing = "subscale_missing"
)

// stepTolerance is the allowed distance from the step grid, in steps, so
// that decimal inputs such as 7.3 on a 0.1 grid survive float rounding.
const stepTolerance = 1e-9

// FieldError names one bad answer so that an API can report every problem
// at once, each against the field that caused it.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// Validate checks a positional answers slice against the form: the count
// must equal the number of items and every non-nil answer must lie in the
// scale range on the step grid. nil means unanswered and is allowed here;
// whether too much is missing is a scoring question (see Score). Validate
// returns nil when the answers are valid.
func (f *Form) Validate(answers []*float64) []FieldError {
	if len(answers) != len(f.Items) {
		return []FieldError{{Field: "answers", Code: CodeWrongCount,
			Message: fmt.Sprintf("got %d answers, form %s has %d items", len(answers), f.ID, len(f.Items))}}
	}
	var errs []FieldError
	s := f.Scale
	for i, a := range answers {
		if a == nil {
			continue
		}
		x, key := *a, f.Items[i].Key
		field := fmt.Sprintf("answers[%d]", i)
		switch {
		case !(x >= s.Min && x <= s.Max): // also catches NaN
			errs = append(errs, FieldError{Field: field, Code: CodeOutOfRange,
				Message: fmt.Sprintf("item %d: %s is outside %s..%s", key, num(x), num(s.Min), num(s.Max))})
		case !s.onStep(x):
			errs = append(errs, FieldError{Field: field, Code: CodeNotOnStep,
				Message: fmt.Sprintf("item %d: %s is not on the %s..%s scale in steps of %s", key, num(x), num(s.Min), num(s.Max), num(s.Step))})
		}
	}
	return errs
}

// Snap returns valid answers moved onto the scale's grid: 4.9999999999
// passes Validate's tolerance and means 5, so 5 is what is stored, scored
// and counted as a category. nil stays nil. Call it after Validate.
func (f *Form) Snap(answers []*float64) []*float64 {
	out := make([]*float64, len(answers))
	s := f.Scale
	for i, a := range answers {
		if a == nil {
			continue
		}
		v := s.Min + math.Round((*a-s.Min)/s.Step)*s.Step
		// Round to the step's decimals so 0.1 steps give 7.3, not 7.300000000000001.
		if d := decimals(s.Step); d >= 0 {
			p := math.Pow(10, float64(d))
			v = math.Round(v*p) / p
		}
		out[i] = &v
	}
	return out
}

// decimals is the number of decimal places of a step such as 1 or 0.1.
func decimals(step float64) int {
	for d := 0; d <= 9; d++ {
		p := math.Pow(10, float64(d))
		if math.Abs(step*p-math.Round(step*p)) < 1e-9 {
			return d
		}
	}
	return -1
}

func (s Scale) onStep(x float64) bool {
	q := (x - s.Min) / s.Step
	return math.Abs(q-math.Round(q)) <= stepTolerance
}

func num(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// Policy is the study's missing-item policy. No instrument-specific
// proration rule is known, so it is a project choice and is stored with
// every score.
type Policy struct {
	// MaxMissingFraction: a (sub)scale of k items is scored when at most
	// floor(MaxMissingFraction*k + 1e-9) items are missing.
	MaxMissingFraction float64 `json:"max_missing_fraction"`
	// TotalRequiresSubscales: the total is scored only when every subscale
	// is scored, so a total never stands on a subscale that is itself
	// missing (e.g. 3 items answered of 12 is within 25% missing for the
	// total, but if two of them fall in one 4-item subscale, that subscale
	// is unscored). Off by default; a form without subscales is unaffected.
	TotalRequiresSubscales bool `json:"total_requires_subscales"`
}

// DefaultPolicy allows 25% missing: at most 1 of a 4-item subscale and 3 of
// a 12-item total, i.e. the common "at least 75% answered" practice, and
// scores the total on its own items whether or not every subscale is
// scorable (TotalRequiresSubscales false).
func DefaultPolicy() Policy { return Policy{MaxMissingFraction: 0.25} }

// Validate rejects fractions outside [0, 1); 1 would allow scoring nothing.
func (p Policy) Validate() error {
	if !(p.MaxMissingFraction >= 0 && p.MaxMissingFraction < 1) {
		return fmt.Errorf("instrument: max missing fraction %v is outside [0, 1)", p.MaxMissingFraction)
	}
	return nil
}

// Score is one scale or subscale score. Both metrics are kept: the item
// mean stays on the response scale and is comparable across forms with
// missing items; the sum matches published norms. How a score is stored
// or sent is its store's and its API's business: it carries no tags.
type Score struct {
	// Mean is the item-metric mean of the keyed answered items; nil when
	// not scorable.
	Mean *float64
	// Sum is on the full-form metric (Mean*Items when prorated); nil when
	// not scorable. Sums of integer answers are exact.
	Sum      *float64
	Answered int
	Items    int
	// Prorated is true when scored with missing items.
	Prorated bool
	// Reason is "" when scored and ReasonTooManyMissing when Mean is nil.
	Reason string
}

// Scores is the total and per-subscale scores of one set of answers.
type Scores struct {
	Total Score
	// Subscales is keyed by subscale key; empty (not nil) when the form has none.
	Subscales map[string]Score
}

// ScaleTotal names the whole-form score beside the subscale keys.
const ScaleTotal = "total"

// Scales lists ScaleTotal and then the form's subscale keys in form order:
// the scales every score, comparison and export column is reported on.
func (f *Form) Scales() []string {
	out := []string{ScaleTotal}
	for _, sub := range f.Subscales {
		out = append(out, sub.Key)
	}
	return out
}

// Of returns the score of one scale: ScaleTotal or a subscale key. An
// unknown scale has the zero Score (no mean).
func (s Scores) Of(scale string) Score {
	if scale == ScaleTotal {
		return s.Total
	}
	return s.Subscales[scale]
}

// KeyedValue is answer v to item i (0-based) after reverse keying
// (Min+Max-v), so that a higher value always means a stronger alliance.
func (f *Form) KeyedValue(i int, v float64) float64 {
	if i < len(f.Items) && f.Items[i].Reverse {
		return f.Scale.Min + f.Scale.Max - v
	}
	return v
}

// Keyed returns the answers after reverse keying (see KeyedValue); nil
// stays nil. The input is not modified.
func (f *Form) Keyed(answers []*float64) []*float64 {
	out := make([]*float64, len(answers))
	for i, a := range answers {
		if a == nil {
			continue
		}
		v := f.KeyedValue(i, *a)
		out[i] = &v
	}
	return out
}

// Applied is the policy the form applies when a study asks for p, which
// a rating records beside its scores: the missing-item fraction is the
// smaller of p's and the form's cap, 0 when the form does not prorate (a
// fraction outside [0, 1] is clamped into it); the total requires its
// subscales when p or the form says so.
func (f *Form) Applied(p Policy) Policy {
	frac := p.MaxMissingFraction
	if !(frac >= 0) { // negative or NaN
		frac = 0
	}
	frac = math.Min(frac, 1)
	if f.MaxMissingFraction != nil {
		frac = math.Min(frac, *f.MaxMissingFraction)
	}
	if f.Prorate == ProrateNone {
		frac = 0
	}
	return Policy{MaxMissingFraction: frac, TotalRequiresSubscales: p.TotalRequiresSubscales || f.TotalRequiresSubscales}
}

// Score scores answers that passed Validate (other input does not panic
// but gives meaningless numbers) under the policy the form applies for p
// (Applied). With its TotalRequiresSubscales, a total whose form has an
// unscored subscale is unscored too (Reason subscale_missing; its
// Answered and Items still count). Each score is the double nearest its
// exact value (see scoreItems); nothing else is rounded.
func (f *Form) Score(answers []*float64, p Policy) Scores {
	p = f.Applied(p)
	frac, requireSubscales := p.MaxMissingFraction, p.TotalRequiresSubscales
	keyed := f.Keyed(answers)
	all := make([]int, len(f.Items))
	for i, it := range f.Items {
		all[i] = it.Key
	}
	grid := f.Scale.grid()
	out := Scores{Total: scoreItems(keyed, all, frac, grid), Subscales: make(map[string]Score, len(f.Subscales))}
	for _, s := range f.Subscales {
		sc := scoreItems(keyed, s.Items, frac, grid)
		out.Subscales[s.Key] = sc
		if requireSubscales && sc.Mean == nil && out.Total.Mean != nil {
			out.Total = Score{Answered: out.Total.Answered, Items: out.Total.Items, Reason: ReasonSubscaleMissing}
		}
	}
	return out
}

// scoreItems scores the items with the given keys (1-based positions).
// With a grid (see Scale.grid) answers are added as whole numbers of
// 1/grid, exactly, and each score is one division of exact integers:
// the double nearest the true decimal value, as a person would work it
// out (9.1 + 9.7 + 9.4 + 7.8 is 36, not 35.99999999999999, so it is not
// below a cut-off of 36). Without one, plain floating-point sums.
func scoreItems(keyed []*float64, keys []int, frac, grid float64) Score {
	s := Score{Items: len(keys)}
	var sum float64
	for _, k := range keys {
		if i := k - 1; i >= 0 && i < len(keyed) && keyed[i] != nil {
			v := *keyed[i]
			if grid > 0 {
				v = math.Round(v * grid)
			}
			sum += v
			s.Answered++
		}
	}
	missing := s.Items - s.Answered
	if s.Answered == 0 || missing > int(math.Floor(frac*float64(s.Items)+1e-9)) {
		s.Reason = ReasonTooManyMissing
		return s
	}
	per := 1.0
	if grid > 0 {
		per = grid
	}
	mean := sum / (per * float64(s.Answered))
	if missing > 0 {
		// sum·k/answered, not mean·k: one rounding instead of two, so
		// 23 of 5 items prorated to 6 is 27.6, not 27.599999999999998.
		sum = sum * float64(s.Items) / (per * float64(s.Answered))
		s.Prorated = true
	} else {
		sum /= per
	}
	s.Mean, s.Sum = &mean, &sum
	return s
}

// grid is the number of units per 1 in which every answer of the scale,
// keyed or not, is a whole number (10 for a 0 to 10 scale in steps of
// 0.1; 1 for the WAI-SR's 1 to 5), or 0 when its step, minimum or maximum
// has more than nine decimals (no exact sums then). Sums stay exact
// integers far beyond any form's size.
func (s Scale) grid() float64 {
	d := 0
	for _, x := range []float64{s.Step, s.Min, s.Max} {
		dx := decimals(x)
		if dx < 0 {
			return 0
		}
		d = max(d, dx)
	}
	return math.Pow(10, float64(d))
}
