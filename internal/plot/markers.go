package plot

import (
	"image/color"
	"math"
	"sort"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// marker is one drawn point standing for n observations at (x, y).
type marker struct {
	x, y float64
	n    int
}

// aggregate draws scores on a discrete scale once per distinct position:
// item means of a 12-item form take few values, so many dyads share a
// point. Past MaxMarkers positions it bins into an nx × ny grid over the
// given ranges (cell centres). Markers are sorted by descending count
// so small points are drawn on top of large ones.
func aggregate(xs, ys []float64, xlo, xhi, ylo, yhi float64, nx, ny int) (ms []marker, binned bool) {
	type key struct{ x, y int64 }
	// round to 1e-9 so item means computed along different paths still meet
	q := func(v float64) int64 { return int64(math.Round(v * 1e9)) }
	idx := make(map[key]int, len(xs))
	for i := range xs {
		k := key{q(xs[i]), q(ys[i])}
		if j, ok := idx[k]; ok {
			ms[j].n++
			continue
		}
		idx[k] = len(ms)
		ms = append(ms, marker{xs[i], ys[i], 1})
	}
	if len(ms) > MaxMarkers {
		ms, binned = bin(xs, ys, xlo, xhi, ylo, yhi, nx, ny), true
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].n > ms[j].n })
	return ms, binned
}

// bin counts points in an nx × ny grid over [xlo, xhi] × [ylo, yhi] and
// returns one marker per non-empty cell at the cell centre.
func bin(xs, ys []float64, xlo, xhi, ylo, yhi float64, nx, ny int) []marker {
	cell := func(v, lo, hi float64, n int) int {
		if hi <= lo {
			return 0
		}
		i := int((v - lo) / (hi - lo) * float64(n))
		return min(max(i, 0), n-1)
	}
	counts := make([]int, nx*ny)
	for i := range xs {
		counts[cell(ys[i], ylo, yhi, ny)*nx+cell(xs[i], xlo, xhi, nx)]++
	}
	var ms []marker
	for c, n := range counts {
		if n == 0 {
			continue
		}
		ix, iy := c%nx, c/nx
		ms = append(ms, marker{
			x: xlo + (float64(ix)+0.5)*(xhi-xlo)/float64(nx),
			y: ylo + (float64(iy)+0.5)*(yhi-ylo)/float64(ny),
			n: n,
		})
	}
	return ms
}

const (
	// bubbleR is the radius of a one-dyad point; bubbleMaxR caps the largest
	// point, shrinking all points alike so that area stays ∝ count.
	bubbleR    = vg.Length(2.8)
	bubbleMaxR = vg.Length(11)
	// bubbleMinR keeps single observations visible in a binned plot whose
	// largest cell holds thousands; below it area is no longer ∝ count.
	bubbleMinR = vg.Length(0.6)
	// outlineMax is the most markers that get an outline ring: each ring
	// doubles a marker's SVG size.
	outlineMax = 400
)

// bubbles draws markers as filled circles with area proportional to their
// count. Every marker is one filled <path> in fill colour c; that is what
// Metadata.Markers counts.
type bubbles struct {
	ms   []marker
	c    color.RGBA
	base vg.Length // radius of a count-1 marker
	// cellW and cellH are the bin size in data units when binned: the
	// largest marker is then shrunk to fit its cell so cells never overlap.
	cellW, cellH float64
}

func newBubbles(ms []marker, c color.RGBA) *bubbles {
	maxN := 1
	for _, m := range ms {
		maxN = max(maxN, m.n)
	}
	base := min(bubbleR, bubbleMaxR/vg.Length(math.Sqrt(float64(maxN))))
	return &bubbles{ms: ms, c: c, base: base}
}

func (b *bubbles) radius(n int) vg.Length { return radius(b.base, n) }

func radius(base vg.Length, n int) vg.Length {
	return max(bubbleMinR, base*vg.Length(math.Sqrt(float64(n))))
}

func (b *bubbles) maxCount() int {
	m := 0
	for _, mk := range b.ms {
		m = max(m, mk.n)
	}
	return m
}

// markerAlpha is the opacity of marker fills, so overlaps show through.
const markerAlpha = 0.55

// markerFill is the fill of a data marker of colour c as written in SVG.
func markerFill(c color.RGBA) string { return svgColor(alpha(c, markerAlpha)) }

func (b *bubbles) Plot(c draw.Canvas, p *gplot.Plot) {
	fill := draw.GlyphStyle{Color: alpha(b.c, markerAlpha), Shape: draw.CircleGlyph{}}
	ring := draw.GlyphStyle{Color: b.c, Shape: draw.RingGlyph{}}
	outline := len(b.ms) <= outlineMax
	base := b.base
	if b.cellW > 0 && b.cellH > 0 {
		w := c.X(p.X.Norm(p.X.Min+b.cellW)) - c.X(p.X.Norm(p.X.Min))
		h := c.Y(p.Y.Norm(p.Y.Min+b.cellH)) - c.Y(p.Y.Norm(p.Y.Min))
		base = min(base, 0.48*min(w, h)/vg.Length(math.Sqrt(float64(max(1, b.maxCount())))))
	}
	for _, m := range b.ms {
		pt := vg.Point{X: c.X(p.X.Norm(m.x)), Y: c.Y(p.Y.Norm(m.y))}
		fill.Radius = radius(base, m.n)
		c.DrawGlyphNoClip(fill, pt)
		if outline {
			ring.Radius = fill.Radius
			c.DrawGlyphNoClip(ring, pt)
		}
	}
}

// GlyphBoxes keeps markers at the edge of the scale inside the data area.
func (b *bubbles) GlyphBoxes(p *gplot.Plot) []gplot.GlyphBox {
	bs := make([]gplot.GlyphBox, 0, len(b.ms))
	for _, m := range b.ms {
		r := b.radius(m.n)
		bs = append(bs, gplot.GlyphBox{
			X: p.X.Norm(m.x), Y: p.Y.Norm(m.y),
			Rectangle: vg.Rectangle{Min: vg.Point{X: -r, Y: -r}, Max: vg.Point{X: r, Y: r}},
		})
	}
	return bs
}

func sumCounts(ms []marker) int {
	n := 0
	for _, m := range ms {
		n += m.n
	}
	return n
}

// encodingText is the caption sentence saying how overlap is shown.
func encodingText(b *bubbles, binned bool, n int, unit string, nx, ny int) string {
	if binned {
		return "More than " + count(MaxMarkers) + " distinct points, so the " + count(n) + " " + unit +
			" were binned into a " + count(nx) + " × " + count(ny) +
			" grid: point area proportional to the number of " + unit + " per cell (largest: " + count(b.maxCount()) + ")."
	}
	if b.maxCount() <= 1 {
		return "One point per " + singular(unit) + "; point area would grow with the number of " + unit + " sharing a position."
	}
	return "Point area proportional to the number of " + unit + " at that position (largest: " + count(b.maxCount()) + ")."
}

func singular(unit string) string {
	if len(unit) > 1 && unit[len(unit)-1] == 's' {
		return unit[:len(unit)-1]
	}
	return unit
}
