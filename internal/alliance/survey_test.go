package alliance_test

import (
	"errors"
	"testing"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
)

// TestGoneLinkSaysWhy: a link that can no longer be answered says why
// (used: the answers are stored; expired or revoked: nothing was) and in
// its study's survey language, so that a survey page tells the rater the
// truth in the form's language.
func TestGoneLinkSaysWhy(t *testing.T) {
	f := newFixture(t)
	st, err := f.svc.CreateStudy(f.ctx, alliance.StudyInput{Name: "sv", ClientForm: "wai_sr_client", CounsellorForm: "wai_sr_therapist", Language: "sv"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.svc.CreateDyad(f.ctx, st.ID, alliance.DyadInput{ClientCode: "C-GONE", CounsellorCode: "K-GONE"})
	if err != nil {
		t.Fatal(err)
	}
	link := func(session int) string {
		_, tok, err := f.svc.CreateInvitation(f.ctx, d.ID, alliance.InvitationInput{Session: &session, Role: "client", ExpiresIn: "1h"})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	used, revoked, expired := link(1), link(2), link(3)
	as := func(tok string) alliance.Actor {
		a, err := f.svc.Authenticate(f.ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	five := 5.0
	answers := make([]*float64, 12)
	for i := range answers {
		answers[i] = &five
	}
	if _, _, err := f.svc.SubmitSurvey(alliance.WithActor(f.ctx, as(used)), alliance.SurveyInput{Answers: answers}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RevokeInvitation(f.ctx, as(revoked).ID); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(2 * time.Hour)
	alliance.SetNow(f.svc, func() time.Time { return later })
	for _, tc := range []struct{ token, state string }{
		{used, alliance.InvitationUsed}, {revoked, alliance.InvitationRevoked}, {expired, alliance.InvitationExpired},
	} {
		ctx := alliance.WithActor(f.ctx, as(tc.token))
		_, _, formErr := f.svc.SurveyForm(ctx)
		_, _, sendErr := f.svc.SubmitSurvey(ctx, alliance.SurveyInput{Answers: answers}, nil)
		for _, err := range []error{formErr, sendErr} {
			var g *alliance.LinkGone
			if !errors.As(err, &g) || g.State != tc.state || g.Language != "sv" || !errors.Is(err, alliance.ErrGone) {
				t.Errorf("a %s link: %v, want LinkGone{%s, sv}", tc.state, err, tc.state)
			}
		}
	}
}
