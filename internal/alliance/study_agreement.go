package alliance

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/stats"
)

// Cronbach's alpha methods with missing answers (AgreementQuery.Alpha).
const (
	// AlphaPairwise is psych::alpha's default: every covariance on the
	// respondents who answered both items.
	AlphaPairwise = stats.AlphaPairwise
	// AlphaListwise uses complete ratings only.
	AlphaListwise = stats.AlphaListwise
)

// AgreementQuery selects what a study agreement covers. Nil pointers and
// empty strings take the defaults: the first complete session, every scale
// (total and subscales), DefaultBand, DefaultLoAMultiplier, DefaultConf
// and pairwise alpha.
type AgreementQuery struct {
	Session       string
	Scales        []string
	Band          *float64
	LoAMultiplier *float64
	Conf          *float64
	Alpha         string
}

// Krippendorff is Krippendorff's alpha of client vs counsellor for one
// metric: Units pairable units (dyads with both values), N pairable values.
type Krippendorff struct {
	Metric string
	Alpha  float64
	Units  int
	N      int
	DO     float64 // observed disagreement
	DE     float64 // expected disagreement
}

// KrippendorffPair holds the interval and ordinal alphas of one scale or
// item; each is null with a reason (n_too_small below 2 pairable units,
// zero_variance when a single value is used throughout). Units and N are
// the data's, alpha or not.
type KrippendorffPair struct {
	Units, N int
	Interval Figure[Krippendorff]
	Ordinal  Figure[Krippendorff]
}

// MeanDifference is the study-level mean client − counsellor difference
// of a scale twice: with the naive t interval (dyads independent) and with
// the CR1 cluster-robust interval over counsellors (t on G − 1 df).
type MeanDifference struct {
	Clusters      int
	Naive         Figure[MeanCI]
	ClusterRobust Figure[ClusterMean]
}

// ScaleAgreement carries the across-dyad statistics of one scale. Every
// Figure carries its own n inside its value; N is the number of pairs.
type ScaleAgreement struct {
	Scale string
	// N is the number of dyads whose two scores at the selected session
	// are both defined: the pairs every figure below uses.
	N int
	// NIncomplete counts dyads with only one side's rating at the selected
	// session; NScoreMissing counts complete sessions left out because a
	// side's score of this scale is missing (too many unanswered items).
	NIncomplete    int
	NScoreMissing  int
	Client         stats.Summary
	Counsellor     stats.Summary
	Difference     stats.Summary
	MeanDifference MeanDifference
	Pearson        Figure[stats.Correlation]
	Spearman       Figure[stats.Correlation]
	ICC            Figure[stats.ICCTable]
	CCC            Figure[stats.CCCResult]
	BlandAltman    Figure[stats.BAResult]
	Krippendorff   KrippendorffPair
	// Pairs are the N pairs every figure uses, in dyad id order.
	Pairs []ScorePair
	// Direction counts: client − counsellor > Band, < −Band, or within.
	ClientHigher     int
	CounsellorHigher int
	WithinBand       int
}

// ScorePair is one dyad's two scores of a scale (item means) at the
// selected session.
type ScorePair struct {
	DyadID             string
	Client, Counsellor float64
}

// Alpha is Cronbach's alpha as psych::alpha reports it.
type Alpha struct {
	Raw        float64
	Std        float64
	FeldtLower *float64
	FeldtUpper *float64
	// KUsed counts the items used (zero-variance items are dropped, as
	// psych does; DroppedItems lists their keys). MinPairN is the fewest
	// ratings behind one covariance (N for listwise).
	KUsed        int
	MinPairN     int
	DroppedItems []int
}

// RoleAlpha is Cronbach's alpha of one role's form over its ratings at the
// selected session, on keyed items. N is the number of ratings the method
// used (pairwise: ratings with at least one answer; listwise: complete
// ratings) and K the form's items, both given whether or not alpha is
// defined.
type RoleAlpha struct {
	Role     Role
	Form     string
	Method   string
	NRatings int
	N        int
	K        int
	Alpha    Figure[Alpha]
}

// KappaEstimate is one (weighted) kappa with its Fleiss, Cohen & Everitt
// (1969) large-sample variances. The interval Value ± z·SE is clipped to
// [−1, 1] (Clipped says when); it is null from fewer than 3 pairs. Z and P
// test κ = 0 with the null variance.
type KappaEstimate struct {
	Value        float64
	Variance     float64
	SE           float64
	Lower        *float64
	Upper        *float64
	Clipped      bool
	NullVariance float64
	Z            *float64
	P            *float64
}

// Kappas are the three kappas of one item.
type Kappas struct {
	Unweighted KappaEstimate
	Linear     KappaEstimate
	Quadratic  KappaEstimate
}

// ItemKappa is Cohen's kappa for one item across dyads (client vs
// counsellor on the keyed item), over the N dyads where both answered it,
// and Krippendorff's alpha of the same item. Item is the client form's
// key, CounsellorItem the key of its parallel counsellor item.
type ItemKappa struct {
	Item           int
	CounsellorItem int
	N              int
	Kappa          Figure[Kappas]
	Krippendorff   KrippendorffPair
}

// StudyAgreement holds the across-dyad agreement of a study at one session
// per dyad.
type StudyAgreement struct {
	Study         Study
	Selector      SessionSelector
	Band          float64
	LoAMultiplier float64
	Conf          float64
	AlphaMethod   string
	// NDyads counts dyads with any rating at the selected session;
	// NComplete those with both, NIncomplete those with one. NCounsellors
	// counts the counsellors of the complete dyads (the clusters).
	NDyads       int
	NComplete    int
	NIncomplete  int
	NCounsellors int
	Scales       []ScaleAgreement
	Alpha        []RoleAlpha
	// Categories is the category set of the item kappas; nil with
	// KappaReason when the response scale is not integer-stepped.
	Categories  []int
	KappaReason string
	Kappas      []ItemKappa
	Warnings    []Warning
}

// dyadPair is one dyad's two ratings at the selected session.
type dyadPair struct {
	dyad, counsellor  string
	client, counselor *Rating
}

// StudyAgreement computes the across-dyad agreement statistics of a study:
// per scale descriptives, the mean difference with naive and
// cluster-robust intervals, correlations, the six ICCs, Lin's CCC,
// Bland–Altman limits, Krippendorff's alpha and direction counts; once per
// study Cronbach's alpha per role and per item kappas and Krippendorff's
// alpha; and the warnings an analyst should read first. Bad query values
// are a ValidationError naming the query parameter.
func (s *Service) StudyAgreement(ctx context.Context, studyID string, q AgreementQuery) (StudyAgreement, error) {
	out, pairs, w, err := s.studyScales(ctx, studyID, q)
	if err != nil {
		return out, err
	}
	if out.Alpha, err = s.roleAlphas(ctx, out.Study, pairs, out.AlphaMethod, out.Conf, &w); err != nil {
		return out, err
	}
	err = s.itemAgreement(ctx, &out, out.Study, pairs, &w)
	out.Warnings = w
	return out, err
}

// StudyScaleAgreement is the per-scale part of StudyAgreement (the same
// pairs, n, figures and warnings, computed by the same code) without
// Cronbach's alpha and the item-level figures: what a plot needs.
func (s *Service) StudyScaleAgreement(ctx context.Context, studyID string, q AgreementQuery) (StudyAgreement, error) {
	out, _, w, err := s.studyScales(ctx, studyID, q)
	out.Warnings = w
	return out, err
}

// studyScales validates q, reads the study's ratings at the selected
// session and computes the per-scale statistics.
func (s *Service) studyScales(ctx context.Context, studyID string, q AgreementQuery) (StudyAgreement, []dyadPair, warnings, error) {
	out, scales, err := s.agreementSettings(ctx, studyID, q)
	if err != nil {
		return StudyAgreement{}, nil, nil, err
	}
	f, err := s.studyForm(ctx, out.Study)
	if err != nil {
		return StudyAgreement{}, nil, nil, err
	}
	tf, err := s.FindForm(ctx, out.Study.Forms[RoleCounsellor])
	if err != nil {
		return StudyAgreement{}, nil, nil, err
	}
	pairs, err := s.studyPairs(ctx, studyID, out.Selector)
	if err != nil {
		return StudyAgreement{}, nil, nil, err
	}
	out.NDyads = len(pairs)
	clusters := map[string]bool{}
	for _, p := range pairs {
		if p.client != nil && p.counselor != nil {
			out.NComplete++
			clusters[p.counsellor] = true
		}
	}
	out.NIncomplete = out.NDyads - out.NComplete
	out.NCounsellors = len(clusters)
	w := warnings{}
	for _, sc := range scales {
		a, err := scaleAgreement(sc, f, tf, pairs, out, &w)
		if err != nil {
			return out, nil, w, err
		}
		out.Scales = append(out.Scales, a)
	}
	w.fewClusters("", out.NCounsellors)
	return out, pairs, w, nil
}

// agreementSettings checks an agreement query against the study: every
// figure of a study, the JSON report and the plots alike, refuses a bad
// parameter with the same fields and codes. It returns the settings (the
// study, selector, band, multiplier, confidence and alpha method) and the
// scales picked, in the form's order.
func (s *Service) agreementSettings(ctx context.Context, studyID string, q AgreementQuery) (StudyAgreement, []string, error) {
	var fe fieldErrors
	sel, err := ParseSessionSelector("session", q.Session)
	if err != nil {
		fe = append(fe, fieldsOf(err)...)
	}
	out := StudyAgreement{Selector: sel, Band: DefaultBand, LoAMultiplier: DefaultLoAMultiplier, Conf: DefaultConf, AlphaMethod: AlphaPairwise}
	if q.Band != nil {
		out.Band = *q.Band
		if !(out.Band >= 0) || math.IsInf(out.Band, 0) {
			fe.add("band", "out_of_range", "the agreement band must be a finite number ≥ 0 on the item-mean metric")
		}
	}
	if q.LoAMultiplier != nil {
		out.LoAMultiplier = *q.LoAMultiplier
		if !(out.LoAMultiplier > 0 && out.LoAMultiplier <= MaxLoAMultiplier) {
			fe.add("multiplier", "out_of_range", fmt.Sprintf("the limits-of-agreement multiplier must be above 0 and at most %d, e.g. 1.96 or 2", MaxLoAMultiplier))
		}
	}
	if out.Conf, err = parseConf(q.Conf); err != nil {
		fe = append(fe, fieldsOf(err)...)
	}
	switch q.Alpha {
	case "":
	case AlphaPairwise, AlphaListwise:
		out.AlphaMethod = q.Alpha
	default:
		fe.add("alpha", "invalid_value", `must be "pairwise" (psych's default) or "listwise"`)
	}
	st, err := s.FindStudyByID(ctx, studyID)
	if err != nil {
		return StudyAgreement{}, nil, err
	}
	out.Study = st
	f, err := s.studyForm(ctx, st)
	if err != nil {
		return StudyAgreement{}, nil, err
	}
	scales := pickScales(&fe, f, q.Scales)
	if err := fe.err(); err != nil {
		return StudyAgreement{}, nil, err
	}
	return out, scales, nil
}

// pickScales validates the scale query parameter against the form's
// scales; none means all of them.
func pickScales(fe *fieldErrors, f *instrument.Form, asked []string) []string {
	scales := f.Scales()
	if len(asked) == 0 {
		return scales
	}
	var picked []string
	for _, sc := range asked {
		switch {
		case !slices.Contains(scales, sc):
			fe.add("scale", "unknown_scale", fmt.Sprintf("unknown scale %q; this study's scales are %s", sc, strings.Join(scales, ", ")))
		case !slices.Contains(picked, sc):
			picked = append(picked, sc)
		}
	}
	return picked
}

// scope is the validated common part of a one-scale study query: the
// study, its form, one session per dyad, the scale and the confidence level.
type scope struct {
	study Study
	form  *instrument.Form
	sel   SessionSelector
	scale string
	conf  float64
}

// parseScope validates the session, conf and scale parameters of a
// one-scale study query (scale "" is the total) and finds the study and
// its form with pick (studyForm refuses single-role studies). fe holds
// the caller's own field errors, reported together with these.
func (s *Service) parseScope(ctx context.Context, studyID, session string, conf *float64, scale string, fe fieldErrors, pick func(context.Context, Study) (*instrument.Form, error)) (scope, error) {
	var sc scope
	var err error
	if sc.sel, err = ParseSessionSelector("session", session); err != nil {
		fe = append(fe, fieldsOf(err)...)
	}
	if sc.conf, err = parseConf(conf); err != nil {
		fe = append(fe, fieldsOf(err)...)
	}
	if sc.study, err = s.FindStudyByID(ctx, studyID); err != nil {
		return sc, err
	}
	if sc.form, err = pick(ctx, sc.study); err != nil {
		return sc, err
	}
	sc.scale = cmp.Or(scale, ScaleTotal)
	pickScales(&fe, sc.form, []string{sc.scale})
	return sc, fe.err()
}

// studyPairs reads a study's ratings at one session per dyad, paired by
// dyad, with each dyad's counsellor code.
func (s *Service) studyPairs(ctx context.Context, studyID string, sel SessionSelector) ([]dyadPair, error) {
	rs, err := s.store.FindStudyRatings(ctx, studyID, sel)
	if err != nil {
		return nil, fmt.Errorf("study %s ratings: %w", studyID, err)
	}
	codes, err := s.counsellorCodes(ctx, studyID)
	if err != nil {
		return nil, err
	}
	pairs := pairUp(rs)
	for i := range pairs {
		pairs[i].counsellor = codes[pairs[i].dyad]
	}
	return pairs, nil
}

// counsellorCodes maps a study's dyad ids to their counsellor codes.
func (s *Service) counsellorCodes(ctx context.Context, studyID string) (map[string]string, error) {
	codes, err := s.store.FindCounsellorCodes(ctx, studyID)
	if err != nil {
		return nil, fmt.Errorf("study %s counsellors: %w", studyID, err)
	}
	return codes, nil
}

// pairUp groups ratings by dyad, in dyad id order so sums are reproducible.
// It sorts pointers: moving the ratings themselves (200 bytes each) cost
// more than the rest of the grouping.
func pairUp(rs []Rating) []dyadPair {
	byDyad := make([]*Rating, len(rs))
	for i := range rs {
		byDyad[i] = &rs[i]
	}
	slices.SortStableFunc(byDyad, func(a, b *Rating) int { return cmp.Compare(a.DyadID, b.DyadID) })
	pairs := make([]dyadPair, 0, len(rs)/2+1)
	for _, r := range byDyad {
		if len(pairs) == 0 || pairs[len(pairs)-1].dyad != r.DyadID {
			pairs = append(pairs, dyadPair{dyad: r.DyadID})
		}
		p := &pairs[len(pairs)-1]
		switch r.Role {
		case RoleClient:
			p.client = r
		case RoleCounsellor:
			p.counselor = r
		}
	}
	return pairs
}

// scalePairs are the complete pairs of one scale: both scale scores, the
// keyed item answers of the scale behind them and the counsellor codes.
type scalePairs struct {
	dyads        []string
	c, t         []float64
	cItems       ends
	tItems       ends
	counsellors  []string
	nIncomplete  int
	nScoreMissed int
}

// collectScale gathers the complete pairs of one scale; each side's item
// answers are keyed and picked by its own form (cf, tf), whose numbering
// of the scale's items may differ.
func collectScale(scale string, cf, tf *instrument.Form, pairs []dyadPair) scalePairs {
	var sp scalePairs
	cItems, tItems := scaleItems(cf, scale), scaleItems(tf, scale)
	for _, p := range pairs {
		if p.client == nil || p.counselor == nil {
			sp.nIncomplete++
			continue
		}
		cm, tm := p.client.Scores.Of(scale).Mean, p.counselor.Scores.Of(scale).Mean
		if cm == nil || tm == nil {
			sp.nScoreMissed++
			continue
		}
		sp.c, sp.t = append(sp.c, *cm), append(sp.t, *tm)
		sp.dyads = append(sp.dyads, p.dyad)
		sp.counsellors = append(sp.counsellors, p.counsellor)
		countKeyed(&sp.cItems, cf, cItems, p.client.Answers)
		countKeyed(&sp.tItems, tf, tItems, p.counselor.Answers)
	}
	return sp
}

// scaleItems lists the 0-based item positions of a scale.
func scaleItems(f *instrument.Form, scale string) []int {
	var out []int
	for i, it := range f.Items {
		if scale == ScaleTotal || it.Subscale == scale {
			out = append(out, i)
		}
	}
	return out
}

// countKeyed counts the keyed answers of the answered items of f at
// positions idx and those at the response scale's ends.
func countKeyed(e *ends, f *instrument.Form, idx []int, answers []*float64) {
	for _, i := range idx {
		if i < len(answers) && answers[i] != nil {
			e.add(f.KeyedValue(i, *answers[i]), f.Scale.Min, f.Scale.Max)
		}
	}
}

func scaleAgreement(scale string, f, tf *instrument.Form, pairs []dyadPair, q StudyAgreement, w *warnings) (ScaleAgreement, error) {
	sp := collectScale(scale, f, tf, pairs)
	c, t := sp.c, sp.t
	a := ScaleAgreement{Scale: scale, N: len(c), NIncomplete: sp.nIncomplete, NScoreMissing: sp.nScoreMissed,
		Pairs: make([]ScorePair, len(c))}
	d := make([]float64, len(c))
	rows := make([][]float64, len(c))
	cells := make([]float64, 2*len(c))
	units := make([][]float64, len(c))
	for i := range c {
		a.Pairs[i] = ScorePair{DyadID: sp.dyads[i], Client: c[i], Counsellor: t[i]}
		d[i] = c[i] - t[i]
		cells[2*i], cells[2*i+1] = c[i], t[i]
		rows[i] = cells[2*i : 2*i+2 : 2*i+2]
		units[i] = rows[i]
		switch {
		case d[i] > q.Band+bandTolerance:
			a.ClientHigher++
		case d[i] < -q.Band-bandTolerance:
			a.CounsellorHigher++
		default:
			a.WithinBand++
		}
	}
	a.Client, a.Counsellor, a.Difference = stats.Describe(c), stats.Describe(t), stats.Describe(d)
	var errs [9]error
	a.Pearson, errs[0] = correlation(stats.Pearson(c, t, q.Conf))
	a.Spearman, errs[1] = correlation(stats.Spearman(c, t, q.Conf))
	a.ICC, errs[2] = figureOf(stats.ICC(rows, q.Conf))
	a.ICC = withCI(a.ICC, len(c), clearICCBounds)
	// Counsellor as x and client as y, so epiR's location shift (ȳ − x̄)
	// has the sign of client − counsellor like every other figure here.
	a.CCC, errs[3] = figureOf(stats.CCC(t, c, q.Conf))
	if v := a.CCC.Value; v != nil && v.Lower == nil {
		a.CCC.CIReason = stats.ReasonUndefined
	}
	a.BlandAltman, errs[4] = figureOf(stats.BlandAltman(c, t, q.LoAMultiplier, q.Conf))
	a.BlandAltman = withCI(a.BlandAltman, len(c), func(*stats.BAResult) {})
	a.Krippendorff, errs[5] = krippendorffPair(units)
	a.MeanDifference, errs[6] = meanDifference(sp.counsellors, d, q.Conf)
	if err := errors.Join(errs[:]...); err != nil {
		return a, fmt.Errorf("agreement of scale %s: %w", scale, err)
	}
	w.smallN(scale, "pairs of scale scores", a.N, false)
	for _, side := range []scoreSet{
		{who: string(RoleClient), scores: c, items: sp.cItems},
		{who: string(RoleCounsellor), scores: t, items: sp.tItems},
	} {
		side.lo, side.hi, side.itemLo, side.itemHi, side.perItem = f.Scale.Min, f.Scale.Max, f.Scale.Min, f.Scale.Max, 1
		w.scores(scale, side)
	}
	return a, nil
}

// clearICCBounds drops the bounds of every ICC form.
func clearICCBounds(t *stats.ICCTable) {
	for i := range t.Forms {
		t.Forms[i].Lower, t.Forms[i].Upper = nil, nil
	}
}

// correlation is figureOf for a correlation, with the reason its bounds
// are null: fewer than 4 pairs for the Fisher-z interval.
func correlation(r stats.Correlation, err error) (Figure[stats.Correlation], error) {
	f, err := figureOf(r, err)
	if f.Value != nil && f.Value.Lower == nil {
		f.CIReason = stats.ReasonNTooSmall
	}
	return f, err
}

// meanDifference is the mean of the differences d of dyads nested in
// counsellors, with the naive and the cluster-robust interval.
func meanDifference(counsellors []string, d []float64, conf float64) (MeanDifference, error) {
	out := MeanDifference{}
	seen := map[string]bool{}
	for _, c := range counsellors {
		seen[c] = true
	}
	out.Clusters = len(seen)
	var err1, err2 error
	out.Naive, err1 = figureOf(stats.MeanConf(d, conf))
	out.Naive = withCI(out.Naive, len(d), func(m *MeanCI) { m.Lower, m.Upper = 0, 0 })
	out.ClusterRobust, err2 = figureOf(stats.ClusterRobustMean(counsellors, d, conf))
	out.ClusterRobust = withCI(out.ClusterRobust, out.Clusters, func(m *ClusterMean) { m.Lower, m.Upper = 0, 0 })
	return out, errors.Join(err1, err2)
}

// krippendorffPair computes the interval and ordinal alphas of units
// (rows of client and counsellor values, NaN missing).
func krippendorffPair(units [][]float64) (KrippendorffPair, error) {
	var out KrippendorffPair
	for _, m := range []struct {
		dst    *Figure[Krippendorff]
		metric string
	}{{&out.Interval, stats.MetricInterval}, {&out.Ordinal, stats.MetricOrdinal}} {
		r, err := stats.KrippendorffAlpha(units, m.metric)
		out.Units, out.N = r.Units, r.N
		f, err := figureOf(Krippendorff{Metric: r.Metric, Alpha: r.Alpha, Units: r.Units, N: r.N, DO: r.DO, DE: r.DE}, err)
		if err != nil {
			return out, fmt.Errorf("krippendorff %s: %w", m.metric, err)
		}
		if f.Value != nil && f.Value.Units < 2 {
			f = Figure[Krippendorff]{Reason: stats.ReasonNTooSmall}
		}
		*m.dst = f
	}
	return out, nil
}

// roleAlphas computes Cronbach's alpha per role on the keyed items of all
// of that role's ratings at the selected session (complete pairs or not:
// reliability of a form does not need the other side).
func (s *Service) roleAlphas(ctx context.Context, st Study, pairs []dyadPair, method string, conf float64, w *warnings) ([]RoleAlpha, error) {
	var out []RoleAlpha
	for _, role := range Roles {
		f, err := s.FindForm(ctx, st.Forms[role])
		if err != nil {
			return nil, err
		}
		var rows [][]float64
		for _, p := range pairs {
			r := p.client
			if role == RoleCounsellor {
				r = p.counselor
			}
			if r != nil {
				rows = append(rows, keyedRow(f, r.Answers))
			}
		}
		ra, err := roleAlpha(role, f, rows, method, conf)
		if err != nil {
			return nil, err
		}
		w.smallN("", fmt.Sprintf("Cronbach's alpha of the %s form (%s)", role, method), ra.N, ra.Alpha.Reason == stats.ReasonNTooSmall)
		out = append(out, ra)
	}
	return out, nil
}

// roleAlpha is Cronbach's alpha of one role's keyed item rows by method,
// with its Feldt interval at conf.
func roleAlpha(role Role, f *instrument.Form, rows [][]float64, method string, conf float64) (RoleAlpha, error) {
	ra := RoleAlpha{Role: role, Form: f.ID, Method: method, NRatings: len(rows), K: len(f.Items)}
	for _, row := range rows {
		answered, complete := false, true
		for _, v := range row {
			answered = answered || !math.IsNaN(v)
			complete = complete && !math.IsNaN(v)
		}
		if (method == AlphaListwise && complete) || (method == AlphaPairwise && answered) {
			ra.N++
		}
	}
	compute := stats.CronbachAlphaPairwise
	if method == AlphaListwise {
		compute = stats.CronbachAlphaListwise
	}
	r, err := compute(rows)
	al := Alpha{Raw: r.Raw, Std: r.Std, KUsed: r.K, MinPairN: r.MinPairN, DroppedItems: []int{}}
	if err == nil {
		al.FeldtLower, al.FeldtUpper = stats.FeldtInterval(r.Raw, r.N, r.K, conf)
	}
	for _, col := range r.DroppedItems {
		al.DroppedItems = append(al.DroppedItems, f.Items[col].Key)
	}
	if ra.Alpha, err = figureOf(al, err); err != nil {
		return ra, fmt.Errorf("alpha of %s form: %w", role, err)
	}
	return ra, nil
}

// keyedRow is a rating's keyed answers with NaN for unanswered items.
func keyedRow(f *instrument.Form, answers []*float64) []float64 {
	row := make([]float64, len(f.Items))
	for i := range row {
		row[i] = math.NaN()
		if i < len(answers) && answers[i] != nil {
			row[i] = f.KeyedValue(i, *answers[i])
		}
	}
	return row
}

// itemAgreement computes Cohen's kappa (unweighted, linear, quadratic;
// Fleiss–Cohen–Everitt variances) per item across complete dyads, on the
// form's full category set, and Krippendorff's alpha per item, each client
// item against its parallel counsellor item (cf.Pairing). Only
// integer-stepped scales have kappa categories; others get a reason.
func (s *Service) itemAgreement(ctx context.Context, out *StudyAgreement, st Study, pairs []dyadPair, w *warnings) error {
	cf, err := s.FindForm(ctx, st.Forms[RoleClient])
	if err != nil {
		return err
	}
	tf, err := s.FindForm(ctx, st.Forms[RoleCounsellor])
	if err != nil {
		return err
	}
	sc := cf.Scale
	switch {
	case sc.Min != tf.Scale.Min || sc.Max != tf.Scale.Max || sc.Step != tf.Scale.Step:
		out.KappaReason = ReasonScalesDiffer
	case !isInt(sc.Min) || !isInt(sc.Max) || !isInt(sc.Step) || sc.Step < 1:
		out.KappaReason = ReasonNotIntegerScale
	default:
		for v := int(sc.Min); v <= int(sc.Max); v += int(sc.Step) {
			out.Categories = append(out.Categories, v)
		}
	}
	a := make([]int, 0, len(pairs))
	b := make([]int, 0, len(pairs))
	minN := -1
	var clipped []string
	units := make([][]float64, 0, len(pairs))
	cells := make([]float64, 0, 2*len(pairs))
	for i, j := range cf.Pairing(tf) {
		it := cf.Items[i]
		a, b = a[:0], b[:0]
		units, cells = units[:0], cells[:0]
		for _, p := range pairs {
			if j < 0 || p.client == nil || p.counselor == nil || i >= len(p.client.Answers) || j >= len(p.counselor.Answers) {
				continue
			}
			x, y := p.client.Answers[i], p.counselor.Answers[j]
			if x == nil || y == nil {
				continue
			}
			kx, ky := cf.KeyedValue(i, *x), tf.KeyedValue(j, *y)
			a, b = append(a, int(math.Round(kx))), append(b, int(math.Round(ky)))
			cells = append(cells, kx, ky)
			units = append(units, cells[len(cells)-2:len(cells):len(cells)])
		}
		ik := ItemKappa{Item: it.Key, N: len(a)}
		if j >= 0 {
			ik.CounsellorItem = tf.Items[j].Key
		}
		if minN < 0 || ik.N < minN {
			minN = ik.N
		}
		if out.Categories == nil {
			ik.Kappa.Reason = out.KappaReason
		} else if ik.Kappa, err = itemKappas(a, b, out.Categories, out.Conf); err != nil {
			return fmt.Errorf("kappa of item %d: %w", it.Key, err)
		}
		if v := ik.Kappa.Value; v != nil {
			for _, k := range []struct {
				name string
				e    KappaEstimate
			}{{"unweighted", v.Unweighted}, {"linear", v.Linear}, {"quadratic", v.Quadratic}} {
				if k.e.Clipped {
					clipped = append(clipped, fmt.Sprintf("item %d %s", it.Key, k.name))
				}
			}
		}
		if ik.Krippendorff, err = krippendorffPair(units); err != nil {
			return fmt.Errorf("item %d: %w", it.Key, err)
		}
		out.Kappas = append(out.Kappas, ik)
	}
	if minN >= 0 {
		w.smallN("", "item kappas and Krippendorff's alpha (fewest pairs on one item)", minN, false)
	}
	if len(clipped) > 0 {
		w.add(WarnCIClipped, "", "kappa intervals truncated to [-1, 1]: %s", strings.Join(clipped, ", "))
	}
	return nil
}

// itemKappas computes the three kappas of one item with Fleiss, Cohen &
// Everitt (1969) variances; intervals are clipped to [−1, 1] and null from
// fewer than MinNInterval pairs.
func itemKappas(a, b, categories []int, conf float64) (Figure[Kappas], error) {
	r, err := stats.KappaFCE(a, b, categories, conf)
	f, err := figureOf(r, err)
	if err != nil || f.Value == nil {
		return Figure[Kappas]{Reason: f.Reason}, err
	}
	est := func(e stats.KappaFCEEstimate) KappaEstimate {
		k := KappaEstimate{Value: e.Value, Variance: e.Variance, SE: e.ASE, NullVariance: e.NullVariance, Z: e.Z, P: e.P}
		if len(a) >= MinNInterval {
			k.Lower, k.Upper, k.Clipped = clip(e.Lower, e.Upper, -1, 1)
		}
		return k
	}
	out := Figure[Kappas]{Value: &Kappas{Unweighted: est(r.Unweighted), Linear: est(r.Linear), Quadratic: est(r.Quadratic)}}
	if len(a) < MinNInterval {
		out.CIReason = stats.ReasonNTooSmall
	}
	return out, nil
}

func isInt(v float64) bool { return v == math.Trunc(v) && !math.IsInf(v, 0) }

// BlandAltmanCIs are the intervals of a Bland–Altman figure's bias and
// limits of agreement, or nils where it has none (CIReason: fewer than
// MinNInterval pairs). stats gives them as values, which withCI cannot
// clear, so every reader takes them through here: the JSON, the
// dashboard and the plot.
func BlandAltmanCIs(f Figure[stats.BAResult]) (bias, lower, upper *stats.Interval) {
	if f.Value == nil || f.CIReason != "" {
		return nil, nil, nil
	}
	v := f.Value
	return &v.BiasCI, &v.LowerCI, &v.UpperCI
}
