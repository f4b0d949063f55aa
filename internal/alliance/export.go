package alliance

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/alliance-project/alliance/internal/instrument"
)

// Export shapes: long is one row per rating (tidy data for R and pandas),
// wide is one row per dyad session with both sides beside each other
// (ready for APIM and response-surface models).
const (
	ShapeLong = "long"
	ShapeWide = "wide"
)

// ExportQuery selects what an export holds.
type ExportQuery struct {
	Shape        string
	Items        bool // one column per raw answer
	Scores       bool // mean, sum, answered, prorated per scale
	UpdatedSince *time.Time
}

// ExportRow is one current rating with the codes of its dyad, as the store
// streams it for exports. A streamed row, with its answers, scores, date
// and withdrawal, is only valid while the callback it was passed to runs:
// the store decodes the next row into the same storage (see
// Store.StreamStudyRatings). Strings may be kept; copy anything else.
type ExportRow struct {
	Rating         Rating
	ClientCode     string
	CounsellorCode string
	// Withdrawal is the dyad's, when consent was withdrawn.
	Withdrawal *Withdrawal
}

// Column describes one export column for the codebook.
type Column struct {
	Name        string
	Type        string // "string", "integer", "number", "boolean", "date", "datetime"
	Description string
	// Values labels the values of a categorical column ("1=Seldom;
	// 2=Sometimes"), for R factors and SPSS value labels; "" otherwise.
	Values string
}

func col(name, typ, description string) Column {
	return Column{Name: name, Type: typ, Description: description}
}

// Table is an export's column set plus a producer of its rows. Rows calls
// emit once per row with its values in column order; the slice and its
// values are reused for the next row, so emit writes them out and keeps
// nothing (an export is streamed: 200,000 ratings must not cost 200,000
// allocations per column).
type Table struct {
	Columns []Column
	Rows    func(ctx context.Context, emit func([]Value) error) error
}

// ValueKind says what a Value holds.
type ValueKind uint8

// The kinds of export values. The zero Value is missing.
const (
	Missing   ValueKind = iota
	Text                // Value.Text
	Integer             // Value.Int
	Number              // Value.Num
	Boolean             // Value.Bool
	DateOnly            // Value.Time is a calendar date, written YYYY-MM-DD
	Timestamp           // Value.Time in UTC, written in RFC 3339 with the fraction it has
)

// Value is one cell of an export row. It is a plain struct rather than an
// interface value so that a row of 40 cells costs no allocation.
type Value struct {
	Kind ValueKind
	Bool bool
	Int  int
	Num  float64
	Text string
	Time time.Time
}

// TextValue, IntValue, … build the Values of each kind.
func TextValue(s string) Value { return Value{Kind: Text, Text: s} }

// IntValue is an integer cell.
func IntValue(n int) Value { return Value{Kind: Integer, Int: n} }

// NumberValue is a number cell.
func NumberValue(x float64) Value { return Value{Kind: Number, Num: x} }

// BoolValue is a boolean cell.
func BoolValue(b bool) Value { return Value{Kind: Boolean, Bool: b} }

// numberOrMissing is *p, or missing when p is nil.
func numberOrMissing(p *float64) Value {
	if p == nil {
		return Value{}
	}
	return NumberValue(*p)
}

// ParseExportQuery validates the export parameters, naming the query
// parameter at fault.
func ParseExportQuery(shape, include string, updatedSince *time.Time) (ExportQuery, error) {
	var fe fieldErrors
	q := ExportQuery{Shape: shape, UpdatedSince: updatedSince}
	switch shape {
	case "":
		q.Shape = ShapeLong
	case ShapeLong, ShapeWide:
	default:
		fe.add("shape", "invalid_value", `must be "long" or "wide"`)
	}
	if include == "" {
		include = "scores"
	}
	for _, part := range strings.Split(include, ",") {
		switch strings.TrimSpace(part) {
		case "items":
			q.Items = true
		case "scores":
			q.Scores = true
		default:
			fe.add("include", "invalid_value", `a comma-separated list of "items" and "scores"`)
		}
	}
	return q, fe.err()
}

// ExportStudy describes and produces a study's export. The column set
// depends only on the study's forms and the query, never on the data, so
// scripts that read it keep working as the study grows. Rows are streamed
// from the store: memory stays flat whatever the study's size.
func (s *Service) ExportStudy(ctx context.Context, studyID string, q ExportQuery) (Table, error) {
	st, err := s.FindStudyByID(ctx, studyID)
	if err != nil {
		return Table{}, err
	}
	form, err := s.exportForm(ctx, st)
	if err != nil {
		return Table{}, err
	}
	forms, err := s.studyForms(ctx, st)
	if err != nil {
		return Table{}, err
	}
	ex := exporter{study: st, form: form, scales: form.Scales(), q: q, forms: forms, items: map[Role][]int{}}
	for role, f := range forms {
		ex.items[role] = form.Pairing(f)
	}
	stream := func(ctx context.Context, fn func(ExportRow) error) error {
		return s.store.StreamStudyRatings(ctx, st.ID, q.UpdatedSince, q.Shape == ShapeWide, fn)
	}
	if q.Shape == ShapeWide {
		cols := ex.wideColumns()
		return Table{Columns: cols, Rows: func(ctx context.Context, emit func([]Value) error) error {
			return ex.wideRows(ctx, stream, make([]Value, 0, len(cols)), emit)
		}}, nil
	}
	cols := ex.longColumns()
	return Table{Columns: cols, Rows: func(ctx context.Context, emit func([]Value) error) error {
		row := make([]Value, 0, len(cols))
		return stream(ctx, func(r ExportRow) error { return emit(ex.longRow(row, &r)) })
	}}, nil
}

// exportForm returns the form whose scales and item numbers fix the
// column set: the client's when the client rates (the family's numbering),
// else the counsellor's.
func (s *Service) exportForm(ctx context.Context, st Study) (*instrument.Form, error) {
	for _, role := range Roles {
		if id, ok := st.Forms[role]; ok {
			return s.FindForm(ctx, id)
		}
	}
	return nil, fmt.Errorf("study %s names no form: %w", st.ID, ErrNotFound)
}

// exporter writes a study's rows. Item columns follow the family's item
// numbering (the client form's): item_k of a counsellor row holds the
// counsellor's answer to the item parallel to client item k, so item
// columns pair across roles by name in both shapes, whatever the
// definition's parallel map.
type exporter struct {
	study  Study
	form   *instrument.Form
	scales []string // form.Scales(), computed once
	q      ExportQuery
	// forms are the study's forms by role; items[role][k] is the position,
	// on that role's form, of the item parallel to item k of form (-1:
	// none).
	forms map[Role]*instrument.Form
	items map[Role][]int
}

func (ex exporter) idColumns() []Column {
	return []Column{
		col("study_id", "string", "study id"),
		col("dyad_id", "string", "dyad id"),
		col("client_code", "string", "pseudonymous client code"),
		col("counsellor_code", "string", "pseudonymous counsellor code (dyads are nested in counsellors)"),
		col("session", "integer", "session number of the dyad, from 1"),
	}
}

// scoreColumns are the score columns of one scale, prefixed (e.g.
// "client_goal") in the wide shape.
func (ex exporter) scoreColumns(prefix, who string) []Column {
	var out []Column
	for _, sc := range ex.form.Scales() {
		out = append(out,
			col(prefix+sc+"_mean", "number", who+sc+" score, mean of answered items (item metric "+scaleRange(ex.form)+"); missing when too many items are unanswered"),
			col(prefix+sc+"_sum", "number", who+sc+" score, sum (prorated as mean × items when items are missing)"),
			col(prefix+sc+"_answered", "integer", who+"number of answered items of "+sc),
			col(prefix+sc+"_prorated", "boolean", who+sc+" scored with missing items; FALSE also when it has no score (see _mean)"),
		)
	}
	return out
}

// itemColumns describes one column per item of the family's numbering,
// answered from roles (one role in the wide shape, the study's roles in
// the long one). Where a role's form numbers the item otherwise, or words
// it otherwise (the WAI-SR's therapist form: "I like the client" for the
// client's "feels liked"), the description names each role's item. A
// role the study has no form for
// (the wide shape's counsellor of a client-only study) keeps its columns,
// so that the wide shape is the same for every study, always missing.
func (ex exporter) itemColumns(prefix, who string, roles ...Role) []Column {
	var labels []string
	for _, a := range ex.form.Scale.Anchors {
		labels = append(labels, fmt.Sprintf("%g=%s", a.Value, a.Label))
	}
	out := make([]Column, len(ex.form.Items))
	for k, it := range ex.form.Items {
		desc := fmt.Sprintf("%sraw answer to item %d (%s)", who, it.Key, itemNote(it))
		var parts []string
		identity, same, missing := true, true, "; missing when unanswered"
		for _, role := range roles {
			f := ex.forms[role]
			if f == nil {
				desc, missing = fmt.Sprintf("%sraw answer to item %d: none, the study has no %s form", who, it.Key, role), "; always missing"
				continue
			}
			j := ex.items[role][k]
			identity = identity && j == k
			if j >= 0 {
				parts = append(parts, fmt.Sprintf("%s item %d (%s)", role, f.Items[j].Key, itemNote(f.Items[j])))
				same = same && itemNote(f.Items[j]) == itemNote(it)
			}
		}
		switch {
		case !identity:
			desc = fmt.Sprintf("%sraw answer to the item parallel to %s item %d: %s", who, ex.form.Role, it.Key, strings.Join(parts, "; "))
		case !same:
			desc = fmt.Sprintf("%sraw answer to item %d: %s", who, it.Key, strings.Join(parts, "; "))
		}
		out[k] = col(fmt.Sprintf("%sitem_%d", prefix, it.Key), "number", desc+missing)
		out[k].Values = strings.Join(labels, "; ")
	}
	return out
}

// itemNote is an item's label, subscale and reverse key for the codebook.
func itemNote(it instrument.Item) string {
	note := it.Label
	if it.Subscale != "" {
		note += "; " + it.Subscale
	}
	if it.Reverse {
		note += "; reverse-keyed: scored as min + max − answer"
	}
	return note
}

func (ex exporter) longColumns() []Column {
	cols := append(ex.idColumns(),
		col("session_date", "date", "date of the session (ISO 8601), when given"),
		Column{Name: "role", Type: "string", Description: "who rated: client or counsellor", Values: "client=client; counsellor=counsellor"},
		col("instrument", "string", "instrument form id"),
		col("rating_id", "string", "id of this version of the rating"),
		col("version", "integer", "rating version (1 = first submission; higher = amended, or rated again after a void)"),
		col("updated_at", "datetime", "when this version was stored (RFC 3339, UTC, six fractional digits)"),
		col("scoring_version", "string", "the scoring rules and the form definition that scored the rating, e.g. 1/wai_sr_client@1"),
		col("max_missing_fraction", "number", "largest share of a scale's items that may be unanswered for it to be scored, as the scores applied it: the smaller of the study's policy and the form's own cap (0 for a form scored only when complete)"),
	)
	cols = append(cols, withdrawalColumns...)
	if ex.q.Scores {
		cols = append(cols, ex.scoreColumns("", "")...)
	}
	if ex.q.Items {
		cols = append(cols, ex.itemColumns("", "", ex.roles()...)...)
	}
	return cols
}

// longRow writes the cells of one rating over row, reusing its storage.
func (ex exporter) longRow(row []Value, r *ExportRow) []Value {
	ra := &r.Rating
	row = append(row[:0], TextValue(ex.study.ID), TextValue(ra.DyadID), TextValue(r.ClientCode), TextValue(r.CounsellorCode),
		IntValue(ra.Session), dateValue(ra.SessionDate), TextValue(string(ra.Role)), TextValue(ra.FormID), TextValue(ra.ID),
		IntValue(ra.Version), Value{Kind: Timestamp, Time: ra.CreatedAt}, TextValue(ra.ScoringVersion),
		NumberValue(ra.Policy.MaxMissingFraction))
	row = appendWithdrawal(row, r.Withdrawal)
	if ex.q.Scores {
		row = ex.appendScores(row, ra)
	}
	if ex.q.Items {
		row = ex.appendItems(row, ra)
	}
	return row
}

func (ex exporter) wideColumns() []Column {
	cols := append(ex.idColumns(),
		col("session_date", "date", "date of the session (the client's, else the counsellor's), when given; the long shape has each side's"),
		col("complete", "boolean", "both sides rated the session"),
		col("client_instrument", "string", "client's form id"),
		col("counsellor_instrument", "string", "counsellor's form id"),
		col("updated_at", "datetime", "latest store time of the two ratings (RFC 3339, UTC, six fractional digits)"),
	)
	cols = append(cols, withdrawalColumns...)
	if ex.q.Scores {
		cols = append(cols, ex.scoreColumns("client_", "client's ")...)
		cols = append(cols, ex.scoreColumns("counsellor_", "counsellor's ")...)
		for _, sc := range ex.scales {
			cols = append(cols, col("diff_"+sc, "number", "client − counsellor "+sc+" score (item metric), each score the mean of the items that side answered, as scales[].difference in the agreement responses; missing unless both are scored"))
		}
	}
	if ex.q.Items {
		cols = append(cols, ex.itemColumns("client_", "client's ", RoleClient)...)
		cols = append(cols, ex.itemColumns("counsellor_", "counsellor's ", RoleCounsellor)...)
	}
	return cols
}

// wideRows groups the stream (ordered by dyad, session, role) into one row
// per dyad session. The rows of a session are copied as they arrive: the
// stream reuses its row, and a session is only known to be complete when
// the next one begins.
func (ex exporter) wideRows(ctx context.Context, stream func(context.Context, func(ExportRow) error) error, row []Value, emit func([]Value) error) error {
	var client, counsellor keptRating
	var cur *keptRating // the latest row kept, nil before the first
	flush := func() error {
		if cur == nil {
			return nil
		}
		return emit(ex.wideRow(row, cur, client.orNil(), counsellor.orNil()))
	}
	err := stream(ctx, func(r ExportRow) error {
		if cur != nil && (cur.r.Rating.DyadID != r.Rating.DyadID || cur.r.Rating.Session != r.Rating.Session) {
			if err := flush(); err != nil {
				return err
			}
			client.used, counsellor.used = false, false
		}
		cur = &counsellor
		if r.Rating.Role == RoleClient {
			cur = &client
		}
		cur.keep(&r)
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// wideRow writes the cells of one dyad session over row; cur is the
// session's latest rating (for the dyad's codes and withdrawal), client
// and counsellor its two sides, nil when not rated.
func (ex exporter) wideRow(row []Value, cur *keptRating, client, counsellor *Rating) []Value {
	date, updated := Value{}, time.Time{}
	for _, ra := range []*Rating{counsellor, client} {
		if ra == nil {
			continue
		}
		if ra.SessionDate != nil {
			date = dateValue(ra.SessionDate)
		}
		if ra.CreatedAt.After(updated) {
			updated = ra.CreatedAt
		}
	}
	r := &cur.r
	row = append(row[:0], TextValue(ex.study.ID), TextValue(r.Rating.DyadID), TextValue(r.ClientCode), TextValue(r.CounsellorCode),
		IntValue(r.Rating.Session), date, BoolValue(client != nil && counsellor != nil), formOf(client), formOf(counsellor),
		Value{Kind: Timestamp, Time: updated})
	row = appendWithdrawal(row, r.Withdrawal)
	if ex.q.Scores {
		row = ex.appendScores(row, client)
		row = ex.appendScores(row, counsellor)
		for _, sc := range ex.scales {
			row = append(row, scoreDifference(sc, client, counsellor))
		}
	}
	if ex.q.Items {
		row = ex.appendItems(row, client)
		row = ex.appendItems(row, counsellor)
	}
	return row
}

// scoreDifference is client − counsellor on one scale, computed as
// scaleDifference computes it, and missing unless both sides are scored.
func scoreDifference(scale string, client, counsellor *Rating) Value {
	if client == nil || counsellor == nil {
		return Value{}
	}
	c, t := client.Scores.Of(scale).Mean, counsellor.Scores.Of(scale).Mean
	if c == nil || t == nil {
		return Value{}
	}
	return NumberValue(*c - *t)
}

// appendScores adds the four score columns of every scale; a nil rating
// (the side that has not rated) gives missing values.
func (ex exporter) appendScores(row []Value, r *Rating) []Value {
	for _, sc := range ex.scales {
		if r == nil {
			row = append(row, Value{}, Value{}, Value{}, Value{})
			continue
		}
		s := r.Scores.Of(sc)
		row = append(row, numberOrMissing(s.Mean), numberOrMissing(s.Sum), IntValue(s.Answered), BoolValue(s.Prorated))
	}
	return row
}

// appendItems adds r's raw answers in the family's item order (see
// exporter); a nil rating gives missing values.
func (ex exporter) appendItems(row []Value, r *Rating) []Value {
	for k := range ex.form.Items {
		if r == nil {
			row = append(row, Value{})
			continue
		}
		j := k
		if pos, ok := ex.items[r.Role]; ok {
			j = pos[k]
		}
		if j < 0 || j >= len(r.Answers) {
			row = append(row, Value{})
			continue
		}
		row = append(row, numberOrMissing(r.Answers[j]))
	}
	return row
}

// roles are the study's rating roles in canonical order.
func (ex exporter) roles() []Role {
	var out []Role
	for _, role := range Roles {
		if ex.forms[role] != nil {
			out = append(out, role)
		}
	}
	return out
}

// withdrawalColumns mark the rows of a dyad whose consent was withdrawn:
// its data given before are kept, and an analysis may want to leave them
// out or look at them apart.
var withdrawalColumns = []Column{
	col("withdrawn_at", "datetime", "when consent for the dyad was withdrawn (RFC 3339, UTC); missing unless withdrawn"),
	{Name: "withdrawal_scope", Type: "string", Description: "whose consent was withdrawn: client, counsellor or both; missing unless withdrawn",
		Values: "client=client; counsellor=counsellor; both=both"},
}

func appendWithdrawal(row []Value, w *Withdrawal) []Value {
	if w == nil {
		return append(row, Value{}, Value{})
	}
	return append(row, Value{Kind: Timestamp, Time: w.At}, TextValue(w.Scope))
}

func formOf(r *Rating) Value {
	if r == nil {
		return Value{}
	}
	return TextValue(r.FormID)
}

func dateValue(d *Date) Value {
	if d == nil {
		return Value{}
	}
	return Value{Kind: DateOnly, Time: d.Time}
}

func scaleRange(f *instrument.Form) string {
	return fmt.Sprintf("%g–%g", f.Scale.Min, f.Scale.Max)
}

// keptRating is a copy of a streamed row that outlives its callback, in
// storage reused from one dyad session to the next: the wide shape holds
// a session's rows until it has seen the next session's first.
type keptRating struct {
	r    ExportRow
	used bool // r holds a row of the current session
	// The copy's own storage: answers, the scores' means and sums, the
	// subscales, the date and the withdrawal.
	answers    []*float64
	values     []float64
	subscales  map[string]Score
	date       Date
	withdrawal Withdrawal
}

// keep copies src into k's storage.
func (k *keptRating) keep(src *ExportRow) {
	k.used = true
	k.r = *src
	ra := &k.r.Rating
	// Room for every float first: the pointers handed out point into
	// values, which must not move while they are copied.
	if need := len(src.Rating.Answers) + 2*(1+len(src.Rating.Scores.Subscales)); cap(k.values) < need {
		k.values = make([]float64, 0, need)
	}
	k.values = k.values[:0]
	k.answers = k.answers[:0]
	for _, a := range src.Rating.Answers {
		k.answers = append(k.answers, k.copyFloat(a))
	}
	ra.Answers = k.answers
	if k.subscales == nil {
		k.subscales = make(map[string]Score, len(src.Rating.Scores.Subscales))
	}
	clear(k.subscales)
	for name, sc := range src.Rating.Scores.Subscales {
		k.subscales[name] = k.copyScore(sc)
	}
	ra.Scores = Scores{Total: k.copyScore(src.Rating.Scores.Total), Subscales: k.subscales}
	if src.Rating.SessionDate != nil {
		k.date = *src.Rating.SessionDate
		ra.SessionDate = &k.date
	}
	if src.Withdrawal != nil {
		k.withdrawal = *src.Withdrawal
		k.r.Withdrawal = &k.withdrawal
	}
}

// copyFloat copies *p into k's storage (sized by keep); nil stays nil.
func (k *keptRating) copyFloat(p *float64) *float64 {
	if p == nil {
		return nil
	}
	k.values = append(k.values, *p)
	return &k.values[len(k.values)-1]
}

func (k *keptRating) copyScore(sc Score) Score {
	sc.Mean, sc.Sum = k.copyFloat(sc.Mean), k.copyFloat(sc.Sum)
	return sc
}

// orNil is the kept rating, nil when the current session has none.
func (k *keptRating) orNil() *Rating {
	if !k.used {
		return nil
	}
	return &k.r.Rating
}
