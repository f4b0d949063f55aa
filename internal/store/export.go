package store

import (
	"context"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
)

// StreamStudyRatings reads a study's current ratings row by row from one
// query, so an export's memory does not grow with the study.
func (s *Store) StreamStudyRatings(ctx context.Context, studyID string, since *time.Time, wholeSessions bool, fn func(alliance.ExportRow) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	q := s.db.WithContext(s.rowsCtx(ctx)).Table("ratings AS r").
		Select(`r.id, r.study_id, r.dyad_id, r.session, r.session_date, r.role, r.form_id, r.answers, r.scores,
			r.max_missing_fraction, r.scoring_version, r.version, r.created_at, r.superseded_at,
			d.client_code, d.counsellor_code`).
		Joins("JOIN dyads AS d ON d.id = r.dyad_id").
		Where("r.study_id = ? AND r.superseded_at IS NULL", studyID)
	switch {
	case since != nil && wholeSessions:
		q = q.Where(`EXISTS (SELECT 1 FROM ratings AS u WHERE u.dyad_id = r.dyad_id AND u.session = r.session
			AND u.superseded_at IS NULL AND u.created_at > ?)`, *since)
	case since != nil:
		q = q.Where("r.created_at > ?", *since)
	}
	rows, err := q.Order("r.dyad_id, r.session, r.role").Rows()
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	var dec scoreDecoder
	for n := 1; rows.Next(); n++ {
		if err := checkCtx(ctx, n); err != nil {
			return err
		}
		var row ratingRow
		var client, counsellor string
		err := rows.Scan(&row.ID, &row.StudyID, &row.DyadID, &row.Session, &row.SessionDate, &row.Role, &row.FormID,
			&row.Answers, &row.Scores, &row.MaxMissingFraction, &row.ScoringVersion, &row.Version, &row.CreatedAt,
			&row.SupersededAt, &client, &counsellor)
		if err != nil {
			return translate(err)
		}
		r, err := row.decode(&dec)
		if err != nil {
			return err
		}
		if err := fn(alliance.ExportRow{Rating: r, ClientCode: client, CounsellorCode: counsellor}); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}
