package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// serverMemory is what the server's /metrics says of its memory.
type serverMemory struct{ rss, heap float64 }

// memSampler reads the server's /metrics every 50 ms and keeps the peak.
type memSampler struct {
	before, peak serverMemory
	quit         chan struct{}
	done         chan struct{}
}

func sampleMemory(ctx context.Context, client *http.Client, metricsURL string) *memSampler {
	m := &memSampler{quit: make(chan struct{}), done: make(chan struct{})}
	m.before = readMemory(ctx, client, metricsURL)
	m.peak = m.before
	go func() {
		defer close(m.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-m.quit:
				return
			case <-tick.C:
			}
			now := readMemory(ctx, client, metricsURL)
			m.peak.rss, m.peak.heap = max(m.peak.rss, now.rss), max(m.peak.heap, now.heap)
		}
	}()
	return m
}

func (m *memSampler) stop() {
	close(m.quit)
	<-m.done
}

// readMemory reads process_resident_memory_bytes and
// go_memstats_heap_inuse_bytes from a Prometheus text page; a figure it
// cannot read stays 0 (and is left out of the result).
func readMemory(ctx context.Context, client *http.Client, metricsURL string) serverMemory {
	var m serverMemory
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return m
	}
	resp, err := client.Do(req)
	if err != nil {
		return m
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for line := range strings.Lines(string(body)) {
		name, value, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(value, &v); err != nil {
			continue
		}
		switch name {
		case "process_resident_memory_bytes":
			m.rss = v
		case "go_memstats_heap_inuse_bytes":
			m.heap = v
		}
	}
	return m
}
