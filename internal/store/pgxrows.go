package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
)

// The long reads on PostgreSQL (an export, a study's ratings for
// agreement) use pgx itself on a connection of the pool: pgx hands over
// each row's values as the bytes that arrived, where database/sql has the
// driver copy every text column into a new string, and then copies it
// again into the caller's variable.

// withPgx runs fn on a connection of the pool as pgx's own connection,
// taken as every read takes one: waiting no longer than the pool's bound
// (boundedPool).
func withPgx(ctx context.Context, pool *boundedPool, fn func(c *pgx.Conn) error) error {
	conn, err := pool.conn(ctx)
	if err != nil {
		return translate(err)
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("a PostgreSQL connection is %T, not pgx's", driverConn)
		}
		return fn(c.Conn())
	})
}

// pgxSource reads exportColumnsPostgres's rows with pgx.
type pgxSource struct {
	pool  *boundedPool
	query string
	args  []any
}

func (s *pgxSource) rows(ctx context.Context, add func(f *exportFields) error) error {
	return withPgx(ctx, s.pool, func(c *pgx.Conn) error {
		return readPgxRows(ctx, c, s.query, s.args, add)
	})
}

func (s *pgxSource) parse(*exportFields) error { return nil }

// readPgxRows runs the export query in a read-only transaction with
// enable_sort off. The planner otherwise prefers, for a whole study, a
// parallel hash join that sorts every row of the export in temporary
// files before sending the first (0.9 s for 200,000 ratings, in three
// processes); the merge join of the index ratings_current with the dyads'
// primary key streams them in order from the first row (0.3 s). SET
// LOCAL ends with the transaction, so the connection goes back to the
// pool as it came.
func readPgxRows(ctx context.Context, c *pgx.Conn, query string, args []any, add func(f *exportFields) error) error {
	tx, err := c.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return translate(err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, "SET LOCAL enable_sort = off"); err != nil {
		return translate(err)
	}
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	cols := pgColumns{fields: rows.FieldDescriptions(), types: c.TypeMap()}
	var f exportFields
	for rows.Next() {
		if err := cols.read(rows.RawValues(), &f); err != nil {
			return err
		}
		if err := add(&f); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}

// pgColumns decodes raw values. Numbers, booleans and timestamps in
// PostgreSQL's binary format (what pgx asks for) are decoded here; any
// other format goes through pgx's own scan.
type pgColumns struct {
	fields []pgconn.FieldDescription
	types  *pgtype.Map
}

// read decodes a row of exportColumnsPostgres.
func (c *pgColumns) read(v [][]byte, f *exportFields) error {
	if len(v) != 17 || len(c.fields) != 17 {
		return fmt.Errorf("export: %d columns, want 17", len(v))
	}
	*f = exportFields{id: v[0], dyadID: v[1], role: v[3], formID: v[4], scoringVersion: v[5],
		sessionDate: nullBytes{v[9], v[9] != nil}, withdrawnScope: nullBytes{v[11], v[11] != nil},
		answers: v[12], scores: v[13], clientCode: v[14], counsellorCode: v[15]}
	var err error
	if f.session, err = c.int(2, v[2]); err != nil {
		return err
	}
	if f.version, err = c.int(6, v[6]); err != nil {
		return err
	}
	if f.requiresSubscales, err = c.bool(7, v[7]); err != nil {
		return err
	}
	if f.createdAt, err = c.time(8, v[8]); err != nil {
		return err
	}
	if v[10] != nil {
		if f.withdrawnAt.Time, err = c.time(10, v[10]); err != nil {
			return err
		}
		f.withdrawnAt.Valid = true
	}
	f.maxMissing, err = c.float(16, v[16])
	return err
}

// binary reports whether column i came in binary format as type oid.
func (c *pgColumns) binary(i int, oid uint32) bool {
	return c.fields[i].Format == pgtype.BinaryFormatCode && c.fields[i].DataTypeOID == oid
}

// scan decodes column i with pgx's scan plans, the way for what the hand
// decoders do not take.
func (c *pgColumns) scan(i int, src []byte, dst any) error {
	if err := c.types.Scan(c.fields[i].DataTypeOID, c.fields[i].Format, src, dst); err != nil {
		return fmt.Errorf("export: column %s: %w", c.fields[i].Name, err)
	}
	return nil
}

func (c *pgColumns) int(i int, src []byte) (int, error) {
	if c.binary(i, pgtype.Int4OID) && len(src) == 4 {
		return int(int32(binary.BigEndian.Uint32(src))), nil
	}
	var n int64
	err := c.scan(i, src, &n)
	return int(n), err
}

func (c *pgColumns) bool(i int, src []byte) (bool, error) {
	if c.binary(i, pgtype.BoolOID) && len(src) == 1 {
		return src[0] != 0, nil
	}
	var b bool
	err := c.scan(i, src, &b)
	return b, err
}

func (c *pgColumns) float(i int, src []byte) (float64, error) {
	if c.binary(i, pgtype.Float8OID) && len(src) == 8 {
		return math.Float64frombits(binary.BigEndian.Uint64(src)), nil
	}
	var x float64
	err := c.scan(i, src, &x)
	return x, err
}

// pgEpoch is PostgreSQL's epoch, 2000-01-01 UTC, in Unix microseconds.
const pgEpoch = 946684800 * 1000000

// time decodes a timestamptz: microseconds since 2000-01-01 UTC in binary
// format; infinities and other formats go through pgx.
func (c *pgColumns) time(i int, src []byte) (time.Time, error) {
	if c.binary(i, pgtype.TimestamptzOID) && len(src) == 8 {
		us := int64(binary.BigEndian.Uint64(src))
		if us != math.MaxInt64 && us != math.MinInt64 {
			return time.UnixMicro(pgEpoch + us).UTC(), nil
		}
	}
	var t time.Time
	err := c.scan(i, src, &t)
	return t, err
}
