package api_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/png"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/api"
	"github.com/alliance-project/alliance/internal/plot"
)

// svgFigure is a plot response read back: the whole document parsed as
// XML, its metadata, and the data markers actually drawn.
type svgFigure struct {
	meta    plot.Metadata
	markers int    // <path> elements filled with the metadata's marker fill whose data draws an arc
	text    string // every text node, for what a reader sees
}

// getSVG fetches a figure, checks it is an SVG that parses from start to
// end, and reads it back.
func getSVG(t *testing.T, e *env, path string) svgFigure {
	t.Helper()
	rec := e.expect(http.StatusOK, http.MethodGet, path, "")
	if ct := rec.Header().Get("Content-Type"); ct != "image/svg+xml" {
		t.Fatalf("GET %s: Content-Type %q, want image/svg+xml", path, ct)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("GET %s: Content-Security-Policy %q, want a closed default", path, csp)
	}
	raw := rec.Body.Bytes()
	meta, err := plot.ReadMetadata(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	fig := svgFigure{meta: meta}
	dec := xml.NewDecoder(bytes.NewReader(raw))
	var texts []string
	var root string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("GET %s: the SVG does not parse: %v", path, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
			}
			if tok.Name.Local != "path" {
				continue
			}
			var style, d string
			for _, a := range tok.Attr {
				switch a.Name.Local {
				case "style":
					style = a.Value
				case "d":
					d = a.Value
				}
			}
			if meta.MarkerFill != "" && strings.Contains(style, "fill:"+meta.MarkerFill) && strings.Contains(d, "A") {
				fig.markers++
			}
		case xml.CharData:
			texts = append(texts, string(tok))
		}
	}
	if root != "svg" {
		t.Fatalf("GET %s: root element <%s>, want <svg>", path, root)
	}
	fig.text = strings.Join(texts, " ")
	return fig
}

// plotStudy makes a study of n dyads (counsellors K-0..K-2) whose first
// session is complete, with scores spread over the scale; the last dyad
// also rates a second session, and one more dyad has a client rating
// only.
func plotStudy(t *testing.T, e *env, n int) (study string, dyads []api.DyadResponse) {
	t.Helper()
	study = e.createStudy("wai_sr_client", "wai_sr_therapist").ID
	for i := range n {
		d := e.createDyad(study, fmt.Sprintf("C-%03d", i), fmt.Sprintf("K-%d", i%3))
		dyads = append(dyads, d)
		c, k := 1+(i*7)%5, 1+(i*3)%5
		e.postRating(d.ID, 1, "client", fmt.Sprintf("[%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d]", c, c, 5, c, c, 4, c, c, 5, c, c, c))
		e.postRating(d.ID, 1, "counsellor", fmt.Sprintf("[%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d]", k, 3, k, k, k, k, 2, k, k, k, k, k))
	}
	if n > 0 {
		last := dyads[n-1]
		e.postRating(last.ID, 2, "client", refClient)
		e.postRating(last.ID, 2, "counsellor", refTherapist)
	}
	lone := e.createDyad(study, "C-lone", "K-9")
	e.postRating(lone.ID, 1, "client", refClient)
	return study, dyads
}

// TestPlotsMatchAgreement: for the same parameters, the Bland–Altman and
// scatter plots draw exactly the n pairs the agreement report counts, and
// their lines and figures sit at the report's values.
func TestPlotsMatchAgreement(t *testing.T) {
	e := newEnv(t)
	study, _ := plotStudy(t, e, 24)
	for _, q := range []string{
		"",
		"session=last&scale=bond",
		"session=2",
		"session=first&scale=goal&multiplier=2&conf=0.9&band=0.25",
	} {
		t.Run(q, func(t *testing.T) {
			a := decode[api.StudyAgreementResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+study+"/agreement?"+q, ""))
			sc := a.Scales[0]
			ba := getSVG(t, e, "/v1/studies/"+study+"/plots/bland-altman.svg?trend=true&"+q)
			if ba.meta.Plot != "bland-altman" || ba.meta.N != sc.N || ba.meta.Drawn != sc.N {
				t.Errorf("Bland–Altman: plot %q n %d drawn %d; the agreement report has n = %d", ba.meta.Plot, ba.meta.N, ba.meta.Drawn, sc.N)
			}
			if ba.markers != ba.meta.Markers {
				t.Errorf("Bland–Altman: %d markers in the SVG, metadata says %d", ba.markers, ba.meta.Markers)
			}
			if !strings.Contains(ba.meta.Caption, fmt.Sprintf("n = %d dyad", sc.N)) || !strings.Contains(ba.meta.Caption, "area") {
				t.Errorf("Bland–Altman caption %q: want n = %d and how overlapping points are sized", ba.meta.Caption, sc.N)
			}
			b := sc.BlandAltman
			if b.Bias == nil {
				if sc.N >= 2 {
					t.Fatalf("agreement report has no bias for n = %d: %s", sc.N, b.Reason)
				}
				return
			}
			y := ba.meta.Panels[0].Y
			for name, want := range map[string]float64{"bias": *b.Bias, "loa_lower": *b.LowerLoA, "loa_upper": *b.UpperLoA} {
				if got := ba.meta.Values[name]; math.Abs(got-want) > 1e-12 {
					t.Errorf("Bland–Altman %s = %v, the agreement report says %v", name, got, want)
				}
				found := false
				for _, l := range ba.meta.Lines {
					if l.Name == name {
						found = true
						if math.Abs(l.Value-want) > 1e-12 || math.Abs(l.Px-y.Px(want)) > 0.01 {
							t.Errorf("Bland–Altman %s line at value %v, page y %v; want %v at %v", name, l.Value, l.Px, want, y.Px(want))
						}
					}
				}
				if !found {
					t.Errorf("Bland–Altman: no %s line", name)
				}
			}
			if pb := b.ProportionalBias.Slope; pb != nil && sc.N >= 3 {
				if got := ba.meta.Values["trend_slope"]; math.Abs(got-*pb) > 1e-12 {
					t.Errorf("trend slope %v, the report's proportional bias %v", got, *pb)
				}
			}
			if !strings.Contains(ba.text, "Bland–Altman plot") || !strings.Contains(ba.text, "item mean, 1–5") {
				t.Errorf("Bland–Altman text lacks the title or the axis unit: %.300s", ba.text)
			}

			sp := getSVG(t, e, "/v1/studies/"+study+"/plots/scatter.svg?"+q)
			if sp.meta.N != sc.N || sp.meta.Drawn != sc.N || sp.markers != sp.meta.Markers+sp.meta.KeyMarkers {
				t.Errorf("scatter: n %d drawn %d markers %d (+%d in the key, metadata %d); report n = %d",
					sp.meta.N, sp.meta.Drawn, sp.markers, sp.meta.KeyMarkers, sp.meta.Markers, sc.N)
			}
			if sc.CCC.RhoC != nil && math.Abs(sp.meta.Values["ccc"]-*sc.CCC.RhoC) > 1e-12 {
				t.Errorf("scatter CCC %v, report %v", sp.meta.Values["ccc"], *sc.CCC.RhoC)
			}
			if sc.Pearson.R != nil && math.Abs(sp.meta.Values["pearson_r"]-*sc.Pearson.R) > 1e-12 {
				t.Errorf("scatter Pearson r %v, report %v", sp.meta.Values["pearson_r"], *sc.Pearson.R)
			}

			cat := getSVG(t, e, "/v1/studies/"+study+"/plots/counsellors.svg?"+q)
			n := 0
			for _, r := range cat.meta.Rows {
				n += r.N
			}
			if n != sc.N || cat.meta.N != sc.N {
				t.Errorf("counsellors: rows hold %d dyads (metadata n %d), report n = %d", n, cat.meta.N, sc.N)
			}
		})
	}

	tr := getSVG(t, e, "/v1/studies/"+study+"/plots/trajectories.svg?scale=task")
	if tr.meta.Plot != "trajectories" || tr.meta.N != 24 || len(tr.meta.Sessions) != 2 ||
		tr.meta.Sessions[0].N != 24 || tr.meta.Sessions[1].N != 1 || tr.meta.Drawn != 25 {
		t.Errorf("trajectories: n %d, drawn %d, sessions %+v; want 24 dyads, n 24 and 1 at sessions 1 and 2", tr.meta.N, tr.meta.Drawn, tr.meta.Sessions)
	}
}

// TestPlotsSmallStudies: a study with no, one or two complete pairs gets
// figures that say what they cannot show, never a server error.
func TestPlotsSmallStudies(t *testing.T) {
	e := newEnv(t)
	for _, n := range []int{0, 1, 2} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			study, dyads := plotStudy(t, e, n)
			for _, name := range []string{"bland-altman", "scatter", "trajectories", "counsellors"} {
				fig := getSVG(t, e, "/v1/studies/"+study+"/plots/"+name+".svg?trend=true")
				if name != "trajectories" && fig.meta.N != n {
					t.Errorf("%s: n = %d, want %d", name, fig.meta.N, n)
				}
				if !strings.Contains(fig.text, "n = ") {
					t.Errorf("%s says nothing of its n: %.300s", name, fig.text)
				}
			}
			ba := getSVG(t, e, "/v1/studies/"+study+"/plots/bland-altman.svg")
			if ba.meta.Note == "" || !strings.Contains(ba.text, ba.meta.Note) {
				t.Errorf("Bland–Altman at n = %d: note %q, want one drawn in the figure", n, ba.meta.Note)
			}
			for _, d := range dyads {
				getSVG(t, e, "/v1/dyads/"+d.ID+"/plots/trajectory.svg")
			}
		})
	}
	// A dyad nobody has rated yet.
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	d := e.createDyad(st.ID, "C-new", "K-new")
	if fig := getSVG(t, e, "/v1/dyads/"+d.ID+"/plots/trajectory.svg"); fig.meta.N != 0 {
		t.Errorf("unrated dyad: n = %d, want 0", fig.meta.N)
	}
}

// TestPlotsRefuseLikeAgreement: a bad parameter gets the agreement
// report's problem (status, type, fields and codes) from every study plot.
func TestPlotsRefuseLikeAgreement(t *testing.T) {
	e := newEnv(t)
	study, _ := plotStudy(t, e, 3)
	for _, q := range []string{"band=wide", "multiplier=x", "conf=high", "conf=2", "band=-1", "multiplier=0",
		"session=zero", "session=0", "scale=nope", "session=last&conf=1&scale=bond"} {
		want := e.do(http.MethodGet, "/v1/studies/"+study+"/agreement?"+q, "")
		wp := checkProblem(t, want, "agreement?"+q, problemWant{status: want.Code, typ: problemType(want.Code)})
		for _, name := range []string{"bland-altman", "scatter", "trajectories", "counsellors"} {
			req := "/v1/studies/" + study + "/plots/" + name + ".svg?" + q
			got := checkProblem(t, e.do(http.MethodGet, req, ""), req, problemWant{status: want.Code, typ: wp.Type})
			var wf, gf []fieldCode
			for _, f := range wp.Errors {
				wf = append(wf, fieldCode{f.Field, f.Code})
			}
			for _, f := range got.Errors {
				gf = append(gf, fieldCode{f.Field, f.Code})
			}
			if !sameFieldCodes(wf, gf) {
				t.Errorf("%s: fields %v, the agreement report's %v", req, gf, wf)
			}
		}
	}
	for _, tt := range []struct {
		q           string
		status      int
		field, code string
	}{
		{"format=gif", 422, "format", "invalid_value"},
		{"labels=names", 422, "labels", "invalid_value"},
		{"scale=total&scale=bond", 422, "scale", "one_scale"},
		{"trend=sometimes", 400, "trend", "invalid_value"},
	} {
		req := "/v1/studies/" + study + "/plots/bland-altman.svg?" + tt.q
		checkProblem(t, e.do(http.MethodGet, req, ""), req, problemWant{status: tt.status, typ: problemType(tt.status),
			fields: []fieldCode{{tt.field, tt.code}}})
	}
	checkProblem(t, e.do(http.MethodGet, "/v1/studies/st_nope/plots/scatter.svg", ""), "unknown study", problemWant{status: 404, typ: typeBlank})
	checkProblem(t, e.do(http.MethodGet, "/v1/dyads/dy_nope/plots/trajectory.svg", ""), "unknown dyad", problemWant{status: 404, typ: typeBlank})
}

func problemType(status int) string {
	switch status {
	case 400:
		return typeMalformed
	case 422:
		return typeValidation
	}
	return typeBlank
}

// TestPlotLabels: no figure shows a participant code unless asked with
// labels=codes; asking shows them in the figure but never in the log (the
// log witness of this test fails otherwise).
func TestPlotLabels(t *testing.T) {
	e := newEnv(t)
	study, dyads := plotStudy(t, e, 6)
	codes := []string{"C-000", "C-005", "K-0", "K-1", "K-2", "C-lone"}
	for _, path := range []string{
		"/v1/studies/" + study + "/plots/bland-altman.svg",
		"/v1/studies/" + study + "/plots/scatter.svg",
		"/v1/studies/" + study + "/plots/trajectories.svg",
		"/v1/studies/" + study + "/plots/counsellors.svg",
		"/v1/dyads/" + dyads[0].ID + "/plots/trajectory.svg",
	} {
		fig := getSVG(t, e, path)
		for _, c := range codes {
			if strings.Contains(fig.text, c) {
				t.Errorf("%s shows the code %s without labels=codes", path, c)
			}
		}
	}
	cat := getSVG(t, e, "/v1/studies/"+study+"/plots/counsellors.svg?labels=codes")
	for _, c := range []string{"K-0", "K-1", "K-2", "K-9"} {
		if !strings.Contains(cat.text, c) {
			t.Errorf("counsellors with labels=codes lacks %s: %.400s", c, cat.text)
		}
	}
	if plain := getSVG(t, e, "/v1/studies/"+study+"/plots/counsellors.svg").text; !strings.Contains(plain, "Counsellor 1") || strings.Contains(plain, "K-") {
		t.Errorf("counsellors without labels should name rows Counsellor 1..k, not by code: %.400s", plain)
	}
	dy := getSVG(t, e, "/v1/dyads/"+dyads[0].ID+"/plots/trajectory.svg?labels=codes")
	if !strings.Contains(dy.text, "C-000") || !strings.Contains(dy.text, "K-0") {
		t.Errorf("dyad trajectory with labels=codes lacks the codes: %.300s", dy.text)
	}
}

// TestPlotPNG: format=png is a PNG of the documented size.
func TestPlotPNG(t *testing.T) {
	e := newEnv(t)
	study, _ := plotStudy(t, e, 5)
	rec := e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+study+"/plots/bland-altman.svg?"+url.Values{"format": {"png"}}.Encode(), "")
	if ct := rec.Header().Get("Content-Type"); ct != "image/png" {
		t.Fatalf("Content-Type %q, want image/png", ct)
	}
	img, err := png.Decode(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1400 || b.Dy() != 1000 {
		t.Errorf("PNG is %d × %d, want 1400 × 1000 (7 × 5 in at %d dpi)", b.Dx(), b.Dy(), plot.DPI)
	}
}

// TestPlotsShowNoIntervalTheReportNulls: the reports give a figure from
// fewer than 3 observations without its interval (bounds null, ci_reason
// n_too_small); the plots of the same data draw none either and say so,
// and where a report has an interval the plot draws that one.
func TestPlotsShowNoIntervalTheReportNulls(t *testing.T) {
	e := newEnv(t)
	study, _ := plotStudy(t, e, 2)
	a := decode[api.StudyAgreementResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+study+"/agreement", ""))
	if b := a.Scales[0].BlandAltman; b.Bias == nil || b.BiasCI != nil || b.CIReason != "n_too_small" {
		t.Fatalf("agreement report at n = 2: bias %v, bias_ci %v, ci_reason %q; want a bias without a CI", b.Bias, b.BiasCI, b.CIReason)
	}
	ba := getSVG(t, e, "/v1/studies/"+study+"/plots/bland-altman.svg")
	if _, ok := ba.meta.Values["bias"]; !ok || strings.Contains(ba.meta.Caption, "% CI") || !strings.Contains(ba.meta.Caption, "No CIs: fewer than 3 dyads.") {
		t.Errorf("Bland–Altman at n = 2: values %v, caption %q; want the bias, no CI and why", ba.meta.Values, ba.meta.Caption)
	}

	tr := getSVG(t, e, "/v1/studies/"+study+"/plots/trajectories.svg")
	for _, s := range tr.meta.Sessions {
		if s.N < 3 && (!s.NoCI || s.Lower != s.Mean || s.Upper != s.Mean) {
			t.Errorf("trajectories: session %d (n = %d) has a CI [%v, %v]", s.Session, s.N, s.Lower, s.Upper)
		}
	}
	rec := e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+study+"/plots/trajectories.svg?format=png", "")
	if n := bandPixelsOutside(t, rec.Body, tr.meta.Panels[0]); n > 0 {
		t.Errorf("trajectories PNG: %d band-coloured pixels outside the data area (over the title, axes or caption)", n)
	}

	// K-0 has 3 dyads, K-1 and K-2 have 2, K-9 none complete.
	study, _ = plotStudy(t, e, 7)
	rep := decode[api.CounsellorsResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+study+"/counsellors", ""))
	cat := getSVG(t, e, "/v1/studies/"+study+"/plots/counsellors.svg?labels=codes")
	if !strings.Contains(cat.meta.Caption, "none where n < 3") {
		t.Errorf("counsellors caption %q, want it to say there is no CI where n < 3", cat.meta.Caption)
	}
	intervals := 0
	for _, k := range rep.Counsellors {
		var row *plot.RowMeta
		for i, r := range cat.meta.Rows {
			if strings.HasPrefix(r.Label, k.CounsellorCode+" (") {
				row = &cat.meta.Rows[i]
			}
		}
		if row == nil {
			t.Fatalf("no row for %s in %+v", k.CounsellorCode, cat.meta.Rows)
		}
		d := k.Difference
		switch {
		case d.Lower == nil:
			if row.Lower != row.Mean || row.Upper != row.Mean {
				t.Errorf("%s (n = %d): the report has no interval (%s), the plot draws [%v, %v]", k.CounsellorCode, k.NDyads, d.CIReason, row.Lower, row.Upper)
			}
		case !d.Clipped:
			intervals++
			if math.Abs(row.Lower-*d.Lower) > 1e-9 || math.Abs(row.Upper-*d.Upper) > 1e-9 {
				t.Errorf("%s: plot CI [%v, %v], the report's [%v, %v]", k.CounsellorCode, row.Lower, row.Upper, *d.Lower, *d.Upper)
			}
		}
	}
	if intervals == 0 {
		t.Errorf("no counsellor with an unclipped interval to compare: %+v", rep.Counsellors)
	}
}

// bandPixelsOutside counts the pixels of a trajectories PNG outside the
// data area pn (read from the SVG's metadata) that have the colour of the
// CI band, orange over white; nothing else in the figure is orange.
func bandPixelsOutside(t *testing.T, r io.Reader, pn plot.Panel) int {
	t.Helper()
	img, err := png.Decode(r)
	if err != nil {
		t.Fatal(err)
	}
	const px = 72.0 / plot.DPI // points per pixel
	x0, x1 := pn.X.PxMin-2*px, pn.X.PxMax+2*px
	y0, y1 := pn.Y.PxMax-2*px, pn.Y.PxMin+2*px
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			r, g, bl := int(cr>>8), int(cg>>8), int(cb>>8)
			if r < 200 || r-bl < 60 || g-bl < 30 {
				continue
			}
			if px*float64(x) < x0 || px*float64(x) > x1 || px*float64(y) < y0 || px*float64(y) > y1 {
				n++
			}
		}
	}
	return n
}
