package plot_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/alliance-project/alliance/internal/plot"
)

// Benchmarks draw every figure at study scale: 10,000 dyads (× 10 sessions
// for trajectories). They report the output size too; run with
//
//	go test ./internal/plot/ -run '^$' -bench . -benchmem
func BenchmarkFigures(b *testing.B) {
	const n = 10000
	c, tc := continuousPairs(n, 31)
	cg, tg := synthPairs(n, 32)
	dyads := synthTrajectories(n, 10, 33)
	counsellors := synthCounsellors(200, 34)
	for i := range counsellors { // 200 counsellors × 50 dyads = 10,000
		for len(counsellors[i].Differences) < 50 {
			counsellors[i].Differences = append(counsellors[i].Differences, counsellors[i].Differences...)
		}
		counsellors[i].Differences = counsellors[i].Differences[:50]
	}
	dyad := synthDyad(50, 35)
	ba, bag, sc := baInput(c, tc), baInput(cg, tg), scatterInput(c, tc)
	figs := []struct {
		name string
		draw drawFunc
	}{
		{"BlandAltman/continuous", func(w io.Writer, f plot.Format) error { return plot.BlandAltman(w, ba, f) }},
		{"BlandAltman/grid", func(w io.Writer, f plot.Format) error { return plot.BlandAltman(w, bag, f) }},
		{"Scatter", func(w io.Writer, f plot.Format) error { return plot.Scatter(w, sc, f) }},
		{"Trajectories", func(w io.Writer, f plot.Format) error {
			return plot.Trajectories(w, plot.TrajectoriesInput{Scale: wai, Dyads: dyads}, f)
		}},
		{"Caterpillar", func(w io.Writer, f plot.Format) error {
			return plot.Caterpillar(w, plot.CaterpillarInput{Scale: wai, Counsellors: counsellors}, f)
		}},
		{"DyadTrajectory", func(w io.Writer, f plot.Format) error { return plot.DyadTrajectory(w, dyad, f) }},
	}
	for _, fig := range figs {
		for _, f := range []plot.Format{plot.SVG, plot.PNG} {
			b.Run(fmt.Sprintf("%s/%s", fig.name, f), func(b *testing.B) {
				var buf bytes.Buffer
				for b.Loop() {
					buf.Reset()
					if err := fig.draw(&buf, f); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(buf.Len())/1024, "KB")
			})
		}
	}
}
