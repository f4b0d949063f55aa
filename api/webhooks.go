package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
)

// CreateWebhookRequest registers a webhook endpoint for a study's events.
type CreateWebhookRequest struct {
	// URL must be https (plain http only to loopback, where the server
	// allows it for development). Private, link-local and cloud metadata
	// addresses are refused, here and at every delivery.
	URL string `json:"url" example:"https://dashboard.example.org/hooks/alliance" validate:"required"`
	// Events are the types delivered: rating.created, rating.amended,
	// rating.voided, alert.raised, alert.acknowledged, alert.resolved,
	// dyad.withdrawn.
	Events []string `json:"events" example:"alert.raised,alert.acknowledged" validate:"required"`
	// IncludeAnswers adds raw answers to rating events (audited).
	IncludeAnswers bool `json:"include_answers,omitempty"`
}

// UpdateWebhookRequest changes an endpoint; absent fields stay.
type UpdateWebhookRequest struct {
	URL            *string  `json:"url,omitempty" example:"https://dashboard.example.org/hooks/alliance"`
	Events         []string `json:"events,omitempty" example:"alert.raised"`
	IncludeAnswers *bool    `json:"include_answers,omitempty"`
	// Enabled false pauses deliveries (they wait); true enables a disabled
	// endpoint and retries what waited or failed, now.
	Enabled *bool `json:"enabled,omitempty"`
}

// WebhookResponse is an endpoint; it never holds the secret.
type WebhookResponse struct {
	ID             string    `json:"id" example:"wh_01jd8x2k4m5n6p7q8r9s0t1v2w"`
	StudyID        string    `json:"study_id"`
	URL            string    `json:"url"`
	Events         []string  `json:"events" example:"alert.raised"`
	IncludeAnswers bool      `json:"include_answers"`
	CreatedAt      time.Time `json:"created_at" format:"date-time"`
	CreatedBy      string    `json:"created_by" example:"key:01jd8x0000000000000000000a"`
	// Enabled is false once deliveries kept failing for the whole retry
	// window (24 h), or an admin disabled it; DisabledReason says which.
	Enabled             bool       `json:"enabled"`
	DisabledAt          *time.Time `json:"disabled_at,omitempty" format:"date-time"`
	DisabledReason      string     `json:"disabled_reason,omitempty"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	// PreviousSecretExpiresAt is the end of a rotation's overlap, while
	// the previous secret also signs.
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty" format:"date-time"`
}

// CreatedWebhookResponse is an endpoint with its signing secret: shown
// this once only.
type CreatedWebhookResponse struct {
	WebhookResponse
	// Secret is the Standard Webhooks signing secret, whsec_ + base64.
	Secret string `json:"secret" example:"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"`
}

// WebhookList lists a study's endpoints.
type WebhookList struct {
	Items []WebhookResponse `json:"items"`
}

// DeliveryAttemptResponse is one attempt of the delivery log.
type DeliveryAttemptResponse struct {
	DeliveryID int64     `json:"delivery_id" example:"17"`
	EventID    string    `json:"event_id" example:"msg_01jd8x2k4m5n6p7q8r9s0t1v2w"`
	EventType  string    `json:"event_type" example:"alert.raised"`
	Attempt    int       `json:"attempt" example:"1"`
	At         time.Time `json:"at" format:"date-time"`
	// Status is the receiver's HTTP status; absent when it gave none.
	Status    int    `json:"status,omitempty" example:"204"`
	LatencyMs int64  `json:"latency_ms" example:"38"`
	Error     string `json:"error,omitempty" example:"receiver answered with a non-2xx status: 503"`
}

// DeliveryLog is an endpoint's last attempts, newest first.
type DeliveryLog struct {
	Items []DeliveryAttemptResponse `json:"items"`
}

// ReplayResponse says how many events were queued again.
type ReplayResponse struct {
	Queued int `json:"queued" example:"12"`
}

func toWebhookResponse(w alliance.WebhookEndpoint) WebhookResponse {
	out := WebhookResponse{ID: w.ID, StudyID: w.StudyID, URL: w.URL, Events: w.Events, IncludeAnswers: w.IncludeAnswers,
		CreatedAt: w.CreatedAt, CreatedBy: w.CreatedBy, Enabled: w.DisabledAt == nil, DisabledAt: w.DisabledAt,
		DisabledReason: w.DisabledReason, ConsecutiveFailures: w.ConsecutiveFailures}
	if w.PreviousExpiresAt != nil && time.Now().Before(*w.PreviousExpiresAt) {
		out.PreviousSecretExpiresAt = w.PreviousExpiresAt
	}
	return out
}

// createWebhook godoc
//
//	@Summary		Register a webhook endpoint
//	@Description	Events of the study are POSTed to the URL as the Standard Webhooks specification says: headers webhook-id (the event's id, the same on every retry: deduplicate by it), webhook-timestamp and webhook-signature (v1,base64 HMAC-SHA256 over id.timestamp.body). The signing secret is in this response only; the server keeps it sealed with ALLIANCE_SECRET_KEY, and answers 409 (code secret_key_unset) when that is not set. Delivery is at least once, retried with backoff for 24 h; see the alerts and webhooks guide.
//	@Tags			webhooks
//	@Accept			json
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id		path		string					true	"study id"
//	@Param			body	body		CreateWebhookRequest	true	"the endpoint"
//	@Success		201		{object}	CreatedWebhookResponse
//	@Header			201		{string}	Location	"/v1/webhooks/{id}"
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		409		{object}	Problem
//	@Failure		413		{object}	Problem
//	@Failure		415		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Failure		429		{object}	Problem
//	@ID				createWebhook
//	@Router			/v1/studies/{id}/webhooks [post]
func (s *server) createWebhook(c *gin.Context) error {
	var req CreateWebhookRequest
	if _, err := readJSON(c, &req); err != nil {
		return err
	}
	w, secret, err := s.svc.CreateWebhook(c.Request.Context(), c.Param("id"), alliance.WebhookInput(req))
	if err != nil {
		return err
	}
	c.Header("Location", "/v1/webhooks/"+w.ID)
	c.JSON(http.StatusCreated, CreatedWebhookResponse{WebhookResponse: toWebhookResponse(w), Secret: secret})
	return nil
}

// listWebhooks godoc
//
//	@Summary	List a study's webhook endpoints
//	@Tags		webhooks
//	@Produce	json,application/problem+json
//	@Security	BearerAuth
//	@Param		id	path		string	true	"study id"
//	@Success	200	{object}	WebhookList
//	@Failure	401	{object}	Problem
//	@Failure	403	{object}	Problem
//	@Failure	404	{object}	Problem
//	@ID			listWebhooks
//	@Router		/v1/studies/{id}/webhooks [get]
func (s *server) listWebhooks(c *gin.Context) error {
	ws, err := s.svc.FindWebhooks(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	out := WebhookList{Items: make([]WebhookResponse, len(ws))}
	for i, w := range ws {
		out.Items[i] = toWebhookResponse(w)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// getWebhook godoc
//
//	@Summary	Get a webhook endpoint and its state
//	@Tags		webhooks
//	@Produce	json,application/problem+json
//	@Security	BearerAuth
//	@Param		id	path		string	true	"webhook id"
//	@Success	200	{object}	WebhookResponse
//	@Failure	401	{object}	Problem
//	@Failure	403	{object}	Problem
//	@Failure	404	{object}	Problem
//	@ID			getWebhook
//	@Router		/v1/webhooks/{id} [get]
func (s *server) getWebhook(c *gin.Context) error {
	w, err := s.svc.FindWebhook(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toWebhookResponse(w))
	return nil
}

// updateWebhook godoc
//
//	@Summary		Change a webhook endpoint
//	@Description	Changes the URL (checked as at registration), the event types, the answers opt-in or the state; every change is audited. enabled: true on a disabled endpoint retries what waited or failed, now.
//	@Tags			webhooks
//	@Accept			json
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id		path		string					true	"webhook id"
//	@Param			body	body		UpdateWebhookRequest	true	"the changes"
//	@Success		200		{object}	WebhookResponse
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		413		{object}	Problem
//	@Failure		415		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Failure		429		{object}	Problem
//	@ID				updateWebhook
//	@Router			/v1/webhooks/{id} [patch]
func (s *server) updateWebhook(c *gin.Context) error {
	var req UpdateWebhookRequest
	if _, err := readJSON(c, &req); err != nil {
		return err
	}
	w, err := s.svc.UpdateWebhook(c.Request.Context(), c.Param("id"), alliance.WebhookUpdate(req))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toWebhookResponse(w))
	return nil
}

// deleteWebhook godoc
//
//	@Summary	Delete a webhook endpoint
//	@Tags		webhooks
//	@Produce	json,application/problem+json
//	@Security	BearerAuth
//	@Param		id	path	string	true	"webhook id"
//	@Success	204
//	@Failure	401	{object}	Problem
//	@Failure	403	{object}	Problem
//	@Failure	404	{object}	Problem
//	@Failure	429	{object}	Problem
//	@ID			deleteWebhook
//	@Router		/v1/webhooks/{id} [delete]
func (s *server) deleteWebhook(c *gin.Context) error {
	if err := s.svc.DeleteWebhook(c.Request.Context(), c.Param("id")); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// rotateWebhook godoc
//
//	@Summary		Rotate a webhook's signing secret
//	@Description	Returns a new secret, shown this once. Until the overlap ends (default 24h, at most 168h) the previous secret signs too: each delivery carries both signatures, space-separated in webhook-signature.
//	@Tags			webhooks
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id		path		string	true	"webhook id"
//	@Param			overlap	query		string	false	"how long the previous secret keeps signing, e.g. 24h"
//	@Success		200		{object}	CreatedWebhookResponse
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		409		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Failure		429		{object}	Problem
//	@ID				rotateWebhookSecret
//	@Router			/v1/webhooks/{id}/rotate [post]
func (s *server) rotateWebhook(c *gin.Context) error {
	w, secret, err := s.svc.RotateWebhookSecret(c.Request.Context(), c.Param("id"), c.Query("overlap"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, CreatedWebhookResponse{WebhookResponse: toWebhookResponse(w), Secret: secret})
	return nil
}

// webhookDeliveries godoc
//
//	@Summary		An endpoint's delivery log
//	@Description	The last attempts (the server keeps 100 per endpoint), newest first, with HTTP status and latency. No payloads.
//	@Tags			webhooks
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id		path		string	true	"webhook id"
//	@Param			limit	query		int		false	"how many (1-500, default 50)"
//	@Success		200		{object}	DeliveryLog
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		404		{object}	Problem
//	@ID				listWebhookDeliveries
//	@Router			/v1/webhooks/{id}/deliveries [get]
func (s *server) webhookDeliveries(c *gin.Context) error {
	limit := 0
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > alliance.MaxLimit {
			return malformed("limit", "out_of_range", "limit must be an integer from 1 to 500")
		}
		limit = n
	}
	as, err := s.svc.WebhookAttempts(c.Request.Context(), c.Param("id"), limit)
	if err != nil {
		return err
	}
	out := DeliveryLog{Items: make([]DeliveryAttemptResponse, len(as))}
	for i, a := range as {
		out.Items[i] = DeliveryAttemptResponse{DeliveryID: a.DeliveryID, EventID: a.EventID, EventType: a.EventType, Attempt: a.Attempt,
			At: a.At, Status: a.Status, LatencyMs: a.Latency.Milliseconds(), Error: a.Error}
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// replayWebhook godoc
//
//	@Summary		Send past events again
//	@Description	Queues the study's events of the endpoint's types stored at or after since for delivery to it again, with their original webhook-id. Audited.
//	@Tags			webhooks
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id		path		string	true	"webhook id"
//	@Param			since	query		string	true	"RFC 3339 time"	Format(date-time)
//	@Success		200		{object}	ReplayResponse
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		429		{object}	Problem
//	@ID				replayWebhookEvents
//	@Router			/v1/webhooks/{id}/replay [post]
func (s *server) replayWebhook(c *gin.Context) error {
	since := c.Query("since")
	if _, err := time.Parse(time.RFC3339, since); err != nil {
		return malformed("since", "invalid_value", "since is required: an RFC 3339 time such as 2026-11-23T00:00:00Z")
	}
	n, err := s.svc.ReplayWebhook(c.Request.Context(), c.Param("id"), since)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, ReplayResponse{Queued: n})
	return nil
}
