package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func newClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// request builds request i; ok=false ends the worker (capacity reached).
type requestFunc func(i int) (req *http.Request, ok bool)

// load runs o.conns workers that each send requests until -n requests
// were started or -duration has passed, and measures them. With o.rate,
// request i is due i/o.rate seconds after the start: a worker waits for
// that moment, and its latency counts from it, so that time spent behind
// schedule (every worker busy) is latency too.
func load(ctx context.Context, o options, mode, target string, build requestFunc, want int) Result {
	var next atomic.Int64
	var period time.Duration
	if o.rate > 0 {
		period = time.Duration(float64(time.Second) / o.rate)
	}
	type workerStats struct {
		lat    []time.Duration
		errors map[string]int
		sent   int
		bytes  int64
	}
	stats := make([]workerStats, o.conns)
	// In ratings mode with -also-url, worker w sends its requests to the
	// w-th instance, round robin, as a load balancer with keep-alive would.
	var hosts []string
	if mode == "ratings" && len(o.spread) > 0 {
		for _, raw := range append([]string{o.url}, o.spread...) {
			u, _ := url.Parse(raw)
			hosts = append(hosts, u.Host)
		}
	}
	cpu0 := processCPU()
	start := time.Now()
	deadline := start.Add(o.duration)
	var wg sync.WaitGroup
	for w := range o.conns {
		wg.Go(func() {
			st := &stats[w]
			st.errors = map[string]int{}
			var c conn
			defer c.close()
			for {
				if ctx.Err() != nil || (o.n == 0 && time.Now().After(deadline)) {
					return
				}
				i := int(next.Add(1) - 1)
				if o.n > 0 && i >= o.n {
					return
				}
				var due time.Time
				if period > 0 {
					due = start.Add(time.Duration(i) * period)
					if o.n == 0 && due.After(deadline) {
						return
					}
					if !sleepUntil(ctx, due) {
						return
					}
				}
				req, ok := build(i)
				if !ok {
					return
				}
				if hosts != nil {
					req.URL.Host = hosts[w%len(hosts)]
					req.Host = req.URL.Host
				}
				st.sent++
				t0 := time.Now()
				if period > 0 {
					t0 = due
				}
				resp, err := c.do(req)
				if err != nil {
					st.errors["transport"]++
					continue
				}
				n, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				d := time.Since(t0)
				if err != nil || resp.Close {
					c.close() // the server ends the connection, or the body broke off
				}
				switch {
				case resp.StatusCode != want:
					st.errors[fmt.Sprintf("status_%d", resp.StatusCode)]++
					continue
				case err != nil:
					st.errors["body"]++
					continue
				}
				st.bytes += n
				st.lat = append(st.lat, d)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0

	r := Result{Mode: mode, Target: target, Conns: o.conns, Rate: o.rate, Errors: map[string]int{}, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	var lat []time.Duration
	for _, st := range stats {
		r.Requests += st.sent
		r.Bytes += st.bytes
		lat = append(lat, st.lat...)
		for k, v := range st.errors {
			r.Errors[k] += v
		}
	}
	slices.Sort(lat)
	r.OK = len(lat)
	if r.OK > 0 {
		// This process's CPU: the load generator's and, in ceiling mode,
		// the bare server's too (it runs in this process).
		r.CPUmsPerRequest = round(float64(cpu)/float64(time.Millisecond)/float64(r.OK), 4)
	}
	r.Seconds = round(elapsed.Seconds(), 3)
	r.RPS = round(float64(r.OK)/elapsed.Seconds(), 1)
	r.P50ms, r.P90ms, r.P99ms = pct(lat, 0.50), pct(lat, 0.90), pct(lat, 0.99)
	if len(lat) > 0 {
		r.MaxMs = ms(lat[len(lat)-1])
	}
	return r
}

// sleepUntil waits until t, or reports false if ctx ends first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// conn is one worker's keep-alive HTTP/1.1 connection: the worker writes
// each request and reads its response on it in its own goroutine, as wrk
// does. http.Client's Transport hands every request to two goroutines of
// its own per connection; on the two cores the load tool shares with the
// server, those hand-offs took CPU time from the server, which then showed
// as server latency. net/http still writes and parses the messages.
type conn struct {
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

// do sends req and reads the response head; the caller reads and closes
// the body before the next request. A request that fails on a connection
// already used once is sent again on a new one: the server may have
// closed it as idle in between.
func (c *conn) do(req *http.Request) (*http.Response, error) {
	reused := c.c != nil
	resp, err := c.roundTrip(req)
	if err != nil && reused && req.GetBody != nil {
		c.close()
		if req.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
		resp, err = c.roundTrip(req)
	}
	if err != nil {
		c.close()
	}
	return resp, err
}

func (c *conn) roundTrip(req *http.Request) (*http.Response, error) {
	if c.c == nil {
		nc, err := net.DialTimeout("tcp", req.URL.Host, 5*time.Second)
		if err != nil {
			return nil, err
		}
		c.c, c.r, c.w = nc, bufio.NewReaderSize(nc, 64<<10), bufio.NewWriterSize(nc, 16<<10)
	}
	_ = c.c.SetDeadline(time.Now().Add(30 * time.Second))
	if err := req.Write(c.w); err != nil {
		return nil, err
	}
	if err := c.w.Flush(); err != nil {
		return nil, err
	}
	return http.ReadResponse(c.r, req)
}

func (c *conn) close() {
	if c.c != nil {
		_ = c.c.Close()
		c.c = nil
	}
}

// pct is the nearest-rank percentile of sorted durations, in ms.
func pct(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	k := int(math.Ceil(p*float64(len(sorted)))) - 1
	return ms(sorted[max(k, 0)])
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// --- ratings ---
