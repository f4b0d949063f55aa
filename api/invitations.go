package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/surveypage"
)

// CreateInvitationRequest asks for a one-time survey link.
type CreateInvitationRequest struct {
	Session   *int   `json:"session" example:"3" minimum:"1" validate:"required"`
	Role      string `json:"role" example:"client" enums:"client,counsellor" validate:"required"`
	ExpiresIn string `json:"expires_in,omitempty" example:"72h"`
}

// InvitationResponse is a new survey link. The token is shown once: hand
// the rater url, the hosted survey page with the token in its fragment
// (absolute when the server knows its public URL, else root-relative), or
// build your own page that sends the token as "Authorization: Bearer
// <token>" to url_path.
type InvitationResponse struct {
	ID        string    `json:"id"`
	DyadID    string    `json:"dyad_id"`
	Session   int       `json:"session" example:"3"`
	Role      string    `json:"role" example:"client"`
	ExpiresAt time.Time `json:"expires_at"`
	Token     string    `json:"token" example:"als_01jd8x2k4m5n6p7q8r9s0t1v2w.Zk3…"`
	URLPath   string    `json:"url_path" example:"/v1/survey"`
	URL       string    `json:"url" example:"https://survey.example.org/s/#als_01jd8x2k4m5n6p7q8r9s0t1v2w.Zk3…"`
}

// InvitationStatusResponse is a survey link as a list shows it: its state,
// never its token.
type InvitationStatusResponse struct {
	ID        string     `json:"id"`
	DyadID    string     `json:"dyad_id"`
	Session   int        `json:"session" example:"3"`
	Role      string     `json:"role" example:"client"`
	State     string     `json:"state" example:"pending" enums:"pending,used,expired,revoked"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	UsedAt    *time.Time `json:"used_at" extensions:"x-nullable"`
	RevokedAt *time.Time `json:"revoked_at" extensions:"x-nullable"`
	// RatingID is the rating a used link stored.
	RatingID string `json:"rating_id,omitempty"`
}

// InvitationList is a dyad's survey links, oldest first.
type InvitationList struct {
	Items []InvitationStatusResponse `json:"items"`
}

func (s *server) toInvitationStatus(inv alliance.Invitation) InvitationStatusResponse {
	return InvitationStatusResponse{ID: inv.ID, DyadID: inv.DyadID, Session: inv.Session, Role: string(inv.Role),
		State: inv.State(time.Now()), CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt, UsedAt: inv.UsedAt,
		RevokedAt: inv.RevokedAt, RatingID: inv.RatingID}
}

// createInvitation godoc
//
//	@Summary		Create a one-time survey link for one rater of one session
//	@Description	409 with code already_rated when the session already has a rating of that role, and with code dyad_withdrawn when consent was withdrawn.
//	@Tags			access
//	@Accept			json
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id		path		string					true	"dyad id"
//	@Param			body	body		CreateInvitationRequest	true	"session, role and lifetime (default 168h, at most 2160h)"
//	@Success		201		{object}	InvitationResponse
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		409		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Failure		429		{object}	Problem
//	@ID				createInvitation
//	@Router			/v1/dyads/{id}/invitations [post]
func (s *server) createInvitation(c *gin.Context) error {
	var req CreateInvitationRequest
	if _, err := readJSON(c, &req); err != nil {
		return err
	}
	inv, tok, err := s.svc.CreateInvitation(c.Request.Context(), c.Param("id"), alliance.InvitationInput(req))
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, InvitationResponse{ID: inv.ID, DyadID: inv.DyadID, Session: inv.Session,
		Role: string(inv.Role), ExpiresAt: inv.ExpiresAt, Token: tok, URLPath: "/v1/survey",
		URL: surveypage.Link(s.publicURL, tok)})
	return nil
}

// listInvitations godoc
//
//	@Summary		A dyad's survey links and their states
//	@Description	Every link made for the dyad, oldest first, with its state: pending, used, expired or revoked. Never the token.
//	@Tags			access
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id	path		string	true	"dyad id"
//	@Success		200	{object}	InvitationList
//	@Failure		401	{object}	Problem
//	@Failure		403	{object}	Problem
//	@Failure		404	{object}	Problem
//	@ID				listInvitations
//	@Router			/v1/dyads/{id}/invitations [get]
func (s *server) listInvitations(c *gin.Context) error {
	invs, err := s.svc.FindInvitations(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	out := InvitationList{Items: make([]InvitationStatusResponse, len(invs))}
	for i, inv := range invs {
		out.Items[i] = s.toInvitationStatus(inv)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// revokeInvitation godoc
//
//	@Summary		Revoke a mis-sent survey link
//	@Description	The link answers 410 from then on. Revoking a revoked link changes nothing; a used link is 409 (void its rating instead).
//	@Tags			access
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id	path		string	true	"survey link (invitation) id"
//	@Success		200	{object}	InvitationStatusResponse
//	@Failure		401	{object}	Problem
//	@Failure		403	{object}	Problem
//	@Failure		404	{object}	Problem
//	@Failure		409	{object}	Problem
//	@Failure		429	{object}	Problem
//	@ID				revokeInvitation
//	@Router			/v1/invitations/{id} [delete]
func (s *server) revokeInvitation(c *gin.Context) error {
	inv, err := s.svc.RevokeInvitation(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, s.toInvitationStatus(inv))
	return nil
}
