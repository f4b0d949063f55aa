package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
)

// writeFaultWindow is how long a failed write keeps the store not ready
// when no write succeeds after it: long enough for a load balancer to see
// the fault, short enough that a cleared fault is not reported for long.
const writeFaultWindow = 30 * time.Second

// writeHealth tracks the outcome of the latest write. A write that failed
// because the database could not take it marks the store faulty; any write
// the database processed (stored or refused for a reason of its own) clears
// the mark.
type writeHealth struct {
	mu  sync.Mutex
	err error
	at  time.Time
}

func (h *writeHealth) record(err error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return // says nothing about the database
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if errors.Is(err, alliance.ErrUnavailable) {
		h.err, h.at = err, time.Now()
	} else {
		h.err = nil
	}
}

// fault returns the recent write failure, if any, as ErrUnavailable.
func (h *writeHealth) fault() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil || time.Since(h.at) > writeFaultWindow {
		return nil
	}
	return fmt.Errorf("writes are failing (%v): %w", h.err, alliance.ErrUnavailable)
}
