// Package alliance is the domain of the service: studies, dyads, parallel
// client and counsellor ratings, and the use cases that validate, score and
// compare them. It knows nothing of HTTP or SQL; the Store interface is what
// it needs from persistence.
package alliance

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/alliance-project/alliance/internal/instrument"
)

// The instrument vocabulary of the domain. Forms, their scoring policy and
// scores are defined by the pure instrument package, which scores answers;
// the rest of the program names them through the domain, so that only the
// domain depends on how they are computed.
type (
	// Form is one instrument form: items, scale, subscales, reverse keys.
	Form = instrument.Form
	// Policy is a study's missing-item policy.
	Policy = instrument.Policy
	// Scores are a rating's total and subscale scores.
	Scores = instrument.Scores
	// Score is one scale's score: item mean, sum, answered items, prorated.
	Score = instrument.Score
)

// Role is which side of the dyad gave a rating.
type Role string

// The two rater roles of a dyad. Forms declare which role they are for.
const (
	RoleClient     Role = "client"
	RoleCounsellor Role = "counsellor"
)

// Roles lists the roles in their canonical order (client first), which is
// the order used wherever both sides are shown together.
var Roles = []Role{RoleClient, RoleCounsellor}

// ParseRole accepts exactly the two role names; anything else is a
// validation error on the named field.
func ParseRole(field, s string) (Role, error) {
	switch Role(s) {
	case RoleClient, RoleCounsellor:
		return Role(s), nil
	case "":
		return "", invalid(field, "required", `the role is required: "client" or "counsellor"`)
	}
	return "", invalid(field, "invalid_value", `must be "client" or "counsellor"`)
}

// Study fixes which instrument form each role answers and how missing items
// are scored, so every rating in it is comparable.
type Study struct {
	ID          string
	Name        string
	Description string
	// Forms maps a role to the instrument form id it answers. A role without
	// a form cannot submit ratings in this study (e.g. SRS is client-only).
	Forms  map[Role]string
	Policy instrument.Policy
	// CodePattern, when set, is a regular expression every participant
	// code of the study must match in full (e.g. ^C-[0-9]{3}$).
	CodePattern string
	// Language is the default language of the hosted survey page ("" for
	// the rater's browser's).
	Language  string
	CreatedAt time.Time
	// Alerts are the study's alert thresholds.
	Alerts AlertThresholds
}

// Dyad is one client and one counsellor in a study, identified only by
// pseudonymous codes chosen by the study team.
type Dyad struct {
	ID             string
	StudyID        string
	ClientCode     string
	CounsellorCode string
	CreatedAt      time.Time
	// Withdrawal is set once consent was withdrawn: collection stopped.
	Withdrawal *Withdrawal
}

// Withdrawal records that a participant withdrew consent (GDPR Art. 7(3)):
// no rating is collected from then on; what was given is kept, as most
// consent forms allow, and marked.
type Withdrawal struct {
	At time.Time
	// Scope says whose consent was withdrawn: the client's, the
	// counsellor's or both. Collection stops for the dyad whichever it is:
	// a dyad's ratings are only comparable in pairs.
	Scope  string
	Reason string
	// WidenedAt is when the scope widened to both, the other side
	// withdrawing too; At stays when collection stopped.
	WidenedAt *time.Time
}

// Rating is one role's answers for one dyad session, with the scores they
// produced. Raw answers are always kept so scores can be recomputed when the
// scoring rules change; ScoringVersion and Policy say which rules were used.
type Rating struct {
	ID             string
	StudyID        string
	DyadID         string
	Session        int
	SessionDate    *Date
	Role           Role
	FormID         string
	Answers        []*float64
	Scores         instrument.Scores
	Policy         instrument.Policy
	ScoringVersion string
	// Version counts amendments: 1 for the first submission. Earlier
	// versions stay in the history with SupersededAt set.
	Version      int
	CreatedAt    time.Time
	SupersededAt *time.Time
	// VoidedAt is set on a version an admin voided (filed under the wrong
	// dyad, session or role): it left current data; VoidReason says why.
	VoidedAt   *time.Time
	VoidReason string
}

// Date is a calendar date without time zone, as sessions are recorded.
type Date struct {
	time.Time
}

// String formats the date as ISO 8601 (YYYY-MM-DD).
func (d Date) String() string { return d.Format(time.DateOnly) }

// ParseDate parses an ISO 8601 calendar date for the named field.
func ParseDate(field, s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, invalid(field, "invalid_date", "must be a date in the form YYYY-MM-DD")
	}
	return Date{t}, nil
}

// Page selects one page of a list in a stable order: items after the
// cursor After (an opaque id, empty for the first page), at most Limit.
type Page struct {
	Limit int
	After string
}

// Page limits: a default that suits a UI and a ceiling that keeps one
// response bounded.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// DyadFilter narrows a study's dyad list.
type DyadFilter struct {
	StudyID string
	// ClientCode and CounsellorCode, when set, match exactly.
	ClientCode     string
	CounsellorCode string
	Page           Page
}

// Idempotency identifies a retried write: the client's key, the request
// it came with (method and path: the route and its target) and a
// fingerprint of the whole request, so the same key with another body is
// refused.
type Idempotency struct {
	Key         string
	Request     string
	Fingerprint string
	// unscoped is the key as the client sent it, which scopedTo replaces:
	// the first release recorded keys so (see replay).
	unscoped string
}

// scopedTo returns the key the store records for i: the client's key
// scoped to the credential that sent it and to the request's route and
// target, as Stripe scopes keys to an account. So one credential's keys
// never block another's writes, and a key reused for another target is a
// new key there. The scoped key is a hash, of fixed length.
func (i *Idempotency) scopedTo(a Actor) *Idempotency {
	if i == nil {
		return nil
	}
	h := sha256.New()
	for _, part := range []string{a.Label(), i.Request, i.Key} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	out := *i
	out.Key, out.unscoped = hex.EncodeToString(h.Sum(nil)), i.Key
	return &out
}

// IdempotencyRecord is what the store remembers of a committed keyed write.
type IdempotencyRecord struct {
	Key         string
	Fingerprint string
	RatingID    string
}

// Session is what is known of one dyad session: each role's current rating
// (nil when not yet submitted) and, when both exist, their difference per
// scale, total first.
type Session struct {
	Dyad        Dyad
	Number      int
	Client      *Rating
	Counsellor  *Rating
	Differences []ScaleDifference
}

// Complete reports whether both sides have rated the session.
func (s Session) Complete() bool { return s.Client != nil && s.Counsellor != nil }
