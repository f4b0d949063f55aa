package plot

import (
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	xfont "golang.org/x/image/font"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Okabe & Ito's (2008) colour-blind-safe palette. Colour is never the only
// carrier of meaning: lines also differ in dash pattern and are labelled,
// and the two raters also differ in marker shape.
var (
	black      = color.RGBA{0x00, 0x00, 0x00, 0xff}
	orange     = color.RGBA{0xE6, 0x9F, 0x00, 0xff}
	green      = color.RGBA{0x00, 0x9E, 0x73, 0xff}
	blue       = color.RGBA{0x00, 0x72, 0xB2, 0xff}
	vermillion = color.RGBA{0xD5, 0x5E, 0x00, 0xff}
	grey       = color.RGBA{0x80, 0x80, 0x80, 0xff}
	darkGrey   = color.RGBA{0x40, 0x40, 0x40, 0xff}
)

// alpha returns c with opacity a in [0, 1], premultiplied as image/color
// expects.
func alpha(c color.RGBA, a float64) color.NRGBA {
	return color.NRGBA{c.R, c.G, c.B, uint8(math.Round(255 * a))}
}

// hex is an opaque colour as vgsvg writes it in a style attribute.
func hex(c color.RGBA) string { return fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B) }

// svgColor is any colour as vgsvg writes it: it un-premultiplies with a
// truncating division, so a translucent #0072B2 comes out as #0071B1, and
// metadata must name the colour actually in the file.
func svgColor(c color.Color) string {
	r, g, b, a := c.RGBA()
	if a == 0 {
		return "#000000"
	}
	k := 255.0 / float64(a)
	return fmt.Sprintf("#%02X%02X%02X", int(float64(r)*k), int(float64(g)*k), int(float64(b)*k))
}

// Type sizes in points. At 7 × 5 in these read like a journal figure and
// stay legible when the PNG is scaled to half a slide.
const (
	titleSize   = 13
	labelSize   = 11
	tickSize    = 10
	captionSize = 9
	noteSize    = 10.5
	annotSize   = 9
)

var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

func textStyle(size vg.Length, c color.Color) text.Style {
	return text.Style{
		Color:   c,
		Font:    font.From(sans, size),
		XAlign:  draw.XLeft,
		YAlign:  draw.YBottom,
		Handler: gplot.DefaultTextHandler,
	}
}

func boldStyle(size vg.Length) text.Style {
	s := textStyle(size, black)
	s.Font.Weight = xfont.WeightBold
	return s
}

func italicStyle(size vg.Length, c color.Color) text.Style {
	s := textStyle(size, c)
	s.Font.Style = xfont.StyleItalic
	return s
}

// newPlot is a gonum plot in this package's house style: sans-serif text,
// no title (the figure draws its own), ticks that print a true minus sign.
func newPlot(xLabel, yLabel string) *gplot.Plot {
	p := gplot.New()
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, labelSize)
		a.Tick.Label.Font = font.From(sans, tickSize)
		a.Tick.Length = vg.Points(4)
		a.Padding = vg.Points(3)
		a.Tick.Marker = niceTicks{}
	}
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	p.X.Label.Padding = vg.Points(4)
	p.Y.Label.Padding = vg.Points(4)
	return p
}

// num formats a number for captions and labels: at most 2 decimals,
// trailing zeros kept only where they carry precision, and a true minus
// sign (U+2212), which Liberation Sans has.
func num(v float64) string {
	s := strconv.FormatFloat(v, 'f', decimals(v, 2), 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return pretty(s)
}

// fix2 formats with exactly two decimals, for estimates whose precision
// should look the same across a caption.
func fix2(v float64) string {
	s := strconv.FormatFloat(v, 'f', decimals(v, 2), 64)
	if strings.Trim(s, "-0.") == "" {
		s = strings.TrimPrefix(s, "-")
	}
	return pretty(s)
}

// decimals drops the decimals of numbers of 10,000 and more, which only
// scales far from a rating scale produce.
func decimals(v float64, d int) int {
	if math.Abs(v) >= 1e4 {
		return 0
	}
	return d
}

// pretty puts a true minus sign and thousands separators into a
// formatted number, so 1e6 reads 1,000,000 and not 1000000.
func pretty(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	if len(intPart) > 3 {
		var b strings.Builder
		for i, r := range intPart {
			if i > 0 && (len(intPart)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(r)
		}
		intPart = b.String()
	}
	s = intPart
	if frac != "" {
		s += "." + frac
	}
	if neg {
		s = "−" + s
	}
	return s
}

// count formats a count with thousands separators: 10,000.
func count(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return s
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func ciText(ci *Interval) string {
	if ci == nil {
		return "CI not available"
	}
	return fix2(ci.Lower) + " to " + fix2(ci.Upper)
}

func pct(conf float64) string {
	return strconv.FormatFloat(conf*100, 'f', -1, 64) + "%"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return count(n) + " " + one
	}
	return count(n) + " " + many
}

// niceTicks labels round values (steps of 1, 2, 2.5 or 5 × 10^k) with
// six to eight major ticks, so a 1–5 scale gets 1, 2, 3, 4, 5, and prints
// negatives with a true minus sign.
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []gplot.Tick {
	step := niceStep((hi - lo) / 7)
	if step <= 0 || math.IsNaN(step) || math.IsInf(step, 0) {
		return nil
	}
	dec := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	if math.Abs(step*math.Pow10(dec)-math.Round(step*math.Pow10(dec))) > 1e-9 {
		dec++ // 2.5 × 10^k needs one more decimal
	}
	var ticks []gplot.Tick
	for v := math.Ceil(lo/step-1e-9) * step; v <= hi+step*1e-9; v += step {
		if len(ticks) > 50 {
			break
		}
		r := math.Round(v/step) * step
		s := strconv.FormatFloat(r, 'f', dec, 64)
		if strings.Trim(s, "-0.") == "" {
			s = strings.TrimPrefix(s, "-")
		}
		ticks = append(ticks, gplot.Tick{Value: r, Label: pretty(s)})
	}
	return ticks
}

func niceStep(raw float64) float64 {
	if !(raw > 0) {
		return 0
	}
	mag := math.Pow10(int(math.Floor(math.Log10(raw))))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if raw <= m*mag*1.0001 {
			return m * mag
		}
	}
	return 10 * mag
}

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
	c    draw.Canvas
	p    *gplot.Plot
	done bool
}

func (pr *probe) Plot(c draw.Canvas, p *gplot.Plot) { pr.c, pr.p, pr.done = c, p, true }

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

// hband shades the full width between data values lo and hi.
func hband(lo, hi float64, fill color.Color) gplot.Plotter {
	return funcPlotter(func(c draw.Canvas, p *gplot.Plot) {
		clamp := func(y vg.Length) vg.Length { return min(max(y, c.Min.Y), c.Max.Y) }
		y0, y1 := clamp(c.Y(p.Y.Norm(lo))), clamp(c.Y(p.Y.Norm(hi)))
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
