package plot_test

import (
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
