package main

import "github.com/alliance-project/alliance/internal/alliance"

// The demo's planted events, so that its study shows alerts and the alert
// rules can be checked against known answers (TestDemoPlantedAlerts):
//
//   - the client of dyad DEMO-C003 has a rupture at session 3: their
//     total falls 1.2 points on the item metric (the published WAI-SR
//     reliability makes 0.58 a reliable drop), and is back at session 4,
//     a repair;
//   - the counsellor of dyad DEMO-C006 rates 1.8 above their usual level
//     at every session while the client rates 0.7 below theirs: a
//     divergence with the counsellor higher, the clinically worrying
//     direction, at every session.
const (
	demoRuptureDyad    = 2 // 0-based: DEMO-C003
	demoRuptureSession = 3
	demoWorryingDyad   = 5 // DEMO-C006
)

// demoPlanted is an alert a plant must raise.
type demoPlanted struct {
	Dyad    int
	Session int
	Kind    alliance.AlertKind
	Role    alliance.Role
}

// demoPlantedDyad reports whether dyad d carries a plant.
func demoPlantedDyad(d int) bool { return d == demoRuptureDyad || d == demoWorryingDyad }

// demoPlant moves a rater's mean for a planted event.
func demoPlant(d, session int, role alliance.Role, mean float64) float64 {
	switch {
	case d == demoRuptureDyad && role == alliance.RoleClient && session == demoRuptureSession:
		return mean - 1.2
	case d == demoWorryingDyad && role == alliance.RoleCounsellor:
		return mean + 1.8
	case d == demoWorryingDyad && role == alliance.RoleClient:
		return mean - 0.7
	}
	return mean
}

// demoPlantsOf lists the alerts dyad d's plants raise over its sessions.
func demoPlantsOf(d, sessions int) []demoPlanted {
	var out []demoPlanted
	switch d {
	case demoRuptureDyad:
		out = append(out,
			demoPlanted{d, demoRuptureSession, alliance.AlertRupture, alliance.RoleClient},
			demoPlanted{d, demoRuptureSession + 1, alliance.AlertRepair, alliance.RoleClient})
	case demoWorryingDyad:
		for s := 1; s <= sessions; s++ {
			out = append(out, demoPlanted{d, s, alliance.AlertDivergence, ""})
		}
	}
	return out
}
