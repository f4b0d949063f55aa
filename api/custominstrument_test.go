package api_test

// End-to-end tests of a family of forms defined through POST
// /v1/instruments: one test per figure family (scores, session, dyad and
// study agreement, counsellors and summary, exports and the codebook, the
// survey, the plots), each on the custom family below — 6 items on 1–7,
// two reverse-keyed items per form and a parallel map that is not the
// identity and crosses the forms' subscale numbering.
//
// The oracle is a twin: the same ratings, keyed and reordered by hand into
// a second family with the identity map and no reverse keys. Every figure
// the service computes on the custom family must equal the twin's, so
// wherever the service paired item i with item i, or keyed a counsellor
// answer with the client's reverse keys, the two part.

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/api"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/pgtest"
)

// customDefinition is the custom family "tst". Client item k pairs with
// counsellor item customPair[k-1]; the counsellor form numbers its
// subscales the other way round (work 1–3, bond 4–6), and its reverse keys
// 1 and 4 are the items parallel to the client's 5 and 2.
const customDefinition = `{
  "id": "tst",
  "version": "1",
  "name": "Test family",
  "citation": "synthetic, for tests",
  "licence_note": "no licence needed: synthetic",
  "items": 6,
  "scale": {"min": 1, "max": 7, "step": 1, "anchors": [
    {"value": 1, "labels": {"en": "Never", "sv": "Aldrig"}},
    {"value": 4, "labels": {"en": "Sometimes", "sv": "Ibland"}},
    {"value": 7, "labels": {"en": "Always", "sv": "Alltid"}}]},
  "parallel": [{"client": 1, "counsellor": 5}, {"client": 2, "counsellor": 4}, {"client": 3, "counsellor": 6},
    {"client": 4, "counsellor": 2}, {"client": 5, "counsellor": 1}, {"client": 6, "counsellor": 3}],
  "forms": [
    {"id": "tst_client", "role": "client", "labels": ["c one", "c two", "c three", "c four", "c five", "c six"],
     "subscales": [{"key": "bond", "label": "Bond", "items": [1, 2, 3]}, {"key": "work", "label": "Work", "items": [4, 5, 6]}],
     "reverse": [2, 5]},
    {"id": "tst_counsellor", "role": "counsellor", "labels": ["k one", "k two", "k three", "k four", "k five", "k six"],
     "subscales": [{"key": "bond", "label": "Bond", "items": [4, 5, 6]}, {"key": "work", "label": "Work", "items": [1, 2, 3]}],
     "reverse": [1, 4]}
  ]
}`

// twinDefinition is the same family with the identity map and no reverse
// keys: ratings keyed and reordered by hand score and compare alike. Its
// id has the custom family's letters, so plot titles are as wide.
const twinDefinition = `{
  "id": "tts", "version": "1", "name": "Test family", "citation": "synthetic, for tests",
  "licence_note": "no licence needed: synthetic", "items": 6,
  "scale": {"min": 1, "max": 7, "step": 1, "anchors": [
    {"value": 1, "labels": {"en": "Never", "sv": "Aldrig"}},
    {"value": 4, "labels": {"en": "Sometimes", "sv": "Ibland"}},
    {"value": 7, "labels": {"en": "Always", "sv": "Alltid"}}]},
  "forms": [
    {"id": "tts_client", "role": "client", "labels": ["c one", "c two", "c three", "c four", "c five", "c six"],
     "subscales": [{"key": "bond", "label": "Bond", "items": [1, 2, 3]}, {"key": "work", "label": "Work", "items": [4, 5, 6]}]},
    {"id": "tts_counsellor", "role": "counsellor",
     "subscales": [{"key": "bond", "label": "Bond", "items": [1, 2, 3]}, {"key": "work", "label": "Work", "items": [4, 5, 6]}]}
  ]
}`

var (
	// customPair[k] is the counsellor item (1-based) parallel to client item k+1.
	customPair = []int{5, 4, 6, 2, 1, 3}
	// Reverse-keyed items of each custom form.
	customClientReverse     = []int{2, 5}
	customCounsellorReverse = []int{1, 4}
)

// customRating is one rating as both families receive it: the keyed value
// the rater meant per family item (client numbering; 0 unanswered).
type customRating struct {
	dyad, session int
	role          string
	keyed         [6]int
}

// customRatings are 12 dyads (4 counsellors) with two sessions each,
// spread over the scale, one client item and one counsellor item left out.
func customRatings() []customRating {
	var out []customRating
	clamp := func(v int) int { return min(7, max(1, v)) }
	for d := range 12 {
		for s := 1; s <= 2; s++ {
			base := 2 + (d*3+s)%5
			var c, k [6]int
			for i := range 6 {
				c[i] = clamp(base + (d+i*s)%3 - 1 + i%2)
				k[i] = clamp(base - 1 + (d*2+i)%3 - 1)
			}
			if d == 3 && s == 2 {
				c[3] = 0
			}
			if d == 5 && s == 1 {
				k[0] = 0
			}
			out = append(out, customRating{d, s, "client", c}, customRating{d, s, "counsellor", k})
		}
	}
	return out
}

// answers is the rating's answers array for the custom family (raw, in
// the rater's own item order, reverse-keyed items as a rater ticks them)
// or for the twin (keyed, in client order).
func (r customRating) answers(custom bool) string {
	raw := make([]string, 6)
	for k, v := range r.keyed {
		pos, rev := k, false
		if custom {
			if r.role == "client" {
				rev = slices.Contains(customClientReverse, k+1)
			} else {
				pos = customPair[k] - 1
				rev = slices.Contains(customCounsellorReverse, pos+1)
			}
		}
		switch {
		case v == 0:
			raw[pos] = "null"
		case rev:
			raw[pos] = strconv.Itoa(8 - v)
		default:
			raw[pos] = strconv.Itoa(v)
		}
	}
	return "[" + strings.Join(raw, ",") + "]"
}

// customStudy is one study of a family with the ratings of customRatings.
type customStudy struct {
	study string
	dyads []string
}

// defineFamily posts a definition and checks the forms it answers with.
func (e *env) defineFamily(def string) api.InstrumentFamilyResponse {
	e.t.Helper()
	return decode[api.InstrumentFamilyResponse](e.t, e.expect(http.StatusCreated, http.MethodPost, "/v1/instruments", def))
}

// rateCustom creates a study of family ("tst" or "tts") by its base ids
// and enters every rating.
func (e *env) rateCustom(family string) customStudy {
	e.t.Helper()
	st := e.createStudy(family+"_client", family+"_counsellor")
	if want := family + "_client@1"; st.Forms.Client != want {
		e.t.Fatalf("study forms = %+v, want the versioned id %s", st.Forms, want)
	}
	cs := customStudy{study: st.ID}
	for d := range 12 {
		cs.dyads = append(cs.dyads, e.createDyad(st.ID, fmt.Sprintf("C-%02d", d), fmt.Sprintf("K-%d", d%4)).ID)
	}
	for _, r := range customRatings() {
		e.postRating(cs.dyads[r.dyad], r.session, r.role, r.answers(family == "tst"))
	}
	return cs
}

// customEnv is one service with the custom family and its twin, each
// rated in a study.
type customEnv struct {
	e           *env
	tst, twin   customStudy
	replacement *strings.Replacer // tst's ids and names → tts's
}

func newCustomEnv(t *testing.T, o envOptions) *customEnv {
	t.Helper()
	e := newEnvWith(t, o)
	e.defineFamily(customDefinition)
	e.defineFamily(twinDefinition)
	ce := &customEnv{e: e, tst: e.rateCustom("tst"), twin: e.rateCustom("tts")}
	pairs := []string{ce.tst.study, ce.twin.study, "tst_", "tts_", "TST", "TTS", `"tst"`, `"tts"`}
	for i := range ce.tst.dyads {
		pairs = append(pairs, ce.tst.dyads[i], ce.twin.dyads[i])
	}
	ce.replacement = strings.NewReplacer(pairs...)
	return ce
}

// same fetches path on both studies (path holds "{study}" or "{dyad}",
// filled with each study's own) and requires equal answers: the same
// figures to 1e-9, the same strings once ids are swapped. Fields in skip
// (e.g. counsellor_item, which the twin numbers otherwise) are left out.
func (ce *customEnv) same(t *testing.T, path string, dyad int, skip ...string) map[string]any {
	t.Helper()
	get := func(cs customStudy) []byte {
		p := strings.ReplaceAll(path, "{study}", cs.study)
		p = strings.ReplaceAll(p, "{dyad}", cs.dyads[dyad])
		return ce.e.expect(http.StatusOK, http.MethodGet, p, "").Body.Bytes()
	}
	var x, y any
	if err := json.Unmarshal([]byte(ce.replacement.Replace(string(get(ce.tst)))), &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(get(ce.twin), &y); err != nil {
		t.Fatal(err)
	}
	if diffs := sameJSON("", x, y, skip); len(diffs) > 0 {
		t.Errorf("GET %s: the custom family and its twin differ:\n%s", path, strings.Join(diffs, "\n"))
	}
	m, _ := x.(map[string]any)
	return m
}

// sameJSON lists where x and y differ; numbers within 1e-9 (relative to
// their size) are the same, keys in skip are left out.
func sameJSON(at string, x, y any, skip []string) []string {
	switch xv := x.(type) {
	case map[string]any:
		yv, ok := y.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: object vs %T", at, y)}
		}
		var out []string
		keys := map[string]bool{}
		for k := range xv {
			keys[k] = true
		}
		for k := range yv {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			if !slices.Contains(skip, k) {
				out = append(out, sameJSON(at+"."+k, xv[k], yv[k], skip)...)
			}
		}
		return out
	case []any:
		yv, ok := y.([]any)
		if !ok || len(xv) != len(yv) {
			return []string{fmt.Sprintf("%s: %d elements vs %v", at, len(xv), y)}
		}
		var out []string
		for i := range xv {
			out = append(out, sameJSON(fmt.Sprintf("%s[%d]", at, i), xv[i], yv[i], skip)...)
		}
		return out
	case float64:
		yv, ok := y.(float64)
		if !ok || math.Abs(xv-yv) > 1e-9*math.Max(1, math.Abs(yv)) {
			return []string{fmt.Sprintf("%s: %v vs %v", at, x, y)}
		}
		return nil
	}
	if !reflect.DeepEqual(x, y) {
		return []string{fmt.Sprintf("%s: %v vs %v", at, x, y)}
	}
	return nil
}

// TestCustomInstrumentScores: a rating of a custom form is validated on
// its scale, keyed with its own reverse keys, scored on its own subscale
// numbering, and records the definition that scored it.
func TestCustomInstrumentScores(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fam := e.defineFamily(customDefinition)
	if len(fam.Forms) != 2 || fam.Forms[0].ID != "tst_client@1" || fam.Forms[1].ID != "tst_counsellor@1" || fam.Forms[0].Builtin {
		t.Fatalf("defined forms = %+v", fam.Forms)
	}
	d := e.newDyad("tst_client", "tst_counsellor")
	// The client means 7 everywhere: items 2 and 5 are reverse-keyed.
	c := e.postRating(d.ID, 1, "client", `[7,1,7,6,1,6]`)
	checkScore(t, "client total", c.Scores.Total, 40.0/6, 40, 6, 6, false)
	checkScore(t, "client bond", c.Scores.Subscales["bond"], 7, 21, 3, 3, false)
	checkScore(t, "client work", c.Scores.Subscales["work"], 19.0/3, 19, 3, 3, false)
	// The counsellor's bond is items 4–6, of which 4 is reverse-keyed.
	k := e.postRating(d.ID, 1, "counsellor", `[2,5,5,1,6,6]`)
	checkScore(t, "counsellor bond", k.Scores.Subscales["bond"], 19.0/3, 19, 3, 3, false)
	checkScore(t, "counsellor work", k.Scores.Subscales["work"], 16.0/3, 16, 3, 3, false)
	if c.ScoringVersion != "2/tst_client@1" || k.ScoringVersion != "2/tst_counsellor@1" || c.Instrument != "tst_client@1" {
		t.Errorf("scoring versions %s, %s; instrument %s", c.ScoringVersion, k.ScoringVersion, c.Instrument)
	}
	// The scale is the definition's: 8 is out of range, 3.5 off the grid.
	checkProblem(t, e.do(http.MethodPost, ratingsPath(d.ID), ratingBody(2, "client", `[8,1,7,6,1,3.5]`)), "out of range",
		problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"answers[0]", "out_of_range"}, {"answers[5]", "not_on_step"}}})
	checkProblem(t, e.do(http.MethodPost, ratingsPath(d.ID), ratingBody(2, "client", `[7,1,7]`)), "too few",
		problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"answers", "wrong_count"}}})
	// The session's comparison pairs the scales by key.
	ses := decode[api.SessionResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+d.ID+"/sessions/1", ""))
	if ses.Comparison == nil || len(ses.Comparison.Subscales) != 2 {
		t.Fatalf("comparison = %+v", ses.Comparison)
	}
	checkFloat(t, "bond difference", ses.Comparison.Subscales["bond"].Difference, 7-19.0/3, 1e-12)
}

// TestCustomInstrumentSessionAgreement: the profile pairs each client item
// with its parallel counsellor item, both keyed by their own form.
func TestCustomInstrumentSessionAgreement(t *testing.T) {
	t.Parallel()
	ce := newCustomEnv(t, envOptions{})
	for d := range 12 {
		ce.same(t, "/v1/dyads/{dyad}/sessions/1/agreement", d, "counsellor_item")
		ce.same(t, "/v1/dyads/{dyad}/sessions/2/agreement", d, "counsellor_item")
	}
	// By hand, dyad 0 session 1: the pairs name both items.
	a := decode[api.SessionAgreementResponse](t, ce.e.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+ce.tst.dyads[0]+"/sessions/1/agreement", ""))
	r := customRatings()
	c, k := r[0].keyed, r[1].keyed
	var d2 float64
	for i, p := range a.ItemLevel.Items {
		if p.Item != i+1 || p.CounsellorItem != customPair[i] {
			t.Errorf("pair %d = item %d with counsellor item %d, want %d with %d", i, p.Item, p.CounsellorItem, i+1, customPair[i])
		}
		if p.Client == nil || p.Counsellor == nil || *p.Client != float64(c[i]) || *p.Counsellor != float64(k[i]) {
			t.Errorf("pair %d = %v / %v, want keyed %d / %d", i, ptrStr(p.Client), ptrStr(p.Counsellor), c[i], k[i])
		}
		d2 += float64((c[i] - k[i]) * (c[i] - k[i]))
	}
	checkFloat(t, "D²", a.ItemLevel.Profile.D2, d2, 1e-12)
}

// TestCustomInstrumentDyadAgreement: trajectories and slopes per scale.
func TestCustomInstrumentDyadAgreement(t *testing.T) {
	t.Parallel()
	ce := newCustomEnv(t, envOptions{})
	for d := range 12 {
		ce.same(t, "/v1/dyads/{dyad}/agreement?conf=0.9", d)
	}
}

// TestCustomInstrumentStudyAgreement: every study figure — per scale,
// Cronbach's alpha per role, and item kappas over the form's seven
// categories and Krippendorff's alpha per item, each on parallel items.
func TestCustomInstrumentStudyAgreement(t *testing.T) {
	t.Parallel()
	ce := newCustomEnv(t, envOptions{})
	for _, q := range []string{"", "?session=last", "?session=2&scale=bond&alpha=listwise&band=1"} {
		m := ce.same(t, "/v1/studies/{study}/agreement"+q, 0, "counsellor_item", "dropped_items")
		if q != "" {
			continue
		}
		a := decode[api.StudyAgreementResponse](t, ce.e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+ce.tst.study+"/agreement", ""))
		if !slices.Equal(a.ItemKappa.Categories, []int{1, 2, 3, 4, 5, 6, 7}) || len(a.ItemKappa.Items) != 6 {
			t.Fatalf("categories %v, %d kappas; body %v", a.ItemKappa.Categories, len(a.ItemKappa.Items), m)
		}
		for i, k := range a.ItemKappa.Items {
			if k.Item != i+1 || k.CounsellorItem != customPair[i] || k.Linear == nil {
				t.Errorf("kappa %d: item %d / %d, linear %v", i, k.Item, k.CounsellorItem, k.Linear)
			}
		}
		for i, k := range a.ItemKrippendorff {
			if k.Item != i+1 || k.CounsellorItem != customPair[i] {
				t.Errorf("Krippendorff %d: item %d / %d", i, k.Item, k.CounsellorItem)
			}
		}
	}
	ce.same(t, "/v1/studies/{study}/counsellors?scale=work", 0)
	ce.same(t, "/v1/studies/{study}/summary?reliability=study", 0)
}

// TestCustomInstrumentExports: item columns follow the family's numbering
// in both shapes, so client_item_k and counsellor_item_k are parallel
// items; the codebook says which item of each form a column holds and
// labels the values with the definition's anchors.
func TestCustomInstrumentExports(t *testing.T) {
	t.Parallel()
	ce := newCustomEnv(t, envOptions{})
	e := ce.e
	byKey := map[string]customRating{}
	for _, r := range customRatings() {
		byKey[fmt.Sprintf("%s/%d/%s", ce.tst.dyads[r.dyad], r.session, r.role)] = r
	}
	// Raw answers as each side ticked them, at the family's positions.
	rawAt := func(r customRating, k int) string {
		var raw []*float64
		_ = json.Unmarshal([]byte(r.answers(true)), &raw)
		pos := k
		if r.role == "counsellor" {
			pos = customPair[k] - 1
		}
		if raw[pos] == nil {
			return ""
		}
		return strconv.FormatFloat(*raw[pos], 'f', -1, 64)
	}
	_, wide := readCSV(t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+ce.tst.study+"/export?format=csv&shape=wide&include=items,scores", "").Body.Bytes())
	if len(wide) != 24 {
		t.Fatalf("%d wide rows, want 24", len(wide))
	}
	for _, row := range wide {
		for _, role := range []string{"client", "counsellor"} {
			r := byKey[row["dyad_id"]+"/"+row["session"]+"/"+role]
			for k := range 6 {
				if got, want := row[fmt.Sprintf("%s_item_%d", role, k+1)], rawAt(r, k); got != want {
					t.Errorf("wide %s session %s %s_item_%d = %q, want %q", row["dyad_id"], row["session"], role, k+1, got, want)
				}
			}
		}
		if row["client_instrument"] != "tst_client@1" || row["counsellor_instrument"] != "tst_counsellor@1" {
			t.Errorf("instruments %s %s", row["client_instrument"], row["counsellor_instrument"])
		}
	}
	_, long := readCSV(t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+ce.tst.study+"/export?format=csv&shape=long&include=items", "").Body.Bytes())
	if len(long) != 48 {
		t.Fatalf("%d long rows, want 48", len(long))
	}
	for _, row := range long {
		r := byKey[row["dyad_id"]+"/"+row["session"]+"/"+row["role"]]
		for k := range 6 {
			if got, want := row[fmt.Sprintf("item_%d", k+1)], rawAt(r, k); got != want {
				t.Errorf("long %s %s item_%d = %q, want %q", row["dyad_id"], row["role"], k+1, got, want)
			}
		}
		if !strings.HasPrefix(row["scoring_version"], "2/tst_") {
			t.Errorf("scoring_version %q", row["scoring_version"])
		}
	}
	// Scores are the twin's (the export's score columns, ids swapped).
	scores := func(cs customStudy) string {
		return e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+cs.study+"/export?format=ndjson&shape=wide&include=scores", "").Body.String()
	}
	if x, y := ce.replacement.Replace(scores(ce.tst)), scores(ce.twin); !sameLines(x, y, "updated_at") {
		t.Errorf("wide scores differ from the twin's:\n%s\nvs\n%s", x, y)
	}
	// The codebook names each form's item and labels the anchors.
	for _, q := range []string{"shape=wide&include=items", "shape=long&include=items"} {
		cb := decode[api.CodebookResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+ce.tst.study+"/codebook?"+q, ""))
		found := 0
		for _, c := range cb.Columns {
			switch c.Name {
			case "counsellor_item_1":
				found++
				if !strings.Contains(c.Description, "counsellor item 5 (k five; bond)") || !strings.Contains(c.Description, "client item 1") {
					t.Errorf("%s: %s", c.Name, c.Description)
				}
			case "item_2":
				found++
				if !strings.Contains(c.Description, "client item 2 (c two; bond; reverse-keyed") || !strings.Contains(c.Description, "counsellor item 4 (k four; bond; reverse-keyed") {
					t.Errorf("%s: %s", c.Name, c.Description)
				}
			}
			if strings.Contains(c.Name, "item_") && c.Values != "1=Never; 4=Sometimes; 7=Always" {
				t.Errorf("%s values %q", c.Name, c.Values)
			}
		}
		if found != 1 {
			t.Errorf("%s: checked %d item columns, want 1", q, found)
		}
	}
	// A built-in family numbers its forms alike but words the therapist's
	// items its own way: each role's item is named with its own label.
	wai := e.createStudy("wai_sr_client", "wai_sr_therapist")
	for _, q := range []string{"shape=wide&include=items", "shape=long&include=items"} {
		cb := decode[api.CodebookResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+wai.ID+"/codebook?"+q, ""))
		client, therapist := waiLabel(t, "wai_sr_client", 3), waiLabel(t, "wai_sr_therapist", 3)
		for _, c := range cb.Columns {
			switch {
			case c.Name == "client_item_3" && (!strings.Contains(c.Description, client) || strings.Contains(c.Description, therapist)),
				c.Name == "counsellor_item_3" && (!strings.Contains(c.Description, therapist) || strings.Contains(c.Description, client)),
				c.Name == "item_3" && (!strings.Contains(c.Description, "client item 3 ("+client) || !strings.Contains(c.Description, "counsellor item 3 ("+therapist)):
				t.Errorf("%s: %s %q; want the client's %q and the therapist's %q each where they answer", q, c.Name, c.Description, client, therapist)
			}
		}
	}
}

// waiLabel is the label of item key of a built-in form, as the catalogue
// serves it.
func waiLabel(t *testing.T, form string, key int) string {
	t.Helper()
	f, ok := instrument.Builtin().Form(form)
	if !ok {
		t.Fatalf("no built-in form %s", form)
	}
	for _, it := range f.Items {
		if it.Key == key {
			return it.Label
		}
	}
	t.Fatalf("%s has no item %d", form, key)
	return ""
}

// sameLines compares NDJSON documents line by line, leaving out field,
// in the order of the lines' text. The export is in dyad id order, and
// ids follow the wall clock's milliseconds, which can step back: two
// studies' dyads created in the same order came out in different orders
// once in CI (C-04 before C-03 in one of them), and which row comes first
// is not what this compares.
func sameLines(x, y, field string) bool {
	xs, ys := strings.Split(strings.TrimSpace(x), "\n"), strings.Split(strings.TrimSpace(y), "\n")
	if len(xs) != len(ys) {
		return false
	}
	slices.Sort(xs)
	slices.Sort(ys)
	for i := range xs {
		var a, b any
		if json.Unmarshal([]byte(xs[i]), &a) != nil || json.Unmarshal([]byte(ys[i]), &b) != nil {
			return false
		}
		if len(sameJSON("", a, b, []string{field})) > 0 {
			return false
		}
	}
	return true
}

// TestCustomInstrumentSurvey: a survey link of a custom form serves the
// definition (anchors per language, each item's parallel number) and
// scores the submission as the API does.
func TestCustomInstrumentSurvey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.defineFamily(customDefinition)
	d := e.newDyad("tst_client", "tst_counsellor")
	inv := e.invite(d.ID, 1, "counsellor")
	s := decode[api.SurveyResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/survey", "", "Authorization", "Bearer "+inv.Token))
	f := s.Instrument
	if f.ID != "tst_counsellor@1" || len(f.Items) != 6 || f.Scale.Max != 7 || !slices.Equal(f.ParallelForms, []string{"tst_client@1"}) {
		t.Fatalf("survey instrument = %+v", f)
	}
	if a := f.Scale.Anchors[0]; a.Label != "Never" || a.Labels["sv"] != "Aldrig" {
		t.Errorf("anchor = %+v", a)
	}
	for j, it := range f.Items {
		if want := slices.Index(customPair, j+1) + 1; it.Parallel != want {
			t.Errorf("counsellor item %d parallel = %d, want %d", j+1, it.Parallel, want)
		}
	}
	if !f.Items[0].Reverse || !f.Items[3].Reverse || f.Items[1].Reverse {
		t.Errorf("reverse keys = %+v", f.Items)
	}
	e.expect(http.StatusCreated, http.MethodPost, "/v1/survey", `{"answers":[2,5,5,1,6,6]}`, "Authorization", "Bearer "+inv.Token)
	k := decode[api.RatingResponse](t, e.expect(http.StatusOK, http.MethodGet, ratingPath(d.ID, 1, "counsellor"), ""))
	checkScore(t, "counsellor bond", k.Scores.Subscales["bond"], 19.0/3, 19, 3, 3, false)
}

// TestCustomInstrumentPlots: every plot of a custom family's study draws
// what its twin's draws.
func TestCustomInstrumentPlots(t *testing.T) {
	t.Parallel()
	ce := newCustomEnv(t, envOptions{})
	for _, p := range []string{
		"/v1/studies/{study}/plots/bland-altman.svg?scale=work&trend=true",
		"/v1/studies/{study}/plots/scatter.svg?scale=bond",
		"/v1/studies/{study}/plots/trajectories.svg",
		"/v1/studies/{study}/plots/counsellors.svg?labels=codes",
		"/v1/dyads/{dyad}/plots/trajectory.svg?scale=total,bond,work",
	} {
		fig := func(cs customStudy) []byte {
			path := strings.ReplaceAll(strings.ReplaceAll(p, "{study}", cs.study), "{dyad}", cs.dyads[2])
			b, _ := json.Marshal(getSVG(t, ce.e, path).meta)
			return b
		}
		var x, y any
		_ = json.Unmarshal([]byte(ce.replacement.Replace(string(fig(ce.tst)))), &x)
		_ = json.Unmarshal(fig(ce.twin), &y)
		if diffs := sameJSON("", x, y, nil); len(diffs) > 0 {
			t.Errorf("%s: the custom family's plot differs from its twin's:\n%s", p, strings.Join(diffs, "\n"))
		}
	}
}

// TestCustomInstrumentEndToEnd defines a family through the API and uses
// it in a study end to end, on each backend: define, list, study, ratings
// (by key and by survey link), every agreement figure, exports, codebook
// and a plot. On PostgreSQL a second instance on the same database sees
// the new family at once.
func TestCustomInstrumentEndToEnd(t *testing.T) {
	t.Parallel()
	for _, b := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(*testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string { return pgtest.Database(t) }},
	} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			url := b.url(t)
			ce := newCustomEnv(t, envOptions{databaseURL: url})
			e := ce.e
			list := decode[api.InstrumentList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/instruments", ""))
			var ids []string
			for _, f := range list.Items {
				ids = append(ids, f.ID)
			}
			if !slices.Contains(ids, "tst_client@1") || !slices.Contains(ids, "wai_sr_client") {
				t.Errorf("listed forms %v", ids)
			}
			// Session 3 of dyad 0 through a survey link, alike in both.
			for _, x := range []struct {
				cs      customStudy
				answers string
			}{{ce.tst, `[7,1,7,6,1,6]`}, {ce.twin, `[7,7,7,6,7,6]`}} {
				inv := e.invite(x.cs.dyads[0], 3, "client")
				e.expect(http.StatusCreated, http.MethodPost, "/v1/survey", `{"answers":`+x.answers+`}`, "Authorization", "Bearer "+inv.Token)
			}
			ce.same(t, "/v1/dyads/{dyad}/sessions/1/agreement", 1, "counsellor_item")
			ce.same(t, "/v1/dyads/{dyad}/agreement", 1)
			ce.same(t, "/v1/studies/{study}/agreement", 0, "counsellor_item", "dropped_items")
			ce.same(t, "/v1/studies/{study}/counsellors", 0)
			ce.same(t, "/v1/studies/{study}/summary", 0)
			for _, q := range []string{"shape=long&include=items,scores", "shape=wide&include=items,scores"} {
				e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+ce.tst.study+"/export?format=csv&"+q, "")
				e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+ce.tst.study+"/codebook?"+q, "")
			}
			getSVG(t, e, "/v1/studies/"+ce.tst.study+"/plots/bland-altman.svg")
			if url == "" {
				return
			}
			// A second instance: its catalogue has never seen tst or sai.
			other := newEnvWith(t, envOptions{databaseURL: url, noMigrate: true})
			other.adminToken = e.adminToken
			other.h = withAdmin(other.engine, e.adminToken)
			other.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+ce.tst.study+"/agreement", "")
			e.defineFamily(strings.ReplaceAll(customDefinition, `"version": "1"`, `"version": "2"`))
			f := decode[api.InstrumentResponse](t, other.expect(http.StatusOK, http.MethodGet, "/v1/instruments/tst_client", ""))
			if f.ID != "tst_client@2" {
				t.Errorf("the other instance's latest tst_client = %s, want tst_client@2 at once", f.ID)
			}
			st := decode[api.StudyResponse](t, other.expect(http.StatusCreated, http.MethodPost, "/v1/studies", studyBody("tst_client", "tst_counsellor")))
			if st.Forms.Client != "tst_client@2" {
				t.Errorf("a study created on the other instance uses %s, want tst_client@2", st.Forms.Client)
			}
		})
	}
}

// TestDefineInstrumentVersions: a definition never changes: the same
// version again is refused, a changed definition is a new version, a study
// keeps the version it started with, and built-in families stay as built.
func TestDefineInstrumentVersions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.defineFamily(customDefinition)
	old := e.newDyad("tst_client", "tst_counsellor")
	e.postRating(old.ID, 1, "client", `[7,1,7,6,1,6]`)
	checkProblem(t, e.do(http.MethodPost, "/v1/instruments", customDefinition), "same version",
		problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"version", "duplicate_version"}}})
	// Version 2 drops the reverse keys of the client form.
	v2 := strings.NewReplacer(`"version": "1"`, `"version": "2"`, `"reverse": [2, 5]`, `"reverse": []`).Replace(customDefinition)
	fam := e.defineFamily(v2)
	if fam.Forms[0].ID != "tst_client@2" {
		t.Fatalf("version 2 forms %s", fam.Forms[0].ID)
	}
	if f := decode[api.InstrumentResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/instruments/tst_client", "")); f.ID != "tst_client@2" {
		t.Errorf("tst_client = %s, want the latest version", f.ID)
	}
	if f := decode[api.InstrumentResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/instruments/tst_client@1", "")); f.ID != "tst_client@1" || !f.Items[1].Reverse {
		t.Errorf("tst_client@1 = %s reverse %v", f.ID, f.Items[1].Reverse)
	}
	// The old study still scores with version 1.
	r := e.postRating(old.ID, 2, "client", `[7,1,7,6,1,6]`)
	if r.Instrument != "tst_client@1" || r.ScoringVersion != "2/tst_client@1" || *r.Scores.Subscales["bond"].Mean != 7 {
		t.Errorf("old study's rating: %s %s bond %v", r.Instrument, r.ScoringVersion, ptrStr(r.Scores.Subscales["bond"].Mean))
	}
	if r := e.postRating(e.newDyad("tst_client", "tst_counsellor").ID, 1, "client", `[7,1,7,6,1,6]`); *r.Scores.Subscales["bond"].Mean != 5 {
		t.Errorf("version 2 bond = %v, want 5 (no reverse keys)", ptrStr(r.Scores.Subscales["bond"].Mean))
	}
	checkProblem(t, e.do(http.MethodPost, "/v1/studies", studyBody("tst_client@1", "tst_counsellor@2")), "mixed versions",
		problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"forms.counsellor", "not_parallel"}}})
	builtin := strings.NewReplacer(`"id": "tst"`, `"id": "wai_sr"`, `"tst_client"`, `"wai_sr_client"`, `"tst_counsellor"`, `"wai_sr_therapist"`).Replace(customDefinition)
	checkProblem(t, e.do(http.MethodPost, "/v1/instruments", builtin), "built-in",
		problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"id", "builtin_instrument"}}})
	checkProblem(t, e.do(http.MethodPost, "/v1/instruments", strings.Replace(customDefinition, `"items": 6`, `"items": 6, "colour": "red"`, 1)), "unknown field",
		problemWant{status: 400, typ: typeMalformed, fields: []fieldCode{{"colour", "unknown_field"}}})
	list := decode[api.InstrumentList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/instruments", ""))
	if len(list.Items) != 9 {
		t.Errorf("%d forms listed, want 5 built-in and 2 versions of 2 custom", len(list.Items))
	}
}

// TestDefineInstrumentRefusals: each rule of a definition answers 422 with
// the JSON path of the field at fault.
func TestDefineInstrumentRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tt := range []struct {
		name, from, to string
		want           []fieldCode
	}{
		{"overlapping subscales", `"items": [4, 5, 6]}, {"key": "work"`, `"items": [3, 4, 5, 6]}, {"key": "work"`,
			[]fieldCode{{"forms[1].subscales[1].items[2]", "duplicate_item"}}},
		// Counsellor item 3 then pairs a work item with no subscale.
		{"item in no subscale", `"label": "Work", "items": [1, 2, 3]}]`, `"label": "Work", "items": [1, 2]}]`,
			[]fieldCode{{"forms[1].subscales", "not_in_subscale"}, {"parallel[5]", "subscales_differ"}}},
		{"reverse key out of range", `"reverse": [2, 5]`, `"reverse": [2, 9]`, []fieldCode{{"forms[0].reverse[1]", "unknown_item"}}},
		{"max not above min", `"min": 1, "max": 7`, `"min": 7, "max": 7`, []fieldCode{{"scale.max", "not_above_min"}}},
		{"parallel map not one-to-one", `{"client": 2, "counsellor": 4}`, `{"client": 2, "counsellor": 5}`,
			[]fieldCode{{"parallel[1].counsellor", "not_one_to_one"}}},
		{"duplicate form ids", `"id": "tst_counsellor"`, `"id": "tst_client"`, []fieldCode{{"forms[1].id", "duplicate_id"}}},
		{"10,000 items", `"items": 6`, `"items": 10000`, []fieldCode{{"items", "out_of_range"}}},
	} {
		def := strings.Replace(customDefinition, tt.from, tt.to, 1)
		if def == customDefinition {
			t.Fatalf("%s: %q not in the definition", tt.name, tt.from)
		}
		checkProblem(t, e.do(http.MethodPost, "/v1/instruments", def), tt.name,
			problemWant{status: 422, typ: typeValidation, fields: tt.want})
	}
}

// TestDefinitionRequestMatchesDefinition: the documented request type and
// the definition the service parses have the same JSON shape, so the
// OpenAPI document cannot drift from what is accepted.
func TestDefinitionRequestMatchesDefinition(t *testing.T) {
	var shape func(t reflect.Type) any
	shape = func(t reflect.Type) any {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			m := map[string]any{}
			for i := range t.NumField() {
				f := t.Field(i)
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if name != "" && name != "-" {
					m[name] = shape(f.Type)
				}
			}
			return m
		case reflect.Slice:
			return []any{shape(t.Elem())}
		case reflect.Map:
			return map[string]any{"*": shape(t.Elem())}
		}
		return t.Kind().String()
	}
	got, want := shape(reflect.TypeFor[api.InstrumentDefinitionRequest]()), shape(reflect.TypeFor[instrument.Definition]())
	if !reflect.DeepEqual(got, want) {
		t.Errorf("InstrumentDefinitionRequest shape\n%v\nwant instrument.Definition's\n%v", got, want)
	}
}

// TestDocumentedSAIExample posts the SAI example of docs/instruments.md as
// it stands, so the guide's example is always accepted.
func TestDocumentedSAIExample(t *testing.T) {
	t.Parallel()
	raw := readDocsJSON(t, "../docs/instruments.md", "sai-definition")
	e := newEnv(t)
	fam := e.defineFamily(raw)
	if fam.ID != "sai" || len(fam.Forms) != 2 || fam.Forms[0].ID != "sai_client@1" {
		t.Fatalf("SAI forms %+v", fam.Forms)
	}
	d := e.newDyad("sai_client", "sai_counsellor")
	r := e.postRating(d.ID, 1, "client", `[5,6,4,7,5,6]`)
	checkScore(t, "SAI total", r.Scores.Total, 5.5, 33, 6, 6, false)
	// The study allows a quarter of the items missing (the default), the
	// form 0.17: one of six. The rating and the export say what scored it.
	r = e.postRating(d.ID, 2, "client", `[5,6,4,7,5,null]`)
	checkScore(t, "SAI total, one item missing", r.Scores.Total, 5.4, 32.4, 5, 6, true)
	if f := r.MissingPolicy.MaxMissingFraction; f == nil || *f != 0.17 {
		t.Errorf("rating's missing_policy.max_missing_fraction = %v, want the form's 0.17", f)
	}
	_, rows := readCSV(t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+d.StudyID+"/export", "").Body.Bytes())
	for _, row := range rows {
		if row["max_missing_fraction"] != "0.17" {
			t.Errorf("export row of session %s: max_missing_fraction %q, want 0.17", row["session"], row["max_missing_fraction"])
		}
	}
}

// readDocsJSON returns the JSON block that follows the HTML comment
// <!-- name --> in a guide.
func readDocsJSON(t *testing.T, path, name string) string {
	t.Helper()
	doc := string(must(os.ReadFile(path)))
	_, after, ok := strings.Cut(doc, "<!-- "+name+" -->")
	if !ok {
		t.Fatalf("%s has no <!-- %s --> marker", path, name)
	}
	_, after, _ = strings.Cut(after, "```json\n")
	block, _, ok := strings.Cut(after, "```")
	if !ok {
		t.Fatalf("%s: no JSON block after <!-- %s -->", path, name)
	}
	return block
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestInstrumentReadsBackItsRules: what a definition says about scoring
// and alerts is in GET /v1/instruments/{id}, so an author can check what
// the service took (the proration rule, a total that needs its
// subscales, the rupture reference), not only what ratings later show.
func TestInstrumentReadsBackItsRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.defineFamily(`{"id": "rbk", "version": "1", "name": "Read-back family", "citation": "synthetic, for tests",
	  "licence_note": "no licence needed: synthetic", "items": 4,
	  "scale": {"min": 1, "max": 5, "step": 1},
	  "missing_policy": {"prorate": "none", "total_requires_subscales": true},
	  "forms": [
	    {"id": "rbk_client", "role": "client", "subscales": [{"key": "a", "label": "A", "items": [1, 2]}, {"key": "b", "label": "B", "items": [3, 4]}],
	     "rupture_reference": {"alpha": 0.8, "sd": 0.6, "source": "made up for a test"}},
	    {"id": "rbk_counsellor", "role": "counsellor", "subscales": [{"key": "a", "label": "A", "items": [1, 2]}, {"key": "b", "label": "B", "items": [3, 4]}]}]}`)
	c := decode[api.InstrumentResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/instruments/rbk_client@1", ""))
	if c.Prorate != "none" || !c.TotalRequiresSubscales || c.RuptureReference == nil || c.RuptureReference.Alpha != 0.8 || c.RuptureReference.SD != 0.6 {
		t.Errorf("rbk_client reads back prorate %q, total_requires_subscales %v, rupture_reference %+v", c.Prorate, c.TotalRequiresSubscales, c.RuptureReference)
	}
	if k := decode[api.InstrumentResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/instruments/rbk_counsellor@1", "")); k.RuptureReference != nil {
		t.Errorf("rbk_counsellor has no rupture reference, reads back %+v", k.RuptureReference)
	}
	w := decode[api.InstrumentResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/instruments/wai_sr_client", ""))
	if w.Prorate != "person_mean" || w.TotalRequiresSubscales || w.RuptureReference == nil {
		t.Errorf("wai_sr_client reads back prorate %q, total_requires_subscales %v, rupture_reference %+v", w.Prorate, w.TotalRequiresSubscales, w.RuptureReference)
	}
}
