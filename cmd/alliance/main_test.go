package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
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
		args     []string
		wantExit int
		wantOut  string
	}{
		{[]string{"alliance", "version"}, 0, "alliance"},
		{[]string{"alliance", "help"}, 0, "usage"},
		{[]string{"alliance", "serve", "-h"}, 0, "usage: alliance serve"},
		{[]string{"alliance"}, 2, ""},
		{[]string{"alliance", "frobnicate"}, 2, ""},
		{[]string{"alliance", "serve", "-no-such-flag"}, 2, ""},
		{[]string{"alliance", "serve", "-demo", "false"}, 2, ""}, // -demo is a bool: say -demo=false
		{[]string{"alliance", "keys"}, 2, ""},
		{[]string{"alliance", "keys", "rotate"}, 2, ""},
		{[]string{"alliance", "keys", "revoke"}, 2, ""},
		{[]string{"alliance", "backup"}, 2, ""},
		{[]string{"alliance", "serve", "-log-level", "loud"}, 2, ""}, // a bad value: named, and a usage error as the flag package makes one
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		err := run(context.Background(), tt.args, func(string) string { return "" }, &out, &errOut)
		exit := 0
		if err != nil {
			exit = exitCode(err)
		}
		if exit != tt.wantExit || !strings.Contains(out.String(), tt.wantOut) {
			t.Errorf("run(%q) = %v (exit %d), stdout %q; want exit %d and output containing %q", tt.args, err, exit, out.String(), tt.wantExit, tt.wantOut)
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

// TestKeysCommand creates, lists and revokes a key from the command line;
// the token is printed once, the list never shows it.
func TestKeysCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	env := func(k string) string { return map[string]string{"ALLIANCE_DATABASE_URL": db}[k] }
	var out bytes.Buffer
	if err := run(context.Background(), []string{"alliance", "migrate"}, env, &out, &out); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"alliance", "keys", "create", "-name", "tablet", "-scopes", "collect"}, env, &out, &out); err != nil {
		t.Fatalf("keys create: %v\n%s", err, out.String())
	}
	tok := regexp.MustCompile(`alk_[0-9a-z]{26}\.[A-Za-z0-9_-]{43}`).FindString(out.String())
	if tok == "" {
		t.Fatalf("keys create printed no token:\n%s", out.String())
	}
	id := strings.SplitN(strings.TrimPrefix(tok, "alk_"), ".", 2)[0]
	out.Reset()
	if err := run(context.Background(), []string{"alliance", "keys", "list"}, env, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), id) || strings.Contains(out.String(), tok) {
		t.Errorf("keys list = %q; want the id and never the token", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"alliance", "keys", "revoke", id}, env, &out, &out); err != nil || !strings.Contains(out.String(), "revoked") {
		t.Fatalf("keys revoke: %v\n%s", err, out.String())
	}
	if err := run(context.Background(), []string{"alliance", "keys", "create", "-name", "x", "-scopes", "root"}, env, &out, &out); err == nil {
		t.Error("keys create with an unknown scope succeeded")
	}
}

// TestFirstStartPrintsAdminKeyOnce: serve on an empty database prints an
// admin key on stdout (not in the log); a second start prints none.
func TestFirstStartPrintsAdminKeyOnce(t *testing.T) {
	db := filepath.Join(t.TempDir(), "first.db")
	env := map[string]string{"ALLIANCE_DATABASE_URL": db, "ALLIANCE_HTTP_ADDR": "127.0.0.1:0", "ALLIANCE_LOG_FORMAT": "text"}
	for i, wantKey := range []bool{true, false} {
		ctx, cancel := context.WithCancel(context.Background())
		var stdout, logs syncBuffer
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"alliance", "serve"}, func(k string) string { return env[k] }, &stdout, &logs)
		}()
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "msg=listening") && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("start %d: %v", i+1, err)
		}
		gotKey := strings.Contains(stdout.String(), "alk_")
		if gotKey != wantKey {
			t.Errorf("start %d printed a key: %v, want %v\n%s", i+1, gotKey, wantKey, stdout.String())
		}
		if strings.Contains(logs.String(), "alk_") {
			t.Errorf("start %d: a key appears in the log", i+1)
		}
	}
}

// TestBackupCommand copies a database with data into a new file that opens,
// passes its integrity check and holds the same rows; it never overwrites.
func TestBackupCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "live.db")
	env := func(k string) string { return map[string]string{"ALLIANCE_DATABASE_URL": db}[k] }
	var out bytes.Buffer
	if err := run(context.Background(), []string{"alliance", "migrate"}, env, &out, &out); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"alliance", "keys", "create", "-name", "a", "-scopes", "admin"}, env, &out, &out); err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, "copy.db")
	if err := run(context.Background(), []string{"alliance", "backup", "-out", copyPath}, env, &out, &out); err != nil {
		t.Fatalf("backup: %v\n%s", err, out.String())
	}
	cp := func(k string) string { return map[string]string{"ALLIANCE_DATABASE_URL": copyPath}[k] }
	out.Reset()
	if err := run(context.Background(), []string{"alliance", "keys", "list"}, cp, &out, &out); err != nil || !strings.Contains(out.String(), "admin") {
		t.Fatalf("keys list on the copy: %v\n%s", err, out.String())
	}
	if err := run(context.Background(), []string{"alliance", "backup", "-out", copyPath}, env, &out, &out); err == nil {
		t.Error("backup over an existing file succeeded; it must refuse")
	}
	// The database and the copy are the owner's only (SQLite gives the
	// WAL and shared-memory files the database's mode).
	for _, p := range []string{db, copyPath} {
		if fi, err := os.Stat(p); err != nil {
			t.Error(err)
		} else if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v; want it readable by its owner only", p, fi.Mode().Perm())
		}
	}
}
