package plot_test

import (
	"io"

	"github.com/alliance-project/alliance/internal/plot"
)

type drawFunc func(w io.Writer, f plot.Format) error

// samples are the figures of the synthetic study by file name, and every
// figure at n = 0 and n = 2.
func samples() map[string]drawFunc {
	out := studySamples()
	for _, n := range []int{0, 2} {
		for name, d := range allFigures(n) {
			out["edge-n"+itoa(n)+"-"+name] = d
		}
	}
	// odd but legal data: coinciding lines and labels, extreme ranges
	same := []float64{2, 3, 4, 5}
	shifted := []float64{1.5, 2.5, 3.5, 4.5}
	huge := plot.Scale{Name: "Minutes", Unit: "minutes", Min: -1e6, Max: 1e6}
	hc, ht := []float64{-1e6, 0, 1e6, 5e5}, []float64{1e6, 0, -1e6, 4e5}
	out["odd-zero-variance-bland-altman"] = func(w io.Writer, f plot.Format) error {
		return plot.BlandAltman(w, baInput(same, shifted), f)
	}
	out["odd-huge-range-bland-altman"] = func(w io.Writer, f plot.Format) error {
		in := baInput(hc, ht)
		in.Scale = huge
		return plot.BlandAltman(w, in, f)
	}
	out["odd-huge-range-scatter"] = func(w io.Writer, f plot.Format) error {
		return plot.Scatter(w, plot.ScatterInput{Scale: huge, Client: hc, Counsellor: ht}, f)
	}
	return out
}

func studySamples() map[string]drawFunc {
	c, t := synthPairs(120, 1)
	c1, t1 := synthPairs(1, 2)
	cb, tb := continuousPairs(3000, 3) // past MaxMarkers: binned
	traj := synthTrajectories(60, 10, 4)
	trajBig := synthTrajectories(400, 10, 5)
	return map[string]drawFunc{
		"bland-altman": func(w io.Writer, f plot.Format) error {
			return plot.BlandAltman(w, baInput(c, t), f)
		},
		"bland-altman-n1": func(w io.Writer, f plot.Format) error {
			return plot.BlandAltman(w, baInput(c1, t1), f)
		},
		"bland-altman-binned": func(w io.Writer, f plot.Format) error {
			return plot.BlandAltman(w, baInput(cb, tb), f)
		},
		"scatter": func(w io.Writer, f plot.Format) error {
			return plot.Scatter(w, scatterInput(c, t), f)
		},
		"scatter-n2": func(w io.Writer, f plot.Format) error {
			return plot.Scatter(w, scatterInput(c[:2], t[:2]), f)
		},
		"scatter-binned": func(w io.Writer, f plot.Format) error {
			return plot.Scatter(w, scatterInput(cb, tb), f)
		},
		"trajectories": func(w io.Writer, f plot.Format) error {
			return plot.Trajectories(w, plot.TrajectoriesInput{Scale: wai, Dyads: traj, Sessions: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}, f)
		},
		"trajectories-binned": func(w io.Writer, f plot.Format) error {
			return plot.Trajectories(w, plot.TrajectoriesInput{Scale: wai, Dyads: trajBig}, f)
		},
		"caterpillar": func(w io.Writer, f plot.Format) error {
			return plot.Caterpillar(w, plot.CaterpillarInput{Scale: wai, Counsellors: synthCounsellors(14, 6)}, f)
		},
		"caterpillar-anonymous-100": func(w io.Writer, f plot.Format) error {
			return plot.Caterpillar(w, plot.CaterpillarInput{Scale: wai, Counsellors: synthCounsellors(100, 7), HideCodes: true}, f)
		},
		"dyad-trajectory": func(w io.Writer, f plot.Format) error {
			return plot.DyadTrajectory(w, synthDyad(10, 8), f)
		},
		"dyad-trajectory-total": func(w io.Writer, f plot.Format) error {
			in := synthDyad(10, 8)
			in.Scales = in.Scales[:1]
			return plot.DyadTrajectory(w, in, f)
		},
	}
}
