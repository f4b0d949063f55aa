package alliance

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/stats"
)

// Score metrics a summary reports on.
const (
	MetricItemMean = instrument.MetricItemMean
	MetricSum      = instrument.MetricSum
)

// Sources of the reliability behind a reliable change index.
const (
	ReliabilityPublished  = "published"   // the form's published reliability
	ReliabilityStudyAlpha = "study_alpha" // Cronbach's alpha of the study's own first-session ratings
)

// Reasons beside the stats.Reason* codes that summary figures give.
const (
	ReasonNoClinicalCutoff       = "no_clinical_cutoff"
	ReasonNoPublishedReliability = "no_published_reliability"
)

// ClinicalCutoff is a form's published cut-off: scores strictly below
// Value signal a possible concern.
type ClinicalCutoff = instrument.Cutoff

// SummaryQuery selects a study summary: the scale (default total), the
// session of the per-counsellor means (as AgreementQuery's session, per
// role: each dyad's first or last session that role rated, or a number),
// the confidence level, and the reliability of the reliable change index
// ("" takes the form's published reliability when it has one, else the
// study's own alpha; ReliabilityPublished or "study" to choose).
type SummaryQuery struct {
	Session     string
	Scale       string
	Conf        *float64
	Reliability string
}

// Distribution describes one role's scores at one session number.
type Distribution struct {
	Session int
	N       int
	Summary stats.Summary
	// Q1, Median and Q3 are R's quantile(type = 7); nil when N = 0.
	Q1, Median, Q3 *float64
	AtMin, AtMax   int
	// BelowCutoff is the share of scores strictly below the form's
	// clinical cut-off with its Wilson interval; null with reason
	// no_clinical_cutoff when the form has none (or the scale is a subscale).
	BelowCutoff Estimate
}

// ChangeStep is the change of the dyads rated at both session From and
// session To = From + 1: the mean change with its t interval, and how many
// changed reliably up or down by the Jacobson–Truax criterion.
type ChangeStep struct {
	From, To         int
	Change           Estimate
	ReliableIncrease int
	ReliableDecrease int
	NoReliableChange int
}

// ReliableChange is the Jacobson & Truax (1991) yardstick of one role's
// scores and the session-to-session changes measured with it: SD is the
// SD of the scores at session 1 (the baseline sample), the reliability is
// the form's published one or the study's own alpha at session 1 (Source
// says which).
type ReliableChange struct {
	Source          string
	ReliabilityKind string
	Reference       string
	Criterion       Figure[RCICriterion]
	Steps           []ChangeStep
}

// CounsellorMean is the mean score of one counsellor's dyads.
type CounsellorMean struct {
	Code string
	Mean Estimate
}

// RoleSummary is one role's scores in a study.
type RoleSummary struct {
	Role   Role
	Form   string
	Metric string
	// Min and Max bound the metric (item metric, or items × item bounds for sums).
	Min, Max    float64
	Cutoff      *ClinicalCutoff
	Sessions    []Distribution
	Change      Figure[ReliableChange]
	Counsellors []CounsellorMean
}

// StudySummary describes a study's scores role by role; it is what a
// single-role study (the client-only SRS) has instead of agreement.
type StudySummary struct {
	Study    Study
	Selector SessionSelector
	Scale    string
	Conf     float64
	Roles    []RoleSummary
	Warnings []Warning
}

// summaryScore is one rating's score on the summary metric.
type summaryScore struct {
	dyad, counsellor string
	session          int
	score            float64
	missing          bool      // the rating has no score on the scale (too many items missing)
	items            ends      // keyed answers of the scale's items at the item scale's ends
	row              []float64 // keyed answers of the scale's items, NaN unanswered
}

// unscored reports whether s has no score on the scale.
func unscored(s summaryScore) bool { return s.missing }

// StudySummary computes the score distribution per session and role, the
// share below the form's clinical cut-off, session-to-session reliable
// change and per-counsellor means. It serves any study; for a study in
// which only one role rates it carries the single_rater_only warning.
func (s *Service) StudySummary(ctx context.Context, studyID string, q SummaryQuery) (StudySummary, error) {
	var fe fieldErrors
	switch q.Reliability {
	case "", ReliabilityPublished, "study":
	default:
		fe.add("reliability", "invalid_value", `must be "published" (the form's published reliability) or "study" (the study's own alpha at session 1)`)
	}
	sc, err := s.parseScope(ctx, studyID, q.Session, q.Conf, q.Scale, fe, s.exportForm)
	if err != nil {
		return StudySummary{}, err
	}
	st, sel, scale, conf := sc.study, sc.sel, sc.scale, sc.conf
	out := StudySummary{Study: st, Selector: sel, Scale: scale, Conf: conf}
	forms, err := s.studyForms(ctx, st)
	if err != nil {
		return out, err
	}
	byRole := map[Role][]summaryScore{}
	err = s.store.StreamStudyRatings(ctx, studyID, nil, false, func(r ExportRow) error {
		f := forms[r.Rating.Role]
		if f == nil {
			return nil
		}
		sc := scoreOn(f, scale, r.Rating)
		sc.dyad, sc.counsellor, sc.session = r.Rating.DyadID, r.CounsellorCode, r.Rating.Session
		byRole[r.Rating.Role] = append(byRole[r.Rating.Role], sc)
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("study %s ratings: %w", studyID, err)
	}
	w := warnings{}
	if len(forms) == 1 {
		for role := range forms {
			w.add(WarnSingleRaterOnly, "", "only the %s rates in this study: agreement statistics need both sides, so this summary describes the %s's scores alone", role, role)
		}
	}
	for _, role := range Roles {
		if f := forms[role]; f != nil {
			rs, err := roleSummary(role, f, scale, byRole[role], q.Reliability, sel, conf, &w)
			if err != nil {
				return out, err
			}
			out.Roles = append(out.Roles, rs)
		}
	}
	out.Warnings = w
	return out, nil
}

// summaryMetric is the metric a scale is summarised on: the metric of the
// form's clinical cut-off for the total, the item mean otherwise, with its
// bounds and the number of items a score SD is divided by for the item
// metric.
func summaryMetric(f *instrument.Form, scale string) (metric string, lo, hi, perItem float64, cutoff *ClinicalCutoff) {
	k := float64(len(scaleItems(f, scale)))
	if c := f.ClinicalCutoff; c != nil && scale == ScaleTotal {
		if c.Metric == MetricSum {
			return MetricSum, f.Scale.Min * k, f.Scale.Max * k, k, c
		}
		return MetricItemMean, f.Scale.Min, f.Scale.Max, 1, c
	}
	return MetricItemMean, f.Scale.Min, f.Scale.Max, 1, nil
}

// scoreOn is a rating's score of scale on the summary metric, with its
// keyed items; missing when the rating has no score on the scale.
func scoreOn(f *instrument.Form, scale string, r Rating) summaryScore {
	metric, _, _, _, _ := summaryMetric(f, scale)
	sc := r.Scores.Of(scale)
	v := sc.Mean
	if metric == MetricSum {
		v = sc.Sum
	}
	idx := scaleItems(f, scale)
	out := summaryScore{missing: v == nil, row: make([]float64, len(idx))}
	if v != nil {
		out.score = *v
	}
	for k, i := range idx {
		out.row[k] = math.NaN()
		if i < len(r.Answers) && r.Answers[i] != nil {
			kv := f.KeyedValue(i, *r.Answers[i])
			out.row[k] = kv
			out.items.add(kv, f.Scale.Min, f.Scale.Max)
		}
	}
	return out
}

// roleSummary summarises one role's ratings of the scale, scored or not:
// the distributions and changes are of the scores; the session-1 alpha
// is of every session-1 rating's items; a dyad's first or last session is
// the first or last it was rated at, and a dyad whose rating there has no
// score counts in no counsellor's mean (as in the study agreement).
func roleSummary(role Role, f *instrument.Form, scale string, scores []summaryScore, reliability string, sel SessionSelector, conf float64, w *warnings) (RoleSummary, error) {
	metric, lo, hi, perItem, cutoff := summaryMetric(f, scale)
	out := RoleSummary{Role: role, Form: f.ID, Metric: metric, Min: lo, Max: hi, Cutoff: cutoff, Sessions: []Distribution{}, Counsellors: []CounsellorMean{}}
	slices.SortFunc(scores, func(a, b summaryScore) int {
		return cmp.Or(cmp.Compare(a.session, b.session), cmp.Compare(a.dyad, b.dyad))
	})
	rated := scores
	scores = slices.DeleteFunc(slices.Clone(rated), unscored)
	var small []string
	for i := 0; i < len(scores); {
		j := i
		for j < len(scores) && scores[j].session == scores[i].session {
			j++
		}
		d, err := distribution(scores[i:j], cutoff, lo, hi, conf)
		if err != nil {
			return out, fmt.Errorf("%s scores at session %d: %w", role, scores[i].session, err)
		}
		out.Sessions = append(out.Sessions, d)
		var items ends
		for _, s := range scores[i:j] {
			items.n, items.atLo, items.atHi = items.n+s.items.n, items.atLo+s.items.atLo, items.atHi+s.items.atHi
		}
		w.scores(scale, scoreSet{who: fmt.Sprintf("%s at session %d", role, d.Session), scores: values(scores[i:j]),
			lo: lo, hi: hi, items: items, itemLo: f.Scale.Min, itemHi: f.Scale.Max, perItem: perItem})
		if d.N < SmallN {
			small = append(small, fmt.Sprintf("%d (n = %d)", d.Session, d.N))
		}
		i = j
	}
	if len(small) > 0 {
		w.add(WarnSmallN, scale, "%s: sessions with fewer than %d scores: %s; shares and means there are unstable, and intervals need %d", role, SmallN, joinCodes(small), MinNInterval)
	}
	var err error
	if out.Change, err = reliableChange(f, scale, rated, scores, reliability, lo, hi, conf); err != nil {
		return out, err
	}
	out.Counsellors, err = counsellorMeans(slices.DeleteFunc(selectSessions(rated, sel), unscored), conf, lo, hi, role, w)
	return out, err
}

func values(ss []summaryScore) []float64 {
	out := make([]float64, len(ss))
	for i, s := range ss {
		out[i] = s.score
	}
	return out
}

// distribution describes the scores of one session.
func distribution(ss []summaryScore, cutoff *ClinicalCutoff, lo, hi, conf float64) (Distribution, error) {
	x := values(ss)
	d := Distribution{Session: ss[0].session, N: len(x), Summary: stats.Describe(x)}
	q := func(p float64) *float64 {
		v, err := stats.Quantile(x, p)
		if err != nil {
			return nil
		}
		return &v
	}
	d.Q1, d.Median, d.Q3 = q(0.25), q(0.5), q(0.75)
	fc, err := stats.FloorCeilingShares(x, lo, hi)
	if err != nil {
		return d, err
	}
	d.AtMin, d.AtMax = fc.AtMin, fc.AtMax
	if cutoff == nil {
		d.BelowCutoff = Estimate{N: len(x), Reason: ReasonNoClinicalCutoff}
		return d, nil
	}
	below := 0
	for _, v := range x {
		if belowCutoff(v, cutoff.Value) {
			below++
		}
	}
	d.BelowCutoff, err = shareEstimate(below, len(x), conf)
	return d, err
}

// reliableChange measures session-to-session change against the
// Jacobson–Truax criterion. rated are the role's ratings, scored or not,
// and scores those of them with a score: the study's alpha is of every
// session-1 rating's items, as psych::alpha of those rows; the SD and the
// changes are of the scores.
func reliableChange(f *instrument.Form, scale string, rated, scores []summaryScore, reliability string, lo, hi, conf float64) (Figure[ReliableChange], error) {
	rc := ReliableChange{Steps: []ChangeStep{}}
	notFirst := func(s summaryScore) bool { return s.session != 1 }
	firstRated := slices.DeleteFunc(slices.Clone(rated), notFirst)
	first := slices.DeleteFunc(slices.Clone(scores), notFirst)
	var rel float64
	switch pub := f.Reliability; {
	case reliability != "study" && pub != nil && scale == ScaleTotal:
		rc.Source, rc.ReliabilityKind, rc.Reference, rel = ReliabilityPublished, pub.Kind, pub.Source, pub.Value
	case reliability == ReliabilityPublished:
		return Figure[ReliableChange]{Reason: ReasonNoPublishedReliability}, nil
	default:
		rows := make([][]float64, len(firstRated))
		for i, s := range firstRated {
			rows[i] = s.row
		}
		a, err := figureOf(stats.CronbachAlphaPairwise(rows))
		if err != nil {
			return Figure[ReliableChange]{}, fmt.Errorf("alpha at session 1: %w", err)
		}
		if a.Value == nil {
			return Figure[ReliableChange]{Reason: a.Reason}, nil
		}
		rc.Source, rc.ReliabilityKind, rc.Reference, rel = ReliabilityStudyAlpha, "cronbach_alpha", "psych::alpha of the session-1 ratings (pairwise)", a.Value.Raw
	}
	if len(first) < MinNInterval {
		return Figure[ReliableChange]{Reason: stats.ReasonNTooSmall}, nil
	}
	sd := stats.Describe(values(first)).SD
	crit, err := figureOf(stats.ReliableChangeCriterion(*sd, math.Max(0, math.Min(1, rel))))
	if errors.Is(err, stats.ErrInvalidArgument) { // an SD of 0: no baseline spread
		return Figure[ReliableChange]{Reason: stats.ReasonZeroVariance}, nil
	}
	if err != nil {
		return Figure[ReliableChange]{}, err
	}
	rc.Criterion = crit
	if crit.Value == nil {
		return Figure[ReliableChange]{Value: &rc}, nil
	}
	at := map[[2]any]float64{}
	last := 0
	for _, s := range scores {
		at[[2]any{s.dyad, s.session}] = s.score
		last = max(last, s.session)
	}
	for to := 2; to <= last; to++ {
		step := ChangeStep{From: to - 1, To: to}
		var ch []float64
		for _, s := range scores {
			if s.session != to {
				continue
			}
			prev, ok := at[[2]any{s.dyad, to - 1}]
			if !ok {
				continue
			}
			c := s.score - prev
			ch = append(ch, c)
			switch r := c / crit.Value.SDiff; {
			case r > stats.JacobsonTruaxZ:
				step.ReliableIncrease++
			case r < -stats.JacobsonTruaxZ:
				step.ReliableDecrease++
			default:
				step.NoReliableChange++
			}
		}
		if step.Change, err = meanEstimate(ch, conf, lo-hi, hi-lo); err != nil {
			return Figure[ReliableChange]{}, err
		}
		rc.Steps = append(rc.Steps, step)
	}
	return Figure[ReliableChange]{Value: &rc}, nil
}

// selectSessions keeps one rating per dyad: session sel.Number, or each
// dyad's first or last rated session. scores are ordered by session.
func selectSessions(scores []summaryScore, sel SessionSelector) []summaryScore {
	pick := map[string]summaryScore{}
	for _, s := range scores {
		old, seen := pick[s.dyad]
		switch {
		case sel.Number > 0:
			if s.session == sel.Number {
				pick[s.dyad] = s
			}
		case !seen, sel.Last && s.session > old.session:
			pick[s.dyad] = s
		}
	}
	out := make([]summaryScore, 0, len(pick))
	for _, s := range pick {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b summaryScore) int { return cmp.Compare(a.dyad, b.dyad) })
	return out
}

// counsellorMeans is each counsellor's mean score, in code order.
func counsellorMeans(scores []summaryScore, conf, lo, hi float64, role Role, w *warnings) ([]CounsellorMean, error) {
	by := map[string][]float64{}
	for _, s := range scores {
		by[s.counsellor] = append(by[s.counsellor], s.score)
	}
	codes := make([]string, 0, len(by))
	for c := range by {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	out := make([]CounsellorMean, 0, len(codes))
	var clipped []string
	for _, c := range codes {
		m, err := meanEstimate(by[c], conf, lo, hi)
		if err != nil {
			return nil, fmt.Errorf("counsellor %s: %w", c, err)
		}
		if m.Clipped {
			clipped = append(clipped, c)
		}
		out = append(out, CounsellorMean{Code: c, Mean: m})
	}
	if len(clipped) > 0 {
		w.add(WarnCIClipped, "", "%s: intervals of the mean truncated to the metric's range for counsellors %s", role, joinCodes(clipped))
	}
	return out, nil
}
