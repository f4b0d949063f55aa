package plot

import (
	"io"
	"math"
	"slices"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// DyadTrajectoryInput is one dyad's course: both raters' scores per session
// for each scale (the total and its subscales), one small panel per scale.
type DyadTrajectoryInput struct {
	// Title defaults to "Dyad <Dyad>: client and counsellor ratings by session".
	Title string
	// Dyad is the dyad's code, for the title.
	Dyad string
	// Scales are drawn in order, two panels a row; each has its own axis.
	Scales []ScaleSeries
}

// ScaleSeries is one scale's scores for both raters of a dyad, at most one
// per session each; a session only one side rated appears in one series.
type ScaleSeries struct {
	Scale      Scale
	Client     []SessionValue
	Counsellor []SessionValue
}

// Client and counsellor differ in colour, marker shape (circle, triangle)
// and dash, so no reader depends on colour.
var (
	clientLine     = draw.LineStyle{Color: vermillion, Width: vg.Points(1.6)}
	counsellorLine = draw.LineStyle{Color: blue, Width: vg.Points(1.6), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}
	clientGlyph    = draw.GlyphStyle{Color: vermillion, Shape: draw.CircleGlyph{}, Radius: vg.Points(3.2)}
	counsellorGlph = draw.GlyphStyle{Color: blue, Shape: draw.PyramidGlyph{}, Radius: vg.Points(3.8)}
)

const panelHeight = 2.3 * vg.Inch

// DyadTrajectory writes one dyad's ratings over sessions to w. Panels sit
// two to a row; the figure is Width wide and max(Height, rows × 2.3 in +
// 1.5 in) tall. Each rater's scores are joined in session order, so a
// session one side did not rate is bridged by that side's line and shows
// only the other side's marker.
func DyadTrajectory(w io.Writer, in DyadTrajectoryInput, format Format) error {
	var sessions []int
	nClient, nCounsellor := 0, 0
	series := make([]ScaleSeries, len(in.Scales))
	for i, sc := range in.Scales {
		if err := sc.Scale.check(); err != nil {
			return err
		}
		for _, side := range []struct {
			name string
			vs   []SessionValue
			n    *int
		}{{"client", sc.Client, &nClient}, {"counsellor", sc.Counsellor, &nCounsellor}} {
			seen := map[int]bool{}
			for _, sv := range side.vs {
				if !finite(sv.Value) {
					return inputErr("%s score %v of %s at session %d is not finite", side.name, sv.Value, sc.Scale.Name, sv.Session)
				}
				if !sc.Scale.contains(sv.Value) {
					return inputErr("%s score %v of %s at session %d is outside the scale %v–%v", side.name, sv.Value, sc.Scale.Name, sv.Session, sc.Scale.Min, sc.Scale.Max)
				}
				if seen[sv.Session] {
					return inputErr("two %s scores of %s at session %d", side.name, sc.Scale.Name, sv.Session)
				}
				seen[sv.Session] = true
				sessions = append(sessions, sv.Session)
				*side.n++
			}
		}
		series[i] = ScaleSeries{Scale: sc.Scale, Client: sortedBySession(sc.Client), Counsellor: sortedBySession(sc.Counsellor)}
	}
	slices.Sort(sessions)
	sessions = slices.Compact(sessions)

	title := in.Title
	if title == "" {
		title = "Client and counsellor ratings by session"
		if in.Dyad != "" {
			title = "Dyad " + in.Dyad + ": client and counsellor ratings by session"
		}
	}
	meta := &Metadata{
		Plot: "dyad-trajectory", N: len(sessions), Encoding: "points", MarkerFill: hex(vermillion),
		Values: map[string]float64{"sessions": float64(len(sessions)), "client_markers": float64(nClient), "counsellor_markers": float64(nCounsellor)},
	}
	caption := plural(len(sessions), "session", "sessions") + " rated (" + count(nClient) + " client and " + count(nCounsellor) +
		" counsellor scores over " + plural(len(series), "scale", "scales") + "). Client: circles, solid line; counsellor: triangles, dashed line."
	if len(sessions) == 0 {
		meta.Note = "No ratings for this dyad"
	}
	meta.Caption = caption
	desc := "Line charts, one per scale, of this dyad's client and counsellor scores over session number. " + caption
	if meta.Note != "" {
		desc = meta.Note + ". " + desc
	}

	panels := len(series)
	cols := 1
	if panels > 1 {
		cols = 2
	}
	rows := max(1, (panels+cols-1)/cols)
	h := max(Height, vg.Length(rows)*panelHeight+1.5*vg.Inch)

	xlo, xhi := 0.5, 1.5
	if len(sessions) > 0 {
		xlo, xhi = float64(sessions[0])-0.5, float64(sessions[len(sessions)-1])+0.5
	}
	f := figure{w: Width, h: h, title: title, desc: desc, meta: meta}
	f.draw = func(dc draw.Canvas) {
		body := layout(dc, title, caption)
		// legend strip: colour, shape and dash together
		ls := textStyle(labelSize, black)
		ls.YAlign = draw.YCenter
		ly := body.Max.Y - vg.Points(7)
		lx := body.Min.X + (body.Max.X-body.Min.X)/2 - 1.6*vg.Inch
		for _, e := range []struct {
			name string
			line draw.LineStyle
			g    draw.GlyphStyle
		}{{"Client", clientLine, clientGlyph}, {"Counsellor", counsellorLine, counsellorGlph}} {
			dc.StrokeLine2(e.line, lx, ly, lx+vg.Points(30), ly)
			dc.DrawGlyphNoClip(e.g, vg.Point{X: lx + vg.Points(15), Y: ly})
			dc.FillText(ls, vg.Point{X: lx + vg.Points(36), Y: ly}, e.name)
			lx += 1.6 * vg.Inch
		}
		meta.KeyMarkers = 2
		body = draw.Crop(body, 0, 0, 0, -vg.Points(18))

		if panels == 0 {
			p := newPlot("Session", "Score")
			p.X.Min, p.X.Max = xlo, xhi
			p.Y.Min, p.Y.Max = 0, 1
			p.X.Tick.Marker = intTicks{}
			p.Add(note(meta.Note, true))
			pr := &probe{}
			p.Add(pr)
			p.Draw(body)
			meta.Panels = []Panel{pr.panel("", h)}
			return
		}
		grid := make([][]*gplot.Plot, rows)
		probes := make([]*probe, panels)
		for r := range grid {
			grid[r] = make([]*gplot.Plot, cols)
		}
		for i, sc := range series {
			xl := ""
			if i >= panels-cols { // bottom row of each column
				xl = "Session"
			}
			p := newPlot(xl, sc.Scale.label("Score"))
			p.Title.Text = sc.Scale.Name
			p.Title.TextStyle = boldStyle(labelSize)
			p.Title.TextStyle.XAlign, p.Title.TextStyle.YAlign = draw.XCenter, draw.YTop
			p.Title.Padding = vg.Points(4)
			p.X.Min, p.X.Max = xlo, xhi
			p.Y.Min, p.Y.Max = sc.Scale.Min, sc.Scale.Max
			p.X.Tick.Marker = intTicks{}
			p.Y.Label.TextStyle.Font.Size = tickSize
			p.Add(raterSeries(sc.Counsellor, counsellorLine, counsellorGlph, meta))
			p.Add(raterSeries(sc.Client, clientLine, clientGlyph, meta))
			switch {
			case len(sessions) == 0:
				p.Add(note(meta.Note, true))
			case len(sc.Client)+len(sc.Counsellor) == 0:
				p.Add(note("No ratings of this scale", true))
			}
			probes[i] = &probe{}
			p.Add(probes[i])
			grid[i/cols][i%cols] = p
		}
		tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: 0.3 * vg.Inch, PadY: 0.2 * vg.Inch}
		cs := gplot.Align(grid, tiles, body)
		for i := range series {
			grid[i/cols][i%cols].Draw(cs[i/cols][i%cols])
		}
		for i, sc := range series {
			meta.Panels = append(meta.Panels, probes[i].panel(sc.Scale.Name, h))
		}
	}
	return render(w, f, format)
}

func sortedBySession(vs []SessionValue) []SessionValue {
	out := slices.Clone(vs)
	slices.SortFunc(out, func(a, b SessionValue) int { return a.Session - b.Session })
	return out
}

// raterSeries draws one rater's scores joined in session order, with a
// marker at every score; it counts what it drew into meta.
func raterSeries(vs []SessionValue, line draw.LineStyle, g draw.GlyphStyle, meta *Metadata) gplot.Plotter {
	return funcPlotter(func(c draw.Canvas, p *gplot.Plot) {
		pts := make([]vg.Point, len(vs))
		for i, sv := range vs {
			pts[i] = vg.Point{X: c.X(p.X.Norm(float64(sv.Session))), Y: c.Y(p.Y.Norm(sv.Value))}
		}
		if len(pts) > 1 {
			c.StrokeLines(line, pts)
		}
		for _, pt := range pts {
			c.DrawGlyphNoClip(g, pt)
		}
		meta.Markers += len(pts)
		meta.Drawn += len(pts)
	})
}

// intTicks labels whole sessions only, thinned to about ten labels.
type intTicks struct{}

func (intTicks) Ticks(lo, hi float64) []gplot.Tick {
	first, last := int(math.Ceil(lo)), int(math.Floor(hi))
	step := max(1, int(niceStep(float64(last-first+1)/10)))
	var ts []gplot.Tick
	for s := first; s <= last; s++ {
		if s%step == 0 || step == 1 {
			ts = append(ts, gplot.Tick{Value: float64(s), Label: strconv.Itoa(s)})
		}
	}
	return ts
}
