package alliance

import (
	"context"
	"sync"
)

// dyadLocks lets one rating write of a dyad at a time go to the store on
// this instance. The store evaluates a write's alerts with its dyad
// locked in the write's transaction, which keeps writes of one dyad apart
// across instances; within an instance, writes of a dyad that arrive
// together would meet there instead, where on PostgreSQL the second waits
// for the first's commit with its whole batch, or cuts its batch in two.
// Waiting here holds up only the one write. The zero value is ready to
// use.
type dyadLocks struct {
	mu sync.Mutex
	m  map[string]*dyadLock
}

type dyadLock struct {
	held chan struct{} // holds one token while the dyad is locked
	refs int           // holders and waiters
}

// lock waits until no other write of dyad holds it, or ctx ends, and
// returns the unlock function.
func (l *dyadLocks) lock(ctx context.Context, dyad string) (func(), error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*dyadLock{}
	}
	e := l.m[dyad]
	if e == nil {
		e = &dyadLock{held: make(chan struct{}, 1)}
		l.m[dyad] = e
	}
	e.refs++
	l.mu.Unlock()
	select {
	case e.held <- struct{}{}:
		return func() { <-e.held; l.release(dyad, e) }, nil
	case <-ctx.Done():
		l.release(dyad, e)
		return nil, ctx.Err()
	}
}

// release forgets e once nobody holds or waits for it, so the map holds
// only the dyads being written.
func (l *dyadLocks) release(dyad string, e *dyadLock) {
	l.mu.Lock()
	if e.refs--; e.refs == 0 {
		delete(l.m, dyad)
	}
	l.mu.Unlock()
}
