package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/migrations"
)

// The export read (StreamStudyRatings). One query, in the order of the
// export, read by one goroutine into batches of raw rows (exportPipe) and
// decoded by the caller's goroutine one row at a time into storage reused
// from row to row (exportDecoder): 200,000 ratings cost neither memory
// nor an allocation per field, and reading and decoding share two cores.
//
// On SQLite the query packs each row into one text value (packedSource).
// The driver crosses from Go into C three times per text column it hands
// over (type, length, text), and for 16 columns those crossings cost
// twice as much as everything SQLite itself did for the row. PostgreSQL's
// rows are read with pgx itself (pgxSource, exportpg.go), whose raw
// values are the bytes that came over the socket.

// exportSep separates the packed fields. It is the byte 0xFF, which
// occurs in no UTF-8 text, and every text column holds UTF-8: the store
// writes Go strings, generated ids and JSON. The codes, the one text
// people type, are not split on it at all: they come last, the client's
// with its length.
const exportSep = 0xFF

// exportPackedSQLite selects one packed value and the missing-item
// fraction (a float, kept as a number: SQLite's text of a float has 15
// digits, not the 17 that give it back exactly). The packed fields are
// exportPackedFields, joined by concat with the separator between them:
// concat writes NULL and empty arguments as nothing, where concat_ws
// would drop an empty field and its separator.
var exportPackedSQLite = "SELECT concat(" +
	strings.Join(exportPackedFields[:], ", CAST(X'FF' AS TEXT), ") + "),\n  r.max_missing_fraction"

// exportPackedFields are the packed fields, in order. A bit set says
// which nullable columns are NULL (1 session date, 2 withdrawn at, 4
// withdrawal scope), as both NULL and empty text pack to nothing. The
// codes come last, the client code's length in bytes before them: they
// are split by it, not by the separator they might hold.
var exportPackedFields = [...]string{
	"r.id", "r.dyad_id", "r.session", "r.role", "r.form_id", "r.scoring_version", "r.version",
	"r.total_requires_subscales", "r.created_at",
	"(r.session_date IS NULL) + 2 * (d.withdrawn_at IS NULL) + 4 * (d.withdrawn_scope IS NULL)",
	"r.session_date", "d.withdrawn_at", "d.withdrawn_scope", "r.answers", "r.scores",
	"octet_length(d.client_code)", "d.client_code", "d.counsellor_code",
}

// exportFromSQLite reads the study's dyads in id order (the IN list is
// walked in order) and each dyad's current ratings through the unique
// index ratings_current (dyad, session, role): the export's order, so
// SQLite sorts nothing. Filtered on ratings.study_id instead, it sorted
// every row of the export in temporary files, and with ratings outside it
// looked the dyad up again for each of its ratings. The CROSS JOIN keeps
// dyads the outer table; the unary + keeps the study filter off the index
// ratings_study_session. ORDER BY d.id is the order by r.dyad_id (they are
// equal), said in the form SQLite recognises as the order it reads in.
const exportFromSQLite = `
FROM dyads AS d CROSS JOIN ratings AS r
WHERE d.id IN (SELECT id FROM dyads WHERE study_id = ?) AND r.dyad_id = d.id AND +r.study_id = ? AND r.superseded_at IS NULL`

// exportColumnsPostgres are the columns read on PostgreSQL, in the order
// of exportFields.
const exportColumnsPostgres = `SELECT r.id, r.dyad_id, r.session, r.role, r.form_id, r.scoring_version, r.version,
    r.total_requires_subscales, r.created_at, r.session_date, d.withdrawn_at, d.withdrawn_scope, r.answers, r.scores,
    d.client_code, d.counsellor_code, r.max_missing_fraction`

// exportFromPostgres lets PostgreSQL merge the index ratings_current with
// the dyads' primary key, which yields the export's order unsorted.
const exportFromPostgres = `
FROM ratings AS r JOIN dyads AS d ON d.id = r.dyad_id
WHERE r.study_id = ? AND r.superseded_at IS NULL`

// exportQuery is the export's query and arguments in the store's dialect.
func exportQuery(d migrations.Dialect, studyID string, since *time.Time, wholeSessions bool) (string, []any) {
	var q strings.Builder
	args := []any{studyID}
	if d == migrations.SQLite {
		q.WriteString(exportPackedSQLite + exportFromSQLite)
		args = append(args, studyID)
	} else {
		q.WriteString(exportColumnsPostgres + exportFromPostgres)
	}
	// Since a time: the rows whose content changed after it. A rating
	// stored then, or its dyad withdrawn then, or its withdrawal widened
	// (every row of the dyad shows the withdrawal); in the wide shape the
	// whole session, also when one of its sides was voided then (that
	// side is now empty). A void or an erasure that leaves no row cannot
	// show in the long shape.
	const withdrawnSince = `d.withdrawn_at > ? OR d.withdrawal_widened_at > ?`
	switch {
	case since != nil && wholeSessions:
		q.WriteString(`
  AND (` + withdrawnSince + ` OR EXISTS (SELECT 1 FROM ratings AS u WHERE u.dyad_id = r.dyad_id AND u.session = r.session
      AND ((u.superseded_at IS NULL AND u.created_at > ?) OR u.voided_at > ?)))`)
		args = append(args, *since, *since, *since, *since)
	case since != nil:
		q.WriteString(`
  AND (r.created_at > ? OR ` + withdrawnSince + `)`)
		args = append(args, *since, *since, *since)
	}
	if d == migrations.SQLite {
		q.WriteString(`
ORDER BY d.id, r.session, r.role`)
	} else {
		q.WriteString(`
ORDER BY r.dyad_id, r.session, r.role`)
	}
	return rebind(d, q.String()), args
}

// exportFields is one export row as read, before decoding. Its byte
// slices point into the scanner's buffers until the row is added to a
// batch, then into the batch.
type exportFields struct {
	packed                                   []byte // SQLite: the packed fields, until parse splits them
	id, dyadID, role, formID, scoringVersion []byte
	session, version                         int
	requiresSubscales                        bool
	createdAt                                time.Time
	sessionDate, withdrawnScope              nullBytes
	withdrawnAt                              sql.NullTime
	answers, scores                          []byte
	clientCode, counsellorCode               []byte
	maxMissing                               float64
}

// nullBytes is a nullable text column's bytes.
type nullBytes struct {
	b     []byte
	valid bool
}

// exportSource runs the export query in two steps: rows, in the goroutine
// that reads the rows, calls add for each row as it comes (f's bytes valid
// only during the call); parse, in the goroutine that decodes them,
// completes a row's fields. Each step keeps state of its own, so the two
// may run at once.
type exportSource interface {
	rows(ctx context.Context, add func(f *exportFields) error) error
	parse(f *exportFields) error
}

// exportSource is the export query's source on this store's backend.
func (s *Store) exportSource(studyID string, since *time.Time, wholeSessions bool) exportSource {
	q, args := exportQuery(s.dialect, studyID, since, wholeSessions)
	if s.dialect == migrations.SQLite {
		return &packedSource{db: s.sqlDB, query: q, args: args}
	}
	return &pgxSource{pool: s.pool, query: q, args: args}
}

// packedSource reads exportPackedSQLite's rows.
type packedSource struct {
	db     *sql.DB
	query  string
	args   []any
	fields [len(exportPackedFields) - 1][]byte // parse's; the codes are split apart later
}

// rows runs the query without cancellation (see rowsCtx): the caller of
// rows checks ctx as the rows come.
func (s *packedSource) rows(ctx context.Context, add func(f *exportFields) error) error {
	rows, err := s.db.QueryContext(context.WithoutCancel(ctx), s.query, s.args...)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	var packed sql.RawBytes
	var f exportFields
	for rows.Next() {
		if err := rows.Scan(&packed, &f.maxMissing); err != nil {
			return translate(err)
		}
		f.packed = packed
		if err := add(&f); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}

func (s *packedSource) parse(f *exportFields) error {
	if err := splitPacked(f.packed, s.fields[:]); err != nil {
		return err
	}
	return s.decodeFields(f)
}

// errPacked reports a packed row that does not have its fields.
var errPacked = errors.New("export row: packed fields do not match the query")

// splitPacked splits a packed row at its separators into fields, the
// last holding the rest: both codes, which may hold anything.
func splitPacked(b []byte, fields [][]byte) error {
	for i := range len(fields) - 1 {
		j := bytes.IndexByte(b, exportSep)
		if j < 0 {
			return errPacked
		}
		fields[i], b = b[:j], b[j+1:]
	}
	fields[len(fields)-1] = b
	return nil
}

// decodeFields reads the packed fields into f; numbers and timestamps are
// parsed here, the rest is left as bytes.
func (s *packedSource) decodeFields(f *exportFields) error {
	p := &s.fields
	f.id, f.dyadID = p[0], p[1]
	var err error
	if f.session, err = strconv.Atoi(string(p[2])); err != nil {
		return errPacked
	}
	f.role, f.formID, f.scoringVersion = p[3], p[4], p[5]
	if f.version, err = strconv.Atoi(string(p[6])); err != nil {
		return errPacked
	}
	requires, err := strconv.ParseInt(string(p[7]), 10, 64)
	if err != nil {
		return errPacked
	}
	f.requiresSubscales = requires > 0 // as the driver reads a BOOLEAN column
	f.createdAt = parseSQLiteTime(p[8])
	nulls, err := strconv.Atoi(string(p[9]))
	if err != nil || nulls < 0 || nulls > 7 {
		return errPacked
	}
	f.sessionDate = nullBytes{p[10], nulls&1 == 0}
	f.withdrawnAt = sql.NullTime{Valid: nulls&2 == 0}
	if f.withdrawnAt.Valid {
		f.withdrawnAt.Time = parseSQLiteTime(p[11])
	}
	f.withdrawnScope = nullBytes{p[12], nulls&4 == 0}
	f.answers, f.scores = p[13], p[14]
	codes := p[16]
	n, err := strconv.Atoi(string(p[15]))
	if err != nil || n < 0 || n >= len(codes) || codes[n] != exportSep {
		return errPacked
	}
	f.clientCode, f.counsellorCode = codes[:n], codes[n+1:]
	return nil
}

// parseSQLiteTime reads a DATETIME column's packed text as the SQLite
// driver reads the column itself (mattn/go-sqlite3 SQLiteRows.Next):
// the layouts of sqlite3.SQLiteTimestampFormats in order, a trailing Z
// ignored, the zero time when none fits, and an integer as Unix seconds
// (milliseconds beyond 1e12). The store's own rows, written by the driver
// in the first layout, take a hand-written path.
func parseSQLiteTime(b []byte) time.Time {
	if t, ok := parseStoredTime(b); ok {
		return t
	}
	if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		if n > 1e12 || n < -1e12 {
			return time.Unix(0, n*int64(time.Millisecond)).UTC()
		}
		return time.Unix(n, 0).UTC()
	}
	s := strings.TrimSuffix(string(b), "Z")
	for _, layout := range sqlite3.SQLiteTimestampFormats {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t
		}
	}
	return time.Time{}
}

// parseStoredTime parses the layout the driver writes,
// "2006-01-02 15:04:05.999999999-07:00", and reports false for anything
// else, or anything time.Parse would refuse, so that parseSQLiteTime
// gives the same time either way.
func parseStoredTime(b []byte) (time.Time, bool) {
	const base = len("2006-01-02 15:04:05")
	if len(b) < base+len("-07:00") || b[4] != '-' || b[7] != '-' || b[10] != ' ' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	second, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59 {
		return time.Time{}, false
	}
	if day < 1 || day > daysIn(time.Month(month), year) {
		return time.Time{}, false
	}
	rest, nsec := b[base:], 0
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 || n > 10 {
			return time.Time{}, false
		}
		frac, _ := digits(rest[1:n])
		for range 10 - n {
			frac *= 10
		}
		nsec, rest = frac, rest[n:]
	}
	if len(rest) != len("-07:00") || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':' {
		return time.Time{}, false
	}
	zh, ok7 := digits(rest[1:3])
	zm, ok8 := digits(rest[4:6])
	if !ok7 || !ok8 || zh > 23 || zm > 59 {
		return time.Time{}, false
	}
	offset := time.Duration(zh)*time.Hour + time.Duration(zm)*time.Minute
	if rest[0] == '-' {
		offset = -offset
	}
	return time.Date(year, time.Month(month), day, hour, minute, second, nsec, time.UTC).Add(-offset), true
}

// digits is the decimal value of b, false unless b is all digits.
func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// daysIn is the number of days of month in year.
func daysIn(month time.Month, year int) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// exportDecoder turns exportFields into the one ExportRow it hands out,
// again and again. The strings a row repeats are shared: a dyad's id and
// codes across its ratings, roles, forms, scoring versions and scopes
// across the study.
type exportDecoder struct {
	row        alliance.ExportRow
	scores     scoreDecoder
	answers    []*float64
	values     []float64
	date       alliance.Date
	rawDate    []byte // the bytes date was parsed from
	withdrawal alliance.Withdrawal
	rawDyad    []byte // the bytes of row.Rating.DyadID
}

// decode fills the decoder's row from f and returns it.
func (d *exportDecoder) decode(studyID string, f *exportFields) (*alliance.ExportRow, error) {
	r := &d.row.Rating
	r.ID, r.StudyID = string(f.id), studyID
	if !bytes.Equal(f.dyadID, d.rawDyad) || r.DyadID == "" {
		d.rawDyad = append(d.rawDyad[:0], f.dyadID...)
		r.DyadID = string(f.dyadID)
		d.row.ClientCode, d.row.CounsellorCode = string(f.clientCode), string(f.counsellorCode)
	}
	r.Session, r.Version = f.session, f.version
	r.Role = alliance.Role(d.scores.intern(f.role))
	r.FormID, r.ScoringVersion = d.scores.intern(f.formID), d.scores.intern(f.scoringVersion)
	r.Policy = alliance.Policy{MaxMissingFraction: f.maxMissing, TotalRequiresSubscales: f.requiresSubscales}
	r.CreatedAt = f.createdAt.UTC()
	var err error
	if r.Answers, d.values, err = decodeAnswersInto(f.answers, d.answers[:0], d.values[:0]); err != nil {
		return nil, fmt.Errorf("decode answers of rating %s: %w", r.ID, err)
	}
	if cap(r.Answers) > cap(d.answers) {
		d.answers = r.Answers
	}
	d.scores.reuse()
	if err := d.scores.decodeInto(f.scores, &r.Scores); err != nil {
		return nil, fmt.Errorf("decode scores of rating %s: %w", r.ID, err)
	}
	if r.SessionDate, err = d.sessionDate(f.sessionDate); err != nil {
		return nil, fmt.Errorf("decode session date of rating %s: %w", r.ID, err)
	}
	d.row.Withdrawal = nil
	if f.withdrawnAt.Valid {
		d.withdrawal = alliance.Withdrawal{At: f.withdrawnAt.Time.UTC(), Scope: d.scores.intern(f.withdrawnScope.b)}
		d.row.Withdrawal = &d.withdrawal
	}
	return &d.row, nil
}

// sessionDate parses a session date, or reuses the previous row's when
// the bytes are the same (both sides of a session usually give one date).
func (d *exportDecoder) sessionDate(raw nullBytes) (*alliance.Date, error) {
	if !raw.valid {
		return nil, nil
	}
	if d.rawDate == nil || !bytes.Equal(raw.b, d.rawDate) {
		date, err := alliance.ParseDate("session_date", string(raw.b))
		if err != nil {
			d.rawDate = nil
			return nil, err
		}
		d.date, d.rawDate = date, append(d.rawDate[:0], raw.b...)
	}
	return &d.date, nil
}

// exportBatch carries rows from the goroutine that reads them to the one
// that decodes them: the rows' bytes are copied into arena, whose
// capacity is fixed so that the slices into it stay valid.
type exportBatch struct {
	arena []byte
	rows  []exportFields
}

// Batch sizes: a few hundred rows of about 500 bytes, three batches in
// flight at most, so an export holds about 1 MB however large the study.
const (
	batchArena      = 256 << 10
	batchRows       = 512
	batchesInFlight = 3
)

func newExportBatch() *exportBatch {
	return &exportBatch{arena: make([]byte, 0, batchArena), rows: make([]exportFields, 0, batchRows)}
}

// add copies f into the batch, false when it is full. A row larger than an
// empty batch's arena gets an arena of its size.
func (b *exportBatch) add(f *exportFields) bool {
	need := len(f.packed) + len(f.id) + len(f.dyadID) + len(f.role) + len(f.formID) + len(f.scoringVersion) +
		len(f.sessionDate.b) + len(f.withdrawnScope.b) + len(f.answers) + len(f.scores) + len(f.clientCode) + len(f.counsellorCode)
	if len(b.rows) == cap(b.rows) || need > cap(b.arena)-len(b.arena) {
		if len(b.rows) > 0 {
			return false
		}
		b.arena = make([]byte, 0, max(need, batchArena))
	}
	r := *f
	r.packed, r.id, r.dyadID = b.copy(r.packed), b.copy(r.id), b.copy(r.dyadID)
	r.role, r.formID, r.scoringVersion = b.copy(r.role), b.copy(r.formID), b.copy(r.scoringVersion)
	r.sessionDate.b, r.withdrawnScope.b = b.copy(r.sessionDate.b), b.copy(r.withdrawnScope.b)
	r.answers, r.scores = b.copy(r.answers), b.copy(r.scores)
	r.clientCode, r.counsellorCode = b.copy(r.clientCode), b.copy(r.counsellorCode)
	b.rows = append(b.rows, r)
	return true
}

// copy appends p to the arena, which has room, and returns the copy; nil
// stays nil, so that a NULL stays NULL.
func (b *exportBatch) copy(p []byte) []byte {
	if p == nil {
		return nil
	}
	start := len(b.arena)
	b.arena = append(b.arena, p...)
	return b.arena[start:len(b.arena):len(b.arena)]
}

func (b *exportBatch) reset() {
	b.arena, b.rows = b.arena[:0], b.rows[:0]
}

// exportPipe hands batches of rows from the goroutine that reads them
// (read) to the one that decodes them, and back for reuse.
type exportPipe struct {
	full  chan *exportBatch // read sends, and closes it when done
	empty chan *exportBatch // batches to fill
	quit  chan struct{}     // closed by stop: read must end
	done  chan struct{}     // closed when read has ended
	err   error             // read's error; valid once full is closed
}

func newExportPipe() *exportPipe {
	p := &exportPipe{
		full:  make(chan *exportBatch, batchesInFlight),
		empty: make(chan *exportBatch, batchesInFlight),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	for range batchesInFlight {
		p.empty <- newExportBatch()
	}
	return p
}

// read reads every row of src into batches and sends them, until the
// rows end, an error, the end of ctx (checked every 256 rows: the SQLite
// driver is not given it) or stop.
func (p *exportPipe) read(ctx context.Context, src exportSource) {
	defer close(p.done)
	defer close(p.full)
	var b *exportBatch
	next := func() bool {
		select {
		case b = <-p.empty:
			return true
		case <-p.quit:
			return false
		}
	}
	send := func() bool {
		select {
		case p.full <- b:
			b = nil
			return true
		case <-p.quit:
			return false
		}
	}
	n := 0
	p.err = src.rows(ctx, func(f *exportFields) error {
		if n++; checkCtx(ctx, n) != nil {
			return ctx.Err()
		}
		if b == nil && !next() {
			return errStopped
		}
		if !b.add(f) {
			if !send() || !next() {
				return errStopped
			}
			b.add(f)
		}
		return nil
	})
	if p.err == nil && b != nil {
		send()
	}
}

// errStopped ends a read that stop ended: nobody reads its error.
var errStopped = errors.New("export read stopped")

// recycle returns a decoded batch for read to fill again.
func (p *exportPipe) recycle(b *exportBatch) {
	b.reset()
	p.empty <- b
}

// stop ends read, if it is still reading, and waits for it: after stop,
// the rows are closed and no goroutine is left.
func (p *exportPipe) stop() {
	close(p.quit)
	<-p.done
}
