package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/instrument"
)

// Row structs mirror the migration DDL column for column; the migration
// test checks that every field has its column.

type studyRow struct {
	ID                 string `gorm:"primaryKey"`
	Name               string
	Description        string
	ClientForm         sql.NullString
	CounsellorForm     sql.NullString
	MaxMissingFraction float64
	CreatedAt          time.Time
}

func (studyRow) TableName() string { return "studies" }

type dyadRow struct {
	ID             string `gorm:"primaryKey"`
	StudyID        string
	ClientCode     string
	CounsellorCode string
	CreatedAt      time.Time
}

func (dyadRow) TableName() string { return "dyads" }

type ratingRow struct {
	ID                 string `gorm:"primaryKey"`
	StudyID            string
	DyadID             string
	Session            int
	SessionDate        sql.NullString
	Role               string
	FormID             string
	Answers            string
	Scores             string
	MaxMissingFraction float64
	ScoringVersion     string
	Version            int
	CreatedAt          time.Time
	SupersededAt       sql.NullTime
}

func (ratingRow) TableName() string { return "ratings" }

type idempotencyRow struct {
	Key         string `gorm:"primaryKey"`
	Fingerprint string
	RatingID    string
	CreatedAt   time.Time
}

func (idempotencyRow) TableName() string { return "idempotency_keys" }

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func toStudyRow(s alliance.Study) studyRow {
	return studyRow{
		ID:                 s.ID,
		Name:               s.Name,
		Description:        s.Description,
		ClientForm:         nullString(s.Forms[alliance.RoleClient]),
		CounsellorForm:     nullString(s.Forms[alliance.RoleCounsellor]),
		MaxMissingFraction: s.Policy.MaxMissingFraction,
		CreatedAt:          s.CreatedAt,
	}
}

func (r studyRow) toDomain() alliance.Study {
	forms := map[alliance.Role]string{}
	if r.ClientForm.Valid {
		forms[alliance.RoleClient] = r.ClientForm.String
	}
	if r.CounsellorForm.Valid {
		forms[alliance.RoleCounsellor] = r.CounsellorForm.String
	}
	return alliance.Study{
		ID:          r.ID,
		Name:        r.Name,
		Description: r.Description,
		Forms:       forms,
		Policy:      instrument.Policy{MaxMissingFraction: r.MaxMissingFraction},
		CreatedAt:   r.CreatedAt.UTC(),
	}
}

func toDyadRow(d alliance.Dyad) dyadRow {
	return dyadRow(d)
}

func (r dyadRow) toDomain() alliance.Dyad {
	d := alliance.Dyad(r)
	d.CreatedAt = d.CreatedAt.UTC()
	return d
}

// storedScore is the persisted shape of a score. It is owned by the store,
// not by the instrument package, so renaming a Go field never changes
// what old rows mean.
type storedScore struct {
	Mean     *float64 `json:"mean"`
	Sum      *float64 `json:"sum"`
	Answered int      `json:"answered"`
	Items    int      `json:"items"`
	Prorated bool     `json:"prorated"`
	Reason   string   `json:"reason,omitempty"`
}

type storedScores struct {
	Total     storedScore            `json:"total"`
	Subscales map[string]storedScore `json:"subscales"`
}

func toRatingRow(r alliance.Rating) (ratingRow, error) {
	answers, err := json.Marshal(r.Answers)
	if err != nil {
		return ratingRow{}, fmt.Errorf("encode answers: %w", err)
	}
	ss := storedScores{Total: storedScore(r.Scores.Total), Subscales: map[string]storedScore{}}
	for k, v := range r.Scores.Subscales {
		ss.Subscales[k] = storedScore(v)
	}
	scores, err := json.Marshal(ss)
	if err != nil {
		return ratingRow{}, fmt.Errorf("encode scores: %w", err)
	}
	row := ratingRow{
		ID:                 r.ID,
		StudyID:            r.StudyID,
		DyadID:             r.DyadID,
		Session:            r.Session,
		Role:               string(r.Role),
		FormID:             r.FormID,
		Answers:            string(answers),
		Scores:             string(scores),
		MaxMissingFraction: r.Policy.MaxMissingFraction,
		ScoringVersion:     r.ScoringVersion,
		Version:            r.Version,
		CreatedAt:          r.CreatedAt,
	}
	if r.SessionDate != nil {
		row.SessionDate = nullString(r.SessionDate.String())
	}
	if r.SupersededAt != nil {
		row.SupersededAt = sql.NullTime{Time: *r.SupersededAt, Valid: true}
	}
	return row, nil
}

func (r ratingRow) toDomain() (alliance.Rating, error) { return r.decode(new(scoreDecoder)) }

// decode is toDomain with a score decoder shared by the rows of one query
// (see scoreDecoder).
func (r ratingRow) decode(dec *scoreDecoder) (alliance.Rating, error) {
	out := alliance.Rating{
		ID:             r.ID,
		StudyID:        r.StudyID,
		DyadID:         r.DyadID,
		Session:        r.Session,
		Role:           alliance.Role(r.Role),
		FormID:         r.FormID,
		Policy:         instrument.Policy{MaxMissingFraction: r.MaxMissingFraction},
		ScoringVersion: r.ScoringVersion,
		Version:        r.Version,
		CreatedAt:      r.CreatedAt.UTC(),
	}
	var err error
	if out.Answers, err = decodeAnswers([]byte(r.Answers)); err != nil {
		return out, fmt.Errorf("decode answers of rating %s: %w", r.ID, err)
	}
	if out.Scores, err = dec.decode([]byte(r.Scores)); err != nil {
		return out, fmt.Errorf("decode scores of rating %s: %w", r.ID, err)
	}
	if r.SessionDate.Valid {
		d, err := alliance.ParseDate("session_date", r.SessionDate.String)
		if err != nil {
			return out, fmt.Errorf("decode session date of rating %s: %w", r.ID, err)
		}
		out.SessionDate = &d
	}
	if r.SupersededAt.Valid {
		t := r.SupersededAt.Time.UTC()
		out.SupersededAt = &t
	}
	return out, nil
}
