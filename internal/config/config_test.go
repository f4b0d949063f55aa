package config_test

import (
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/alliance-project/alliance/internal/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := config.Load("t", config.Serve, nil, env(nil), false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := config.Config{
		HTTPAddr: "127.0.0.1:8080", DatabaseURL: "alliance.db", LogLevel: slog.LevelInfo, LogFormat: "json",
		MigrateOnStart: true, MaxBodyBytes: 1 << 20, ShutdownTimeout: 15 * time.Second,
		DBMaxOpenConns: 10, DBMaxIdleConns: 10, DBConnMaxLifetime: 30 * time.Minute, DBConnMaxIdleTime: 5 * time.Minute,
		DBStatementTimeout: 30 * time.Second, DBPoolWait: 5 * time.Second, RateLimit: 20, RateLimitIP: 50, RateLimitBurst: 40,
		CookieSecure: "auto",
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load() = %+v, want %+v", c, want)
	}
	if c, _ := config.Load("t", config.Serve, nil, env(nil), true, io.Discard); c.LogFormat != "text" {
		t.Errorf("log format on a terminal = %q, want text", c.LogFormat)
	}
}

func TestEnvironmentAndFlags(t *testing.T) {
	e := env(map[string]string{
		"ALLIANCE_HTTP_ADDR": ":9000", "ALLIANCE_DATABASE_URL": "/data/a.db", "ALLIANCE_LOG_LEVEL": "debug",
		"ALLIANCE_MIGRATE_ON_START": "false",
	})
	c, err := config.Load("t", config.Serve, []string{"-addr", ":9100"}, e, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":9100" || c.DatabaseURL != "/data/a.db" || c.LogLevel != slog.LevelDebug || c.MigrateOnStart {
		t.Errorf("Load = %+v; want flag to win over env and env over defaults", c)
	}
}

func TestInvalidNamesTheVariable(t *testing.T) {
	tests := []struct{ env, val string }{
		{"ALLIANCE_LOG_LEVEL", "loud"},
		{"ALLIANCE_LOG_FORMAT", "xml"},
		{"ALLIANCE_MIGRATE_ON_START", "perhaps"},
		{"ALLIANCE_MAX_BODY_BYTES", "12"},
		{"ALLIANCE_SHUTDOWN_TIMEOUT", "soon"},
		{"ALLIANCE_DB_MAX_OPEN_CONNS", "-1"},
		{"ALLIANCE_DB_STATEMENT_TIMEOUT", "forever"},
		{"ALLIANCE_RATE_LIMIT", "fast"},
		{"ALLIANCE_CORS_ORIGINS", "survey.example.org"},
		{"ALLIANCE_PUBLIC_URL", "survey.example.org"},
		{"ALLIANCE_PUBLIC_URL", "https://survey.example.org/?a=1"},
		{"ALLIANCE_PUBLIC_URL", "https://survey.example.org/#x"},
		{"ALLIANCE_PUBLIC_URL", "ftp://survey.example.org"},
		{"ALLIANCE_COOKIE_SECURE", "yes"},
		{"ALLIANCE_HTTP_ADDR", "nonsense"},
		// A typo in a PostgreSQL address once became an SQLite file of that
		// name, a database of each instance's own.
		{"ALLIANCE_DATABASE_URL", "postgress://alliance@db/alliance"},
		{"ALLIANCE_DATABASE_URL", "mysql://x"},
		{"ALLIANCE_DATABASE_URL", "postgres:/db/alliance"},
		{"ALLIANCE_DATABASE_URL", "host=127.0.0.1 port=5432 user=alliance dbname=alliance"},
	}
	for _, tt := range tests {
		_, err := config.Load("t", config.Serve, nil, env(map[string]string{tt.env: tt.val}), false, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.env) {
			t.Errorf("Load(%s=%q) error = %v, want one naming %s", tt.env, tt.val, err, tt.env)
		}
	}
}

func TestDatabaseURLs(t *testing.T) {
	for _, u := range []string{"alliance.db", "/var/lib/alliance/alliance.db", "sqlite://data/a.db", "./x.db",
		"postgres://alliance:pw@db:5432/alliance?sslmode=verify-full", "postgresql://db/alliance"} {
		if c, err := config.Load("t", config.Serve, nil, env(map[string]string{"ALLIANCE_DATABASE_URL": u}), false, io.Discard); err != nil || c.DatabaseURL != u {
			t.Errorf("Load(ALLIANCE_DATABASE_URL=%q) = %q, %v", u, c.DatabaseURL, err)
		}
	}
}

// TestRefusedDatabaseURLHidesPassword: the error that refuses an address
// quotes it, but never its password.
func TestRefusedDatabaseURLHidesPassword(t *testing.T) {
	for _, u := range []string{"host=db password=CNRYPGPASS4 dbname=alliance", "postgress://alliance:CNRYPGPASS4@db/alliance",
		"mysql://u:CNRYPGPASS4@db/a"} {
		_, err := config.Load("t", config.Serve, nil, env(map[string]string{"ALLIANCE_DATABASE_URL": u}), false, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "ALLIANCE_DATABASE_URL") || strings.Contains(err.Error(), "CNRYPGPASS4") {
			t.Errorf("Load(ALLIANCE_DATABASE_URL=%q) = %v, want a refusal without the password", u, err)
		}
	}
}

func TestCORSOrigins(t *testing.T) {
	c, err := config.Load("t", config.Serve, nil, env(map[string]string{"ALLIANCE_CORS_ORIGINS": "https://a.example.org, http://localhost:5173"}), false, io.Discard)
	if err != nil || !reflect.DeepEqual(c.CORSOrigins, []string{"https://a.example.org", "http://localhost:5173"}) {
		t.Errorf("CORSOrigins = %q, %v", c.CORSOrigins, err)
	}
}

func TestPublicURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://survey.example.org":           "https://survey.example.org",
		"https://survey.example.org/":          "https://survey.example.org",
		"http://10.0.0.5:8080/alliance/":       "http://10.0.0.5:8080/alliance",
		" https://survey.example.org/clinic  ": "https://survey.example.org/clinic",
	} {
		c, err := config.Load("t", config.Serve, nil, env(map[string]string{"ALLIANCE_PUBLIC_URL": in}), false, io.Discard)
		if err != nil || c.PublicURL != want {
			t.Errorf("ALLIANCE_PUBLIC_URL=%q: PublicURL = %q, %v; want %q", in, c.PublicURL, err, want)
		}
	}
}

func TestCookieSecure(t *testing.T) {
	for _, v := range []string{"auto", "always", "never"} {
		c, err := config.Load("t", config.Serve, []string{"-cookie-secure", v}, env(nil), false, io.Discard)
		if err != nil || c.CookieSecure != v {
			t.Errorf("-cookie-secure %s: CookieSecure = %q, %v", v, c.CookieSecure, err)
		}
	}
}

func TestMaskURL(t *testing.T) {
	got := config.MaskURL("postgres://alice:s3cret@db:5432/alliance")
	if strings.Contains(got, "s3cret") || !strings.Contains(got, "alice") {
		t.Errorf("MaskURL = %q, want the password hidden and the user kept", got)
	}
	if got := config.MaskURL("alliance.db"); got != "alliance.db" {
		t.Errorf("MaskURL(path) = %q, want it unchanged", got)
	}
	// Every other place pgx takes a password from.
	for _, dsn := range []string{
		"postgres://alice@db/alliance?sslmode=disable&password=CNRYpw2",
		"postgres://alice:CNRYpw1@db/alliance?PASSWORD=CNRYpw2&sslpassword=CNRYpw3",
		"host=db user=alice password=CNRYpw2 dbname=alliance",
		"host=db password = 'CNRY pw\\' x' sslpassword=CNRYpw3",
		"postgres://alice:CNRY%zz@db/alliance", // does not parse
	} {
		got := config.MaskURL(dsn)
		if strings.Contains(got, "CNRY") || !strings.Contains(got, "db") {
			t.Errorf("MaskURL(%q) = %q, want every password hidden and the host kept", dsn, got)
		}
	}
	if got := config.MaskURL("host=db user=alice password=CNRYpw2 dbname=alliance"); got != "host=db user=alice password=xxxxx dbname=alliance" {
		t.Errorf("MaskURL(keyword=value) = %q, want it as written but the password", got)
	}
}
