package alliance

import (
	"context"
	"time"
)

// Store is the persistence the domain needs. Implementations translate
// their own errors to ErrNotFound, ErrConflict, ErrIdempotencyKeyTaken and
// ErrUnavailable, and make every method that writes atomic: a failed call
// leaves nothing behind.
type Store interface {
	CreateStudy(ctx context.Context, s Study, audit ...AuditEntry) error
	FindStudyByID(ctx context.Context, id string) (Study, error)
	FindStudies(ctx context.Context, p Page) ([]Study, error)

	CreateDyad(ctx context.Context, d Dyad, audit ...AuditEntry) error
	FindDyadByID(ctx context.Context, id string) (Dyad, error)
	// FindRatingTarget returns the dyad a rating is about to be written
	// for, and its study, or ErrNotFound. Every rating reads them, and an
	// implementation may answer from a cache that lags other instances'
	// writes: what a rating takes from them never changes (the dyad's
	// study, the study's forms and policy), and the rating's own write
	// re-checks the dyad in the database, refusing a rating of a dyad
	// erased (ErrNotFound) or withdrawn (ErrWithdrawn) meanwhile. The
	// study's alert thresholds, which do change, may be stale here: alert
	// evaluation reads them in the rating's own transaction (WriteRating).
	FindRatingTarget(ctx context.Context, dyadID string) (Dyad, Study, error)
	FindDyads(ctx context.Context, f DyadFilter) ([]Dyad, error)
	// FindCounsellorCodes maps every dyad id of a study to its counsellor
	// code: the clusters of the study-level statistics.
	FindCounsellorCodes(ctx context.Context, studyID string) (map[string]string, error)
	// WithdrawDyad records w over the withdrawal of scope from ("" for a
	// dyad not withdrawn) and revokes the dyad's pending survey links in
	// one transaction; ErrConflict if the dyad's withdrawal is no longer
	// from. From then on the store refuses the dyad's new ratings with
	// ErrWithdrawn, whatever copy of the dyad a caller holds.
	WithdrawDyad(ctx context.Context, id, from string, w Withdrawal, audit ...AuditEntry) error
	// EraseDyad deletes the dyad and everything of it (ratings with their
	// history, survey links, idempotency records), redacts the payloads of
	// its audit entries, and purges the deleted bytes from the database
	// files. ErrNotFound if there is no such dyad.
	EraseDyad(ctx context.Context, id string, at time.Time, audit ...AuditEntry) error
	// EraseStudy erases a study as EraseDyad erases a dyad: its dyads, the
	// keys bound to it, and its audit payloads.
	EraseStudy(ctx context.Context, id string, at time.Time, audit ...AuditEntry) error

	// CreateRating inserts the first version of a rating and, when idem is
	// not nil, records the key in the same transaction. A current rating for
	// the same dyad, session and role yields ErrConflict; a recorded key
	// yields ErrIdempotencyKeyTaken.
	CreateRating(ctx context.Context, r Rating, idem *Idempotency, audit ...AuditEntry) error
	// AmendRating supersedes the current version prev and inserts r as the
	// next version, in one transaction. If prev is no longer current (a
	// concurrent amendment won), it yields ErrConflict.
	AmendRating(ctx context.Context, prev, r Rating, idem *Idempotency, audit ...AuditEntry) error
	// FindRatingByID returns one version of a rating, current or not.
	FindRatingByID(ctx context.Context, id string) (Rating, error)
	// FindRatings returns the current ratings of a dyad over all its
	// sessions, ordered by session and role.
	FindRatings(ctx context.Context, dyadID string) ([]Rating, error)
	// FindSessionRatings returns the current ratings of one session of a
	// dyad, ordered by role.
	FindSessionRatings(ctx context.Context, dyadID string, session int) ([]Rating, error)
	// FindRatingHistory returns every version of one rating, oldest first.
	FindRatingHistory(ctx context.Context, dyadID string, session int, role Role) ([]Rating, error)
	// VoidRating takes the current version id out of current data, with no
	// successor; ErrConflict if it is no longer current.
	VoidRating(ctx context.Context, id string, at time.Time, reason string, audit ...AuditEntry) error

	// FindStudyRatings returns the current ratings of a study at one
	// session per dyad: session sel.Number, or each dyad's first (last)
	// complete session, or, for a dyad never complete, its first (last)
	// rated session. Only the fields agreement needs are guaranteed:
	// StudyID, DyadID, Session, Role, FormID, Answers and Scores.
	FindStudyRatings(ctx context.Context, studyID string, sel SessionSelector) ([]Rating, error)

	// FindStudyScalePairs returns, for every dyad session of a study that
	// both sides rated, the two means of one scale (nil where a score is
	// missing), in no particular order, and every session number anyone
	// rated, ascending: what trajectories over sessions need, without
	// decoding 200,000 score documents.
	FindStudyScalePairs(ctx context.Context, studyID, scale string) ([]SessionPair, []int, error)
	// CountStudyRatings counts a study's dyads and, per session number
	// rated, its current client and counsellor ratings and the dyads with
	// both.
	CountStudyRatings(ctx context.Context, studyID string) (Completion, error)

	FindIdempotency(ctx context.Context, key string) (IdempotencyRecord, error)

	// StreamStudyRatings calls fn for every current rating of a study, with
	// its dyad's codes, ordered by dyad, session and role, without holding
	// them all in memory. With since, only ratings stored after it are
	// streamed; wholeSessions then keeps both ratings of any session in
	// which either changed. The row's answers, scores, session date and
	// withdrawal may be reused for the next row: fn copies what it keeps
	// of them (strings may be kept).
	StreamStudyRatings(ctx context.Context, studyID string, since *time.Time, wholeSessions bool, fn func(ExportRow) error) error

	// Writes take the audit entries to append in their own transaction, so
	// the log has exactly the writes that were committed.

	CreateKey(ctx context.Context, k Key, audit ...AuditEntry) error
	FindKeyByID(ctx context.Context, id string) (Key, error)
	// FindKeys lists keys in creation order; studyID "" lists all.
	FindKeys(ctx context.Context, studyID string, p Page) ([]Key, error)
	CountKeys(ctx context.Context) (int, error)
	RevokeKey(ctx context.Context, id string, at time.Time, audit ...AuditEntry) error

	CreateInvitation(ctx context.Context, inv Invitation, audit ...AuditEntry) error
	FindInvitationByID(ctx context.Context, id string) (Invitation, error)
	// FindInvitations lists a dyad's survey links, oldest first.
	FindInvitations(ctx context.Context, dyadID string) ([]Invitation, error)
	// RevokeInvitation revokes an unused link; ErrConflict if it was used
	// or revoked meanwhile.
	RevokeInvitation(ctx context.Context, id string, at time.Time, audit ...AuditEntry) error
	// CreateInvitedRating uses up invitation invID (ErrGone if it is used or
	// expired at now) and inserts r, in one transaction, recording idem as
	// CreateRating does.
	CreateInvitedRating(ctx context.Context, invID string, now time.Time, r Rating, idem *Idempotency, audit ...AuditEntry) error

	FindAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)

	CreateUISession(ctx context.Context, us UISession, audit ...AuditEntry) error
	FindUISessionByID(ctx context.Context, id string) (UISession, error)
	// EndUISession marks a session ended at at; a session that does not
	// exist or has already ended yields ErrNotFound.
	EndUISession(ctx context.Context, id string, at time.Time, audit ...AuditEntry) error
	// WriteRating is every rating write with its effects, in one
	// transaction: a first rating (RatingCreate), a survey link's
	// (RatingInvited), an amendment (RatingAmend) or a void (RatingVoid),
	// each as the method of the same name above does it, plus, when
	// w.Alerts is set, the alert changes it returns. In the transaction and
	// before the write, the store takes the dyad's alert lock (no other
	// write of its alerts runs until this one commits), reads what alert
	// evaluation needs of the dyad (see AlertContext: its study's alert
	// thresholds, its unresolved alerts and the current ratings that bear
	// on the write, each with its id, session, role and total score; the
	// rest may be left out: the rules use the total's mean and sum), and
	// calls w.Alerts with it, once per attempt to commit. Each alert raised
	// is inserted unless its key exists, and publishes its event only if
	// it was; the resolutions are applied. Audit entries' events are stored
	// with them.
	WriteRating(ctx context.Context, w RatingWrite) error
	// FindAlerts lists alerts in id order after f.Page.After, with their
	// dyads' codes.
	FindAlerts(ctx context.Context, f AlertFilter) ([]Alert, error)
	FindAlertByID(ctx context.Context, id string) (Alert, error)
	// AcknowledgeAlert marks an unresolved, unacknowledged alert seen;
	// ErrConflict when it is not (any more).
	AcknowledgeAlert(ctx context.Context, id string, at time.Time, by string, audit ...AuditEntry) error
	UpdateAlertThresholds(ctx context.Context, studyID string, th AlertThresholds, audit ...AuditEntry) error

	CreateWebhook(ctx context.Context, w WebhookEndpoint, audit ...AuditEntry) error
	FindWebhookByID(ctx context.Context, id string) (WebhookEndpoint, error)
	// FindWebhooks lists a study's endpoints, oldest first.
	FindWebhooks(ctx context.Context, studyID string) ([]WebhookEndpoint, error)
	// UpdateWebhook stores the endpoint's settings, secrets and state;
	// requeue puts its pending and failed deliveries back to be tried now,
	// with a new retry window (an endpoint enabled again).
	UpdateWebhook(ctx context.Context, w WebhookEndpoint, requeue bool, audit ...AuditEntry) error
	// DeleteWebhook deletes an endpoint with its deliveries and log.
	DeleteWebhook(ctx context.Context, id string, audit ...AuditEntry) error
	// FindWebhookAttempts returns an endpoint's last delivery attempts,
	// newest first.
	FindWebhookAttempts(ctx context.Context, endpointID string, limit int) ([]DeliveryAttempt, error)
	// ReplayEvents queues the study's events of the endpoint's types
	// stored at or after since for delivery to it again, and returns how
	// many.
	ReplayEvents(ctx context.Context, w WebhookEndpoint, since, now time.Time, audit ...AuditEntry) (int, error)

	// The dispatcher's side of the outbox (see internal/webhook).

	// FanOutEvents turns up to limit stored events into one delivery per
	// endpoint of their study subscribed to their type.
	FanOutEvents(ctx context.Context, now time.Time, limit int) (int, error)
	// ClaimDeliveries leases up to limit due deliveries of enabled
	// endpoints, but the endpoints in skip, to owner until until: no
	// other dispatcher takes them before then.
	ClaimDeliveries(ctx context.Context, owner string, now, until time.Time, limit int, skip []string) ([]Delivery, error)
	// ReleaseDeliveries gives deliveries owner claimed back, unattempted.
	ReleaseDeliveries(ctx context.Context, owner string, ids []int64) error
	// FinishDelivery records an attempt's outcome, if owner still holds
	// the lease.
	FinishDelivery(ctx context.Context, o DeliveryOutcome) error

	// CreateInstrument stores a family definition; ErrConflict when its
	// id and version are stored already. Definitions are never changed
	// or deleted.
	CreateInstrument(ctx context.Context, d InstrumentDefinition, audit ...AuditEntry) error
	// FindInstruments returns every stored definition, oldest first.
	FindInstruments(ctx context.Context) ([]InstrumentDefinition, error)
	// CountInstruments counts the stored definitions.
	CountInstruments(ctx context.Context) (int, error)

	// Ping reports whether the database answers and its schema is current.
	Ping(ctx context.Context) error
}
