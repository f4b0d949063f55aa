// Package rowcache decorates an alliance.Store with caches of the rows
// every request reads: its API key, and for a rating its dyad and study.
// Those point reads cost about as much CPU as the rest of a rating
// submission outside the writer.
//
// A cache is only as good as its invalidation, so each cache here says
// when it is correct:
//
//   - API keys are kept for at most KeyTTL. A revocation through this
//     decorator forgets the key at once; one made elsewhere (another
//     instance, the command line) takes effect within KeyTTL.
//   - Studies and dyads are cached only where this process is the
//     database's only writer (Options.Rows: SQLite, which one process
//     serves). Every write that changes or removes them goes through the
//     decorator, which forgets them. On PostgreSQL several instances share
//     the database and none could learn in time that another erased a
//     dyad, so studies and dyads are read from it.
//   - The one exception is a rating's dyad and study (FindRatingTarget):
//     what a rating takes from them never changes, and its write
//     re-checks the dyad in the database (foreign key, withdrawal
//     trigger). A study's alert thresholds do change
//     (UpdateAlertThresholds, which forgets the study here); the rating
//     path reads them from the database instead (FindAlertContext). Where rows are not cached, those entries expire after
//     TargetTTL, so a dyad or study erased by another instance does not
//     stay in this one's memory for longer.
package rowcache

import (
	"context"
	"maps"
	"slices"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/alliance-project/alliance/internal/alliance"
)

// Cache sizes: a deployment has a handful of studies and up to some tens
// of thousands of dyads; at about 200 bytes a dyad, the caches stay under
// a few megabytes.
const (
	cachedStudies = 1024
	cachedDyads   = 16384
	cachedKeys    = 1024
)

// KeyTTL is how long an API key, once read, is trusted without reading it
// again: the longest a revoked key keeps working where the revocation did
// not happen (another instance, or a running server when revoked with the
// CLI).
const KeyTTL = time.Second

// TargetTTL is how long a rating's dyad and study, once read, are kept
// where rows are not cached (PostgreSQL).
const TargetTTL = time.Minute

// Options say what may be cached.
type Options struct {
	// Rows caches studies and dyads: set it only where this process is
	// the database's only writer.
	Rows bool
}

// Store is an alliance.Store with caches in front of it.
type Store struct {
	alliance.Store
	studies *copying[alliance.Study] // nil unless Options.Rows
	// targets serves FindRatingTarget without Options.Rows; its entries
	// expire after TargetTTL. nil with Options.Rows, where the row caches
	// serve it.
	targets *copying[target]
	dyads   *copying[alliance.Dyad] // nil unless Options.Rows
	keys    *copying[alliance.Key]
}

var _ alliance.Store = (*Store)(nil)

// New puts caches in front of next.
func New(next alliance.Store, o Options) *Store {
	s := &Store{Store: next}
	// lru.New fails only for a size ≤ 0.
	keys := expirable.NewLRU[string, alliance.Key](cachedKeys, nil, KeyTTL)
	s.keys = &copying[alliance.Key]{keys, func(k alliance.Key) alliance.Key {
		k.Scopes = slices.Clone(k.Scopes)
		return k
	}}
	cloneStudy := func(st alliance.Study) alliance.Study {
		st.Forms = maps.Clone(st.Forms)
		if c := st.Alerts.LowAllianceCutoff; c != nil {
			v := *c
			st.Alerts.LowAllianceCutoff = &v
		}
		return st
	}
	if o.Rows {
		studies, _ := lru.New[string, alliance.Study](cachedStudies)
		dyads, _ := lru.New[string, alliance.Dyad](cachedDyads)
		s.studies = &copying[alliance.Study]{studies, cloneStudy}
		s.dyads = &copying[alliance.Dyad]{dyads, func(d alliance.Dyad) alliance.Dyad { return d }}
	} else {
		s.targets = &copying[target]{expirable.NewLRU[string, target](cachedDyads, nil, TargetTTL), func(t target) target {
			t.study = cloneStudy(t.study)
			return t
		}}
	}
	return s
}

// FindStudyByID reads a study through the cache.
func (s *Store) FindStudyByID(ctx context.Context, id string) (alliance.Study, error) {
	return through(ctx, s.studies, id, s.Store.FindStudyByID)
}

// target is a rating's dyad and study.
type target struct {
	dyad  alliance.Dyad
	study alliance.Study
}

// FindRatingTarget reads a rating's dyad and study through the row
// caches or, without them, the cache of rating targets.
func (s *Store) FindRatingTarget(ctx context.Context, dyadID string) (alliance.Dyad, alliance.Study, error) {
	if s.targets == nil {
		d, err := s.FindDyadByID(ctx, dyadID)
		if err != nil {
			return d, alliance.Study{}, err
		}
		st, err := s.FindStudyByID(ctx, d.StudyID)
		return d, st, err
	}
	t, err := through(ctx, s.targets, dyadID, func(ctx context.Context, id string) (target, error) {
		d, st, err := s.Store.FindRatingTarget(ctx, id)
		return target{d, st}, err
	})
	return t.dyad, t.study, err
}

// FindDyadByID reads a dyad through the cache.
func (s *Store) FindDyadByID(ctx context.Context, id string) (alliance.Dyad, error) {
	return through(ctx, s.dyads, id, s.Store.FindDyadByID)
}

// FindKeyByID reads an API key through the cache.
func (s *Store) FindKeyByID(ctx context.Context, id string) (alliance.Key, error) {
	return through(ctx, s.keys, id, s.Store.FindKeyByID)
}

// RevokeKey revokes a key and forgets it, before the write and after it:
// a read racing the revocation cannot leave the unrevoked key cached.
func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time, audit ...alliance.AuditEntry) error {
	s.keys.remove(id)
	defer s.keys.remove(id)
	return s.Store.RevokeKey(ctx, id, at, audit...)
}

// WithdrawDyad withdraws a dyad and forgets it.
func (s *Store) WithdrawDyad(ctx context.Context, id, from string, w alliance.Withdrawal, audit ...alliance.AuditEntry) error {
	s.dyads.remove(id)
	s.targets.remove(id)
	defer s.dyads.remove(id)
	defer s.targets.remove(id)
	return s.Store.WithdrawDyad(ctx, id, from, w, audit...)
}

// UpdateAlertThresholds changes a study's alert thresholds, the one
// change a study takes, and forgets the study and the rating targets of
// its dyads, before the write and after it. Another instance (PostgreSQL)
// may serve a rating target with the old thresholds for up to TargetTTL:
// nothing on the rating path takes thresholds from it (alert evaluation
// reads them in the rating write's transaction, see
// alliance.Store.WriteRating).
func (s *Store) UpdateAlertThresholds(ctx context.Context, id string, th alliance.AlertThresholds, audit ...alliance.AuditEntry) error {
	forget := func() {
		s.studies.remove(id)
		s.targets.removeIf(func(t target) bool { return t.dyad.StudyID == id })
	}
	forget()
	defer forget()
	return s.Store.UpdateAlertThresholds(ctx, id, th, audit...)
}

// EraseDyad erases a dyad and forgets it.
func (s *Store) EraseDyad(ctx context.Context, id string, at time.Time, audit ...alliance.AuditEntry) error {
	defer s.dyads.remove(id)
	defer s.targets.remove(id)
	return s.Store.EraseDyad(ctx, id, at, audit...)
}

// EraseStudy erases a study and forgets it, its dyads and the keys bound
// to it.
func (s *Store) EraseStudy(ctx context.Context, id string, at time.Time, audit ...alliance.AuditEntry) error {
	defer func() {
		s.studies.remove(id)
		s.targets.removeIf(func(t target) bool { return t.dyad.StudyID == id })
		s.dyads.removeIf(func(d alliance.Dyad) bool { return d.StudyID == id })
		s.keys.removeIf(func(k alliance.Key) bool { return k.StudyID == id })
	}()
	return s.Store.EraseStudy(ctx, id, at, audit...)
}

// through serves id from c, or reads it with find and keeps it. A nil
// cache always reads.
func through[V any](ctx context.Context, c *copying[V], id string, find func(context.Context, string) (V, error)) (V, error) {
	if c != nil {
		if v, ok := c.get(id); ok {
			return v, nil
		}
	}
	v, err := find(ctx, id)
	if err == nil && c != nil {
		c.add(id, v)
	}
	return v, err
}

// lruCache is what copying needs of hashicorp's LRU caches.
type lruCache[V any] interface {
	Get(key string) (V, bool)
	Peek(key string) (V, bool)
	Add(key string, value V) bool
	Remove(key string) bool
	Keys() []string
}

// copying stores and hands out copies, so no caller shares a map or slice
// with the cache or with another caller.
type copying[V any] struct {
	c     lruCache[V]
	clone func(V) V
}

func (c *copying[V]) get(id string) (V, bool) {
	v, ok := c.c.Get(id)
	if ok {
		v = c.clone(v)
	}
	return v, ok
}

func (c *copying[V]) add(id string, v V) { c.c.Add(id, c.clone(v)) }

func (c *copying[V]) remove(id string) {
	if c != nil {
		c.c.Remove(id)
	}
}

// removeIf forgets every entry for which drop is true.
func (c *copying[V]) removeIf(drop func(V) bool) {
	if c == nil {
		return
	}
	for _, k := range c.c.Keys() {
		if v, ok := c.c.Peek(k); ok && drop(v) {
			c.c.Remove(k)
		}
	}
}
