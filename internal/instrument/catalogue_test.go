package instrument_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/alliance-project/alliance/internal/instrument"
)

// approxEqual fails the test when got and want differ by more than tol.
func approxEqual(t *testing.T, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("got %.10g, want %.10g (tol %g)", got, want, tol)
	}
}

func mustForm(t *testing.T, c *instrument.Catalogue, id string) *instrument.Form {
	t.Helper()
	f, ok := c.Form(id)
	if !ok {
		t.Fatalf("form %q not in catalogue", id)
	}
	return f
}

func TestBuiltinForms(t *testing.T) {
	type sub struct {
		key   string
		items []int
	}
	tests := []struct {
		id, family, role string
		items            int
		min, max, step   float64
		anchors          []string
		subs             []sub
		reverse          []int
		cap              *float64
		cutoff           *instrument.Cutoff
		reliability      float64 // 0: none recorded
	}{
		{
			id: "srs_client", family: "srs", role: "client", items: 4,
			min: 0, max: 10, step: 0.1, anchors: []string{"Low", "High"},
			cap: new(0.0), cutoff: &instrument.Cutoff{Value: 36, Metric: instrument.MetricSum}, reliability: 0.88,
		},
		{
			id: "wai_s_client", family: "wai_s", role: "client", items: 12, min: 1, max: 7, step: 1,
			anchors: []string{"Never", "Rarely", "Occasionally", "Sometimes", "Often", "Very often", "Always"},
			subs:    []sub{{"task", []int{1, 2, 8, 12}}, {"bond", []int{3, 5, 7, 9}}, {"goal", []int{4, 6, 10, 11}}},
			reverse: []int{4, 10},
		},
		{
			id: "wai_s_therapist", family: "wai_s", role: "counsellor", items: 12, min: 1, max: 7, step: 1,
			anchors: []string{"Never", "Rarely", "Occasionally", "Sometimes", "Often", "Very often", "Always"},
			subs:    []sub{{"task", []int{1, 2, 8, 12}}, {"bond", []int{3, 5, 7, 9}}, {"goal", []int{4, 6, 10, 11}}},
			reverse: []int{4, 10},
		},
		{
			id: "wai_sr_client", family: "wai_sr", role: "client", items: 12, min: 1, max: 5, step: 1,
			anchors: []string{"Seldom", "Sometimes", "Fairly often", "Very often", "Always"},
			subs:    []sub{{"goal", []int{4, 6, 8, 11}}, {"task", []int{1, 2, 10, 12}}, {"bond", []int{3, 5, 7, 9}}},
		},
		{
			id: "wai_sr_therapist", family: "wai_sr", role: "counsellor", items: 12, min: 1, max: 5, step: 1,
			anchors: []string{"Seldom", "Sometimes", "Fairly often", "Very often", "Always"},
			subs:    []sub{{"goal", []int{4, 6, 8, 11}}, {"task", []int{1, 2, 10, 12}}, {"bond", []int{3, 5, 7, 9}}},
		},
	}

	c := instrument.Builtin()
	var ids []string
	for _, f := range c.Forms() {
		ids = append(ids, f.ID)
	}
	var want []string
	for _, tt := range tests {
		want = append(want, tt.id)
	}
	if !slices.Equal(ids, want) {
		t.Fatalf("Forms() IDs = %v, want %v (sorted)", ids, want)
	}

	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			f := mustForm(t, c, tt.id)
			if f.Family != tt.family || f.Role != tt.role {
				t.Errorf("family/role = %s/%s, want %s/%s", f.Family, f.Role, tt.family, tt.role)
			}
			if f.Name == "" || f.Version == "" || f.Citation == "" || f.LicenceNote == "" || len(f.Unverified) == 0 {
				t.Errorf("metadata incomplete: %+v", f)
			}
			if f.Scale.Min != tt.min || f.Scale.Max != tt.max || f.Scale.Step != tt.step {
				t.Errorf("scale = %+v", f.Scale)
			}
			var labels []string
			for _, a := range f.Scale.Anchors {
				labels = append(labels, a.Label)
			}
			if !slices.Equal(labels, tt.anchors) {
				t.Errorf("anchors = %v, want %v", labels, tt.anchors)
			}
			if (f.MaxMissingFraction == nil) != (tt.cap == nil) || (tt.cap != nil && *f.MaxMissingFraction != *tt.cap) {
				t.Errorf("MaxMissingFraction = %v, want %v", f.MaxMissingFraction, tt.cap)
			}
			switch c := f.ClinicalCutoff; {
			case (c == nil) != (tt.cutoff == nil):
				t.Errorf("clinical cut-off = %+v, want %+v", c, tt.cutoff)
			case c != nil && (c.Value != tt.cutoff.Value || c.Metric != tt.cutoff.Metric || c.Source == ""):
				t.Errorf("clinical cut-off = %+v, want %+v with a source", c, tt.cutoff)
			}
			if r := f.Reliability; (r == nil) != (tt.reliability == 0) || (r != nil && (r.Value != tt.reliability || r.Source == "")) {
				t.Errorf("reliability = %+v, want %v with a source", r, tt.reliability)
			}
			if len(f.Items) != tt.items {
				t.Fatalf("%d items, want %d", len(f.Items), tt.items)
			}
			var reverse []int
			for i, it := range f.Items {
				if it.Key != i+1 {
					t.Errorf("item %d has key %d", i, it.Key)
				}
				// Labels are short paraphrases; long strings suggest item wording leaked in.
				if n := len(strings.Fields(it.Label)); n < 1 || n > 5 || it.Text != nil {
					t.Errorf("item %d: label %q (%d words) or text %v", it.Key, it.Label, n, it.Text)
				}
				if it.Reverse {
					reverse = append(reverse, it.Key)
				}
			}
			if !slices.Equal(reverse, tt.reverse) {
				t.Errorf("reverse items = %v, want %v", reverse, tt.reverse)
			}
			if f.Subscales == nil || len(f.Subscales) != len(tt.subs) {
				t.Fatalf("subscales = %v, want %v", f.Subscales, tt.subs)
			}
			for i, s := range f.Subscales {
				if s.Key != tt.subs[i].key || !slices.Equal(s.Items, tt.subs[i].items) || s.Label == "" {
					t.Errorf("subscale %d = %+v, want %+v", i, s, tt.subs[i])
				}
				for _, k := range s.Items {
					if f.Items[k-1].Subscale != s.Key {
						t.Errorf("item %d subscale %q, listed under %q", k, f.Items[k-1].Subscale, s.Key)
					}
				}
			}
		})
	}
}

func TestParallel(t *testing.T) {
	c := instrument.Builtin()
	tests := []struct {
		a, b string
		want bool
	}{
		{"wai_sr_client", "wai_sr_therapist", true},
		{"wai_sr_therapist", "wai_sr_client", true},
		{"wai_s_client", "wai_s_therapist", true},
		{"wai_sr_client", "wai_sr_client", true},
		{"wai_sr_client", "wai_s_therapist", false},
		{"wai_s_client", "wai_sr_client", false},
		{"srs_client", "wai_sr_client", false},
	}
	for _, tt := range tests {
		if got := mustForm(t, c, tt.a).Parallel(mustForm(t, c, tt.b)); got != tt.want {
			t.Errorf("%s.Parallel(%s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestWithTexts(t *testing.T) {
	c := instrument.Builtin()
	got, err := c.WithTexts(strings.NewReader(`{"wai_sr_client": {"en": {"1": "licensed one", "12": "licensed twelve"}, "sv": {"1": "licensierad ett"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	f := mustForm(t, got, "wai_sr_client")
	if f.Items[0].Text["en"] != "licensed one" || f.Items[0].Text["sv"] != "licensierad ett" || f.Items[11].Text["en"] != "licensed twelve" {
		t.Errorf("texts not applied: %v %v", f.Items[0].Text, f.Items[11].Text)
	}
	if f.Items[1].Text != nil {
		t.Errorf("item 2 text = %v, want nil", f.Items[1].Text)
	}
	if len(got.Forms()) != len(c.Forms()) {
		t.Errorf("copy has %d forms, want %d", len(got.Forms()), len(c.Forms()))
	}
	for _, f := range c.Forms() {
		for _, it := range f.Items {
			if it.Text != nil {
				t.Fatalf("original catalogue mutated: %s item %d text %v", f.ID, it.Key, it.Text)
			}
		}
	}

	errs := []struct{ name, in, mention string }{
		{"unknown form", `{"nope": {"en": {"1": "x"}}}`, `"nope"`},
		{"unknown item", `{"wai_sr_client": {"en": {"13": "x"}}}`, `"13"`},
		{"non-numeric item", `{"wai_sr_client": {"en": {"one": "x"}}}`, `"one"`},
		{"empty text", `{"srs_client": {"en": {"1": ""}}}`, `"1"`},
		{"bad json", `{"wai_sr_client": [`, "texts"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			// Texts may name forms defined later; CheckTexts, run once
			// every form is known, catches those that name none.
			got, err := c.WithTexts(strings.NewReader(tt.in))
			if err == nil {
				err = got.CheckTexts()
			}
			if err == nil || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("err = %v, want one mentioning %s", err, tt.mention)
			}
		})
	}
}

// TestTextsForLaterForms: texts for a form defined at run time wait in the
// catalogue and reach every version of it; a versioned key overrides the
// base id's for that version alone.
func TestTextsForLaterForms(t *testing.T) {
	c, err := instrument.Builtin().WithTexts(strings.NewReader(
		`{"tst_client": {"en": {"1": "base one", "6": "base six"}}, "tst_client@2": {"en": {"1": "two's one"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckTexts(); err == nil {
		t.Fatal("CheckTexts = nil while tst_client is not defined")
	}
	v1 := mustDefinition(t, testDefinition(nil))
	c, err = c.With(v1)
	if err != nil {
		t.Fatal(err)
	}
	f := mustForm(t, c, "tst_client@1")
	if f.Items[0].Text["en"] != "base one" || f.Items[5].Text["en"] != "base six" {
		t.Errorf("v1 texts = %v %v", f.Items[0].Text, f.Items[5].Text)
	}
	if err := c.CheckTexts(); err == nil || !strings.Contains(err.Error(), "tst_client@2") {
		t.Errorf("CheckTexts = %v, want the unknown version named", err)
	}
	c, err = c.With(mustDefinition(t, testDefinition(func(m map[string]any) { m["version"] = "2" })))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckTexts(); err != nil {
		t.Errorf("CheckTexts = %v", err)
	}
	f2 := mustForm(t, c, "tst_client@2")
	if f2.Items[0].Text["en"] != "two's one" || f2.Items[5].Text["en"] != "base six" {
		t.Errorf("v2 texts = %v %v", f2.Items[0].Text, f2.Items[5].Text)
	}
	if got := mustForm(t, c, "tst_client"); got.ID != "tst_client@2" {
		t.Errorf(`Form("tst_client") = %s, want the latest version`, got.ID)
	}
	if got := mustForm(t, c, "tst_client@1"); got.Items[0].Text["en"] != "base one" {
		t.Errorf("v1 changed by v2's texts: %v", got.Items[0].Text)
	}
}

// testDefinition is the family of the end-to-end tests as a JSON object
// to mutate: 6 items on 1–7, two subscales, client items 2 and 5
// reverse-keyed, and a parallel map that is not the identity.
func testDefinition(mutate func(m map[string]any)) map[string]any {
	var m map[string]any
	if err := json.Unmarshal([]byte(testDefinitionJSON), &m); err != nil {
		panic(err)
	}
	if mutate != nil {
		mutate(m)
	}
	return m
}

const testDefinitionJSON = `{
	"id": "tst", "version": "1", "name": "Test family", "citation": "made up for tests", "licence_note": "none",
	"items": 6,
	"scale": {"min": 1, "max": 7, "step": 1, "anchors": [{"value": 1, "labels": {"en": "Never", "sv": "Aldrig"}}, {"value": 7, "labels": {"en": "Always"}}]},
	"missing_policy": {"max_missing_fraction": 0.2, "prorate": "person_mean"},
	"parallel": [{"client": 1, "counsellor": 2}, {"client": 2, "counsellor": 1}, {"client": 3, "counsellor": 3},
		{"client": 4, "counsellor": 4}, {"client": 5, "counsellor": 6}, {"client": 6, "counsellor": 5}],
	"forms": [
		{"id": "tst_client", "role": "client", "labels": ["a1", "a2", "a3", "a4", "a5", "a6"],
		 "subscales": [{"key": "bond", "label": "Bond", "items": [1, 2, 3]}, {"key": "work", "label": "Work", "items": [4, 5, 6]}],
		 "reverse": [2, 5]},
		{"id": "tst_counsellor", "role": "counsellor",
		 "subscales": [{"key": "bond", "label": "Bond", "items": [1, 2, 3]}, {"key": "work", "label": "Work", "items": [4, 5, 6]}],
		 "reverse": [1, 6]}
	]
}`

func mustDefinition(t *testing.T, m map[string]any) *instrument.Definition {
	t.Helper()
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	d, err := instrument.ParseDefinition(data)
	if err != nil {
		t.Fatalf("ParseDefinition: %v", err)
	}
	return d
}

// TestParseDefinition checks every rule of a definition: each broken
// definition is refused with the JSON path of the field at fault and a
// stable code.
func TestParseDefinition(t *testing.T) {
	form := func(m map[string]any, i int) map[string]any { return m["forms"].([]any)[i].(map[string]any) }
	scale := func(m map[string]any) map[string]any { return m["scale"].(map[string]any) }
	sub := func(m map[string]any, f, i int) map[string]any {
		return form(m, f)["subscales"].([]any)[i].(map[string]any)
	}
	pair := func(m map[string]any, i int) map[string]any { return m["parallel"].([]any)[i].(map[string]any) }
	tests := []struct {
		name        string
		mutate      func(m map[string]any)
		field, code string // "" = valid
	}{
		{"valid", func(map[string]any) {}, "", ""},
		{"valid without a parallel map (identity)", func(m map[string]any) {
			delete(m, "parallel")
			form(m, 1)["reverse"] = []any{2, 5}
		}, "", ""},
		{"valid with cut-off and reliability", func(m map[string]any) {
			m["clinical_cutoff"] = map[string]any{"value": 20, "metric": "sum", "source": "s"}
			m["reliability"] = map[string]any{"value": 0.8, "kind": "cronbach_alpha", "source": "s"}
		}, "", ""},
		{"valid with rupture references", func(m map[string]any) {
			form(m, 0)["rupture_reference"] = map[string]any{"alpha": 0.9, "sd": 0.7, "source": "s"}
			form(m, 1)["rupture_reference"] = map[string]any{"alpha": 0.85, "sd": 0.6, "source": "s"}
		}, "", ""},
		{"rupture reference alpha of 1", func(m map[string]any) {
			form(m, 1)["rupture_reference"] = map[string]any{"alpha": 1, "sd": 0.7, "source": "s"}
		}, "forms[1].rupture_reference.alpha", "out_of_range"},
		{"rupture reference without spread", func(m map[string]any) {
			form(m, 0)["rupture_reference"] = map[string]any{"alpha": 0.9, "sd": 0, "source": "s"}
		}, "forms[0].rupture_reference.sd", "out_of_range"},
		{"rupture reference without source", func(m map[string]any) {
			form(m, 0)["rupture_reference"] = map[string]any{"alpha": 0.9, "sd": 0.7}
		}, "forms[0].rupture_reference.source", "required"},
		{"valid single form", func(m map[string]any) { m["forms"] = m["forms"].([]any)[:1]; delete(m, "parallel") }, "", ""},
		{"valid without subscales", func(m map[string]any) {
			delete(form(m, 0), "subscales")
			delete(form(m, 1), "subscales")
		}, "", ""},
		{"missing id", func(m map[string]any) { delete(m, "id") }, "id", "required"},
		{"bad id", func(m map[string]any) { m["id"] = "Tst!" }, "id", "invalid_value"},
		{"bad version", func(m map[string]any) { m["version"] = "1@2" }, "version", "invalid_value"},
		{"missing citation", func(m map[string]any) { delete(m, "citation") }, "citation", "required"},
		{"no items", func(m map[string]any) { m["items"] = 0 }, "items", "out_of_range"},
		{"10,000 items", func(m map[string]any) { m["items"] = 10000 }, "items", "out_of_range"},
		{"max not above min", func(m map[string]any) { scale(m)["max"] = 1 }, "scale.max", "not_above_min"},
		{"max below min", func(m map[string]any) { scale(m)["max"] = -3 }, "scale.max", "not_above_min"},
		{"huge bound", func(m map[string]any) { scale(m)["max"] = 1e300 }, "scale.max", "out_of_range"},
		{"zero step", func(m map[string]any) { scale(m)["step"] = 0 }, "scale.step", "out_of_range"},
		{"step misses max", func(m map[string]any) { scale(m)["step"] = 4 }, "scale.step", "not_on_step"},
		{"too many points", func(m map[string]any) { scale(m)["step"] = 0.001 }, "scale.step", "out_of_range"},
		{"anchor off the scale", func(m map[string]any) { scale(m)["anchors"].([]any)[1].(map[string]any)["value"] = 9 }, "scale.anchors[1].value", "out_of_range"},
		{"anchor without labels", func(m map[string]any) { scale(m)["anchors"].([]any)[0].(map[string]any)["labels"] = map[string]any{} }, "scale.anchors[0].labels", "required"},
		{"anchor bad language", func(m map[string]any) {
			scale(m)["anchors"].([]any)[0].(map[string]any)["labels"] = map[string]any{"English": "x"}
		}, "scale.anchors[0].labels.English", "invalid_value"},
		{"bad max missing", func(m map[string]any) { m["missing_policy"] = map[string]any{"max_missing_fraction": 1} }, "missing_policy.max_missing_fraction", "out_of_range"},
		{"bad prorate", func(m map[string]any) { m["missing_policy"] = map[string]any{"prorate": "median"} }, "missing_policy.prorate", "invalid_value"},
		{"cut-off above the sum range", func(m map[string]any) {
			m["clinical_cutoff"] = map[string]any{"value": 43, "metric": "sum", "source": "s"}
		}, "clinical_cutoff.value", "out_of_range"},
		{"cut-off on an unknown metric", func(m map[string]any) {
			m["clinical_cutoff"] = map[string]any{"value": 2, "metric": "median", "source": "s"}
		}, "clinical_cutoff.metric", "invalid_value"},
		{"reliability of 1", func(m map[string]any) {
			m["reliability"] = map[string]any{"value": 1, "kind": "cronbach_alpha", "source": "s"}
		}, "reliability.value", "out_of_range"},
		{"no forms", func(m map[string]any) { m["forms"] = []any{} }, "forms", "wrong_count"},
		{"two client forms", func(m map[string]any) { form(m, 1)["role"] = "client" }, "forms[1].role", "duplicate_id"},
		{"bad role", func(m map[string]any) { form(m, 1)["role"] = "therapist" }, "forms[1].role", "invalid_value"},
		{"form id outside the family", func(m map[string]any) { form(m, 1)["id"] = "wai_sr_therapist" }, "forms[1].id", "invalid_value"},
		{"duplicate form ids", func(m map[string]any) { form(m, 1)["id"] = "tst_client" }, "forms[1].id", "duplicate_id"},
		{"labels miscounted", func(m map[string]any) { form(m, 0)["labels"] = []any{"a"} }, "forms[0].labels", "wrong_count"},
		{"item wording as a label", func(m map[string]any) {
			form(m, 0)["labels"].([]any)[2] = "I feel that my therapist and I are working on mutually agreed goals"
		}, "forms[0].labels[2]", "too_long"},
		{"overlapping subscales", func(m map[string]any) { sub(m, 0, 1)["items"] = []any{3, 4, 5, 6} }, "forms[0].subscales[1].items[0]", "duplicate_item"},
		{"item in no subscale", func(m map[string]any) { sub(m, 0, 1)["items"] = []any{4, 5} }, "forms[0].subscales", "not_in_subscale"},
		{"subscale item out of range", func(m map[string]any) { sub(m, 0, 1)["items"] = []any{4, 5, 6, 7} }, "forms[0].subscales[1].items[3]", "unknown_item"},
		{"subscale named total", func(m map[string]any) { sub(m, 0, 0)["key"] = "total" }, "forms[0].subscales[0].key", "invalid_value"},
		{"subscale twice", func(m map[string]any) { sub(m, 0, 1)["key"] = "bond" }, "forms[0].subscales[1].key", "duplicate_id"},
		{"subscale keys differ", func(m map[string]any) { sub(m, 1, 1)["key"] = "task" }, "forms[1].subscales", "subscales_differ"},
		{"reverse key out of range", func(m map[string]any) { form(m, 0)["reverse"] = []any{2, 7} }, "forms[0].reverse[1]", "unknown_item"},
		{"reverse key zero", func(m map[string]any) { form(m, 1)["reverse"] = []any{0} }, "forms[1].reverse[0]", "unknown_item"},
		{"reverse key twice", func(m map[string]any) { form(m, 0)["reverse"] = []any{2, 2} }, "forms[0].reverse[1]", "duplicate_item"},
		{"parallel map not one-to-one (client)", func(m map[string]any) { pair(m, 1)["client"] = 1 }, "parallel[1].client", "not_one_to_one"},
		{"parallel map not one-to-one (counsellor)", func(m map[string]any) { pair(m, 2)["counsellor"] = 2 }, "parallel[2].counsellor", "not_one_to_one"},
		{"parallel map incomplete", func(m map[string]any) { m["parallel"] = m["parallel"].([]any)[:5] }, "parallel", "wrong_count"},
		{"parallel item out of range", func(m map[string]any) { pair(m, 0)["counsellor"] = 9 }, "parallel[0].counsellor", "unknown_item"},
		{"parallel across subscales", func(m map[string]any) {
			pair(m, 2)["counsellor"], pair(m, 3)["counsellor"] = 4, 3
		}, "parallel[2]", "subscales_differ"},
		{"no map, subscales differ item by item", func(m map[string]any) {
			delete(m, "parallel")
			sub(m, 1, 0)["items"], sub(m, 1, 1)["items"] = []any{1, 2, 4}, []any{3, 5, 6}
		}, "parallel", "subscales_differ"},
		{"parallel map on one form", func(m map[string]any) { m["forms"] = m["forms"].([]any)[:1] }, "parallel", "invalid_value"},
		{"unknown field", func(m map[string]any) { m["extra"] = 1 }, "", "malformed_definition"},
		{"item text stored", func(m map[string]any) { form(m, 0)["text"] = map[string]any{"en": "copyrighted"} }, "", "malformed_definition"},
		{"wrong type", func(m map[string]any) { m["items"] = "six" }, "items", "malformed_definition"},
		{"a label with a bidirectional override", func(m map[string]any) { form(m, 0)["labels"].([]any)[2] = "goals \u202eagree" }, "forms[0].labels[2]", "hidden_character"},
		{"words joined by zero-width spaces", func(m map[string]any) {
			form(m, 0)["labels"].([]any)[0] = "one\u200btwo\u200bthree\u200bfour\u200bfive\u200bsix\u200bseven\u200beight\u200bnine"
		}, "forms[0].labels[0]", "hidden_character"},
		{"a NUL in the name", func(m map[string]any) { m["name"] = "Test\u0000family" }, "name", "hidden_character"},
		{"a label of two lines", func(m map[string]any) { form(m, 0)["labels"].([]any)[1] = "first\nsecond" }, "forms[0].labels[1]", "hidden_character"},
		{"wrong type in the second form", func(m map[string]any) { form(m, 1)["role"] = 5 }, "forms[1].role", "malformed_definition"},
		{"wrong type in a reverse key", func(m map[string]any) { form(m, 1)["reverse"] = []any{2, "5"} }, "forms[1].reverse[1]", "malformed_definition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := json.Marshal(testDefinition(tt.mutate))
			if err != nil {
				t.Fatal(err)
			}
			d, err := instrument.ParseDefinition(data)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("ParseDefinition = %v, want valid", err)
				}
				if _, err := instrument.ParseDefinition(d.Canonical()); err != nil {
					t.Errorf("the canonical form does not parse again: %v", err)
				}
				return
			}
			var de *instrument.DefinitionError
			if !errors.As(err, &de) {
				t.Fatalf("ParseDefinition err = %v, want a *DefinitionError", err)
			}
			for _, fe := range de.Fields {
				if fe.Field == tt.field && fe.Code == tt.code {
					return
				}
			}
			t.Errorf("errors = %+v, want %s %s", de.Fields, tt.field, tt.code)
		})
	}
}

// TestParseDefinitionBounds: oversized or pathological input is refused
// quickly with a reason, never a panic.
func TestParseDefinitionBounds(t *testing.T) {
	big := `{"id":"tst","name":"` + strings.Repeat("x", instrument.MaxDefinitionBytes) + `"}`
	for _, tt := range []struct{ name, in, code string }{
		{"1 MB", big, "too_long"},
		{"deep nesting", strings.Repeat("[", 10000) + strings.Repeat("]", 10000), "malformed_definition"},
		{"non-finite number", `{"scale": {"min": 1e999}}`, "malformed_definition"},
		{"two values", `{} {}`, "malformed_definition"},
		{"empty", ``, "malformed_definition"},
	} {
		_, err := instrument.ParseDefinition([]byte(tt.in))
		var de *instrument.DefinitionError
		if !errors.As(err, &de) || de.Fields[0].Code != tt.code {
			t.Errorf("%s: err = %v, want code %s", tt.name, err, tt.code)
		}
	}
	// 10,000 labels under the byte limit: one error per rule, bounded.
	m := testDefinition(func(m map[string]any) {
		m["items"] = 100
		labels := make([]any, 5000)
		for i := range labels {
			labels[i] = ""
		}
		m["forms"].([]any)[0].(map[string]any)["labels"] = labels
	})
	data, _ := json.Marshal(m)
	_, err := instrument.ParseDefinition(data)
	var de *instrument.DefinitionError
	if !errors.As(err, &de) || len(de.Fields) > 100 {
		t.Errorf("err = %v, want a bounded list", err)
	}
}

// FuzzParseDefinition: whatever the bytes, ParseDefinition answers with a
// definition whose forms build, score and pair without panicking, or with
// a *DefinitionError; never anything else.
func FuzzParseDefinition(f *testing.F) {
	f.Add([]byte(testDefinitionJSON))
	for _, name := range []string{"wai_sr", "wai_s", "srs"} {
		data, err := os.ReadFile("forms/" + name + ".json")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"id":"a","version":"1","items":2,"scale":{"min":0,"max":1,"step":0.5},"forms":[{"id":"a_c","role":"client"}]}`))
	f.Add([]byte(`{"scale":{"min":-0,"max":1e-300,"step":1e-303}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := instrument.ParseDefinition(data)
		if err != nil {
			var de *instrument.DefinitionError
			if !errors.As(err, &de) || len(de.Fields) == 0 {
				t.Fatalf("err = %v, want a *DefinitionError with fields", err)
			}
			return
		}
		c, err := instrument.Empty().With(d)
		if err != nil {
			t.Fatalf("With: %v", err)
		}
		forms := c.Forms()
		for _, form := range forms {
			answers := make([]*float64, len(form.Items))
			for i := range answers {
				v := form.Scale.Min + float64(i%2)*form.Scale.Step
				answers[i] = &v
			}
			if errs := form.Validate(answers); errs != nil {
				t.Fatalf("%s: grid answers refused: %v", form.ID, errs)
			}
			_ = form.Score(answers, instrument.DefaultPolicy())
			for _, g := range forms {
				if !form.Parallel(g) {
					t.Fatalf("%s and %s of one definition are not parallel", form.ID, g.ID)
				}
			}
		}
		if _, err := instrument.ParseDefinition(d.Canonical()); err != nil {
			t.Fatalf("canonical form refused: %v", err)
		}
	})
}

// TestPairing: the parallel map of the definition pairs client item i
// with its counsellor item, both ways; built-in families pair by key.
func TestPairing(t *testing.T) {
	c, err := instrument.Empty().With(mustDefinition(t, testDefinition(nil)))
	if err != nil {
		t.Fatal(err)
	}
	cf, tf := mustForm(t, c, "tst_client@1"), mustForm(t, c, "tst_counsellor@1")
	if got, want := cf.Pairing(tf), []int{1, 0, 2, 3, 5, 4}; !slices.Equal(got, want) {
		t.Errorf("client→counsellor = %v, want %v", got, want)
	}
	if got, want := tf.Pairing(cf), []int{1, 0, 2, 3, 5, 4}; !slices.Equal(got, want) {
		t.Errorf("counsellor→client = %v, want %v", got, want)
	}
	if !cf.Parallel(tf) || !tf.Parallel(cf) {
		t.Error("the two forms are not parallel")
	}
	// Reverse keys follow the map: client 2 and 5 are counsellor 1 and 6.
	for i, j := range cf.Pairing(tf) {
		if cf.Items[i].Reverse != tf.Items[j].Reverse {
			t.Errorf("client item %d reverse %v, its counsellor item %d %v", i+1, cf.Items[i].Reverse, j+1, tf.Items[j].Reverse)
		}
	}
	b := instrument.Builtin()
	if got := mustForm(t, b, "wai_s_client").Pairing(mustForm(t, b, "wai_s_therapist")); !slices.Equal(got, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}) {
		t.Errorf("WAI-S pairing = %v, want identity", got)
	}
	// Another version of the family is a different definition.
	c2, err := c.With(mustDefinition(t, testDefinition(func(m map[string]any) { m["version"] = "2" })))
	if err != nil {
		t.Fatal(err)
	}
	if cf.Parallel(mustForm(t, c2, "tst_counsellor@2")) {
		t.Error("version 1's client form is parallel to version 2's counsellor form")
	}
}

// TestCatalogueWith: a definition made at run time adds versioned forms;
// built-in families and defined versions cannot be redefined.
func TestCatalogueWith(t *testing.T) {
	b := instrument.Builtin()
	c, err := b.With(mustDefinition(t, testDefinition(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 5 || c.Len() != 7 {
		t.Errorf("Len = %d → %d, want 5 → 7 (the original unchanged)", b.Len(), c.Len())
	}
	f := mustForm(t, c, "tst_client")
	if f.ID != "tst_client@1" || f.Family != "tst" || f.Version != "1" || f.Builtin || f.ScoringVersion() != "2/tst_client@1" {
		t.Errorf("form = %s %s %s builtin %v scoring %s", f.ID, f.Family, f.Version, f.Builtin, f.ScoringVersion())
	}
	if got := mustForm(t, b, "wai_sr_client").ScoringVersion(); got != "2/wai_sr_client@1" {
		t.Errorf("built-in ScoringVersion = %s", got)
	}
	if got := mustForm(t, b, "wai_sr_client@1"); got.ID != "wai_sr_client" {
		t.Errorf("wai_sr_client@1 = %s", got.ID)
	}
	if _, ok := b.Form("wai_sr_client@2"); ok {
		t.Error("an unknown version of a built-in form resolves")
	}
	if a := f.Scale.Anchors[0]; a.Label != "Never" || a.Labels["sv"] != "Aldrig" {
		t.Errorf("anchor = %+v", a)
	}
	if _, err := c.With(mustDefinition(t, testDefinition(nil))); err == nil {
		t.Error("the same version was defined twice")
	}
	wai := mustDefinition(t, testDefinition(func(m map[string]any) {
		m["id"] = "wai_sr"
		m["forms"].([]any)[0].(map[string]any)["id"] = "wai_sr_client"
		m["forms"].([]any)[1].(map[string]any)["id"] = "wai_sr_counsellor"
		m["version"] = "2"
	}))
	if _, err := c.With(wai); err == nil {
		t.Error("a built-in family was extended")
	}
}

// TestBuiltinDefinitionsCanonical: the built-in files parse as POST
// /v1/instruments bodies do, and hold the defaults explicitly.
func TestBuiltinDefinitionsCanonical(t *testing.T) {
	for _, name := range []string{"wai_sr", "wai_s", "srs"} {
		data, err := os.ReadFile("forms/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		d, err := instrument.ParseDefinition(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d.ID != name {
			t.Errorf("%s.json holds family %q", name, d.ID)
		}
	}
	if _, err := instrument.Load(fstest.MapFS{"forms/x.json": {Data: []byte(testDefinitionJSON)}}); err == nil {
		t.Error("a family file whose name is not its id loaded")
	}
	if _, err := instrument.Load(fstest.MapFS{"forms/tst.json": {Data: []byte(testDefinitionJSON)}}); err != nil {
		t.Errorf("Load = %v", err)
	}
}

// TestBuiltinRuptureReferences: every built-in form carries the rupture
// alert's provisional reference (docs/alerts-and-webhooks.md lists them),
// apart from the vetted reliability only the SRS records.
func TestBuiltinRuptureReferences(t *testing.T) {
	want := map[string][2]float64{
		"wai_sr_client": {0.91, 0.70}, "wai_sr_therapist": {0.89, 0.60},
		"wai_s_client": {0.93, 0.90}, "wai_s_therapist": {0.93, 0.80},
		"srs_client": {0.88, 0.98},
	}
	for id, w := range want {
		f, ok := instrument.Builtin().Form(id)
		if !ok {
			t.Fatalf("no built-in form %s", id)
		}
		r := f.RuptureReference
		if r == nil || r.Alpha != w[0] || r.SD != w[1] || r.Source == "" {
			t.Errorf("%s rupture reference = %+v, want alpha %v, sd %v with a source", id, r, w[0], w[1])
		}
	}
}

// TestParseStoredDefinition: a family stored before a rule on what texts
// may hold still loads (a server must start, and its studies keep their
// forms), while a new definition like it is refused.
func TestParseStoredDefinition(t *testing.T) {
	data, err := json.Marshal(testDefinition(func(m map[string]any) {
		m["forms"].([]any)[0].(map[string]any)["labels"].([]any)[0] = "goals\u200bagreed"
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := instrument.ParseDefinition(data); err == nil {
		t.Fatal("a new definition with a zero-width space in a label was accepted")
	}
	d, err := instrument.ParseStoredDefinition(data)
	if err != nil || d.Forms[0].Labels[0] != "goals\u200bagreed" {
		t.Fatalf("the stored definition does not load as it was: %v", err)
	}
	broken, _ := json.Marshal(testDefinition(func(m map[string]any) { m["items"] = 0 }))
	if _, err := instrument.ParseStoredDefinition(broken); err == nil {
		t.Error("a stored definition breaking an older rule loaded")
	}
}
