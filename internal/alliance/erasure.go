package alliance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Withdrawal scopes: whose consent was withdrawn.
var withdrawalScopes = []string{"client", "counsellor", "both"}

// WithdrawalReasons are the reason codes a withdrawal may give. A code,
// not free text: a note typed at a withdrawal is where a name or a
// diagnosis would slip in.
var WithdrawalReasons = []string{"consent_withdrawn", "participant_request", "lost_to_follow_up", "treatment_ended", "other"}

// WithdrawInput is a request to withdraw a dyad from collection.
type WithdrawInput struct {
	Scope      string
	ReasonCode string
}

// WithdrawDyad records that consent was withdrawn: the dyad's pending
// survey links are revoked and no new rating is accepted for it (409
// dyad_withdrawn), while the ratings already given are kept and marked
// in agreement and exports. Withdrawing a withdrawn dyad again changes
// nothing and returns it as it is, unless the other side withdraws too:
// then the withdrawal's scope widens to both, from when collection
// stopped, audited and announced as the first was.
func (s *Service) WithdrawDyad(ctx context.Context, dyadID string, in WithdrawInput) (Dyad, error) {
	var fe fieldErrors
	oneOf(&fe, "scope", in.Scope, withdrawalScopes)
	oneOf(&fe, "reason_code", in.ReasonCode, WithdrawalReasons)
	if err := fe.err(); err != nil {
		return Dyad{}, err
	}
	d, err := s.FindDyadByID(ctx, dyadID)
	if err != nil {
		return d, err
	}
	now := s.now()
	w := Withdrawal{At: now, Scope: in.Scope, Reason: in.ReasonCode}
	from, before := "", any(nil)
	if p := d.Withdrawal; p != nil {
		if p.Scope == in.Scope || p.Scope == "both" {
			return d, nil
		}
		from, before = p.Scope, map[string]any{"scope": p.Scope, "reason_code": p.Reason}
		w = Withdrawal{At: p.At, Scope: "both", Reason: p.Reason, WidenedAt: &now}
	}
	view := map[string]any{"scope": w.Scope, "reason_code": w.Reason}
	if from != "" {
		view["widening_reason_code"] = in.ReasonCode // the other side's
	}
	data := map[string]any{"dyad_id": d.ID, "study_id": d.StudyID,
		"client_code": d.ClientCode, "counsellor_code": d.CounsellorCode, "scope": w.Scope, "reason_code": w.Reason, "withdrawn_at": w.At}
	if w.WidenedAt != nil {
		data["widened_at"] = *w.WidenedAt
	}
	ev := s.newEvent(EventDyadWithdrawn, d.StudyID, d.ID, data)
	err = s.store.WithdrawDyad(ctx, d.ID, from, w, withEvent(s.audit(ctx, "dyad.withdraw", "dyad", d.ID, d.StudyID, d.ID, before, view), ev))
	switch {
	case errors.Is(err, ErrConflict): // withdrawn meanwhile
		return s.FindDyadByID(ctx, dyadID)
	case err != nil:
		return Dyad{}, fmt.Errorf("withdraw dyad %s: %w", dyadID, err)
	}
	d.Withdrawal = &w
	return d, nil
}

// EraseDyad erases a dyad for good (GDPR Art. 17): its codes, every
// version of its ratings, its survey links and idempotency records are
// deleted and the payloads of its audit entries redacted. The audit log
// keeps that the erasure happened: who, when, which dyad id. confirm must
// repeat the dyad id, so that no erasure happens by a slip.
func (s *Service) EraseDyad(ctx context.Context, dyadID, confirm string) error {
	d, err := s.FindDyadByID(ctx, dyadID)
	if err != nil {
		return err
	}
	if err := confirmed(confirm, d.ID, "dyad"); err != nil {
		return err
	}
	if err := s.store.EraseDyad(ctx, d.ID, s.now(), s.audit(ctx, "dyad.erase", "dyad", d.ID, d.StudyID, d.ID, nil, nil)); err != nil {
		return fmt.Errorf("erase dyad %s: %w", dyadID, err)
	}
	return nil
}

// EraseStudy erases a whole study the same way (e.g. the demo study or a
// pilot): every dyad of it, the keys bound to it, and its audit payloads.
func (s *Service) EraseStudy(ctx context.Context, studyID, confirm string) error {
	st, err := s.FindStudyByID(ctx, studyID)
	if err != nil {
		return err
	}
	if err := confirmed(confirm, st.ID, "study"); err != nil {
		return err
	}
	if err := s.store.EraseStudy(ctx, st.ID, s.now(), s.audit(ctx, "study.erase", "study", st.ID, st.ID, "", nil, nil)); err != nil {
		return fmt.Errorf("erase study %s: %w", studyID, err)
	}
	return nil
}

// confirmed checks that confirm repeats the id of what is to be erased.
func confirmed(confirm, id, what string) error {
	switch confirm {
	case id:
		return nil
	case "":
		return invalid("confirm", "required", fmt.Sprintf("repeat the %s id in ?confirm= to erase it", what))
	}
	return invalid("confirm", "mismatch", fmt.Sprintf("confirm must repeat the id of the %s to erase", what))
}

// oneOf checks a required value against its allowed values.
func oneOf(fe *fieldErrors, field, v string, allowed []string) {
	switch {
	case v == "":
		fe.add(field, "required", "one of "+strings.Join(allowed, ", "))
	case !slices.Contains(allowed, v):
		fe.add(field, "invalid_value", "must be one of "+strings.Join(allowed, ", "))
	}
}
