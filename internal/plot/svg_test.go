package plot_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/internal/plot"
)

// svgDoc is what the tests read back from an SVG, parsed with
// encoding/xml independently of the package's own ReadMetadata.
type svgDoc struct {
	raw      []byte
	first    []string // local names of the root's first child elements
	title    string
	desc     string
	metaText string
	height   float64 // from the root group's flip transform
	paths    []svgPath
	texts    []string
}

type svgPath struct {
	d     string
	style map[string]string
}

func (p svgPath) fill() string   { return p.style["fill"] }
func (p svgPath) stroke() string { return p.style["stroke"] }
func (p svgPath) width() float64 {
	w, err := strconv.ParseFloat(p.style["stroke-width"], 64)
	if err != nil {
		return 1 // SVG default, which vgsvg leaves out
	}
	return w
}

var flipRE = regexp.MustCompile(`^scale\(1, -1\) translate\(0, -([0-9.e+]+)\)$`)

// parseSVG decodes every token (so a malformed document fails the test)
// and collects the elements the assertions need.
func parseSVG(t *testing.T, raw []byte) svgDoc {
	t.Helper()
	doc := svgDoc{raw: raw}
	dec := xml.NewDecoder(bytes.NewReader(raw))
	depth := 0
	var stack []string
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			depth++
			stack = append(stack, tok.Name.Local)
			text.Reset()
			if depth == 1 && tok.Name.Local != "svg" {
				t.Fatalf("root element is <%s>, want <svg>", tok.Name.Local)
			}
			if depth == 2 {
				doc.first = append(doc.first, tok.Name.Local)
				if tok.Name.Local == "g" && doc.height == 0 {
					m := flipRE.FindStringSubmatch(attrOf(tok, "transform"))
					if m == nil {
						t.Fatalf("first <g> transform %q is not gonum's flip", attrOf(tok, "transform"))
					}
					doc.height, _ = strconv.ParseFloat(m[1], 64)
				}
			}
			if tok.Name.Local == "path" {
				doc.paths = append(doc.paths, svgPath{d: attrOf(tok, "d"), style: parseStyle(attrOf(tok, "style"))})
			}
		case xml.CharData:
			text.Write(tok)
		case xml.EndElement:
			name := stack[len(stack)-1]
			switch {
			case depth == 2 && name == "title":
				doc.title = text.String()
			case depth == 2 && name == "desc":
				doc.desc = text.String()
			case depth == 2 && name == "metadata":
				doc.metaText = text.String()
			case name == "text":
				doc.texts = append(doc.texts, text.String())
			}
			stack = stack[:len(stack)-1]
			depth--
			text.Reset()
		}
	}
	if len(doc.first) < 3 || doc.first[0] != "title" || doc.first[1] != "desc" || doc.first[2] != "metadata" {
		t.Fatalf("first children of <svg> = %v, want title, desc, metadata", doc.first)
	}
	if doc.height == 0 {
		t.Fatal("no flip transform found")
	}
	return doc
}

func attrOf(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func parseStyle(s string) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(s, ";") {
		if k, v, ok := strings.Cut(kv, ":"); ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m
}

// metadata reads the package's metadata through the public reader and
// checks it against the raw <metadata> text the test parsed itself.
func (doc svgDoc) metadata(t *testing.T) plot.Metadata {
	t.Helper()
	m, err := plot.ReadMetadata(bytes.NewReader(doc.raw))
	if err != nil {
		t.Fatalf("ReadMetadata: %v", err)
	}
	if !strings.Contains(doc.metaText, `"format":"`+plot.MetadataFormat+`"`) {
		t.Fatalf("metadata text lacks the format tag: %.200s", doc.metaText)
	}
	return m
}

// markers counts filled circles in colour fill: paths filled with it whose
// data draws an arc, which is how gonum's CircleGlyph comes out.
func (doc svgDoc) markers(fill string) int {
	n := 0
	for _, p := range doc.paths {
		if p.fill() == fill && strings.Contains(p.d, "A") {
			n++
		}
	}
	return n
}

// triangles counts filled, arc-free closed paths of three segments in fill.
func (doc svgDoc) triangles(fill string) int {
	n := 0
	for _, p := range doc.paths {
		if p.fill() == fill && !strings.Contains(p.d, "A") && strings.Count(p.d, "L") == 2 && strings.HasSuffix(p.d, "Z") {
			n++
		}
	}
	return n
}

var numRE = regexp.MustCompile(`-?[0-9.]+(?:e[-+]?[0-9]+)?`)

// points returns the coordinates of an M/L-only path.
func (p svgPath) points() [][2]float64 {
	if strings.ContainsAny(p.d, "ACQZ") {
		return nil
	}
	nums := numRE.FindAllString(p.d, -1)
	var pts [][2]float64
	for i := 0; i+1 < len(nums); i += 2 {
		x, _ := strconv.ParseFloat(nums[i], 64)
		y, _ := strconv.ParseFloat(nums[i+1], 64)
		pts = append(pts, [2]float64{x, y})
	}
	return pts
}

// hlines returns the page y (downwards, as in the SVG viewport) of every
// horizontal two-point stroke with the given colour and width.
func (doc svgDoc) hlines(stroke string, width float64) []float64 {
	var ys []float64
	for _, p := range doc.paths {
		if p.stroke() != stroke || math.Abs(p.width()-width) > 1e-9 {
			continue
		}
		pts := p.points()
		if len(pts) == 2 && pts[0][1] == pts[1][1] && pts[0][0] != pts[1][0] {
			ys = append(ys, doc.height-pts[0][1])
		}
	}
	return ys
}

// vlines is hlines for vertical strokes, returning page x.
func (doc svgDoc) vlines(stroke string, width float64) []float64 {
	var xs []float64
	for _, p := range doc.paths {
		if p.stroke() != stroke || math.Abs(p.width()-width) > 1e-9 {
			continue
		}
		pts := p.points()
		if len(pts) == 2 && pts[0][0] == pts[1][0] && pts[0][1] != pts[1][1] {
			xs = append(xs, pts[0][0])
		}
	}
	return xs
}

func (doc svgDoc) allText() string { return strings.Join(doc.texts, " ") }

func renderSVG(t *testing.T, draw drawFunc) svgDoc {
	t.Helper()
	var buf bytes.Buffer
	if err := draw(&buf, plot.SVG); err != nil {
		t.Fatalf("SVG: %v", err)
	}
	return parseSVG(t, buf.Bytes())
}

func approx(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %v, want %v (±%v)", what, got, want, tol)
	}
}
