package store

import (
	"maps"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/alliance-project/alliance/internal/alliance"
)

// Cache sizes: a deployment has a handful of studies and up to some tens
// of thousands of dyads; at about 200 bytes a dyad, the caches stay under
// a few megabytes.
const (
	cachedStudies = 1024
	cachedDyads   = 16384
)

// rowCache keeps studies and dyads once read. Every rating submission
// reads its dyad and study, and those two point reads cost about as much
// CPU as the rest of the request outside the writer; the rows never change
// once created (there is no update or delete of either), so a cached copy
// is never stale, on one instance or several. Should studies or dyads ever
// become editable or erasable, this cache has to go or learn invalidation.
type rowCache struct {
	studies *lru.Cache[string, alliance.Study]
	dyads   *lru.Cache[string, alliance.Dyad]
}

func newRowCache() rowCache {
	// lru.New fails only for a size ≤ 0.
	studies, _ := lru.New[string, alliance.Study](cachedStudies)
	dyads, _ := lru.New[string, alliance.Dyad](cachedDyads)
	return rowCache{studies: studies, dyads: dyads}
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
