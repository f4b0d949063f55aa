package alliance

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestDyadLocks: writes of one dyad take turns, writes of others do not
// wait for them, a waiter gives up when its request ends, and the map
// forgets a dyad once nobody holds or waits for it.
func TestDyadLocks(t *testing.T) {
	var l dyadLocks
	ctx := context.Background()
	var mu sync.Mutex
	inside := map[string]int{}
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dyad := []string{"dy_a", "dy_b"}[i%2]
			unlock, err := l.lock(ctx, dyad)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			inside[dyad]++
			if inside[dyad] != 1 {
				t.Errorf("%d writes of %s at once", inside[dyad], dyad)
			}
			mu.Unlock()
			time.Sleep(100 * time.Microsecond)
			mu.Lock()
			inside[dyad]--
			mu.Unlock()
			unlock()
		}()
	}
	wg.Wait()
	if len(l.m) != 0 {
		t.Errorf("locks left after every write: %v", l.m)
	}

	unlockA, err := l.lock(ctx, "dy_a")
	if err != nil {
		t.Fatal(err)
	}
	unlockB, err := l.lock(ctx, "dy_b") // another dyad: no wait
	if err != nil {
		t.Fatal(err)
	}
	unlockB()
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.lock(gone, "dy_a"); !errors.Is(err, context.Canceled) {
		t.Errorf("lock of a held dyad with an ended request = %v, want context.Canceled", err)
	}
	unlockA()
	if len(l.m) != 0 {
		t.Errorf("locks left: %v", l.m)
	}
}
