package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
)

// invitationRow mirrors invitations: a survey link's hash, never its
// secret, and once used, the rating it produced.
type invitationRow struct {
	ID        string `gorm:"primaryKey"`
	StudyID   string
	DyadID    string
	Session   int
	Role      string
	Hash      string
	CreatedAt time.Time
	CreatedBy string
	ExpiresAt time.Time
	UsedAt    sql.NullTime
	RatingID  sql.NullString
	RevokedAt sql.NullTime
}

func (invitationRow) TableName() string { return "invitations" }

const (
	insertInvitationSQL = `INSERT INTO invitations (id, study_id, dyad_id, session, role, hash, created_at, created_by, expires_at,
	used_at, rating_id, revoked_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)`
	// useInvitationSQL is the single-use guard: of two concurrent
	// submissions only one finds the link unused.
	useInvitationSQL = `UPDATE invitations SET used_at = ?, rating_id = ?
WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?`
	revokeInvitationSQL = `UPDATE invitations SET revoked_at = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL`
	// revokeDyadInvitationsSQL revokes every pending link of a dyad.
	revokeDyadInvitationsSQL = `UPDATE invitations SET revoked_at = ? WHERE dyad_id = ? AND used_at IS NULL AND revoked_at IS NULL`
)

func (r invitationRow) toDomain() alliance.Invitation {
	inv := alliance.Invitation{ID: r.ID, StudyID: r.StudyID, DyadID: r.DyadID, Session: r.Session,
		Role: alliance.Role(r.Role), Hash: r.Hash, CreatedAt: r.CreatedAt.UTC(), CreatedBy: r.CreatedBy,
		ExpiresAt: r.ExpiresAt.UTC(), RatingID: r.RatingID.String}
	inv.UsedAt, inv.RevokedAt = timePtr(r.UsedAt), timePtr(r.RevokedAt)
	return inv
}

// CreateInvitation stores a survey link (its hash) with its audit entry.
func (s *Store) CreateInvitation(ctx context.Context, inv alliance.Invitation, audit ...alliance.AuditEntry) error {
	return s.write(ctx, audit, op{st: s.sql.insertInvitation, args: []any{inv.ID, inv.StudyID, inv.DyadID, inv.Session, string(inv.Role),
		inv.Hash, inv.CreatedAt, inv.CreatedBy, inv.ExpiresAt}})
}

// FindInvitationByID returns one invitation or ErrNotFound.
func (s *Store) FindInvitationByID(ctx context.Context, id string) (alliance.Invitation, error) {
	var row invitationRow
	if err := s.db.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return alliance.Invitation{}, translate(err)
	}
	return row.toDomain(), nil
}

// CreateInvitedRating claims the idempotency key (if any), uses the
// invitation up and inserts the rating in one transaction.
func (s *Store) CreateInvitedRating(ctx context.Context, invID string, now time.Time, r alliance.Rating, idem *alliance.Idempotency, audit ...alliance.AuditEntry) error {
	return s.WriteRating(ctx, alliance.RatingWrite{Op: alliance.RatingInvited, Rating: r, InvitationID: invID, At: now, Idem: idem, Audit: audit})
}

// FindInvitations lists a dyad's survey links, oldest first.
func (s *Store) FindInvitations(ctx context.Context, dyadID string) ([]alliance.Invitation, error) {
	var rows []invitationRow
	if err := s.db.WithContext(ctx).Where("dyad_id = ?", dyadID).Order("id").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]alliance.Invitation, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// RevokeInvitation revokes a link that is still unused; ErrConflict when
// it was used or revoked meanwhile.
func (s *Store) RevokeInvitation(ctx context.Context, id string, at time.Time, audit ...alliance.AuditEntry) error {
	return s.write(ctx, audit, op{st: s.sql.revokeInvitation, args: []any{at, id},
		none: fmt.Errorf("survey link %s was used or revoked meanwhile: %w", id, alliance.ErrConflict)})
}
