package instrument_test

import (
	"maps"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/internal/instrument"
)

// ans builds a positional answers slice; NaN in the input means unanswered.
func ans(xs ...float64) []*float64 {
	out := make([]*float64, len(xs))
	for i, x := range xs {
		if !math.IsNaN(x) {
			out[i] = &x
		}
	}
	return out
}

var miss = math.NaN()

func TestValidate(t *testing.T) {
	c := instrument.Builtin()
	wai := "wai_sr_client"
	tests := []struct {
		name    string
		form    string
		answers []*float64
		want    []instrument.FieldError // Message checked by substring
	}{
		{"valid", wai, ans(5, 4, 5, 4, 5, 5, 4, 4, 5, 4, 4, 5), nil},
		{"nil allowed", wai, ans(miss, 4, 5, 4, 5, 5, 4, 4, 5, 4, 4, miss), nil},
		{"all nil", wai, make([]*float64, 12), nil},
		{"too few", wai, ans(1, 2, 3), []instrument.FieldError{{Field: "answers", Code: "wrong_count", Message: "got 3"}}},
		{"too many", "srs_client", ans(1, 2, 3, 4, 5), []instrument.FieldError{{Field: "answers", Code: "wrong_count", Message: "has 4 items"}}},
		{"nil slice", "srs_client", nil, []instrument.FieldError{{Field: "answers", Code: "wrong_count"}}},
		{"out of range", wai, ans(1, 1, 1, 6, 1, 1, 1, 1, 1, 1, 1, 0),
			[]instrument.FieldError{
				{Field: "answers[3]", Code: "out_of_range", Message: "item 4: 6 is outside 1..5"},
				{Field: "answers[11]", Code: "out_of_range", Message: "item 12: 0 is outside 1..5"},
			}},
		{"not on step", wai, ans(1, 1, 3.5, 1, 1, 1, 1, 1, 1, 1, 1, 1),
			[]instrument.FieldError{{Field: "answers[2]", Code: "not_on_step", Message: "item 3: 3.5"}}},
		{"wai_s 7 ok, 8 not", "wai_s_client", ans(7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8),
			[]instrument.FieldError{{Field: "answers[11]", Code: "out_of_range", Message: "outside 1..7"}}},
		{"srs 7.3 and bounds ok", "srs_client", ans(7.3, 0, 10, 0.1), nil},
		{"srs 7.35 not on step", "srs_client", ans(7.35, 9.9, 8, 1),
			[]instrument.FieldError{{Field: "answers[0]", Code: "not_on_step", Message: "item 1: 7.35"}}},
		{"srs negative", "srs_client", ans(-0.1, 5, 5, 5),
			[]instrument.FieldError{{Field: "answers[0]", Code: "out_of_range", Message: "-0.1 is outside 0..10"}}},
		{"srs above max", "srs_client", ans(5, 5, 5, 10.1),
			[]instrument.FieldError{{Field: "answers[3]", Code: "out_of_range", Message: "item 4"}}},
		{"NaN and Inf", "srs_client", []*float64{new(math.NaN()), new(math.Inf(1)), new(math.Inf(-1)), nil},
			[]instrument.FieldError{
				{Field: "answers[0]", Code: "out_of_range", Message: "NaN"},
				{Field: "answers[1]", Code: "out_of_range", Message: "+Inf"},
				{Field: "answers[2]", Code: "out_of_range", Message: "-Inf"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustForm(t, c, tt.form).Validate(tt.answers)
			if tt.want == nil {
				if got != nil {
					t.Fatalf("Validate = %v, want nil", got)
				}
				return
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Validate = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i].Field != tt.want[i].Field || got[i].Code != tt.want[i].Code || !strings.Contains(got[i].Message, tt.want[i].Message) {
					t.Errorf("error %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	for _, tt := range []struct {
		frac float64
		ok   bool
	}{{0, true}, {0.25, true}, {0.99, true}, {1, false}, {-0.01, false}, {math.NaN(), false}} {
		if err := (instrument.Policy{MaxMissingFraction: tt.frac}).Validate(); (err == nil) != tt.ok {
			t.Errorf("Policy{%v}.Validate() = %v", tt.frac, err)
		}
	}
	if instrument.DefaultPolicy().MaxMissingFraction != 0.25 {
		t.Errorf("DefaultPolicy = %+v", instrument.DefaultPolicy())
	}
}

func TestKeyed(t *testing.T) {
	c := instrument.Builtin()
	in := ans(1, 1, 1, 2, 1, 1, 1, 1, 1, 7, 1, miss)
	got := mustForm(t, c, "wai_s_client").Keyed(in)
	want := []float64{1, 1, 1, 6, 1, 1, 1, 1, 1, 1, 1} // item 4: 8-2 = 6; item 10: 8-7 = 1
	for i, w := range want {
		if got[i] == nil || *got[i] != w {
			t.Errorf("keyed[%d] = %v, want %v", i, got[i], w)
		}
	}
	if got[11] != nil {
		t.Errorf("keyed[11] = %v, want nil", *got[11])
	}
	if *in[3] != 2 || got[3] == in[3] {
		t.Errorf("Keyed modified or aliased its input")
	}
	sr := ans(1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2)
	for i, v := range mustForm(t, c, "wai_sr_therapist").Keyed(sr) {
		if *v != *sr[i] {
			t.Errorf("WAI-SR has no reverse items, keyed[%d] = %v", i, *v)
		}
	}
}

// want describes one expected Score; mean < 0 means not scorable.
type want struct {
	mean, sum       float64
	answered, items int
	prorated        bool
}

var notScored = want{mean: -1}

func checkScore(t *testing.T, name string, got instrument.Score, w want) {
	t.Helper()
	if w.mean < 0 {
		if got.Mean != nil || got.Sum != nil || got.Reason != "too_many_missing" || got.Prorated {
			t.Errorf("%s = %+v, want not scored with reason too_many_missing", name, got)
		}
		return
	}
	if got.Mean == nil || got.Sum == nil || got.Reason != "" {
		t.Fatalf("%s = %+v, want scored", name, got)
	}
	if got.Answered != w.answered || got.Items != w.items || got.Prorated != w.prorated {
		t.Errorf("%s answered/items/prorated = %d/%d/%v, want %d/%d/%v", name,
			got.Answered, got.Items, got.Prorated, w.answered, w.items, w.prorated)
	}
	approxEqual(t, *got.Mean, w.mean, 1e-12)
	approxEqual(t, *got.Sum, w.sum, 1e-12)
}

func TestScore(t *testing.T) {
	c := instrument.Builtin()
	def := instrument.DefaultPolicy()
	tests := []struct {
		name    string
		form    string
		answers []*float64
		policy  instrument.Policy
		total   want
		subs    map[string]want
	}{
		{
			// Synthetic dyad, reference §4.7, client C.
			// goal {4,6,8,11} = 4+5+4+4 = 17; task {1,2,10,12} = 5+4+4+5 = 18;
			// bond {3,5,7,9} = 5+5+4+5 = 19; total 54, mean 54/12 = 4.5.
			name: "dyad client", form: "wai_sr_client", policy: def,
			answers: ans(5, 4, 5, 4, 5, 5, 4, 4, 5, 4, 4, 5),
			total:   want{4.5, 54, 12, 12, false},
			subs: map[string]want{
				"goal": {4.25, 17, 4, 4, false}, "task": {4.5, 18, 4, 4, false}, "bond": {4.75, 19, 4, 4, false},
			},
		},
		{
			// Synthetic dyad, reference §4.7, therapist T.
			// goal {4,6,8,11} = 4+3+3+3 = 13; task {1,2,10,12} = 4+3+3+4 = 14;
			// bond {3,5,7,9} = 4+4+4+4 = 16; total 43, mean 43/12 = 3.58333…
			name: "dyad therapist", form: "wai_sr_therapist", policy: def,
			answers: ans(4, 3, 4, 4, 4, 3, 4, 3, 4, 3, 3, 4),
			total:   want{43.0 / 12, 43, 12, 12, false},
			subs: map[string]want{
				"goal": {3.25, 13, 4, 4, false}, "task": {3.5, 14, 4, 4, false}, "bond": {4, 16, 4, 4, false},
			},
		},
		{
			// Client C with item 4 missing: goal {6,8,11} = 5+4+4 = 13 over 3,
			// prorated sum 13/3*4; total 54-4 = 50 over 11, prorated 50/11*12.
			name: "one missing prorates", form: "wai_sr_client", policy: def,
			answers: ans(5, 4, 5, miss, 5, 5, 4, 4, 5, 4, 4, 5),
			total:   want{50.0 / 11, 50.0 / 11 * 12, 11, 12, true},
			subs: map[string]want{
				"goal": {13.0 / 3, 13.0 / 3 * 4, 3, 4, true}, "task": {4.5, 18, 4, 4, false}, "bond": {4.75, 19, 4, 4, false},
			},
		},
		{
			// Items 4 and 6 missing: goal has 2 of 4 missing (> 1) → nil;
			// total 54-4-5 = 45 over 10 = 4.5, 2 of 12 missing (<= 3) → prorated 54.
			name: "two missing in subscale", form: "wai_sr_client", policy: def,
			answers: ans(5, 4, 5, miss, 5, miss, 4, 4, 5, 4, 4, 5),
			total:   want{4.5, 54, 10, 12, true},
			subs:    map[string]want{"goal": notScored, "task": {4.5, 18, 4, 4, false}, "bond": {4.75, 19, 4, 4, false}},
		},
		{
			// Items 1, 3, 4, 6 missing: 4 of 12 (> 3) → total nil; task {2,10,12} = 4+4+5 = 13;
			// bond {5,7,9} = 5+4+5 = 14; goal 2 missing → nil.
			name: "four missing in total", form: "wai_sr_client", policy: def,
			answers: ans(miss, 4, miss, miss, 5, miss, 4, 4, 5, 4, 4, 5),
			total:   notScored,
			subs: map[string]want{
				"goal": notScored, "task": {13.0 / 3, 13.0 / 3 * 4, 3, 4, true}, "bond": {14.0 / 3, 14.0 / 3 * 4, 3, 4, true},
			},
		},
		{
			name: "strict policy", form: "wai_sr_client", policy: instrument.Policy{MaxMissingFraction: 0},
			answers: ans(5, 4, 5, miss, 5, 5, 4, 4, 5, 4, 4, 5),
			total:   notScored,
			subs:    map[string]want{"goal": notScored, "task": {4.5, 18, 4, 4, false}, "bond": {4.75, 19, 4, 4, false}},
		},
		{
			name: "nothing answered", form: "wai_sr_client", policy: instrument.Policy{MaxMissingFraction: 0.99},
			answers: make([]*float64, 12),
			total:   notScored,
			subs:    map[string]want{"goal": notScored, "task": notScored, "bond": notScored},
		},
		{
			// Raw 5 5 6 2 6 5 6 5 7 1 6 5; items 4 and 10 reverse: 8-2 = 6, 8-1 = 7.
			// Keyed 5 5 6 6 6 5 6 5 7 7 6 5: task {1,2,8,12} = 5+5+5+5 = 20;
			// bond {3,5,7,9} = 6+6+6+7 = 25; goal {4,6,10,11} = 6+5+7+6 = 24; total 69.
			name: "wai_s client reverse keys", form: "wai_s_client", policy: def,
			answers: ans(5, 5, 6, 2, 6, 5, 6, 5, 7, 1, 6, 5),
			total:   want{69.0 / 12, 69, 12, 12, false},
			subs: map[string]want{
				"task": {5, 20, 4, 4, false}, "bond": {6.25, 25, 4, 4, false}, "goal": {6, 24, 4, 4, false},
			},
		},
		{
			// Same answers on the therapist form (reversal mirrors the client form), item 11 missing:
			// goal {4,6,10} keyed = 6+5+7 = 18 over 3 → 6, prorated 24; total 69-6 = 63 over 11.
			name: "wai_s therapist reverse keys", form: "wai_s_therapist", policy: def,
			answers: ans(5, 5, 6, 2, 6, 5, 6, 5, 7, 1, miss, 5),
			total:   want{63.0 / 11, 63.0 / 11 * 12, 11, 12, true},
			subs: map[string]want{
				"task": {5, 20, 4, 4, false}, "bond": {6.25, 25, 4, 4, false}, "goal": {6, 24, 3, 4, true},
			},
		},
		{
			// 7.3 + 8.5 + 9 + 10 = 34.8, mean 8.7.
			name: "srs", form: "srs_client", policy: def,
			answers: ans(7.3, 8.5, 9, 10),
			total:   want{8.7, 34.8, 4, 4, false},
			subs:    map[string]want{},
		},
		{
			name: "srs maximum", form: "srs_client", policy: def,
			answers: ans(10, 10, 10, 10),
			total:   want{10, 40, 4, 4, false},
			subs:    map[string]want{},
		},
		{
			// The form cap (0) beats the laxer study policy.
			name: "srs one missing", form: "srs_client", policy: instrument.Policy{MaxMissingFraction: 0.5},
			answers: ans(7.3, miss, 9, 10),
			total:   notScored,
			subs:    map[string]want{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustForm(t, c, tt.form)
			if errs := f.Validate(tt.answers); errs != nil {
				t.Fatalf("test answers invalid: %v", errs)
			}
			got := f.Score(tt.answers, tt.policy)
			checkScore(t, "total", got.Total, tt.total)
			if got.Subscales == nil {
				t.Fatal("Subscales is nil, want a map")
			}
			gotKeys := slices.Sorted(maps.Keys(got.Subscales))
			wantKeys := slices.Sorted(maps.Keys(tt.subs))
			if !slices.Equal(gotKeys, wantKeys) {
				t.Fatalf("subscales %v, want %v", gotKeys, wantKeys)
			}
			for k, w := range tt.subs {
				checkScore(t, k, got.Subscales[k], w)
			}
		})
	}
}

// TestScoreExactSums checks that integer sums are exact, not mean*k.
func TestScoreExactSums(t *testing.T) {
	f := mustForm(t, instrument.Builtin(), "wai_sr_therapist")
	for a := 1.0; a <= 5; a++ {
		for b := 1.0; b <= 5; b++ {
			answers := ans(a, b, a, b, a, b, a, b, a, a, b, b)
			s := f.Score(answers, instrument.DefaultPolicy())
			if want := 6*a + 6*b; *s.Total.Sum != want {
				t.Fatalf("sum = %v, want exactly %v", *s.Total.Sum, want)
			}
		}
	}
}

// TestScoreDecimalGridExact: on a form whose step is a decimal, every
// score is the double nearest its exact value (computed here in
// rationals), so a total that is 36 is 36 and not below a cut-off of 36:
// 9.1 + 9.7 + 9.4 + 7.8 added in floating point is 35.99999999999999.
func TestScoreDecimalGridExact(t *testing.T) {
	f := mustForm(t, instrument.Builtin(), "srs_client")
	got := f.Score(ans(9.1, 9.7, 9.4, 7.8), instrument.DefaultPolicy()).Total
	if *got.Sum != 36 || *got.Mean != 9 {
		t.Errorf("9.1 + 9.7 + 9.4 + 7.8: sum %v, mean %v; want 36 and 9", *got.Sum, *got.Mean)
	}
	nearest := func(r *big.Rat) float64 { v, _ := r.Float64(); return v }
	rng := rand.New(rand.NewPCG(7, 11))
	for range 20000 {
		answers := make([]*float64, len(f.Items))
		tenths := make([]int64, len(f.Items))
		answered := 0
		for i := range answers {
			if rng.IntN(8) == 0 {
				continue // unanswered: sometimes prorated, sometimes unscored
			}
			tenths[i] = rng.Int64N(101)
			v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(tenths[i])/10, 'f', 1, 64), 64)
			answers[i], answered = &v, answered+1
		}
		sc := f.Score(f.Snap(answers), instrument.DefaultPolicy()).Total
		if sc.Mean == nil {
			continue
		}
		var sum int64
		for i, a := range answers {
			if a != nil {
				sum += tenths[i]
			}
		}
		mean := big.NewRat(sum, 10*int64(answered))
		total := new(big.Rat).Mul(mean, big.NewRat(int64(len(f.Items)), 1))
		if *sc.Mean != nearest(mean) || *sc.Sum != nearest(total) {
			t.Fatalf("answers %v: mean %v, sum %v; want %v and %v", tenths, *sc.Mean, *sc.Sum, nearest(mean), nearest(total))
		}
	}
}

// FuzzValidateScore checks that Validate and Score never panic and that a
// valid input scores within the response scale.
func FuzzValidateScore(f *testing.F) {
	f.Add(uint8(0), true, []byte{1, 4, 1, 3, 0, 0, 1, 4}, 0.25)
	f.Add(uint8(1), true, []byte{3, 0, 3, 1, 3, 2, 3, 3, 3, 4, 3, 5, 3, 6}, 0.5)
	f.Add(uint8(2), false, []byte{2, 9, 2, 200}, -1.0)
	f.Add(uint8(4), true, []byte{2, 3, 2, 73, 2, 100, 0, 0}, 0.0)
	forms := instrument.Builtin().Forms()
	specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), -0.1, 0.05, 3.5, 7.35, 1e300}
	f.Fuzz(func(t *testing.T, which uint8, exact bool, raw []byte, frac float64) {
		form := forms[int(which)%len(forms)]
		s := form.Scale
		n := len(raw) / 2
		if exact {
			n = len(form.Items)
		}
		steps := int(math.Round((s.Max - s.Min) / s.Step))
		answers := make([]*float64, n)
		for i := range answers {
			var c, v byte
			if 2*i+1 < len(raw) {
				c, v = raw[2*i], raw[2*i+1]
			}
			var x float64
			switch c % 4 {
			case 0:
				continue // unanswered
			case 1:
				x = s.Min + float64(v)*s.Step // may overshoot Max
			case 2:
				x = s.Min + float64(int(v)%(steps+1))*s.Step // on the grid
			case 3:
				x = specials[int(v)%len(specials)]
			}
			answers[i] = &x
		}
		p := instrument.Policy{MaxMissingFraction: frac}
		errs := form.Validate(answers)
		scores := form.Score(answers, p)
		_ = form.Keyed(answers)
		if errs != nil {
			return
		}
		all := append([]instrument.Score{scores.Total}, slices.Collect(maps.Values(scores.Subscales))...)
		for _, sc := range all {
			if sc.Answered > sc.Items || (sc.Mean == nil) != (sc.Reason != "") || (sc.Mean == nil) != (sc.Sum == nil) {
				t.Fatalf("inconsistent score %+v", sc)
			}
			if sc.Mean != nil && !(*sc.Mean >= s.Min && *sc.Mean <= s.Max) {
				t.Fatalf("%s: mean %v outside %v..%v for %v", form.ID, *sc.Mean, s.Min, s.Max, answers)
			}
		}
	})
}

// Snap stores what the rater meant: a value within Validate's tolerance of
// a grid point becomes that point, exactly.
func TestSnap(t *testing.T) {
	cat := instrument.Builtin()
	wai, _ := cat.Form("wai_sr_client")
	srs, _ := cat.Form("srs_client")
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		form *instrument.Form
		in   float64
		want float64
	}{
		{wai, 4.9999999999, 5},
		{wai, 1.0000000001, 1},
		{wai, 3, 3},
		{srs, 7.300000000001, 7.3},
		{srs, 0.1 * 3, 0.3},
		{srs, 10, 10},
		{srs, 0, 0},
	}
	for _, tt := range tests {
		ans := make([]*float64, len(tt.form.Items))
		ans[0] = f(tt.in)
		if errs := tt.form.Validate(ans); errs != nil {
			t.Fatalf("Validate(%v) = %v; the case must be valid", tt.in, errs)
		}
		got := tt.form.Snap(ans)
		if *got[0] != tt.want || got[1] != nil {
			t.Errorf("%s.Snap(%v) = %v, want exactly %v (and nil kept)", tt.form.ID, tt.in, *got[0], tt.want)
		}
	}
}

// TestScoreTotalRequiresSubscales checks the per-study policy that a total
// is scored only when every subscale is: the counts behind the total stay,
// the reason names the missing subscale rule, and nothing changes for a
// form without subscales or when every subscale is scorable.
func TestScoreTotalRequiresSubscales(t *testing.T) {
	c := instrument.Builtin()
	strict := instrument.Policy{MaxMissingFraction: 0.25, TotalRequiresSubscales: true}
	tests := []struct {
		name       string
		form       string
		answers    []*float64
		policy     instrument.Policy
		wantMean   *float64 // nil: not scored
		wantReason string
		answered   int
	}{
		{
			// Items 4 and 6 missing: goal (4,6,8,11) loses 2 of 4 and is
			// unscored; the total (10 of 12 answered) would be 4.5 without the rule.
			name: "goal unscored, rule on", form: "wai_sr_client", policy: strict,
			answers:  ans(5, 4, 5, miss, 5, miss, 4, 4, 5, 4, 4, 5),
			wantMean: nil, wantReason: instrument.ReasonSubscaleMissing, answered: 10,
		},
		{
			name: "goal unscored, rule off (the default)", form: "wai_sr_client", policy: instrument.DefaultPolicy(),
			answers:  ans(5, 4, 5, miss, 5, miss, 4, 4, 5, 4, 4, 5),
			wantMean: new(4.5), answered: 10,
		},
		{
			// One missing item in each subscale (item 4 goal, 1 task, 3 bond):
			// every subscale is scorable and 3 of 12 missing is within 25% for
			// the total: 54 − 5 − 5 − 4 = 40 over 9 answered items.
			name: "every subscale scorable", form: "wai_sr_client", policy: strict,
			answers:  ans(miss, 4, miss, miss, 5, 5, 4, 4, 5, 4, 4, 5),
			wantMean: new(40.0 / 9), answered: 9,
		},
		{
			// Too many missing for the total anyway: the older reason stays.
			name: "total already unscored", form: "wai_sr_client", policy: strict,
			answers:  ans(miss, 4, miss, miss, 5, miss, 4, 4, 5, 4, 4, 5),
			wantMean: nil, wantReason: instrument.ReasonTooManyMissing, answered: 8,
		},
		{
			name: "form without subscales", form: "srs_client", policy: strict,
			answers:  ans(7.3, 8.5, 9, 10),
			wantMean: new(8.7), answered: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustForm(t, c, tt.form)
			if errs := f.Validate(tt.answers); errs != nil {
				t.Fatalf("test answers invalid: %v", errs)
			}
			got := f.Score(tt.answers, tt.policy).Total
			switch {
			case tt.wantMean == nil && (got.Mean != nil || got.Sum != nil):
				t.Errorf("total = %v, want not scored", *got.Mean)
			case tt.wantMean != nil && (got.Mean == nil || math.Abs(*got.Mean-*tt.wantMean) > 1e-12):
				t.Errorf("total mean = %v, want %v", got.Mean, *tt.wantMean)
			}
			if got.Reason != tt.wantReason || got.Answered != tt.answered || got.Items != len(f.Items) {
				t.Errorf("reason/answered/items = %q/%d/%d, want %q/%d/%d", got.Reason, got.Answered, got.Items, tt.wantReason, tt.answered, len(f.Items))
			}
		})
	}
}

// TestScoreFormPolicy: a family's own missing-item rule tightens the
// study's policy: prorate "none" scores complete scales only, and
// total_requires_subscales holds whatever the study says.
func TestScoreFormPolicy(t *testing.T) {
	for _, tt := range []struct {
		name   string
		policy map[string]any
		total  bool // scored with item 6 unanswered?
	}{
		{"person mean", map[string]any{"prorate": "person_mean"}, true},
		{"none", map[string]any{"prorate": "none"}, false},
		{"total requires subscales", map[string]any{"total_requires_subscales": true}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := instrument.Empty().With(mustDefinition(t, testDefinition(func(m map[string]any) { m["missing_policy"] = tt.policy })))
			if err != nil {
				t.Fatal(err)
			}
			// Item 6 unanswered: 1 of 6 for the total (within the default
			// 0.25), 1 of the 3 items of "work" (beyond it: floor(0.75) = 0).
			s := mustForm(t, c, "tst_client").Score(ans(7, 1, 7, 7, 1, miss), instrument.DefaultPolicy())
			if (s.Total.Mean != nil) != tt.total || s.Subscales["work"].Mean != nil || s.Subscales["bond"].Mean == nil {
				t.Fatalf("total %+v work %+v bond %+v", s.Total, s.Subscales["work"], s.Subscales["bond"])
			}
			// Items 2 and 5 are reverse-keyed: 1 counts as 7.
			if tt.total && *s.Total.Mean != 7 {
				t.Errorf("total mean = %v, want 7 after reverse keying", *s.Total.Mean)
			}
		})
	}
}

// TestProratedSumRoundsOnce: a prorated sum is sum·k/answered, rounded
// once, so that 37 over 10 of 12 items is the 44.4 an analyst computes,
// not 3.7·12 = 44.400000000000006.
func TestProratedSumRoundsOnce(t *testing.T) {
	f := mustForm(t, instrument.Builtin(), "wai_sr_client")
	got := f.Score(ans(4, 4, 4, 4, 4, 4, 4, 3, 3, 3, miss, miss), instrument.DefaultPolicy()).Total
	if got.Sum == nil || *got.Sum != 44.4 || !got.Prorated {
		t.Errorf("prorated total = %+v (sum %v), want exactly 44.4", got, got.Sum)
	}
}
