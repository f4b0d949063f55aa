package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
)

// CreateKeyRequest asks for an API key.
type CreateKeyRequest struct {
	Name    string   `json:"name" example:"tablet frontend, ward 3" validate:"required"`
	Scopes  []string `json:"scopes" example:"collect" validate:"required"`
	StudyID string   `json:"study_id,omitempty" example:"st_01jd8x2k4m5n6p7q8r9s0t1v2w"`
}

// KeyResponse describes an API key; it never holds the secret.
type KeyResponse struct {
	ID        string     `json:"id" example:"01jd8x2k4m5n6p7q8r9s0t1v2w"`
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes" example:"collect"`
	StudyID   *string    `json:"study_id" extensions:"x-nullable"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by" example:"key:01jd8x0000000000000000000a"`
	RevokedAt *time.Time `json:"revoked_at" extensions:"x-nullable"`
}

// CreatedKeyResponse is a new key with its token: shown this once only.
type CreatedKeyResponse struct {
	KeyResponse
	Token string `json:"token" example:"alk_01jd8x2k4m5n6p7q8r9s0t1v2w.q2Jx…"`
}

// KeyList is one page of keys.
type KeyList struct {
	Items []KeyResponse `json:"items"`
	Next  *string       `json:"next" extensions:"x-nullable"`
}

func toKeyResponse(k alliance.Key) KeyResponse {
	out := KeyResponse{ID: k.ID, Name: k.Name, Scopes: make([]string, len(k.Scopes)),
		CreatedAt: k.CreatedAt, CreatedBy: k.CreatedBy, RevokedAt: k.RevokedAt}
	for i, s := range k.Scopes {
		out.Scopes[i] = string(s)
	}
	if k.StudyID != "" {
		out.StudyID = &k.StudyID
	}
	return out
}

// createKey godoc
//
//	@Summary		Create an API key
//	@Description	Scopes: admin (studies, dyads, keys, invitations, audit), collect (submit ratings; no reading back), analyze (read scores, agreement, exports, alerts; no writing), alerts (a clinical dashboard: read and acknowledge alerts, nothing else). A key may be bound to one study. The token is in this response only; the server keeps a hash.
//	@Tags			access
//	@Accept			json
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			body	body		CreateKeyRequest	true	"the key"
//	@Success		201		{object}	CreatedKeyResponse
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Failure		429		{object}	Problem
//	@ID				createKey
//	@Router			/v1/keys [post]
func (s *server) createKey(c *gin.Context) error {
	var req CreateKeyRequest
	if _, err := readJSON(c, &req); err != nil {
		return err
	}
	k, tok, err := s.svc.CreateKey(c.Request.Context(), alliance.KeyInput(req))
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, CreatedKeyResponse{KeyResponse: toKeyResponse(k), Token: tok})
	return nil
}

// listKeys godoc
//
//	@Summary	List API keys (never their secrets)
//	@Tags		access
//	@Produce	json,application/problem+json
//	@Security	BearerAuth
//	@Param		limit	query		int		false	"page size (1-500, default 50)"
//	@Param		after	query		string	false	"cursor: the next value of the previous page"
//	@Success	200		{object}	KeyList
//	@Failure	400		{object}	Problem
//	@Failure	401		{object}	Problem
//	@Failure	403		{object}	Problem
//	@ID			listKeys
//	@Router		/v1/keys [get]
func (s *server) listKeys(c *gin.Context) error {
	p, err := pageParams(c, "keys")
	if err != nil {
		return err
	}
	ks, next, err := pageOf("keys", p, func(k alliance.Key) string { return k.ID }, func(p alliance.Page) ([]alliance.Key, error) {
		return s.svc.FindKeys(c.Request.Context(), p)
	})
	if err != nil {
		return err
	}
	out := KeyList{Items: make([]KeyResponse, len(ks)), Next: next}
	for i, k := range ks {
		out.Items[i] = toKeyResponse(k)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// revokeKey godoc
//
//	@Summary	Revoke an API key for good
//	@Tags		access
//	@Produce	json,application/problem+json
//	@Security	BearerAuth
//	@Param		id	path		string	true	"key id"
//	@Success	200	{object}	KeyResponse
//	@Failure	401	{object}	Problem
//	@Failure	403	{object}	Problem
//	@Failure	404	{object}	Problem
//	@Failure	429	{object}	Problem
//	@ID			revokeKey
//	@Router		/v1/keys/{id} [delete]
func (s *server) revokeKey(c *gin.Context) error {
	k, err := s.svc.RevokeKey(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toKeyResponse(k))
	return nil
}

// AuditEntryResponse is one write in the audit log.
type AuditEntryResponse struct {
	ID         int64     `json:"id" example:"42"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor" example:"key:01jd8x2k4m5n6p7q8r9s0t1v2w"`
	Action     string    `json:"action" example:"rating.amend"`
	Resource   string    `json:"resource" example:"rating"`
	ResourceID string    `json:"resource_id"`
	StudyID    *string   `json:"study_id" extensions:"x-nullable"`
	DyadID     *string   `json:"dyad_id" extensions:"x-nullable"`
	// Before and After are the changed resource as JSON text (null when
	// not applicable, or redacted by an erasure).
	Before *string `json:"before" extensions:"x-nullable"`
	After  *string `json:"after" extensions:"x-nullable"`
	// RedactedAt is set when an erasure removed the payload.
	RedactedAt *time.Time `json:"redacted_at" extensions:"x-nullable"`
}

// AuditList is one page of the audit log, oldest first.
type AuditList struct {
	Items []AuditEntryResponse `json:"items"`
	Next  *string              `json:"next" extensions:"x-nullable"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// listAudit godoc
//
//	@Summary		Read the audit log
//	@Description	Every committed write, oldest first: who (key or survey token id), what, when, and before/after for amendments. No API call can change it.
//	@Tags			access
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			study_id	query		string	false	"only this study"
//	@Param			actor		query		string	false	"only this actor, e.g. key:<id>"
//	@Param			action		query		string	false	"only this action, e.g. rating.amend"
//	@Param			resource_id	query		string	false	"only this resource"
//	@Param			since		query		string	false	"RFC 3339 time"
//	@Param			limit		query		int		false	"page size (1-500, default 50)"
//	@Param			after		query		string	false	"cursor: the next value of the previous page"
//	@Success		200			{object}	AuditList
//	@Failure		400			{object}	Problem
//	@Failure		401			{object}	Problem
//	@Failure		403			{object}	Problem
//	@ID				listAudit
//	@Router			/v1/audit [get]
func (s *server) listAudit(c *gin.Context) error {
	p, err := pageParams(c, "audit")
	if err != nil {
		return err
	}
	f := alliance.AuditFilter{StudyID: c.Query("study_id"), Actor: c.Query("actor"), Action: c.Query("action"),
		ResourceID: c.Query("resource_id")}
	if p.After != "" {
		if _, err := strconv.ParseInt(p.After, 10, 64); err != nil {
			return malformed("after", "invalid_cursor", "after must be the next cursor of a previous page of this list")
		}
	}
	if f.Since, err = queryTime(c, "since"); err != nil {
		return err
	}
	es, next, err := pageOf("audit", p, func(e alliance.AuditEntry) string { return strconv.FormatInt(e.ID, 10) },
		func(p alliance.Page) ([]alliance.AuditEntry, error) {
			g := f
			g.Limit = p.Limit
			if p.After != "" {
				g.AfterID, _ = strconv.ParseInt(p.After, 10, 64) // checked above, or an id of this list
			}
			return s.svc.FindAudit(c.Request.Context(), g)
		})
	if err != nil {
		return err
	}
	out := AuditList{Items: make([]AuditEntryResponse, len(es)), Next: next}
	for i, e := range es {
		out.Items[i] = AuditEntryResponse{ID: e.ID, At: e.At, Actor: e.Actor, Action: e.Action, Resource: e.Resource,
			ResourceID: e.ResourceID, StudyID: optional(e.StudyID), DyadID: optional(e.DyadID), Before: optional(e.Before),
			After: optional(e.After), RedactedAt: e.RedactedAt}
	}
	c.JSON(http.StatusOK, out)
	return nil
}
