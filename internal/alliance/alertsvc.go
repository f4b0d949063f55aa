package alliance

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/alliance-project/alliance/internal/stats"
)

// RatingOp says which rating write a RatingWrite is.
type RatingOp int

// The rating writes.
const (
	RatingCreate RatingOp = iota
	RatingInvited
	RatingAmend
	RatingVoid
)

// RatingWrite is one rating write with everything that commits with it.
type RatingWrite struct {
	Op RatingOp
	// Rating is the new version; for RatingVoid the version voided.
	Rating Rating
	// Prev is the version an amendment supersedes.
	Prev Rating
	// InvitationID is the survey link a RatingInvited uses up at At.
	InvitationID string
	// At is when a link is used or a version voided.
	At         time.Time
	VoidReason string
	Idem       *Idempotency
	// Alerts computes the write's alert changes from the dyad as it is in
	// the write's transaction, before the write (see AlertContext); nil
	// writes none. The store calls it once per attempt to commit the
	// write, with the dyad locked against every other write of its
	// alerts, so that two writes of one dyad never both compute theirs
	// from the state before the other.
	Alerts func(AlertContext) *AlertEffects
	Audit  []AuditEntry
}

// AlertEffects are the alert changes of a rating write.
type AlertEffects struct {
	Raise   []RaisedAlert
	Resolve []AlertResolution
}

// RaisedAlert is an alert to raise and the event it publishes if it is.
type RaisedAlert struct {
	Alert Alert
	Event *OutboxEvent
}

// AlertContext is what alert evaluation reads of a dyad, in the
// transaction of a write of one role at one session and before it: the
// ratings of that session (both roles), the role's ratings of every later
// session, and its nearest earlier rating with a scored total, looked for
// among the PreviousWindow sessions it rated before (the one a rupture
// compares with), each with its total only; and the dyad's unresolved
// alerts the write can bear on, each with what the rules use (its id,
// kind, role, session, key, ratings and episode, and a rupture's
// figures). A write bears on no other rating, so a dyad's long history
// costs nothing.
//
// Thresholds are the study's alert thresholds, read in the same
// transaction: they are the one part of a study that changes
// (UpdateAlertThresholds), so evaluation never takes them from a study
// that may have been cached (see Store.FindRatingTarget).
type AlertContext struct {
	Thresholds AlertThresholds
	Ratings    []Rating
	Active     []Alert
}

// PreviousWindow is how many earlier rated sessions of a role alert
// evaluation looks through to find the nearest with a scored total.
const PreviousWindow = 5

// writeRating stores w, a write of a rating of dyad d of study st, with
// its alert changes, in one transaction. What the alerts need besides the
// dyad's ratings and alerts (the study's forms and reliability figures) is
// read first; the rest is read and the alerts computed inside the write's
// transaction (alertRules), where no other write of the dyad's alerts can
// come in between. Of d and st it uses only what never changes (codes,
// forms), so they may come from a cache (Store.FindRatingTarget). On one
// instance, the writes of a dyad take turns (dyadLocks).
func (s *Service) writeRating(ctx context.Context, w RatingWrite, d Dyad, st Study) error {
	unlock, err := s.writing.lock(ctx, w.Rating.DyadID)
	if err != nil {
		return err
	}
	defer unlock()
	rules, err := s.alertRules(ctx, w, d, st)
	if err != nil {
		return err
	}
	w.Alerts = rules
	return s.store.WriteRating(ctx, w)
}

// alertRules returns what computes the alert changes of w from the dyad's
// state in the write's transaction, with the study's thresholds as that
// transaction reads them. The forms and reliability figures it uses are
// read here, before the transaction: they change rarely (reliability is
// a cached estimate anyway), and reading them inside it would hold up
// the batch the write commits with.
func (s *Service) alertRules(ctx context.Context, w RatingWrite, d Dyad, st Study) (func(AlertContext) *AlertEffects, error) {
	forms, reliability := map[Role]*Form{}, map[Role]*ReliabilityUsed{}
	for role, id := range st.Forms {
		f, err := s.FindForm(ctx, id)
		if err != nil {
			return nil, err
		}
		forms[role] = f
		if reliability[role], err = s.reliability(ctx, st, role, f); err != nil {
			return nil, err
		}
	}
	return func(ac AlertContext) *AlertEffects {
		st := st
		st.Alerts = ac.Thresholds
		return s.alertEffects(w, d, st, ac, forms, reliability)
	}, nil
}

// alertEffects computes the alert changes of w from ac, the dyad's state
// before it.
func (s *Service) alertEffects(w RatingWrite, d Dyad, st Study, ac AlertContext, forms map[Role]*Form, reliability map[Role]*ReliabilityUsed) *AlertEffects {
	r := w.Rating
	// The dyad's ratings as they will be after the write.
	var wrote, gone *Rating
	var gid string
	switch w.Op {
	case RatingAmend:
		gone, gid = &w.Prev, w.Prev.ID
	case RatingVoid:
		gone, gid = &w.Rating, w.Rating.ID
	}
	ratings := make([]Rating, 0, len(ac.Ratings)+1)
	for _, x := range ac.Ratings {
		if x.ID != gid && !(x.Session == r.Session && x.Role == r.Role) {
			ratings = append(ratings, x)
		}
	}
	if w.Op != RatingVoid {
		wrote = &w.Rating
		ratings = append(ratings, r)
	}
	sc := alertScene{study: st, ratings: ratings, active: ac.Active, newID: func() string { return newID("al") },
		forms: forms, reliability: reliability}
	ch := sc.evaluate(wrote, gone, s.now())
	fx := &AlertEffects{Resolve: ch.resolve}
	for i, res := range fx.Resolve {
		if k := slices.IndexFunc(ac.Active, func(a Alert) bool { return a.ID == res.ID }); k >= 0 {
			fx.Resolve[i].Event = s.newEvent(EventAlertResolved, r.StudyID, r.DyadID, resolvedData(ac.Active[k], res, d))
		}
	}
	for _, a := range ch.raise {
		if a.ID == "" {
			a.ID = newID("al")
		}
		if a.Kind == AlertRupture {
			a.EpisodeID = a.ID
		}
		a.StudyID, a.DyadID, a.ClientCode, a.CounsellorCode = r.StudyID, r.DyadID, d.ClientCode, d.CounsellorCode
		a.RatingID = r.ID
		a.CreatedAt = s.now()
		fx.Raise = append(fx.Raise, RaisedAlert{Alert: a, Event: s.newEvent(EventAlertRaised, a.StudyID, a.DyadID, AlertData(a))})
	}
	return fx
}

// reliabilityTTL is how long a study's own reliability estimate is used
// before it is computed again from its ratings.
const reliabilityTTL = 10 * time.Minute

// reliabilityCache holds each study role's reliability estimate. Its
// zero value is ready to use.
type reliabilityCache struct {
	mu sync.Mutex
	m  map[string]cachedReliability
	// ttl replaces reliabilityTTL where set (tests).
	ttl time.Duration
}

type cachedReliability struct {
	r  *ReliabilityUsed
	at time.Time
}

// reliability is the reliability the rupture rule uses for a role's form:
// the study's own Cronbach's alpha and SD of the total item mean over each
// dyad's first session, once ReliabilityMinN complete ratings of the form
// exist; else the form's published reference; nil when neither exists.
// The answer is cached for reliabilityTTL, but for none at all while
// fewer than ReliabilityMinN complete ratings exist (a form without a
// published reference): then each write looks again.
func (s *Service) reliability(ctx context.Context, st Study, role Role, f *Form) (*ReliabilityUsed, error) {
	key := st.ID + "/" + string(role)
	c := &s.reliabilities
	c.mu.Lock()
	hit, ok := c.m[key]
	c.mu.Unlock()
	ttl := reliabilityTTL
	if c.ttl != 0 {
		ttl = c.ttl
	}
	if ok && time.Since(hit.at) < ttl {
		return hit.r, nil
	}
	rs, err := s.store.FindStudyRatings(ctx, st.ID, SessionSelector{})
	if err != nil {
		return nil, fmt.Errorf("alerts: reliability of study %s: %w", st.ID, err)
	}
	var rows [][]float64
	var totals []float64
	for _, r := range rs {
		if r.Role != role || r.FormID != f.ID {
			continue
		}
		rows = append(rows, keyedRow(f, r.Answers))
		if m := r.Scores.Total.Mean; m != nil {
			totals = append(totals, *m)
		}
	}
	var out *ReliabilityUsed
	if a, err := stats.CronbachAlphaListwise(rows); err == nil && a.N >= ReliabilityMinN && a.Raw > 0 && a.Raw < 1 && len(totals) >= 2 {
		if sd := math.Sqrt(stat.Variance(totals, nil)); sd > 0 {
			out = &ReliabilityUsed{Alpha: a.Raw, SD: sd, Source: ReliabilityStudy, N: a.N}
		}
	}
	if ref := f.RuptureReference; out == nil && ref != nil {
		out = &ReliabilityUsed{Alpha: ref.Alpha, SD: ref.SD, Source: ReliabilityPublished, Citation: ref.Source}
	}
	if out == nil && completeRows(rows) < ReliabilityMinN {
		// No reliability at all, for want of ratings the next writes may
		// bring: not cached, or the ruptures of the writes that reach the
		// threshold would go unseen for a TTL, and never be raised.
		return nil, nil
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]cachedReliability{}
	}
	c.m[key] = cachedReliability{r: out, at: time.Now()}
	c.mu.Unlock()
	return out, nil
}

// completeRows counts the rows with every item answered.
func completeRows(rows [][]float64) int {
	n := 0
	for _, row := range rows {
		if !slices.ContainsFunc(row, math.IsNaN) {
			n++
		}
	}
	return n
}

// FindAlerts lists one page of a study's alerts (f.StudyID) or a dyad's
// (f.DyadID), optionally of one kind and state, raised since a time.
func (s *Service) FindAlerts(ctx context.Context, f AlertFilter) ([]Alert, error) {
	var fe fieldErrors
	if f.Kind != "" && !slices.Contains(AlertKinds, f.Kind) {
		fe.add("kind", "invalid_value", "one of divergence, rupture, repair, low_alliance")
	}
	if f.State != "" && !slices.Contains(AlertStates, f.State) {
		fe.add("state", "invalid_value", "one of open, acknowledged, resolved")
	}
	p, err := checkPage(f.Page)
	if err != nil {
		fe = append(fe, fieldsOf(err)...)
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	f.Page = p
	if f.DyadID != "" {
		if _, err := s.FindDyadByID(ctx, f.DyadID); err != nil {
			return nil, err
		}
	} else if _, err := s.FindStudyByID(ctx, f.StudyID); err != nil {
		return nil, err
	}
	return s.store.FindAlerts(ctx, f)
}

// FindAlert returns one alert.
func (s *Service) FindAlert(ctx context.Context, id string) (Alert, error) {
	a, err := s.store.FindAlertByID(ctx, id)
	if err == nil && !ActorFrom(ctx).sees(a.StudyID) {
		err = ErrNotFound
	}
	if err != nil {
		return Alert{}, fmt.Errorf("alert %s: %w", id, err)
	}
	return a, nil
}

// AcknowledgeAlert records that a clinician saw an alert. Acknowledging
// it again changes nothing; a resolved alert cannot be acknowledged (its
// rating was amended or voided; see ResolvedBy).
func (s *Service) AcknowledgeAlert(ctx context.Context, id string) (Alert, error) {
	a, err := s.FindAlert(ctx, id)
	if err != nil {
		return Alert{}, err
	}
	if done, err := acknowledged(a); err != nil {
		return Alert{}, err
	} else if done {
		return a, nil
	}
	at, by := s.now(), ActorFrom(ctx).Label()
	a.AcknowledgedAt, a.AcknowledgedBy = &at, by
	ev := s.newEvent(EventAlertAcknowledged, a.StudyID, a.DyadID, AlertData(a))
	audit := withEvent(s.audit(ctx, "alert.acknowledge", "alert", a.ID, a.StudyID, a.DyadID, nil, map[string]any{"kind": a.Kind}), ev)
	err = s.store.AcknowledgeAlert(ctx, id, at, by, audit)
	if errors.Is(err, ErrConflict) { // acknowledged or resolved meanwhile
		if a, err = s.FindAlert(ctx, id); err != nil {
			return Alert{}, err
		}
		if _, err := acknowledged(a); err != nil {
			return Alert{}, err
		}
		return a, nil
	}
	if err != nil {
		return Alert{}, fmt.Errorf("acknowledge alert %s: %w", id, err)
	}
	return a, nil
}

// acknowledged answers an acknowledgement of a as it stands: done if it
// was acknowledged already (acknowledging again changes nothing), a
// conflict if it was resolved, which no one can acknowledge, whether
// before the request or while it ran.
func acknowledged(a Alert) (done bool, err error) {
	switch a.State() {
	case AlertAcknowledged:
		return true, nil
	case AlertResolved:
		return true, fmt.Errorf("alert %s was resolved when its rating was %s: %w", a.ID, a.ResolvedReason, ErrConflict)
	}
	return false, nil
}

// AlertThresholdsInput sets a study's alert thresholds; nil fields take
// the defaults (LowAllianceCutoff nil: each form's own cutoff).
type AlertThresholdsInput struct {
	DivergenceBand    *float64
	RuptureZ          *float64
	LowAllianceCutoff *float64
}

// checkThresholds validates in under field prefix and fills the defaults;
// given the study's forms, it refuses a low-alliance cutoff above any
// total they can give.
func checkThresholds(fe *fieldErrors, prefix string, in *AlertThresholdsInput, forms ...*Form) AlertThresholds {
	th := DefaultAlertThresholds()
	if in == nil {
		return th
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if v := in.DivergenceBand; v != nil {
		if !finite(*v) || *v <= 0 || *v > 100 {
			fe.add(prefix+"divergence_band", "out_of_range", "a positive difference on the item metric, at most 100")
		}
		th.DivergenceBand = *v
	}
	if v := in.RuptureZ; v != nil {
		if !finite(*v) || *v <= 0 || *v > 10 {
			fe.add(prefix+"rupture_z", "out_of_range", "a critical z above 0 and at most 10 (Jacobson & Truax: 1.96)")
		}
		th.RuptureZ = *v
	}
	if v := in.LowAllianceCutoff; v != nil {
		// Within the totals the study's forms can give: above them every
		// rating would raise an alert, below them none. A scale may run
		// below 0 (−3 to +3), and so may its totals.
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, f := range forms {
			n := float64(len(f.Items))
			lo, hi = math.Min(lo, n*f.Scale.Min), math.Max(hi, n*f.Scale.Max)
		}
		switch {
		case !finite(*v):
			fe.add(prefix+"low_alliance_cutoff", "out_of_range", "a finite total sum")
		case len(forms) > 0 && (*v < lo || *v > hi):
			fe.add(prefix+"low_alliance_cutoff", "out_of_range", fmt.Sprintf("a total sum from %g to %g, the totals the study's forms can give", lo, hi))
		}
		c := *v
		th.LowAllianceCutoff = &c
	}
	return th
}

// UpdateAlertThresholds replaces a study's alert thresholds (audited,
// with the thresholds before and after). They apply to the ratings
// written from then on; alerts already raised stay as they are. The
// thresholds it has already change nothing, and write nothing.
func (s *Service) UpdateAlertThresholds(ctx context.Context, studyID string, in AlertThresholdsInput) (Study, error) {
	st, err := s.FindStudyByID(ctx, studyID)
	if err != nil {
		return Study{}, err
	}
	forms, err := s.studyForms(ctx, st)
	if err != nil {
		return Study{}, err
	}
	var fe fieldErrors
	th := checkThresholds(&fe, "", &in, slices.Collect(maps.Values(forms))...)
	if err := fe.err(); err != nil {
		return Study{}, err
	}
	if th.same(st.Alerts) {
		return st, nil
	}
	audit := s.audit(ctx, "study.alert_thresholds", "study", st.ID, st.ID, "", thresholdsAudit(st.Alerts), thresholdsAudit(th))
	if err := s.store.UpdateAlertThresholds(ctx, st.ID, th, audit); err != nil {
		return Study{}, fmt.Errorf("update alert thresholds of study %s: %w", st.ID, err)
	}
	st.Alerts = th
	return st, nil
}

// same reports whether th and o are the same thresholds.
func (th AlertThresholds) same(o AlertThresholds) bool {
	return th.DivergenceBand == o.DivergenceBand && th.RuptureZ == o.RuptureZ &&
		(th.LowAllianceCutoff == nil) == (o.LowAllianceCutoff == nil) &&
		(th.LowAllianceCutoff == nil || *th.LowAllianceCutoff == *o.LowAllianceCutoff)
}

func thresholdsAudit(th AlertThresholds) map[string]any {
	return map[string]any{"divergence_band": th.DivergenceBand, "rupture_z": th.RuptureZ, "low_alliance_cutoff": th.LowAllianceCutoff}
}
