package store

import (
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

// KeyCacheTTL is how long an API key, once read, is trusted without
// reading it again: the longest a revoked key keeps working where the
// revocation did not happen (another instance, or a running server when
// revoked with the CLI). The instance that revokes a key forgets it at
// once.
const KeyCacheTTL = time.Second

// rowCache keeps studies and dyads once read. Every rating submission
// reads its dyad and study, and those two point reads cost about as much
// CPU as the rest of the request outside the writer; the rows never change
// once created (there is no update or delete of either), so a cached copy
// is never stale, on one instance or several. Should studies or dyads ever
// become editable or erasable, this cache has to go or learn invalidation.
//
// API keys do change (they are revoked), so they are kept only for
// KeyCacheTTL: reading the key was an eighth of the CPU of a rating
// submission.
type rowCache struct {
	studies copying[alliance.Study]
	dyads   copying[alliance.Dyad]
	keys    copying[alliance.Key]
}

func newRowCache() rowCache {
	// lru.New fails only for a size ≤ 0.
	studies, _ := lru.New[string, alliance.Study](cachedStudies)
	dyads, _ := lru.New[string, alliance.Dyad](cachedDyads)
	keys := expirable.NewLRU[string, alliance.Key](cachedKeys, nil, KeyCacheTTL)
	return rowCache{
		studies: copying[alliance.Study]{studies, func(st alliance.Study) alliance.Study {
			st.Forms = maps.Clone(st.Forms)
			return st
		}},
		dyads: copying[alliance.Dyad]{dyads, func(d alliance.Dyad) alliance.Dyad { return d }},
		keys: copying[alliance.Key]{keys, func(k alliance.Key) alliance.Key {
			k.Scopes = slices.Clone(k.Scopes)
			return k
		}},
	}
}

// lruCache is what copying needs of hashicorp's LRU caches.
type lruCache[V any] interface {
	Get(key string) (V, bool)
	Add(key string, value V) bool
	Remove(key string) bool
}

// copying stores and hands out copies, so no caller shares a map or slice
// with the cache or with another caller.
type copying[V any] struct {
	c     lruCache[V]
	clone func(V) V
}

func (c copying[V]) get(id string) (V, bool) {
	v, ok := c.c.Get(id)
	if ok {
		v = c.clone(v)
	}
	return v, ok
}

func (c copying[V]) add(id string, v V) { c.c.Add(id, c.clone(v)) }

func (c copying[V]) remove(id string) { c.c.Remove(id) }
