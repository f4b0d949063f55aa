package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/pgtest"
	"github.com/alliance-project/alliance/internal/store"
)

// TestNoLinkForAWithdrawnDyad: the database refuses a survey link of a
// dyad whose consent was withdrawn, whatever the service read of the dyad
// before (a cached copy, another instance, a withdrawal committed while the
// request ran): ErrWithdrawn, and nothing stored.
func TestNoLinkForAWithdrawnDyad(t *testing.T) {
	t.Parallel()
	for _, b := range []struct {
		name string
		open func(*testing.T) *store.Store
	}{{"sqlite", openSQLite}, {"postgres", openPostgres}} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := b.open(t)
			_, d := fixture(t, ctx, st)
			if err := st.WithdrawDyad(ctx, d.ID, "", alliance.Withdrawal{At: now, Scope: "both", Reason: "consent_withdrawn"}); err != nil {
				t.Fatal(err)
			}
			err := st.CreateInvitation(ctx, invitation("iv_1", d))
			if !errors.Is(err, alliance.ErrWithdrawn) {
				t.Fatalf("link of a withdrawn dyad: %v, want ErrWithdrawn", err)
			}
			if _, err := st.FindInvitationByID(ctx, "iv_1"); !errors.Is(err, alliance.ErrNotFound) {
				t.Errorf("the refused link is stored: %v", err)
			}
		})
	}
}

// TestLinkWaitsForAWithdrawalInProgress: on PostgreSQL a link made while a
// withdrawal's transaction holds the dyad waits for it, and is then
// refused: read from the snapshot it began with, it would be committed
// after the withdrawal had revoked the dyad's pending links, and stay live.
func TestLinkWaitsForAWithdrawalInProgress(t *testing.T) {
	t.Parallel()
	pgtest.SkipWithout(t)
	ctx := context.Background()
	st := openPostgres(t)
	_, d := fixture(t, ctx, st)
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `UPDATE dyads SET withdrawn_at = $1, withdrawn_scope = 'both', withdrawal_reason = 'consent_withdrawn' WHERE id = $2`, now, d.ID); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- st.CreateInvitation(ctx, invitation("iv_1", d)) }()
	select {
	case err := <-done:
		t.Fatalf("the link was written (%v) while the withdrawal held the dyad; want it to wait", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, alliance.ErrWithdrawn) {
		t.Fatalf("link made during a withdrawal: %v, want ErrWithdrawn", err)
	}
}

func invitation(id string, d alliance.Dyad) alliance.Invitation {
	return alliance.Invitation{ID: id, StudyID: d.StudyID, DyadID: d.ID, Session: 1, Role: alliance.RoleClient,
		Hash: fmt.Sprintf("hash-%s", id), CreatedAt: now, CreatedBy: "test", ExpiresAt: now.Add(72 * time.Hour)}
}
