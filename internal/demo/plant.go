package demo

import "github.com/alliance-project/alliance/internal/alliance"

// The demo's planted events, so that its study shows alerts and the alert
// rules can be checked against known answers (TestPlantedAlerts):
//
//   - the client of dyad DEMO-C003 has a rupture at session 3: their
//     total falls 1.2 points on the item metric (the published WAI-SR
//     reliability makes 0.58 a reliable drop), and is back at session 4,
//     a repair;
//   - the counsellor of dyad DEMO-C006 rates 1.8 above their usual level
//     (at the top of the scale) at sessions 2 to 4 while the client
//     rates 0.35, then 0.7 below theirs: a divergence with the counsellor
//     higher, the clinically worrying direction, at each of them. The
//     client's drop comes in two steps, each below a reliable change;
//     the counsellor's fall back at session 5 is a rupture of theirs.
//
// The plants stay away from the first and the last session, which the
// agreement reports on the demo (and their tests) look at.
const (
	ruptureDyad    = 2 // 0-based: DEMO-C003
	ruptureSession = 3
	worryingDyad   = 5 // DEMO-C006
	// The worrying divergence's sessions: every dyad has at least 5.
	worryingFrom, worryingTo = 2, 4
)

// Planted is an alert a planted event must raise: of the Dyad-th dyad
// (0-based, client code DEMO-C%03d of Dyad+1), at Session.
type Planted struct {
	Dyad    int
	Session int
	Kind    alliance.AlertKind
	Role    alliance.Role
}

// planted reports whether dyad d carries a plant.
func planted(d int) bool { return d == ruptureDyad || d == worryingDyad }

// plant moves a rater's mean for a planted event.
func plant(d, session int, role alliance.Role, mean float64) float64 {
	switch {
	case d == ruptureDyad && role == alliance.RoleClient && session == ruptureSession:
		return mean - 1.2
	case d == worryingDyad && session >= worryingFrom && session <= worryingTo && role == alliance.RoleCounsellor:
		return mean + 1.8
	case d == worryingDyad && session == worryingFrom && role == alliance.RoleClient:
		return mean - 0.35
	case d == worryingDyad && session > worryingFrom && session <= worryingTo && role == alliance.RoleClient:
		return mean - 0.7
	}
	return mean
}

// plantsOf lists the alerts dyad d's plants raise over its sessions.
func plantsOf(d, sessions int) []Planted {
	_ = sessions // every dyad has the sessions its plants need
	var out []Planted
	switch d {
	case ruptureDyad:
		out = append(out,
			Planted{d, ruptureSession, alliance.AlertRupture, alliance.RoleClient},
			Planted{d, ruptureSession + 1, alliance.AlertRepair, alliance.RoleClient})
	case worryingDyad:
		for s := worryingFrom; s <= worryingTo; s++ {
			out = append(out, Planted{d, s, alliance.AlertDivergence, ""})
		}
		out = append(out, Planted{d, worryingTo + 1, alliance.AlertRupture, alliance.RoleCounsellor})
	}
	return out
}
