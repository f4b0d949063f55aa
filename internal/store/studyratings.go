package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/migrations"
)

// The study-wide reads of ratings: one session per dyad for agreement
// (FindStudyRatings), and every current rating for exports
// (StreamStudyRatings). Both read row by row, decoding as they go.

// studyRatingsColumns are the only columns study agreement needs; dates,
// policy and timestamps are not read, which keeps the scan cheap.
const studyRatingsColumns = "r.dyad_id, r.session, r.role, r.form_id, r.answers, r.scores"

// pickSessionExpr is the session picked for dyad d: the first (last)
// session both roles rated, or for a dyad never complete its first (last)
// rated session (%[1]s is ASC or DESC). Each is a short walk of the unique
// index ratings_current (dyad_id, session, role), from either end,
// stopping at the first hit. Grouping the study's ratings by dyad and
// session instead made SQLite sort all of them in temporary B-trees,
// which took twice as long.
const pickSessionExpr = `COALESCE(
        (SELECT c.session FROM ratings c
         WHERE c.dyad_id = d.id AND c.role = 'client' AND c.superseded_at IS NULL
           AND EXISTS (SELECT 1 FROM ratings k
                       WHERE k.dyad_id = d.id AND k.session = c.session AND k.role = 'counsellor'
                         AND k.superseded_at IS NULL)
         ORDER BY c.session %[1]s LIMIT 1),
        (SELECT a.session FROM ratings a
         WHERE a.dyad_id = d.id AND a.superseded_at IS NULL
         ORDER BY a.session %[1]s LIMIT 1))`

// pickedSQL is the session picked for each dyad of the study (%[2]s:
// MATERIALIZED or nothing).
const pickedSQL = `
WITH picked AS %[2]s (
    SELECT d.id AS dyad_id, ` + pickSessionExpr + ` AS session
    FROM dyads d
    WHERE d.study_id = ?
)`

// pickSessionPostgres reads the picked ratings on PostgreSQL: for each
// dyad of the study, its session, then that session's ratings through
// ratings_current. Both are LATERAL subqueries with OFFSET 0, which the
// planner may not flatten: flattened, it joined the picks to all the
// study's ratings by hash, reading all 200,000 of them and evaluating
// each dyad's pick three times (0.25 s); as index lookups per dyad the
// query takes 0.1 s.
const pickSessionPostgres = `
SELECT ` + studyRatingsColumns + `
FROM dyads AS d
CROSS JOIN LATERAL (SELECT ` + pickSessionExpr + ` AS session OFFSET 0) AS p
CROSS JOIN LATERAL (SELECT * FROM ratings AS x
    WHERE x.dyad_id = d.id AND x.session = p.session AND x.superseded_at IS NULL OFFSET 0) AS r
WHERE d.study_id = ?`

// pickSessionSQLite reads the picked ratings on SQLite in table (rowid)
// order. Ratings arrive session by session, so one dyad's ratings are
// spread over the whole table; read dyad by dyad they cost a random page
// read each, read in rowid order they come from a few neighbouring pages.
// The picked sessions are materialised so that the walks run once.
const pickSessionSQLite = pickedSQL + `
SELECT ` + studyRatingsColumns + `
FROM ratings r
WHERE r.rowid IN (
    SELECT x.rowid FROM picked p
    JOIN ratings x ON x.dyad_id = p.dyad_id AND x.session = p.session AND x.superseded_at IS NULL)
ORDER BY r.rowid`

const fixedSessionSQL = `
SELECT ` + studyRatingsColumns + `
FROM ratings r
WHERE r.study_id = ? AND r.session = ? AND r.superseded_at IS NULL`

// FindStudyRatings returns the current ratings of a study at one session
// per dyad (see alliance.Store), in one query, in no particular order (the
// caller groups them; an ORDER BY would make SQLite sort whole rows).
// Only StudyID, DyadID, Session, Role, FormID, Answers and Scores are
// filled in. On PostgreSQL the rows are read with pgx (see pgxrows.go).
func (s *Store) FindStudyRatings(ctx context.Context, studyID string, sel alliance.SessionSelector) ([]alliance.Rating, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q, args := studyRatingsQuery(s.dialect, studyID, sel)
	c := ratingCollector{ctx: ctx, studyID: studyID}
	var err error
	if s.dialect == migrations.Postgres {
		err = withPgx(ctx, s.pool, func(conn *pgx.Conn) error { return c.readPgx(ctx, conn, q, args) })
	} else {
		err = c.readSQL(s.sqlDB.QueryContext(s.rowsCtx(ctx), q, args...))
	}
	if err != nil {
		return nil, err
	}
	return c.ratings(), nil
}

// studyRatingsQuery is FindStudyRatings' query in dialect d.
func studyRatingsQuery(d migrations.Dialect, studyID string, sel alliance.SessionSelector) (string, []any) {
	if sel.Number > 0 {
		return rebind(d, fixedSessionSQL), []any{studyID, sel.Number}
	}
	order := "ASC"
	if sel.Last {
		order = "DESC"
	}
	if d == migrations.SQLite {
		return fmt.Sprintf(pickSessionSQLite, order, "MATERIALIZED"), []any{studyID}
	}
	return rebind(d, fmt.Sprintf(pickSessionPostgres, order)), []any{studyID}
}

// ratingCollector decodes the rows of studyRatingsQuery into ratings.
// Ratings are collected in fixed-size chunks and copied once at the end
// (growing one slice of large structs would copy it about twice over);
// their answers share backing arrays, and their roles, forms, subscale
// names and means share the scoreDecoder's strings and arrays: 20,000
// ratings are otherwise 100,000 small allocations.
type ratingCollector struct {
	ctx     context.Context
	studyID string
	chunks  [][]alliance.Rating
	cur     []alliance.Rating
	dec     scoreDecoder
	ptrs    []*float64 // answers' backing arrays, carved row by row
	vals    []float64
	n       int
}

const ratingChunk = 4096

// readSQL reads the rows of a database/sql query (SQLite).
func (c *ratingCollector) readSQL(rows *sql.Rows, err error) error {
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	var dyad string
	var session int
	var role, form, answers, scores sql.RawBytes // valid until the next Next; add copies
	for rows.Next() {
		if err := rows.Scan(&dyad, &session, &role, &form, &answers, &scores); err != nil {
			return translate(err)
		}
		if err := c.add(dyad, session, role, form, answers, scores); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}

// readPgx reads the rows with pgx (PostgreSQL), from their raw values.
func (c *ratingCollector) readPgx(ctx context.Context, conn *pgx.Conn, q string, args []any) error {
	rows, err := conn.Query(ctx, q, args...)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	cols := pgColumns{fields: rows.FieldDescriptions(), types: conn.TypeMap()}
	if len(cols.fields) != 6 {
		return fmt.Errorf("study ratings: %d columns, want 6", len(cols.fields))
	}
	for rows.Next() {
		v := rows.RawValues()
		session, err := cols.int(1, v[1])
		if err != nil {
			return err
		}
		if err := c.add(string(v[0]), session, v[2], v[3], v[4], v[5]); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}

// add decodes one row into the next rating.
func (c *ratingCollector) add(dyad string, session int, role, form, answers, scores []byte) error {
	if c.n++; checkCtx(c.ctx, c.n) != nil {
		return c.ctx.Err()
	}
	r := alliance.Rating{StudyID: c.studyID, DyadID: dyad, Session: session,
		Role: alliance.Role(c.dec.intern(role)), FormID: c.dec.intern(form)}
	var err error
	if r.Answers, err = c.answers(answers); err != nil {
		return fmt.Errorf("decode answers of dyad %s session %d %s: %w", r.DyadID, r.Session, r.Role, err)
	}
	if r.Scores, err = c.dec.decode(scores); err != nil {
		return fmt.Errorf("decode scores of dyad %s session %d %s: %w", r.DyadID, r.Session, r.Role, err)
	}
	if len(c.cur) == cap(c.cur) {
		if c.cur != nil {
			c.chunks = append(c.chunks, c.cur)
		}
		c.cur = make([]alliance.Rating, 0, ratingChunk)
	}
	c.cur = append(c.cur, r)
	return nil
}

// answers decodes an answers array into the collector's shared arrays:
// each rating's answers are a capped window of them, which appending to
// cannot spill into the next rating's.
func (c *ratingCollector) answers(b []byte) ([]*float64, error) {
	n := 0
	if len(b) > 2 {
		n = 1 + bytes.Count(b, []byte{','})
	}
	if cap(c.ptrs)-len(c.ptrs) < n {
		size := max(n, 1024)
		c.ptrs, c.vals = make([]*float64, 0, size), make([]float64, 0, size)
	}
	l := len(c.ptrs)
	out, _, err := decodeAnswersInto(b, c.ptrs[l:l:l+n], c.vals[l:l:l+n])
	c.ptrs, c.vals = c.ptrs[:l+n], c.vals[:l+n]
	return out, err
}

// ratings is every rating collected, in one slice.
func (c *ratingCollector) ratings() []alliance.Rating {
	return slices.Concat(append(c.chunks, c.cur)...)
}

// StreamStudyRatings reads a study's current ratings row by row from one
// query, so an export's memory does not grow with the study. Every row is
// decoded into the same storage (see exportrows.go): fn must not keep the
// row's answers, scores, date or withdrawal after it returns.
//
// Reading the rows (the database and its driver) and decoding them (and
// fn, which writes them out) each take about half of an export's time, so
// they run in two goroutines, handing over batches of rows: on two cores
// an export takes little more than the longer half.
func (s *Store) StreamStudyRatings(ctx context.Context, studyID string, since *time.Time, wholeSessions bool, fn func(alliance.ExportRow) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	src := s.exportSource(studyID, since, wholeSessions)
	p := newExportPipe()
	go p.read(ctx, src)
	defer p.stop()
	var dec exportDecoder
	n := 0
	for b := range p.full {
		for i := range b.rows {
			// The rows may be read well ahead: the caller's end is
			// noticed here too, within 256 rows.
			if n++; checkCtx(ctx, n) != nil {
				return ctx.Err()
			}
			f := &b.rows[i]
			if err := src.parse(f); err != nil {
				return err
			}
			r, err := dec.decode(studyID, f)
			if err != nil {
				return err
			}
			if err := fn(*r); err != nil {
				return err
			}
		}
		p.recycle(b)
	}
	return p.err
}

// rowsCtx is the context for a query read row by row. For a cancellable
// context the SQLite driver starts a goroutine per row it steps, to
// interrupt SQLite on cancellation; on an export that was a third of the
// CPU. On SQLite such queries run without cancellation, and the loop over
// the rows checks the caller's context with checkCtx instead.
func (s *Store) rowsCtx(ctx context.Context) context.Context {
	if s.dialect == migrations.SQLite {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// checkCtx reports the end of ctx every 256th row n; callers check ctx
// once more before their query.
func checkCtx(ctx context.Context, n int) error {
	if n%256 != 0 {
		return nil
	}
	return ctx.Err()
}

// scalePairsSQL reads one scale's two means of every session both sides
// of a dyad rated, extracted from the scores column by the database (%s
// stands for each side's extraction), so that a trajectory over 200,000
// ratings decodes no score document in Go. Each counsellor rating is found
// through the unique index ratings_current.
const scalePairsSQL = `
SELECT c.dyad_id, c.session, %[1]s, %[2]s
FROM ratings c
JOIN ratings k ON k.dyad_id = c.dyad_id AND k.session = c.session AND k.role = 'counsellor' AND k.superseded_at IS NULL
WHERE c.study_id = ? AND c.role = 'client' AND c.superseded_at IS NULL`

// FindStudyScalePairs returns one scale's means of every complete dyad
// session of a study, and every session number rated (see alliance.Store).
func (s *Store) FindStudyScalePairs(ctx context.Context, studyID, scale string) ([]alliance.SessionPair, []int, error) {
	// The path of the scale's mean in storedScores, in each dialect.
	path := "$.total.mean"
	extract := "json_extract(%s.scores, ?)"
	if scale != alliance.ScaleTotal {
		path = "$.subscales." + scale + ".mean"
	}
	if s.dialect == migrations.Postgres {
		extract = "(%s.scores::jsonb #>> ?::text[])::double precision"
		path = "{total,mean}"
		if scale != alliance.ScaleTotal {
			path = "{subscales," + scale + ",mean}"
		}
	}
	db := s.db.WithContext(s.rowsCtx(ctx))
	var sessions []int
	if err := db.Raw(`SELECT DISTINCT session FROM ratings WHERE study_id = ? AND superseded_at IS NULL ORDER BY session`, studyID).
		Scan(&sessions).Error; err != nil {
		return nil, nil, translate(err)
	}
	q := fmt.Sprintf(scalePairsSQL, fmt.Sprintf(extract, "c"), fmt.Sprintf(extract, "k"))
	rows, err := db.Raw(q, path, path, studyID).Rows()
	if err != nil {
		return nil, nil, translate(err)
	}
	defer rows.Close()
	var out []alliance.SessionPair
	var means []float64 // one backing array for the means, grown in chunks
	for n := 1; rows.Next(); n++ {
		if err := checkCtx(ctx, n); err != nil {
			return nil, nil, err
		}
		var p alliance.SessionPair
		var c, k sql.NullFloat64
		if err := rows.Scan(&p.DyadID, &p.Session, &c, &k); err != nil {
			return nil, nil, translate(err)
		}
		if len(means)+2 > cap(means) {
			means = make([]float64, 0, 4096)
		}
		if c.Valid {
			means = append(means, c.Float64)
			p.Client = &means[len(means)-1]
		}
		if k.Valid {
			means = append(means, k.Float64)
			p.Counsellor = &means[len(means)-1]
		}
		out = append(out, p)
	}
	return out, sessions, translate(rows.Err())
}

// countSessionsSQL counts a study's current ratings per session and role,
// and the client ratings whose counsellor rating exists (complete pairs),
// each found through the unique index ratings_current.
const countSessionsSQL = `
SELECT r.session,
    SUM(CASE WHEN r.role = 'client' THEN 1 ELSE 0 END),
    SUM(CASE WHEN r.role = 'counsellor' THEN 1 ELSE 0 END),
    SUM(CASE WHEN r.role = 'client' AND EXISTS (
        SELECT 1 FROM ratings k WHERE k.dyad_id = r.dyad_id AND k.session = r.session
            AND k.role = 'counsellor' AND k.superseded_at IS NULL) THEN 1 ELSE 0 END)
FROM ratings r
WHERE r.study_id = ? AND r.superseded_at IS NULL
GROUP BY r.session
ORDER BY r.session`

// CountStudyRatings counts a study's dyads and its ratings per session
// and role, in SQL: portable aggregates only.
func (s *Store) CountStudyRatings(ctx context.Context, studyID string) (alliance.Completion, error) {
	var out alliance.Completion
	var dyads int64
	db := s.db.WithContext(ctx)
	if err := db.Model(&dyadRow{}).Where("study_id = ?", studyID).Count(&dyads).Error; err != nil {
		return out, translate(err)
	}
	out.Dyads = int(dyads)
	rows, err := db.Raw(countSessionsSQL, studyID).Rows()
	if err != nil {
		return out, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var c alliance.SessionCompletion
		if err := rows.Scan(&c.Session, &c.Client, &c.Counsellor, &c.Both); err != nil {
			return out, translate(err)
		}
		out.Sessions = append(out.Sessions, c)
	}
	return out, translate(rows.Err())
}
