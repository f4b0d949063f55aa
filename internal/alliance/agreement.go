package alliance

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/stats"
)

// Defaults of a study agreement query.
const (
	// DefaultBand is the half-width, on the item-mean metric, within which
	// a client and a counsellor score count as agreeing.
	DefaultBand = 0.5
	// DefaultLoAMultiplier gives 95% Bland–Altman limits of agreement.
	DefaultLoAMultiplier = 1.96
	// DefaultConf is the confidence level of every interval.
	DefaultConf = 0.95
	// ScaleTotal names the whole-form score beside the subscale keys.
	ScaleTotal = instrument.ScaleTotal
	// bandTolerance absorbs float rounding in |client − counsellor| ≤ band,
	// so that 4.25 − 3.75 counts as within a band of 0.5.
	bandTolerance = 1e-9
)

// Reasons an agreement figure has no value, beside the stats.Reason* codes.
const (
	ReasonClientMissing     = "client_rating_missing"
	ReasonCounsellorMissing = "counsellor_rating_missing"
	ReasonScoreMissing      = "score_missing"
	ReasonNotIntegerScale   = "scale_not_integer_stepped"
	ReasonScalesDiffer      = "response_scales_differ"
)

// The statistics' results, as the domain reports them.
type (
	Summary       = stats.Summary
	Correlation   = stats.Correlation
	ICCTable      = stats.ICCTable
	CCCResult     = stats.CCCResult
	BAResult      = stats.BAResult
	LinearFit     = stats.LinearFit
	ProfileResult = stats.ProfileResult
	AlphaResult   = stats.AlphaResult
	KappaResult   = stats.KappaResult
)

// Figure is a statistic that may be undefined for the data: Value is nil
// and Reason says why (a stats.Reason* code such as "n_too_small").
type Figure[T any] struct {
	Value  *T
	Reason string
}

// figureOf turns a stats result into a Figure; only a *stats.Undefined
// becomes a reason, any other error is a bug and is returned.
func figureOf[T any](v T, err error) (Figure[T], error) {
	if err == nil {
		return Figure[T]{Value: &v}, nil
	}
	var u *stats.Undefined
	if errors.As(err, &u) {
		return Figure[T]{Reason: u.Reason}, nil
	}
	return Figure[T]{}, err
}

// ScaleDifference compares one scale of one session on the item-mean
// metric: client − counsellor, positive when the client rates higher (the
// usual direction in the literature). Difference is nil with a Reason when
// a side did not rate or its score is missing (too many unanswered items).
// Every client − counsellor figure of a session, its export column
// included, is computed by scaleDifference.
type ScaleDifference struct {
	Scale         string
	Client        *float64
	Counsellor    *float64
	Difference    *float64
	AbsDifference *float64
	Reason        string
}

// ItemPair is one item of a session on the keyed metric (reverse-keyed
// items already reflected); nil means unanswered.
type ItemPair struct {
	Item       int
	Client     *float64
	Counsellor *float64
	Difference *float64
}

// ItemAgreement is the within-dyad, item-level agreement of one session
// over the KBoth items both sides answered.
type ItemAgreement struct {
	KItems   int
	KBoth    int
	ScaleMin float64
	ScaleMax float64
	Items    []ItemPair
	// Profile holds mean absolute item difference, D, D², the Cronbach–Gleser
	// split, profile r (nil with its own reason) and rwg(J).
	Profile Figure[stats.ProfileResult]
	// ICC is the within-dyad table with items as targets and the two roles
	// as raters; unstable with ceiling effects, shown for completeness.
	ICC Figure[stats.ICCTable]
}

// SessionAgreement is the agreement of one complete dyad session.
type SessionAgreement struct {
	Dyad           Dyad
	Session        int
	ClientForm     string
	CounsellorForm string
	Scales         []ScaleDifference
	Items          ItemAgreement
}

// SessionAgreement compares both current ratings of one dyad session. A
// session nobody rated is ErrNotFound; a session only one side rated is a
// ValidationError on "session" whose code names the missing side
// (client_rating_missing or counsellor_rating_missing).
func (s *Service) SessionAgreement(ctx context.Context, dyadID string, session int) (SessionAgreement, error) {
	ses, err := s.FindSession(ctx, dyadID, session)
	if err != nil {
		return SessionAgreement{}, err
	}
	switch {
	case ses.Client == nil && ses.Counsellor == nil:
		return SessionAgreement{}, fmt.Errorf("session %d of dyad %s has no ratings: %w", session, dyadID, ErrNotFound)
	case ses.Client == nil:
		return SessionAgreement{}, invalid("session", ReasonClientMissing,
			fmt.Sprintf("session %d has a counsellor rating but no client rating yet; agreement needs both", session))
	case ses.Counsellor == nil:
		return SessionAgreement{}, invalid("session", ReasonCounsellorMissing,
			fmt.Sprintf("session %d has a client rating but no counsellor rating yet; agreement needs both", session))
	}
	cf, err := s.FindForm(ses.Client.FormID)
	if err != nil {
		return SessionAgreement{}, err
	}
	tf, err := s.FindForm(ses.Counsellor.FormID)
	if err != nil {
		return SessionAgreement{}, err
	}
	out := SessionAgreement{Dyad: ses.Dyad, Session: session, ClientForm: cf.ID, CounsellorForm: tf.ID, Scales: ses.Differences}
	out.Items, err = itemAgreement(cf, tf, ses.Client.Answers, ses.Counsellor.Answers)
	return out, err
}

func scaleDifference(scale string, c, t *Rating) ScaleDifference {
	var cm, tm *float64
	if c != nil {
		cm = c.Scores.Of(scale).Mean
	}
	if t != nil {
		tm = t.Scores.Of(scale).Mean
	}
	return meanDifference(scale, c != nil, t != nil, cm, tm)
}

// meanDifference is scaleDifference on the means themselves, for reads
// that fetch one scale's means without whole ratings; clientRated and
// counsellorRated say whether each side has a rating at all.
func meanDifference(scale string, clientRated, counsellorRated bool, cm, tm *float64) ScaleDifference {
	d := ScaleDifference{Scale: scale, Client: cm, Counsellor: tm}
	switch {
	case !clientRated:
		d.Reason = ReasonClientMissing
	case !counsellorRated:
		d.Reason = ReasonCounsellorMissing
	case d.Client == nil || d.Counsellor == nil:
		d.Reason = ReasonScoreMissing
	default:
		v := *d.Client - *d.Counsellor
		a := math.Abs(v)
		d.Difference, d.AbsDifference = &v, &a
	}
	return d
}

// itemAgreement pairs keyed item i of the client with keyed item i of the
// counsellor and computes the profile indices over items both answered.
func itemAgreement(cf, tf *instrument.Form, ca, ta []*float64) (ItemAgreement, error) {
	ck, tk := cf.Keyed(ca), tf.Keyed(ta)
	out := ItemAgreement{KItems: len(cf.Items), ScaleMin: cf.Scale.Min, ScaleMax: cf.Scale.Max}
	var c, t []float64
	var rows [][]float64
	for i, it := range cf.Items {
		p := ItemPair{Item: it.Key}
		if i < len(ck) {
			p.Client = ck[i]
		}
		if i < len(tk) {
			p.Counsellor = tk[i]
		}
		if p.Client != nil && p.Counsellor != nil {
			d := *p.Client - *p.Counsellor
			p.Difference = &d
			c, t = append(c, *p.Client), append(t, *p.Counsellor)
			rows = append(rows, []float64{*p.Client, *p.Counsellor})
		}
		out.Items = append(out.Items, p)
	}
	out.KBoth = len(c)
	if cf.Scale.Min != tf.Scale.Min || cf.Scale.Max != tf.Scale.Max {
		out.Profile.Reason, out.ICC.Reason = ReasonScalesDiffer, ReasonScalesDiffer
		return out, nil
	}
	var err error
	if out.Profile, err = figureOf(stats.Profile(c, t, cf.Scale.Min, cf.Scale.Max)); err != nil {
		return out, fmt.Errorf("profile agreement: %w", err)
	}
	if out.ICC, err = figureOf(stats.ICC(rows, DefaultConf)); err != nil {
		return out, fmt.Errorf("within-dyad ICC: %w", err)
	}
	return out, nil
}

// SessionTrajectory is one session of a dyad's course: each role's scale
// means and their difference. Incomplete sessions are listed (Missing names
// the side that has not rated) but not used for slopes.
type SessionTrajectory struct {
	Session  int
	Complete bool
	Missing  Role
	Scales   []ScaleDifference
}

// ScaleSlope is the OLS slope of client − counsellor over session number
// for one scale: negative when a positive gap closes (convergence). N is
// the number of sessions with a defined difference.
type ScaleSlope struct {
	Scale string
	N     int
	Fit   Figure[stats.LinearFit]
}

// DyadAgreement is a dyad's agreement trajectory over its sessions.
type DyadAgreement struct {
	Dyad        Dyad
	Scales      []string
	Sessions    []SessionTrajectory
	NComplete   int
	NIncomplete int
	Slopes      []ScaleSlope
}

// DyadAgreement returns, per rated session, each role's total and subscale
// means and the difference, and per scale the slope of the difference over
// session number, from complete sessions only.
func (s *Service) DyadAgreement(ctx context.Context, dyadID string) (DyadAgreement, error) {
	d, err := s.FindDyadByID(ctx, dyadID)
	if err != nil {
		return DyadAgreement{}, err
	}
	st, err := s.FindStudyByID(ctx, d.StudyID)
	if err != nil {
		return DyadAgreement{}, err
	}
	f, err := s.studyForm(st)
	if err != nil {
		return DyadAgreement{}, err
	}
	rs, err := s.store.FindRatings(ctx, dyadID, 0)
	if err != nil {
		return DyadAgreement{}, err
	}
	out := DyadAgreement{Dyad: d, Scales: f.Scales(), Sessions: []SessionTrajectory{}}
	for i := 0; i < len(rs); {
		j := i
		var c, t *Rating
		for ; j < len(rs) && rs[j].Session == rs[i].Session; j++ {
			switch rs[j].Role {
			case RoleClient:
				c = &rs[j]
			case RoleCounsellor:
				t = &rs[j]
			}
		}
		tr := SessionTrajectory{Session: rs[i].Session, Complete: c != nil && t != nil}
		switch {
		case c == nil:
			tr.Missing = RoleClient
		case t == nil:
			tr.Missing = RoleCounsellor
		}
		for _, sc := range out.Scales {
			tr.Scales = append(tr.Scales, scaleDifference(sc, c, t))
		}
		if tr.Complete {
			out.NComplete++
		} else {
			out.NIncomplete++
		}
		out.Sessions = append(out.Sessions, tr)
		i = j
	}
	for k, sc := range out.Scales {
		var x, y []float64
		for _, tr := range out.Sessions {
			if v := tr.Scales[k].Difference; v != nil {
				x, y = append(x, float64(tr.Session)), append(y, *v)
			}
		}
		fit, err := figureOf(stats.Slope(x, y))
		if err != nil {
			return out, fmt.Errorf("slope of %s: %w", sc, err)
		}
		out.Slopes = append(out.Slopes, ScaleSlope{Scale: sc, N: len(x), Fit: fit})
	}
	return out, nil
}

// studyForm is the form whose scales and items agreement is reported on:
// the client's, which is parallel to the counsellor's. A study where only
// one role rates has nothing to compare.
func (s *Service) studyForm(st Study) (*instrument.Form, error) {
	cid, okC := st.Forms[RoleClient]
	_, okT := st.Forms[RoleCounsellor]
	if !okC || !okT {
		return nil, invalid("id", "single_role_study", "agreement needs a study in which both the client and the counsellor rate")
	}
	return s.FindForm(cid)
}

// SessionSelector picks one session per dyad: a fixed Number, or (Number
// 0) each dyad's first or last complete session.
type SessionSelector struct {
	Number int
	Last   bool
}

// String is the selector as the query parameter spells it.
func (sel SessionSelector) String() string {
	switch {
	case sel.Number > 0:
		return strconv.Itoa(sel.Number)
	case sel.Last:
		return "last"
	}
	return "first"
}

// ParseSessionSelector reads "first", "last" or a session number; empty
// means first.
func ParseSessionSelector(field, s string) (SessionSelector, error) {
	switch strings.TrimSpace(s) {
	case "", "first":
		return SessionSelector{}, nil
	case "last":
		return SessionSelector{Last: true}, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > MaxSession {
		return SessionSelector{}, invalid(field, "invalid_value",
			fmt.Sprintf(`must be "first", "last" or a session number from 1 to %d`, MaxSession))
	}
	return SessionSelector{Number: n}, nil
}

// AgreementQuery selects what a study agreement covers. Nil pointers and
// an empty Session or Scales take the defaults: the first complete session,
// every scale (total and subscales), DefaultBand, DefaultLoAMultiplier and
// DefaultConf.
type AgreementQuery struct {
	Session       string
	Scales        []string
	Band          *float64
	LoAMultiplier *float64
	Conf          *float64
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
	NIncomplete   int
	NScoreMissing int
	Client        stats.Summary
	Counsellor    stats.Summary
	Difference    stats.Summary
	// Pairs are the N pairs every figure uses, in dyad id order.
	Pairs       []ScorePair
	Pearson     Figure[stats.Correlation]
	Spearman    Figure[stats.Correlation]
	ICC         Figure[stats.ICCTable]
	CCC         Figure[stats.CCCResult]
	BlandAltman Figure[stats.BAResult]
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

// RoleAlpha is Cronbach's alpha of one role's form over its ratings at the
// selected session (complete cases on keyed items).
type RoleAlpha struct {
	Role     Role
	Form     string
	NRatings int
	Alpha    Figure[stats.AlphaResult]
}

// ItemKappa is Cohen's kappa for one item across dyads (client vs
// counsellor on the keyed item), over dyads where both answered it.
type ItemKappa struct {
	Item  int
	N     int
	Kappa Figure[stats.KappaResult]
}

// StudyAgreement holds the across-dyad agreement of a study at one session
// per dyad.
type StudyAgreement struct {
	Study         Study
	Selector      SessionSelector
	Band          float64
	LoAMultiplier float64
	Conf          float64
	// NDyads counts dyads with any rating at the selected session;
	// NComplete those with both, NIncomplete those with one.
	NDyads      int
	NComplete   int
	NIncomplete int
	Scales      []ScaleAgreement
	Alpha       []RoleAlpha
	// Categories is the category set of the item kappas; nil with
	// KappaReason when the response scale is not integer-stepped.
	Categories  []int
	KappaReason string
	Kappas      []ItemKappa
}

// dyadPair is one dyad's two ratings at the selected session.
type dyadPair struct {
	dyad              string
	client, counselor *Rating
}

// StudyAgreement computes the across-dyad agreement statistics of a study:
// per scale descriptives, correlations, the six ICCs, Lin's CCC,
// Bland–Altman limits and direction counts; once per study Cronbach's alpha
// per role and item-level kappas. Bad query values are a ValidationError
// naming the query parameter.
func (s *Service) StudyAgreement(ctx context.Context, studyID string, q AgreementQuery) (StudyAgreement, error) {
	out, pairs, err := s.studyScales(ctx, studyID, q)
	if err != nil {
		return out, err
	}
	if out.Alpha, err = s.roleAlphas(out.Study, pairs); err != nil {
		return out, err
	}
	return out, s.itemKappas(&out, out.Study, pairs)
}

// StudyScaleAgreement is the per-scale part of StudyAgreement (the same
// pairs, n and figures, computed by the same code) without Cronbach's
// alpha and the item kappas: what a figure of the agreement needs.
func (s *Service) StudyScaleAgreement(ctx context.Context, studyID string, q AgreementQuery) (StudyAgreement, error) {
	out, _, err := s.studyScales(ctx, studyID, q)
	return out, err
}

// studyScales validates q, reads the study's ratings at the selected
// session and computes the per-scale statistics.
func (s *Service) studyScales(ctx context.Context, studyID string, q AgreementQuery) (StudyAgreement, []dyadPair, error) {
	out, scales, err := s.agreementSettings(ctx, studyID, q)
	if err != nil {
		return StudyAgreement{}, nil, err
	}
	rs, err := s.store.FindStudyRatings(ctx, studyID, out.Selector)
	if err != nil {
		return StudyAgreement{}, nil, fmt.Errorf("study %s ratings: %w", studyID, err)
	}
	pairs := pairUp(rs)
	out.NDyads = len(pairs)
	for _, p := range pairs {
		if p.client != nil && p.counselor != nil {
			out.NComplete++
		}
	}
	out.NIncomplete = out.NDyads - out.NComplete
	for _, sc := range scales {
		a, err := scaleAgreement(sc, pairs, out)
		if err != nil {
			return out, nil, err
		}
		out.Scales = append(out.Scales, a)
	}
	return out, pairs, nil
}

// agreementSettings checks an agreement query against the study: every
// figure of a study, the JSON report and the plots alike, refuses a bad
// parameter with the same fields and codes. It returns the settings (the
// study, selector, band, multiplier and confidence) and the scales picked,
// in the form's order.
func (s *Service) agreementSettings(ctx context.Context, studyID string, q AgreementQuery) (StudyAgreement, []string, error) {
	var fe fieldErrors
	sel, err := ParseSessionSelector("session", q.Session)
	if err != nil {
		fe = append(fe, fieldsOf(err)...)
	}
	out := StudyAgreement{Selector: sel, Band: DefaultBand, LoAMultiplier: DefaultLoAMultiplier, Conf: DefaultConf}
	if q.Band != nil {
		out.Band = *q.Band
		if !(out.Band >= 0) || math.IsInf(out.Band, 0) {
			fe.add("band", "out_of_range", "the agreement band must be a finite number ≥ 0 on the item-mean metric")
		}
	}
	if q.LoAMultiplier != nil {
		out.LoAMultiplier = *q.LoAMultiplier
		if !(out.LoAMultiplier > 0) || math.IsInf(out.LoAMultiplier, 0) {
			fe.add("multiplier", "out_of_range", "the limits-of-agreement multiplier must be a finite number > 0, e.g. 1.96 or 2")
		}
	}
	if q.Conf != nil {
		out.Conf = *q.Conf
		if !(out.Conf > 0 && out.Conf < 1) {
			fe.add("conf", "out_of_range", "the confidence level must lie strictly between 0 and 1, e.g. 0.95")
		}
	}
	st, err := s.FindStudyByID(ctx, studyID)
	if err != nil {
		return StudyAgreement{}, nil, err
	}
	out.Study = st
	f, err := s.studyForm(st)
	if err != nil {
		return StudyAgreement{}, nil, err
	}
	scales := f.Scales()
	if len(q.Scales) > 0 {
		var picked []string
		for _, sc := range q.Scales {
			switch {
			case !slices.Contains(scales, sc):
				fe.add("scale", "unknown_scale", fmt.Sprintf("unknown scale %q; this study's scales are %s", sc, strings.Join(scales, ", ")))
			case !slices.Contains(picked, sc):
				picked = append(picked, sc)
			}
		}
		scales = picked
	}
	if err := fe.err(); err != nil {
		return StudyAgreement{}, nil, err
	}
	return out, scales, nil
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

func scaleAgreement(scale string, pairs []dyadPair, q StudyAgreement) (ScaleAgreement, error) {
	a := ScaleAgreement{Scale: scale, Pairs: make([]ScorePair, 0, len(pairs))}
	c := make([]float64, 0, len(pairs))
	t := make([]float64, 0, len(pairs))
	for _, p := range pairs {
		if p.client == nil || p.counselor == nil {
			a.NIncomplete++
			continue
		}
		cm, tm := p.client.Scores.Of(scale).Mean, p.counselor.Scores.Of(scale).Mean
		if cm == nil || tm == nil {
			a.NScoreMissing++
			continue
		}
		c, t = append(c, *cm), append(t, *tm)
		a.Pairs = append(a.Pairs, ScorePair{DyadID: p.dyad, Client: *cm, Counsellor: *tm})
	}
	a.N = len(c)
	d := make([]float64, len(c))
	rows := make([][]float64, len(c))
	cells := make([]float64, 2*len(c))
	for i := range c {
		d[i] = c[i] - t[i]
		cells[2*i], cells[2*i+1] = c[i], t[i]
		rows[i] = cells[2*i : 2*i+2 : 2*i+2]
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
	var errs [5]error
	a.Pearson, errs[0] = figureOf(stats.Pearson(c, t, q.Conf))
	a.Spearman, errs[1] = figureOf(stats.Spearman(c, t, q.Conf))
	a.ICC, errs[2] = figureOf(stats.ICC(rows, q.Conf))
	// Counsellor as x and client as y, so epiR's location shift (ȳ − x̄)
	// has the sign of client − counsellor like every other figure here.
	a.CCC, errs[3] = figureOf(stats.CCC(t, c, q.Conf))
	a.BlandAltman, errs[4] = figureOf(stats.BlandAltman(c, t, q.LoAMultiplier, q.Conf))
	if err := errors.Join(errs[:]...); err != nil {
		return a, fmt.Errorf("agreement of scale %s: %w", scale, err)
	}
	return a, nil
}

// roleAlphas computes Cronbach's alpha per role on the keyed items of all
// of that role's ratings at the selected session (complete pairs or not:
// reliability of a form does not need the other side).
func (s *Service) roleAlphas(st Study, pairs []dyadPair) ([]RoleAlpha, error) {
	var out []RoleAlpha
	for _, role := range Roles {
		f, err := s.FindForm(st.Forms[role])
		if err != nil {
			return nil, err
		}
		ra := RoleAlpha{Role: role, Form: f.ID}
		var rows [][]float64
		for _, p := range pairs {
			r := p.client
			if role == RoleCounsellor {
				r = p.counselor
			}
			if r == nil {
				continue
			}
			rows = append(rows, keyedRow(f, r.Answers))
		}
		ra.NRatings = len(rows)
		if ra.Alpha, err = figureOf(stats.CronbachAlpha(rows)); err != nil {
			return nil, fmt.Errorf("alpha of %s form: %w", role, err)
		}
		out = append(out, ra)
	}
	return out, nil
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

// itemKappas computes Cohen's kappa (unweighted, linear, quadratic) per
// item across complete dyads, on the form's full category set. Only
// integer-stepped scales have categories; others get a reason.
func (s *Service) itemKappas(out *StudyAgreement, st Study, pairs []dyadPair) error {
	cf, err := s.FindForm(st.Forms[RoleClient])
	if err != nil {
		return err
	}
	tf, err := s.FindForm(st.Forms[RoleCounsellor])
	if err != nil {
		return err
	}
	sc := cf.Scale
	switch {
	case sc.Min != tf.Scale.Min || sc.Max != tf.Scale.Max || sc.Step != tf.Scale.Step:
		out.KappaReason = ReasonScalesDiffer
		return nil
	case !isInt(sc.Min) || !isInt(sc.Max) || !isInt(sc.Step) || sc.Step < 1:
		out.KappaReason = ReasonNotIntegerScale
		return nil
	}
	for v := int(sc.Min); v <= int(sc.Max); v += int(sc.Step) {
		out.Categories = append(out.Categories, v)
	}
	a := make([]int, 0, len(pairs))
	b := make([]int, 0, len(pairs))
	for i, it := range cf.Items {
		a, b = a[:0], b[:0]
		for _, p := range pairs {
			if p.client == nil || p.counselor == nil || i >= len(p.client.Answers) || i >= len(p.counselor.Answers) {
				continue
			}
			x, y := p.client.Answers[i], p.counselor.Answers[i]
			if x == nil || y == nil {
				continue
			}
			a, b = append(a, int(math.Round(cf.KeyedValue(i, *x)))), append(b, int(math.Round(tf.KeyedValue(i, *y))))
		}
		k, err := figureOf(stats.KappaConf(a, b, out.Categories, out.Conf))
		if err != nil {
			return fmt.Errorf("kappa of item %d: %w", it.Key, err)
		}
		out.Kappas = append(out.Kappas, ItemKappa{Item: it.Key, N: len(a), Kappa: k})
	}
	return nil
}

func isInt(v float64) bool { return v == math.Trunc(v) && !math.IsInf(v, 0) }
