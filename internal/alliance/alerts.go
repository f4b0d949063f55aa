package alliance

import (
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/stats"
)

// AlertKind names what an alert signals.
type AlertKind string

// The alert kinds (see docs/alerts-and-webhooks.md for the definitions and
// their references).
const (
	// AlertDivergence: client and counsellor disagree on a complete
	// session's total by at least the study's band (item metric).
	AlertDivergence AlertKind = "divergence"
	// AlertRupture: one rater's total dropped from their previous rated
	// session by at least the Jacobson–Truax reliable change threshold.
	AlertRupture AlertKind = "rupture"
	// AlertRepair: after a rupture, the rater's total came back to within
	// the reliable change threshold of the level before it. A rupture and
	// its repair are one episode (same EpisodeID).
	AlertRepair AlertKind = "repair"
	// AlertLowAlliance: a total below the form's clinical cutoff (sum
	// metric), where the form has one (the SRS: 36), or the study's own.
	AlertLowAlliance AlertKind = "low_alliance"
)

// AlertKinds lists the kinds in the order the documentation gives them.
var AlertKinds = []AlertKind{AlertDivergence, AlertRupture, AlertRepair, AlertLowAlliance}

// Alert states: open until a clinician acknowledges it; resolved when a
// rating it was computed from was amended or voided (or a session rated
// in between changed what it compares), whichever state it was in.
const (
	AlertOpen         = "open"
	AlertAcknowledged = "acknowledged"
	AlertResolved     = "resolved"
)

// AlertStates lists the states a list can be filtered by.
var AlertStates = []string{AlertOpen, AlertAcknowledged, AlertResolved}

// Divergence directions: the sign of client − counsellor.
const (
	ClientHigher = "client_higher"
	// CounsellorHigher is the clinically worrying direction: the
	// counsellor sees a better alliance than the client reports, so a
	// problem the client feels may go unnoticed.
	CounsellorHigher = "counsellor_higher"
)

// Reasons an alert was resolved.
const (
	ResolvedAmended     = "amended"
	ResolvedVoided      = "voided"
	ResolvedReevaluated = "reevaluated"
)

// ReliabilityStudy is the rupture rule's reliability source once a study
// has its own figures; before that it is ReliabilityPublished (the form's
// RuptureReference).
const ReliabilityStudy = "study"

// ReliabilityMinN is the number of complete ratings of a form in a study
// from which the study's own Cronbach's alpha and SD replace the published
// values in the rupture rule.
const ReliabilityMinN = 30

// AlertThresholds are a study's alert settings.
type AlertThresholds struct {
	// DivergenceBand: |client − counsellor| ≥ band on the total's item mean.
	DivergenceBand float64
	// RuptureZ is the critical value of the reliable change index: a drop
	// of at least RuptureZ·S_diff is a rupture (Jacobson & Truax: 1.96).
	RuptureZ float64
	// LowAllianceCutoff overrides the forms' clinical cutoffs (sum
	// metric); nil uses each form's own, where it has one.
	LowAllianceCutoff *float64
}

// Default alert thresholds.
const (
	DefaultDivergenceBand = 1.0
	DefaultRuptureZ       = stats.JacobsonTruaxZ
)

// DefaultAlertThresholds are the thresholds of a study that sets none.
func DefaultAlertThresholds() AlertThresholds {
	return AlertThresholds{DivergenceBand: DefaultDivergenceBand, RuptureZ: DefaultRuptureZ}
}

// ReliabilityUsed says which reliability and SD the rupture rule used and
// where they came from: the study's own ratings (alpha and SD of the
// form's total over each dyad's first session, N complete ratings) or the
// catalogue's published reference (Citation).
type ReliabilityUsed struct {
	Alpha    float64
	SD       float64
	Source   string
	N        int
	Citation string
}

// AlertFigures are the numbers that triggered an alert; which are set
// depends on the kind. Scores are the total's item mean unless Metric is
// "sum" (low_alliance).
type AlertFigures struct {
	Metric string
	// divergence
	Client, Counsellor, Difference, Band float64
	Direction                            string
	// rupture and repair: the previous session's score, this session's,
	// the change between them and the Jacobson–Truax figures.
	PreviousSession           int
	Previous, Current, Change float64
	RCI, SDiff, Threshold, Z  float64
	Reliability               ReliabilityUsed
	// repair: the rupture it ends.
	RuptureSession int
	Rupture        float64
	// low_alliance
	Sum, Cutoff  float64
	CutoffSource string
}

// Alert is one raised alert with the figures that triggered it.
type Alert struct {
	ID      string
	StudyID string
	DyadID  string
	// ClientCode and CounsellorCode are the dyad's codes, set on reads.
	ClientCode, CounsellorCode string
	Kind                       AlertKind
	// Role is the rater of a rupture, repair or low alliance; "" for a
	// divergence, which is of both.
	Role    Role
	Session int
	// Key names the finding: kind, role and the rating versions it was
	// computed from. A finding is raised once at most.
	Key string
	// RatingID is the rating version whose write raised the alert;
	// RatingIDs are the versions its figures come from.
	RatingID  string
	RatingIDs []string
	// EpisodeID ties a rupture and its repair together: the rupture's id.
	EpisodeID      string
	Figures        AlertFigures
	CreatedAt      time.Time
	AcknowledgedAt *time.Time
	AcknowledgedBy string
	ResolvedAt     *time.Time
	// ResolvedBy is the rating version whose write resolved the alert
	// (the amendment, or the voided version).
	ResolvedBy     string
	ResolvedReason string
}

// State is open, acknowledged or resolved.
func (a Alert) State() string {
	switch {
	case a.ResolvedAt != nil:
		return AlertResolved
	case a.AcknowledgedAt != nil:
		return AlertAcknowledged
	}
	return AlertOpen
}

// Worrying reports whether a divergence is in the clinically worrying
// direction (the counsellor rates higher).
func (a Alert) Worrying() bool {
	return a.Kind == AlertDivergence && a.Figures.Direction == CounsellorHigher
}

// AlertRule states an alert kind's rule in words, with its parameters'
// names; the values are in the figures.
func AlertRule(k AlertKind) string {
	switch k {
	case AlertDivergence:
		return "client − counsellor on the total item mean ≤ −band or ≥ +band at a complete session"
	case AlertRupture:
		return "one rater's total item mean drops from their previous rated session by at least z·S_diff, S_diff = √2·SD·√(1 − α) (Jacobson & Truax 1991)"
	case AlertRepair:
		return "after a rupture, the rater's total item mean returns to less than z·S_diff below the level before the rupture"
	case AlertLowAlliance:
		return "total sum below the clinical cutoff (the form's, or the study's own)"
	}
	return ""
}

// alertKey names a finding: kind, role and its rating versions.
func alertKey(kind AlertKind, role Role, ratingIDs ...string) string {
	return string(kind) + ":" + string(role) + ":" + strings.Join(ratingIDs, ",")
}

// alertTolerance absorbs float noise at a threshold's boundary, so a
// difference of exactly the band counts however the means were summed.
const alertTolerance = 1e-9

// belowCutoff reports whether a total lies below a clinical cut-off, by
// more than alertTolerance: a total equal to the cut-off is not below it,
// though scored in floating point (scoring version 1) as 35.99999999999999.
// The alerts and the study summary count with it alike.
func belowCutoff(sum, cutoff float64) bool { return sum < cutoff-alertTolerance }

// alertScene is what detection sees of one dyad: its current ratings
// after the write, the forms and reliabilities of each role, the study's
// thresholds, and its unresolved rupture and repair alerts.
type alertScene struct {
	study       Study
	ratings     []Rating
	forms       map[Role]*Form
	reliability map[Role]*ReliabilityUsed
	active      []Alert
	newID       func() string
}

// scored is one rating with a total item mean.
type scored struct {
	r    *Rating
	mean float64
}

// series returns a role's scored ratings in session order.
func (sc alertScene) series(role Role) []scored {
	var out []scored
	for i := range sc.ratings {
		r := &sc.ratings[i]
		if r.Role == role && r.Scores.Total.Mean != nil {
			out = append(out, scored{r, *r.Scores.Total.Mean})
		}
	}
	slices.SortFunc(out, func(a, b scored) int { return a.r.Session - b.r.Session })
	return out
}

// findings computes every divergence, rupture and low-alliance finding of
// the dyad's current ratings, and the repairs of the ruptures among them
// and among the active rupture alerts. Ruptures it finds get ids (used as
// their episode ids) from newID.
func (sc alertScene) findings() []Alert {
	var out []Alert
	th := sc.study.Alerts
	// Divergence at every complete session.
	bySession := map[int][2]*Rating{}
	for i := range sc.ratings {
		r := &sc.ratings[i]
		pair := bySession[r.Session]
		if r.Role == RoleClient {
			pair[0] = r
		} else {
			pair[1] = r
		}
		bySession[r.Session] = pair
	}
	for _, session := range slices.Sorted(maps.Keys(bySession)) {
		c, t := bySession[session][0], bySession[session][1]
		if c == nil || t == nil || c.Scores.Total.Mean == nil || t.Scores.Total.Mean == nil {
			continue
		}
		x, y := *c.Scores.Total.Mean, *t.Scores.Total.Mean
		d := x - y
		if math.Abs(d) < th.DivergenceBand-alertTolerance {
			continue
		}
		dir := ClientHigher
		if d < 0 {
			dir = CounsellorHigher
		}
		out = append(out, Alert{Kind: AlertDivergence, Session: session, RatingIDs: []string{c.ID, t.ID},
			Figures: AlertFigures{Metric: "item_mean", Client: x, Counsellor: y, Difference: d, Band: th.DivergenceBand, Direction: dir}})
	}
	for _, role := range Roles {
		// Low alliance.
		cutoff, source, ok := sc.cutoff(role)
		for i := range sc.ratings {
			r := &sc.ratings[i]
			if !ok || r.Role != role || r.Scores.Total.Sum == nil || !belowCutoff(*r.Scores.Total.Sum, cutoff) {
				continue
			}
			out = append(out, Alert{Kind: AlertLowAlliance, Role: role, Session: r.Session, RatingIDs: []string{r.ID},
				Figures: AlertFigures{Metric: "sum", Sum: *r.Scores.Total.Sum, Cutoff: cutoff, CutoffSource: source}})
		}
		// Ruptures between consecutive rated sessions.
		rel := sc.reliability[role]
		if rel == nil {
			continue
		}
		crit, err := stats.ReliableChangeCriterion(rel.SD, rel.Alpha)
		if err != nil {
			continue
		}
		threshold := th.RuptureZ * crit.SDiff
		ser := sc.series(role)
		var ruptures []Alert
		for i := 1; i < len(ser); i++ {
			prev, cur := ser[i-1], ser[i]
			change := cur.mean - prev.mean
			if -change < threshold-alertTolerance {
				continue
			}
			a := Alert{ID: sc.newID(), Kind: AlertRupture, Role: role, Session: cur.r.Session, RatingIDs: []string{prev.r.ID, cur.r.ID},
				Figures: AlertFigures{Metric: "item_mean", PreviousSession: prev.r.Session, Previous: prev.mean, Current: cur.mean,
					Change: change, RCI: change / crit.SDiff, SDiff: crit.SDiff, Threshold: threshold, Z: th.RuptureZ, Reliability: *rel}}
			a.EpisodeID = a.ID
			ruptures = append(ruptures, a)
		}
		out = append(out, ruptures...)
		// Repairs: of the active rupture alerts (their key may no longer
		// be a finding: thresholds move with the study's alpha) and of the
		// ruptures just found that are not already raised.
		episodes := map[string]bool{}
		for _, a := range sc.active {
			if a.Kind == AlertRepair && a.Role == role {
				episodes[a.EpisodeID] = true // repaired already
			}
		}
		var open []Alert
		for _, a := range sc.active {
			if a.Kind == AlertRupture && a.Role == role && !episodes[a.EpisodeID] {
				open = append(open, a)
			}
		}
		for _, a := range ruptures {
			if !slices.ContainsFunc(sc.active, func(x Alert) bool { return x.Key == alertKey(a.Kind, a.Role, a.RatingIDs...) }) {
				open = append(open, a)
			}
		}
		for _, rup := range open {
			f := rup.Figures
			for _, s := range ser {
				if s.r.Session <= rup.Session {
					continue
				}
				if f.Previous-s.mean < f.Threshold-alertTolerance {
					ids := append(slices.Clone(rup.RatingIDs), s.r.ID)
					out = append(out, Alert{Kind: AlertRepair, Role: role, Session: s.r.Session, RatingIDs: ids, EpisodeID: rup.EpisodeID,
						Figures: AlertFigures{Metric: "item_mean", PreviousSession: f.PreviousSession, Previous: f.Previous,
							RuptureSession: rup.Session, Rupture: f.Current, Current: s.mean, Change: s.mean - f.Previous,
							SDiff: f.SDiff, Threshold: f.Threshold, Z: f.Z, Reliability: f.Reliability}})
					break
				}
			}
		}
	}
	for i := range out {
		out[i].Key = alertKey(out[i].Kind, out[i].Role, out[i].RatingIDs...)
	}
	return out
}

// cutoff is the low-alliance bound of a role on the sum metric: the
// study's, else its form's (a form cut-off stated on the sum), and where it
// comes from.
func (sc alertScene) cutoff(role Role) (float64, string, bool) {
	if c := sc.study.Alerts.LowAllianceCutoff; c != nil {
		return *c, "study", true
	}
	if f := sc.forms[role]; f != nil && f.ClinicalCutoff != nil && f.ClinicalCutoff.Metric == instrument.MetricSum {
		return f.ClinicalCutoff.Value, "form", true
	}
	return 0, "", false
}

// alertChange is what one rating write does to its dyad's alerts.
type alertChange struct {
	raise   []Alert
	resolve []AlertResolution
}

// evaluate decides what a rating write does to the dyad's alerts. wrote
// is the new rating version (nil for a void), gone the version it
// superseded or voided (nil for a first rating); ratings are the dyad's
// current ratings after the write. Rules:
//
//   - an unresolved alert computed from the gone version is resolved
//     (amended or voided), with its repair if it is a rupture;
//   - an unresolved rupture of the role's next rated session after the
//     written one is resolved (re-evaluated) when that session's previous
//     rated session is no longer the one it compared with;
//   - every finding of the new ratings that involves the new version, or
//     is the role's next session's rupture (and its repair), is raised
//     unless an unresolved alert has its key; the store skips the key of
//     an unresolved alert (unique among them), so no finding is raised
//     twice while it stands. A finding whose alert was resolved is raised
//     again when it comes back (a voided rating between a rupture's two
//     sessions).
func (sc alertScene) evaluate(wrote, gone *Rating, at time.Time) alertChange {
	var ch alertChange
	var session int
	var role Role
	switch {
	case wrote != nil:
		session, role = wrote.Session, wrote.Role
	case gone != nil:
		session, role = gone.Session, gone.Role
	}
	// The role's next scored session after the write's.
	var next *Rating
	for _, s := range sc.series(role) {
		if s.r.Session > session {
			next = s.r
			break
		}
	}
	by, reason := "", ResolvedReevaluated
	switch {
	case wrote != nil:
		by = wrote.ID
	case gone != nil:
		by = gone.ID
	}
	resolved := map[string]bool{}
	resolve := func(a Alert, why string) {
		if resolved[a.ID] {
			return
		}
		resolved[a.ID] = true
		r := AlertResolution{ID: a.ID, At: at, By: by, Reason: why}
		if a.Kind == AlertRepair {
			r.Reopens = a.EpisodeID
		}
		ch.resolve = append(ch.resolve, r)
	}
	// Ruptures are found from the ratings alone; which are repaired
	// depends on the active alerts, so once this write resolves any,
	// the findings are computed again without them.
	found := sc.findings()
	isFinding := func(key string) bool {
		return slices.ContainsFunc(found, func(f Alert) bool { return f.Key == key })
	}
	for _, a := range sc.active {
		switch {
		case gone != nil && slices.Contains(a.RatingIDs, gone.ID):
			reason = ResolvedAmended
			if wrote == nil {
				reason = ResolvedVoided
			}
			resolve(a, reason)
		case next != nil && a.Kind == AlertRupture && a.Role == role && a.Session == next.Session && !isFinding(a.Key):
			resolve(a, ResolvedReevaluated)
		case a.Kind == AlertRepair && a.Role == role && sc.backBefore(a, wrote):
			// A session rated late, between a rupture and its repair, is
			// back itself: the repair is the first session back, so it
			// moves there.
			resolve(a, ResolvedReevaluated)
		}
	}
	// A repair goes with its rupture.
	for _, a := range sc.active {
		if a.Kind == AlertRepair && resolved[a.EpisodeID] {
			resolve(a, ResolvedReevaluated)
		}
	}
	activeKeys := map[string]bool{}
	remaining := make([]Alert, 0, len(sc.active))
	for _, a := range sc.active {
		if !resolved[a.ID] {
			activeKeys[a.Key] = true
			remaining = append(remaining, a)
		}
	}
	// An episode whose repair this write resolved is open again, and the
	// first session back after its rupture, if the ratings have one, is
	// its repair now (the amended version itself, when it still repairs).
	reopened := map[string]bool{}
	for _, r := range ch.resolve {
		if r.Reopens != "" && !resolved[r.Reopens] {
			reopened[r.Reopens] = true
		}
	}
	finds := found // nothing resolved: the active alerts are the same
	if len(ch.resolve) > 0 {
		after := sc
		after.active = remaining
		finds = after.findings()
	}
	newEpisodes := map[string]bool{}
	for _, f := range finds {
		involves := wrote != nil && slices.Contains(f.RatingIDs, wrote.ID)
		nextRupture := next != nil && f.Kind == AlertRupture && f.Role == role && f.Session == next.Session
		if f.Kind == AlertRepair && (newEpisodes[f.EpisodeID] || reopened[f.EpisodeID]) {
			involves = true
		}
		if activeKeys[f.Key] || !(involves || nextRupture) {
			continue
		}
		if f.Kind == AlertRupture {
			newEpisodes[f.EpisodeID] = true
		}
		ch.raise = append(ch.raise, f)
	}
	return ch
}

// backBefore reports whether wrote, a rating of repair's rater, lies
// between repair's rupture and repair and is back within the rupture's
// threshold: the first session back is then wrote's, not repair's.
func (sc alertScene) backBefore(repair Alert, wrote *Rating) bool {
	if wrote == nil || wrote.Role != repair.Role || wrote.Session >= repair.Session || wrote.Scores.Total.Mean == nil {
		return false
	}
	i := slices.IndexFunc(sc.active, func(a Alert) bool { return a.ID == repair.EpisodeID })
	if i < 0 {
		return false
	}
	rup := sc.active[i]
	return rup.Session < wrote.Session && rup.Figures.Previous-*wrote.Scores.Total.Mean < rup.Figures.Threshold-alertTolerance
}

// AlertResolution resolves one alert.
type AlertResolution struct {
	ID     string
	At     time.Time
	By     string
	Reason string
	// Reopens is, for a repair, the rupture it repaired (its episode):
	// with the repair resolved, the rupture is open again, and a later
	// rating may repair it.
	Reopens string
	// Event is the alert.resolved event the resolution publishes.
	Event *OutboxEvent
}

// AlertFilter selects alerts to list: a study's or a dyad's, optionally
// of one kind, one state and raised at or after Since, one page at a time
// (newest last, by id).
type AlertFilter struct {
	StudyID string
	DyadID  string
	Kind    AlertKind
	State   string
	Since   *time.Time
	Page    Page
}
