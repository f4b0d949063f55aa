package api

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/auth"
)

// rule says who may call a route: anyone (public), holders of an API key
// with one of the scopes, or holders of a survey token (survey).
type rule struct {
	public bool
	scopes []auth.Scope
	survey bool
}

var (
	admin        = rule{scopes: []auth.Scope{auth.ScopeAdmin}}
	readers      = rule{scopes: []auth.Scope{auth.ScopeAdmin, auth.ScopeAnalyze}}
	collecting   = rule{scopes: []auth.Scope{auth.ScopeAdmin, auth.ScopeCollect}}
	anyKey       = rule{scopes: []auth.Scope{auth.ScopeAdmin, auth.ScopeCollect, auth.ScopeAnalyze}}
	surveyHolder = rule{survey: true}
	public       = rule{public: true}
)

// rules is the access table of every route, keyed by method and route
// pattern. A route without a rule is refused to everyone, and a test
// enumerates the router so a new route cannot ship without one.
var rules = map[string]rule{
	"GET /healthz":      public,
	"GET /readyz":       public,
	"GET /openapi.json": public,
	"GET /metrics":      public,
	"GET /docs/*any":    public,
	"GET /s/*any":       public, // the survey page; the token stays in the URL fragment

	"GET /v1/instruments":     anyKey,
	"GET /v1/instruments/:id": anyKey,

	"POST /v1/studies":                                          admin,
	"GET /v1/studies":                                           readers,
	"GET /v1/studies/:id":                                       readers,
	"POST /v1/studies/:id/dyads":                                admin,
	"GET /v1/studies/:id/dyads":                                 readers,
	"GET /v1/studies/:id/agreement":                             readers,
	"GET /v1/studies/:id/export":                                readers,
	"GET /v1/studies/:id/codebook":                              readers,
	"GET /v1/dyads/:id":                                         readers,
	"GET /v1/dyads/:id/agreement":                               readers,
	"GET /v1/dyads/:id/ratings":                                 readers,
	"POST /v1/dyads/:id/ratings":                                collecting,
	"POST /v1/dyads/:id/invitations":                            admin,
	"GET /v1/dyads/:id/sessions/:session":                       readers,
	"GET /v1/dyads/:id/sessions/:session/agreement":             readers,
	"GET /v1/dyads/:id/sessions/:session/ratings/:role":         readers,
	"PUT /v1/dyads/:id/sessions/:session/ratings/:role":         collecting,
	"GET /v1/dyads/:id/sessions/:session/ratings/:role/history": readers,

	"GET /v1/survey":  surveyHolder,
	"POST /v1/survey": surveyHolder,

	"POST /v1/keys":       admin,
	"GET /v1/keys":        admin,
	"DELETE /v1/keys/:id": admin,
	"GET /v1/audit":       admin,
}

func (r rule) allows(a alliance.Actor) bool {
	if a.Kind == alliance.ActorSurvey {
		return r.survey
	}
	for _, s := range r.scopes {
		if a.Has(s) {
			return true
		}
	}
	return false
}

// authorize authenticates the bearer credential, checks the route's rule
// and puts the actor in the request context for the use cases (study
// scoping and the audit trail). Writes are rate limited per credential and
// per client address.
func (s *server) authorize(c *gin.Context) {
	route := c.FullPath()
	if route == "" { // no route matched: NoRoute/NoMethod answer
		c.Next()
		return
	}
	rl, ok := rules[c.Request.Method+" "+route]
	if !ok {
		writeProblem(c, s.log, errors.New("route without an access rule: refused"))
		return
	}
	if rl.public {
		c.Next()
		return
	}
	raw, ok := bearer(c.GetHeader("Authorization"))
	if !ok {
		writeProblem(c, s.log, alliance.ErrUnauthenticated)
		return
	}
	actor, err := s.svc.Authenticate(c.Request.Context(), raw)
	if err != nil {
		writeProblem(c, s.log, err)
		return
	}
	if !rl.allows(actor) {
		writeProblem(c, s.log, alliance.ErrForbidden)
		return
	}
	if c.Request.Method != http.MethodGet {
		if wait, limited := s.limits.allow(actor.Label(), c.ClientIP()); limited {
			writeProblem(c, s.log, &rateLimited{retryAfter: wait})
			return
		}
	}
	c.Request = c.Request.WithContext(alliance.WithActor(c.Request.Context(), actor))
	c.Next()
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	return tok, ok && strings.EqualFold(scheme, "Bearer") && tok != ""
}

// rateLimited is a refused write with the time until one is allowed.
type rateLimited struct{ retryAfter time.Duration }

func (e *rateLimited) Error() string { return "rate limit exceeded" }

// RateLimits configures the write limits; a rate of 0 disables a limit.
type RateLimits struct {
	PerCredential float64 // writes per second per API key or survey token
	PerIP         float64 // writes per second per client address
	Burst         int
}

// limiters holds token buckets per credential and per address. They live
// in process memory: with several instances each enforces its own share,
// which suits their purpose (stopping a runaway frontend), not billing.
type limiters struct {
	cfg  RateLimits
	mu   sync.Mutex
	byID map[string]*rate.Limiter
}

func newLimiters(cfg RateLimits) *limiters {
	return &limiters{cfg: cfg, byID: map[string]*rate.Limiter{}}
}

// allow spends one token of the credential's and of the address's bucket,
// or reports how long to wait.
func (l *limiters) allow(credential, ip string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.byID) > 100_000 { // bound memory; idle buckets refill anyway
		clear(l.byID)
	}
	now := time.Now()
	var wait time.Duration
	var spent []*rate.Reservation
	for _, k := range []struct {
		key string
		r   float64
	}{{"c:" + credential, l.cfg.PerCredential}, {"ip:" + ip, l.cfg.PerIP}} {
		if k.r <= 0 {
			continue
		}
		lim, ok := l.byID[k.key]
		if !ok {
			lim = rate.NewLimiter(rate.Limit(k.r), max(l.cfg.Burst, 1))
			l.byID[k.key] = lim
		}
		res := lim.ReserveN(now, 1)
		spent = append(spent, res)
		wait = max(wait, res.DelayFrom(now))
	}
	if wait > 0 { // refused: give every token back
		for _, res := range spent {
			res.CancelAt(now)
		}
	}
	return wait, wait > 0
}

func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(int(math.Ceil(d.Seconds())))
}
