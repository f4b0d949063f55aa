// Package plot draws the agreement figures of a study (Bland–Altman,
// client-against-counsellor scatter, difference trajectories, per-counsellor
// caterpillar and one dyad's course) as SVG or PNG with gonum.org/v1/plot.
//
// The package knows nothing of HTTP, the database or the rest of this
// module: callers map their domain data to the plain input structs here and
// pass any figure they already report (bias, limits of agreement, Lin's CCC)
// so that the picture shows the same numbers as the JSON report. Means and
// confidence intervals that only the picture needs (per session, per
// counsellor) are computed here from the raw differences.
//
// # Inputs
//
// Scores are on the instrument's own scale (Scale.Min..Scale.Max, e.g. item
// means 1–5). Any NaN or ±Inf, a score outside the scale, or mismatched
// slice lengths is an error wrapping ErrInput: values are never skipped
// silently, because the n printed in a caption must be the n the caller's
// statistics were computed on. Missing ratings are expressed by leaving the
// pair or session out, not by NaN.
//
// # Small and large n
//
// n = 0, 1 or 2 never fails: the figure is drawn with its axes and says in
// its body what it cannot show ("No complete dyads at this session",
// "n = 1: too few for limits of agreement"). No confidence interval is
// drawn from fewer than an input's MinNInterval observations (default 3,
// the service's rule in docs/statistics.md), whether computed here or
// passed in, so a figure never shows an interval its report gives as
// null; captions say where intervals are missing. An interval wider than
// the axis is cut at the edge of the data area and never reaches the
// title, the axes or the caption. Overlapping scores on a
// discrete scale are drawn once per distinct position with point area
// proportional to the number of dyads there; past MaxMarkers distinct
// positions (or, for trajectories, dyad-session observations) the points
// are binned into a count grid and the caption says so, which keeps a
// 10,000-dyad SVG near 100 KB.
//
// # Output
//
// Figures are Width × Height points (some grow with the number of rows or
// panels); PNG is rendered at DPI dots per inch. Every SVG starts with
// <title> and <desc> for screen readers and a <metadata> element holding
// JSON (see Metadata) that records what was drawn and where, so tests and
// other tools can read a figure back without rasterising it.
package plot

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Format selects the output encoding of a figure.
type Format int

const (
	// SVG is scalable vector output with accessible title, description and
	// JSON metadata (see Metadata).
	SVG Format = iota
	// PNG is a raster image at DPI dots per inch, for slides.
	PNG
)

// String names the format as its file extension.
func (f Format) String() string {
	switch f {
	case SVG:
		return "svg"
	case PNG:
		return "png"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

const (
	// DPI is the PNG resolution: a default 7 × 5 in figure is 1400 × 1000
	// pixels, sharp on a 1080p slide at half width and still readable when
	// printed.
	DPI = 200

	// MaxMarkers is the most point markers a figure draws one by one.
	// Bland–Altman and scatter plots count distinct (x, y) positions;
	// trajectories count dyad-session observations. Past it the data are
	// binned into a BinsX × BinsY grid so that file size and rendering
	// time stay bounded: each marker costs about 120 bytes of SVG.
	MaxMarkers = 2000

	// BinsX and BinsY are the grid used when binning a Bland–Altman plot;
	// a scatter uses BinsX × BinsX cells on its square, and trajectories
	// BinsY difference bands per session.
	BinsX = 40
	BinsY = 30

	// DefaultConf is the confidence level assumed when an input's Conf is 0.
	DefaultConf = 0.95

	// DefaultMinNInterval is the fewest observations an interval is drawn
	// from when an input's MinNInterval is 0: the service's rule
	// (docs/statistics.md). At n = 2 the t quantile has one degree of
	// freedom and a 95% interval spans most of the axis.
	DefaultMinNInterval = 3
)

// Width and Height are the default figure size; PNG pixels are
// Width/vg.Inch·DPI by Height/vg.Inch·DPI.
const (
	Width  = 7 * vg.Inch
	Height = 5 * vg.Inch
)

// ErrInput is wrapped by every error about an input that cannot be drawn
// faithfully: NaN or infinite values, scores outside the scale, an empty
// scale, mismatched lengths.
var ErrInput = errors.New("plot: invalid input")

func inputErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInput, fmt.Sprintf(format, a...))
}

// Scale describes the score axis shared by both raters.
type Scale struct {
	// Name is shown in default titles, e.g. "WAI-SR total" or "Bond".
	Name string
	// Unit is what a score is, e.g. "item mean"; axis labels read
	// "Client (item mean, 1–5)".
	Unit string
	// Min and Max are the lowest and highest possible scores.
	Min, Max float64
}

func (s Scale) check() error {
	if !finite(s.Min, s.Max) || !(s.Max > s.Min) {
		return inputErr("scale %q range [%v, %v] is empty or not finite", s.Name, s.Min, s.Max)
	}
	return nil
}

// contains reports whether v is a score on the scale, allowing for the
// rounding of an item mean computed in floating point.
func (s Scale) contains(v float64) bool {
	tol := 1e-9 * (s.Max - s.Min)
	return v >= s.Min-tol && v <= s.Max+tol
}

// label is an axis label with unit and range, e.g. "Client (item mean, 1–5)".
func (s Scale) label(what string) string {
	rng := num(s.Min) + "–" + num(s.Max)
	if s.Unit == "" {
		return what + " (" + rng + ")"
	}
	return what + " (" + s.Unit + ", " + rng + ")"
}

// diffLabel is the label of an axis of client − counsellor differences,
// e.g. "Client − counsellor difference (item mean)". It names no range:
// a difference runs over ±(Max − Min), not over the scale.
func (s Scale) diffLabel() string {
	if s.Unit == "" {
		return "Client − counsellor difference"
	}
	return "Client − counsellor difference (" + s.Unit + ")"
}

// span is the width of the scale, which bounds any difference.
func (s Scale) span() float64 { return s.Max - s.Min }

// Interval is a two-sided confidence interval.
type Interval struct {
	Lower, Upper float64
}

// Estimate is a point estimate with an optional confidence interval.
type Estimate struct {
	Value float64
	// CI is nil when the interval is undefined (e.g. n too small).
	CI *Interval
}

func (e Estimate) check(name string) error {
	if !finite(e.Value) {
		return inputErr("%s %v is not finite", name, e.Value)
	}
	if e.CI != nil {
		if !finite(e.CI.Lower, e.CI.Upper) || e.CI.Lower > e.CI.Upper {
			return inputErr("%s CI [%v, %v] is not a finite interval", name, e.CI.Lower, e.CI.Upper)
		}
	}
	return nil
}

// Line is a straight line y = Intercept + Slope·x in data units.
type Line struct {
	Intercept, Slope float64
}

func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

func confOf(c float64) (float64, error) {
	if c == 0 {
		return DefaultConf, nil
	}
	if !(c > 0 && c < 1) {
		return 0, inputErr("confidence level %v is not in (0, 1)", c)
	}
	return c, nil
}

// minNOf is the interval rule to apply: at least n observations, or
// DefaultMinNInterval when n is 0. No interval comes from one value.
func minNOf(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultMinNInterval, nil
	case n < 2:
		return 0, inputErr("MinNInterval %d is below 2: one value gives no interval", n)
	}
	return n, nil
}

// figure is one rendered picture: how to draw it, its accessible text and
// the metadata the drawing fills in.
type figure struct {
	w, h  vg.Length
	title string // <title>: short, like the visible title
	desc  string // <desc>: what the figure shows, with its key numbers
	meta  *Metadata
	draw  func(dc draw.Canvas)
}

// render draws f in the requested format. Drawing code indexes slices it
// built itself, so a panic there is a bug; it is still returned as an error
// rather than taking a server down with it.
func render(w io.Writer, f figure, format Format) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plot: drawing %s failed: %v", f.meta.Plot, r)
		}
	}()
	f.meta.Format = MetadataFormat
	f.meta.Width, f.meta.Height = round2(f.w.Points()), round2(f.h.Points())
	switch format {
	case SVG:
		c := vgsvg.New(f.w, f.h)
		f.draw(draw.New(c))
		var buf bytes.Buffer
		if _, err := c.WriteTo(&buf); err != nil {
			return fmt.Errorf("plot: write svg: %w", err)
		}
		out, err := annotate(buf.Bytes(), f.title, f.desc, f.meta)
		if err != nil {
			return err
		}
		_, err = w.Write(out)
		return err
	case PNG:
		c := vgimg.NewWith(vgimg.UseWH(f.w, f.h), vgimg.UseDPI(DPI))
		f.draw(draw.New(c))
		_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
		return err
	}
	return inputErr("unknown format %d", int(format))
}
