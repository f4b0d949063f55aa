package alliance

import (
	"encoding/json"
	"time"
)

// Event types a webhook endpoint can subscribe to.
const (
	EventRatingCreated     = "rating.created"
	EventRatingAmended     = "rating.amended"
	EventRatingVoided      = "rating.voided"
	EventAlertRaised       = "alert.raised"
	EventAlertAcknowledged = "alert.acknowledged"
	EventAlertResolved     = "alert.resolved"
	EventDyadWithdrawn     = "dyad.withdrawn"
)

// EventTypes lists every event type.
var EventTypes = []string{EventRatingCreated, EventRatingAmended, EventRatingVoided, EventAlertRaised, EventAlertAcknowledged,
	EventAlertResolved, EventDyadWithdrawn}

// OutboxEvent is one event a write publishes. It is stored in the write's
// own transaction (the outbox), and delivered from there to the study's
// webhook endpoints at least once. ID is the webhook-id every delivery of
// it carries, retries and replays included. Data is the pseudonymous
// payload: ids, codes, scores and alert figures, never answers (an
// endpoint that opted in gets a rating's answers added at delivery).
type OutboxEvent struct {
	ID        string
	StudyID   string
	DyadID    string
	Type      string
	Data      []byte
	CreatedAt time.Time
}

// newEvent builds an event; data is rendered as JSON (maps and slices of
// plain values: the domain carries no serialisation tags).
func (s *Service) newEvent(typ string, studyID, dyadID string, data map[string]any) *OutboxEvent {
	b, err := json.Marshal(data)
	if err != nil { // only plain values go in
		panic("alliance: event data: " + err.Error())
	}
	return &OutboxEvent{ID: newID("msg"), StudyID: studyID, DyadID: dyadID, Type: typ, Data: b, CreatedAt: s.now()}
}

// withEvent attaches the event a write publishes to its audit entry: the
// write seam stores both in the write's transaction.
func withEvent(e AuditEntry, ev *OutboxEvent) AuditEntry {
	e.Event = ev
	return e
}

// ratingEventData is what an event says of a rating version: ids, codes,
// session, role, form and scores. Answers are added at delivery only for
// endpoints that opted in (include_answers), from the version RatingID
// names, which never changes.
func ratingEventData(r Rating, d Dyad) map[string]any {
	scores := map[string]any{"total": scoreData(r.Scores.Total)}
	subs := map[string]any{}
	for k, v := range r.Scores.Subscales {
		subs[k] = scoreData(v)
	}
	scores["subscales"] = subs
	return map[string]any{
		"rating_id": r.ID, "study_id": r.StudyID, "dyad_id": r.DyadID,
		"client_code": d.ClientCode, "counsellor_code": d.CounsellorCode,
		"session": r.Session, "role": r.Role, "instrument": r.FormID, "version": r.Version,
		"scores": scores,
	}
}

func scoreData(s Score) map[string]any {
	return map[string]any{"mean": s.Mean, "sum": s.Sum, "answered": s.Answered, "items": s.Items, "prorated": s.Prorated}
}

// AlertData is the event payload of an alert: the same fields as the
// alert resource.
func AlertData(a Alert) map[string]any {
	out := map[string]any{
		"id": a.ID, "study_id": a.StudyID, "dyad_id": a.DyadID,
		"client_code": a.ClientCode, "counsellor_code": a.CounsellorCode,
		"kind": a.Kind, "session": a.Session, "state": a.State(),
		"rating_id": a.RatingID, "rating_ids": a.RatingIDs, "rule": AlertRule(a.Kind),
		"figures": FiguresData(a), "created_at": a.CreatedAt,
	}
	if a.Role != "" {
		out["role"] = a.Role
	}
	if a.EpisodeID != "" {
		out["episode_id"] = a.EpisodeID
	}
	if a.Kind == AlertDivergence {
		out["direction"] = a.Figures.Direction
		out["clinically_worrying"] = a.Worrying()
	}
	if a.AcknowledgedAt != nil {
		out["acknowledged_at"], out["acknowledged_by"] = a.AcknowledgedAt, a.AcknowledgedBy
	}
	if a.ResolvedAt != nil {
		out["resolved_at"], out["resolved_by"], out["resolved_reason"] = a.ResolvedAt, a.ResolvedBy, a.ResolvedReason
	}
	return out
}

// resolvedData is the payload of alert.resolved: what names the alert
// (a rating write reads no more of it) and its resolution; the figures
// are the alert resource's, which the alert's id reaches.
func resolvedData(a Alert, r AlertResolution, d Dyad) map[string]any {
	out := map[string]any{
		"id": a.ID, "study_id": d.StudyID, "dyad_id": d.ID,
		"client_code": d.ClientCode, "counsellor_code": d.CounsellorCode,
		"kind": a.Kind, "session": a.Session, "state": AlertResolved, "rating_ids": a.RatingIDs,
		"resolved_at": r.At, "resolved_by": r.By, "resolved_reason": r.Reason,
	}
	if a.Role != "" {
		out["role"] = a.Role
	}
	if a.EpisodeID != "" {
		out["episode_id"] = a.EpisodeID
	}
	return out
}

// FiguresData renders an alert's figures, the ones of its kind only.
func FiguresData(a Alert) map[string]any {
	f := a.Figures
	out := map[string]any{"metric": f.Metric}
	switch a.Kind {
	case AlertDivergence:
		out["client"], out["counsellor"], out["difference"], out["band"] = f.Client, f.Counsellor, f.Difference, f.Band
	case AlertRupture, AlertRepair:
		out["previous_session"], out["previous"], out["current"], out["change"] = f.PreviousSession, f.Previous, f.Current, f.Change
		out["s_diff"], out["threshold"], out["z"] = f.SDiff, f.Threshold, f.Z
		rel := map[string]any{"alpha": f.Reliability.Alpha, "sd": f.Reliability.SD, "source": f.Reliability.Source}
		if f.Reliability.Source == ReliabilityStudy {
			rel["n"] = f.Reliability.N
		} else {
			rel["citation"] = f.Reliability.Citation
		}
		out["reliability"] = rel
		if a.Kind == AlertRupture {
			out["rci"] = f.RCI
		} else {
			out["rupture_session"], out["rupture"] = f.RuptureSession, f.Rupture
		}
	case AlertLowAlliance:
		out["sum"], out["cutoff"], out["cutoff_source"] = f.Sum, f.Cutoff, f.CutoffSource
	}
	return out
}
