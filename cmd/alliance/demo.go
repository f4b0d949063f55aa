package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/dashboard"
	"github.com/alliance-project/alliance/internal/demo"
	"github.com/alliance-project/alliance/internal/surveypage"
)

// seedDemo fills an empty database with the synthetic demo study (see
// package demo) and logs where to look at it: the dashboard, the alerts
// its planted events raise and the agreement reports; a survey link goes to stdout. It does nothing (and says so)
// when any study exists. It returns the study id ("" when it did
// nothing).
func seedDemo(ctx context.Context, svc *alliance.Service, log *slog.Logger, baseURL string, stdout io.Writer) (string, error) {
	existing, err := svc.FindStudies(ctx, alliance.Page{Limit: 1})
	if err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	if len(existing) > 0 {
		log.Info("demo: the database already holds studies; not adding the demo study", "first_study", existing[0].ID)
		return "", nil
	}
	start := time.Now()
	d, err := demo.Seed(ctx, svc)
	if err != nil {
		return "", err
	}
	st, first := d.Study, d.FirstDyad
	log.Info("demo: added a synthetic study", "study_id", st.ID, "name", st.Name,
		"dyads", demo.Dyads, "ratings", d.Ratings, "took", time.Since(start).Round(time.Millisecond))
	// A survey link for a session nobody has rated yet, so the hosted
	// survey page can be tried at once (the link works once).
	_, tok, err := svc.CreateInvitation(ctx, first.ID, alliance.InvitationInput{Session: new(demo.Sessions + 1), Role: string(alliance.RoleClient)})
	if err != nil {
		return "", fmt.Errorf("demo: survey link: %w", err)
	}
	log.Info("demo: try these",
		"study_alerts", baseURL+"/v1/studies/"+st.ID+"/alerts",
		"dashboard", baseURL+dashboard.Path+"?next="+url.QueryEscape(dashboard.Path+"studies/"+st.ID),
		"study_agreement", baseURL+"/v1/studies/"+st.ID+"/agreement?session=last",
		"dyad_trajectory", baseURL+"/v1/dyads/"+first.ID+"/agreement",
		"session_agreement", baseURL+"/v1/dyads/"+first.ID+"/sessions/1/agreement")
	// The link holds a secret token: like the first admin key it goes to
	// standard output, never to the log.
	fmt.Fprintf(stdout, "demo survey link (works once): %s\n", surveypage.Link(baseURL, tok))
	return st.ID, nil
}
