// Package demo fills a database with a synthetic, clearly labelled study,
// so that the API, the survey page and the dashboard can be tried at once
// (alliance serve -demo) and tested against data that look like a real
// study's. Everything goes through the service, so every rating is
// validated and scored as a real one would be.
package demo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
)

// StudyName starts with a label no one can mistake for real data.
const StudyName = "DEMO (synthetic data) – WAI-SR client vs counsellor"

// Shape of the demo study.
const (
	Dyads       = 40
	Counsellors = 8
	Sessions    = 6
)

// Result is what Seed made.
type Result struct {
	Study     alliance.Study
	FirstDyad alliance.Dyad
	Ratings   int
	// Planted are the alerts the planted events must raise (see Plant).
	Planted []Planted
}

// Seed creates the demo study. The data are deterministic: clients rate
// about 0.5 higher than counsellors on the 1–5 item metric, clients often
// hit the ceiling, alliance grows a little over sessions, a few items are
// skipped and a few sessions have one side only.
//
// A few dyads carry planted events for the alerts to find (see Plant): a
// client's rupture and its repair, and a counsellor who rates far above
// the client.
func Seed(ctx context.Context, svc *alliance.Service) (Result, error) {
	return seed(ctx, svc, false)
}

// SeedCalm is Seed without every source of variation but the planted
// events, the dyads' levels and growth and their fixed item
// idiosyncrasies (shared by both raters), so that the alerts raised are
// exactly the planted ones.
func SeedCalm(ctx context.Context, svc *alliance.Service) (Result, error) {
	return seed(ctx, svc, true)
}

func seed(ctx context.Context, svc *alliance.Service, calm bool) (Result, error) {
	st, err := svc.CreateStudy(ctx, alliance.StudyInput{
		Name:           StudyName,
		Description:    "Synthetic, randomly generated ratings for trying the API. Not real people, not real sessions; delete this database before collecting real data.",
		ClientForm:     "wai_sr_client",
		CounsellorForm: "wai_sr_therapist",
	})
	if err != nil {
		return Result{}, fmt.Errorf("demo: create study: %w", err)
	}
	rng := rand.New(rand.NewPCG(2026, 11))
	out := Result{Study: st}
	for d := range Dyads {
		counsellor := d % Counsellors
		dy, err := svc.CreateDyad(ctx, st.ID, alliance.DyadInput{
			ClientCode:     fmt.Sprintf("DEMO-C%03d", d+1),
			CounsellorCode: fmt.Sprintf("DEMO-K%02d", counsellor+1),
		})
		if err != nil {
			return Result{}, fmt.Errorf("demo: create dyad: %w", err)
		}
		if d == 0 {
			out.FirstDyad = dy
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
		if calm { // both raters see the same, the client half a point higher
			clientView, counsellorView, leniency, counsellorItem = 0, 0, 0, clientItem
		}
		sessions := Sessions - rng.IntN(2) // some dyads stop after 5
		out.Planted = append(out.Planted, plantsOf(d, sessions)...)
		for s := 1; s <= sessions; s++ {
			now := level + growth*float64(s-1)
			skip := rng.Float64()
			if planted(d) {
				skip = 0.5 // both sides rate every session
			}
			for _, role := range alliance.Roles {
				// About 6% of sessions miss one side's rating.
				if (role == alliance.RoleCounsellor && skip < 0.04) || (role == alliance.RoleClient && skip > 0.98) {
					continue
				}
				mean, item := now+leniency+counsellorView, counsellorItem[:]
				if role == alliance.RoleClient {
					mean, item = now+0.5+clientView, clientItem[:]
				}
				mean = plant(d, s, role, mean)
				answers := make([]*float64, 12)
				for i := range answers {
					if rng.Float64() < 0.02 && !calm { // a skipped item
						continue
					}
					noise := rng.NormFloat64()
					if calm {
						noise = 0
					}
					v := math.Round(mean + item[i] + 0.45*noise)
					v = math.Max(1, math.Min(5, v)) // the scale's floor and ceiling
					answers[i] = &v
				}
				if _, _, err := svc.SubmitRating(ctx, dy.ID, alliance.RatingInput{
					Session: &s, SessionDate: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 7*(s-1)+d%5).Format(time.DateOnly),
					Role: string(role), Answers: answers,
				}, nil); err != nil {
					return Result{}, fmt.Errorf("demo: rating: %w", err)
				}
				out.Ratings++
			}
		}
	}
	return out, nil
}
