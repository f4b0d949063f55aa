package plot_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/alliance-project/alliance/internal/plot"
)

// The synthetic study: a 12-item form answered 1–5, so scale scores are
// item means in steps of 1/12; clients rate the alliance a little higher
// than counsellors do, and the gap narrows over sessions.

var wai = plot.Scale{Name: "WAI-SR total", Unit: "item mean", Min: 1, Max: 5}

func itemMean(v float64) float64 {
	v = math.Round(v*12) / 12
	return math.Min(5, math.Max(1, v))
}

// synthPairs returns n client and counsellor scores at one session.
func synthPairs(n int, seed uint64) (client, counsellor []float64) {
	r := rand.New(rand.NewPCG(seed, 1))
	for range n {
		a := 3.7 + 0.5*r.NormFloat64()
		client = append(client, itemMean(a+0.2+0.1*(a-3.7)+0.3*r.NormFloat64()))
		counsellor = append(counsellor, itemMean(a-0.15+0.3*r.NormFloat64()))
	}
	return client, counsellor
}

// continuousPairs has no ties: every dyad is its own marker.
func continuousPairs(n int, seed uint64) (client, counsellor []float64) {
	r := rand.New(rand.NewPCG(seed, 2))
	for range n {
		a := 1.5 + 3*r.Float64()
		client = append(client, math.Min(5, math.Max(1, a+0.2+0.25*r.NormFloat64())))
		counsellor = append(counsellor, math.Min(5, math.Max(1, a+0.25*r.NormFloat64())))
	}
	return client, counsellor
}

// limits computes bias ± 1.96 SD with the CIs of Bland & Altman (1986),
// as internal/stats does; n ≥ 2.
func limits(client, counsellor []float64) *plot.BALimits {
	d := make([]float64, len(client))
	for i := range d {
		d[i] = client[i] - counsellor[i]
	}
	n := float64(len(d))
	m, s := stat.MeanStdDev(d, nil)
	if math.IsNaN(s) {
		s = 0
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Quantile(0.975)
	hb, hl := t*s/math.Sqrt(n), t*math.Sqrt(3*s*s/n)
	lo, up := m-1.96*s, m+1.96*s
	return &plot.BALimits{
		Bias:       plot.Estimate{Value: m, CI: &plot.Interval{Lower: m - hb, Upper: m + hb}},
		Lower:      plot.Estimate{Value: lo, CI: &plot.Interval{Lower: lo - hl, Upper: lo + hl}},
		Upper:      plot.Estimate{Value: up, CI: &plot.Interval{Lower: up - hl, Upper: up + hl}},
		Multiplier: 1.96,
	}
}

func trend(client, counsellor []float64) *plot.Line {
	m, d := make([]float64, len(client)), make([]float64, len(client))
	for i := range m {
		m[i], d[i] = (client[i]+counsellor[i])/2, client[i]-counsellor[i]
	}
	a, b := stat.LinearRegression(m, d, nil, false)
	return &plot.Line{Intercept: a, Slope: b}
}

func baInput(client, counsellor []float64) plot.BAInput {
	in := plot.BAInput{Scale: wai, Client: client, Counsellor: counsellor}
	if len(client) >= 2 {
		in.Limits = limits(client, counsellor)
		in.Trend = trend(client, counsellor)
	}
	return in
}

func scatterInput(client, counsellor []float64) plot.ScatterInput {
	in := plot.ScatterInput{Scale: wai, Client: client, Counsellor: counsellor}
	if len(client) >= 3 {
		r := stat.Correlation(counsellor, client, nil)
		in.Pearson = &plot.Estimate{Value: r}
		in.CCC = &plot.Estimate{Value: ccc(counsellor, client), CI: &plot.Interval{Lower: ccc(counsellor, client) - 0.07, Upper: ccc(counsellor, client) + 0.06}}
	}
	return in
}

// ccc is Lin's concordance correlation with population moments.
func ccc(x, y []float64) float64 {
	n := float64(len(x))
	mx, vx := stat.MeanVariance(x, nil)
	my, vy := stat.MeanVariance(y, nil)
	c := stat.Covariance(x, y, nil) * (n - 1) / n
	vx, vy = vx*(n-1)/n, vy*(n-1)/n
	return 2 * c / (vx + vy + (mx-my)*(mx-my))
}

// synthTrajectories gives dyads rated over up to sessions sessions: a
// client-higher gap that narrows, and dropout, so later sessions have
// fewer dyads.
func synthTrajectories(dyads, sessions int, seed uint64) [][]plot.SessionValue {
	r := rand.New(rand.NewPCG(seed, 3))
	out := make([][]plot.SessionValue, dyads)
	for i := range out {
		gap := 0.45 + 0.3*r.NormFloat64()
		last := sessions
		if r.Float64() < 0.5 {
			last = 1 + r.IntN(sessions)
		}
		for s := 1; s <= last; s++ {
			if r.Float64() < 0.1 {
				continue // a session one side did not rate
			}
			d := gap*math.Exp(-0.15*float64(s-1)) + 0.25*r.NormFloat64()
			out[i] = append(out[i], plot.SessionValue{Session: s, Value: math.Round(d*12) / 12})
		}
	}
	return out
}

// synthCounsellors gives k counsellors with 1–30 dyads each and their own
// mean gap; codes look like the ones the service issues.
func synthCounsellors(k int, seed uint64) []plot.CounsellorDifferences {
	r := rand.New(rand.NewPCG(seed, 4))
	out := make([]plot.CounsellorDifferences, k)
	for i := range out {
		gap := 0.3 + 0.35*r.NormFloat64()
		n := 1 + r.IntN(30)
		out[i].Code = fmt.Sprintf("C%03d", 7+i*13%97)
		for range n {
			out[i].Differences = append(out[i].Differences, math.Round((gap+0.45*r.NormFloat64())*12)/12)
		}
	}
	return out
}

// synthDyad is one dyad over sessions sessions: total and three subscales,
// the counsellor missing one session and the client another.
func synthDyad(sessions int, seed uint64) plot.DyadTrajectoryInput {
	r := rand.New(rand.NewPCG(seed, 5))
	in := plot.DyadTrajectoryInput{Dyad: "D-0042"}
	for _, name := range []string{"WAI-SR total", "Goal", "Task", "Bond"} {
		ss := plot.ScaleSeries{Scale: plot.Scale{Name: name, Unit: "item mean", Min: 1, Max: 5}}
		for s := 1; s <= sessions; s++ {
			base := 3.2 + 0.08*float64(s)
			if s != 4 {
				ss.Client = append(ss.Client, plot.SessionValue{Session: s, Value: itemMean(base + 0.5 - 0.04*float64(s) + 0.2*r.NormFloat64())})
			}
			if s != 6 {
				ss.Counsellor = append(ss.Counsellor, plot.SessionValue{Session: s, Value: itemMean(base + 0.2*r.NormFloat64())})
			}
		}
		in.Scales = append(in.Scales, ss)
	}
	return in
}
