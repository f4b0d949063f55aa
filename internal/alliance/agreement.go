package alliance

import (
	"context"
	"fmt"
	"math"
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
	// MaxConf bounds a requested confidence level: closer to 1, the
	// quantile (1 + conf)/2 rounds to 1 and every interval is infinite.
	MaxConf = 0.999999
	// MaxLoAMultiplier bounds the limits-of-agreement multiplier (1.96,
	// 2, 2.58 and 3 are in use); far above, the limits overflow.
	MaxLoAMultiplier = 10
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

// Statistics results the domain reports in the shape stats computes them;
// results the domain reshapes (kappa, alpha, Krippendorff's alpha,
// per-counsellor and summary figures) have types of their own.
type (
	Summary       = stats.Summary
	Correlation   = stats.Correlation
	ICCTable      = stats.ICCTable
	CCCResult     = stats.CCCResult
	BAResult      = stats.BAResult
	LinearFit     = stats.LinearFit
	ProfileResult = stats.ProfileResult
	MeanCI        = stats.MeanCI
	ClusterMean   = stats.ClusterMeanResult
	BootstrapCI   = stats.BootstrapCI
	RandomEffects = stats.RandomInterceptResult
	RCICriterion  = stats.RCICriterion
)

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
// items already reflected); nil means unanswered. Item is the client
// form's item key and CounsellorItem the key of its parallel item on the
// counsellor form (the same number unless the family's definition pairs
// them otherwise).
type ItemPair struct {
	Item           int
	CounsellorItem int
	Client         *float64
	Counsellor     *float64
	Difference     *float64
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
	// Warnings: low_variance when a side gave (nearly) the same answer to
	// every item, small_n when fewer than 3 items were answered by both.
	Warnings []Warning
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
	cf, err := s.FindForm(ctx, ses.Client.FormID)
	if err != nil {
		return SessionAgreement{}, err
	}
	tf, err := s.FindForm(ctx, ses.Counsellor.FormID)
	if err != nil {
		return SessionAgreement{}, err
	}
	out := SessionAgreement{Dyad: ses.Dyad, Session: session, ClientForm: cf.ID, CounsellorForm: tf.ID, Scales: ses.Differences}
	if out.Items, err = itemAgreement(cf, tf, ses.Client.Answers, ses.Counsellor.Answers); err != nil {
		return out, err
	}
	out.Warnings = sessionWarnings(out.Items)
	return out, nil
}

// sessionWarnings flags a profile with too few items both answered and a
// side whose answers barely vary across items (straight-lining).
func sessionWarnings(it ItemAgreement) []Warning {
	w := warnings{}
	if it.KBoth < MinNInterval {
		w.add(WarnSmallN, "", "%d items answered by both sides; profile correlation needs at least %d", it.KBoth, MinNInterval)
	}
	var c, t []float64
	for _, p := range it.Items {
		if p.Client != nil && p.Counsellor != nil {
			c, t = append(c, *p.Client), append(t, *p.Counsellor)
		}
	}
	for _, side := range []struct {
		role Role
		x    []float64
	}{{RoleClient, c}, {RoleCounsellor, t}} {
		if sd := stats.Describe(side.x).SD; sd != nil && *sd < LowVarianceSD {
			w.add(WarnLowVariance, "", "%s: SD of the item answers %.3g < %g (the same answer to nearly every item); profile correlation and the within-dyad ICC have little to work with",
				side.role, *sd, LowVarianceSD)
		}
	}
	return w
}

func scaleDifference(scale string, c, t *Rating) ScaleDifference {
	var cm, tm *float64
	if c != nil {
		cm = c.Scores.Of(scale).Mean
	}
	if t != nil {
		tm = t.Scores.Of(scale).Mean
	}
	return meansDifference(scale, c != nil, t != nil, cm, tm)
}

// meansDifference is scaleDifference on the means themselves, for reads
// that fetch one scale's means without whole ratings; clientRated and
// counsellorRated say whether each side has a rating at all.
func meansDifference(scale string, clientRated, counsellorRated bool, cm, tm *float64) ScaleDifference {
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

// itemAgreement pairs keyed client item i with the keyed counsellor item
// parallel to it (cf.Pairing) and computes the profile indices over items
// both answered.
func itemAgreement(cf, tf *instrument.Form, ca, ta []*float64) (ItemAgreement, error) {
	ck, tk := cf.Keyed(ca), tf.Keyed(ta)
	out := ItemAgreement{KItems: len(cf.Items), ScaleMin: cf.Scale.Min, ScaleMax: cf.Scale.Max}
	var c, t []float64
	var rows [][]float64
	for i, j := range cf.Pairing(tf) {
		p := ItemPair{Item: cf.Items[i].Key}
		if i < len(ck) {
			p.Client = ck[i]
		}
		if j >= 0 {
			p.CounsellorItem = tf.Items[j].Key
			if j < len(tk) {
				p.Counsellor = tk[j]
			}
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
	out.ICC = withCI(out.ICC, out.KBoth, clearICCBounds)
	return out, nil
}

// SessionTrajectory is one session of a dyad's course: each role's scale
// means and their difference. Incomplete sessions are listed (Missing names
// the side that has not rated) but not used for slopes.
type SessionTrajectory struct {
	Session  int
	Complete bool
	Missing  Role
	// ClientDate and CounsellorDate are the session dates each side
	// recorded (nil when not given).
	ClientDate     *Date
	CounsellorDate *Date
	Scales         []ScaleDifference
}

// Signs of a client − counsellor difference.
const (
	SignClientHigher     = "client_higher"
	SignCounsellorHigher = "counsellor_higher"
)

// Reasons a sign change is not reported.
const (
	ReasonNoSignChange = "no_sign_change"
)

// SignChange is the first session whose client − counsellor difference
// has the other sign than the last non-zero difference before it.
type SignChange struct {
	Session int
	From    string // SignClientHigher or SignCounsellorHigher
	To      string
}

// ScaleSlope is the OLS slope of client − counsellor over session number
// for one scale: negative when a positive gap closes (convergence). N is
// the number of sessions with a defined difference. The fit carries its
// SE, t, p and conf-level interval (summary(lm), confint(lm)); with
// fewer than 3 sessions they are null (CIReason n_too_small).
type ScaleSlope struct {
	Scale string
	N     int
	Fit   Figure[stats.LinearFit]
	// SignChange is nil with SignChangeReason when the difference never
	// changes sign (no_sign_change) or fewer than 2 sessions have a
	// non-zero difference (n_too_small). Zero differences carry no sign.
	SignChange       *SignChange
	SignChangeReason string
}

// DyadAgreement is a dyad's agreement trajectory over its sessions.
type DyadAgreement struct {
	Dyad        Dyad
	Conf        float64
	Scales      []string
	Sessions    []SessionTrajectory
	NComplete   int
	NIncomplete int
	Slopes      []ScaleSlope
	// Warnings: small_n per scale whose slope rests on fewer than 3 sessions.
	Warnings []Warning
}

// DyadAgreement returns, per rated session, each role's total and subscale
// means, the difference and the session dates, and per scale the slope of
// the difference over session number (with its interval at conf; nil
// means DefaultConf) and the first session where the difference changed
// sign, from complete sessions only.
func (s *Service) DyadAgreement(ctx context.Context, dyadID string, conf *float64) (DyadAgreement, error) {
	c, err := parseConf(conf)
	if err != nil {
		return DyadAgreement{}, err
	}
	d, err := s.FindDyadByID(ctx, dyadID)
	if err != nil {
		return DyadAgreement{}, err
	}
	st, err := s.FindStudyByID(ctx, d.StudyID)
	if err != nil {
		return DyadAgreement{}, err
	}
	f, err := s.studyForm(ctx, st)
	if err != nil {
		return DyadAgreement{}, err
	}
	rs, err := s.store.FindRatings(ctx, dyadID)
	if err != nil {
		return DyadAgreement{}, err
	}
	out := DyadAgreement{Dyad: d, Conf: c, Scales: f.Scales(), Sessions: []SessionTrajectory{}}
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
		if c != nil {
			tr.ClientDate = c.SessionDate
		}
		if t != nil {
			tr.CounsellorDate = t.SessionDate
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
	w := warnings{}
	for k, sc := range out.Scales {
		var x, y []float64
		for _, tr := range out.Sessions {
			if v := tr.Scales[k].Difference; v != nil {
				x, y = append(x, float64(tr.Session)), append(y, *v)
			}
		}
		fit, err := figureOf(stats.SlopeConf(x, y, c))
		if err != nil {
			return out, fmt.Errorf("slope of %s: %w", sc, err)
		}
		if fit.Value != nil && fit.Value.SE == nil {
			fit.CIReason = stats.ReasonNTooSmall
		}
		if len(x) < MinNInterval {
			w.add(WarnSmallN, sc, "slope of the difference from %d sessions; its SE, p and interval need at least %d", len(x), MinNInterval)
		}
		sl := ScaleSlope{Scale: sc, N: len(x), Fit: fit}
		sl.SignChange, sl.SignChangeReason = signChange(x, y)
		out.Slopes = append(out.Slopes, sl)
	}
	out.Warnings = w
	return out, nil
}

// signChange finds the first session whose difference has the other sign
// than the last non-zero difference before it (sessions in order).
func signChange(sessions, diffs []float64) (*SignChange, string) {
	sign := func(d float64) string {
		switch {
		case d > bandTolerance:
			return SignClientHigher
		case d < -bandTolerance:
			return SignCounsellorHigher
		}
		return ""
	}
	last, nonzero := "", 0
	for i, d := range diffs {
		sg := sign(d)
		if sg == "" {
			continue
		}
		nonzero++
		if last != "" && sg != last {
			return &SignChange{Session: int(sessions[i]), From: last, To: sg}, ""
		}
		last = sg
	}
	if nonzero < 2 {
		return nil, stats.ReasonNTooSmall
	}
	return nil, ReasonNoSignChange
}

// parseConf reads an optional confidence level; nil means DefaultConf.
func parseConf(conf *float64) (float64, error) {
	if conf == nil {
		return DefaultConf, nil
	}
	if !(*conf > 0 && *conf <= MaxConf) {
		return 0, invalid("conf", "out_of_range", fmt.Sprintf("the confidence level must lie above 0 and at most %g, e.g. 0.95", MaxConf))
	}
	return *conf, nil
}

// studyForm is the form whose scales and items agreement is reported on:
// the client's, which is parallel to the counsellor's. A study where only
// one role rates has nothing to compare.
func (s *Service) studyForm(ctx context.Context, st Study) (*instrument.Form, error) {
	cid, okC := st.Forms[RoleClient]
	_, okT := st.Forms[RoleCounsellor]
	if !okC || !okT {
		return nil, invalid("id", "single_role_study", "agreement needs a study in which both the client and the counsellor rate; a single-role study (e.g. the client-only SRS) has its figures at GET /v1/studies/{id}/summary")
	}
	return s.FindForm(ctx, cid)
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
	if err != nil || !sessionInRange(n) {
		return SessionSelector{}, invalid(field, "invalid_value",
			fmt.Sprintf(`must be "first", "last" or a session number from 1 to %d`, MaxSession))
	}
	return SessionSelector{Number: n}, nil
}
