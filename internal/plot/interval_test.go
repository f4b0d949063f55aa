package plot_test

import (
	"bytes"
	"image/png"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/internal/plot"
)

// bandOrange is the trajectories' CI band, Okabe–Ito orange at 45%
// opacity, as vgsvg writes it.
const bandOrange = "#E59E00"

// ciBands are the translucent fills of a Bland–Altman plot's CI bands:
// arc-free paths with a fill opacity, other than the white box behind a
// note.
func (doc svgDoc) ciBands() []svgPath {
	var out []svgPath
	for _, p := range doc.paths {
		if p.style["fill-opacity"] != "" && p.fill() != "#FFFFFF" && !strings.Contains(p.d, "A") {
			out = append(out, p)
		}
	}
	return out
}

// coloured returns the paths stroked or filled with colour c.
func (doc svgDoc) coloured(c string) []svgPath {
	var out []svgPath
	for _, p := range doc.paths {
		if p.stroke() == c || p.fill() == c {
			out = append(out, p)
		}
	}
	return out
}

// pagePoints are a path's M/L vertices in page coordinates (y down).
func (doc svgDoc) pagePoints(p svgPath) [][2]float64 {
	pts := p.points()
	for i := range pts {
		pts[i][1] = doc.height - pts[i][1]
	}
	return pts
}

// inPanel reports whether page point pt lies in the data area of pn,
// allowing tol points for rounding.
func inPanel(pn plot.Panel, pt [2]float64, tol float64) bool {
	x0, x1 := math.Min(pn.X.PxMin, pn.X.PxMax), math.Max(pn.X.PxMin, pn.X.PxMax)
	y0, y1 := math.Min(pn.Y.PxMin, pn.Y.PxMax), math.Max(pn.Y.PxMin, pn.Y.PxMax)
	return pt[0] >= x0-tol && pt[0] <= x1+tol && pt[1] >= y0-tol && pt[1] <= y1+tol
}

// TestNoIntervalBelowMinN: the service reports no interval from fewer than
// 3 observations (bounds null, ci_reason n_too_small; docs/statistics.md),
// so no figure draws one either, even when a caller passes it, and the
// caption says where intervals are missing; from 3 on they are back.
func TestNoIntervalBelowMinN(t *testing.T) {
	t.Parallel()
	t.Run("bland-altman", func(t *testing.T) {
		t.Parallel()
		c, tc := []float64{3, 4.5, 2}, []float64{3.5, 2.5, 2.25}
		for _, n := range []int{2, 3} {
			in := baInput(c[:n], tc[:n]) // limits() gives CIs at any n, as a careless caller would
			doc := renderSVG(t, func(w io.Writer, f plot.Format) error { return plot.BlandAltman(w, in, f) })
			m := doc.metadata(t)
			if _, ok := m.Values["bias"]; !ok {
				t.Fatalf("n = %d: no bias line; values %v", n, m.Values)
			}
			hasCI := strings.Contains(m.Caption, "95% CI")
			if n < 3 {
				if hasCI || len(doc.ciBands()) != 0 {
					t.Errorf("n = %d: caption %q, %d CI bands; want no CI quoted or shaded", n, m.Caption, len(doc.ciBands()))
				}
				if !strings.Contains(m.Caption, "No CIs: fewer than 3 dyads.") {
					t.Errorf("n = %d: caption %q does not say why there are no CIs", n, m.Caption)
				}
			} else if !hasCI || strings.Contains(m.Caption, "No CIs") {
				t.Errorf("n = %d: caption %q, want the CIs quoted", n, m.Caption)
			}
		}
	})
	t.Run("caterpillar", func(t *testing.T) {
		t.Parallel()
		cs := []plot.CounsellorDifferences{
			{Code: "A", Differences: []float64{0.5, -0.25}},
			{Code: "B", Differences: []float64{0.5, 0.25, 0}},
			{Code: "C", Differences: []float64{1}},
		}
		in := plot.CaterpillarInput{Scale: wai, Counsellors: cs}
		doc := renderSVG(t, func(w io.Writer, f plot.Format) error { return plot.Caterpillar(w, in, f) })
		m := doc.metadata(t)
		var withCI []plot.RowMeta
		for _, r := range m.Rows {
			switch {
			case r.N >= 3:
				if !(r.Lower < r.Mean && r.Mean < r.Upper) {
					t.Errorf("row %q: CI [%v, %v] does not surround %v", r.Label, r.Lower, r.Upper, r.Mean)
				}
				withCI = append(withCI, r)
			case r.Lower != r.Mean || r.Upper != r.Mean:
				t.Errorf("row %q: CI [%v, %v] from %d dyads, want none", r.Label, r.Lower, r.Upper, r.N)
			}
		}
		bars := doc.hlines(blue, 1.4)
		if len(bars) != len(withCI) {
			t.Fatalf("CI bars at page y %v, want one per row with n ≥ 3 (%d)", bars, len(withCI))
		}
		approx(t, "CI bar y", bars[0], withCI[0].Y, 0.01)
		if !strings.Contains(m.Caption, "none where n < 3") {
			t.Errorf("caption %q, want it to say no CI where n < 3", m.Caption)
		}
	})
	t.Run("trajectories", func(t *testing.T) {
		t.Parallel()
		dyads := [][]plot.SessionValue{{{1, 0.5}, {2, 0.25}}, {{1, -0.25}, {2, 0.5}}, {{2, 0}}}
		in := plot.TrajectoriesInput{Scale: wai, Dyads: dyads}
		doc := renderSVG(t, func(w io.Writer, f plot.Format) error { return plot.Trajectories(w, in, f) })
		m := doc.metadata(t)
		if len(m.Sessions) != 2 || m.Sessions[0].N != 2 || m.Sessions[1].N != 3 {
			t.Fatalf("sessions %+v, want n = 2 and 3", m.Sessions)
		}
		s1, s2 := m.Sessions[0], m.Sessions[1]
		if !s1.NoCI || s1.Lower != s1.Mean || s1.Upper != s1.Mean {
			t.Errorf("session 1 (n = 2): no_ci %v, CI [%v, %v]; want none", s1.NoCI, s1.Lower, s1.Upper)
		}
		if s2.NoCI || !(s2.Lower < s2.Mean && s2.Mean < s2.Upper) {
			t.Errorf("session 2 (n = 3): no_ci %v, CI [%v, %v]; want one around %v", s2.NoCI, s2.Lower, s2.Upper, s2.Mean)
		}
		marks := doc.coloured(bandOrange)
		if len(marks) == 0 {
			t.Fatal("no CI drawn for session 2")
		}
		for _, p := range marks {
			for _, pt := range doc.pagePoints(p) {
				if math.Abs(pt[0]-s2.XPx) > 0.01 {
					t.Errorf("CI mark at x %v, want only at session 2 (x %v): %s", pt[0], s2.XPx, p.d)
				}
			}
		}
		if !strings.Contains(m.Caption, "none where n < 3") {
			t.Errorf("caption %q, want it to say no CI where n < 3", m.Caption)
		}
	})
}

// TestMinNIntervalFromCaller: a caller's own rule replaces the default,
// in what is drawn and in what the caption says.
func TestMinNIntervalFromCaller(t *testing.T) {
	t.Parallel()
	cs := []plot.CounsellorDifferences{{Code: "A", Differences: []float64{0.5, 0.25, 0}}, {Code: "B", Differences: []float64{0, 0.25, 0.5, 0.75}}}
	in := plot.CaterpillarInput{Scale: wai, Counsellors: cs, MinNInterval: 4}
	doc := renderSVG(t, func(w io.Writer, f plot.Format) error { return plot.Caterpillar(w, in, f) })
	m := doc.metadata(t)
	for _, r := range m.Rows {
		if r.NoCI != (r.N < 4) {
			t.Errorf("row %q: no_ci %v, want %v with MinNInterval 4", r.Label, r.NoCI, r.N < 4)
		}
	}
	if bars := doc.hlines(blue, 1.4); len(bars) != 1 {
		t.Errorf("CI bars at page y %v, want one (n = 4)", bars)
	}
	if !strings.Contains(m.Caption, "none where n < 4") {
		t.Errorf("caption %q, want it to say no CI where n < 4", m.Caption)
	}
}

// TestIntervalsStayInPlotArea: an interval wider than the axis is cut at
// the edge of the data area, so it can never cover the title, the axes or
// the caption, in SVG or PNG.
func TestIntervalsStayInPlotArea(t *testing.T) {
	t.Parallel()
	wide := []float64{4, -4, 4} // 95% CI about −10 to 13 on an axis of ±4
	tests := []struct {
		name  string
		dyads [][]plot.SessionValue
	}{
		{"a lone session's error bar", [][]plot.SessionValue{{{1, wide[0]}}, {{1, wide[1]}, {2, 0.5}}, {{1, wide[2]}}}},
		{"a band over sessions", [][]plot.SessionValue{{{1, wide[0]}, {2, -wide[0]}}, {{1, wide[1]}, {2, -wide[1]}}, {{1, wide[2]}, {2, -wide[2]}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			draw := func(w io.Writer, f plot.Format) error {
				return plot.Trajectories(w, plot.TrajectoriesInput{Scale: wai, Dyads: tt.dyads}, f)
			}
			doc := renderSVG(t, draw)
			m := doc.metadata(t)
			if s := m.Sessions[0]; s.NoCI || s.Upper < 2*wai.Max {
				t.Fatalf("session 1 CI [%v, %v], want one far wider than the axis", s.Lower, s.Upper)
			}
			if !strings.Contains(m.Caption, "the band is cut at its edge") {
				t.Errorf("caption %q does not say the band is cut", m.Caption)
			}
			pn := m.Panels[0]
			marks := doc.coloured(bandOrange)
			if len(marks) == 0 {
				t.Fatal("no CI drawn")
			}
			for _, p := range marks {
				for _, pt := range doc.pagePoints(p) {
					if !inPanel(pn, pt, 0.01) {
						t.Errorf("CI mark vertex %v outside the data area %+v", pt, pn)
					}
				}
			}

			var buf bytes.Buffer
			if err := draw(&buf, plot.PNG); err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(&buf)
			if err != nil {
				t.Fatal(err)
			}
			// the band over white is about (244, 212, 140); nothing else in
			// this figure is orange
			px := func(v float64) float64 { return v * plot.DPI / 72 }
			outside := 0
			b := img.Bounds()
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					r, g, bl, _ := img.At(x, y).RGBA()
					r, g, bl = r>>8, g>>8, bl>>8
					if !(r > 200 && int(r)-int(bl) > 60 && int(g)-int(bl) > 30) {
						continue
					}
					if !inPanel(pn, [2]float64{float64(x) * 72 / plot.DPI, float64(y) * 72 / plot.DPI}, 72/plot.DPI*2) {
						outside++
					}
				}
			}
			if outside > 0 {
				t.Errorf("PNG: %d band-coloured pixels outside the data area (x %v..%v, y %v..%v px)",
					outside, px(pn.X.PxMin), px(pn.X.PxMax), px(pn.Y.PxMax), px(pn.Y.PxMin))
			}
		})
	}
}
