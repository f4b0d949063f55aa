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
	studies *lru.Cache[string, alliance.Study]
	dyads   *lru.Cache[string, alliance.Dyad]
	keys    *expirable.LRU[string, alliance.Key]
}

func newRowCache() rowCache {
	// lru.New fails only for a size ≤ 0.
	studies, _ := lru.New[string, alliance.Study](cachedStudies)
	dyads, _ := lru.New[string, alliance.Dyad](cachedDyads)
	keys := expirable.NewLRU[string, alliance.Key](cachedKeys, nil, KeyCacheTTL)
	return rowCache{studies: studies, dyads: dyads, keys: keys}
}

// key returns a copy of a cached key: callers get their own Scopes.
func (c rowCache) key(id string) (alliance.Key, bool) {
	k, ok := c.keys.Get(id)
	if ok {
		k.Scopes = slices.Clone(k.Scopes)
	}
	return k, ok
}

func (c rowCache) addKey(k alliance.Key) {
	k.Scopes = slices.Clone(k.Scopes)
	c.keys.Add(k.ID, k)
}

// study returns a copy of a cached study: callers get their own Forms map.
func (c rowCache) study(id string) (alliance.Study, bool) {
	st, ok := c.studies.Get(id)
	if ok {
		st.Forms = maps.Clone(st.Forms)
	}
	return st, ok
}

func (c rowCache) addStudy(st alliance.Study) {
	st.Forms = maps.Clone(st.Forms)
	c.studies.Add(st.ID, st)
}
