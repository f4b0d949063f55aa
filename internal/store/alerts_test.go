package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/pgtest"
	"github.com/alliance-project/alliance/internal/store"
)

// TestAlertRaisedOnce: a finding's key is raised once: a second write
// that raises the same key (under another id) inserts neither the alert
// nor its event; and a write computed from a stale alert revision is
// refused whole.
func TestAlertRaisedOnce(t *testing.T) {
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
			raise := func(alertID, eventID string) alliance.RaisedAlert {
				return alliance.RaisedAlert{
					Alert: alliance.Alert{ID: alertID, StudyID: "st_1", DyadID: "dy_1", Kind: alliance.AlertLowAlliance,
						Role: alliance.RoleClient, Session: 1, Key: "low_alliance:client:ra_1", RatingID: "ra_1", RatingIDs: []string{"ra_1"},
						Figures: alliance.AlertFigures{Metric: "sum", Sum: 30, Cutoff: 36}, CreatedAt: now},
					Event: &alliance.OutboxEvent{ID: eventID, StudyID: "st_1", DyadID: "dy_1", Type: alliance.EventAlertRaised, Data: []byte(`{}`), CreatedAt: now},
				}
			}
			w := alliance.RatingWrite{Op: alliance.RatingCreate, Rating: rating("ra_1", 1, alliance.RoleClient, 1, ptr(1)),
				Alerts: &alliance.AlertEffects{Rev: 0, Raise: []alliance.RaisedAlert{raise("al_1", "msg_1")}}}
			if err := st.WriteRating(ctx, w); err != nil {
				t.Fatal(err)
			}
			// A stale revision: nothing of the write is stored.
			stale := alliance.RatingWrite{Op: alliance.RatingCreate, Rating: rating("ra_2", 2, alliance.RoleClient, 1, ptr(1)),
				Alerts: &alliance.AlertEffects{Rev: 0}}
			if err := st.WriteRating(ctx, stale); !errors.Is(err, alliance.ErrDyadChanged) {
				t.Fatalf("write at a stale revision = %v, want ErrDyadChanged", err)
			}
			again := alliance.RatingWrite{Op: alliance.RatingCreate, Rating: rating("ra_2", 2, alliance.RoleClient, 1, ptr(1)),
				Alerts: &alliance.AlertEffects{Rev: 1, Raise: []alliance.RaisedAlert{raise("al_2", "msg_2")}}}
			if err := st.WriteRating(ctx, again); err != nil {
				t.Fatal(err)
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
			ac, err := st.FindAlertContext(ctx, "dy_1", 2, alliance.RoleClient)
			if err != nil || ac.Rev != 2 || len(ac.Active) != 1 || len(ac.Ratings) != 2 {
				t.Errorf("FindAlertContext = rev %d, %d active, %d ratings, %v; want 2, 1, 2", ac.Rev, len(ac.Active), len(ac.Ratings), err)
			}
		})
	}
}
