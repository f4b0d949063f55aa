package alliance_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/benchdata"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/pgtest"
	"github.com/alliance-project/alliance/internal/store/rowcache"
)

func (f *fixture) alerts(d alliance.Dyad, kind alliance.AlertKind) []alliance.Alert {
	f.t.Helper()
	as, err := f.svc.FindAlerts(f.ctx, alliance.AlertFilter{DyadID: d.ID, Kind: kind})
	if err != nil {
		f.t.Fatal(err)
	}
	return as
}

// TestRuptureReliabilitySource: the rupture rule uses the form's
// published reliability until the study has 30 complete ratings of the
// form at the dyads' first sessions, then the study's own alpha and SD,
// and says which it used.
func TestRuptureReliabilitySource(t *testing.T) {
	f := newFixture(t)
	alliance.SetReliabilityTTL(f.svc, -1)
	first := f.dyad()
	f.rate(first, 1, alliance.RoleClient, flat(5)...)
	f.rate(first, 2, alliance.RoleClient, flat(3)...)
	rup := f.alerts(first, alliance.AlertRupture)
	if len(rup) != 1 || rup[0].Figures.Reliability.Source != alliance.ReliabilityPublished || rup[0].Figures.Reliability.Alpha != 0.91 {
		t.Fatalf("ruptures = %+v, want one, on the published alpha .91", rup)
	}
	// 30 more dyads with items that vary together: alpha is defined.
	for i := range 30 {
		d := f.dyad()
		base := 1 + float64(i%4)
		answers := flat(base)
		answers[i%12] = base + 1
		f.rate(d, 1, alliance.RoleClient, answers...)
	}
	f.rate(first, 3, alliance.RoleClient, flat(5)...)
	f.rate(first, 4, alliance.RoleClient, flat(2)...)
	rup = f.alerts(first, alliance.AlertRupture)
	if len(rup) != 2 {
		t.Fatalf("ruptures = %+v, want two", rup)
	}
	rel := rup[1].Figures.Reliability
	if rel.Source != alliance.ReliabilityStudy || rel.N != 31 || !(rel.Alpha > 0.5 && rel.Alpha < 1) || rel.SD <= 0 {
		t.Errorf("second rupture's reliability = %+v, want the study's own from 31 ratings", rel)
	}
	if rep := f.alerts(first, alliance.AlertRepair); len(rep) != 1 || rep[0].EpisodeID != rup[0].ID || rep[0].Session != 3 {
		t.Errorf("repairs = %+v, want session 3 ending the first rupture's episode", rep)
	}
}

// TestLateRepair: a rupture stays open across sessions that do not repair
// it, and a rating many sessions later still repairs it, though a write
// reads only the unresolved alerts near its own session and its rater's
// open ruptures.
func TestLateRepair(t *testing.T) {
	onBackends(t, lateRepair)
}

func lateRepair(t *testing.T, f *fixture) {
	d := f.dyad()
	f.rate(d, 1, alliance.RoleClient, flat(5)...)
	f.rate(d, 2, alliance.RoleClient, flat(2)...)
	for s := 3; s <= 6; s++ {
		f.rate(d, s, alliance.RoleClient, flat(2)...)
		f.rate(d, s, alliance.RoleCounsellor, flat(5)...) // divergences at every session
	}
	if rep := f.alerts(d, alliance.AlertRepair); len(rep) != 0 {
		t.Fatalf("repairs = %+v before any recovery", rep)
	}
	f.rate(d, 7, alliance.RoleClient, flat(5)...)
	rup := f.alerts(d, alliance.AlertRupture)
	rep := f.alerts(d, alliance.AlertRepair)
	if len(rup) != 1 || rup[0].Session != 2 {
		t.Fatalf("ruptures = %+v, want the one at session 2", rup)
	}
	if len(rep) != 1 || rep[0].EpisodeID != rup[0].ID || rep[0].Session != 7 || rep[0].Figures.RuptureSession != 2 {
		t.Errorf("repairs = %+v, want session 7 ending the session-2 rupture's episode", rep)
	}
	if div := f.alerts(d, alliance.AlertDivergence); len(div) != 4 {
		t.Errorf("divergences = %d, want 4 (sessions 3-6)", len(div))
	}
}

// TestRuptureRepairedOnce: once repaired, a rupture is not repaired again
// by a later session, even after one that fell short of its level again
// (without being a rupture of its own) and once the writes have moved past
// the repair's session.
func TestRuptureRepairedOnce(t *testing.T) {
	onBackends(t, func(t *testing.T, f *fixture) {
		d := f.dyad()
		f.rate(d, 1, alliance.RoleClient, flat(5)...)
		f.rate(d, 2, alliance.RoleClient, flat(2)...)                         // a rupture
		f.rate(d, 3, alliance.RoleClient, 5, 5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 4) // 4.5: its repair
		f.rate(d, 4, alliance.RoleClient, flat(4)...)                         // short of 5 again, no new rupture
		f.rate(d, 5, alliance.RoleClient, flat(5)...)
		sessions := func(kind alliance.AlertKind) (out []int) {
			for _, a := range f.alerts(d, kind) {
				out = append(out, a.Session)
			}
			return out
		}
		if got := sessions(alliance.AlertRupture); !slices.Equal(got, []int{2}) {
			t.Fatalf("ruptures at sessions %v, want [2]", got)
		}
		if got := sessions(alliance.AlertRepair); !slices.Equal(got, []int{3}) {
			t.Errorf("repairs at sessions %v, want [3]", got)
		}
	})
}

// TestRepairUndone: a repair resolved on its own (its rating amended so
// that it no longer repairs) leaves its rupture open again, and a later
// rating repairs it anew.
func TestRepairUndone(t *testing.T) {
	onBackends(t, repairUndone)
}

func repairUndone(t *testing.T, f *fixture) {
	d := f.dyad()
	f.rate(d, 1, alliance.RoleClient, flat(5)...)
	f.rate(d, 2, alliance.RoleClient, flat(2)...)
	f.rate(d, 3, alliance.RoleClient, flat(5)...)
	rup := f.alerts(d, alliance.AlertRupture)
	if rep := f.alerts(d, alliance.AlertRepair); len(rup) != 1 || len(rep) != 1 || rep[0].Session != 3 {
		t.Fatalf("ruptures %+v, repairs %+v; want the session-2 rupture repaired at 3", rup, rep)
	}
	s := 3
	if _, _, err := f.svc.AmendRating(f.ctx, d.ID, alliance.RatingInput{Session: &s, Role: "client", Answers: answers(flat(2))}, nil); err != nil {
		t.Fatal(err)
	}
	rep := f.alerts(d, alliance.AlertRepair)
	if len(rep) != 1 || rep[0].State() != alliance.AlertResolved {
		t.Fatalf("repairs after the amendment = %+v, want the one resolved", rep)
	}
	if rup := f.alerts(d, alliance.AlertRupture); len(rup) != 1 || rup[0].State() == alliance.AlertResolved {
		t.Fatalf("ruptures after the amendment = %+v, want the session-2 one still open", rup)
	}
	f.rate(d, 4, alliance.RoleClient, flat(5)...)
	var open []alliance.Alert
	for _, a := range f.alerts(d, alliance.AlertRepair) {
		if a.State() != alliance.AlertResolved {
			open = append(open, a)
		}
	}
	if len(open) != 1 || open[0].Session != 4 || open[0].EpisodeID != rup[0].ID {
		t.Errorf("unresolved repairs after session 4 = %+v, want one at session 4 of the session-2 rupture", open)
	}
}

// TestAmendmentResolvesAlerts: amending a rating resolves the alerts
// computed from it, with a link to the amendment, and raises what the new
// version warrants; a void resolves too.
func TestAmendmentResolvesAlerts(t *testing.T) {
	f := newFixture(t)
	d := f.dyad()
	f.rate(d, 1, alliance.RoleClient, flat(5)...)
	f.rate(d, 1, alliance.RoleCounsellor, flat(2)...)
	div := f.alerts(d, alliance.AlertDivergence)
	if len(div) != 1 || div[0].Figures.Direction != alliance.ClientHigher || div[0].Figures.Difference != 3 {
		t.Fatalf("divergences = %+v, want client higher by 3", div)
	}
	s1 := 1
	amended, _, err := f.svc.AmendRating(f.ctx, d.ID, alliance.RatingInput{Session: &s1, Role: "counsellor", Answers: answers(flat(5.0))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	all := f.alerts(d, alliance.AlertDivergence)
	if len(all) != 1 || all[0].State() != alliance.AlertResolved || all[0].ResolvedBy != amended.ID || all[0].ResolvedReason != alliance.ResolvedAmended {
		t.Fatalf("after the amendment: %+v, want the divergence resolved by %s", all, amended.ID)
	}
	// Back to a divergence, the other way: a new alert, counsellor higher.
	if _, _, err := f.svc.AmendRating(f.ctx, d.ID, alliance.RatingInput{Session: &s1, Role: "client", Answers: answers(flat(2.0))}, nil); err != nil {
		t.Fatal(err)
	}
	all = f.alerts(d, alliance.AlertDivergence)
	if len(all) != 2 || all[1].State() != alliance.AlertOpen || !all[1].Worrying() {
		t.Fatalf("after the second amendment: %+v, want a new open, worrying divergence", all)
	}
	cur, err := f.svc.FindRating(f.ctx, d.ID, 1, alliance.RoleCounsellor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.VoidRating(f.ctx, d.ID, 1, alliance.RoleCounsellor, "wrong_dyad"); err != nil {
		t.Fatal(err)
	}
	all = f.alerts(d, alliance.AlertDivergence)
	if all[1].State() != alliance.AlertResolved || all[1].ResolvedReason != alliance.ResolvedVoided || all[1].ResolvedBy != cur.ID {
		t.Errorf("after the void: %+v, want resolved as voided by %s", all[1], cur.ID)
	}
}

func answers(v []float64) []*float64 {
	out := make([]*float64, len(v))
	for i := range v {
		out[i] = &v[i]
	}
	return out
}

// TestConcurrentSidesRaiseDivergence: the client's and the counsellor's
// ratings of one session written at the same moment still raise their
// divergence, exactly once: each write computes its alerts in its own
// transaction, with the dyad locked against the other's (SQLite's one
// writer; on PostgreSQL the dyad's alert lock, across instances too, and
// within one instance a batch never evaluates one dyad twice).
func TestConcurrentSidesRaiseDivergence(t *testing.T) {
	sqlite := newFixture(t)
	for _, tc := range []struct {
		name string
		// services returns the fixture and the two services the sides
		// are written through.
		services func(t *testing.T) (*fixture, [2]*alliance.Service)
	}{
		{"sqlite, one instance", func(t *testing.T) (*fixture, [2]*alliance.Service) {
			return sqlite, [2]*alliance.Service{sqlite.svc, sqlite.svc}
		}},
		{"sqlite, two instances", func(t *testing.T) (*fixture, [2]*alliance.Service) {
			return sqlite, [2]*alliance.Service{sqlite.svc, alliance.NewService(sqlite.store, instrument.Builtin())}
		}},
		{"postgres, one instance", func(t *testing.T) (*fixture, [2]*alliance.Service) {
			f := fixtureOn(t, benchdata.Open(t, pgtest.Database(t)))
			return f, [2]*alliance.Service{f.svc, f.svc}
		}},
		{"postgres, two instances", func(t *testing.T) (*fixture, [2]*alliance.Service) {
			url := pgtest.Database(t)
			f := fixtureOn(t, benchdata.Open(t, url))
			return f, [2]*alliance.Service{f.svc, alliance.NewService(benchdata.Open(t, url), instrument.Builtin())}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, svcs := tc.services(t)
			for round := range 20 {
				d := f.dyad()
				var wg sync.WaitGroup
				errs := make([]error, 2)
				for i, role := range []string{"client", "counsellor"} {
					v := 5.0 - 3*float64(i)
					wg.Go(func() {
						s := 1
						_, _, errs[i] = svcs[i].SubmitRating(context.Background(), d.ID, alliance.RatingInput{Session: &s, Role: role, Answers: answers(flat(v))}, nil)
					})
				}
				wg.Wait()
				if err := errors.Join(errs...); err != nil {
					t.Fatal(err)
				}
				if div := f.alerts(d, alliance.AlertDivergence); len(div) != 1 {
					t.Fatalf("round %d: %d divergences, want 1", round, len(div))
				}
			}
		})
	}
}

// divergentDyad is a new dyad whose first session raised a divergence
// alert (client 5, counsellor 1), and the alert.
func (f *fixture) divergentDyad() (alliance.Dyad, alliance.Alert) {
	f.t.Helper()
	d := f.dyad()
	f.rate(d, 1, alliance.RoleClient, flat(5)...)
	f.rate(d, 1, alliance.RoleCounsellor, flat(1)...)
	return d, f.alerts(d, alliance.AlertDivergence)[0]
}

// TestAcknowledge: an acknowledgement is recorded once and audited; a
// resolved alert cannot be acknowledged.
func TestAcknowledge(t *testing.T) {
	f := newFixture(t)
	d, a := f.divergentDyad()
	got, err := f.svc.AcknowledgeAlert(f.ctx, a.ID)
	if err != nil || got.State() != alliance.AlertAcknowledged {
		t.Fatalf("AcknowledgeAlert = %+v, %v", got, err)
	}
	again, err := f.svc.AcknowledgeAlert(f.ctx, a.ID)
	if err != nil || !again.AcknowledgedAt.Equal(*got.AcknowledgedAt) {
		t.Errorf("second acknowledgement = %+v, %v; want the first unchanged", again, err)
	}
	audit, err := f.svc.FindAudit(f.ctx, alliance.AuditFilter{Action: "alert.acknowledge"})
	if err != nil || len(audit) != 1 || audit[0].ResourceID != a.ID {
		t.Errorf("audit = %+v, %v; want one alert.acknowledge", audit, err)
	}
	s1 := 1
	if _, _, err := f.svc.AmendRating(f.ctx, d.ID, alliance.RatingInput{Session: &s1, Role: "counsellor", Answers: answers(flat(5))}, nil); err != nil {
		t.Fatal(err)
	}
	other := f.alerts(d, "")
	if !slices.ContainsFunc(other, func(x alliance.Alert) bool { return x.ID == a.ID && x.State() == alliance.AlertResolved }) {
		t.Fatalf("alerts = %+v, want %s resolved", other, a.ID)
	}
	if _, err := f.svc.AcknowledgeAlert(f.ctx, a.ID); !errors.Is(err, alliance.ErrConflict) {
		t.Errorf("acknowledging a resolved alert = %v, want ErrConflict", err)
	}
}

// resolvingStore resolves an alert (by the amendment amend makes) just
// before it records an acknowledgement: the race of an acknowledgement
// with a write that resolves the alert.
type resolvingStore struct {
	alliance.Store
	amend func()
}

func (s resolvingStore) AcknowledgeAlert(ctx context.Context, id string, at time.Time, by string, audit ...alliance.AuditEntry) error {
	s.amend()
	return s.Store.AcknowledgeAlert(ctx, id, at, by, audit...)
}

// TestAcknowledgeResolvedMeanwhile: an alert resolved while its
// acknowledgement is under way cannot be acknowledged (ErrConflict, as
// before the request), and is not reported acknowledged or returned as if
// the acknowledgement went through.
func TestAcknowledgeResolvedMeanwhile(t *testing.T) {
	f := newFixture(t)
	d, a := f.divergentDyad()
	s1 := 1
	racing := alliance.NewService(resolvingStore{Store: f.store, amend: func() {
		if _, _, err := f.svc.AmendRating(f.ctx, d.ID, alliance.RatingInput{Session: &s1, Role: "counsellor", Answers: answers(flat(5))}, nil); err != nil {
			t.Error(err)
		}
	}}, instrument.Builtin())
	if got, err := racing.AcknowledgeAlert(f.ctx, a.ID); !errors.Is(err, alliance.ErrConflict) {
		t.Errorf("acknowledging an alert resolved meanwhile = %+v, %v; want ErrConflict", got, err)
	}
}

// TestThresholdsAcrossInstances: two services over one database, each
// with the rating-target cache of a PostgreSQL instance (entries kept for
// rowcache.TargetTTL). A threshold changed on one applies at once to the
// ratings written through the other, whose cached study still holds the
// old thresholds: evaluation reads them with the dyad's revision.
func TestThresholdsAcrossInstances(t *testing.T) {
	f := newFixture(t)
	a := alliance.NewService(rowcache.New(f.store, rowcache.Options{}), instrument.Builtin())
	b := alliance.NewService(rowcache.New(f.store, rowcache.Options{}), instrument.Builtin())
	d := f.dyad()
	rate := func(svc *alliance.Service, session int, role alliance.Role, v float64) {
		t.Helper()
		answers := make([]*float64, 12)
		for i := range answers {
			answers[i] = &v
		}
		if _, _, err := svc.SubmitRating(f.ctx, d.ID, alliance.RatingInput{Session: &session, Role: string(role), Answers: answers}, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Instance a caches the dyad's target (default band 1): a difference
	// of 1 diverges.
	rate(a, 1, alliance.RoleClient, 5)
	rate(a, 1, alliance.RoleCounsellor, 4)
	if got := f.alerts(d, alliance.AlertDivergence); len(got) != 1 || got[0].Figures.Band != 1 {
		t.Fatalf("divergences at band 1 = %+v, want one", got)
	}
	band := 2.0
	if _, err := b.UpdateAlertThresholds(f.ctx, f.study.ID, alliance.AlertThresholdsInput{DivergenceBand: &band}); err != nil {
		t.Fatal(err)
	}
	if _, st, err := rowcache.New(f.store, rowcache.Options{}).FindRatingTarget(f.ctx, d.ID); err != nil || st.Alerts.DivergenceBand != 2 {
		t.Fatalf("the database's study = %+v, %v", st.Alerts, err)
	}
	rate(a, 2, alliance.RoleClient, 5)
	rate(a, 2, alliance.RoleCounsellor, 4)
	if got := f.alerts(d, alliance.AlertDivergence); len(got) != 1 {
		t.Errorf("divergences after the band became 2 on the other instance = %+v, want still the one of session 1", got)
	}
}

// TestRuptureBackAfterVoid: a rupture resolved because a session was
// rated between its two (re-evaluated) is raised again when that rating is
// voided, so the two sessions are consecutive again: the finding is back,
// and a resolved alert with its key must not hide it.
func TestRuptureBackAfterVoid(t *testing.T) {
	onBackends(t, func(t *testing.T, f *fixture) {
		d := f.dyad()
		f.rate(d, 1, alliance.RoleClient, flat(5)...)
		f.rate(d, 3, alliance.RoleClient, flat(4)...)                         // a rupture from session 1
		f.rate(d, 2, alliance.RoleClient, 5, 5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 4) // 4.5: 1 → 2 → 3, no rupture
		rup := f.alerts(d, alliance.AlertRupture)
		if len(rup) != 1 || rup[0].State() != alliance.AlertResolved || rup[0].ResolvedReason != alliance.ResolvedReevaluated {
			t.Fatalf("ruptures after session 2 = %+v, want the session-3 one resolved (re-evaluated)", rup)
		}
		if _, err := f.svc.VoidRating(f.ctx, d.ID, 2, alliance.RoleClient, "wrong_session"); err != nil {
			t.Fatal(err)
		}
		var open []alliance.Alert
		for _, a := range f.alerts(d, alliance.AlertRupture) {
			if a.State() != alliance.AlertResolved {
				open = append(open, a)
			}
		}
		if len(open) != 1 || open[0].Session != 3 || open[0].Figures.PreviousSession != 1 || open[0].ID == rup[0].ID {
			t.Fatalf("unresolved ruptures after the void = %+v, want a new one at session 3 from session 1", open)
		}
		// Repaired later, the new episode ends as any other.
		f.rate(d, 4, alliance.RoleClient, flat(5)...)
		rep := f.alerts(d, alliance.AlertRepair)
		if len(rep) != 1 || rep[0].EpisodeID != open[0].ID || rep[0].Session != 4 {
			t.Errorf("repairs = %+v, want session 4 ending the raised-again rupture's episode", rep)
		}
	})
}

// openRepairs is the sessions of a dyad's unresolved repairs of role,
// with the rating version each names last (the repairing one).
func (f *fixture) openRepairs(d alliance.Dyad) map[int]string {
	f.t.Helper()
	out := map[int]string{}
	for _, a := range f.alerts(d, alliance.AlertRepair) {
		if a.State() != alliance.AlertResolved {
			out[a.Session] = a.RatingIDs[len(a.RatingIDs)-1]
		}
	}
	return out
}

// TestRepairFollowsItsRatings: a rupture's repair is the rater's first
// later session back within the threshold, whatever order the ratings
// come in and whatever happens to them: amending the repairing rating to
// one that still repairs keeps a repair there (the new version's);
// voiding it makes the next session back the repair; a session rated
// late, between the rupture and its repair, that is back itself takes
// the repair; and all of it also when the rupture lies further back than
// the sessions a write reads.
func TestRepairFollowsItsRatings(t *testing.T) {
	onBackends(t, func(t *testing.T, f *fixture) {
		client := alliance.RoleClient
		amend := func(d alliance.Dyad, session int, v []float64) string {
			t.Helper()
			r, _, err := f.svc.AmendRating(f.ctx, d.ID, alliance.RatingInput{Session: &session, Role: string(client), Answers: answers(v)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return r.ID
		}
		void := func(d alliance.Dyad, session int) {
			t.Helper()
			if _, err := f.svc.VoidRating(f.ctx, d.ID, session, client, "wrong_session"); err != nil {
				t.Fatal(err)
			}
		}
		want := func(what string, d alliance.Dyad, session int, rating string) {
			t.Helper()
			got := f.openRepairs(d)
			if len(got) != 1 || got[session] == "" || (rating != "" && got[session] != rating) {
				t.Errorf("%s: open repairs (session: rating) = %v, want one at session %d %s", what, got, session, rating)
			}
			for _, r := range f.alerts(d, alliance.AlertRupture) {
				if r.State() == alliance.AlertResolved {
					t.Errorf("%s: the rupture at session %d was resolved (%s)", what, r.Session, r.ResolvedReason)
				}
			}
		}
		stillBack := append(flat(5)[:11], 4)

		d := f.dyad()
		for s, v := range []float64{5, 2, 5} {
			f.rate(d, s+1, client, flat(v)...)
		}
		want("rated 5, 2, 5", d, 3, "")
		want("session 3 amended, still back", d, 3, amend(d, 3, stillBack))
		f.rate(d, 4, client, flat(5)...)
		want("then session 4 back too", d, 3, "")

		d = f.dyad()
		for s, v := range []float64{5, 2, 5, 5} {
			f.rate(d, s+1, client, flat(v)...)
		}
		void(d, 3)
		want("rated 5, 2, 5, 5, session 3 voided", d, 4, "")

		d = f.dyad()
		f.rate(d, 1, client, flat(5)...)
		f.rate(d, 2, client, flat(2)...)
		f.rate(d, 4, client, flat(5)...)
		want("rated 5, 2, -, 5", d, 4, "")
		f.rate(d, 3, client, flat(5)...)
		want("session 3 rated late, back", d, 3, "")

		// The rupture at session 2, the repair at 9: a write at 9 reads
		// its context from session 8 on.
		d = f.dyad()
		f.rate(d, 1, client, flat(5)...)
		for s := 2; s <= 8; s++ {
			f.rate(d, s, client, flat(2)...)
		}
		f.rate(d, 9, client, flat(5)...)
		f.rate(d, 10, client, flat(5)...)
		want("a long rupture repaired at 9", d, 9, "")
		want("session 9 amended, still back", d, 9, amend(d, 9, stillBack))
		amend(d, 9, flat(2))
		want("session 9 amended, no longer back", d, 10, "")
		void(d, 10)
		if got := f.openRepairs(d); len(got) != 0 {
			t.Errorf("session 10 voided: open repairs %v, want none", got)
		}
		f.rate(d, 11, client, flat(2)...)
		f.rate(d, 12, client, flat(5)...)
		want("back at session 12", d, 12, "")
	})
}
