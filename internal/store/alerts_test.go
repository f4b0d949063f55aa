package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/pgtest"
	"github.com/alliance-project/alliance/internal/store"
)

// onBothBackends runs test on a fresh, migrated store with the fixture's
// study and dyad, on SQLite and on PostgreSQL (skipped without one).
func onBothBackends(t *testing.T, test func(t *testing.T, ctx context.Context, st *store.Store)) {
	for _, b := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "a.db") }},
		{"postgres", func(t *testing.T) string { return pgtest.Database(t) }},
	} {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st, err := store.Open(ctx, b.url(t), discard)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := st.Migrate(ctx, nil); err != nil {
				t.Fatal(err)
			}
			fixture(t, ctx, st)
			test(t, ctx, st)
		})
	}
}

// probe is a rating write whose alert rules record the context the
// store gives them and change nothing.
func probe(w alliance.RatingWrite, seen *alliance.AlertContext) alliance.RatingWrite {
	w.Alerts = func(ac alliance.AlertContext) *alliance.AlertEffects {
		*seen = ac
		return nil
	}
	return w
}

// raising is a rating write whose alert rules raise alerts and record the
// context they were given.
func raising(w alliance.RatingWrite, seen *alliance.AlertContext, alerts ...alliance.RaisedAlert) alliance.RatingWrite {
	w.Alerts = func(ac alliance.AlertContext) *alliance.AlertEffects {
		*seen = ac
		return &alliance.AlertEffects{Raise: alerts}
	}
	return w
}

// TestAlertRaisedOnce: a finding's key is raised once: a second write
// that raises the same key (under another id) inserts neither the alert
// nor its event; and the second write's rules were given the first's
// alert and rating, read in its transaction.
func TestAlertRaisedOnce(t *testing.T) {
	onBothBackends(t, func(t *testing.T, ctx context.Context, st *store.Store) {
		raise := func(alertID, eventID string) alliance.RaisedAlert {
			return alliance.RaisedAlert{
				Alert: alliance.Alert{ID: alertID, StudyID: "st_1", DyadID: "dy_1", Kind: alliance.AlertLowAlliance,
					Role: alliance.RoleClient, Session: 1, Key: "low_alliance:client:ra_1", RatingID: "ra_1", RatingIDs: []string{"ra_1"},
					Figures: alliance.AlertFigures{Metric: "sum", Sum: 30, Cutoff: 36}, CreatedAt: now},
				Event: &alliance.OutboxEvent{ID: eventID, StudyID: "st_1", DyadID: "dy_1", Type: alliance.EventAlertRaised, Data: []byte(`{}`), CreatedAt: now},
			}
		}
		var first, second alliance.AlertContext
		w := alliance.RatingWrite{Op: alliance.RatingCreate, Rating: rating("ra_1", 1, alliance.RoleClient, 1, twelve(4)...)}
		if err := st.WriteRating(ctx, raising(w, &first, raise("al_1", "msg_1"))); err != nil {
			t.Fatal(err)
		}
		if len(first.Active) != 0 || len(first.Ratings) != 0 {
			t.Errorf("first write's context = %+v, want an empty dyad", first)
		}
		again := alliance.RatingWrite{Op: alliance.RatingCreate, Rating: rating("ra_2", 2, alliance.RoleClient, 1, twelve(4)...)}
		if err := st.WriteRating(ctx, raising(again, &second, raise("al_2", "msg_2"))); err != nil {
			t.Fatal(err)
		}
		if len(second.Active) != 1 || second.Active[0].ID != "al_1" || len(second.Ratings) != 1 || second.Ratings[0].ID != "ra_1" {
			t.Errorf("second write's context = %d active, %d ratings (%+v); want al_1 and ra_1", len(second.Active), len(second.Ratings), second)
		}
		var alerts, events int
		db := st.DB()
		if err := db.QueryRow(`SELECT COUNT(*) FROM alerts`).Scan(&alerts); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT COUNT(*) FROM outbox_events WHERE type = 'alert.raised'`).Scan(&events); err != nil {
			t.Fatal(err)
		}
		if alerts != 1 || events != 1 {
			t.Errorf("%d alerts and %d alert events, want the key raised once", alerts, events)
		}
	})
}

// TestPanickingRulesFailTheirWrite: alert rules run in the writer, so a
// panic in them must fail their write alone (nothing of it stored) and
// leave the writer serving the next one.
func TestPanickingRulesFailTheirWrite(t *testing.T) {
	onBothBackends(t, func(t *testing.T, ctx context.Context, st *store.Store) {
		w := alliance.RatingWrite{Op: alliance.RatingCreate, Rating: rating("ra_1", 1, alliance.RoleClient, 1, twelve(4)...),
			Alerts: func(alliance.AlertContext) *alliance.AlertEffects { panic("a bug in the rules") }}
		if err := st.WriteRating(ctx, w); err == nil {
			t.Fatal("a write whose rules panicked was stored")
		}
		if _, err := st.FindRatingByID(ctx, "ra_1"); !errors.Is(err, alliance.ErrNotFound) {
			t.Errorf("the rating of a write whose rules panicked: %v, want ErrNotFound", err)
		}
		var seen alliance.AlertContext
		next := alliance.RatingWrite{Op: alliance.RatingCreate, Rating: rating("ra_2", 1, alliance.RoleClient, 1, twelve(4)...)}
		if err := st.WriteRating(ctx, probe(next, &seen)); err != nil {
			t.Fatalf("the next write = %v, want it stored", err)
		}
	})
}

// TestAlertContextThresholds: alert evaluation reads the study's
// thresholds from the database in the write's transaction, so a change of
// thresholds counts at the next rating write whatever a cache holds; a
// write of a dyad that is not there fails whole.
func TestAlertContextThresholds(t *testing.T) {
	onBothBackends(t, func(t *testing.T, ctx context.Context, st *store.Store) {
		created, err := st.FindStudyByID(ctx, "st_1")
		if err != nil {
			t.Fatal(err)
		}
		var ac alliance.AlertContext
		w := alliance.RatingWrite{Op: alliance.RatingCreate, Rating: rating("ra_1", 1, alliance.RoleClient, 1, twelve(4)...)}
		if err := st.WriteRating(ctx, probe(w, &ac)); err != nil || ac.Thresholds != created.Alerts {
			t.Fatalf("thresholds of a new study = %+v, %v; want the study's %+v", ac.Thresholds, err, created.Alerts)
		}
		cut := 30.0
		th := alliance.AlertThresholds{DivergenceBand: 1.5, RuptureZ: 2.5, LowAllianceCutoff: &cut}
		if err := st.UpdateAlertThresholds(ctx, "st_1", th); err != nil {
			t.Fatal(err)
		}
		w = alliance.RatingWrite{Op: alliance.RatingCreate, Rating: rating("ra_2", 2, alliance.RoleClient, 1, twelve(4)...)}
		if err := st.WriteRating(ctx, probe(w, &ac)); err != nil || ac.Thresholds.DivergenceBand != 1.5 || ac.Thresholds.RuptureZ != 2.5 ||
			ac.Thresholds.LowAllianceCutoff == nil || *ac.Thresholds.LowAllianceCutoff != 30 {
			t.Errorf("thresholds after an update = %+v, %v; want 1.5, 2.5, 30", ac.Thresholds, err)
		}
		if err := st.UpdateAlertThresholds(ctx, "st_nope", th); !errors.Is(err, alliance.ErrNotFound) {
			t.Errorf("UpdateAlertThresholds of no study = %v, want ErrNotFound", err)
		}
		nope := rating("ra_3", 1, alliance.RoleClient, 1, twelve(4)...)
		nope.DyadID = "dy_nope"
		if err := st.WriteRating(ctx, probe(alliance.RatingWrite{Op: alliance.RatingCreate, Rating: nope}, &ac)); !errors.Is(err, alliance.ErrNotFound) {
			t.Errorf("a rating write of no dyad = %v, want ErrNotFound", err)
		}
		if _, err := st.FindRatingByID(ctx, "ra_3"); !errors.Is(err, alliance.ErrNotFound) {
			t.Errorf("the rating of no dyad was stored: %v", err)
		}
	})
}

// TestDispatcherBookkeeping: the dispatcher's writes (through the writer
// on SQLite, in transactions of their own on PostgreSQL) fan each event
// out once per subscribed endpoint, lease a delivery to one owner, record
// an attempt only under the lease, and count a replay.
func TestDispatcherBookkeeping(t *testing.T) {
	onBothBackends(t, func(t *testing.T, ctx context.Context, st *store.Store) {
		ep := alliance.WebhookEndpoint{ID: "wh_1", StudyID: "st_1", URL: "https://example.org/hook",
			Events: []string{alliance.EventAlertRaised, alliance.EventRatingCreated}, Secret: "sealed", CreatedAt: now, CreatedBy: "test"}
		if err := st.CreateWebhook(ctx, ep); err != nil {
			t.Fatal(err)
		}
		other := ep
		other.ID, other.Events = "wh_2", []string{alliance.EventAlertAcknowledged}
		if err := st.CreateWebhook(ctx, other); err != nil {
			t.Fatal(err)
		}
		// Three rating writes, each with its rating.created event.
		for i := 1; i <= 3; i++ {
			r := rating(fmt.Sprintf("ra_%d", i), i, alliance.RoleClient, 1, ptr(1))
			ev := &alliance.OutboxEvent{ID: fmt.Sprintf("msg_%d", i), StudyID: "st_1", DyadID: "dy_1", Type: alliance.EventRatingCreated,
				Data: []byte(`{}`), CreatedAt: now}
			audit := alliance.AuditEntry{At: now, Actor: "test", Action: "rating.create", Resource: "rating", ResourceID: r.ID,
				StudyID: "st_1", DyadID: "dy_1", Event: ev}
			if err := st.CreateRating(ctx, r, nil, audit); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := st.FanOutEvents(ctx, now, 2); err != nil || n != 2 {
			t.Fatalf("FanOutEvents(limit 2) = %d, %v; want 2", n, err)
		}
		if n, err := st.FanOutEvents(ctx, now, 10); err != nil || n != 1 {
			t.Fatalf("second FanOutEvents = %d, %v; want the 1 left", n, err)
		}
		if n, err := st.FanOutEvents(ctx, now, 10); err != nil || n != 0 {
			t.Fatalf("third FanOutEvents = %d, %v; want 0", n, err)
		}
		var deliveries int
		if err := st.DB().QueryRow(`SELECT COUNT(*) FROM webhook_deliveries`).Scan(&deliveries); err != nil || deliveries != 3 {
			t.Fatalf("%d deliveries (%v), want one per event to the subscribed endpoint only", deliveries, err)
		}

		until := now.Add(time.Minute)
		// A dispatcher skips the endpoints it has enough in flight to.
		if skipped, err := st.ClaimDeliveries(ctx, "a", now, until, 10, []string{"wh_9", "wh_1"}); err != nil || len(skipped) != 0 {
			t.Fatalf("ClaimDeliveries skipping wh_1 = %+v, %v; want none", skipped, err)
		}
		got, err := st.ClaimDeliveries(ctx, "a", now, until, 2, nil)
		if err != nil || len(got) != 2 {
			t.Fatalf("ClaimDeliveries = %d, %v; want 2", len(got), err)
		}
		for _, d := range got {
			if d.Endpoint.ID != "wh_1" || d.Event.Type != alliance.EventRatingCreated || d.Attempts != 0 {
				t.Errorf("claimed delivery %+v, want a rating.created event to wh_1", d)
			}
		}
		rest, err := st.ClaimDeliveries(ctx, "b", now, until.Add(time.Second), 10, []string{"wh_2"})
		if err != nil || len(rest) != 1 || rest[0].ID == got[0].ID || rest[0].ID == got[1].ID {
			t.Fatalf("second ClaimDeliveries = %+v, %v; want only the one not leased", rest, err)
		}
		// Given back by its owner (only), it can be claimed again at once.
		if err := st.ReleaseDeliveries(ctx, "a", []int64{rest[0].ID}); err != nil {
			t.Fatal(err)
		}
		if none, err := st.ClaimDeliveries(ctx, "c", now, until, 10, nil); err != nil || len(none) != 0 {
			t.Fatalf("ClaimDeliveries after another owner's release = %+v, %v; want none", none, err)
		}
		if err := st.ReleaseDeliveries(ctx, "b", []int64{rest[0].ID}); err != nil {
			t.Fatal(err)
		}
		if back, err := st.ClaimDeliveries(ctx, "c", now, until, 10, nil); err != nil || len(back) != 1 || back[0].ID != rest[0].ID {
			t.Fatalf("ClaimDeliveries after the release = %+v, %v; want the released one", back, err)
		}

		// Owner b does not hold got[0]: nothing is recorded.
		lost := alliance.DeliveryOutcome{Delivery: got[0], Owner: "b", At: now, Delivered: true, Status: 200}
		if err := st.FinishDelivery(ctx, lost); err != nil {
			t.Fatalf("FinishDelivery without the lease = %v, want nil", err)
		}
		if log, err := st.FindWebhookAttempts(ctx, "wh_1", 10); err != nil || len(log) != 0 {
			t.Fatalf("delivery log after a lost lease = %+v, %v; want empty", log, err)
		}
		done := alliance.DeliveryOutcome{Delivery: got[0], Owner: "a", At: now, Delivered: true, Status: 204, Latency: 12 * time.Millisecond}
		if err := st.FinishDelivery(ctx, done); err != nil {
			t.Fatal(err)
		}
		retry := alliance.DeliveryOutcome{Delivery: got[1], Owner: "a", At: now, NextAttemptAt: now.Add(time.Hour), Status: 500, Error: "500"}
		if err := st.FinishDelivery(ctx, retry); err != nil {
			t.Fatal(err)
		}
		log, err := st.FindWebhookAttempts(ctx, "wh_1", 10)
		if err != nil || len(log) != 2 || log[0].Status != 500 || log[1].Status != 204 {
			t.Fatalf("delivery log = %+v, %v; want the retry, then the delivery", log, err)
		}
		if w, err := st.FindWebhookByID(ctx, "wh_1"); err != nil || w.ConsecutiveFailures != 1 {
			t.Errorf("endpoint after a failure = %+v, %v; want 1 consecutive failure", w, err)
		}
		// The retried delivery is not due before its time, and not leased.
		if again, err := st.ClaimDeliveries(ctx, "a", now.Add(time.Second), until.Add(2*time.Second), 10, nil); err != nil || len(again) != 0 {
			t.Errorf("ClaimDeliveries before the retry is due = %+v, %v; want none", again, err)
		}

		n, err := st.ReplayEvents(ctx, ep, now.Add(-time.Hour), now)
		if err != nil || n != 3 {
			t.Errorf("ReplayEvents = %d, %v; want the 3 events again", n, err)
		}
	})
}

// TestAlertContextRatings: the ratings alert evaluation reads for a write
// of one role at one session (here a void): that session's (both roles),
// the role's later ones, and its nearest earlier one with a scored total
// (an unscored one in between is passed over), each with its total's mean
// and sum.
func TestAlertContextRatings(t *testing.T) {
	onBothBackends(t, func(t *testing.T, ctx context.Context, st *store.Store) {
		for _, r := range []alliance.Rating{
			rating("ra_1", 1, alliance.RoleClient, 1, twelve(4)...),
			rating("ra_2", 2, alliance.RoleClient, 1, ptr(1)), // too few answers: no total
			rating("ra_3", 3, alliance.RoleClient, 1, twelve(2)...),
			rating("ra_3c", 3, alliance.RoleCounsellor, 1, twelve(5)...),
			rating("ra_4", 4, alliance.RoleClient, 1, twelve(3)...),
			rating("ra_4c", 4, alliance.RoleCounsellor, 1, twelve(3)...),
		} {
			if err := st.CreateRating(ctx, r, nil); err != nil {
				t.Fatal(err)
			}
		}
		var ac alliance.AlertContext
		void := alliance.RatingWrite{Op: alliance.RatingVoid, Rating: rating("ra_3", 3, alliance.RoleClient, 1), At: now, VoidReason: "test_entry"}
		if err := st.WriteRating(ctx, probe(void, &ac)); err != nil {
			t.Fatal(err)
		}
		got := map[string][2]float64{}
		for _, r := range ac.Ratings {
			if r.Scores.Total.Mean == nil || r.Scores.Total.Sum == nil {
				t.Errorf("rating %s without a total: %+v", r.ID, r.Scores.Total)
				continue
			}
			got[r.ID] = [2]float64{*r.Scores.Total.Mean, *r.Scores.Total.Sum}
		}
		want := map[string][2]float64{"ra_1": {4, 48}, "ra_3": {2, 24}, "ra_3c": {5, 60}, "ra_4": {3, 36}}
		if !cmp.Equal(got, want) {
			t.Errorf("context of a client write at session 3: ratings %v, want %v", got, want)
		}
	})
}
