package plot

import (
	"cmp"
	"io"
	"math"
	"slices"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// CaterpillarInput is the mean client − counsellor difference of each
// counsellor's dyads, one row per counsellor.
type CaterpillarInput struct {
	// Title defaults to "Client − counsellor difference by counsellor: <Scale.Name>".
	Title string
	Scale Scale
	// Counsellors holds one entry per counsellor.
	Counsellors []CounsellorDifferences
	// HideCodes labels rows "Counsellor 1".."Counsellor k" from the top
	// instead of by code, for figures shown outside the team.
	HideCodes bool
	// Conf is the level of each row's CI (0 = 0.95).
	Conf float64
	// MinNInterval is the fewest dyads a row's CI is drawn from (0 =
	// DefaultMinNInterval); callers pass the rule their report applies.
	MinNInterval int
}

// CounsellorDifferences is one counsellor's dyads: one client − counsellor
// difference per dyad, in scale units.
type CounsellorDifferences struct {
	Code        string
	Differences []float64
}

// MaxLabelledRows is the most caterpillar rows that each get a label; the
// figure is 1.9 in plus 0.22 in per row (at least 4 rows, at most this
// many), and past it only every ⌈k/MaxLabelledRows⌉-th row is labelled.
const MaxLabelledRows = 60

const rowHeight = 0.22 * vg.Inch

type row struct {
	label    string
	n        int
	mean     float64
	lo, hi   float64
	hasCI    bool
	position int // y value: 0 at the bottom
}

// Caterpillar writes the per-counsellor caterpillar figure of in to w.
// Rows are sorted by mean difference, the highest at the top; counsellors
// without dyads are listed at the bottom with no point.
func Caterpillar(w io.Writer, in CaterpillarInput, format Format) error {
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
	rows := make([]row, len(in.Counsellors))
	nDyads := 0
	for i, c := range in.Counsellors {
		for _, d := range c.Differences {
			if !finite(d) {
				return inputErr("difference %v of counsellor %q is not finite", d, c.Code)
			}
			if math.Abs(d) > span*(1+1e-9) {
				return inputErr("difference %v of counsellor %q exceeds the scale's width %v", d, c.Code, span)
			}
		}
		m, lo, hi, ok := meanCI(c.Differences, conf, minN)
		rows[i] = row{label: c.Code, n: len(c.Differences), mean: m, lo: lo, hi: hi, hasCI: ok}
		nDyads += len(c.Differences)
	}
	// lowest mean at the bottom (position 0); empty rows below everything
	slices.SortStableFunc(rows, func(a, b row) int {
		if (a.n == 0) != (b.n == 0) {
			if a.n == 0 {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(a.mean, b.mean); c != 0 {
			return c
		}
		return cmp.Compare(b.label, a.label) // ties: codes read A→Z downwards
	})
	k := len(rows)
	for i := range rows {
		rows[i].position = i
		if in.HideCodes {
			rows[i].label = "Counsellor " + strconv.Itoa(k-i)
		}
		rows[i].label += " (n = " + count(rows[i].n) + ")"
	}

	// x range: every mean and CI, within ± the scale width, the most a
	// difference can be; a CI beyond that is clipped at the axis and ends
	// in an arrow.
	xlo, xhi := 0.0, 0.0
	for _, r := range rows {
		if r.n > 0 {
			xlo, xhi = math.Min(xlo, r.lo), math.Max(xhi, r.hi)
		}
	}
	xlo, xhi = math.Max(xlo, -span), math.Min(xhi, span)
	xlo, xhi = padRange(xlo, xhi, 0.1*span)
	clipped := false
	for _, r := range rows {
		if r.n > 0 && r.hasCI && (r.lo < xlo || r.hi > xhi) {
			clipped = true
		}
	}

	title := in.Title
	if title == "" {
		title = "Client − counsellor difference by counsellor: " + in.Scale.Name
	}
	cl := pct(conf)
	caption := "k = " + plural(k, "counsellor", "counsellors") + ", n = " + plural(nDyads, "dyad", "dyads") +
		"; difference = client − counsellor. Points: mean difference of the counsellor's dyads; bars: " + cl +
		" CI (t distribution; none where n < " + count(minN) + "). Sorted by mean; dashed line: no difference."
	if clipped {
		caption += " Arrows: the CI extends beyond the axis."
	}
	step := 1
	if k > MaxLabelledRows {
		step = (k + MaxLabelledRows - 1) / MaxLabelledRows
		caption += " Every " + ordinal(step) + " row is labelled."
	}
	meta := &Metadata{
		Plot: "caterpillar", N: nDyads, Encoding: "points", MarkerFill: hex(blue),
		Values: map[string]float64{"n": float64(nDyads), "k": float64(k)},
	}
	switch {
	case k == 0 || nDyads == 0:
		meta.Note = "No counsellors with complete dyads at this session"
	case nDyads <= 2:
		meta.Note = "n = " + count(nDyads) + ": too few dyads to compare counsellors"
	}
	meta.Caption = caption
	desc := "Caterpillar plot of " + in.Scale.Name + ": one row per counsellor, the mean client − counsellor difference with its confidence interval, sorted by the mean. " + caption
	if meta.Note != "" {
		desc = meta.Note + ". " + desc
	}

	// height follows the rows, so two counsellors are not spread over five
	// inches nor sixty squeezed into them
	h := 1.9*vg.Inch + vg.Length(min(max(k, 4), MaxLabelledRows))*rowHeight
	top := math.Max(0.7, float64(k)-0.3)
	if meta.Note != "" && k > 0 {
		top += 0.9 // room for the note above the top row
	}
	var ticks []gplot.Tick
	for i := k - 1; i >= 0; i -= step { // label from the top down
		ticks = append(ticks, gplot.Tick{Value: float64(i), Label: rows[i].label})
	}
	f := figure{w: Width, h: h, title: title, desc: desc, meta: meta}
	f.draw = func(dc draw.Canvas) {
		body := layout(dc, title, caption)
		p := newPlot(in.Scale.diffLabel(), "")
		p.X.Min, p.X.Max = xlo, xhi
		p.Y.Min, p.Y.Max = -0.7, top
		p.Y.Tick.Marker = gplot.ConstantTicks(ticks)
		p.Y.Tick.Length = 0
		p.Y.LineStyle.Width = 0
		p.Add(funcPlotter(func(c draw.Canvas, p *gplot.Plot) {
			x := c.X(p.X.Norm(0))
			c.StrokeLine2(zeroStyle, x, c.Min.Y, x, c.Max.Y)
		}))
		bar := draw.LineStyle{Color: blue, Width: vg.Points(1.4)}
		tick := vg.Points(3)
		dot := draw.GlyphStyle{Color: blue, Shape: draw.CircleGlyph{}, Radius: vg.Points(3)}
		p.Add(funcPlotter(func(c draw.Canvas, p *gplot.Plot) {
			for _, r := range rows {
				if r.n == 0 {
					continue
				}
				y := c.Y(p.Y.Norm(float64(r.position)))
				if r.hasCI {
					lo, hi := math.Max(r.lo, p.X.Min), math.Min(r.hi, p.X.Max)
					x0, x1 := c.X(p.X.Norm(lo)), c.X(p.X.Norm(hi))
					c.StrokeLine2(bar, x0, y, x1, y)
					for _, end := range []struct {
						x       vg.Length
						clipped bool
						dir     vg.Length
					}{{x0, lo > r.lo, -1}, {x1, hi < r.hi, 1}} {
						if end.clipped {
							c.FillPolygon(blue, []vg.Point{
								{X: end.x, Y: y},
								{X: end.x - end.dir*tick*1.8, Y: y - tick*1.2},
								{X: end.x - end.dir*tick*1.8, Y: y + tick*1.2},
							})
							continue
						}
						c.StrokeLine2(bar, end.x, y-tick, end.x, y+tick)
					}
				}
				c.DrawGlyphNoClip(dot, vg.Point{X: c.X(p.X.Norm(r.mean)), Y: y})
				meta.Markers++
				meta.Drawn += r.n
			}
		}))
		if meta.Note != "" {
			p.Add(note(meta.Note, k == 0))
		}
		pr := &probe{}
		p.Add(pr)
		p.Draw(body)

		meta.Panels = []Panel{pr.panel("", h)}
		meta.Lines = []RefLine{{Name: "zero", Orient: "vertical", Px: round4(pr.x(0).Points()),
			Stroke: hex(grey), StrokeWidth: zeroStyle.Width.Points()}}
		for i := k - 1; i >= 0; i-- {
			r := rows[i]
			meta.Rows = append(meta.Rows, RowMeta{Label: r.label, N: r.n, Mean: r.mean, Lower: r.lo, Upper: r.hi, NoCI: !r.hasCI,
				Y: round4((h - pr.y(float64(r.position))).Points()), X: round4(pr.x(r.mean).Points())})
		}
	}
	return render(w, f, format)
}

func ordinal(n int) string {
	s := strconv.Itoa(n)
	switch {
	case n%100 >= 11 && n%100 <= 13:
		return s + "th"
	case n%10 == 1:
		return s + "st"
	case n%10 == 2:
		return s + "nd"
	case n%10 == 3:
		return s + "rd"
	}
	return s + "th"
}
