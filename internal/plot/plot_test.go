package plot_test

import (
	"bytes"
	"errors"
	"image/png"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"golang.org/x/image/font/sfnt"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"

	"github.com/alliance-project/alliance/internal/plot"
)

const (
	blue       = "#0072B2" // Okabe–Ito blue: opaque strokes and fills
	vermillion = "#D55E00"
)

func TestBlandAltmanReadBack(t *testing.T) {
	t.Parallel()
	c120, t120 := synthPairs(120, 1)
	c10, t10 := continuousPairs(10, 9)
	tests := []struct {
		name              string
		client, counsell  []float64
		distinct          bool // every pair at its own position
		wantMarkersEqualN bool
	}{
		{"three distinct", []float64{3, 4, 2.5}, []float64{3.5, 3, 2}, true, true},
		{"ten continuous", c10, t10, true, true},
		{"120 on the 1/12 grid", c120, t120, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := baInput(tt.client, tt.counsell)
			doc := renderSVG(t, func(w io.Writer, f plot.Format) error { return plot.BlandAltman(w, in, f) })
			m := doc.metadata(t)
			n := len(tt.client)
			if m.Plot != "bland-altman" || m.N != n || m.Drawn != n {
				t.Errorf("metadata plot %q n %d drawn %d, want bland-altman, %d, %d", m.Plot, m.N, m.Drawn, n, n)
			}
			if got := doc.markers(m.MarkerFill); got != m.Markers {
				t.Errorf("marker elements = %d, metadata says %d", got, m.Markers)
			}
			if tt.wantMarkersEqualN && m.Markers != n {
				t.Errorf("markers = %d, want one per dyad (%d)", m.Markers, n)
			}
			if !tt.wantMarkersEqualN && m.Markers >= n {
				t.Errorf("markers = %d for %d tied dyads, want fewer (bubbles)", m.Markers, n)
			}
			if !strings.Contains(m.Caption, "n = "+itoa(n)+" dyads") || !strings.Contains(doc.allText(), "n = "+itoa(n)+" dyads") {
				t.Errorf("caption lacks n = %d: %q", n, m.Caption)
			}
			if !strings.Contains(m.Caption, "Point area proportional") && !strings.Contains(m.Caption, "One point per dyad") {
				t.Errorf("caption does not say how overlap is shown: %q", m.Caption)
			}

			lim := in.Limits
			y := m.Panels[0].Y
			for _, c := range []struct {
				name string
				v    float64
			}{{"bias", lim.Bias.Value}, {"loa_lower", lim.Lower.Value}, {"loa_upper", lim.Upper.Value}} {
				approx(t, "metadata "+c.name, m.Values[c.name], c.v, 1e-12)
				approx(t, "metadata "+c.name+"_y", m.Values[c.name+"_y"], y.Px(c.v), 0.01)
			}
			// independently: the drawn strokes, through the recorded axis
			bias := doc.hlines("#000000", 1.6)
			if len(bias) != 1 {
				t.Fatalf("bias strokes = %v, want exactly one", bias)
			}
			approx(t, "bias line value", y.Value(bias[0]), lim.Bias.Value, 1e-3)
			loa := doc.hlines(vermillion, 1.4)
			if len(loa) != 2 {
				t.Fatalf("limit strokes = %v, want two", loa)
			}
			slices.Sort(loa) // page y grows downwards: upper limit first
			approx(t, "upper limit line value", y.Value(loa[0]), lim.Upper.Value, 1e-3)
			approx(t, "lower limit line value", y.Value(loa[1]), lim.Lower.Value, 1e-3)
			for _, l := range m.Lines {
				if l.Name == "bias" {
					approx(t, "bias RefLine px", l.Px, bias[0], 0.01)
				}
			}
		})
	}
}

func itoa(n int) string {
	s := strings.Builder{}
	digits := []byte{}
	for n >= 10 {
		digits = append(digits, byte('0'+n%10))
		n /= 10
	}
	digits = append(digits, byte('0'+n))
	for i := len(digits) - 1; i >= 0; i-- {
		s.WriteByte(digits[i])
		if i%3 == 0 && i > 0 {
			s.WriteByte(',')
		}
	}
	return s.String()
}

func TestScatterReadBack(t *testing.T) {
	t.Parallel()
	c, tc := continuousPairs(25, 10)
	in := scatterInput(c, tc)
	doc := renderSVG(t, func(w io.Writer, f plot.Format) error { return plot.Scatter(w, in, f) })
	m := doc.metadata(t)
	if m.N != 25 || m.Drawn != 25 || m.Markers != 25 {
		t.Errorf("n, drawn, markers = %d, %d, %d, want 25 each", m.N, m.Drawn, m.Markers)
	}
	if got := doc.markers(m.MarkerFill); got != m.Markers+m.KeyMarkers {
		t.Errorf("marker elements = %d, want %d data + %d key", got, m.Markers, m.KeyMarkers)
	}
	p := m.Panels[0]
	if p.X.Min != wai.Min || p.X.Max != wai.Max || p.Y.Min != wai.Min || p.Y.Max != wai.Max {
		t.Errorf("axes %+v, want both %v..%v", p, wai.Min, wai.Max)
	}
	w, h := p.X.PxMax-p.X.PxMin, p.Y.PxMin-p.Y.PxMax
	approx(t, "data area aspect (w/h)", w/h, 1, 0.01)
	// the identity line runs from (min, min) to (max, max)
	found := false
	for _, path := range doc.paths {
		pts := path.points()
		if path.stroke() != "#000000" || path.width() != 1.2 || len(pts) != 2 || pts[0][1] == pts[1][1] {
			continue // not the identity: the key's line sample is horizontal
		}
		found = true
		for i, want := range []float64{wai.Min, wai.Max} {
			approx(t, "identity x", p.X.Value(pts[i][0]), want, 1e-3)
			approx(t, "identity y", p.Y.Value(doc.height-pts[i][1]), want, 1e-3)
		}
	}
	if !found {
		t.Error("no identity line found")
	}
	for _, s := range []string{"Lin's CCC = ", "95% CI", "Pearson r = ", "n = 25 dyads"} {
		if !strings.Contains(m.Caption, s) {
			t.Errorf("caption %q lacks %q", m.Caption, s)
		}
	}
}

func TestTrajectoriesReadBack(t *testing.T) {
	t.Parallel()
	dyads := [][]plot.SessionValue{
		{{1, 0.5}, {2, 0.25}, {3, 0}},
		{{1, 1}, {3, 0.5}},
		{{2, -0.5}},
		{{1, 0}, {2, 0.5}},
	}
	in := plot.TrajectoriesInput{Scale: wai, Dyads: dyads, Sessions: []int{1, 2, 3, 4}}
	doc := renderSVG(t, func(w io.Writer, f plot.Format) error { return plot.Trajectories(w, in, f) })
	m := doc.metadata(t)
	if m.N != 4 || m.Drawn != 8 || m.Values["observations"] != 8 {
		t.Errorf("n %d drawn %d observations %v, want 4, 8, 8", m.N, m.Drawn, m.Values["observations"])
	}
	if m.Values["dyad_lines"] != 3 || m.Markers != 1 {
		t.Errorf("dyad lines %v, single-session markers %d, want 3 and 1", m.Values["dyad_lines"], m.Markers)
	}
	lines := 0
	for _, p := range doc.paths {
		if p.stroke() == m.LineStroke && p.width() == 0.7 {
			lines++
		}
	}
	if lines != 3 {
		t.Errorf("dyad line elements = %d, want 3", lines)
	}
	if got := doc.markers(m.MarkerFill); got != 1 {
		t.Errorf("single-session marker elements = %d, want 1", got)
	}
	wantN := map[int]int{1: 3, 2: 3, 3: 2, 4: 0}
	wantMean := map[int]float64{1: 0.5, 2: 0.25 / 3, 3: 0.25}
	y := m.Panels[0].Y
	for _, s := range m.Sessions {
		if s.N != wantN[s.Session] {
			t.Errorf("session %d n = %d, want %d", s.Session, s.N, wantN[s.Session])
		}
		if !strings.Contains(s.Label, "("+itoa(s.N)+")") {
			t.Errorf("session %d tick label %q lacks its n", s.Session, s.Label)
		}
		if s.N > 0 {
			approx(t, "session mean", s.Mean, wantMean[s.Session], 1e-12)
			approx(t, "session mean y", s.Y, y.Px(s.Mean), 0.01)
			switch {
			case s.N >= 3 && !(s.Lower < s.Mean && s.Mean < s.Upper):
				t.Errorf("session %d CI [%v, %v] does not surround %v", s.Session, s.Lower, s.Upper, s.Mean)
			case s.N < 3 && (!s.NoCI || s.Lower != s.Mean || s.Upper != s.Mean):
				t.Errorf("session %d (n = %d) CI [%v, %v], want none below 3 dyads", s.Session, s.N, s.Lower, s.Upper)
			}
		} else if !s.Missing || s.Note != "No complete dyads at this session" {
			t.Errorf("session %d: missing %v note %q", s.Session, s.Missing, s.Note)
		}
	}
	if !strings.Contains(doc.allText(), "(0)") || !strings.Contains(m.Caption, "No complete dyads at session 4") {
		t.Errorf("empty session 4 not shown: caption %q", m.Caption)
	}
}

func TestCaterpillarReadBack(t *testing.T) {
	t.Parallel()
	cs := []plot.CounsellorDifferences{
		{Code: "C01", Differences: []float64{0.5, 0.25, 0.75}},
		{Code: "C02", Differences: []float64{-0.5, -0.25}},
		{Code: "C03", Differences: []float64{1}},
		{Code: "C04"},
		{Code: "C05", Differences: []float64{0, 0.1, -0.1, 0.05}},
	}
	for _, hide := range []bool{false, true} {
		in := plot.CaterpillarInput{Scale: wai, Counsellors: cs, HideCodes: hide}
		doc := renderSVG(t, func(w io.Writer, f plot.Format) error { return plot.Caterpillar(w, in, f) })
		m := doc.metadata(t)
		if m.N != 10 || m.Drawn != 10 || m.Markers != 4 {
			t.Errorf("n %d drawn %d markers %d, want 10, 10, 4", m.N, m.Drawn, m.Markers)
		}
		if got := doc.markers(m.MarkerFill); got != 4 {
			t.Errorf("mean marker elements = %d, want 4", got)
		}
		wantTop := []string{"C03 (n = 1)", "C01 (n = 3)", "C05 (n = 4)", "C02 (n = 2)", "C04 (n = 0)"}
		if hide {
			wantTop = []string{"Counsellor 1 (n = 1)", "Counsellor 2 (n = 3)", "Counsellor 3 (n = 4)", "Counsellor 4 (n = 2)", "Counsellor 5 (n = 0)"}
		}
		var got []string
		for i, r := range m.Rows {
			got = append(got, r.Label)
			if i > 0 && r.Y <= m.Rows[i-1].Y {
				t.Errorf("row %q at y %v is not below %q", r.Label, r.Y, m.Rows[i-1].Label)
			}
			if r.N > 0 {
				approx(t, r.Label+" x", r.X, m.Panels[0].X.Px(r.Mean), 0.01)
			}
			if !strings.Contains(doc.allText(), r.Label) {
				t.Errorf("row label %q not drawn", r.Label)
			}
		}
		if !slices.Equal(got, wantTop) {
			t.Errorf("rows top to bottom = %q, want %q", got, wantTop)
		}
		zero := doc.vlines("#808080", 0.8)
		if len(zero) != 1 {
			t.Fatalf("zero lines = %v, want one", zero)
		}
		approx(t, "zero line", m.Panels[0].X.Value(zero[0]), 0, 1e-3)
	}
}

func TestDyadTrajectoryMarkers(t *testing.T) {
	t.Parallel()
	in := synthDyad(6, 11)
	doc := renderSVG(t, func(w io.Writer, f plot.Format) error { return plot.DyadTrajectory(w, in, f) })
	m := doc.metadata(t)
	var nc, nt int
	for _, s := range in.Scales {
		nc, nt = nc+len(s.Client), nt+len(s.Counsellor)
	}
	if m.Markers != nc+nt || m.Drawn != nc+nt || len(m.Panels) != len(in.Scales) {
		t.Errorf("markers %d drawn %d panels %d, want %d, %d, %d", m.Markers, m.Drawn, len(m.Panels), nc+nt, nc+nt, len(in.Scales))
	}
	// one more of each in the legend
	if got := doc.markers(vermillion); got != nc+1 {
		t.Errorf("client circles = %d, want %d + 1 in the legend", got, nc)
	}
	if got := doc.triangles(blue); got != nt+1 {
		t.Errorf("counsellor triangles = %d, want %d + 1 in the legend", got, nt)
	}
	dashed := map[string]bool{}
	for _, p := range doc.paths {
		if p.width() == 1.6 {
			dashed[p.stroke()] = p.style["stroke-dasharray"] != ""
		}
	}
	if dashed[vermillion] || !dashed[blue] {
		t.Errorf("client dashed %v, counsellor dashed %v: want solid and dashed", dashed[vermillion], dashed[blue])
	}
	for _, s := range in.Scales {
		if !strings.Contains(doc.allText(), s.Scale.Name) {
			t.Errorf("panel %q has no title", s.Scale.Name)
		}
	}
}

// allFigures draws every figure type from n synthetic dyads.
func allFigures(n int) map[string]drawFunc {
	c, tc := synthPairs(n, 21)
	var dyads [][]plot.SessionValue
	var cs []plot.CounsellorDifferences
	for i := range n {
		d := c[i] - tc[i]
		dyads = append(dyads, []plot.SessionValue{{Session: 1, Value: d}})
		cs = append(cs, plot.CounsellorDifferences{Code: "C" + itoa(i), Differences: []float64{d}})
	}
	dy := plot.DyadTrajectoryInput{Dyad: "D1", Scales: []plot.ScaleSeries{{Scale: wai}}}
	for i := range n {
		dy.Scales[0].Client = append(dy.Scales[0].Client, plot.SessionValue{Session: i + 1, Value: c[i]})
		dy.Scales[0].Counsellor = append(dy.Scales[0].Counsellor, plot.SessionValue{Session: i + 1, Value: tc[i]})
	}
	return map[string]drawFunc{
		"bland-altman": func(w io.Writer, f plot.Format) error { return plot.BlandAltman(w, baInput(c, tc), f) },
		"scatter":      func(w io.Writer, f plot.Format) error { return plot.Scatter(w, scatterInput(c, tc), f) },
		"trajectories": func(w io.Writer, f plot.Format) error {
			return plot.Trajectories(w, plot.TrajectoriesInput{Scale: wai, Dyads: dyads, Sessions: []int{1, 2}}, f)
		},
		"caterpillar": func(w io.Writer, f plot.Format) error {
			return plot.Caterpillar(w, plot.CaterpillarInput{Scale: wai, Counsellors: cs}, f)
		},
		"dyad-trajectory": func(w io.Writer, f plot.Format) error { return plot.DyadTrajectory(w, dy, f) },
	}
}

func TestSmallN(t *testing.T) {
	t.Parallel()
	wantNote := map[string]map[int]string{
		"bland-altman":    {0: "No complete dyads at this session", 1: "n = 1: too few for limits of agreement", 2: "n = 2: limits of agreement are very imprecise"},
		"scatter":         {0: "No complete dyads at this session", 1: "n = 1: too few for Lin's CCC", 2: "n = 2: too few for Lin's CCC"},
		"trajectories":    {0: "No complete dyads at any session", 1: "n ≤ 1 at every session", 2: "n ≤ 2 at every session"},
		"caterpillar":     {0: "No counsellors with complete dyads at this session", 1: "n = 1: too few dyads", 2: "n = 2: too few dyads"},
		"dyad-trajectory": {0: "No ratings for this dyad", 1: "", 2: ""},
	}
	for _, n := range []int{0, 1, 2} {
		for name, draw := range allFigures(n) {
			t.Run(name+"/n="+itoa(n), func(t *testing.T) {
				t.Parallel()
				doc := renderSVG(t, draw)
				m := doc.metadata(t)
				want := wantNote[name][n]
				if !strings.HasPrefix(m.Note, want) || (want == "") != (m.Note == "") {
					t.Errorf("note = %q, want prefix %q", m.Note, want)
				}
				if want != "" && !strings.Contains(doc.allText(), want) {
					t.Errorf("body text lacks %q; texts %q", want, doc.texts)
				}
				if m.Note != "" && !strings.HasPrefix(doc.desc, m.Note) {
					t.Errorf("desc %q does not start with the note", doc.desc)
				}
				if name != "dyad-trajectory" && m.Drawn != n {
					t.Errorf("drawn = %d, want %d", m.Drawn, n)
				}
				var buf bytes.Buffer
				if err := draw(&buf, plot.PNG); err != nil {
					t.Fatalf("PNG: %v", err)
				}
				if _, err := png.Decode(&buf); err != nil {
					t.Fatalf("PNG does not decode: %v", err)
				}
			})
		}
	}
}

func TestPNGSize(t *testing.T) {
	t.Parallel()
	for name, draw := range studySamples() { // sizes differ by figure, not by n
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := renderSVG(t, draw).metadata(t)
			var buf bytes.Buffer
			if err := draw(&buf, plot.PNG); err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(&buf)
			if err != nil {
				t.Fatalf("PNG does not decode: %v", err)
			}
			// vgimg rounds up to whole pixels; 1e-6 absorbs float noise
			wantW := int(math.Ceil(m.Width/72*plot.DPI - 1e-6))
			wantH := int(math.Ceil(m.Height/72*plot.DPI - 1e-6))
			if b := img.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
				t.Errorf("PNG %d × %d, want %d × %d", b.Dx(), b.Dy(), wantW, wantH)
			}
		})
	}
	if w := plot.Width.Dots(plot.DPI); w != 1400 {
		t.Errorf("default width = %v px, want 1400", w)
	}
}

func TestTitleAndDescEscaped(t *testing.T) {
	t.Parallel()
	c, tc := synthPairs(5, 12)
	in := baInput(c, tc)
	in.Title = `Q&A <script>alert("x")</script> 'quoted'`
	in.Scale.Name = "Bond & Goal <subscale>"
	doc := renderSVG(t, func(w io.Writer, f plot.Format) error { return plot.BlandAltman(w, in, f) })
	if doc.title != in.Title {
		t.Errorf("<title> = %q, want %q", doc.title, in.Title)
	}
	if !strings.Contains(doc.desc, in.Scale.Name) || !strings.Contains(doc.desc, "n = 5 dyads") {
		t.Errorf("<desc> = %q, want the scale name and n", doc.desc)
	}
	if bytes.Contains(doc.raw, []byte("<script>")) || bytes.Contains(doc.raw, []byte("<subscale>")) {
		t.Error("raw markup from the input reached the SVG")
	}
	if !bytes.Contains(doc.raw, []byte(`role="img"`)) {
		t.Error(`root <svg> lacks role="img"`)
	}
}

func TestInvalidInput(t *testing.T) {
	t.Parallel()
	nan, inf := math.NaN(), math.Inf(1)
	ok := []float64{3, 4}
	lim := func(lo, b, hi float64) *plot.BALimits {
		return &plot.BALimits{Lower: plot.Estimate{Value: lo}, Bias: plot.Estimate{Value: b}, Upper: plot.Estimate{Value: hi}}
	}
	tests := []struct {
		name string
		draw func() error
	}{
		{"BA NaN client", func() error {
			return plot.BlandAltman(io.Discard, plot.BAInput{Scale: wai, Client: []float64{3, nan}, Counsellor: ok}, plot.SVG)
		}},
		{"BA Inf counsellor", func() error {
			return plot.BlandAltman(io.Discard, plot.BAInput{Scale: wai, Client: ok, Counsellor: []float64{inf, 3}}, plot.SVG)
		}},
		{"BA lengths differ", func() error {
			return plot.BlandAltman(io.Discard, plot.BAInput{Scale: wai, Client: ok, Counsellor: ok[:1]}, plot.SVG)
		}},
		{"BA off scale", func() error {
			return plot.BlandAltman(io.Discard, plot.BAInput{Scale: wai, Client: []float64{3, 6}, Counsellor: ok}, plot.SVG)
		}},
		{"BA limits unordered", func() error {
			return plot.BlandAltman(io.Discard, plot.BAInput{Scale: wai, Client: ok, Counsellor: ok, Limits: lim(1, 0, 2)}, plot.SVG)
		}},
		{"BA NaN bias", func() error {
			return plot.BlandAltman(io.Discard, plot.BAInput{Scale: wai, Client: ok, Counsellor: ok, Limits: lim(-1, nan, 1)}, plot.SVG)
		}},
		{"BA NaN CI", func() error {
			l := lim(-1, 0, 1)
			l.Bias.CI = &plot.Interval{Lower: nan, Upper: 1}
			return plot.BlandAltman(io.Discard, plot.BAInput{Scale: wai, Client: ok, Counsellor: ok, Limits: l}, plot.SVG)
		}},
		{"BA Inf trend", func() error {
			return plot.BlandAltman(io.Discard, plot.BAInput{Scale: wai, Client: ok, Counsellor: ok, Trend: &plot.Line{Slope: inf}}, plot.SVG)
		}},
		{"empty scale", func() error {
			return plot.BlandAltman(io.Discard, plot.BAInput{Scale: plot.Scale{Min: 5, Max: 5}}, plot.SVG)
		}},
		{"NaN scale", func() error {
			return plot.Scatter(io.Discard, plot.ScatterInput{Scale: plot.Scale{Min: nan, Max: 5}}, plot.SVG)
		}},
		{"bad conf", func() error {
			return plot.Scatter(io.Discard, plot.ScatterInput{Scale: wai, Conf: 95}, plot.SVG)
		}},
		{"scatter CCC > 1", func() error {
			return plot.Scatter(io.Discard, plot.ScatterInput{Scale: wai, Client: ok, Counsellor: ok, CCC: &plot.Estimate{Value: 1.5}}, plot.SVG)
		}},
		{"trajectory NaN", func() error {
			return plot.Trajectories(io.Discard, plot.TrajectoriesInput{Scale: wai, Dyads: [][]plot.SessionValue{{{1, nan}}}}, plot.SVG)
		}},
		{"trajectory difference wider than the scale", func() error {
			return plot.Trajectories(io.Discard, plot.TrajectoriesInput{Scale: wai, Dyads: [][]plot.SessionValue{{{1, 4.5}}}}, plot.SVG)
		}},
		{"trajectory session twice", func() error {
			return plot.Trajectories(io.Discard, plot.TrajectoriesInput{Scale: wai, Dyads: [][]plot.SessionValue{{{1, 0}, {1, 1}}}}, plot.SVG)
		}},
		{"trajectory session not listed", func() error {
			return plot.Trajectories(io.Discard, plot.TrajectoriesInput{Scale: wai, Dyads: [][]plot.SessionValue{{{3, 0}}}, Sessions: []int{1, 2}}, plot.SVG)
		}},
		{"caterpillar Inf", func() error {
			return plot.Caterpillar(io.Discard, plot.CaterpillarInput{Scale: wai, Counsellors: []plot.CounsellorDifferences{{Code: "a", Differences: []float64{inf}}}}, plot.SVG)
		}},
		{"dyad off scale", func() error {
			return plot.DyadTrajectory(io.Discard, plot.DyadTrajectoryInput{Scales: []plot.ScaleSeries{{Scale: wai, Client: []plot.SessionValue{{1, 0}}}}}, plot.SVG)
		}},
		{"dyad NaN", func() error {
			return plot.DyadTrajectory(io.Discard, plot.DyadTrajectoryInput{Scales: []plot.ScaleSeries{{Scale: wai, Counsellor: []plot.SessionValue{{1, nan}}}}}, plot.SVG)
		}},
		{"MinNInterval 1", func() error {
			return plot.Trajectories(io.Discard, plot.TrajectoriesInput{Scale: wai, MinNInterval: 1}, plot.SVG)
		}},
		{"MinNInterval negative", func() error {
			return plot.BlandAltman(io.Discard, plot.BAInput{Scale: wai, MinNInterval: -3}, plot.SVG)
		}},
		{"unknown format", func() error {
			return plot.BlandAltman(io.Discard, plot.BAInput{Scale: wai}, plot.Format(7))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.draw(); !errors.Is(err, plot.ErrInput) {
				t.Errorf("error = %v, want one wrapping ErrInput", err)
			}
		})
	}
}

// TestOddInputs draws degenerate but legal data: every figure must come out
// valid with every dyad accounted for.
func TestOddInputs(t *testing.T) {
	t.Parallel()
	identical := []float64{3, 3, 3, 3, 3, 3}
	huge := plot.Scale{Name: "Huge", Unit: "points", Min: -1e9, Max: 1e9}
	tiny := plot.Scale{Name: "Tiny", Min: 0, Max: 1e-9}
	neg := plot.Scale{Name: "Bipolar", Min: -3, Max: 3}
	type pairs struct {
		scale   plot.Scale
		c, t    []float64
		markers int
	}
	tests := []struct {
		name string
		p    pairs
	}{
		{"all points identical", pairs{wai, identical, identical, 1}},
		{"zero variance differences", pairs{wai, []float64{2, 3, 4, 5}, []float64{1.5, 2.5, 3.5, 4.5}, 4}},
		{"one rater constant", pairs{wai, []float64{1, 2, 3, 4}, []float64{3, 3, 3, 3}, 4}},
		{"extremes of the scale", pairs{wai, []float64{1, 5, 1, 5}, []float64{5, 1, 1, 5}, 4}},
		{"huge range", pairs{huge, []float64{-1e9, 0, 1e9, 5e8}, []float64{1e9, 0, -1e9, 5e8}, 4}},
		{"tiny range", pairs{tiny, []float64{0, 1e-9, 5e-10}, []float64{1e-9, 0, 5e-10}, 3}},
		{"bipolar scale", pairs{neg, []float64{-3, 0, 2.5}, []float64{-2, 0.5, 3}, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := tt.p
			n := len(p.c)
			ba := plot.BAInput{Scale: p.scale, Client: p.c, Counsellor: p.t, Limits: limits(p.c, p.t), Trend: trend(p.c, p.t)}
			if !isFinite(ba.Trend.Slope, ba.Trend.Intercept) {
				ba.Trend = nil // constant pair means: no regression, as stats returns
			}
			sc := plot.ScatterInput{Scale: p.scale, Client: p.c, Counsellor: p.t}
			var dyads [][]plot.SessionValue
			cs := []plot.CounsellorDifferences{{Code: "X"}}
			dy := plot.DyadTrajectoryInput{Scales: []plot.ScaleSeries{{Scale: p.scale}}}
			for i := range p.c {
				d := p.c[i] - p.t[i]
				dyads = append(dyads, []plot.SessionValue{{Session: 1, Value: d}, {Session: 2, Value: d}})
				cs[0].Differences = append(cs[0].Differences, d)
				dy.Scales[0].Client = append(dy.Scales[0].Client, plot.SessionValue{Session: i + 1, Value: p.c[i]})
			}
			figs := map[string]drawFunc{
				"bland-altman": func(w io.Writer, f plot.Format) error { return plot.BlandAltman(w, ba, f) },
				"scatter":      func(w io.Writer, f plot.Format) error { return plot.Scatter(w, sc, f) },
				"trajectories": func(w io.Writer, f plot.Format) error {
					return plot.Trajectories(w, plot.TrajectoriesInput{Scale: p.scale, Dyads: dyads}, f)
				},
				"caterpillar": func(w io.Writer, f plot.Format) error {
					return plot.Caterpillar(w, plot.CaterpillarInput{Scale: p.scale, Counsellors: cs}, f)
				},
				"dyad-trajectory": func(w io.Writer, f plot.Format) error { return plot.DyadTrajectory(w, dy, f) },
			}
			for name, draw := range figs {
				doc := renderSVG(t, draw)
				m := doc.metadata(t)
				want := map[string]int{"bland-altman": n, "scatter": n, "trajectories": 2 * n, "caterpillar": n, "dyad-trajectory": n}[name]
				if m.Drawn != want {
					t.Errorf("%s: drawn = %d, want %d", name, m.Drawn, want)
				}
				if name == "bland-altman" || name == "scatter" {
					if m.Markers != p.markers || doc.markers(m.MarkerFill) != m.Markers+m.KeyMarkers {
						t.Errorf("%s: markers %d (elements %d), want %d", name, m.Markers, doc.markers(m.MarkerFill), p.markers)
					}
				}
				for _, pn := range m.Panels {
					if !isFinite(pn.X.PxMin, pn.X.PxMax, pn.Y.PxMin, pn.Y.PxMax) || pn.X.PxMin == pn.X.PxMax || pn.Y.PxMin == pn.Y.PxMax {
						t.Errorf("%s: degenerate axis transform %+v", name, pn)
					}
				}
				if bytes.Contains(doc.raw, []byte("NaN")) || bytes.Contains(doc.raw, []byte("Inf")) {
					t.Errorf("%s: NaN or Inf in the SVG", name)
				}
			}
		})
	}
}

func isFinite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

func TestLargeNIsBinned(t *testing.T) {
	t.Parallel()
	c, tc := continuousPairs(10000, 13)
	dyads := synthTrajectories(10000, 10, 14)
	for name, draw := range map[string]drawFunc{
		"bland-altman": func(w io.Writer, f plot.Format) error { return plot.BlandAltman(w, baInput(c, tc), f) },
		"scatter":      func(w io.Writer, f plot.Format) error { return plot.Scatter(w, scatterInput(c, tc), f) },
		"trajectories": func(w io.Writer, f plot.Format) error {
			return plot.Trajectories(w, plot.TrajectoriesInput{Scale: wai, Dyads: dyads}, f)
		},
	} {
		doc := renderSVG(t, draw)
		m := doc.metadata(t)
		if !m.Binned || m.Encoding != "binned" || !strings.Contains(m.Caption, "binned") {
			t.Errorf("%s: binned %v encoding %q caption %q", name, m.Binned, m.Encoding, m.Caption)
		}
		want := 10000
		if name == "trajectories" {
			want = int(m.Values["observations"])
		}
		if m.Drawn != want {
			t.Errorf("%s: drawn = %d, want %d", name, m.Drawn, want)
		}
		if got := doc.markers(m.MarkerFill); got != m.Markers+m.KeyMarkers || m.Markers > plot.MaxMarkers {
			t.Errorf("%s: marker elements %d, metadata %d", name, got, m.Markers)
		}
		if len(doc.raw) > 300<<10 {
			t.Errorf("%s: SVG is %d KB, want under 300 KB", name, len(doc.raw)>>10)
		}
		t.Logf("%s: %d dyads → %d markers, SVG %d KB", name, m.N, m.Markers, len(doc.raw)>>10)
	}
}

// TestJustBelowBinning is the largest SVG the package writes: MaxMarkers
// distinct points, each its own marker.
func TestJustBelowBinning(t *testing.T) {
	t.Parallel()
	c, tc := continuousPairs(plot.MaxMarkers, 15)
	doc := renderSVG(t, func(w io.Writer, f plot.Format) error { return plot.BlandAltman(w, baInput(c, tc), f) })
	m := doc.metadata(t)
	if m.Binned || m.Markers != plot.MaxMarkers || doc.markers(m.MarkerFill) != plot.MaxMarkers {
		t.Errorf("binned %v markers %d elements %d, want unbinned %d", m.Binned, m.Markers, doc.markers(m.MarkerFill), plot.MaxMarkers)
	}
	if len(doc.raw) > 300<<10 {
		t.Errorf("SVG is %d KB, want under 300 KB", len(doc.raw)>>10)
	}
	t.Logf("%d markers: SVG %d KB", m.Markers, len(doc.raw)>>10)
}

// TestTextHasGlyphs fails on a character that Liberation Sans lacks, which
// the PNG would show as an empty box (∝ is one: captions spell it out).
func TestTextHasGlyphs(t *testing.T) {
	t.Parallel()
	_ = gplot.New() // registers the Liberation fonts with the cache
	var buf sfnt.Buffer
	faces := map[string]font.Face{}
	for _, v := range []font.Font{{Typeface: "Liberation", Variant: "Sans"}} {
		faces[string(v.Variant)] = font.DefaultCache.Lookup(v, 10)
	}
	for name, draw := range samples() {
		doc := renderSVG(t, draw)
		for _, txt := range doc.texts {
			for _, r := range txt {
				if r == ' ' {
					continue
				}
				g, err := faces["Sans"].Face.GlyphIndex(&buf, r)
				if err != nil || g == 0 {
					t.Errorf("%s: %q in %q has no glyph in Liberation Sans", name, r, txt)
				}
			}
		}
	}
}

func TestMetadataKeys(t *testing.T) {
	t.Parallel()
	c, tc := synthPairs(30, 16)
	doc := renderSVG(t, func(w io.Writer, f plot.Format) error { return plot.BlandAltman(w, baInput(c, tc), f) })
	for _, k := range []string{`"n":30`, `"bias":`, `"loa_lower":`, `"loa_upper":`, `"bias_y":`, `"loa_lower_y":`, `"loa_upper_y":`, `"px_min":`, `"panels":`} {
		if !strings.Contains(doc.metaText, k) {
			t.Errorf("metadata lacks %s: %.300s", k, doc.metaText)
		}
	}
}

func TestBlandAltmanWithoutLimits(t *testing.T) {
	t.Parallel()
	in := plot.BAInput{Scale: wai, Client: []float64{3, 4, 2}, Counsellor: []float64{2, 4, 3}}
	doc := renderSVG(t, func(w io.Writer, f plot.Format) error { return plot.BlandAltman(w, in, f) })
	m := doc.metadata(t)
	if len(doc.hlines("#000000", 1.6)) != 0 || len(doc.hlines(vermillion, 1.4)) != 0 {
		t.Error("bias or limit lines drawn without limits")
	}
	if _, ok := m.Values["bias"]; ok || !strings.Contains(m.Caption, "Limits of agreement not available") {
		t.Errorf("values %v caption %q: want no bias and a caption saying so", m.Values, m.Caption)
	}
	if m.Markers != 3 || doc.markers(m.MarkerFill) != 3 {
		t.Errorf("markers %d, elements %d, want 3", m.Markers, doc.markers(m.MarkerFill))
	}
}

// TestDifferenceAxesLabelled: an axis of client − counsellor differences
// runs over ±(max − min), so it is labelled as a difference and never
// with the score range (1–5), which only score axes carry.
func TestDifferenceAxesLabelled(t *testing.T) {
	t.Parallel()
	const diff = "Client − counsellor difference (item mean)"
	c, tc := synthPairs(12, 17)
	for _, tt := range []struct {
		name   string
		draw   drawFunc
		scores []string // the score axes' labels
	}{
		{"bland-altman", func(w io.Writer, f plot.Format) error { return plot.BlandAltman(w, baInput(c, tc), f) },
			[]string{"Mean of client and counsellor (item mean, 1–5)"}},
		{"trajectories", func(w io.Writer, f plot.Format) error {
			return plot.Trajectories(w, plot.TrajectoriesInput{Scale: wai, Dyads: synthTrajectories(12, 4, 18)}, f)
		}, nil},
		{"caterpillar", func(w io.Writer, f plot.Format) error {
			return plot.Caterpillar(w, plot.CaterpillarInput{Scale: wai, Counsellors: synthCounsellors(4, 19)}, f)
		}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := renderSVG(t, tt.draw)
			if !slices.Contains(doc.texts, diff) {
				t.Errorf("no axis labelled %q; texts %q", diff, doc.texts)
			}
			for _, txt := range doc.texts {
				if strings.Contains(txt, "1–5") && !slices.Contains(tt.scores, txt) {
					t.Errorf("%q quotes the score range on a difference axis", txt)
				}
			}
		})
	}
}
