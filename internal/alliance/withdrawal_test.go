package alliance_test

import (
	"errors"
	"testing"

	"github.com/alliance-project/alliance/internal/alliance"
)

// TestWithdrawalWidens: on both stores, a second withdrawal by the other
// side widens the scope to both from the first withdrawal's time, and
// collection stays stopped.
func TestWithdrawalWidens(t *testing.T) {
	onBackends(t, func(t *testing.T, f *fixture) {
		d := f.dyad()
		first, err := f.svc.WithdrawDyad(f.ctx, d.ID, alliance.WithdrawInput{Scope: "client", ReasonCode: "consent_withdrawn"})
		if err != nil || first.Withdrawal == nil || first.Withdrawal.Scope != "client" {
			t.Fatalf("first withdrawal = %+v, %v", first.Withdrawal, err)
		}
		if _, err := f.svc.WithdrawDyad(f.ctx, d.ID, alliance.WithdrawInput{Scope: "counsellor", ReasonCode: "other"}); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.FindDyadByID(f.ctx, d.ID)
		if w := got.Withdrawal; err != nil || w == nil || w.Scope != "both" || !w.At.Equal(first.Withdrawal.At) || w.Reason != "consent_withdrawn" {
			t.Errorf("stored withdrawal = %+v, %v; want scope both from the first", got.Withdrawal, err)
		}
		s := 1
		_, _, err = f.svc.SubmitRating(f.ctx, d.ID, alliance.RatingInput{Session: &s, Role: "client", Answers: answers(flat(4))}, nil)
		if !errors.Is(err, alliance.ErrWithdrawn) {
			t.Errorf("rating after the widening: %v, want ErrWithdrawn", err)
		}
	})
}
