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

// estimateText is a value for a caption, with its CI when it has one:
// "0.42 (95% CI 0.30 to 0.54)" or "0.42".
func estimateText(e Estimate, cl string) string {
	if e.CI == nil {
		return fix2(e.Value)
	}
	return fix2(e.Value) + " (" + cl + " CI " + ciText(e.CI) + ")"
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
