package instrument_test

import (
	"encoding/json"
	"math"
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
			_, err := c.WithTexts(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("err = %v, want one mentioning %s", err, tt.mention)
			}
		})
	}
}

// TestLoadRejects checks that the loader catches each kind of broken form
// file, so that Builtin's panic can only fire on a real data error.
func TestLoadRejects(t *testing.T) {
	base := func() map[string]any {
		var m map[string]any
		err := json.Unmarshal([]byte(`{
			"id": "x", "family": "f", "name": "n", "role": "client", "version": "1",
			"citation": "c", "licence_note": "l", "unverified": [],
			"scale": {"min": 1, "max": 3, "step": 1, "anchors": [{"value": 1, "label": "lo"}]},
			"items": [{"key": 1, "subscale": "a", "label": "one"}, {"key": 2, "subscale": "a", "label": "two"}, {"key": 3, "label": "three"}],
			"subscales": [{"key": "a", "label": "A", "items": [1, 2]}]}`), &m)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	item := func(m map[string]any, i int) map[string]any { return m["items"].([]any)[i].(map[string]any) }
	scale := func(m map[string]any) map[string]any { return m["scale"].(map[string]any) }
	sub := func(m map[string]any) map[string]any { return m["subscales"].([]any)[0].(map[string]any) }
	tests := []struct {
		name   string
		mutate func(m map[string]any)
	}{
		{"valid", func(map[string]any) {}},
		{"valid with cut-off and reliability", func(m map[string]any) {
			m["clinical_cutoff"] = map[string]any{"value": 7, "metric": "sum", "source": "s"}
			m["reliability"] = map[string]any{"value": 0.8, "kind": "cronbach_alpha", "source": "s"}
		}},
		{"cut-off above the sum range", func(m map[string]any) {
			m["clinical_cutoff"] = map[string]any{"value": 10, "metric": "sum", "source": "s"}
		}},
		{"cut-off on an unknown metric", func(m map[string]any) {
			m["clinical_cutoff"] = map[string]any{"value": 2, "metric": "median", "source": "s"}
		}},
		{"cut-off without source", func(m map[string]any) {
			m["clinical_cutoff"] = map[string]any{"value": 2, "metric": "item_mean"}
		}},
		{"reliability of 1", func(m map[string]any) {
			m["reliability"] = map[string]any{"value": 1, "kind": "cronbach_alpha", "source": "s"}
		}},
		{"bad role", func(m map[string]any) { m["role"] = "therapist" }},
		{"missing citation", func(m map[string]any) { delete(m, "citation") }},
		{"unknown field", func(m map[string]any) { m["extra"] = 1 }},
		{"id not file name", func(m map[string]any) { m["id"] = "y" }},
		{"min not below max", func(m map[string]any) { scale(m)["min"] = 3 }},
		{"zero step", func(m map[string]any) { scale(m)["step"] = 0 }},
		{"step misses max", func(m map[string]any) { scale(m)["step"] = 0.75 }},
		{"anchor out of range", func(m map[string]any) { scale(m)["anchors"] = []any{map[string]any{"value": 9, "label": "hi"}} }},
		{"no items", func(m map[string]any) { m["items"] = []any{}; m["subscales"] = []any{} }},
		{"keys not contiguous", func(m map[string]any) { item(m, 2)["key"] = 4 }},
		{"item text stored", func(m map[string]any) { item(m, 0)["text"] = map[string]any{"en": "copyrighted"} }},
		{"subscale unknown item", func(m map[string]any) { sub(m)["items"] = []any{1, 2, 4} }},
		{"item in two subscales", func(m map[string]any) {
			m["subscales"] = append(m["subscales"].([]any), map[string]any{"key": "b", "label": "B", "items": []any{2}})
		}},
		{"item subscale disagrees", func(m map[string]any) { item(m, 2)["subscale"] = "a" }},
		{"bad max missing", func(m map[string]any) { m["max_missing_fraction"] = 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base()
			tt.mutate(m)
			data, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			_, err = instrument.Load(fstest.MapFS{"forms/x.json": {Data: data}})
			if (err == nil) != strings.HasPrefix(tt.name, "valid") {
				t.Errorf("Load err = %v", err)
			}
		})
	}
}
