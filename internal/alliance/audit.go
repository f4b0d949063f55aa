package alliance

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// AuditEntry records one write: who, what, when, and for changes the
// state before and after, as JSON. The log is append-only.
type AuditEntry struct {
	ID         int64
	At         time.Time
	Actor      string
	Action     string
	Resource   string
	ResourceID string
	StudyID    string
	// DyadID names the dyad the entry concerns, so that its erasure can
	// find and redact the entry's payload.
	DyadID string
	Before string
	After  string
	// RedactedAt is set once an erasure removed Before and After.
	RedactedAt *time.Time
	// Event, when set, is the outbox event the write publishes: the
	// store's write seam stores it in the write's transaction beside the
	// entry (it is not part of the log).
	Event *OutboxEvent
}

// AuditFilter narrows the audit log; Page.After is the last entry id seen.
type AuditFilter struct {
	StudyID    string
	Actor      string
	Action     string
	ResourceID string
	Since      *time.Time
	Limit      int
	AfterID    int64
}

// audit builds the entry of a write by the actor of ctx. before and after
// are domain values rendered as JSON; secrets never reach them.
func (s *Service) audit(ctx context.Context, action, resource, id, studyID, dyadID string, before, after any) AuditEntry {
	enc := func(v any) string {
		if v == nil {
			return ""
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprintf("%q", err.Error())
		}
		return string(b)
	}
	return AuditEntry{At: s.now(), Actor: ActorFrom(ctx).Label(), Action: action, Resource: resource,
		ResourceID: id, StudyID: studyID, DyadID: dyadID, Before: enc(before), After: enc(after)}
}

// FindAudit reads the audit log, oldest first; a study-bound admin reads
// its study's entries only.
func (s *Service) FindAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	p, err := checkPage(Page{Limit: f.Limit})
	if err != nil {
		return nil, err
	}
	f.Limit = p.Limit
	if bound := ActorFrom(ctx).StudyID; bound != "" {
		if f.StudyID != "" && f.StudyID != bound {
			return nil, nil
		}
		f.StudyID = bound
	}
	return s.store.FindAudit(ctx, f)
}

// ratingAudit is what the audit log keeps of a rating: enough to see what
// changed in an amendment (answers, date, version), no more. A map, not a
// tagged struct: the domain carries no serialisation tags.
func ratingAudit(r Rating) any {
	view := map[string]any{"dyad_id": r.DyadID, "session": r.Session, "role": r.Role, "answers": r.Answers, "version": r.Version}
	if r.SessionDate != nil {
		view["session_date"] = r.SessionDate.String()
	}
	return view
}
