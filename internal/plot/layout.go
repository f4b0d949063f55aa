package plot

import (
	"image/color"
	"math"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// wrap breaks s into lines no wider than w in style sty, at spaces.
func wrap(sty text.Style, s string, w vg.Length) []string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		words := strings.Fields(para)
		line := ""
		for _, wd := range words {
			try := wd
			if line != "" {
				try = line + " " + wd
			}
			if line != "" && sty.Width(try) > w {
				lines = append(lines, line)
				line = wd
				continue
			}
			line = try
		}
		lines = append(lines, line)
	}
	return lines
}

func lineHeight(sty text.Style) vg.Length {
	e := sty.FontExtents()
	return e.Height
}

const margin = 0.12 * vg.Inch

// layout draws title and caption on dc and returns the body canvas.
func layout(dc draw.Canvas, title, caption string) draw.Canvas {
	w := dc.Max.X - dc.Min.X
	ts := boldStyle(titleSize)
	ts.XAlign, ts.YAlign = draw.XCenter, draw.YTop
	tlines := wrap(ts, title, w-2*margin)
	y := dc.Max.Y - margin
	for _, l := range tlines {
		dc.FillText(ts, vg.Point{X: dc.Min.X + w/2, Y: y}, l)
		y -= lineHeight(ts)
	}
	top := dc.Max.Y - y + 0.06*vg.Inch

	cs := textStyle(captionSize, darkGrey)
	cs.YAlign = draw.YTop
	clines := wrap(cs, caption, w-2*margin)
	ch := vg.Length(len(clines))*lineHeight(cs) + margin
	cy := dc.Min.Y + ch - 0.04*vg.Inch
	for _, l := range clines {
		dc.FillText(cs, vg.Point{X: dc.Min.X + margin, Y: cy}, l)
		cy -= lineHeight(cs)
	}
	return draw.Crop(dc, margin/2, -1.5*margin, ch+0.08*vg.Inch, -top)
}

// probe is a plotter that draws nothing and records the data canvas and
// axis transforms gonum actually used, for metadata and for annotations
// drawn outside the data area.
type probe struct {
	c draw.Canvas
	p *gplot.Plot
}

func (pr *probe) Plot(c draw.Canvas, p *gplot.Plot) { pr.c, pr.p = c, p }

func (pr *probe) x(v float64) vg.Length { return pr.c.X(pr.p.X.Norm(v)) }
func (pr *probe) y(v float64) vg.Length { return pr.c.Y(pr.p.Y.Norm(v)) }

// panel converts the recorded transforms to page coordinates of an SVG of
// height h.
func (pr *probe) panel(name string, h vg.Length) Panel {
	p := pr.p
	return Panel{
		Name: name,
		X:    Axis{Min: p.X.Min, Max: p.X.Max, PxMin: round4(pr.x(p.X.Min).Points()), PxMax: round4(pr.x(p.X.Max).Points())},
		Y:    Axis{Min: p.Y.Min, Max: p.Y.Max, PxMin: round4((h - pr.y(p.Y.Min)).Points()), PxMax: round4((h - pr.y(p.Y.Max)).Points())},
	}
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

// funcPlotter adapts a closure to gplot.Plotter, for the few custom marks
// (bands, reference lines, notes) that need the data canvas.
type funcPlotter func(c draw.Canvas, p *gplot.Plot)

func (f funcPlotter) Plot(c draw.Canvas, p *gplot.Plot) { f(c, p) }

// note draws text centred near the top of the data area on a white box, so
// a "too few dyads" message never hides behind or covers the data much.
func note(msg string, center bool) gplot.Plotter {
	return funcPlotter(func(c draw.Canvas, _ *gplot.Plot) {
		sty := italicStyle(noteSize, darkGrey)
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YCenter
		w := c.Max.X - c.Min.X
		lines := wrap(sty, msg, w*0.85)
		lh := lineHeight(sty)
		var tw vg.Length
		for _, l := range lines {
			tw = max(tw, sty.Width(l))
		}
		th := vg.Length(len(lines)) * lh
		cy := c.Max.Y - th/2 - 0.12*vg.Inch
		if center {
			cy = (c.Min.Y + c.Max.Y) / 2
		}
		cx := (c.Min.X + c.Max.X) / 2
		pad := vg.Points(5)
		box := vg.Rectangle{
			Min: vg.Point{X: cx - tw/2 - pad, Y: cy - th/2 - pad},
			Max: vg.Point{X: cx + tw/2 + pad, Y: cy + th/2 + pad},
		}
		c.SetColor(alpha(color.RGBA{0xff, 0xff, 0xff, 0xff}, 0.85))
		c.Fill(box.Path())
		y := cy + th/2 - lh/2
		for _, l := range lines {
			c.FillText(sty, vg.Point{X: cx, Y: y}, l)
			y -= lh
		}
	})
}

// hline draws a full-width horizontal line at data value v.
func hline(v float64, sty draw.LineStyle) gplot.Plotter {
	return funcPlotter(func(c draw.Canvas, p *gplot.Plot) {
		y := c.Y(p.Y.Norm(v))
		c.StrokeLine2(sty, c.Min.X, y, c.Max.X, y)
	})
}

// clampY keeps page y inside the data canvas c: a mark for a value beyond
// the axis stops at its edge instead of running over the title, the axis
// or the caption.
func clampY(c draw.Canvas, y vg.Length) vg.Length { return min(max(y, c.Min.Y), c.Max.Y) }

// hband shades the full width between data values lo and hi.
func hband(lo, hi float64, fill color.Color) gplot.Plotter {
	return funcPlotter(func(c draw.Canvas, p *gplot.Plot) {
		y0, y1 := clampY(c, c.Y(p.Y.Norm(lo))), clampY(c, c.Y(p.Y.Norm(hi)))
		r := vg.Rectangle{Min: vg.Point{X: c.Min.X, Y: y0}, Max: vg.Point{X: c.Max.X, Y: y1}}
		c.SetColor(fill)
		c.Fill(r.Path())
	})
}

// dashes used for reference lines: long dash for limits, short for zero.
var (
	dashLong  = []vg.Length{vg.Points(6), vg.Points(3)}
	dashShort = []vg.Length{vg.Points(2), vg.Points(2)}
	dashDot   = []vg.Length{vg.Points(6), vg.Points(2), vg.Points(1.5), vg.Points(2)}
)

// spread moves label positions ys, given top to bottom, apart so
// neighbours are at least gap apart without passing hi, and returns the
// new positions in the input order. Labels of lines that coincide (zero-width limits) would
// otherwise print on top of each other.
func spread(ys []vg.Length, gap, hi vg.Length) []vg.Length {
	idx := make([]int, len(ys))
	for i := range idx {
		idx[i] = i
	}
	// insertion sort by y: a handful of labels
	// ties (coinciding lines) keep the caller's top-to-bottom order
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && (ys[idx[j]] < ys[idx[j-1]] || ys[idx[j]] == ys[idx[j-1]] && idx[j] > idx[j-1]); j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	out := append([]vg.Length(nil), ys...)
	for k := 1; k < len(idx); k++ {
		if d := out[idx[k]] - out[idx[k-1]]; d < gap {
			out[idx[k]] = out[idx[k-1]] + gap
		}
	}
	// if pushed past the top, shift the whole stack down
	if n := len(idx); n > 0 && out[idx[n-1]] > hi {
		shift := out[idx[n-1]] - hi
		for _, i := range idx {
			out[i] -= shift
		}
		for k := len(idx) - 2; k >= 0; k-- {
			if d := out[idx[k+1]] - out[idx[k]]; d < gap {
				out[idx[k]] = out[idx[k+1]] - gap
			}
		}
	}
	return out
}
