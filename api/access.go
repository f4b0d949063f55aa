package api

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/auth"
)

// rule says who may call a route: anyone (public), holders of an API key
// with one of the scopes, or holders of a survey token (survey). Every
// route has one, in the endpoint table (routes.go).
type rule struct {
	public bool
	scopes []auth.Scope
	survey bool
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
func (s *server) authorize(rl rule) gin.HandlerFunc {
	return func(c *gin.Context) {
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
			writeProblem(c, s.log, &scopeNeeded{rl})
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
}

// scopeNeeded is a refusal by a route's rule; it names what the route
// needs, so a developer knows which key to ask for.
type scopeNeeded struct{ rule rule }

func (e *scopeNeeded) Error() string {
	if e.rule.survey {
		return "this route takes a survey link's token, not an API key"
	}
	names := make([]string, len(e.rule.scopes))
	for i, sc := range e.rule.scopes {
		names[i] = string(sc)
	}
	return "this route needs a key with scope " + strings.Join(names, " or ")
}

func (e *scopeNeeded) Is(target error) bool { return target == alliance.ErrForbidden }

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

// limiterEntries bounds the token buckets kept: past it, the least
// recently used bucket goes (an idle bucket would have refilled anyway),
// never the bucket of a credential or address still writing.
const limiterEntries = 100_000

// limiters holds token buckets per credential and per address. They live
// in process memory: with several instances each enforces its own share,
// which suits their purpose (stopping a runaway frontend), not billing.
type limiters struct {
	cfg     RateLimits
	mu      sync.Mutex
	buckets *lru.Cache[string, *rate.Limiter]
}

func newLimiters(cfg RateLimits) *limiters { return newLimitersOf(cfg, limiterEntries) }

func newLimitersOf(cfg RateLimits, entries int) *limiters {
	// lru.New fails only for a size ≤ 0.
	buckets, _ := lru.New[string, *rate.Limiter](entries)
	return &limiters{cfg: cfg, buckets: buckets}
}

// allow spends one token of the credential's and of the address's bucket,
// or reports how long to wait.
func (l *limiters) allow(credential, ip string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
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
		lim, ok := l.buckets.Get(k.key)
		if !ok {
			lim = rate.NewLimiter(rate.Limit(k.r), max(l.cfg.Burst, 1))
			l.buckets.Add(k.key, lim)
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
