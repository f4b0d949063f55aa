package alliance

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/alliance-project/alliance/internal/auth"
	"github.com/alliance-project/alliance/internal/egress"
)

// ErrSecretKeyUnset means webhooks cannot be created or rotated because
// the service has no key to seal their signing secrets with
// (ALLIANCE_SECRET_KEY).
var ErrSecretKeyUnset = fmt.Errorf("secret_key_unset: %w", ErrConflict)

// WebhookEndpoint is a study's webhook receiver: where its events go,
// which types, and the state of its deliveries.
type WebhookEndpoint struct {
	ID      string
	StudyID string
	URL     string
	// Events are the event types delivered (see EventTypes).
	Events []string
	// IncludeAnswers adds a rating's raw answers to its rating events.
	IncludeAnswers bool
	// Secret is the signing secret, sealed (see auth.SecretBox);
	// PreviousSecret, until PreviousExpiresAt, the one it replaced, which
	// still signs beside it during a rotation.
	Secret            string
	PreviousSecret    string
	PreviousExpiresAt *time.Time
	CreatedAt         time.Time
	CreatedBy         string
	// DisabledAt is set when deliveries kept failing for the whole retry
	// window (or an admin disabled it); DisabledReason says which.
	DisabledAt          *time.Time
	DisabledReason      string
	ConsecutiveFailures int
}

// Signing returns the sealed secrets that sign a message at now: the
// current one and, during a rotation's overlap, the previous one.
func (w WebhookEndpoint) Signing(now time.Time) []string {
	out := []string{w.Secret}
	if w.PreviousSecret != "" && w.PreviousExpiresAt != nil && now.Before(*w.PreviousExpiresAt) {
		out = append(out, w.PreviousSecret)
	}
	return out
}

// Delivery is one event due to one endpoint, as a dispatcher claims it.
type Delivery struct {
	ID       int64
	Endpoint WebhookEndpoint
	Event    OutboxEvent
	// Attempts made so far; RetryFrom starts the retry window.
	Attempts  int
	RetryFrom time.Time
}

// DeliveryOutcome is what became of one attempt.
type DeliveryOutcome struct {
	Delivery Delivery
	Owner    string
	At       time.Time
	// Status is the HTTP status (0: no response); Error why it failed.
	Status    int
	Latency   time.Duration
	Error     string
	Delivered bool
	// NextAttemptAt is when to try again; GiveUp ends the delivery as
	// failed and disables the endpoint with DisableReason.
	NextAttemptAt time.Time
	GiveUp        bool
	DisableReason string
}

// DeliveryAttempt is one line of an endpoint's delivery log.
type DeliveryAttempt struct {
	ID         int64
	DeliveryID int64
	EventID    string
	EventType  string
	Attempt    int
	At         time.Time
	Status     int
	Latency    time.Duration
	Error      string
}

// WebhookOptions configure the webhook use cases.
type WebhookOptions struct {
	// SecretBox seals signing secrets; nil (ALLIANCE_SECRET_KEY unset)
	// refuses to create or rotate webhooks.
	SecretBox *auth.SecretBox
	// AllowLoopback lets http://127.0.0.1 endpoints register: for
	// development and tests (ALLIANCE_WEBHOOK_ALLOW_LOOPBACK).
	AllowLoopback bool
	// Resolver resolves endpoint hosts at registration (default: the
	// system's).
	Resolver egress.Resolver
}

type webhookConfig struct {
	box      *auth.SecretBox
	policy   egress.Policy
	resolver egress.Resolver
}

// ConfigureWebhooks sets the webhook options; call it before serving.
func (s *Service) ConfigureWebhooks(o WebhookOptions) {
	s.webhooks = webhookConfig{box: o.SecretBox, policy: egress.Policy{AllowLoopback: o.AllowLoopback}, resolver: o.Resolver}
	if s.webhooks.resolver == nil {
		s.webhooks.resolver = net.DefaultResolver
	}
}

// WebhookInput registers an endpoint.
type WebhookInput struct {
	URL            string
	Events         []string
	IncludeAnswers bool
}

// Rotation overlaps: how long the previous secret keeps signing.
const (
	DefaultRotationOverlap = 24 * time.Hour
	MaxRotationOverlap     = 7 * 24 * time.Hour
)

// checkEvents validates event types (at least one, each known).
func checkEvents(fe *fieldErrors, events []string) []string {
	if len(events) == 0 {
		fe.add("events", "required", "at least one of "+strings.Join(EventTypes, ", "))
	}
	var out []string
	for i, e := range events {
		switch {
		case !slices.Contains(EventTypes, e):
			fe.add(fmt.Sprintf("events[%d]", i), "invalid_value", "one of "+strings.Join(EventTypes, ", "))
		case !slices.Contains(out, e):
			out = append(out, e)
		}
	}
	return out
}

// checkURL applies the egress policy to an endpoint URL.
func (s *Service) checkURL(ctx context.Context, fe *fieldErrors, raw string) {
	switch {
	case raw == "":
		fe.add("url", "required", "the https URL events are POSTed to")
	case len(raw) > 2000:
		fe.add("url", "too_long", "at most 2000 characters")
	default:
		if err := s.webhooks.policy.CheckURL(ctx, raw, s.webhooks.resolver); err != nil {
			fe.add("url", "refused", strings.TrimSuffix(err.Error(), ": "+egress.ErrRefused.Error()))
		}
	}
}

// CreateWebhook registers an endpoint for a study's events and returns it
// with its signing secret, which is shown this once: the service keeps it
// sealed with ALLIANCE_SECRET_KEY, for signing only.
func (s *Service) CreateWebhook(ctx context.Context, studyID string, in WebhookInput) (WebhookEndpoint, string, error) {
	st, err := s.FindStudyByID(ctx, studyID)
	if err != nil {
		return WebhookEndpoint{}, "", err
	}
	if s.webhooks.box == nil {
		return WebhookEndpoint{}, "", fmt.Errorf("webhooks need ALLIANCE_SECRET_KEY (32 random bytes, base64) to keep their signing secrets; "+
			"set it and restart: %w", ErrSecretKeyUnset)
	}
	var fe fieldErrors
	s.checkURL(ctx, &fe, in.URL)
	events := checkEvents(&fe, in.Events)
	if err := fe.err(); err != nil {
		return WebhookEndpoint{}, "", err
	}
	secret := auth.NewWebhookSecret()
	w := WebhookEndpoint{ID: newID("wh"), StudyID: st.ID, URL: in.URL, Events: events, IncludeAnswers: in.IncludeAnswers,
		Secret: s.webhooks.box.Seal(secret), CreatedAt: s.now(), CreatedBy: ActorFrom(ctx).Label()}
	if err := s.store.CreateWebhook(ctx, w, s.audit(ctx, "webhook.create", "webhook", w.ID, st.ID, "", nil, webhookAudit(w))); err != nil {
		return WebhookEndpoint{}, "", fmt.Errorf("create webhook: %w", err)
	}
	return w, secret, nil
}

func webhookAudit(w WebhookEndpoint) map[string]any {
	return map[string]any{"url": w.URL, "events": w.Events, "include_answers": w.IncludeAnswers, "enabled": w.DisabledAt == nil}
}

// FindWebhooks lists a study's endpoints.
func (s *Service) FindWebhooks(ctx context.Context, studyID string) ([]WebhookEndpoint, error) {
	if _, err := s.FindStudyByID(ctx, studyID); err != nil {
		return nil, err
	}
	return s.store.FindWebhooks(ctx, studyID)
}

// FindWebhook returns one endpoint.
func (s *Service) FindWebhook(ctx context.Context, id string) (WebhookEndpoint, error) {
	w, err := s.store.FindWebhookByID(ctx, id)
	if err == nil && !ActorFrom(ctx).sees(w.StudyID) {
		err = ErrNotFound
	}
	if err != nil {
		return WebhookEndpoint{}, fmt.Errorf("webhook %s: %w", id, err)
	}
	return w, nil
}

// WebhookUpdate changes an endpoint; nil fields stay as they are.
type WebhookUpdate struct {
	URL            *string
	Events         []string
	IncludeAnswers *bool
	// Enabled false disables the endpoint (deliveries wait); true enables
	// it again and retries what waited or failed, now.
	Enabled *bool
}

// UpdateWebhook changes an endpoint's URL, event types, answers opt-in
// or state; every change is audited with the settings before and after.
func (s *Service) UpdateWebhook(ctx context.Context, id string, in WebhookUpdate) (WebhookEndpoint, error) {
	w, err := s.FindWebhook(ctx, id)
	if err != nil {
		return WebhookEndpoint{}, err
	}
	before := webhookAudit(w)
	var fe fieldErrors
	if in.URL != nil {
		s.checkURL(ctx, &fe, *in.URL)
		w.URL = *in.URL
	}
	if in.Events != nil {
		w.Events = checkEvents(&fe, in.Events)
	}
	if err := fe.err(); err != nil {
		return WebhookEndpoint{}, err
	}
	if in.IncludeAnswers != nil {
		w.IncludeAnswers = *in.IncludeAnswers
	}
	requeue := false
	if in.Enabled != nil {
		switch {
		case *in.Enabled && w.DisabledAt != nil:
			w.DisabledAt, w.DisabledReason, w.ConsecutiveFailures, requeue = nil, "", 0, true
		case !*in.Enabled && w.DisabledAt == nil:
			at := s.now()
			w.DisabledAt, w.DisabledReason = &at, "disabled by an admin"
		}
	}
	if err := s.store.UpdateWebhook(ctx, w, requeue, s.audit(ctx, "webhook.update", "webhook", w.ID, w.StudyID, "", before, webhookAudit(w))); err != nil {
		return WebhookEndpoint{}, fmt.Errorf("update webhook %s: %w", id, err)
	}
	return w, nil
}

// RotateWebhookSecret gives an endpoint a new signing secret, shown this
// once. For overlap (default 24 h) the previous secret signs too: every
// delivery carries both signatures, so a receiver can switch secrets
// without losing an event.
func (s *Service) RotateWebhookSecret(ctx context.Context, id, overlap string) (WebhookEndpoint, string, error) {
	w, err := s.FindWebhook(ctx, id)
	if err != nil {
		return WebhookEndpoint{}, "", err
	}
	d := DefaultRotationOverlap
	if overlap != "" {
		if d, err = time.ParseDuration(overlap); err != nil || d < 0 || d > MaxRotationOverlap {
			return WebhookEndpoint{}, "", invalid("overlap", "out_of_range", "a duration such as 24h, from 0 to 168h (7 days)")
		}
	}
	if s.webhooks.box == nil {
		return WebhookEndpoint{}, "", fmt.Errorf("rotating a secret needs ALLIANCE_SECRET_KEY: %w", ErrSecretKeyUnset)
	}
	secret := auth.NewWebhookSecret()
	until := s.now().Add(d)
	w.PreviousSecret, w.PreviousExpiresAt, w.Secret = w.Secret, &until, s.webhooks.box.Seal(secret)
	audit := s.audit(ctx, "webhook.rotate", "webhook", w.ID, w.StudyID, "", nil, map[string]any{"previous_expires_at": until})
	if err := s.store.UpdateWebhook(ctx, w, false, audit); err != nil {
		return WebhookEndpoint{}, "", fmt.Errorf("rotate webhook secret %s: %w", id, err)
	}
	return w, secret, nil
}

// DeleteWebhook removes an endpoint with its pending deliveries and log.
func (s *Service) DeleteWebhook(ctx context.Context, id string) error {
	w, err := s.FindWebhook(ctx, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteWebhook(ctx, w.ID, s.audit(ctx, "webhook.delete", "webhook", w.ID, w.StudyID, "", webhookAudit(w), nil)); err != nil {
		return fmt.Errorf("delete webhook %s: %w", id, err)
	}
	return nil
}

// WebhookAttempts returns an endpoint's last delivery attempts, newest
// first (at most limit, default 50).
func (s *Service) WebhookAttempts(ctx context.Context, id string, limit int) ([]DeliveryAttempt, error) {
	p, err := checkPage(Page{Limit: limit})
	if err != nil {
		return nil, err
	}
	if _, err := s.FindWebhook(ctx, id); err != nil {
		return nil, err
	}
	return s.store.FindWebhookAttempts(ctx, id, p.Limit)
}

// ReplayWebhook sends the study's events of the endpoint's types stored
// at or after since to the endpoint again, with their original
// webhook-id, and returns how many were queued.
func (s *Service) ReplayWebhook(ctx context.Context, id, since string) (int, error) {
	if since == "" {
		return 0, invalid("since", "required", "an RFC 3339 time: events stored at or after it are sent again")
	}
	t, err := time.Parse(time.RFC3339, since)
	if err != nil {
		return 0, invalid("since", "invalid_value", "an RFC 3339 time such as 2026-11-23T00:00:00Z")
	}
	w, err := s.FindWebhook(ctx, id)
	if err != nil {
		return 0, err
	}
	audit := s.audit(ctx, "webhook.replay", "webhook", w.ID, w.StudyID, "", nil, map[string]any{"since": t.UTC()})
	n, err := s.store.ReplayEvents(ctx, w, t.UTC(), s.now(), audit)
	if err != nil {
		return 0, fmt.Errorf("replay webhook %s: %w", id, err)
	}
	return n, nil
}
