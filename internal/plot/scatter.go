package plot

import (
	"io"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ScatterInput is the client's score (y) against the counsellor's (x) for
// one scale at one session, with the line of identity y = x on equal axes.
type ScatterInput struct {
	// Title defaults to "Client against counsellor: <Scale.Name>".
	Title string
	Scale Scale
	// Client and Counsellor are the two scores of each dyad, in the same
	// order; both on Scale.
	Client, Counsellor []float64
	// CCC is Lin's concordance correlation as reported (e.g. stats.CCC);
	// nil when undefined (n < 3, a constant rater).
	CCC *Estimate
	// Pearson is Pearson's r; nil when undefined.
	Pearson *Estimate
	// Conf is the confidence level of the CIs, for labels (0 = 0.95).
	Conf float64
}

var identityStyle = draw.LineStyle{Color: black, Width: vg.Points(1.2), Dashes: dashLong}

func (in ScatterInput) check() (float64, error) {
	conf, err := checkPaired(in.Scale, in.Conf, in.Client, in.Counsellor)
	if err != nil {
		return 0, err
	}
	for _, e := range []struct {
		name string
		e    *Estimate
	}{{"CCC", in.CCC}, {"Pearson r", in.Pearson}} {
		if e.e == nil {
			continue
		}
		if err := e.e.check(e.name); err != nil {
			return 0, err
		}
		if e.e.Value < -1 || e.e.Value > 1 {
			return 0, inputErr("%s %v is outside [−1, 1]", e.name, e.e.Value)
		}
	}
	return conf, nil
}

// Scatter writes a client-against-counsellor scatter plot of in to w.
func Scatter(w io.Writer, in ScatterInput, format Format) error {
	conf, err := in.check()
	if err != nil {
		return err
	}
	n := len(in.Client)
	s := in.Scale
	ms, binned := aggregate(in.Counsellor, in.Client, s.Min, s.Max, s.Min, s.Max, BinsX, BinsX)
	b := newBubbles(ms, blue)
	if binned {
		b.cellW, b.cellH = s.span()/BinsX, s.span()/BinsX
	}
	cl := pct(conf)

	title := in.Title
	if title == "" {
		title = "Client against counsellor: " + s.Name
	}
	meta := &Metadata{
		Plot: "scatter", N: n, Drawn: sumCounts(ms), Markers: len(ms),
		MarkerFill: markerFill(blue), Encoding: "bubble", Binned: binned,
		Values: map[string]float64{"n": float64(n)},
	}
	if binned {
		meta.Encoding = "binned"
	}
	var key []string
	cccText := "Lin's CCC not available"
	if in.CCC != nil {
		cccText = "Lin's CCC = " + estimateText(*in.CCC, cl)
		key = append(key, "Lin's CCC "+fix2(in.CCC.Value))
		if in.CCC.CI != nil {
			key = append(key, "  "+cl+" CI "+ciText(in.CCC.CI))
		}
		meta.Values["ccc"] = in.CCC.Value
	}
	rText := "Pearson r not available"
	if in.Pearson != nil {
		rText = "Pearson r = " + estimateText(*in.Pearson, cl)
		key = append(key, "Pearson r "+fix2(in.Pearson.Value))
		meta.Values["pearson_r"] = in.Pearson.Value
	}
	key = append(key, "n = "+count(n))
	switch {
	case n == 0:
		meta.Note = "No complete dyads at this session"
	case n < 3 && in.CCC == nil:
		meta.Note = "n = " + count(n) + ": too few for Lin's CCC (needs at least 3 dyads)"
	case in.CCC == nil:
		meta.Note = "Lin's CCC is not defined for these scores"
	}
	caption := "n = " + plural(n, "dyad", "dyads") + ". " + cccText + "; " + rText +
		". Dashed line: identity, client = counsellor."
	if n > 0 {
		caption += " " + encodingText(b, binned, n, "dyads", BinsX, BinsX)
	}
	meta.Caption = caption
	desc := "Scatter plot of " + s.Name + ": each point is a dyad, the client's score (vertical) against the counsellor's (horizontal), with the line of perfect agreement. " + caption
	if meta.Note != "" {
		desc = meta.Note + ". " + desc
	}

	f := figure{w: Width, h: Height, title: title, desc: desc, meta: meta}
	f.draw = func(dc draw.Canvas) {
		body := layout(dc, title, caption)
		p := newPlot(s.label("Counsellor"), s.label("Client"))
		p.X.Min, p.X.Max = s.Min, s.Max
		p.Y.Min, p.Y.Max = s.Min, s.Max
		p.Add(segment(s.Min, s.Min, s.Max, s.Max, identityStyle))
		p.Add(b)
		if n == 0 {
			p.Add(note(meta.Note, true))
		}
		pr := &probe{}
		p.Add(pr)

		// Equal axis ranges only compare at a glance on a square data area:
		// shrink the plot region by the data area's excess width (or height).
		region := draw.Crop(body, 0, -1.9*vg.Inch, 0, 0)
		da := p.DataCanvas(region)
		dw, dh := da.Max.X-da.Min.X, da.Max.Y-da.Min.Y
		if dw > dh {
			region = draw.Crop(region, 0, -(dw - dh), 0, 0)
		} else {
			region = draw.Crop(region, 0, 0, 0, -(dh - dw))
		}
		p.Draw(region)

		h := f.h
		meta.Panels = []Panel{pr.panel("", h)}
		meta.Lines = []RefLine{{
			Name: "identity", Orient: "diagonal", Value: 1,
			Stroke: hex(black), StrokeWidth: identityStyle.Width.Points(),
		}}

		// key beside the plot: the figures, the identity line, point sizes
		ks := textStyle(annotSize+1, black)
		ks.YAlign = draw.YCenter
		lh := lineHeight(ks) * 1.15
		x := region.Max.X + 0.25*vg.Inch
		y := pr.c.Max.Y - lh/2
		for _, k := range key {
			dc.FillText(ks, vg.Point{X: x, Y: y}, k)
			y -= lh
		}
		if n > 0 && meta.Note != "" {
			// beside the data, not over it: the axes are fixed to the scale
			// so there is no headroom to make
			ns := italicStyle(noteSize, darkGrey)
			ns.YAlign = draw.YCenter
			y -= lh / 2
			for _, l := range wrap(ns, meta.Note, body.Max.X-x) {
				dc.FillText(ns, vg.Point{X: x, Y: y}, l)
				y -= lineHeight(ns)
			}
		}
		y -= lh / 2
		sw := vg.Points(22)
		dc.StrokeLine2(identityStyle, x, y, x+sw, y)
		dc.FillText(ks, vg.Point{X: x + sw + vg.Points(6), Y: y}, "y = x")
		y -= lh
		if n > 0 {
			for _, c := range sizeKey(b.maxCount()) {
				r := b.radius(c)
				if binned {
					break // binned radii depend on the cell size; the caption gives the largest count
				}
				y -= max(0, r-lh/2)
				dc.DrawGlyphNoClip(draw.GlyphStyle{Color: alpha(blue, markerAlpha), Shape: draw.CircleGlyph{}, Radius: r}, vg.Point{X: x + sw/2, Y: y})
				dc.DrawGlyphNoClip(draw.GlyphStyle{Color: blue, Shape: draw.RingGlyph{}, Radius: r}, vg.Point{X: x + sw/2, Y: y})
				dc.FillText(ks, vg.Point{X: x + sw + vg.Points(6), Y: y}, plural(c, "dyad", "dyads"))
				meta.KeyMarkers++
				y -= max(lh, r+lh/2)
			}
		}
	}
	return render(w, f, format)
}

// sizeKey picks the counts shown in a point-size key: 1, the largest, and
// a round middle value when there is room for one.
func sizeKey(maxN int) []int {
	switch {
	case maxN <= 1:
		return []int{1}
	case maxN < 5:
		return []int{1, maxN}
	}
	mid := int(niceStep(float64(maxN) / 2.5))
	if mid <= 1 || mid >= maxN {
		return []int{1, maxN}
	}
	return []int{1, mid, maxN}
}
