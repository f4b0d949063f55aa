package main

// Graceful shutdown and slow-client defences of the real binary.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestShutdownSIGTERMDuringLoad: on SIGTERM the server stops accepting
// connections at once, lets in-flight requests finish with their 2xx
// (including one whose body is still arriving), loses nothing it
// acknowledged and exits 0 within ALLIANCE_SHUTDOWN_TIMEOUT.
func TestShutdownSIGTERMDuringLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and signals the real binary")
	}
	const grace = 5 * time.Second
	bin := binBuild(t)
	db := filepath.Join(t.TempDir(), "shutdown.db")
	s := binStart(t, bin, db, "ALLIANCE_SHUTDOWN_TIMEOUT="+grace.String())
	_, dyads := binSeed(t, s, "", 9, "sd")

	// An in-flight request that cannot finish before we let it: the
	// headers and half the body are sent; the rest comes after SIGTERM.
	slow := newBinRating(dyads[0], 0, "slow")
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := fmt.Sprintf("POST /v1/dyads/%s/ratings HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
		"Authorization: Bearer %s\r\nIdempotency-Key: %s\r\nContent-Length: %d\r\n\r\n",
		slow.Dyad, s.addr, s.client.Transport.(binAuth).token, slow.Key, len(slow.Body))
	half := len(slow.Body) / 2
	if _, err := io.WriteString(conn, head+string(slow.Body[:half])); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	resc := make(chan []binRating, 1)
	go func() { resc <- binLoad(s, dyads[1:], "sd", stop) }()
	time.Sleep(400 * time.Millisecond)

	termAt := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Wait for the log line, then give Shutdown a moment to close the listener.
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		s.mu.Lock()
		began := !s.shutdownAt.IsZero()
		s.mu.Unlock()
		if began {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 'shutting down' log line 3s after SIGTERM\n%s", s.log())
		}
	}
	time.Sleep(100 * time.Millisecond)
	select {
	case <-s.done:
		t.Fatalf("server exited with a request in flight (%v)\n%s", s.waitErr, s.log())
	default:
	}
	if c, err := net.DialTimeout("tcp", s.addr, time.Second); err == nil {
		c.Close()
		t.Errorf("a new connection was accepted after shutdown began")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Logf("new connection after shutdown began: %v (refused as expected)", err)
	}

	// Finish the slow request: it must complete normally.
	if _, err := conn.Write(slow.Body[half:]); err != nil {
		t.Fatalf("finish the in-flight body: %v", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request during shutdown: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("in-flight request during shutdown = %d, want 201; body %s", resp.StatusCode, body)
	}
	slow.ID = "(acknowledged)" // the id is checked via the replay below

	select {
	case <-s.done:
	case <-time.After(grace + 2*time.Second):
		t.Fatalf("server still running %v after SIGTERM (grace %v)\n%s", time.Since(termAt), grace, s.log())
	}
	took := time.Since(termAt)
	if s.waitErr != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0\n%s", s.waitErr, s.log())
	}
	if took > grace {
		t.Errorf("exit took %v, longer than the grace period %v", took, grace)
	}
	close(stop)
	reqs := <-resc

	var acked, refused int
	for _, r := range reqs {
		switch {
		case r.ID != "":
			acked++
		case r.Status != 0:
			// A response that is not a 201 is a request the server
			// accepted and then failed: shutdown must not do that.
			t.Errorf("%s answered %d during shutdown: %v", r.Key, r.Status, r.Err)
		default:
			refused++
		}
	}
	if acked == 0 {
		t.Fatal("no rating acknowledged before SIGTERM")
	}
	t.Logf("SIGTERM after %d acknowledged ratings; %d refused afterwards; exit 0 after %v", acked, refused, took.Round(time.Millisecond))

	// Nothing acknowledged is lost; refused requests retry cleanly.
	s = binStart(t, bin, db)
	binVerify(t, s, reqs)
	slowCheck := slow
	if !s.post(context.Background(), &slowCheck) || slowCheck.Status != http.StatusCreated {
		t.Errorf("the request finished during shutdown was not stored: retry status %d replayed=false", slowCheck.Status)
	}
	if retried, replays := binRetry(t, s, reqs); replays != 0 {
		t.Errorf("%d of %d refused requests had been committed: a refused request must not be half-done", replays, retried)
	}
	binVerify(t, s, reqs)
	s.stop(t)
	binCheckDB(t, db)
}

// TestShutdownGraceBoundsAStalledRequest: a request that never finishes
// cannot hold the process past ALLIANCE_SHUTDOWN_TIMEOUT.
func TestShutdownGraceBoundsAStalledRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and signals the real binary")
	}
	const grace = time.Second
	bin := binBuild(t)
	s := binStart(t, bin, filepath.Join(t.TempDir(), "grace.db"), "ALLIANCE_SHUTDOWN_TIMEOUT="+grace.String())
	_, dyads := binSeed(t, s, "", 1, "g")
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/dyads/%s/ratings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"ses", dyads[0])
	time.Sleep(200 * time.Millisecond)
	termAt := time.Now()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(grace + 3*time.Second):
		t.Fatalf("server still running %v after SIGTERM with a stalled request (grace %v)", time.Since(termAt), grace)
	}
	took := time.Since(termAt)
	if took < grace-100*time.Millisecond {
		t.Errorf("exited after %v, before the grace period %v: the stalled request was not given its time", took, grace)
	}
	// Exceeding the grace period is reported as an error exit (status 1),
	// so a supervisor can tell an abandoned request from a clean stop.
	var ee *exec.ExitError
	if s.waitErr != nil && !errors.As(s.waitErr, &ee) {
		t.Errorf("exit: %v", s.waitErr)
	}
	t.Logf("stalled request: exit %v after %v", s.waitErr, took.Round(time.Millisecond))
}

// TestSlowlorisHeaderTimeout: a client that sends part of its header and
// stalls, or trickles the header a byte at a time, is disconnected once
// ReadHeaderTimeout (5s, set in serve) has passed since it connected,
// while normal requests keep being served. The timeout is not
// configurable, so this test takes about 5 seconds.
func TestSlowlorisHeaderTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the real binary and waits for its header timeout")
	}
	t.Parallel()
	const headerTimeout = 5 * time.Second
	bin := binBuild(t)
	s := binStart(t, bin, filepath.Join(t.TempDir(), "slow.db"))

	// closedAfter reports how long after connecting the server closed the
	// connection, sending the header with send.
	closedAfter := func(t *testing.T, send func(c net.Conn, stop <-chan struct{})) time.Duration {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { send(c, stop) })
		defer func() { close(stop); wg.Wait() }()
		_ = c.SetReadDeadline(start.Add(headerTimeout + 5*time.Second))
		b, err := io.ReadAll(c)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("still connected %v after connecting; header timeout %v", time.Since(start), headerTimeout)
		}
		if len(b) > 0 && !strings.HasPrefix(string(b), "HTTP/1.1 408") && !strings.HasPrefix(string(b), "HTTP/1.1 400") {
			t.Errorf("stalled client got %q, want a plain close or a 408", b)
		}
		return time.Since(start)
	}
	check := func(t *testing.T, d time.Duration) {
		if d < headerTimeout-500*time.Millisecond || d > headerTimeout+2*time.Second {
			t.Errorf("disconnected after %v, want about %v", d, headerTimeout)
		}
		t.Logf("disconnected after %v", d.Round(time.Millisecond))
	}

	t.Run("partial header then stall", func(t *testing.T) {
		t.Parallel()
		check(t, closedAfter(t, func(c net.Conn, _ <-chan struct{}) {
			_, _ = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
		}))
	})
	t.Run("header trickled a byte at a time", func(t *testing.T) {
		t.Parallel()
		check(t, closedAfter(t, func(c net.Conn, stop <-chan struct{}) {
			msg := "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 1000)
			for i := range len(msg) {
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
				}
				if _, err := c.Write([]byte{msg[i]}); err != nil {
					return
				}
			}
		}))
	})
	t.Run("normal requests are served meanwhile", func(t *testing.T) {
		t.Parallel()
		for range 10 {
			time.Sleep(300 * time.Millisecond)
			var st struct{ Status string }
			if code := s.call(t, http.MethodGet, "/healthz", nil, &st); code != http.StatusOK {
				t.Fatalf("GET /healthz = %d during slowloris", code)
			}
		}
	})
}
