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
// streams it for exports.
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

// Table is an export's column set plus a producer of its rows. Values are
// nil (missing), string, int, float64 or bool, in column order.
type Table struct {
	Columns []Column
	Rows    func(ctx context.Context, emit func([]any) error) error
}

// ParseExportQuery validates the export parameters, naming the query
// parameter at fault.
func ParseExportQuery(shape, include, updatedSince string) (ExportQuery, error) {
	var fe fieldErrors
	q := ExportQuery{Shape: shape}
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
	if updatedSince != "" {
		t, err := time.Parse(time.RFC3339Nano, updatedSince)
		if err != nil {
			fe.add("updated_since", "invalid_value", "must be an RFC 3339 time, e.g. 2026-11-23T00:00:00Z")
		} else {
			t = t.UTC()
			q.UpdatedSince = &t
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
	ex := exporter{study: st, form: form, q: q, forms: map[Role]*instrument.Form{}, items: map[Role][]int{}}
	for _, role := range Roles {
		if id, ok := st.Forms[role]; ok {
			if ex.forms[role], err = s.FindForm(ctx, id); err != nil {
				return Table{}, err
			}
			ex.items[role] = form.Pairing(ex.forms[role])
		}
	}
	stream := func(ctx context.Context, fn func(ExportRow) error) error {
		return s.store.StreamStudyRatings(ctx, st.ID, q.UpdatedSince, q.Shape == ShapeWide, fn)
	}
	if q.Shape == ShapeWide {
		return Table{Columns: ex.wideColumns(), Rows: func(ctx context.Context, emit func([]any) error) error {
			return ex.wideRows(ctx, stream, emit)
		}}, nil
	}
	return Table{Columns: ex.longColumns(), Rows: func(ctx context.Context, emit func([]any) error) error {
		return stream(ctx, func(r ExportRow) error { return emit(ex.longRow(r)) })
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
	study Study
	form  *instrument.Form
	q     ExportQuery
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
			col(prefix+sc+"_prorated", "boolean", who+sc+" scored with missing items"),
		)
	}
	return out
}

// itemColumns describes one column per item of the family's numbering,
// answered from roles (one role in the wide shape, the study's roles in
// the long one). Where a role's form numbers the item otherwise, the
// description names each role's item.
func (ex exporter) itemColumns(prefix, who string, roles ...Role) []Column {
	var labels []string
	for _, a := range ex.form.Scale.Anchors {
		labels = append(labels, fmt.Sprintf("%g=%s", a.Value, a.Label))
	}
	out := make([]Column, len(ex.form.Items))
	for k, it := range ex.form.Items {
		desc := fmt.Sprintf("%sraw answer to item %d (%s)", who, it.Key, itemNote(it))
		var parts []string
		identity := true
		for _, role := range roles {
			f, j := ex.forms[role], ex.items[role][k]
			identity = identity && j == k
			if j >= 0 {
				parts = append(parts, fmt.Sprintf("%s item %d (%s)", role, f.Items[j].Key, itemNote(f.Items[j])))
			}
		}
		if !identity {
			desc = fmt.Sprintf("%sraw answer to the item parallel to %s item %d: %s", who, ex.form.Role, it.Key, strings.Join(parts, "; "))
		}
		out[k] = col(fmt.Sprintf("%sitem_%d", prefix, it.Key), "number", desc+"; missing when unanswered")
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
		col("version", "integer", "rating version (1 = first submission; higher = amended)"),
		col("updated_at", "datetime", "when this version was stored (RFC 3339, UTC)"),
		col("scoring_version", "string", "the scoring rules and the form definition that scored the rating, e.g. 1/wai_sr_client@1"),
		col("max_missing_fraction", "number", "missing-item policy the scores were computed with"),
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

func (ex exporter) longRow(r ExportRow) []any {
	ra := r.Rating
	row := []any{ex.study.ID, ra.DyadID, r.ClientCode, r.CounsellorCode, ra.Session, dateValue(ra.SessionDate),
		string(ra.Role), ra.FormID, ra.ID, ra.Version, ra.CreatedAt.Format(time.RFC3339Nano),
		ra.ScoringVersion, ra.Policy.MaxMissingFraction}
	row = appendWithdrawal(row, r.Withdrawal)
	if ex.q.Scores {
		row = ex.appendScores(row, &ra)
	}
	if ex.q.Items {
		row = ex.appendItems(row, &ra)
	}
	return row
}

func (ex exporter) wideColumns() []Column {
	cols := append(ex.idColumns(),
		col("session_date", "date", "date of the session (the client's, else the counsellor's), when given"),
		col("complete", "boolean", "both sides rated the session"),
		col("client_instrument", "string", "client's form id"),
		col("counsellor_instrument", "string", "counsellor's form id"),
		col("updated_at", "datetime", "latest store time of the two ratings (RFC 3339, UTC)"),
	)
	cols = append(cols, withdrawalColumns...)
	if ex.q.Scores {
		cols = append(cols, ex.scoreColumns("client_", "client's ")...)
		cols = append(cols, ex.scoreColumns("counsellor_", "counsellor's ")...)
		for _, sc := range ex.form.Scales() {
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
// per dyad session.
func (ex exporter) wideRows(ctx context.Context, stream func(context.Context, func(ExportRow) error) error, emit func([]any) error) error {
	var cur *ExportRow
	var pair [2]*Rating // client, counsellor
	flush := func() error {
		if cur == nil {
			return nil
		}
		return emit(ex.wideRow(*cur, pair[0], pair[1]))
	}
	err := stream(ctx, func(r ExportRow) error {
		if cur != nil && (cur.Rating.DyadID != r.Rating.DyadID || cur.Rating.Session != r.Rating.Session) {
			if err := flush(); err != nil {
				return err
			}
			pair = [2]*Rating{}
		}
		rr := r
		cur = &rr
		if r.Rating.Role == RoleClient {
			pair[0] = &rr.Rating
		} else {
			pair[1] = &rr.Rating
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

func (ex exporter) wideRow(r ExportRow, client, counsellor *Rating) []any {
	date, updated := dateValue(nil), time.Time{}
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
	row := []any{ex.study.ID, r.Rating.DyadID, r.ClientCode, r.CounsellorCode, r.Rating.Session, date,
		client != nil && counsellor != nil, formOf(client), formOf(counsellor), updated.Format(time.RFC3339Nano)}
	row = appendWithdrawal(row, r.Withdrawal)
	if ex.q.Scores {
		row = ex.appendScores(row, client)
		row = ex.appendScores(row, counsellor)
		for _, sc := range ex.form.Scales() {
			row = append(row, floatValue(scaleDifference(sc, client, counsellor).Difference))
		}
	}
	if ex.q.Items {
		row = ex.appendItems(row, client)
		row = ex.appendItems(row, counsellor)
	}
	return row
}

// appendScores adds the four score columns of every scale; a nil rating
// (the side that has not rated) gives missing values.
func (ex exporter) appendScores(row []any, r *Rating) []any {
	for _, sc := range ex.form.Scales() {
		if r == nil {
			row = append(row, nil, nil, nil, nil)
			continue
		}
		s := scoreOf(r, sc)
		row = append(row, floatValue(s.Mean), floatValue(s.Sum), s.Answered, s.Prorated)
	}
	return row
}

// appendItems adds r's raw answers in the family's item order (see
// exporter); a nil rating gives missing values.
func (ex exporter) appendItems(row []any, r *Rating) []any {
	for k := range ex.form.Items {
		if r == nil {
			row = append(row, nil)
			continue
		}
		j := k
		if pos, ok := ex.items[r.Role]; ok {
			j = pos[k]
		}
		if j < 0 || j >= len(r.Answers) {
			row = append(row, nil)
			continue
		}
		row = append(row, floatValue(r.Answers[j]))
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

func scoreOf(r *Rating, scale string) instrument.Score {
	if r == nil {
		return instrument.Score{}
	}
	return r.Scores.Of(scale)
}

// withdrawalColumns mark the rows of a dyad whose consent was withdrawn:
// its data given before are kept, and an analysis may want to leave them
// out or look at them apart.
var withdrawalColumns = []Column{
	col("withdrawn_at", "datetime", "when consent for the dyad was withdrawn (RFC 3339, UTC); missing unless withdrawn"),
	{Name: "withdrawal_scope", Type: "string", Description: "whose consent was withdrawn: client, counsellor or both; missing unless withdrawn",
		Values: "client=client; counsellor=counsellor; both=both"},
}

func appendWithdrawal(row []any, w *Withdrawal) []any {
	if w == nil {
		return append(row, nil, nil)
	}
	return append(row, w.At.Format(time.RFC3339Nano), w.Scope)
}

func formOf(r *Rating) any {
	if r == nil {
		return nil
	}
	return r.FormID
}

func floatValue(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func dateValue(d *Date) any {
	if d == nil {
		return nil
	}
	return d.String()
}

func scaleRange(f *instrument.Form) string {
	return fmt.Sprintf("%g–%g", f.Scale.Min, f.Scale.Max)
}
