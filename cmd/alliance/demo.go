package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/url"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/dashboard"
	"github.com/alliance-project/alliance/internal/surveypage"
)

// DemoStudyName starts with a label no one can mistake for real data.
const DemoStudyName = "DEMO (synthetic data) – WAI-SR client vs counsellor"

// Shape of the demo study.
const (
	demoDyads       = 40
	demoCounsellors = 8
	demoSessions    = 6
)

// seedDemo fills an empty database with one synthetic study through the
// service, so every rating is validated and scored as a real one would be.
// It does nothing (and says so) when any study exists. The data are
// deterministic: clients rate about 0.5 higher than counsellors on the 1–5
// item metric, clients often hit the ceiling, alliance grows a little over
// sessions, a few items are skipped and a few sessions have one side only.
// It returns the study id ("" when it did nothing).
func seedDemo(ctx context.Context, svc *alliance.Service, log *slog.Logger, baseURL string) (string, error) {
	existing, err := svc.FindStudies(ctx, alliance.Page{Limit: 1})
	if err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	if len(existing) > 0 {
		log.Info("demo: the database already holds studies; not adding the demo study", "first_study", existing[0].ID)
		return "", nil
	}
	start := time.Now()
	st, err := svc.CreateStudy(ctx, alliance.StudyInput{
		Name:           DemoStudyName,
		Description:    "Synthetic, randomly generated ratings for trying the API. Not real people, not real sessions; delete this database before collecting real data.",
		ClientForm:     "wai_sr_client",
		CounsellorForm: "wai_sr_therapist",
	})
	if err != nil {
		return "", fmt.Errorf("demo: create study: %w", err)
	}
	rng := rand.New(rand.NewPCG(2026, 11))
	var first alliance.Dyad
	ratings := 0
	for d := range demoDyads {
		counsellor := d % demoCounsellors
		dy, err := svc.CreateDyad(ctx, st.ID, alliance.DyadInput{
			ClientCode:     fmt.Sprintf("DEMO-C%03d", d+1),
			CounsellorCode: fmt.Sprintf("DEMO-K%02d", counsellor+1),
		})
		if err != nil {
			return "", fmt.Errorf("demo: create dyad: %w", err)
		}
		if d == 0 {
			first = dy
		}
		// A dyad's true alliance, a counsellor's leniency, and each role's
		// item-level idiosyncrasies, so items and scales correlate.
		level := 3.3 + 0.35*rng.NormFloat64()
		// Each side's own view of the dyad, so that client and counsellor
		// correlate moderately (r ≈ .4, as in the literature), not perfectly.
		clientView, counsellorView := 0.35*rng.NormFloat64(), 0.35*rng.NormFloat64()
		leniency := 0.25 * math.Sin(float64(counsellor))
		growth := 0.06 + 0.05*rng.NormFloat64()
		var clientItem, counsellorItem [12]float64
		for i := range clientItem {
			clientItem[i], counsellorItem[i] = 0.3*rng.NormFloat64(), 0.3*rng.NormFloat64()
		}
		sessions := demoSessions - rng.IntN(2) // some dyads stop after 5
		for s := 1; s <= sessions; s++ {
			now := level + growth*float64(s-1)
			skip := rng.Float64()
			for _, role := range alliance.Roles {
				// About 6% of sessions miss one side's rating.
				if (role == alliance.RoleCounsellor && skip < 0.04) || (role == alliance.RoleClient && skip > 0.98) {
					continue
				}
				mean, item := now+leniency+counsellorView, counsellorItem[:]
				if role == alliance.RoleClient {
					mean, item = now+0.5+clientView, clientItem[:]
				}
				answers := make([]*float64, 12)
				for i := range answers {
					if rng.Float64() < 0.02 { // a skipped item
						continue
					}
					v := math.Round(mean + item[i] + 0.45*rng.NormFloat64())
					v = math.Max(1, math.Min(5, v)) // the scale's floor and ceiling
					answers[i] = &v
				}
				if _, _, err := svc.SubmitRating(ctx, dy.ID, alliance.RatingInput{
					Session: s, SessionDate: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 7*(s-1)+d%5).Format(time.DateOnly),
					Role: string(role), Answers: answers,
				}, nil); err != nil {
					return "", fmt.Errorf("demo: rating: %w", err)
				}
				ratings++
			}
		}
	}
	log.Info("demo: added a synthetic study", "study_id", st.ID, "name", st.Name,
		"dyads", demoDyads, "ratings", ratings, "took", time.Since(start).Round(time.Millisecond))
	// A survey link for a session nobody has rated yet, so the hosted
	// survey page can be tried at once (the link works once).
	_, tok, err := svc.CreateInvitation(ctx, first.ID, alliance.InvitationInput{Session: demoSessions + 1, Role: string(alliance.RoleClient)})
	if err != nil {
		return "", fmt.Errorf("demo: survey link: %w", err)
	}
	log.Info("demo: try these",
		"dashboard", baseURL+dashboard.Path+"?next="+url.QueryEscape(dashboard.Path+"studies/"+st.ID),
		"study_agreement", baseURL+"/v1/studies/"+st.ID+"/agreement?session=last",
		"dyad_trajectory", baseURL+"/v1/dyads/"+first.ID+"/agreement",
		"session_agreement", baseURL+"/v1/dyads/"+first.ID+"/sessions/1/agreement",
		"survey_link", surveypage.Link(baseURL, tok))
	return st.ID, nil
}
