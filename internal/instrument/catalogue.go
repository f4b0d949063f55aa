// Package instrument holds the alliance questionnaire catalogue and the
// rules to validate and score answers to its forms.
//
// Forms are data: a Definition (JSON) describes a family of parallel
// forms, and the built-in families (embedded, one file per family in
// forms/) are read by the same parser and checks as families defined at
// run time through the API. A definition holds structure only: item
// numbers, subscale map, reverse keys, scale bounds, which items are
// parallel, and our own short labels. Copyrighted item wording never lives
// in the repository or the database; a deployment that holds a licence
// supplies it at run time via WithTexts.
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
	"strings"
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
	Value float64
	// Label is the English label, else the label of the first language.
	Label string
	// Labels holds the label per language code.
	Labels map[string]string
}

// Scale is the response scale shared by every item of a form. Answers must
// lie in [Min, Max] on the grid Min + n*Step, which lets one type describe
// both Likert forms (step 1) and visual-analogue forms (step 0.1).
type Scale struct {
	Min     float64
	Max     float64
	Step    float64
	Anchors []Anchor
}

// Item is one question, identified by its Key (1..k) rather than its text so
// that parallel client and counsellor forms can be paired item by item.
type Item struct {
	Key int
	// Subscale is the key of the subscale the item belongs to, "" if none.
	Subscale string
	// Reverse marks negatively worded items, keyed as Min+Max-x before scoring.
	Reverse bool
	// Label is our own short paraphrase, safe to store and display.
	Label string
	// Parallel is the family's number of the item: the key of the client
	// form's item it pairs with (its own key on a client form). Items of
	// parallel forms with the same Parallel are the same question asked
	// from either side; see Pairing.
	Parallel int
	// Text holds licensed item wording per language code. It is nil unless
	// set by WithTexts.
	Text map[string]string
}

// Subscale groups items that are scored together (e.g. the WAI's Bordin
// components goal, task and bond).
type Subscale struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Items []int  `json:"items"` // item keys
}

// Form is one questionnaire as answered from one role, built from a
// Definition. Forms of one family and version are parallel (see Parallel).
//
// Forms returned by a Catalogue are shared: treat them as read-only.
type Form struct {
	// ID is the built-in form's id ("wai_sr_client"), or for a form
	// defined at run time its id and version ("sai_client@2"): every
	// definition has an id of its own, so a study, a rating or an export
	// that names it names the exact definition.
	ID     string
	Family string
	Name   string
	// Role is RoleClient or RoleCounsellor.
	Role string
	// Version identifies this definition of the family (key, scale,
	// labels); a changed definition is a new version.
	Version     string
	Citation    string
	LicenceNote string
	// Builtin marks the forms shipped with the program, which no
	// definition at run time can replace.
	Builtin bool
	Scale   Scale
	// Items are ordered by Key 1..k; answers are positional in this order.
	Items []Item
	// Subscales are ordered as in the definition.
	Subscales []Subscale
	// MaxMissingFraction is a form-level cap on missing items that overrides
	// a laxer study policy (e.g. the SRS requires every item). nil = no cap.
	MaxMissingFraction *float64
	// Prorate is the proration rule: ProratePersonMean, or ProrateNone
	// (a scale with a missing item is not scored).
	Prorate string
	// TotalRequiresSubscales: the form scores a total only when every
	// subscale is scored, whatever the study's policy says.
	TotalRequiresSubscales bool
	// ClinicalCutoff is the published score below which a rating signals a
	// possible concern (the SRS's 36 on the 0–40 sum); nil when the form
	// has none.
	ClinicalCutoff *Cutoff
	// Reliability is a published reliability of the total score, used as
	// r_xx of the reliable change index; nil when none is recorded.
	Reliability *Reliability
	// RuptureReference is what the rupture alert falls back on until a
	// study has enough ratings of its own; nil: none known.
	RuptureReference *RuptureReference
	// Unverified names the parts of the definition not checked against the
	// primary source, so that the UI and reports can be honest about them.
	Unverified []string
}

// BaseID is the form's id without its version: "sai_client" for
// "sai_client@2".
func (f *Form) BaseID() string {
	id, _, _ := strings.Cut(f.ID, "@")
	return id
}

// ScoringVersion names the rules and the definition that score answers to
// this form, e.g. "1/wai_sr_client@1": ScoringVersion, then the form and
// its version. It is stored with every score.
func (f *Form) ScoringVersion() string {
	return ScoringVersion + "/" + f.BaseID() + "@" + f.Version
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

// Catalogue is an immutable set of forms keyed by ID, with the item texts
// a deployment supplied. With adds a family by returning a new catalogue,
// so a catalogue can be shared without locks.
type Catalogue struct {
	forms map[string]*Form
	// latest maps a form's base id to the ID of its latest version, in
	// the order families were added.
	latest map[string]string
	// families holds the family ids and versions present, "id@version".
	families map[string]bool
	// texts are the item texts by form id (base or versioned), kept for
	// forms added later.
	texts map[string]map[string]map[string]string
}

var builtin = sync.OnceValue(func() *Catalogue {
	c, err := load(formsFS)
	if err != nil {
		panic(err) // the embedded data is covered by tests
	}
	return c
})

// Builtin returns the catalogue parsed from the embedded family files. It
// panics only if the embedded data is invalid, which the tests rule out.
func Builtin() *Catalogue { return builtin() }

// Form returns a form by its ID. For a form defined at run time, the
// base id ("sai_client") means its latest version; any form can be named
// with its version ("wai_sr_client@1").
func (c *Catalogue) Form(id string) (*Form, bool) {
	if f, ok := c.forms[id]; ok {
		return f, true
	}
	if latest, ok := c.latest[id]; ok {
		return c.forms[latest], true
	}
	if base, version, ok := strings.Cut(id, "@"); ok {
		if f, ok := c.forms[base]; ok && f.Version == version {
			return f, true
		}
	}
	return nil, false
}

// Forms returns all forms sorted by ID, for listing endpoints.
func (c *Catalogue) Forms() []*Form {
	out := make([]*Form, 0, len(c.forms))
	for _, id := range slices.Sorted(maps.Keys(c.forms)) {
		out = append(out, c.forms[id])
	}
	return out
}

// Len counts the forms.
func (c *Catalogue) Len() int { return len(c.forms) }

// HasFamily reports whether version of family is in the catalogue.
func (c *Catalogue) HasFamily(family, version string) bool {
	return c.families[family+"@"+version]
}

// BuiltinFamily reports whether family is one of the built-in families,
// which no definition may extend or replace.
func (c *Catalogue) BuiltinFamily(family string) bool {
	for _, f := range c.forms {
		if f.Builtin && f.Family == family {
			return true
		}
	}
	return false
}

// With returns a copy of c with the forms of d, a definition made at run
// time: their ids carry the version ("sai_client@1"), their base ids now
// name them as the latest version, and the item texts kept for them are
// applied. It refuses a family and version c has, or a built-in family.
func (c *Catalogue) With(d *Definition) (*Catalogue, error) {
	switch {
	case c.BuiltinFamily(d.ID):
		return nil, fmt.Errorf("instrument: %q is a built-in family", d.ID)
	case c.HasFamily(d.ID, d.Version):
		return nil, fmt.Errorf("instrument: %s version %s is already defined", d.ID, d.Version)
	}
	out := c.copy()
	out.add(d.build(true), d)
	return out, nil
}

func (c *Catalogue) copy() *Catalogue {
	return &Catalogue{forms: maps.Clone(c.forms), latest: maps.Clone(c.latest), families: maps.Clone(c.families), texts: c.texts}
}

// add puts forms into c (which the caller owns), texts applied.
func (c *Catalogue) add(forms []*Form, d *Definition) {
	for _, f := range forms {
		c.applyTexts(f)
		c.forms[f.ID] = f
		if !f.Builtin {
			c.latest[f.BaseID()] = f.ID
		}
	}
	c.families[d.ID+"@"+d.Version] = true
}

// WithTexts returns a copy of c with licensed item texts read from a
// deployment-supplied JSON document of the shape
//
//	{"wai_sr_client": {"en": {"1": "text", ...}, "sv": {...}}, ...}
//
// A form's base id ("sai_client") gives texts to every version of it;
// a versioned id ("sai_client@2") to that version, over the base id's.
// Texts stay out of the repository; only a licensed deployment has them.
// The texts are kept for forms added later (With), so texts may name a
// form defined at run time; CheckTexts, once every form is known, reports
// those that name none. c is not modified.
func (c *Catalogue) WithTexts(r io.Reader) (*Catalogue, error) {
	var in map[string]map[string]map[string]string
	if err := json.NewDecoder(r).Decode(&in); err != nil {
		return nil, fmt.Errorf("instrument: texts: %w", err)
	}
	for _, id := range slices.Sorted(maps.Keys(in)) {
		for _, lang := range slices.Sorted(maps.Keys(in[id])) {
			if lang == "" {
				return nil, fmt.Errorf("instrument: texts: form %q: empty language code", id)
			}
			for _, k := range slices.Sorted(maps.Keys(in[id][lang])) {
				if key, err := strconv.Atoi(k); err != nil || key < 1 || key > MaxItems {
					return nil, fmt.Errorf("instrument: texts: form %q language %q: unknown item %q", id, lang, k)
				}
				if in[id][lang][k] == "" {
					return nil, fmt.Errorf("instrument: texts: form %q language %q: empty text for item %q", id, lang, k)
				}
			}
		}
	}
	out := c.copy()
	out.texts = in
	for id, f := range out.forms {
		g := f.clone()
		for i := range g.Items {
			g.Items[i].Text = nil
		}
		out.applyTexts(g)
		out.forms[id] = g
	}
	return out, nil
}

// CheckTexts reports the first item text that names no form of c, or an
// item no version of its form has: a typo in the text file, caught at
// start-up rather than shown as a neutral "Statement 3".
func (c *Catalogue) CheckTexts() error {
	items := map[string]int{} // form id (base and versioned) -> most items of a version
	for _, f := range c.forms {
		for _, id := range []string{f.ID, f.BaseID()} {
			items[id] = max(items[id], len(f.Items))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(c.texts)) {
		n, ok := items[id]
		if !ok {
			return fmt.Errorf("instrument: texts: unknown form %q", id)
		}
		for _, lang := range slices.Sorted(maps.Keys(c.texts[id])) {
			for _, k := range slices.Sorted(maps.Keys(c.texts[id][lang])) {
				if key, _ := strconv.Atoi(k); key > n {
					return fmt.Errorf("instrument: texts: form %q language %q: unknown item %q", id, lang, k)
				}
			}
		}
	}
	return nil
}

// applyTexts sets f's item texts from c.texts: the base id's, then the
// versioned id's over them. Items beyond f's count are skipped (another
// version of the form may have them).
func (c *Catalogue) applyTexts(f *Form) {
	ids := []string{f.BaseID()}
	if f.ID != f.BaseID() {
		ids = append(ids, f.ID)
	}
	for _, id := range ids {
		for lang, texts := range c.texts[id] {
			for k, text := range texts {
				key, _ := strconv.Atoi(k)
				if key < 1 || key > len(f.Items) {
					continue
				}
				it := &f.Items[key-1]
				if it.Text == nil {
					it.Text = make(map[string]string)
				}
				it.Text[lang] = text
			}
		}
	}
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
// agreement: the same family and version (one definition), the same
// number of items, the same subscale keys, and every pair of items with
// the same family number (Item.Parallel) in the same subscale.
func (f *Form) Parallel(g *Form) bool {
	if f.Family != g.Family || f.Version != g.Version || len(f.Items) != len(g.Items) ||
		!slices.Equal(subscaleKeys(f.Subscales), subscaleKeys(g.Subscales)) {
		return false
	}
	pair := f.Pairing(g)
	for i, j := range pair {
		if j < 0 || f.Items[i].Subscale != g.Items[j].Subscale {
			return false
		}
	}
	return true
}

// Pairing is the one place item i of f is matched with its parallel item
// of g: for each 0-based item position i of f, the position in g of the
// item with the same family number, or -1 when g has none. Between the
// client and the counsellor form of a family whose definition pairs
// client item 1 with counsellor item 2, Pairing gives 1 at position 0.
// Every item-level comparison (profile, item kappas, Krippendorff's alpha
// per item, the wide export) pairs items through it.
func (f *Form) Pairing(g *Form) []int {
	at := make(map[int]int, len(g.Items))
	for j, it := range g.Items {
		at[it.Parallel] = j
	}
	out := make([]int, len(f.Items))
	for i, it := range f.Items {
		j, ok := at[it.Parallel]
		if !ok {
			j = -1
		}
		out[i] = j
	}
	return out
}

// load parses and validates every forms/*.json file in fsys: one family
// per file, named after the family's id. They are read by ParseDefinition,
// as definitions made at run time are.
func load(fsys fs.FS) (*Catalogue, error) {
	names, err := fs.Glob(fsys, "forms/*.json")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("instrument: no form files")
	}
	c := &Catalogue{forms: map[string]*Form{}, latest: map[string]string{}, families: map[string]bool{}}
	for _, name := range names {
		d, err := loadFamily(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("instrument: %s: %w", name, err)
		}
		forms := d.build(false)
		for _, f := range forms {
			if _, dup := c.forms[f.ID]; dup {
				return nil, fmt.Errorf("instrument: %s: form %q is defined twice", name, f.ID)
			}
		}
		c.add(forms, d)
	}
	return c, nil
}

func loadFamily(fsys fs.FS, name string) (*Definition, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	d, err := ParseDefinition(data)
	if err != nil {
		return nil, err
	}
	if want := path.Base(name); d.ID+".json" != want {
		return nil, fmt.Errorf("id %q does not match file name", d.ID)
	}
	return d, nil
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
