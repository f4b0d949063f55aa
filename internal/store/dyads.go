package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
)

// dyadRow mirrors the dyads table.
type dyadRow struct {
	ID                  string `gorm:"primaryKey"`
	StudyID             string
	ClientCode          string
	CounsellorCode      string
	CreatedAt           time.Time
	WithdrawnAt         sql.NullTime
	WithdrawnScope      sql.NullString
	WithdrawalReason    sql.NullString
	WithdrawalWidenedAt sql.NullTime
}

func (dyadRow) TableName() string { return "dyads" }

const (
	// insertDyadSQL inserts nothing for a client code the study has: the
	// write sees no row and answers a conflict. A unique violation would
	// do the same, but PostgreSQL logs its DETAIL, which names the code,
	// in the server's own log.
	insertDyadSQL = `INSERT INTO dyads (id, study_id, client_code, counsellor_code, created_at,
	withdrawn_at, withdrawn_scope, withdrawal_reason, withdrawal_widened_at)
VALUES (?, ?, ?, ?, ?, NULL, NULL, NULL, NULL)
ON CONFLICT DO NOTHING`
	counsellorCodesSQL = `SELECT id, counsellor_code FROM dyads WHERE study_id = ?`
	findDyadSQL        = `SELECT id, study_id, client_code, counsellor_code, created_at, withdrawn_at, withdrawn_scope, withdrawal_reason,
	withdrawal_widened_at
FROM dyads WHERE id = ?`
	// withdrawDyadSQL records a withdrawal over the one the caller read
	// (its scope, '' for none), or nothing.
	withdrawDyadSQL = `UPDATE dyads SET withdrawn_at = ?, withdrawn_scope = ?, withdrawal_reason = ?, withdrawal_widened_at = ?
WHERE id = ? AND COALESCE(withdrawn_scope, '') = ?`
)

func (r dyadRow) toDomain() alliance.Dyad {
	d := alliance.Dyad{ID: r.ID, StudyID: r.StudyID, ClientCode: r.ClientCode, CounsellorCode: r.CounsellorCode,
		CreatedAt: r.CreatedAt.UTC()}
	if r.WithdrawnAt.Valid {
		d.Withdrawal = &alliance.Withdrawal{At: r.WithdrawnAt.Time.UTC(), Scope: r.WithdrawnScope.String, Reason: r.WithdrawalReason.String}
		if r.WithdrawalWidenedAt.Valid {
			at := r.WithdrawalWidenedAt.Time.UTC()
			d.Withdrawal.WidenedAt = &at
		}
	}
	return d
}

// CreateDyad inserts a dyad; a taken client code yields ErrConflict.
func (s *Store) CreateDyad(ctx context.Context, d alliance.Dyad, audit ...alliance.AuditEntry) error {
	return s.write(ctx, audit, op{st: s.sql.insertDyad, args: []any{d.ID, d.StudyID, d.ClientCode, d.CounsellorCode, d.CreatedAt},
		none: fmt.Errorf("the study has a dyad with this client code: %w", alliance.ErrConflict)})
}

// FindDyadByID returns one dyad or ErrNotFound. Every rating reads its
// dyad, on PostgreSQL from the database: in plain SQL, as GORM's
// reflection cost about as much as the query's round trip.
func (s *Store) FindDyadByID(ctx context.Context, id string) (alliance.Dyad, error) {
	var r dyadRow
	err := scanOne(s.reads.QueryContext(ctx, s.sql.findDyad, id))(&r.ID, &r.StudyID, &r.ClientCode, &r.CounsellorCode,
		&r.CreatedAt, &r.WithdrawnAt, &r.WithdrawnScope, &r.WithdrawalReason, &r.WithdrawalWidenedAt)
	if err != nil {
		return alliance.Dyad{}, err
	}
	return r.toDomain(), nil
}

// FindDyads returns one page of a study's dyads ordered by id.
func (s *Store) FindDyads(ctx context.Context, f alliance.DyadFilter) ([]alliance.Dyad, error) {
	q := page(s.db.WithContext(ctx), f.Page).Where("study_id = ?", f.StudyID)
	if f.ClientCode != "" {
		q = q.Where("client_code = ?", f.ClientCode)
	}
	if f.CounsellorCode != "" {
		q = q.Where("counsellor_code = ?", f.CounsellorCode)
	}
	var rows []dyadRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]alliance.Dyad, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// WithdrawDyad records a withdrawal of consent and revokes the dyad's
// pending survey links, in one transaction. A dyad already withdrawn
// yields ErrConflict.
func (s *Store) WithdrawDyad(ctx context.Context, id, from string, w alliance.Withdrawal, audit ...alliance.AuditEntry) error {
	return s.write(ctx, audit,
		op{st: s.sql.withdrawDyad, args: []any{w.At, w.Scope, w.Reason, w.WidenedAt, id, from},
			none: fmt.Errorf("dyad %s was withdrawn meanwhile: %w", id, alliance.ErrConflict)},
		op{st: s.sql.revokeDyadInvitations, args: []any{w.At, id}})
}

// FindCounsellorCodes maps every dyad of a study to its counsellor code,
// in one query read row by row: a study's agreement needs it for 10,000
// dyads at a time, where GORM's struct scanning was a fifth of the work.
// A study has a few counsellors, so their codes are shared strings.
func (s *Store) FindCounsellorCodes(ctx context.Context, studyID string) (map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.reads.QueryContext(s.rowsCtx(ctx), rebind(s.dialect, counsellorCodesSQL), studyID)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := map[string]string{}
	interned := map[string]string{}
	var id string
	var code sql.RawBytes
	for n := 1; rows.Next(); n++ {
		if err := checkCtx(ctx, n); err != nil {
			return nil, err
		}
		if err := rows.Scan(&id, &code); err != nil {
			return nil, translate(err)
		}
		c, ok := interned[string(code)]
		if !ok {
			c = string(code)
			interned[c] = c
		}
		out[id] = c
	}
	return out, translate(rows.Err())
}
