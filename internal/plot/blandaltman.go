package plot

import (
	"image/color"
	"io"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// BAInput is a Bland–Altman plot of one scale at one session: for each
// dyad, the client − counsellor difference (y) against the mean of the two
// scores (x).
type BAInput struct {
	// Title defaults to "Bland–Altman plot: <Scale.Name>".
	Title string
	Scale Scale
	// Client and Counsellor are the two scores of each dyad, in the same
	// order; both on Scale.
	Client, Counsellor []float64
	// Limits are the caller's bias and limits of agreement (as reported,
	// e.g. from stats.BlandAltman) in scale units. nil, or fewer than two
	// dyads, draws no lines; below MinNInterval dyads their CIs are
	// neither drawn nor quoted.
	Limits *BALimits
	// Trend, when not nil, is the proportional-bias regression
	// difference = Intercept + Slope·mean, drawn over the observed means
	// when n ≥ 3.
	Trend *Line
	// Conf is the confidence level of the CIs, for labels (0 = 0.95).
	Conf float64
	// MinNInterval is the fewest dyads a CI is shown for (0 =
	// DefaultMinNInterval); callers pass the rule their report applies.
	MinNInterval int
}

// BALimits are the reference lines of a Bland–Altman plot. Each CI is
// drawn as a shaded band; a nil CI draws the line alone.
type BALimits struct {
	Bias, Lower, Upper Estimate
	// Multiplier is the number of SDs of the differences either side of
	// the bias (1.96 for 95% limits); it is only printed. 0 omits it.
	Multiplier float64
}

// Reference line styles, recorded in Metadata.Lines.
var (
	biasStyle = draw.LineStyle{Color: black, Width: vg.Points(1.6)}
	loaStyle  = draw.LineStyle{Color: vermillion, Width: vg.Points(1.4), Dashes: dashLong}
	zeroStyle = draw.LineStyle{Color: grey, Width: vg.Points(0.8), Dashes: dashShort}
	trendSty  = draw.LineStyle{Color: green, Width: vg.Points(1.3), Dashes: dashDot}
)

func (in BAInput) check() (float64, error) {
	conf, err := checkPaired(in.Scale, in.Conf, in.Client, in.Counsellor)
	if err != nil {
		return 0, err
	}
	if l := in.Limits; l != nil {
		for _, e := range []struct {
			name string
			e    Estimate
		}{{"bias", l.Bias}, {"lower limit", l.Lower}, {"upper limit", l.Upper}} {
			if err := e.e.check(e.name); err != nil {
				return 0, err
			}
		}
		if !(l.Lower.Value <= l.Bias.Value && l.Bias.Value <= l.Upper.Value) {
			return 0, inputErr("limits %v, %v, %v are not ordered lower ≤ bias ≤ upper", l.Lower.Value, l.Bias.Value, l.Upper.Value)
		}
		if !finite(l.Multiplier) || l.Multiplier < 0 {
			return 0, inputErr("multiplier %v is not a finite non-negative number", l.Multiplier)
		}
	}
	if t := in.Trend; t != nil && !finite(t.Intercept, t.Slope) {
		return 0, inputErr("trend line %v + %v·x is not finite", t.Intercept, t.Slope)
	}
	return conf, nil
}

// checkPaired checks what both paired plots take (a scale, a confidence
// level, client and counsellor scores) and returns the level to use.
func checkPaired(s Scale, conf float64, client, counsellor []float64) (float64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	conf, err := confOf(conf)
	if err != nil {
		return 0, err
	}
	return conf, checkPairs(s, client, counsellor)
}

func checkPairs(s Scale, client, counsellor []float64) error {
	if len(client) != len(counsellor) {
		return inputErr("%d client scores but %d counsellor scores", len(client), len(counsellor))
	}
	for i := range client {
		for _, v := range []float64{client[i], counsellor[i]} {
			if !finite(v) {
				return inputErr("score %v of dyad %d is not finite", v, i)
			}
			if !s.contains(v) {
				return inputErr("score %v of dyad %d is outside the scale %v–%v", v, i, s.Min, s.Max)
			}
		}
	}
	return nil
}

// BlandAltman writes a Bland–Altman plot of in to w.
func BlandAltman(w io.Writer, in BAInput, format Format) error {
	conf, err := in.check()
	if err != nil {
		return err
	}
	minN, err := minNOf(in.MinNInterval)
	if err != nil {
		return err
	}
	n := len(in.Client)
	means, diffs := make([]float64, n), make([]float64, n)
	for i := range in.Client {
		means[i] = (in.Client[i] + in.Counsellor[i]) / 2
		diffs[i] = in.Client[i] - in.Counsellor[i]
	}
	lim := in.Limits
	if n < 2 {
		lim = nil
	}
	if lim != nil && n < minN {
		// a report gives CIs below the rule as null: drop any passed anyway
		l := *lim
		l.Bias.CI, l.Lower.CI, l.Upper.CI = nil, nil, nil
		lim = &l
	}
	trend := in.Trend
	if n < 3 {
		trend = nil // through two points it is just their chord
	}
	span := in.Scale.span()

	// y range: data, zero, the lines and the trend over the data. CIs may
	// widen that by a quarter each way and no more, so that a small n's
	// huge intervals do not squash the data into a strip: past that the
	// bands are clipped at the axis and the caption still prints them.
	ylo, yhi := 0.0, 0.0
	for _, d := range diffs {
		ylo, yhi = math.Min(ylo, d), math.Max(yhi, d)
	}
	if lim != nil {
		ylo, yhi = math.Min(ylo, lim.Lower.Value), math.Max(yhi, lim.Upper.Value)
	}
	if trend != nil {
		lo, hi := minMax(means)
		for _, x := range []float64{lo, hi} {
			v := math.Max(-span, math.Min(span, trend.Intercept+trend.Slope*x))
			ylo, yhi = math.Min(ylo, v), math.Max(yhi, v)
		}
	}
	if lim != nil {
		ext := math.Max(0.25*(yhi-ylo), 0.05*span)
		capLo, capHi := ylo-ext, yhi+ext
		for _, e := range []Estimate{lim.Bias, lim.Lower, lim.Upper} {
			if e.CI != nil {
				ylo = math.Max(capLo, math.Min(ylo, e.CI.Lower))
				yhi = math.Min(capHi, math.Max(yhi, e.CI.Upper))
			}
		}
	}
	ylo, yhi = padRange(ylo, yhi, 0.1*span)
	if n > 0 && n <= 2 {
		yhi += headroom * (yhi - ylo) // room for the note above the data
	}

	ms, binned := aggregate(means, diffs, in.Scale.Min, in.Scale.Max, ylo, yhi, BinsX, BinsY)
	b := newBubbles(ms, blue)
	if binned {
		b.cellW, b.cellH = span/BinsX, (yhi-ylo)/BinsY
	}

	title := in.Title
	if title == "" {
		title = "Bland–Altman plot: " + in.Scale.Name
	}
	meta := &Metadata{
		Plot: "bland-altman", N: n, Drawn: sumCounts(ms), Markers: len(ms),
		MarkerFill: markerFill(blue), Encoding: "bubble", Binned: binned,
		Values: map[string]float64{"n": float64(n)},
	}
	if binned {
		meta.Encoding = "binned"
	}
	switch {
	case n == 0:
		meta.Note = "No complete dyads at this session"
	case n == 1:
		meta.Note = "n = 1: too few for limits of agreement"
	case n == 2 && lim != nil:
		meta.Note = "n = 2: limits of agreement are very imprecise"
	}
	caption := "n = " + plural(n, "dyad", "dyads") + "; difference = client − counsellor, mean = (client + counsellor)/2."
	if n > 0 {
		caption += " " + encodingText(b, binned, n, "dyads", BinsX, BinsY)
	}
	cl := pct(conf)
	var labels []string
	var values []float64
	var styles []draw.LineStyle
	switch {
	case lim != nil:
		mult := ""
		if lim.Multiplier > 0 {
			mult = " (bias ± " + num(lim.Multiplier) + " SD)"
		}
		caption += " Solid line: bias " + estimateText(lim.Bias, cl) + ". Dashed lines: limits of agreement" + mult + " " +
			estimateText(lim.Lower, cl) + " and " + estimateText(lim.Upper, cl) + "."
		var bands, wide, missing int
		for _, e := range []Estimate{lim.Bias, lim.Lower, lim.Upper} {
			switch {
			case shaded(e.CI, ylo, yhi):
				bands++
			case e.CI != nil:
				wide++
			default:
				missing++
			}
		}
		switch {
		case missing > 0 && n < minN:
			caption += " No CIs: fewer than " + count(minN) + " dyads."
		case missing > 0:
			caption += " CIs not available."
		}
		if bands > 0 {
			caption += " Shaded bands: " + cl + " CIs."
		}
		if wide > 0 {
			caption += " CIs wider than the axis are not shaded."
		}
		labels = []string{"Upper LoA " + fix2(lim.Upper.Value), "Bias " + fix2(lim.Bias.Value), "Lower LoA " + fix2(lim.Lower.Value)}
		values = []float64{lim.Upper.Value, lim.Bias.Value, lim.Lower.Value}
		styles = []draw.LineStyle{loaStyle, biasStyle, loaStyle}
		meta.Values["bias"], meta.Values["loa_lower"], meta.Values["loa_upper"] = lim.Bias.Value, lim.Lower.Value, lim.Upper.Value
	case n >= 2:
		caption += " Limits of agreement not available."
	}
	if trend != nil {
		caption += " Dash-dot line: proportional bias, difference = " + fix2(trend.Intercept) + signed(trend.Slope) + " × mean."
		meta.Values["trend_slope"], meta.Values["trend_intercept"] = trend.Slope, trend.Intercept
	}
	meta.Caption = caption

	desc := "Bland–Altman plot of " + in.Scale.Name + ": each point is a dyad, the client − counsellor difference (vertical) against the mean of both scores (horizontal). " + caption
	if meta.Note != "" {
		desc = meta.Note + ". " + desc
	}

	f := figure{w: Width, h: Height, title: title, desc: desc, meta: meta}
	f.draw = func(dc draw.Canvas) {
		body := layout(dc, title, caption)
		p := newPlot(in.Scale.label("Mean of client and counsellor"), in.Scale.diffLabel())
		p.X.Min, p.X.Max = in.Scale.Min, in.Scale.Max
		p.Y.Min, p.Y.Max = ylo, yhi
		p.Add(hline(0, zeroStyle))
		if lim != nil {
			for _, e := range []struct {
				e Estimate
				c color.RGBA
			}{{lim.Lower, vermillion}, {lim.Upper, vermillion}, {lim.Bias, black}} {
				if shaded(e.e.CI, ylo, yhi) {
					p.Add(hband(e.e.CI.Lower, e.e.CI.Upper, alpha(e.c, 0.13)))
				}
			}
		}
		p.Add(b)
		if lim != nil {
			p.Add(hline(lim.Lower.Value, loaStyle), hline(lim.Upper.Value, loaStyle), hline(lim.Bias.Value, biasStyle))
		}
		if trend != nil {
			lo, hi := minMax(means)
			p.Add(segment(lo, trend.Intercept+trend.Slope*lo, hi, trend.Intercept+trend.Slope*hi, trendSty))
		}
		if meta.Note != "" {
			p.Add(note(meta.Note, n == 0))
		}
		pr := &probe{}
		p.Add(pr)

		lsty := textStyle(annotSize, black)
		var labelW vg.Length
		for _, l := range labels {
			labelW = max(labelW, lsty.Width(l))
		}
		if labelW > 0 {
			labelW += vg.Points(6)
		}
		p.Draw(draw.Crop(body, 0, -labelW, 0, 0))

		h := f.h
		meta.Panels = []Panel{pr.panel("", h)}
		meta.Lines = append(meta.Lines, refLine("zero", 0, pr.y(0), h, zeroStyle))
		if lim != nil {
			ys := make([]vg.Length, len(values))
			for i, v := range values {
				ys[i] = pr.y(v)
			}
			names := []string{"loa_upper", "bias", "loa_lower"}
			for i := range values {
				meta.Lines = append(meta.Lines, refLine(names[i], values[i], ys[i], h, styles[i]))
				meta.Values[names[i]+"_y"] = round4((h - ys[i]).Points())
			}
			lh := lineHeight(lsty)
			at := spread(ys, lh, pr.c.Max.Y)
			for i, l := range labels {
				s := lsty
				s.Color = styles[i].Color
				s.YAlign = draw.YCenter
				dc.FillText(s, vg.Point{X: pr.c.Max.X + vg.Points(5), Y: at[i]}, l)
			}
		}
		if trend != nil {
			meta.Lines = append(meta.Lines, RefLine{Name: "trend", Orient: "diagonal", Value: trend.Slope, Stroke: hex(green), StrokeWidth: trendSty.Width.Points()})
		}
	}
	return render(w, f, format)
}

// shaded reports whether a CI is drawn as a band: only when it fits the
// axis, since a clipped band that fills the plot shows nothing.
func shaded(ci *Interval, ylo, yhi float64) bool {
	return ci != nil && ci.Lower >= ylo && ci.Upper <= yhi
}

func refLine(name string, v float64, y, h vg.Length, sty draw.LineStyle) RefLine {
	return RefLine{
		Name: name, Orient: "horizontal", Value: v, Px: round4((h - y).Points()),
		Stroke: hex(sty.Color.(color.RGBA)), StrokeWidth: sty.Width.Points(),
	}
}

// segment draws a straight line between two data points, clipped to the
// data area.
func segment(x0, y0, x1, y1 float64, sty draw.LineStyle) funcPlotter {
	return func(c draw.Canvas, p *gplot.Plot) {
		pts := []vg.Point{
			{X: c.X(p.X.Norm(x0)), Y: c.Y(p.Y.Norm(y0))},
			{X: c.X(p.X.Norm(x1)), Y: c.Y(p.Y.Norm(y1))},
		}
		c.StrokeLines(sty, c.ClipLinesXY(pts)...)
	}
}

func minMax(xs []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}

// headroom is the share of an axis added above the data when a note is
// printed at the top of the plot body, so the note covers no point.
const headroom = 0.18

// padRange widens [lo, hi] by 8% each side, and to at least minWidth
// around its centre so that identical values still get an axis.
func padRange(lo, hi, minWidth float64) (float64, float64) {
	if hi-lo < minWidth {
		c := (lo + hi) / 2
		lo, hi = c-minWidth/2, c+minWidth/2
	}
	pad := 0.08 * (hi - lo)
	return lo - pad, hi + pad
}

// signed formats v as a term to add: " + 0.12" or " − 0.12".
func signed(v float64) string {
	if v < 0 && fix2(v) != "0.00" {
		return " − " + fix2(-v)
	}
	return " + " + fix2(math.Abs(v))
}
