package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
)

// Problem is an RFC 9457 problem detail, the body of every error response.
type Problem struct {
	Type     string       `json:"type" example:"urn:alliance:problem:validation-error"`
	Title    string       `json:"title" example:"Invalid input"`
	Status   int          `json:"status" example:"422"`
	Detail   string       `json:"detail,omitempty" example:"answers[3]: item 4: 6 is outside 1..5"`
	Instance string       `json:"instance,omitempty" example:"/v1/dyads/dy_01j.../ratings"`
	Errors   []FieldError `json:"errors,omitempty"`
	// Code is a stable machine-readable reason where a status has several
	// that a client handles differently: already_rated (amend instead),
	// amended_concurrently (fetch and decide again), dyad_withdrawn and
	// secret_key_unset for 409; link_used (its answers are stored),
	// link_expired and link_revoked (nothing was stored), and
	// already_rated (its session and role were rated another way; nothing
	// was sent through it) for 410.
	Code string `json:"code,omitempty" example:"already_rated"`
	// Language is, on a 410 of a survey link, its study's survey language
	// (en, sv; absent when the study sets none), so that the page keeps
	// speaking the form's language.
	Language string `json:"language,omitempty" example:"sv"`
	// RequestID lets an operator find the request in the logs.
	RequestID string `json:"request_id,omitempty" example:"5f0c6a0e9b6d4f1a"`
}

// FieldError names one bad field of a request: a JSON field such as
// "answers[3]", a query parameter, a path parameter or a header.
type FieldError struct {
	Field   string `json:"field" example:"answers[3]"`
	Code    string `json:"code" example:"out_of_range"`
	Message string `json:"message" example:"item 4: 6 is outside 1..5"`
}

// Problem type URIs. They are stable identifiers that clients may switch
// on; the README lists them.
const (
	typeMalformed    = "urn:alliance:problem:malformed-request"
	typeValidation   = "urn:alliance:problem:validation-error"
	typeConflict     = "urn:alliance:problem:conflict"
	typeIdempotency  = "urn:alliance:problem:idempotency-key-reuse"
	typeTooLarge     = "urn:alliance:problem:body-too-large"
	typeMediaType    = "urn:alliance:problem:unsupported-media-type"
	typeUnavailable  = "urn:alliance:problem:unavailable"
	typeUnauth       = "urn:alliance:problem:unauthenticated"
	typeForbidden    = "urn:alliance:problem:forbidden"
	typeGone         = "urn:alliance:problem:survey-link-gone"
	typeRateLimited  = "urn:alliance:problem:rate-limited"
	typeNotFound     = "about:blank"
	typeInternal     = "about:blank"
	problemMediaType = "application/problem+json"
)

// requestError is an error the transport layer itself detects (bad JSON,
// bad query, oversized body) with its status and fields already decided.
type requestError struct {
	status int
	typ    string
	title  string
	detail string
	fields []FieldError
}

func (e *requestError) Error() string { return e.detail }

func malformed(field, code, msg string) error {
	return &requestError{
		status: http.StatusBadRequest, typ: typeMalformed, title: "Malformed request", detail: msg,
		fields: []FieldError{{Field: field, Code: code, Message: msg}},
	}
}

// problemFor is the one place that maps an error to an HTTP problem. No
// handler chooses a status for an error itself.
func problemFor(err error) Problem {
	var re *requestError
	var ve *alliance.ValidationError
	var rl *rateLimited
	var need *scopeNeeded
	var gone *alliance.LinkGone
	switch {
	case errors.As(err, &rl):
		return Problem{Type: typeRateLimited, Title: "Too Many Requests", Status: http.StatusTooManyRequests,
			Detail: "too many writes from this credential or address; retry after the Retry-After seconds"}
	case errors.Is(err, alliance.ErrUnauthenticated):
		return Problem{Type: typeUnauth, Title: "Unauthorized", Status: http.StatusUnauthorized,
			Detail: "send a valid API key or survey token as 'Authorization: Bearer <token>'"}
	case errors.As(err, &need):
		return Problem{Type: typeForbidden, Title: "Forbidden", Status: http.StatusForbidden, Detail: need.Error()}
	case errors.Is(err, alliance.ErrForbidden):
		return Problem{Type: typeForbidden, Title: "Forbidden", Status: http.StatusForbidden,
			Detail: trimSentinel(err, alliance.ErrForbidden, "this credential may not do this")}
	case errors.Is(err, alliance.ErrGone):
		p := Problem{Type: typeGone, Title: "Gone", Status: http.StatusGone, Detail: "this survey link was already used or has expired"}
		if errors.As(err, &gone) {
			p.Code, p.Language = "link_"+gone.State, gone.Language
			switch {
			case gone.SlotRated:
				p.Code, p.Detail = "already_rated", "this session and role already have a rating, given otherwise: nothing was stored through this link, and nothing more is asked of it"
			case gone.State == alliance.InvitationUsed:
				p.Detail = "this survey link was used: its answers are stored"
			case gone.State == alliance.InvitationExpired:
				p.Detail = "this survey link has expired: nothing was stored through it"
			default:
				p.Detail = "this survey link was withdrawn: nothing was stored through it"
			}
		}
		return p
	case errors.As(err, &re):
		return Problem{Type: re.typ, Title: re.title, Status: re.status, Detail: re.detail, Errors: re.fields}
	case errors.As(err, &ve):
		fields := make([]FieldError, len(ve.Fields))
		for i, f := range ve.Fields {
			fields[i] = FieldError(f)
		}
		return Problem{Type: typeValidation, Title: "Invalid input", Status: http.StatusUnprocessableEntity,
			Detail: "one or more fields are invalid; see errors", Errors: fields}
	case errors.Is(err, alliance.ErrIdempotencyMismatch):
		return Problem{Type: typeIdempotency, Title: "Idempotency key reused", Status: http.StatusConflict,
			Detail: "this Idempotency-Key was already used for a different request; use a new key for a new request"}
	case errors.Is(err, alliance.ErrNotFound):
		return Problem{Type: typeNotFound, Title: "Not Found", Status: http.StatusNotFound, Detail: err.Error()}
	case errors.Is(err, alliance.ErrWithdrawn):
		return Problem{Type: typeConflict, Title: "Conflict", Status: http.StatusConflict, Code: "dyad_withdrawn",
			Detail: "consent for this dyad was withdrawn: it takes no new ratings or survey links"}
	case errors.Is(err, alliance.ErrSecretKeyUnset):
		return Problem{Type: typeConflict, Title: "Conflict", Status: http.StatusConflict, Code: "secret_key_unset",
			Detail: "webhooks need ALLIANCE_SECRET_KEY (32 random bytes, base64) to keep their signing secrets; the server runs without it, so no webhook can be created or rotated"}
	case errors.Is(err, alliance.ErrAlreadyRated):
		return Problem{Type: typeConflict, Title: "Conflict", Status: http.StatusConflict, Code: "already_rated",
			Detail: trimSentinel(err, alliance.ErrAlreadyRated, "this session already has a rating of this role")}
	case errors.Is(err, alliance.ErrAmendedConcurrently):
		return Problem{Type: typeConflict, Title: "Conflict", Status: http.StatusConflict, Code: "amended_concurrently",
			Detail: trimSentinel(err, alliance.ErrAmendedConcurrently, "the rating was amended concurrently; fetch it and retry")}
	case errors.Is(err, alliance.ErrConflict):
		return Problem{Type: typeConflict, Title: "Conflict", Status: http.StatusConflict,
			Detail: trimSentinel(err, alliance.ErrConflict, "the request conflicts with existing data")}
	case errors.Is(err, alliance.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return Problem{Type: typeUnavailable, Title: "Service Unavailable", Status: http.StatusServiceUnavailable,
			Detail: "the database cannot serve this request right now; retry later"}
	}
	return Problem{Type: typeInternal, Title: "Internal Server Error", Status: http.StatusInternalServerError,
		Detail: "an unexpected error occurred; the request id identifies it in the server log"}
}

// trimSentinel keeps the domain's explanation of err without the
// sentinel's own text at its end; fallback when there is none.
func trimSentinel(err, sentinel error, fallback string) string {
	if msg := strings.TrimSuffix(err.Error(), ": "+sentinel.Error()); msg != err.Error() {
		return msg
	}
	return fallback
}

// writeProblem sends err as problem+json and logs it at a level that
// matches who is at fault: the client (debug) or the server (error).
//
// A refusal is logged by its problem type and the fields and codes at
// fault, never by its message: messages quote what the request sent
// (an answer out of range, a taken client code), and no answer, code or
// date may reach a log. A server failure is logged with its error, which
// comes from the database or the code, not from the request's data.
func writeProblem(c *gin.Context, log *slog.Logger, err error) {
	p := loggedProblem(c, log, err)
	switch p.Status {
	case http.StatusServiceUnavailable:
		c.Header("Retry-After", "1")
	case http.StatusUnauthorized:
		c.Header("WWW-Authenticate", `Bearer realm="alliance"`)
	case http.StatusTooManyRequests:
		var rl *rateLimited
		if errors.As(err, &rl) {
			c.Header("Retry-After", retryAfterSeconds(rl.retryAfter))
		}
	}
	c.Header("Content-Type", problemMediaType)
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(p.Status, p)
}

// loggedProblem maps err to its problem for this request and logs it
// (see writeProblem); the dashboard's error pages log the same way.
func loggedProblem(c *gin.Context, log *slog.Logger, err error) Problem {
	p := problemFor(err)
	p.Instance = c.Request.URL.Path
	p.RequestID = c.GetString(requestIDKey)
	if p.Status >= 500 {
		log.ErrorContext(c.Request.Context(), "request failed", "request_id", p.RequestID, "status", p.Status, "err", err)
	} else {
		log.DebugContext(c.Request.Context(), "request refused", "request_id", p.RequestID, "status", p.Status,
			"type", p.Type, "fields", fieldCodes(p.Errors))
	}
	return p
}

// loggableField matches the field names this API gives (answers[3],
// forms.client, Idempotency-Key). A name taken from the request itself
// (an unknown JSON key or query parameter) is not logged.
var loggableField = regexp.MustCompile(`^[A-Za-z_-]{1,40}(\[[0-9]{1,5}\])?(\.[a-z_]{1,40})?$`)

// fieldCodes renders a problem's field errors for the log as
// "field:code", without their messages.
func fieldCodes(fields []FieldError) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		name := f.Field
		if strings.HasPrefix(f.Code, "unknown_") || !loggableField.MatchString(name) {
			name = "(field)"
		}
		out[i] = name + ":" + f.Code
	}
	return out
}
