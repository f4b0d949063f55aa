package main

// The command line as an operator meets it, through the real binary: help
// on every command, exit statuses, and the maintenance commands (keys,
// backup) refusing a database that is not there.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// binRun runs the binary in dir with only the given ALLIANCE_* settings
// and returns its exit status, stdout and stderr.
func binRun(t *testing.T, dir string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binBuild(t), args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ALLIANCE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), stdout.String(), stderr.String()
	case err != nil:
		t.Fatalf("alliance %q: %v", args, err)
	}
	return 0, stdout.String(), stderr.String()
}

// TestHelpOnEveryCommand: -h on every command and keys action exits 0,
// prints the usage on stdout and shows each flag with its type (a bool as
// a bare -flag), and touches no database.
func TestHelpOnEveryCommand(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		want []string // lines or fragments the help must hold
	}{
		{[]string{"-h"}, []string{"usage: alliance <command>", "keys", "backup"}},
		{[]string{"help"}, []string{"usage: alliance <command>"}},
		{[]string{"serve", "-h"}, []string{"usage: alliance serve [flags]", "\n  -demo\n", "\n  -migrate-on-start\n",
			"-shutdown-timeout duration", "(default 15s)", "-max-body-bytes int", "-rate-limit float", "-addr host:port",
			"-database-url url", "[ALLIANCE_DATABASE_URL]"}},
		{[]string{"migrate", "-h"}, []string{"usage: alliance migrate [flags]", "-database-url url", "-db-statement-timeout duration", "-log-level level"}},
		{[]string{"keys", "-h"}, []string{"usage: alliance keys", "create", "list", "revoke", "-database-url url"}},
		{[]string{"keys", "create", "-h"}, []string{"usage: alliance keys create [flags]", "-name string", "-scopes string", "-study string", "-database-url url"}},
		{[]string{"keys", "list", "-h"}, []string{"usage: alliance keys list [flags]", "-database-url url"}},
		{[]string{"keys", "revoke", "-h"}, []string{"usage: alliance keys revoke [flags] ID", "-database-url url"}},
		{[]string{"backup", "-h"}, []string{"usage: alliance backup [flags]", "-out string", "-database-url url"}},
		{[]string{"backup", "--help"}, []string{"usage: alliance backup [flags]"}},
		{[]string{"version", "-h"}, []string{"usage: alliance version"}},
	}
	for _, tt := range tests {
		exit, stdout, stderr := binRun(t, dir, nil, tt.args...)
		if exit != 0 || stderr != "" {
			t.Errorf("alliance %q: exit %d, stderr %q; want exit 0, help on stdout", tt.args, exit, stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("alliance %q help lacks %q:\n%s", tt.args, w, stdout)
			}
		}
		// A bool set or defaulted to false reads as a bool, not a string.
		if strings.Contains(stdout, `string (default "false")`) || strings.Contains(stdout, `(default "true")`) {
			t.Errorf("alliance %q help shows a bool as a string:\n%s", tt.args, stdout)
		}
	}
	// migrate lists only what it takes: the database, its pool, the log.
	_, stdout, _ := binRun(t, dir, nil, "migrate", "-h")
	for _, serveOnly := range []string{"-addr", "-demo", "-migrate-on-start", "-rate-limit", "-secret-key"} {
		if strings.Contains(stdout, serveOnly) {
			t.Errorf("alliance migrate -h lists %s, which only serve takes:\n%s", serveOnly, stdout)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("help left files behind: %v", entries)
	}
}

// TestKeysAndBackupRefuseAMissingDatabase: keys and backup exit 2 naming
// the path they looked at, and create nothing, when the SQLite file is not
// there, whether it came from the default, ALLIANCE_DATABASE_URL or
// -database-url (a cron job in the wrong directory must fail loudly). On
// an existing database both take -database-url, which wins over the
// environment, or ALLIANCE_DATABASE_URL alone.
func TestKeysAndBackupRefuseAMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	// Symlinks (a /tmp on macOS) aside, the binary sees the directory as
	// its working directory.
	wd, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	missing := []struct {
		name   string
		env    []string
		args   []string
		lookAt string // the absolute path the message must name
	}{
		{"backup from cron in the wrong directory", nil, []string{"backup", "-out", "copy.db"}, filepath.Join(wd, "alliance.db")},
		{"keys list, variable", []string{"ALLIANCE_DATABASE_URL=gone.db"}, []string{"keys", "list"}, filepath.Join(wd, "gone.db")},
		{"keys create, flag after the action", nil, []string{"keys", "create", "-name", "x", "-scopes", "admin", "-database-url", filepath.Join(wd, "a", "b.db")}, filepath.Join(wd, "a", "b.db")},
		{"keys revoke, flag before the action", nil, []string{"keys", "-database-url", "sqlite://old.db", "revoke", "k1"}, filepath.Join(wd, "old.db")},
		{"backup, flag", []string{"ALLIANCE_DATABASE_URL=elsewhere.db"}, []string{"backup", "-database-url", "nope.db", "-out", "copy.db"}, filepath.Join(wd, "nope.db")},
	}
	for _, tt := range missing {
		exit, stdout, stderr := binRun(t, dir, tt.env, tt.args...)
		if exit != 2 || !strings.Contains(stderr, "no database at "+tt.lookAt) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 naming %s", tt.name, exit, stderr, tt.lookAt)
		}
		if strings.Contains(stdout, "written") || strings.Contains(stdout, "created") {
			t.Errorf("%s: reported success: %q", tt.name, stdout)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("%s: created %v", tt.name, entries)
		}
	}

	// An existing database: -database-url wins over the variable, and the
	// variable alone is enough.
	// A serve-only variable in the environment, even a bad one, is no
	// business of migrate, keys or backup: one environment serves all.
	serveOnly := []string{"ALLIANCE_HTTP_ADDR=bogus", "ALLIANCE_RATE_LIMIT=fast"}
	if exit, _, stderr := binRun(t, dir, serveOnly, "migrate", "-database-url", "live.db"); exit != 0 {
		t.Fatalf("migrate: exit %d: %s", exit, stderr)
	}
	if exit, _, stderr := binRun(t, dir, serveOnly, "keys", "list", "-database-url", "live.db"); exit != 0 {
		t.Fatalf("keys list: exit %d: %s", exit, stderr)
	}
	wrong := []string{"ALLIANCE_DATABASE_URL=" + filepath.Join(wd, "gone.db")}
	if exit, stdout, stderr := binRun(t, dir, wrong, "keys", "create", "-database-url", "live.db", "-name", "ops", "-scopes", "admin"); exit != 0 || !strings.Contains(stdout, "alk_") {
		t.Fatalf("keys create -database-url live.db: exit %d\n%s%s", exit, stdout, stderr)
	}
	if exit, stdout, stderr := binRun(t, dir, []string{"ALLIANCE_DATABASE_URL=live.db"}, "keys", "list"); exit != 0 || !strings.Contains(stdout, "ops") {
		t.Fatalf("keys list with ALLIANCE_DATABASE_URL: exit %d\n%s%s", exit, stdout, stderr)
	}
	if exit, stdout, stderr := binRun(t, dir, wrong, "backup", "-database-url", "live.db", "-out", "copy.db"); exit != 0 || !strings.Contains(stdout, "backup written to copy.db") {
		t.Fatalf("backup -database-url live.db: exit %d\n%s%s", exit, stdout, stderr)
	}
	if exit, stdout, _ := binRun(t, dir, nil, "keys", "list", "-database-url", "copy.db"); exit != 0 || !strings.Contains(stdout, "ops") {
		t.Errorf("the backup does not hold the key: exit %d\n%s", exit, stdout)
	}
}

// TestLogDurationsReadable: durations in the JSON log read as Go writes
// them ("15s", "1.2ms"), not as integers of nanoseconds: the effective
// configuration at start-up, each request's duration and the shutdown
// grace.
func TestLogDurationsReadable(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := map[string]string{"ALLIANCE_DATABASE_URL": filepath.Join(t.TempDir(), "d.db"), "ALLIANCE_HTTP_ADDR": "127.0.0.1:0",
		"ALLIANCE_LOG_FORMAT": "json", "ALLIANCE_SHUTDOWN_TIMEOUT": "2s"}
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"alliance", "serve"}, func(k string) string { return env[k] }, &bytes.Buffer{}, &logs)
	}()
	addrRE := regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := addrRE.FindStringSubmatch(logs.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatalf("server did not report its address; log:\n%s", logs.String())
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	var start, request, stop map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		switch line["msg"] {
		case "starting alliance":
			start = line
		case "request":
			request = line
		case "shutting down":
			stop = line
		}
	}
	if start == nil || request == nil || stop == nil {
		t.Fatalf("missing start, request or shutdown line in:\n%s", logs.String())
	}
	cfg, _ := start["config"].(map[string]any)
	for key, want := range map[string]string{"shutdown_timeout": "2s", "db_statement_timeout": "30s", "db_conn_max_lifetime": "30m0s", "db_conn_max_idle_time": "5m0s"} {
		if got := cfg[key]; got != want {
			t.Errorf("config %s = %#v, want %q", key, got, want)
		}
	}
	if d, ok := request["duration"].(string); !ok {
		t.Errorf("request duration = %#v, want a string such as \"1.2ms\"", request["duration"])
	} else if _, err := time.ParseDuration(d); err != nil {
		t.Errorf("request duration %q does not parse: %v", d, err)
	}
	if got := stop["grace"]; got != "2s" {
		t.Errorf("shutdown grace = %#v, want \"2s\"", got)
	}
}

// TestBadSettingsExitTwo: a setting's bad value is a mistake in the
// command line (exit 2) named by its variable and flag, caught before
// anything is opened: a mistyped PostgreSQL address once became an SQLite
// file of that name, and migrate said it was done.
func TestBadSettingsExitTwo(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"migrate", "-database-url", "postgress://alliance@127.0.0.1:5432/alliance"},
		{"migrate", "-database-url", "host=127.0.0.1 port=5432 dbname=alliance"},
		{"serve", "-database-url", "mysql://x"},
		{"serve", "-log-level", "loud"},
		{"serve", "-addr", "nonsense"},
	} {
		exit, stdout, stderr := binRun(t, dir, nil, args...)
		if exit != 2 || !strings.Contains(stderr, "-"+strings.TrimPrefix(args[1], "-")) {
			t.Errorf("alliance %q: exit %d, stderr %q; want exit 2 naming the flag", args, exit, stderr)
		}
		if strings.Contains(stdout, "alk_") {
			t.Errorf("alliance %q printed an admin key", args)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("alliance %q created %v", args, entries)
		}
	}
}

// TestServeRefusesAnUnmigratedDatabase: with migrations left to a
// separate step, a database without them is refused in words that say
// what to run, not with a missing table's error.
func TestServeRefusesAnUnmigratedDatabase(t *testing.T) {
	dir := t.TempDir()
	exit, stdout, stderr := binRun(t, dir, []string{"ALLIANCE_MIGRATE_ON_START=false"}, "serve", "-addr", "127.0.0.1:0", "-database-url", "fresh.db")
	if exit == 0 || !strings.Contains(stderr, "alliance migrate") || strings.Contains(stderr, "no such table") || strings.Contains(stdout, "alk_") {
		t.Errorf("serve on an unmigrated database: exit %d, stderr %q; want a refusal naming 'alliance migrate'", exit, stderr)
	}
}
