package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer lets the test read the log while the server writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeStartsMigratesAndStops runs the real serve path on a fresh
// SQLite file: it must migrate, answer /readyz and stop cleanly on cancel.
func TestServeStartsMigratesAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := filepath.Join(t.TempDir(), "a.db")
	env := map[string]string{"ALLIANCE_DATABASE_URL": db, "ALLIANCE_HTTP_ADDR": "127.0.0.1:0", "ALLIANCE_LOG_FORMAT": "text"}
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"alliance", "serve"}, func(k string) string { return env[k] }, &logs, &logs)
	}()

	addrRE := regexp.MustCompile(`msg=listening addr=(\S+)`)
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := addrRE.FindStringSubmatch(logs.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatalf("server did not report its address; log:\n%s", logs.String())
	}
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /readyz = %d, want 200", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v after cancel, want nil", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop after cancel")
	}
}

func TestCommands(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr bool
		wantOut string
	}{
		{[]string{"alliance", "version"}, false, "alliance"},
		{[]string{"alliance", "help"}, false, "usage"},
		{[]string{"alliance"}, true, ""},
		{[]string{"alliance", "frobnicate"}, true, ""},
		{[]string{"alliance", "serve", "-log-level", "loud"}, true, ""},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		err := run(context.Background(), tt.args, func(string) string { return "" }, &out, &errOut)
		if (err != nil) != tt.wantErr || !strings.Contains(out.String(), tt.wantOut) {
			t.Errorf("run(%q) = %v, stdout %q; want error %v and output containing %q", tt.args, err, out.String(), tt.wantErr, tt.wantOut)
		}
	}
}

func TestMigrateCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	env := map[string]string{"ALLIANCE_DATABASE_URL": db}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"alliance", "migrate"}, func(k string) string { return env[k] }, &out, &out); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out.String())
	}
}
