// Package instrument holds the alliance questionnaire catalogue and the
// rules to validate and score answers to its forms.
//
// The catalogue is data (embedded JSON, one file per form) so that new
// instruments can be added without code changes. It stores structure only:
// item keys, subscale map, reverse keys, scale bounds and our own short
// paraphrase labels. Copyrighted item wording never lives in the repository;
// a deployment that holds a licence supplies it at run time via WithTexts.
//
// The package is pure and imports nothing from this module, so that scoring
// can be tested and versioned independently of storage and transport.
package instrument

import (
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"path"
	"slices"
	"strconv"
	"sync"
)

//go:embed forms/*.json
var formsFS embed.FS

// Roles a form can be answered from. A dyad pairs one form of each role.
const (
	RoleClient     = "client"
	RoleCounsellor = "counsellor"
)

// Anchor is a labelled point of the response scale. Anchor labels are
// short and may be shown in the UI without the licensed item text.
type Anchor struct {
	Value float64 `json:"value"`
	Label string  `json:"label"`
}

// Scale is the response scale shared by every item of a form. Answers must
// lie in [Min, Max] on the grid Min + n*Step, which lets one type describe
// both Likert forms (step 1) and visual-analogue forms (step 0.1).
type Scale struct {
	Min     float64  `json:"min"`
	Max     float64  `json:"max"`
	Step    float64  `json:"step"`
	Anchors []Anchor `json:"anchors"`
}

// Item is one question, identified by its Key (1..k) rather than its text so
// that parallel client and counsellor forms can be paired item by item.
type Item struct {
	Key int `json:"key"`
	// Subscale is the key of the subscale the item belongs to, "" if none.
	Subscale string `json:"subscale,omitempty"`
	// Reverse marks negatively worded items, keyed as Min+Max-x before scoring.
	Reverse bool `json:"reverse,omitempty"`
	// Label is our own 2–5 word paraphrase, safe to store and display.
	Label string `json:"label"`
	// Text holds licensed item wording per language code. It is nil in the
	// built-in catalogue and only set by WithTexts.
	Text map[string]string `json:"text,omitempty"`
}

// Subscale groups items that are scored together (e.g. the WAI's Bordin
// components goal, task and bond).
type Subscale struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Items []int  `json:"items"` // item keys
}

// Form is one questionnaire as answered from one role. Forms of the same
// Family with identical keys are parallel (see Parallel).
//
// Forms returned by a Catalogue are shared: treat them as read-only.
type Form struct {
	ID     string `json:"id"`
	Family string `json:"family"`
	Name   string `json:"name"`
	// Role is RoleClient or RoleCounsellor.
	Role string `json:"role"`
	// Version identifies this definition of the form (key, scale, labels);
	// bump it when the definition changes so stored scores stay traceable.
	Version     string `json:"version"`
	Citation    string `json:"citation"`
	LicenceNote string `json:"licence_note"`
	Scale       Scale  `json:"scale"`
	// Items are ordered by Key 1..k; answers are positional in this order.
	Items []Item `json:"items"`
	// Subscales are ordered as in the definition file.
	Subscales []Subscale `json:"subscales"`
	// MaxMissingFraction is a form-level cap on missing items that overrides
	// a laxer study policy (e.g. the SRS requires every item). nil = no cap.
	MaxMissingFraction *float64 `json:"max_missing_fraction,omitempty"`
	// ClinicalCutoff is the published score below which a rating signals a
	// possible concern (the SRS's 36 on the 0–40 sum); nil when the form
	// has none.
	ClinicalCutoff *Cutoff `json:"clinical_cutoff,omitempty"`
	// Reliability is a published reliability of the total score, used as
	// r_xx of the reliable change index; nil when none is recorded.
	Reliability *Reliability `json:"reliability,omitempty"`
	// RuptureReference is what the rupture alert falls back on until a
	// study has enough ratings of its own; nil: none known.
	RuptureReference *RuptureReference `json:"rupture_reference,omitempty"`
	// Unverified names the parts of the definition not checked against the
	// primary source, so that the UI and reports can be honest about them.
	Unverified []string `json:"unverified"`
}

// Score metrics a cut-off can be stated on.
const (
	MetricSum      = "sum"
	MetricItemMean = "item_mean"
)

// Cutoff is a clinical cut-off of the total score: scores strictly below
// Value signal a possible concern.
type Cutoff struct {
	Value float64 `json:"value"`
	// Metric is MetricSum (the raw total) or MetricItemMean.
	Metric string `json:"metric"`
	Source string `json:"source"`
}

// Reliability is a published reliability coefficient of the total score.
type Reliability struct {
	Value float64 `json:"value"`
	// Kind names the coefficient, e.g. "cronbach_alpha" or "test_retest".
	Kind   string `json:"kind"`
	Source string `json:"source"`
}

// RuptureReference is a reference for the rupture alert's reliable change
// criterion: an internal consistency (Cronbach's alpha) and the standard
// deviation of the total on the item-mean metric, with where they come
// from and how sure we are. Unlike Reliability, which the study summary
// uses and which is recorded only where it was checked, these are
// provisional placeholders, replaced by a study's own figures once it has
// enough ratings (see docs/alerts-and-webhooks.md).
type RuptureReference struct {
	Alpha  float64 `json:"alpha"`
	SD     float64 `json:"sd"`
	Source string  `json:"source"`
}

// Catalogue is an immutable set of forms keyed by ID.
type Catalogue struct {
	forms map[string]*Form
}

var builtin = sync.OnceValue(func() *Catalogue {
	c, err := load(formsFS)
	if err != nil {
		panic(err) // the embedded data is covered by tests
	}
	return c
})

// Builtin returns the catalogue parsed from the embedded form files. It
// panics only if the embedded data is invalid, which the tests rule out.
func Builtin() *Catalogue { return builtin() }

// Form returns the form with the given ID.
func (c *Catalogue) Form(id string) (*Form, bool) {
	f, ok := c.forms[id]
	return f, ok
}

// Forms returns all forms sorted by ID, for listing endpoints.
func (c *Catalogue) Forms() []*Form {
	out := make([]*Form, 0, len(c.forms))
	for _, id := range slices.Sorted(maps.Keys(c.forms)) {
		out = append(out, c.forms[id])
	}
	return out
}

// WithTexts returns a copy of c with licensed item texts read from a
// deployment-supplied JSON document of the shape
//
//	{"wai_sr_client": {"en": {"1": "text", ...}, "sv": {...}}, ...}
//
// Texts stay out of the repository; only a licensed deployment has them.
// An unknown form ID or item key is an error naming it. c is not modified.
func (c *Catalogue) WithTexts(r io.Reader) (*Catalogue, error) {
	var in map[string]map[string]map[string]string
	if err := json.NewDecoder(r).Decode(&in); err != nil {
		return nil, fmt.Errorf("instrument: texts: %w", err)
	}
	out := &Catalogue{forms: make(map[string]*Form, len(c.forms))}
	for id, f := range c.forms {
		out.forms[id] = f.clone()
	}
	for _, id := range slices.Sorted(maps.Keys(in)) {
		f, ok := out.forms[id]
		if !ok {
			return nil, fmt.Errorf("instrument: texts: unknown form %q", id)
		}
		for _, lang := range slices.Sorted(maps.Keys(in[id])) {
			if lang == "" {
				return nil, fmt.Errorf("instrument: texts: form %q: empty language code", id)
			}
			texts := in[id][lang]
			for _, k := range slices.Sorted(maps.Keys(texts)) {
				key, err := strconv.Atoi(k)
				if err != nil || key < 1 || key > len(f.Items) {
					return nil, fmt.Errorf("instrument: texts: form %q language %q: unknown item %q", id, lang, k)
				}
				if texts[k] == "" {
					return nil, fmt.Errorf("instrument: texts: form %q language %q: empty text for item %q", id, lang, k)
				}
				it := &f.Items[key-1]
				if it.Text == nil {
					it.Text = make(map[string]string)
				}
				it.Text[lang] = texts[k]
			}
		}
	}
	return out, nil
}

// clone deep-copies f so a derived catalogue never aliases the original.
func (f *Form) clone() *Form {
	g := *f
	g.Scale.Anchors = slices.Clone(f.Scale.Anchors)
	g.Items = slices.Clone(f.Items)
	for i := range g.Items {
		g.Items[i].Text = maps.Clone(g.Items[i].Text)
	}
	g.Subscales = slices.Clone(f.Subscales)
	for i := range g.Subscales {
		g.Subscales[i].Items = slices.Clone(g.Subscales[i].Items)
	}
	if f.MaxMissingFraction != nil {
		v := *f.MaxMissingFraction
		g.MaxMissingFraction = &v
	}
	if f.ClinicalCutoff != nil {
		c := *f.ClinicalCutoff
		g.ClinicalCutoff = &c
	}
	if f.Reliability != nil {
		r := *f.Reliability
		g.Reliability = &r
	}
	if f.RuptureReference != nil {
		r := *f.RuptureReference
		g.RuptureReference = &r
	}
	g.Unverified = slices.Clone(f.Unverified)
	return &g
}

// Parallel reports whether f and g can be paired item by item for dyad
// agreement: same family, identical item keys with the same subscale for
// each item, and identical subscale keys.
func (f *Form) Parallel(g *Form) bool {
	if f.Family != g.Family || len(f.Items) != len(g.Items) || len(f.Subscales) != len(g.Subscales) {
		return false
	}
	for i := range f.Items {
		if f.Items[i].Key != g.Items[i].Key || f.Items[i].Subscale != g.Items[i].Subscale {
			return false
		}
	}
	keys := func(ss []Subscale) []string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = s.Key
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(keys(f.Subscales), keys(g.Subscales))
}

// load parses and validates every forms/*.json file in fsys.
func load(fsys fs.FS) (*Catalogue, error) {
	names, err := fs.Glob(fsys, "forms/*.json")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("instrument: no form files")
	}
	c := &Catalogue{forms: make(map[string]*Form, len(names))}
	for _, name := range names {
		f, err := loadForm(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("instrument: %s: %w", name, err)
		}
		c.forms[f.ID] = f
	}
	return c, nil
}

func loadForm(fsys fs.FS, name string) (*Form, error) {
	file, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	dec := json.NewDecoder(file)
	dec.DisallowUnknownFields()
	var f Form
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	if want := path.Base(name); f.ID+".json" != want {
		return nil, fmt.Errorf("id %q does not match file name", f.ID)
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	if f.Subscales == nil {
		f.Subscales = []Subscale{}
	}
	return &f, nil
}

// check enforces the invariants that Validate, Keyed and Score rely on.
func (f *Form) check() error {
	for _, fv := range [][2]string{{"id", f.ID}, {"family", f.Family}, {"name", f.Name},
		{"version", f.Version}, {"citation", f.Citation}, {"licence_note", f.LicenceNote}} {
		if fv[1] == "" {
			return fmt.Errorf("missing %s", fv[0])
		}
	}
	if f.Role != RoleClient && f.Role != RoleCounsellor {
		return fmt.Errorf("role %q is not %q or %q", f.Role, RoleClient, RoleCounsellor)
	}
	s := f.Scale
	if !isFinite(s.Min) || !isFinite(s.Max) || !(s.Min < s.Max) {
		return fmt.Errorf("scale: need finite min < max, got %v..%v", s.Min, s.Max)
	}
	if !isFinite(s.Step) || !(s.Step > 0) || !s.onStep(s.Max) {
		return fmt.Errorf("scale: step %v must be > 0 and reach max from min", s.Step)
	}
	for i, a := range s.Anchors {
		if a.Label == "" || !(a.Value >= s.Min && a.Value <= s.Max) || !s.onStep(a.Value) {
			return fmt.Errorf("scale: anchor %v %q must be labelled and on the scale", a.Value, a.Label)
		}
		if i > 0 && !(a.Value > s.Anchors[i-1].Value) {
			return fmt.Errorf("scale: anchors must increase")
		}
	}
	if f.MaxMissingFraction != nil {
		if err := (Policy{MaxMissingFraction: *f.MaxMissingFraction}).Validate(); err != nil {
			return err
		}
	}
	if c := f.ClinicalCutoff; c != nil {
		lo, hi := s.Min, s.Max
		if c.Metric == MetricSum {
			lo, hi = lo*float64(len(f.Items)), hi*float64(len(f.Items))
		} else if c.Metric != MetricItemMean {
			return fmt.Errorf("clinical_cutoff: metric %q is not %q or %q", c.Metric, MetricSum, MetricItemMean)
		}
		if !(c.Value > lo && c.Value <= hi) || c.Source == "" {
			return fmt.Errorf("clinical_cutoff: need a source and a value in (%v, %v]", lo, hi)
		}
	}
	if r := f.Reliability; r != nil && (!(r.Value > 0 && r.Value < 1) || r.Kind == "" || r.Source == "") {
		return fmt.Errorf("reliability: need a kind, a source and a value in (0, 1)")
	}
	if r := f.RuptureReference; r != nil && (!(r.Alpha > 0 && r.Alpha < 1) || !(r.SD > 0) || !isFinite(r.SD) || r.Source == "") {
		return fmt.Errorf("rupture_reference: need 0 < alpha < 1, a finite sd > 0 and a source")
	}
	if len(f.Items) == 0 {
		return fmt.Errorf("no items")
	}
	for i, it := range f.Items {
		if it.Key != i+1 {
			return fmt.Errorf("item %d has key %d: keys must be 1..k in order", i+1, it.Key)
		}
		if it.Label == "" {
			return fmt.Errorf("item %d: missing label", it.Key)
		}
		if it.Text != nil {
			return fmt.Errorf("item %d: item text must not be stored in the catalogue", it.Key)
		}
	}
	owner := make(map[int]string) // item key -> subscale key
	seen := make(map[string]bool)
	for _, sub := range f.Subscales {
		if sub.Key == "" || sub.Label == "" || len(sub.Items) == 0 {
			return fmt.Errorf("subscale %q: need key, label and items", sub.Key)
		}
		if seen[sub.Key] {
			return fmt.Errorf("subscale %q: duplicate key", sub.Key)
		}
		seen[sub.Key] = true
		for _, k := range sub.Items {
			if k < 1 || k > len(f.Items) {
				return fmt.Errorf("subscale %q: unknown item %d", sub.Key, k)
			}
			if o, dup := owner[k]; dup {
				return fmt.Errorf("item %d is in subscales %q and %q", k, o, sub.Key)
			}
			owner[k] = sub.Key
		}
	}
	for _, it := range f.Items {
		if it.Subscale != owner[it.Key] {
			return fmt.Errorf("item %d: subscale %q disagrees with subscale list (%q)", it.Key, it.Subscale, owner[it.Key])
		}
	}
	return nil
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
