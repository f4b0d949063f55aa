package plot

import (
	"io"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// SessionValue is one score, or one difference, at a session number.
type SessionValue struct {
	Session int
	Value   float64
}

// TrajectoriesInput is the client − counsellor difference of one scale over
// session number, for many dyads.
type TrajectoriesInput struct {
	// Title defaults to "Client − counsellor difference by session: <Scale.Name>".
	Title string
	Scale Scale
	// Dyads holds each dyad's differences (client − counsellor, in scale
	// units) at the sessions both rated; at most one value per session.
	Dyads [][]SessionValue
	// Sessions, when not nil, are the sessions to show, so that a planned
	// session nobody completed appears with n = 0. Sessions in Dyads that
	// are not listed are an error. nil shows every session in Dyads.
	Sessions []int
	// Conf is the level of the per-session mean's CI (0 = 0.95).
	Conf float64
	// MinNInterval is the fewest dyads a session's CI is drawn from (0 =
	// DefaultMinNInterval); callers pass the rule their report applies.
	MinNInterval int
}

// sessionStat is the per-session summary drawn as the mean line and band.
type sessionStat struct {
	session  int
	n        int
	mean     float64
	lo, hi   float64
	noCI     bool
	tickText string
}

// meanCI is the mean of xs with its t-based interval at conf; for fewer
// than minN values the interval collapses to the mean and ok is false.
func meanCI(xs []float64, conf float64, minN int) (mean, lo, hi float64, ok bool) {
	switch {
	case len(xs) == 0:
		return 0, 0, 0, false
	case len(xs) < minN:
		m := stat.Mean(xs, nil)
		return m, m, m, false
	}
	m, s := stat.MeanStdDev(xs, nil)
	n := float64(len(xs))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Quantile((1 + conf) / 2)
	h := t * s / math.Sqrt(n)
	if !finite(h) {
		return m, m, m, false
	}
	return m, m - h, m + h, true
}

var (
	meanStyle  = draw.LineStyle{Color: black, Width: vg.Points(2)}
	dyadWidth  = vg.Points(0.7)
	sessionsCI = alpha(orange, 0.45)
)

// Trajectories writes the difference-over-sessions figure of in to w.
func Trajectories(w io.Writer, in TrajectoriesInput, format Format) error {
	if err := in.Scale.check(); err != nil {
		return err
	}
	conf, err := confOf(in.Conf)
	if err != nil {
		return err
	}
	minN, err := minNOf(in.MinNInterval)
	if err != nil {
		return err
	}
	span := in.Scale.span()
	listed := map[int]bool{}
	for _, s := range in.Sessions {
		listed[s] = true
	}
	bySession := map[int][]float64{}
	nObs := 0
	dyads := make([][]SessionValue, len(in.Dyads))
	for i, d := range in.Dyads {
		seen := map[int]bool{}
		for _, sv := range d {
			if !finite(sv.Value) {
				return inputErr("difference %v of dyad %d at session %d is not finite", sv.Value, i, sv.Session)
			}
			if math.Abs(sv.Value) > span*(1+1e-9) {
				return inputErr("difference %v of dyad %d exceeds the scale's width %v", sv.Value, i, span)
			}
			if seen[sv.Session] {
				return inputErr("dyad %d has two differences at session %d", i, sv.Session)
			}
			if in.Sessions != nil && !listed[sv.Session] {
				return inputErr("dyad %d has session %d, which is not in Sessions", i, sv.Session)
			}
			seen[sv.Session] = true
			bySession[sv.Session] = append(bySession[sv.Session], sv.Value)
			nObs++
		}
		dyads[i] = slices.Clone(d)
		slices.SortFunc(dyads[i], func(a, b SessionValue) int { return a.Session - b.Session })
	}
	sessions := slices.Clone(in.Sessions)
	if sessions == nil {
		for s := range bySession {
			sessions = append(sessions, s)
		}
	}
	slices.Sort(sessions)
	sessions = slices.Compact(sessions)

	nDyads := 0
	for _, d := range dyads {
		if len(d) > 0 {
			nDyads++
		}
	}
	stats := make([]sessionStat, len(sessions))
	var empty []string
	for i, s := range sessions {
		xs := bySession[s]
		m, lo, hi, ok := meanCI(xs, conf, minN)
		stats[i] = sessionStat{session: s, n: len(xs), mean: m, lo: lo, hi: hi, noCI: !ok,
			tickText: strconv.Itoa(s) + "\n(" + count(len(xs)) + ")"}
		if len(xs) == 0 {
			empty = append(empty, strconv.Itoa(s))
		}
	}

	// y range: all differences and CIs and zero, within ± the scale width
	ylo, yhi := 0.0, 0.0
	for _, xs := range bySession {
		lo, hi := minMax(xs)
		ylo, yhi = math.Min(ylo, lo), math.Max(yhi, hi)
	}
	for _, st := range stats {
		if st.n > 0 {
			ylo, yhi = math.Min(ylo, st.lo), math.Max(yhi, st.hi)
		}
	}
	ylo, yhi = math.Max(ylo, -span), math.Min(yhi, span)
	ylo, yhi = padRange(ylo, yhi, 0.1*span)
	xlo, xhi := 0.0, 1.0
	if len(sessions) > 0 {
		xlo, xhi = float64(sessions[0]), float64(sessions[len(sessions)-1])
	}
	if xhi-xlo < 1 {
		xlo, xhi = xlo-0.5, xhi+0.5
	}
	xpad := 0.04 * (xhi - xlo)
	xlo, xhi = xlo-xpad, xhi+xpad

	binned := nObs > MaxMarkers
	title := in.Title
	if title == "" {
		title = "Client − counsellor difference by session: " + in.Scale.Name
	}
	meta := &Metadata{
		Plot: "trajectories", N: nDyads, Binned: binned, Encoding: "lines",
		MarkerFill: markerFill(blue), Values: map[string]float64{"n": float64(nDyads), "observations": float64(nObs)},
	}
	cl := pct(conf)
	caption := "n = " + plural(nDyads, "dyad", "dyads") + ", " + plural(nObs, "dyad-session", "dyad-sessions") +
		"; difference = client − counsellor. Numbers in parentheses under the sessions: dyads rated by both at that session."
	var bub *bubbles
	var ms []marker
	if binned {
		meta.Encoding = "binned"
		var xs, ys []float64
		for _, d := range dyads {
			for _, sv := range d {
				xs, ys = append(xs, float64(sv.Session)), append(ys, sv.Value)
			}
		}
		ms = binSessions(xs, ys, ylo, yhi, BinsY)
		bub = newBubbles(ms, blue)
		bub.cellW, bub.cellH = 0.5, (yhi-ylo)/BinsY
		caption += " More than " + count(MaxMarkers) + " observations, so individual trajectories are not drawn: differences were binned into " +
			count(BinsY) + " bands per session, point area proportional to the number of dyads (largest: " + count(bub.maxCount()) + ")."
	} else {
		caption += " Thin lines: individual dyads (a point where a dyad has a single session)."
		for _, d := range dyads {
			if len(d) == 1 {
				ms = append(ms, marker{float64(d[0].Session), d[0].Value, 1})
			}
		}
	}
	caption += " Black line and points: mean difference per session; shaded band: its " + cl + " CI (t distribution; none where n < " + count(minN) + ")."
	for _, st := range stats {
		if !st.noCI && (st.lo < ylo || st.hi > yhi) {
			caption += " Where a CI reaches beyond the axis, the band is cut at its edge."
			break
		}
	}
	tickStep := max(1, (len(stats)+maxSessionTicks-1)/maxSessionTicks)
	if tickStep > 1 {
		caption += " Every " + ordinal(tickStep) + " session is labelled."
	}
	if len(empty) > 0 {
		word := " at session "
		if len(empty) > 1 {
			word = " at sessions "
		}
		caption += " No complete dyads" + word + joinAnd(empty) + "."
	}
	switch {
	case nObs == 0:
		meta.Note = "No complete dyads at any session"
	case maxN(stats) < minN:
		meta.Note = "n ≤ " + count(maxN(stats)) + " at every session: too few for confidence intervals"
	}
	meta.Caption = caption
	each := "one thin line per dyad"
	if binned {
		each = "the dyads' differences binned per session"
	}
	desc := "Line chart of the client − counsellor difference in " + in.Scale.Name + " over session number, " + each + ", with the mean per session. " + caption
	if meta.Note != "" {
		desc = meta.Note + ". " + desc
	}
	if meta.Note != "" && nObs > 0 {
		yhi += headroom * (yhi - ylo)
	}

	lineAlpha := math.Min(0.55, math.Max(0.07, 2.5/math.Sqrt(float64(max(1, nDyads)))))
	if !binned {
		meta.LineStroke = svgColor(alpha(blue, lineAlpha))
	}
	f := figure{w: Width, h: Height, title: title, desc: desc, meta: meta}
	f.draw = func(dc draw.Canvas) {
		body := layout(dc, title, caption)
		p := newPlot("Session (dyads with both ratings)", in.Scale.diffLabel())
		p.X.Min, p.X.Max = xlo, xhi
		p.Y.Min, p.Y.Max = ylo, yhi
		p.X.Tick.Marker = sessionTicks(stats, tickStep)
		p.Add(hline(0, zeroStyle))
		if binned {
			p.Add(bub)
			meta.Markers, meta.Drawn = len(ms), sumCounts(ms)
		} else {
			ds := draw.LineStyle{Color: alpha(blue, lineAlpha), Width: dyadWidth}
			p.Add(funcPlotter(func(c draw.Canvas, p *gplot.Plot) {
				lines := 0
				for _, d := range dyads {
					if len(d) < 2 {
						continue
					}
					pts := make([]vg.Point, len(d))
					for i, sv := range d {
						pts[i] = vg.Point{X: c.X(p.X.Norm(float64(sv.Session))), Y: c.Y(p.Y.Norm(sv.Value))}
					}
					c.StrokeLines(ds, pts)
					lines++
					meta.Drawn += len(d) // a line's vertices are its observations
				}
				meta.Values["dyad_lines"] = float64(lines)
			}))
			b := newBubbles(ms, blue)
			b.base = vg.Points(1.6)
			p.Add(b)
			meta.Markers = len(ms)
			meta.Drawn += sumCounts(ms)
		}
		p.Add(funcPlotter(func(c draw.Canvas, p *gplot.Plot) { drawMeanBand(c, p, stats) }))
		if meta.Note != "" {
			p.Add(note(meta.Note, nObs == 0))
		}
		pr := &probe{}
		p.Add(pr)
		p.Draw(body)

		h := f.h
		meta.Panels = []Panel{pr.panel("", h)}
		meta.Lines = []RefLine{refLine("zero", 0, pr.y(0), h, zeroStyle)}
		for _, st := range stats {
			sm := SessionMeta{Session: st.session, N: st.n, Mean: st.mean, Lower: st.lo, Upper: st.hi,
				XPx: round4(pr.x(float64(st.session)).Points()), Label: st.tickText, NoCI: st.noCI}
			if st.n > 0 {
				sm.Y = round4((h - pr.y(st.mean)).Points())
			} else {
				sm.Missing, sm.Note = true, "No complete dyads at this session"
			}
			meta.Sessions = append(meta.Sessions, sm)
		}
	}
	return render(w, f, format)
}

// drawMeanBand draws the CI band over runs of sessions that have one, then
// the mean line (broken at sessions without dyads) with a point per mean.
// Bands and bars are cut at the edge of the data canvas c.
func drawMeanBand(c draw.Canvas, p *gplot.Plot, stats []sessionStat) {
	x := func(s int) vg.Length { return c.X(p.X.Norm(float64(s))) }
	y := func(v float64) vg.Length { return c.Y(p.Y.Norm(v)) }
	for i := 0; i < len(stats); {
		if stats[i].noCI {
			i++
			continue
		}
		j := i
		for j < len(stats) && !stats[j].noCI {
			j++
		}
		run := stats[i:j]
		if len(run) == 1 { // a lone session: an error bar instead of a band
			st := run[0]
			c.StrokeLine2(draw.LineStyle{Color: sessionsCI, Width: vg.Points(6)}, x(st.session), clampY(c, y(st.lo)), x(st.session), clampY(c, y(st.hi)))
		} else {
			var poly []vg.Point
			for _, st := range run {
				poly = append(poly, vg.Point{X: x(st.session), Y: y(st.hi)})
			}
			for k := len(run) - 1; k >= 0; k-- {
				poly = append(poly, vg.Point{X: x(run[k].session), Y: y(run[k].lo)})
			}
			c.FillPolygon(sessionsCI, c.ClipPolygonXY(poly))
		}
		i = j
	}
	var line []vg.Point
	flush := func() {
		if len(line) > 1 {
			c.StrokeLines(meanStyle, line)
		}
		line = line[:0]
	}
	for _, st := range stats {
		if st.n == 0 {
			flush()
			continue
		}
		line = append(line, vg.Point{X: x(st.session), Y: y(st.mean)})
	}
	flush()
	g := draw.GlyphStyle{Color: black, Shape: draw.BoxGlyph{}, Radius: vg.Points(2.6)}
	for _, st := range stats {
		if st.n > 0 {
			c.DrawGlyphNoClip(g, vg.Point{X: x(st.session), Y: y(st.mean)})
		}
	}
}

// binSessions counts differences per session in ny bands over [ylo, yhi].
func binSessions(xs, ys []float64, ylo, yhi float64, ny int) []marker {
	type key struct{ s, b int }
	counts := map[key]int{}
	for i := range xs {
		b := int((ys[i] - ylo) / (yhi - ylo) * float64(ny))
		b = min(max(b, 0), ny-1)
		counts[key{int(xs[i]), b}]++
	}
	ms := make([]marker, 0, len(counts))
	for k, n := range counts {
		ms = append(ms, marker{float64(k.s), ylo + (float64(k.b)+0.5)*(yhi-ylo)/float64(ny), n})
	}
	slices.SortFunc(ms, func(a, b marker) int {
		if a.n != b.n {
			return b.n - a.n
		}
		if a.x != b.x {
			return int(a.x - b.x)
		}
		return int(math.Copysign(1, a.y-b.y))
	})
	return ms
}

// maxSessionTicks is the most session labels (each with its n) that fit
// under a 7-inch figure without overlapping.
const maxSessionTicks = 15

// sessionTicks labels every step-th session with its n.
func sessionTicks(stats []sessionStat, step int) gplot.Ticker {
	return gplot.TickerFunc(func(lo, hi float64) []gplot.Tick {
		var ts []gplot.Tick
		for i, st := range stats {
			if i%step == 0 {
				ts = append(ts, gplot.Tick{Value: float64(st.session), Label: st.tickText})
			}
		}
		return ts
	})
}

func maxN(stats []sessionStat) int {
	m := 0
	for _, st := range stats {
		m = max(m, st.n)
	}
	return m
}

func joinAnd(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	s := ""
	for i, x := range xs[:len(xs)-1] {
		if i > 0 {
			s += ", "
		}
		s += x
	}
	return s + " and " + xs[len(xs)-1]
}
