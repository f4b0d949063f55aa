package instrument

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/alliance-project/alliance/internal/jsonfield"
)

// Definition is a family of parallel forms — a client form, a counsellor
// form or both — as JSON defines it: the built-in files in forms/ and the
// body of POST /v1/instruments alike, so there is one way to define a form.
// It holds structure and our own short labels only; item wording stays out
// (see WithTexts).
//
// Item numbers are 1-based. Each form lists its own subscales and reverse
// keys in its own numbering; Parallel says which client item pairs with
// which counsellor item (identity when omitted).
type Definition struct {
	// ID names the family, e.g. "sai"; every form id is ID + "_" + a
	// suffix without underscores ("sai_client"), so no two families can
	// claim the same form id.
	ID string `json:"id"`
	// Version names this definition of the family. A changed definition
	// is a new version; a version, once defined, never changes.
	Version     string   `json:"version"`
	Name        string   `json:"name"`
	Citation    string   `json:"citation"`
	LicenceNote string   `json:"licence_note"`
	Unverified  []string `json:"unverified,omitempty"`
	// Items is the number of items of every form of the family.
	Items          int            `json:"items"`
	Scale          DefinedScale   `json:"scale"`
	MissingPolicy  *MissingPolicy `json:"missing_policy,omitempty"`
	ClinicalCutoff *Cutoff        `json:"clinical_cutoff,omitempty"`
	Reliability    *Reliability   `json:"reliability,omitempty"`
	// Parallel pairs client item i with counsellor item j, one to one;
	// omitted means item i with item i. Only a two-form family has it.
	Parallel []ParallelPair `json:"parallel,omitempty"`
	Forms    []DefinedForm  `json:"forms"`
}

// DefinedScale is the response scale of a definition: answers lie in
// [Min, Max] on the grid Min + n·Step.
type DefinedScale struct {
	Min     float64         `json:"min"`
	Max     float64         `json:"max"`
	Step    float64         `json:"step"`
	Anchors []DefinedAnchor `json:"anchors,omitempty"`
}

// DefinedAnchor labels one point of the scale, per language code.
type DefinedAnchor struct {
	Value  float64           `json:"value"`
	Labels map[string]string `json:"labels"`
}

// Proration rules of a missing-item policy.
const (
	// ProratePersonMean scores a (sub)scale with missing items by the mean
	// of the answered ones (sum = mean × items), within the allowed
	// fraction missing.
	ProratePersonMean = "person_mean"
	// ProrateNone scores a (sub)scale only when every item is answered.
	ProrateNone = "none"
)

// MissingPolicy is a family's own missing-item rule. It can only tighten
// a study's policy: the smaller fraction wins, and either side can require
// every subscale for the total.
type MissingPolicy struct {
	// MaxMissingFraction caps the study's fraction (nil: no cap).
	MaxMissingFraction *float64 `json:"max_missing_fraction,omitempty"`
	// Prorate is ProratePersonMean (the default) or ProrateNone.
	Prorate                string `json:"prorate,omitempty"`
	TotalRequiresSubscales bool   `json:"total_requires_subscales,omitempty"`
}

// ParallelPair says client item Client and counsellor item Counsellor are
// the same question asked from either side.
type ParallelPair struct {
	Client     int `json:"client"`
	Counsellor int `json:"counsellor"`
}

// DefinedForm is one form of a family.
type DefinedForm struct {
	ID   string `json:"id"`
	Role string `json:"role"`
	// Name defaults to the family's name and the role.
	Name string `json:"name,omitempty"`
	// Citation defaults to the family's.
	Citation string `json:"citation,omitempty"`
	// Unverified is added to the family's list.
	Unverified []string `json:"unverified,omitempty"`
	// Labels are our own short labels of the items, in item order;
	// omitted means "item 1", "item 2", ….
	Labels    []string   `json:"labels,omitempty"`
	Subscales []Subscale `json:"subscales,omitempty"`
	Reverse   []int      `json:"reverse,omitempty"`
	// RuptureReference is the form's reference for the rupture alert
	// (see RuptureReference): per form, since the two sides' totals
	// spread differently.
	RuptureReference *RuptureReference `json:"rupture_reference,omitempty"`
}

// Bounds of a definition, so that a hostile one costs little to refuse.
const (
	// MaxDefinitionBytes bounds a definition's JSON.
	MaxDefinitionBytes = 64 << 10
	// MaxItems bounds the items of a form.
	MaxItems = 200
	// MaxScalePoints bounds the points of a response scale (the SRS's
	// 0–10 in 0.1 steps has 101).
	MaxScalePoints = 1001
	maxSubscales   = 50
	maxLanguages   = 20
	maxUnverified  = 50
	maxLabelRunes  = 60
	maxLabelWords  = 8
	maxTextRunes   = 2000
	maxScaleBound  = 1e6
	// maxFieldErrors bounds the errors reported for one definition.
	maxFieldErrors = 100
)

// FieldError codes of a refused definition, beside those of Validate.
const (
	CodeRequired        = "required"
	CodeInvalidValue    = "invalid_value"
	CodeTooLong         = "too_long"
	CodeUnknownItem     = "unknown_item"
	CodeDuplicateItem   = "duplicate_item"
	CodeNotInSubscale   = "not_in_subscale"
	CodeNotAboveMin     = "not_above_min"
	CodeNotOneToOne     = "not_one_to_one"
	CodeDuplicateID     = "duplicate_id"
	CodeSubscalesDiffer = "subscales_differ"
	CodeMalformed       = "malformed_definition"
	// CodeHiddenCharacter: a text holds a character it does not show as
	// it is (a rule since December 2026: see ParseStoredDefinition).
	CodeHiddenCharacter = "hidden_character"
)

var (
	familyIDPattern = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	suffixPattern   = regexp.MustCompile(`^[a-z0-9]{1,16}$`)
	versionPattern  = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.-]{0,19}$`)
	languagePattern = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$`)
	subscalePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
)

// DefinitionError lists everything wrong with a definition, each against
// the JSON path of its field (e.g. "forms[1].subscales[0].items[2]").
type DefinitionError struct {
	Fields []FieldError
}

func (e *DefinitionError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return "instrument definition: " + strings.Join(parts, "; ")
}

// ParseDefinition decodes and validates one definition: at most
// MaxDefinitionBytes of strict JSON (no unknown fields, one value), then
// every rule of Validate. Its errors are a *DefinitionError.
func ParseDefinition(data []byte) (*Definition, error) {
	return parseDefinition(data, false)
}

// ParseStoredDefinition reads a definition the service accepted earlier,
// by the rules it was accepted under: a rule added since on what texts may
// hold (CodeHiddenCharacter) must not keep a server from starting, nor a
// study from its form.
func ParseStoredDefinition(data []byte) (*Definition, error) {
	return parseDefinition(data, true)
}

func parseDefinition(data []byte, stored bool) (*Definition, error) {
	if len(data) > MaxDefinitionBytes {
		return nil, &DefinitionError{[]FieldError{{Field: "", Code: CodeTooLong,
			Message: fmt.Sprintf("a definition is at most %d bytes", MaxDefinitionBytes)}}}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var d Definition
	if err := dec.Decode(&d); err != nil {
		return nil, &DefinitionError{[]FieldError{decodeFieldError(err, data)}}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &DefinitionError{[]FieldError{{Field: "", Code: CodeMalformed, Message: "the definition must be exactly one JSON object"}}}
	}
	errs := d.Validate()
	if stored {
		errs = slices.DeleteFunc(errs, func(e FieldError) bool { return e.Code == CodeHiddenCharacter })
	}
	if len(errs) > 0 {
		return nil, &DefinitionError{errs}
	}
	d.normalize()
	return &d, nil
}

func decodeFieldError(err error, data []byte) FieldError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := jsonfield.Of(te, data)
		return FieldError{Field: field, Code: CodeMalformed, Message: fmt.Sprintf("%s: wrong type (%s)", field, te.Value)}
	}
	return FieldError{Field: "", Code: CodeMalformed, Message: err.Error()}
}

// normalize fills the defaults, so a stored definition states them.
func (d *Definition) normalize() {
	if d.MissingPolicy == nil {
		d.MissingPolicy = &MissingPolicy{}
	}
	if d.MissingPolicy.Prorate == "" {
		d.MissingPolicy.Prorate = ProratePersonMean
	}
}

// Canonical is the definition as stored: its normalized JSON.
func (d *Definition) Canonical() []byte {
	b, err := json.Marshal(d)
	if err != nil {
		panic(err) // a validated definition holds only finite numbers
	}
	return b
}

// errorList collects field errors up to maxFieldErrors.
type errorList []FieldError

func (l *errorList) add(field, code, format string, args ...any) {
	if len(*l) < maxFieldErrors {
		*l = append(*l, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
	}
}

// text checks a required or optional free text of at most max runes.
func (l *errorList) text(field, s string, required bool, max int) {
	switch n := utf8.RuneCountInString(s); {
	case strings.TrimSpace(s) == "" && required:
		l.add(field, CodeRequired, "required")
	case s != "" && strings.TrimSpace(s) == "":
		l.add(field, CodeInvalidValue, "must not be blank")
	case n > max:
		l.add(field, CodeTooLong, "at most %d characters", max)
	case strings.ContainsFunc(s, hidden):
		l.add(field, CodeHiddenCharacter, "holds a control character or an invisible one (a bidirectional override, a zero-width space); type the text plainly")
	}
}

// hidden reports a character a text shows differently from what it
// holds: a control character other than a line break or tab, a
// bidirectional override or isolate (U+202E turns "1 ,2" into "2, 1"), or
// a zero-width space or joiner-less break, which also hides words from
// the label's word count. Joiners (U+200C, U+200D) stay: scripts and
// emoji need them.
func hidden(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case unicode.IsControl(r):
		return true
	}
	switch r {
	case '\u200B', '\u200E', '\u200F', '\u2060', '\uFEFF', '\u061C',
		'\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069':
		return true
	}
	return false
}

// label checks a short label of our own: a few words, never an item's
// wording.
func (l *errorList) label(field, s string) {
	l.text(field, s, true, maxLabelRunes)
	if strings.ContainsAny(s, "\n\t") {
		l.add(field, CodeHiddenCharacter, "a label is one line")
	}
	if len(strings.Fields(s)) > maxLabelWords {
		l.add(field, CodeTooLong, "a label is a short paraphrase of at most %d words; item wording belongs in the licensed item-text file", maxLabelWords)
	}
}

func (l *errorList) unverified(field string, list []string) {
	if len(list) > maxUnverified {
		l.add(field, CodeTooLong, "at most %d entries", maxUnverified)
		return
	}
	for i, s := range list {
		l.text(fmt.Sprintf("%s[%d]", field, i), s, true, 500)
	}
}

// Validate checks every rule of a definition and returns what breaks
// them, each against its field's JSON path; nil when it is valid.
func (d *Definition) Validate() []FieldError {
	var l errorList
	switch {
	case d.ID == "":
		l.add("id", CodeRequired, "required")
	case len(d.ID) > 32 || !familyIDPattern.MatchString(d.ID):
		l.add("id", CodeInvalidValue, `a family id is 1-32 lowercase letters, digits and single underscores, starting with a letter, e.g. "sai"`)
	}
	switch {
	case d.Version == "":
		l.add("version", CodeRequired, "required")
	case !versionPattern.MatchString(d.Version):
		l.add("version", CodeInvalidValue, `a version is 1-20 letters, digits, "." and "-", e.g. "1" or "2.1"`)
	}
	l.text("name", d.Name, true, 200)
	l.text("citation", d.Citation, true, maxTextRunes)
	l.text("licence_note", d.LicenceNote, true, maxTextRunes)
	l.unverified("unverified", d.Unverified)
	itemsOK := d.Items >= 1 && d.Items <= MaxItems
	if !itemsOK {
		l.add("items", CodeOutOfRange, "a form has 1 to %d items", MaxItems)
	}
	d.validateScale(&l)
	d.validatePolicy(&l)
	if len(d.Forms) == 0 || len(d.Forms) > 2 {
		l.add("forms", CodeWrongCount, "a family has one form (a single-role instrument) or two: a client form and a counsellor form")
	}
	roles := map[string]int{}
	ids := map[string]int{}
	for i, f := range d.Forms {
		if i >= 2 {
			break
		}
		p := fmt.Sprintf("forms[%d]", i)
		switch {
		case f.Role != RoleClient && f.Role != RoleCounsellor:
			l.add(p+".role", CodeInvalidValue, `must be "client" or "counsellor"`)
		case roles[f.Role] > 0:
			l.add(p+".role", CodeDuplicateID, "two forms for the %s role", f.Role)
		}
		roles[f.Role]++
		suffix, ok := strings.CutPrefix(f.ID, d.ID+"_")
		switch {
		case f.ID == "":
			l.add(p+".id", CodeRequired, "required")
		case !ok || !suffixPattern.MatchString(suffix):
			l.add(p+".id", CodeInvalidValue, "a form id is the family id, an underscore and 1-16 lowercase letters or digits, e.g. %q", d.ID+"_client")
		case ids[f.ID] > 0:
			l.add(p+".id", CodeDuplicateID, "form id %q is used twice", f.ID)
		}
		ids[f.ID]++
		l.text(p+".name", f.Name, false, 200)
		l.text(p+".citation", f.Citation, false, maxTextRunes)
		l.unverified(p+".unverified", f.Unverified)
		if !itemsOK {
			continue
		}
		if f.Labels != nil {
			if len(f.Labels) != d.Items {
				l.add(p+".labels", CodeWrongCount, "%d labels for %d items", len(f.Labels), d.Items)
			} else {
				for j, s := range f.Labels {
					l.label(fmt.Sprintf("%s.labels[%d]", p, j), s)
				}
			}
		}
		d.validateSubscales(&l, p, f)
		if r := f.RuptureReference; r != nil {
			q := p + ".rupture_reference"
			if !(r.Alpha > 0 && r.Alpha < 1) {
				l.add(q+".alpha", CodeOutOfRange, "an alpha lies in (0, 1)")
			}
			if !isFinite(r.SD) || !(r.SD > 0) || r.SD > maxScaleBound {
				l.add(q+".sd", CodeOutOfRange, "a standard deviation of the total's item mean, > 0")
			}
			l.text(q+".source", r.Source, true, 500)
		}
		seen := map[int]bool{}
		for j, k := range f.Reverse {
			q := fmt.Sprintf("%s.reverse[%d]", p, j)
			switch {
			case k < 1 || k > d.Items:
				l.add(q, CodeUnknownItem, "item %d: the items are 1..%d", k, d.Items)
			case seen[k]:
				l.add(q, CodeDuplicateItem, "item %d is listed twice", k)
			}
			seen[k] = true
		}
	}
	if len(d.Forms) == 2 {
		if itemsOK {
			if !slices.Equal(subscaleKeys(d.Forms[0].Subscales), subscaleKeys(d.Forms[1].Subscales)) {
				l.add("forms[1].subscales", CodeSubscalesDiffer, "parallel forms have the same subscale keys")
			}
			d.validateParallel(&l)
		}
	} else if d.Parallel != nil {
		l.add("parallel", CodeInvalidValue, "only a family of two forms pairs items")
	}
	return l
}

func (d *Definition) validateScale(l *errorList) {
	s := d.Scale
	bound := func(field string, x float64) bool {
		if !isFinite(x) || math.Abs(x) > maxScaleBound {
			l.add(field, CodeOutOfRange, "must be a finite number within ±%g", float64(maxScaleBound))
			return false
		}
		return true
	}
	okMin, okMax := bound("scale.min", s.Min), bound("scale.max", s.Max)
	if okMin && okMax && !(s.Max > s.Min) {
		l.add("scale.max", CodeNotAboveMin, "max %v must be above min %v", s.Max, s.Min)
		return
	}
	if !okMin || !okMax {
		return
	}
	if !isFinite(s.Step) || !(s.Step > 0) {
		l.add("scale.step", CodeOutOfRange, "the step must be a number > 0")
		return
	}
	points := (s.Max - s.Min) / s.Step
	if points+1 > MaxScalePoints {
		l.add("scale.step", CodeOutOfRange, "a scale has at most %d points", MaxScalePoints)
		return
	}
	sc := Scale{Min: s.Min, Max: s.Max, Step: s.Step}
	if !sc.onStep(s.Max) {
		l.add("scale.step", CodeNotOnStep, "steps of %v from min %v never reach max %v", s.Step, s.Min, s.Max)
		return
	}
	if len(s.Anchors) > MaxScalePoints {
		l.add("scale.anchors", CodeTooLong, "at most one anchor per scale point")
		return
	}
	for i, a := range s.Anchors {
		p := fmt.Sprintf("scale.anchors[%d]", i)
		switch {
		case !(a.Value >= s.Min && a.Value <= s.Max) || !sc.onStep(a.Value):
			l.add(p+".value", CodeOutOfRange, "an anchor lies on a point of the scale")
		case i > 0 && !(a.Value > s.Anchors[i-1].Value):
			l.add(p+".value", CodeInvalidValue, "anchors are listed in increasing order of value")
		}
		if len(a.Labels) == 0 {
			l.add(p+".labels", CodeRequired, `a label in at least one language, e.g. {"en": "Never"}`)
		}
		if len(a.Labels) > maxLanguages {
			l.add(p+".labels", CodeTooLong, "at most %d languages", maxLanguages)
			continue
		}
		for _, lang := range slices.Sorted(maps.Keys(a.Labels)) {
			if !languagePattern.MatchString(lang) {
				l.add(p+".labels."+lang, CodeInvalidValue, `a language code such as "en" or "sv"`)
				continue
			}
			l.label(p+".labels."+lang, a.Labels[lang])
		}
	}
}

func (d *Definition) validatePolicy(l *errorList) {
	if mp := d.MissingPolicy; mp != nil {
		if f := mp.MaxMissingFraction; f != nil && !(*f >= 0 && *f < 1) {
			l.add("missing_policy.max_missing_fraction", CodeOutOfRange, "a fraction in [0, 1)")
		}
		switch mp.Prorate {
		case "", ProratePersonMean:
		case ProrateNone:
			if f := mp.MaxMissingFraction; f != nil && *f > 0 {
				l.add("missing_policy.max_missing_fraction", CodeInvalidValue, `prorate "none" scores complete (sub)scales only; leave the fraction out or 0`)
			}
		default:
			l.add("missing_policy.prorate", CodeInvalidValue, `must be %q or %q`, ProratePersonMean, ProrateNone)
		}
	}
	s := d.Scale
	if c := d.ClinicalCutoff; c != nil {
		lo, hi := s.Min, s.Max
		switch c.Metric {
		case MetricSum:
			lo, hi = lo*float64(d.Items), hi*float64(d.Items)
			fallthrough
		case MetricItemMean:
			if !(c.Value > lo && c.Value <= hi) {
				l.add("clinical_cutoff.value", CodeOutOfRange, "a cut-off of the total lies in (%v, %v] on the %s metric", lo, hi, c.Metric)
			}
		default:
			l.add("clinical_cutoff.metric", CodeInvalidValue, "must be %q or %q", MetricSum, MetricItemMean)
		}
		l.text("clinical_cutoff.source", c.Source, true, 500)
	}
	if r := d.Reliability; r != nil {
		if !(r.Value > 0 && r.Value < 1) {
			l.add("reliability.value", CodeOutOfRange, "a reliability lies in (0, 1)")
		}
		l.text("reliability.kind", r.Kind, true, 40)
		l.text("reliability.source", r.Source, true, 500)
	}
}

// validateSubscales: subscales have distinct keys and labels, their item
// lists neither overlap nor leave an item out.
func (d *Definition) validateSubscales(l *errorList, p string, f DefinedForm) {
	if len(f.Subscales) > maxSubscales {
		l.add(p+".subscales", CodeTooLong, "at most %d subscales", maxSubscales)
		return
	}
	owner := map[int]string{}
	keys := map[string]bool{}
	for j, sub := range f.Subscales {
		q := fmt.Sprintf("%s.subscales[%d]", p, j)
		switch {
		case sub.Key == "":
			l.add(q+".key", CodeRequired, "required")
		case sub.Key == ScaleTotal || !subscalePattern.MatchString(sub.Key):
			l.add(q+".key", CodeInvalidValue, `a subscale key is lowercase letters, digits and underscores, e.g. "goal"; "total" is taken`)
		case keys[sub.Key]:
			l.add(q+".key", CodeDuplicateID, "subscale %q is defined twice", sub.Key)
		}
		keys[sub.Key] = true
		l.label(q+".label", sub.Label)
		if len(sub.Items) == 0 {
			l.add(q+".items", CodeRequired, "a subscale has at least one item")
		}
		for m, k := range sub.Items {
			r := fmt.Sprintf("%s.items[%d]", q, m)
			if k < 1 || k > d.Items {
				l.add(r, CodeUnknownItem, "item %d: the items are 1..%d", k, d.Items)
				continue
			}
			if o, dup := owner[k]; dup {
				l.add(r, CodeDuplicateItem, "item %d is in subscales %q and %q: subscales do not overlap", k, o, sub.Key)
				continue
			}
			owner[k] = sub.Key
		}
	}
	if len(f.Subscales) > 0 {
		var missing []string
		for k := 1; k <= d.Items; k++ {
			if _, ok := owner[k]; !ok {
				missing = append(missing, fmt.Sprint(k))
			}
		}
		if len(missing) > 0 {
			l.add(p+".subscales", CodeNotInSubscale, "items %s are in no subscale: with subscales, every item is in exactly one", strings.Join(missing, ", "))
		}
	}
}

// validateParallel: the pairs map the client form's items one to one onto
// the counsellor form's, each pair within one subscale.
func (d *Definition) validateParallel(l *errorList) {
	client, counsellor := d.Forms[0], d.Forms[1]
	if client.Role == RoleCounsellor {
		client, counsellor = counsellor, client
	}
	if d.Parallel == nil {
		// Item i with item i: then item i is in one subscale on both forms.
		cs, ts := subscaleOf(client), subscaleOf(counsellor)
		for k := 1; k <= d.Items; k++ {
			if cs[k] != ts[k] {
				l.add("parallel", CodeSubscalesDiffer, "without a parallel map item %d pairs with item %d, but it is in subscale %q on the client form and %q on the counsellor form: give the map",
					k, k, cs[k], ts[k])
				return
			}
		}
		return
	}
	if len(d.Parallel) != d.Items {
		l.add("parallel", CodeWrongCount, "%d pairs for %d items: every item of each form pairs exactly once", len(d.Parallel), d.Items)
	}
	cs, ts := subscaleOf(client), subscaleOf(counsellor)
	seenC, seenT := map[int]int{}, map[int]int{}
	for k, pr := range d.Parallel {
		p := fmt.Sprintf("parallel[%d]", k)
		okC, okT := pr.Client >= 1 && pr.Client <= d.Items, pr.Counsellor >= 1 && pr.Counsellor <= d.Items
		if !okC {
			l.add(p+".client", CodeUnknownItem, "item %d: the items are 1..%d", pr.Client, d.Items)
		} else if j, dup := seenC[pr.Client]; dup {
			l.add(p+".client", CodeNotOneToOne, "client item %d is paired twice (also in parallel[%d])", pr.Client, j)
		}
		if !okT {
			l.add(p+".counsellor", CodeUnknownItem, "item %d: the items are 1..%d", pr.Counsellor, d.Items)
		} else if j, dup := seenT[pr.Counsellor]; dup {
			l.add(p+".counsellor", CodeNotOneToOne, "counsellor item %d is paired twice (also in parallel[%d])", pr.Counsellor, j)
		}
		if okC && okT && cs[pr.Client] != ts[pr.Counsellor] {
			l.add(p, CodeSubscalesDiffer, "client item %d (subscale %q) and counsellor item %d (subscale %q): parallel items share their subscale",
				pr.Client, cs[pr.Client], pr.Counsellor, ts[pr.Counsellor])
		}
		if okC {
			if _, dup := seenC[pr.Client]; !dup {
				seenC[pr.Client] = k
			}
		}
		if okT {
			if _, dup := seenT[pr.Counsellor]; !dup {
				seenT[pr.Counsellor] = k
			}
		}
	}
}

func subscaleOf(f DefinedForm) map[int]string {
	out := map[int]string{}
	for _, s := range f.Subscales {
		for _, k := range s.Items {
			out[k] = s.Key
		}
	}
	return out
}

func subscaleKeys(ss []Subscale) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Key
	}
	slices.Sort(out)
	return out
}

// build turns a valid definition into its forms. versioned gives every
// form the id "<form id>@<version>", as forms defined at run time have, so
// a study that names one keeps that definition whatever versions follow;
// the built-in forms keep their plain ids.
func (d *Definition) build(versioned bool) []*Form {
	policy := d.MissingPolicy
	if policy == nil {
		policy = &MissingPolicy{}
	}
	scale := Scale{Min: d.Scale.Min, Max: d.Scale.Max, Step: d.Scale.Step, Anchors: []Anchor{}}
	for _, a := range d.Scale.Anchors {
		label := a.Labels["en"]
		if label == "" {
			label = a.Labels[slices.Min(slices.Collect(maps.Keys(a.Labels)))]
		}
		scale.Anchors = append(scale.Anchors, Anchor{Value: a.Value, Label: label, Labels: maps.Clone(a.Labels)})
	}
	// pair[role][item] is the client item an item of that role pairs with.
	pair := map[string][]int{}
	for _, f := range d.Forms {
		pair[f.Role] = make([]int, d.Items+1)
		for k := 1; k <= d.Items; k++ {
			pair[f.Role][k] = k
		}
	}
	if len(d.Forms) == 2 {
		for _, pr := range d.Parallel {
			pair[RoleCounsellor][pr.Counsellor] = pr.Client
		}
	}
	out := make([]*Form, 0, len(d.Forms))
	for _, df := range d.Forms {
		f := &Form{
			ID: df.ID, Family: d.ID, Name: cmp.Or(df.Name, d.Name+" ("+df.Role+")"), Role: df.Role, Version: d.Version,
			Citation: cmp.Or(df.Citation, d.Citation), LicenceNote: d.LicenceNote,
			Scale:                  cloneScale(scale),
			Items:                  make([]Item, d.Items),
			Subscales:              []Subscale{},
			Prorate:                cmp.Or(policy.Prorate, ProratePersonMean),
			Unverified:             append(slices.Clone(d.Unverified), df.Unverified...),
			Builtin:                !versioned,
			TotalRequiresSubscales: policy.TotalRequiresSubscales,
		}
		if f.Unverified == nil {
			f.Unverified = []string{}
		}
		if versioned {
			f.ID += "@" + d.Version
		}
		if v := policy.MaxMissingFraction; v != nil {
			f.MaxMissingFraction = new(*v)
		}
		if c := d.ClinicalCutoff; c != nil {
			f.ClinicalCutoff = new(*c)
		}
		if r := d.Reliability; r != nil {
			f.Reliability = new(*r)
		}
		if r := df.RuptureReference; r != nil {
			f.RuptureReference = new(*r)
		}
		for i := range f.Items {
			it := Item{Key: i + 1, Label: fmt.Sprintf("item %d", i+1), Parallel: pair[df.Role][i+1]}
			if df.Labels != nil {
				it.Label = df.Labels[i]
			}
			it.Reverse = slices.Contains(df.Reverse, i+1)
			f.Items[i] = it
		}
		for _, s := range df.Subscales {
			f.Subscales = append(f.Subscales, Subscale{Key: s.Key, Label: s.Label, Items: slices.Clone(s.Items)})
			for _, k := range s.Items {
				f.Items[k-1].Subscale = s.Key
			}
		}
		out = append(out, f)
	}
	return out
}

func cloneScale(s Scale) Scale {
	s.Anchors = slices.Clone(s.Anchors)
	for i := range s.Anchors {
		s.Anchors[i].Labels = maps.Clone(s.Anchors[i].Labels)
	}
	return s
}
