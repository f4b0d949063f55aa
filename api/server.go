// Package api is the HTTP transport of alliance: the gin router, middleware,
// one file of handlers per resource, request and response types with swag
// annotations, and the single mapping from errors to problem+json. It holds
// no SQL and no statistics.
package api

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/dashboard"
)

// Deps is what the HTTP layer needs from the rest of the program.
type Deps struct {
	Service      *alliance.Service
	Log          *slog.Logger
	MaxBodyBytes int64
	// RateLimits caps writes per credential and per address (zero: none).
	RateLimits RateLimits
	// CORSOrigins lists the browser origins (survey frontends) allowed to
	// call the API; empty sends no CORS headers.
	CORSOrigins []string
	// TrustedProxies are the CIDRs of reverse proxies whose
	// X-Forwarded-For names the client. Empty trusts no one: the client
	// address (for the per-address write limit) is the TCP peer, and a
	// forged header cannot dodge the limit.
	TrustedProxies []string
	// PublicURL is the service's public base URL (https://host[/prefix]);
	// with it, survey links are absolute, without it root-relative.
	PublicURL string
	// CookieSecure says when the dashboard's session cookie is marked
	// Secure: CookieSecureAuto ("" too: over TLS to this process),
	// CookieSecureAlways (behind a TLS-terminating proxy) or
	// CookieSecureNever.
	CookieSecure string
}

// server carries the dependencies into the handlers.
type server struct {
	svc     *alliance.Service
	log     *slog.Logger
	limits  *limiters
	metrics *metrics
	// publicURL prefixes survey links ("" for root-relative ones).
	publicURL string
	// cookieSecurity is Deps.CookieSecure.
	cookieSecurity string
	// table is the route table the router was built from.
	table []endpoint
}

// handlerFunc is a gin handler that returns its error, so every failure
// goes through writeProblem and no handler picks a status for an error.
type handlerFunc func(c *gin.Context) error

func (s *server) wrap(h handlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			writeProblem(c, s.log, err)
		}
	}
}

// notRouted answers a request no route takes: under the dashboard's path,
// where people follow links, with an error page; elsewhere with err.
func (s *server) notRouted(c *gin.Context, err *requestError) error {
	if !strings.HasPrefix(c.Request.URL.Path, dashboard.Path) {
		return err
	}
	s.errorPage(c, err)
	return nil
}

// NewHandler builds the complete HTTP handler of the service.
func NewHandler(d Deps) http.Handler {
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 1 << 20
	}
	s := &server{svc: d.Service, log: d.Log, limits: newLimiters(d.RateLimits), metrics: newMetrics(), publicURL: d.PublicURL,
		cookieSecurity: d.CookieSecure}
	r := gin.New()
	// gin trusts every X-Forwarded-For by default. The settings validate
	// the CIDRs; should a bad one get here anyway, trust no proxy.
	if err := r.SetTrustedProxies(d.TrustedProxies); err != nil {
		d.Log.Error("trusted proxies refused; trusting none", "err", err)
		_ = r.SetTrustedProxies(nil)
	}
	r.HandleMethodNotAllowed = true
	// gin's own redirect of a stray trailing slash answers with an HTML
	// body and before any middleware (no request id, log line or
	// metric); NoRoute below redirects instead.
	r.RedirectTrailingSlash = false
	r.ContextWithFallback = true
	r.Use(requestID(), recovery(d.Log), accessLog(d.Log), s.metrics.observe(), securityHeaders())
	if len(d.CORSOrigins) > 0 {
		r.Use(corsFor(d.CORSOrigins, d.Log))
	}
	r.Use(limitBody(d.MaxBodyBytes))
	r.NoRoute(s.wrap(func(c *gin.Context) error {
		if to, ok := s.slashTwin(c.Request.Method, c.Request.URL.Path); ok {
			redirect(c, to)
			return nil
		}
		return s.notRouted(c, &requestError{status: http.StatusNotFound, typ: typeNotFound, title: "Not Found", detail: "no such endpoint"})
	}))
	r.NoMethod(s.wrap(func(c *gin.Context) error {
		return s.notRouted(c, &requestError{status: http.StatusMethodNotAllowed, typ: typeNotFound, title: "Method Not Allowed",
			detail: "this endpoint does not support " + c.Request.Method})
	}))
	s.routes(r)
	return r
}

// corsFor answers the CORS requests of the listed browser origins and
// lets every other request through as it is, without CORS headers: a
// browser then keeps an unlisted origin's script from reading the answer.
// Refusing such requests (gin-contrib/cors's 403) also refused this
// server's own pages behind a proxy that rewrites Host: their Origin is
// the public address, which the server cannot tell from a foreign one.
// A preflight from an unlisted origin is refused with a problem naming
// the header, so a frontend's developer sees why.
func corsFor(origins []string, log *slog.Logger) gin.HandlerFunc {
	allow := cors.New(cors.Config{
		AllowOrigins:  origins,
		AllowMethods:  []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowHeaders:  []string{"Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"},
		ExposeHeaders: []string{"Location", "Idempotent-Replayed", "Retry-After", "X-Request-ID"},
		MaxAge:        time.Hour,
	})
	return func(c *gin.Context) {
		origin := c.GetHeader("Origin")
		switch {
		case origin == "":
		case slices.Contains(origins, origin):
			allow(c)
		case c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != "":
			writeProblem(c, log, &requestError{status: http.StatusForbidden, typ: typeForbidden, title: "Forbidden",
				detail: "this origin may not call the API from a browser: the server's ALLIANCE_CORS_ORIGINS does not list it",
				fields: []FieldError{{Field: "Origin", Code: "origin_not_allowed", Message: "not among the allowed browser origins"}}})
		}
	}
}
