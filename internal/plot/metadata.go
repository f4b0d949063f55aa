package plot

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
)

// MetadataFormat names the version of the JSON in an SVG's <metadata>
// element; it changes when a field changes meaning.
const MetadataFormat = "alliance-plot/1"

// Metadata is what a figure records about itself. In SVG output it is the
// JSON text of the element
//
//	<metadata id="alliance-plot">{...}</metadata>
//
// which, with <title> and <desc>, is one of the first children of the root
// <svg>. The JSON is XML-escaped character data, so any XML parser returns
// it verbatim. Coordinates are SVG user units (points; the viewBox is
// "0 0 width height"), y measured downwards from the top edge as in the
// SVG file, and data values are in the input's units. To find a value v on
// the page use Axis.Px; PNG pixel = SVG unit × DPI/72. A Bland–Altman
// plot of four dyads records (caption shortened):
//
//	{"format":"alliance-plot/1","plot":"bland-altman","width":504,"height":360,
//	 "n":4,"drawn":4,"markers":4,"marker_fill":"#0071B1","encoding":"bubble",
//	 "binned":false,"caption":"n = 4 dyads; …",
//	 "panels":[{"x":{"min":1,"max":5,"px_min":44.6476,"px_max":414.456},
//	            "y":{"min":-1.8048,"max":2.6798,"px_min":269.4926,"px_max":27.9087}}],
//	 "lines":[{"name":"zero","panel":0,"orient":"horizontal","value":0,"px":172.2686,"stroke":"#808080","stroke_width":0.8},
//	          {"name":"loa_upper",…,"value":1.7262,"px":79.28,"stroke":"#D55E00","stroke_width":1.4},
//	          {"name":"bias",…,"value":0.4375,"px":148.7007,"stroke":"#000000","stroke_width":1.6},
//	          {"name":"loa_lower",…,"value":-0.8512,"px":218.1213,"stroke":"#D55E00","stroke_width":1.4},
//	          {"name":"trend","panel":0,"orient":"diagonal","value":0.1672,"px":0,"stroke":"#009E73","stroke_width":1.3}],
//	 "values":{"bias":0.4375,"bias_y":148.7007,"loa_lower":-0.8512,"loa_lower_y":218.1213,
//	           "loa_upper":1.7262,"loa_upper_y":79.28,"n":4,"trend_intercept":-0.0903,"trend_slope":0.1672}}
type Metadata struct {
	Format string  `json:"format"` // MetadataFormat
	Plot   string  `json:"plot"`   // bland-altman, scatter, trajectories, caterpillar, dyad-trajectory
	Width  float64 `json:"width"`  // SVG user units
	Height float64 `json:"height"`
	// N is the number of dyads the figure is about: pairs in Bland–Altman
	// and scatter, dyads in trajectories and caterpillar, sessions with
	// any rating in a dyad trajectory.
	N int `json:"n"`
	// Drawn is the number of observations the markers stand for: the sum
	// of the counts of all markers (dyad-sessions for trajectories, scores
	// for a dyad trajectory). It equals N (or the observations given)
	// unless something was left undrawn, which would be a bug.
	Drawn int `json:"drawn"`
	// Markers is the number of data marker elements in the drawing; each is
	// one <path> whose style has fill:MarkerFill and whose data contains an
	// arc ("A"). A dyad trajectory's client circles are counted this way,
	// its counsellor triangles are arc-free paths filled with blue.
	Markers    int    `json:"markers"`
	MarkerFill string `json:"marker_fill,omitempty"`
	// LineStroke is the stroke colour of the per-dyad lines of a
	// trajectories figure (whose count is Values["dyad_lines"]).
	LineStroke string `json:"line_stroke,omitempty"`
	// KeyMarkers is the number of further markers drawn in a key outside
	// the data areas (scatter's point-size key, the dyad trajectory's
	// legend), which a count of marker elements must allow for.
	KeyMarkers int `json:"key_markers,omitempty"`
	// Encoding says how overlapping data are shown: "bubble" (one marker
	// per distinct position, area ∝ count), "binned" (one marker per
	// non-empty grid cell, area ∝ count), "lines" (one line per dyad),
	// "points" (one marker per score).
	Encoding string `json:"encoding"`
	Binned   bool   `json:"binned"`
	// Note is the text drawn in the plot body when n is too small for part
	// of the figure, empty otherwise.
	Note    string `json:"note,omitempty"`
	Caption string `json:"caption"`
	// Panels hold the axis transform of each data area, in drawing order.
	Panels []Panel `json:"panels"`
	// Lines are the reference lines drawn (bias, limits, zero, identity).
	Lines []RefLine `json:"lines,omitempty"`
	// Values are the key numbers of the figure by name, e.g. "bias",
	// "loa_lower", "loa_upper" and their page positions "bias_y",
	// "loa_lower_y", "loa_upper_y"; "ccc", "pearson_r" for a scatter.
	Values   map[string]float64 `json:"values,omitempty"`
	Sessions []SessionMeta      `json:"sessions,omitempty"` // trajectories
	Rows     []RowMeta          `json:"rows,omitempty"`     // caterpillar, top to bottom
}

// Axis maps data values linearly to page coordinates: Min lands on PxMin
// and Max on PxMax (for a y axis PxMin > PxMax because SVG y grows down).
type Axis struct {
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	PxMin float64 `json:"px_min"`
	PxMax float64 `json:"px_max"`
}

// Px is the page coordinate of data value v.
func (a Axis) Px(v float64) float64 {
	return a.PxMin + (v-a.Min)/(a.Max-a.Min)*(a.PxMax-a.PxMin)
}

// Value is the data value at page coordinate px, the inverse of Px.
func (a Axis) Value(px float64) float64 {
	return a.Min + (px-a.PxMin)/(a.PxMax-a.PxMin)*(a.Max-a.Min)
}

// Panel is one data area: its name (the scale for multi-panel figures) and
// axis transforms.
type Panel struct {
	Name string `json:"name,omitempty"`
	X    Axis   `json:"x"`
	Y    Axis   `json:"y"`
}

// RefLine is a reference line as drawn. Horizontal lines sit at page y =
// Px, vertical ones at page x = Px; a diagonal (the identity) has no Px.
// Stroke and StrokeWidth are the line's SVG style, unique within the
// figure except for the two limits of agreement, which share one style.
type RefLine struct {
	Name        string  `json:"name"` // bias, loa_lower, loa_upper, zero, identity, trend (Value = slope)
	Panel       int     `json:"panel"`
	Orient      string  `json:"orient"` // horizontal, vertical, diagonal
	Value       float64 `json:"value"`
	Px          float64 `json:"px"`
	Stroke      string  `json:"stroke"` // "#RRGGBB"
	StrokeWidth float64 `json:"stroke_width"`
}

// SessionMeta is one session of a trajectories figure.
type SessionMeta struct {
	Session int     `json:"session"`
	N       int     `json:"n"`
	Mean    float64 `json:"mean"`              // 0 when N = 0
	Lower   float64 `json:"ci_lower"`          // = Mean when NoCI
	Upper   float64 `json:"ci_upper"`          // = Mean when NoCI
	Y       float64 `json:"y"`                 // page y of Mean, 0 when N = 0
	XPx     float64 `json:"x"`                 // page x of the session
	Label   string  `json:"label"`             // tick label drawn under the axis
	Note    string  `json:"note,omitempty"`    // e.g. no dyads at this session
	NoCI    bool    `json:"no_ci,omitempty"`   // N below the input's MinNInterval: no CI drawn
	Missing bool    `json:"missing,omitempty"` // N = 0
}

// RowMeta is one counsellor row of a caterpillar figure.
type RowMeta struct {
	Label string  `json:"label"`
	N     int     `json:"n"`
	Mean  float64 `json:"mean"`
	Lower float64 `json:"ci_lower"` // = Mean when NoCI
	Upper float64 `json:"ci_upper"`
	NoCI  bool    `json:"no_ci,omitempty"` // N below the input's MinNInterval: no CI drawn
	Y     float64 `json:"y"`               // page y of the row
	X     float64 `json:"x"`               // page x of the mean
}

// ReadMetadata extracts the Metadata of an SVG written by this package.
func ReadMetadata(r io.Reader) (Metadata, error) {
	dec := xml.NewDecoder(r)
	for {
		tok, err := dec.Token()
		if err != nil {
			return Metadata{}, fmt.Errorf("plot: no alliance-plot metadata: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "metadata" || attr(se, "id") != "alliance-plot" {
			continue
		}
		var raw struct {
			Text string `xml:",chardata"`
		}
		if err := dec.DecodeElement(&raw, &se); err != nil {
			return Metadata{}, err
		}
		var m Metadata
		if err := json.Unmarshal([]byte(raw.Text), &m); err != nil {
			return Metadata{}, fmt.Errorf("plot: metadata json: %w", err)
		}
		return m, nil
	}
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// annotate inserts role="img" and the <title>, <desc> and <metadata>
// children right after the root <svg> start tag of gonum's output, whose
// prelude we know (an XML declaration, a comment, then <svg ...>), and
// adds fallback fonts; it changes nothing else. All inserted text goes
// through xml.EscapeText.
func annotate(svg []byte, title, desc string, m *Metadata) ([]byte, error) {
	start := bytes.Index(svg, []byte("<svg"))
	if start < 0 {
		return nil, fmt.Errorf("plot: no <svg> element in backend output")
	}
	end := bytes.IndexByte(svg[start:], '>')
	if end < 0 || svg[start+end-1] == '/' {
		return nil, fmt.Errorf("plot: unexpected <svg> start tag in backend output")
	}
	end += start
	js, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("plot: encode metadata: %w", err)
	}
	var ins bytes.Buffer
	ins.WriteString("\n<title>")
	escape(&ins, title)
	ins.WriteString("</title>\n<desc>")
	escape(&ins, desc)
	ins.WriteString("</desc>\n<metadata id=\"alliance-plot\">")
	_ = xml.EscapeText(&ins, js)
	ins.WriteString("</metadata>")

	out := make([]byte, 0, len(svg)+ins.Len()+16)
	out = append(out, svg[:end]...)
	out = append(out, ` role="img">`...)
	out = append(out, ins.Bytes()...)
	out = append(out, svg[end+1:]...)
	return bytes.ReplaceAll(out, fontFrom, fontTo), nil
}

// vgsvg names only the font it measured with, Liberation Sans; where that
// is not installed a browser falls back to its default sans-serif, which
// is often wider, and captions run off the edge. Liberation Sans has
// Arial's metrics, so Arial and Helvetica are exact stand-ins. The match
// includes `style="`, which cannot occur in escaped text content.
var (
	fontFrom = []byte(`style="font-family:Liberation Sans;`)
	fontTo   = []byte(`style="font-family:'Liberation Sans',Arial,Helvetica,sans-serif;`)
)

func escape(b *bytes.Buffer, s string) {
	_ = xml.EscapeText(b, []byte(s)) // a bytes.Buffer never fails to write
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
