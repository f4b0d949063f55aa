package alliance

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alliance-project/alliance/internal/instrument"
)

// rt is a rating of a role at a session with a total item mean (and the
// sum of 12 items).
func rt(id string, session int, role Role, mean float64) Rating {
	m, sum := mean, mean*12
	return Rating{ID: id, Session: session, Role: role, Scores: Scores{Total: Score{Mean: &m, Sum: &sum}}}
}

// published is the WAI-SR client reference: alpha .91, SD .70 on the item
// metric, so S_diff = √2·0.70·√0.09 = 0.296985 and 1.96·S_diff = 0.582090.
var published = &ReliabilityUsed{Alpha: 0.91, SD: 0.70, Source: ReliabilityPublished, Citation: "test"}

var publishedThreshold = 1.96 * math.Sqrt2 * 0.70 * math.Sqrt(1-0.91)

func scene(ratings []Rating, active ...Alert) alertScene {
	n := 0
	return alertScene{
		study:       Study{Alerts: DefaultAlertThresholds()},
		ratings:     ratings,
		forms:       map[Role]*Form{},
		reliability: map[Role]*ReliabilityUsed{RoleClient: published, RoleCounsellor: published},
		active:      active,
		newID:       func() string { n++; return fmt.Sprintf("al_%d", n) },
	}
}

// summary renders findings as "kind/role/session/direction" in order.
func summary(as []Alert) string {
	var out []string
	for _, a := range as {
		s := fmt.Sprintf("%s/%s/%d", a.Kind, a.Role, a.Session)
		if a.Figures.Direction != "" {
			s += "/" + a.Figures.Direction
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

func TestAlertFindings(t *testing.T) {
	c, k := RoleClient, RoleCounsellor
	tests := []struct {
		name    string
		ratings []Rating
		active  []Alert
		want    string
	}{
		{"nothing to say", []Rating{rt("c1", 1, c, 4.5), rt("k1", 1, k, 4.0), rt("c2", 2, c, 4.4)}, nil, ""},
		{"divergence at exactly the band, client higher",
			[]Rating{rt("c1", 1, c, 4.5), rt("k1", 1, k, 3.5)}, nil, "divergence//1/client_higher"},
		{"divergence, counsellor higher (the worrying direction)",
			[]Rating{rt("c1", 1, c, 3.0), rt("k1", 1, k, 4.25)}, nil, "divergence//1/counsellor_higher"},
		{"just inside the band", []Rating{rt("c1", 1, c, 4.49), rt("k1", 1, k, 3.5)}, nil, ""},
		{"one side only is no divergence", []Rating{rt("c1", 1, c, 5), rt("c2", 2, c, 4.9)}, nil, ""},
		{"rupture: a drop of the reliable change threshold",
			[]Rating{rt("c1", 1, c, 4.5), rt("c2", 2, c, 4.5-publishedThreshold)}, nil, "rupture/client/2"},
		{"no rupture just under the threshold",
			[]Rating{rt("c1", 1, c, 4.5), rt("c2", 2, c, 4.5-publishedThreshold+0.001)}, nil, ""},
		{"a rise is no rupture", []Rating{rt("c1", 1, c, 3.0), rt("c2", 2, c, 4.5)}, nil, ""},
		{"the previous rated session counts, not the previous number",
			[]Rating{rt("c1", 1, c, 4.5), rt("c4", 4, c, 3.5)}, nil, "rupture/client/4"},
		{"rupture and repair in one series",
			[]Rating{rt("c1", 1, c, 4.5), rt("c2", 2, c, 3.5), rt("c3", 3, c, 3.6), rt("c4", 4, c, 4.2)}, nil,
			"repair/client/4 rupture/client/2"},
		{"a repair of an active rupture",
			[]Rating{rt("c1", 1, c, 4.5), rt("c3", 3, c, 4.0)},
			[]Alert{{ID: "al_r", Kind: AlertRupture, Role: c, Session: 2, EpisodeID: "al_r", RatingIDs: []string{"c1", "c2old"},
				Figures: AlertFigures{Previous: 4.5, Current: 3.5, Threshold: publishedThreshold}}},
			"repair/client/3"},
		{"no second repair of a repaired episode",
			[]Rating{rt("c1", 1, c, 4.5), rt("c5", 5, c, 4.4)},
			[]Alert{{ID: "al_r", Kind: AlertRupture, Role: c, Session: 2, EpisodeID: "al_r", RatingIDs: []string{"c1", "c2old"},
				Figures: AlertFigures{Previous: 4.5, Current: 3.5, Threshold: publishedThreshold}},
				{ID: "al_p", Kind: AlertRepair, Role: c, Session: 3, EpisodeID: "al_r"}},
			""},
		{"roles are separate series", []Rating{rt("c1", 1, c, 4.5), rt("k2", 2, k, 3.0)}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := scene(tt.ratings, tt.active...)
			for i := range sc.active {
				a := &sc.active[i]
				a.Key = alertKey(a.Kind, a.Role, a.RatingIDs...)
			}
			if got := summary(sc.findings()); got != tt.want {
				t.Errorf("findings = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAlertFigures(t *testing.T) {
	c := RoleClient
	sc := scene([]Rating{rt("c1", 1, c, 4.5), rt("c2", 2, c, 3.5), rt("k2", 2, RoleCounsellor, 4.75)})
	var rup, div Alert
	for _, a := range sc.findings() {
		switch a.Kind {
		case AlertRupture:
			rup = a
		case AlertDivergence:
			div = a
		}
	}
	sdiff := math.Sqrt2 * 0.70 * math.Sqrt(1-0.91)
	f := rup.Figures
	for _, x := range []struct {
		name      string
		got, want float64
	}{
		{"previous", f.Previous, 4.5}, {"current", f.Current, 3.5}, {"change", f.Change, -1},
		{"s_diff", f.SDiff, sdiff}, {"threshold", f.Threshold, 1.96 * sdiff}, {"rci", f.RCI, -1 / sdiff}, {"z", f.Z, 1.96},
		{"divergence", div.Figures.Difference, -1.25}, {"band", div.Figures.Band, 1},
	} {
		if math.Abs(x.got-x.want) > 1e-12 {
			t.Errorf("%s = %v, want %v", x.name, x.got, x.want)
		}
	}
	if f.PreviousSession != 1 || f.Reliability.Source != ReliabilityPublished || rup.EpisodeID != rup.ID || rup.ID == "" {
		t.Errorf("rupture = %+v, want previous session 1, the published reliability, its own episode", rup)
	}
	if div.Figures.Direction != CounsellorHigher || !div.Worrying() || div.Role != "" {
		t.Errorf("divergence = %+v, want the counsellor higher, worrying, of no one role", div)
	}
	if want := "rupture:client:c1,c2"; rup.Key != want {
		t.Errorf("rupture key = %q, want %q", rup.Key, want)
	}
}

func TestLowAlliance(t *testing.T) {
	srs := &instrument.Form{ClinicalCutoff: &instrument.Cutoff{Value: 36, Metric: instrument.MetricSum, Source: "PCOMS"}}
	sum := func(id string, session int, v float64) Rating {
		m := v / 4
		return Rating{ID: id, Session: session, Role: RoleClient, Scores: Scores{Total: Score{Mean: &m, Sum: &v}}}
	}
	cut := 30.0
	tests := []struct {
		name   string
		form   *Form
		study  *float64
		sum    float64
		want   bool
		source string
	}{
		{"below the SRS cutoff", srs, nil, 35.9, true, "form"},
		{"at the cutoff is not below it", srs, nil, 36, false, ""},
		{"36 summed in floating point (scoring version 1) is not below it", srs, nil, 35.99999999999999, false, ""},
		{"a form without a cutoff", &instrument.Form{}, nil, 10, false, ""},
		{"the study's cutoff wins", srs, &cut, 35, false, ""},
		{"below the study's cutoff", &instrument.Form{}, &cut, 29.5, true, "study"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := scene([]Rating{sum("c1", 1, tt.sum)})
			sc.reliability = map[Role]*ReliabilityUsed{}
			sc.forms[RoleClient] = tt.form
			sc.study.Alerts.LowAllianceCutoff = tt.study
			got := sc.findings()
			if (len(got) == 1) != tt.want {
				t.Fatalf("findings = %q, want low alliance: %v", summary(got), tt.want)
			}
			if tt.want && (got[0].Kind != AlertLowAlliance || got[0].Figures.CutoffSource != tt.source || got[0].Figures.Sum != tt.sum) {
				t.Errorf("finding = %+v, want low_alliance from the %s cutoff", got[0], tt.source)
			}
		})
	}
}

func TestNoReliabilityNoRupture(t *testing.T) {
	sc := scene([]Rating{rt("c1", 1, RoleClient, 5), rt("c2", 2, RoleClient, 1)})
	sc.reliability = map[Role]*ReliabilityUsed{}
	if got := summary(sc.findings()); got != "" {
		t.Errorf("findings without a reliability = %q, want none", got)
	}
}

// raised renders what a write raises and resolves.
func (ch alertChange) String() string {
	var res []string
	for _, r := range ch.resolve {
		res = append(res, r.ID+"="+r.Reason)
	}
	slices.Sort(res)
	return "raise[" + summary(ch.raise) + "] resolve[" + strings.Join(res, " ") + "]"
}

func TestAlertEvaluate(t *testing.T) {
	c, k := RoleClient, RoleCounsellor
	at := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	active := func(kind AlertKind, role Role, session int, id string, ratings ...string) Alert {
		a := Alert{ID: id, Kind: kind, Role: role, Session: session, RatingIDs: ratings, EpisodeID: ""}
		if kind == AlertRupture || kind == AlertRepair {
			a.EpisodeID = "al_rup"
		}
		a.Key = alertKey(kind, role, ratings...)
		return a
	}
	tests := []struct {
		name        string
		ratings     []Rating // after the write
		active      []Alert
		wrote, gone *Rating
		want        string
	}{
		{name: "the second rating of a session raises its divergence",
			ratings: []Rating{rt("c1", 1, c, 4.8), rt("k1", 1, k, 3.5)}, wrote: &Rating{ID: "k1", Session: 1, Role: k},
			want: "raise[divergence//1/client_higher] resolve[]"},
		{name: "a finding already raised is not raised again",
			ratings: []Rating{rt("c1", 1, c, 4.8), rt("k1", 1, k, 3.5)}, wrote: &Rating{ID: "k1", Session: 1, Role: k},
			active: []Alert{active(AlertDivergence, "", 1, "al_d", "c1", "k1")},
			want:   "raise[] resolve[]"},
		{name: "a write elsewhere leaves other sessions' findings alone",
			ratings: []Rating{rt("c1", 1, c, 4.8), rt("k1", 1, k, 3.5), rt("c2", 2, c, 4.7)}, wrote: &Rating{ID: "c2", Session: 2, Role: c},
			want: "raise[] resolve[]"},
		{name: "an amendment resolves its version's alerts and raises the new version's",
			ratings: []Rating{rt("c1", 1, c, 4.9), rt("k1", 1, k, 3.5)},
			wrote:   &Rating{ID: "c1", Session: 1, Role: c}, gone: &Rating{ID: "c1old", Session: 1, Role: c},
			active: []Alert{active(AlertDivergence, "", 1, "al_d", "c1old", "k1")},
			want:   "raise[divergence//1/client_higher] resolve[al_d=amended]"},
		{name: "an amendment that removes the finding only resolves",
			ratings: []Rating{rt("c1", 1, c, 4.0), rt("k1", 1, k, 3.5)},
			wrote:   &Rating{ID: "c1", Session: 1, Role: c}, gone: &Rating{ID: "c1old", Session: 1, Role: c},
			active: []Alert{active(AlertDivergence, "", 1, "al_d", "c1old", "k1")},
			want:   "raise[] resolve[al_d=amended]"},
		{name: "a void resolves and re-evaluates the next session's rupture",
			ratings: []Rating{rt("c1", 1, c, 4.5), rt("c3", 3, c, 3.5)},
			gone:    &Rating{ID: "c2", Session: 2, Role: c},
			active:  []Alert{active(AlertLowAlliance, c, 2, "al_l", "c2")},
			want:    "raise[rupture/client/3] resolve[al_l=voided]"},
		{name: "a session rated in between re-evaluates the next one's rupture and its repair",
			ratings: []Rating{rt("c1", 1, c, 4.5), rt("c2", 2, c, 3.6), rt("c3", 3, c, 3.5), rt("c4", 4, c, 4.4)},
			wrote:   &Rating{ID: "c2", Session: 2, Role: c},
			active:  []Alert{active(AlertRupture, c, 3, "al_rup", "c1", "c3"), active(AlertRepair, c, 4, "al_rep", "c1", "c3", "c4")},
			want:    "raise[repair/client/4 rupture/client/2] resolve[al_rep=reevaluated al_rup=reevaluated]"},
		{name: "an amended rupture takes its repair with it",
			ratings: []Rating{rt("c1", 1, c, 4.5), rt("c2", 2, c, 4.4), rt("c3", 3, c, 4.5)},
			wrote:   &Rating{ID: "c2", Session: 2, Role: c}, gone: &Rating{ID: "c2old", Session: 2, Role: c},
			active: []Alert{active(AlertRupture, c, 2, "al_rup", "c1", "c2old"), active(AlertRepair, c, 3, "al_rep", "c1", "c2old", "c3")},
			want:   "raise[] resolve[al_rep=amended al_rup=amended]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := scene(tt.ratings, tt.active...)
			if got := sc.evaluate(tt.wrote, tt.gone, at).String(); got != tt.want {
				t.Errorf("evaluate = %s\nwant       %s", got, tt.want)
			}
		})
	}
}
