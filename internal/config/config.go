// Package config reads the service's settings from ALLIANCE_* environment
// variables and command-line flags. Every setting has one name, one default
// (here) and is validated once, so a typo fails at start-up and not at the
// first request.
package config

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is the effective configuration of one process.
type Config struct {
	HTTPAddr        string
	DatabaseURL     string
	LogLevel        slog.Level
	LogFormat       string // "text" or "json"
	MigrateOnStart  bool
	ItemTexts       string // optional path of a licensed item-text file
	MaxBodyBytes    int64
	ShutdownTimeout time.Duration
	Demo            bool // seed an empty database with a synthetic demo study

	// PostgreSQL connection pool (SQLite ignores these).
	DBMaxOpenConns     int
	DBMaxIdleConns     int
	DBConnMaxLifetime  time.Duration
	DBConnMaxIdleTime  time.Duration
	DBStatementTimeout time.Duration
	DBPoolWait         time.Duration

	// Abuse limits on writes: per credential and per client address, in
	// requests per second (0: off), with a shared burst.
	RateLimit      float64
	RateLimitIP    float64
	RateLimitBurst int
	// CORSOrigins are the browser origins allowed to call the API.
	CORSOrigins []string
	// TrustedProxies are the networks (CIDRs) of reverse proxies whose
	// X-Forwarded-For header names the client; from anyone else the
	// header is ignored and the client is the TCP peer.
	TrustedProxies []string
	// PublicURL is the base URL raters reach the service at, without a
	// trailing slash ("" : survey links are root-relative).
	PublicURL string
	// SecretKey is the base64 of the 32-byte key that seals webhook
	// signing secrets ("": webhooks cannot be created). Never logged.
	SecretKey string
	// WebhookAllowLoopback lets webhooks reach http://127.0.0.1 and other
	// loopback addresses: development and tests only.
	WebhookAllowLoopback bool
	// CookieSecure is when the dashboard's session cookie is Secure: auto
	// (over TLS to this process), always (behind a TLS-terminating proxy)
	// or never.
	CookieSecure string
}

// setting describes one option: its flag name, the type of its value as
// the help shows it, environment variable, default and help text. The
// table is the single source for all of them.
type setting struct {
	flag, kind, env, def, help string
}

var settings = []setting{
	{"addr", "host:port", "ALLIANCE_HTTP_ADDR", "127.0.0.1:8080", "HTTP listen address"},
	{"database-url", "url", "ALLIANCE_DATABASE_URL", "alliance.db", "SQLite file path, sqlite://path, or postgres:// URL"},
	{"log-level", "level", "ALLIANCE_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"log-format", "format", "ALLIANCE_LOG_FORMAT", "", "text or json (default: text on a terminal, json otherwise)"},
	{"migrate-on-start", "bool", "ALLIANCE_MIGRATE_ON_START", "true", "apply schema migrations when serve starts"},
	{"item-texts", "path", "ALLIANCE_ITEM_TEXTS", "", "path of a JSON file with licensed item texts (optional)"},
	{"max-body-bytes", "int", "ALLIANCE_MAX_BODY_BYTES", "1048576", "largest accepted request body in bytes"},
	{"shutdown-timeout", "duration", "ALLIANCE_SHUTDOWN_TIMEOUT", "15s", "grace period for in-flight requests on SIGTERM"},
	{"demo", "bool", "ALLIANCE_DEMO", "false", "fill an empty database with a synthetic, clearly labelled demo study"},
	{"db-max-open-conns", "int", "ALLIANCE_DB_MAX_OPEN_CONNS", "10", "PostgreSQL: most open connections per instance (0: no limit)"},
	{"db-max-idle-conns", "int", "ALLIANCE_DB_MAX_IDLE_CONNS", "10", "PostgreSQL: idle connections kept in the pool"},
	{"db-conn-max-lifetime", "duration", "ALLIANCE_DB_CONN_MAX_LIFETIME", "30m", "PostgreSQL: close connections older than this (0: never)"},
	{"db-conn-max-idle-time", "duration", "ALLIANCE_DB_CONN_MAX_IDLE_TIME", "5m", "PostgreSQL: close connections idle this long (0: never)"},
	{"db-statement-timeout", "duration", "ALLIANCE_DB_STATEMENT_TIMEOUT", "30s", "PostgreSQL: cancel statements running longer (503); 0: none"},
	{"db-pool-wait", "duration", "ALLIANCE_DB_POOL_WAIT", "5s", "PostgreSQL: longest wait for a free pool connection before a 503 with Retry-After; 0: no bound"},
	{"rate-limit", "float", "ALLIANCE_RATE_LIMIT", "20", "writes per second per API key or survey token (0: off)"},
	{"rate-limit-ip", "float", "ALLIANCE_RATE_LIMIT_IP", "50", "writes per second per client address (0: off)"},
	{"rate-limit-burst", "int", "ALLIANCE_RATE_LIMIT_BURST", "40", "writes allowed in a burst before the rate limits apply"},
	{"cors-origins", "list", "ALLIANCE_CORS_ORIGINS", "", "comma-separated browser origins allowed to call the API (e.g. https://survey.example.org)"},
	{"trusted-proxies", "list", "ALLIANCE_TRUSTED_PROXIES", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client (default: none; the client is the TCP peer)"},
	{"public-url", "url", "ALLIANCE_PUBLIC_URL", "", "base URL raters reach this server at, e.g. https://survey.example.org; makes survey links absolute (default: root-relative /s/#token)"},
	{"cookie-secure", "mode", "ALLIANCE_COOKIE_SECURE", "auto", "mark the dashboard's session cookie Secure: auto (when the request came over TLS to this server), always (behind a TLS-terminating proxy) or never"},
	{"secret-key", "key", "ALLIANCE_SECRET_KEY", "", "32 random bytes, base64 (openssl rand -base64 32): seals webhook signing secrets; unset, webhooks cannot be created"},
	{"webhook-allow-loopback", "bool", "ALLIANCE_WEBHOOK_ALLOW_LOOPBACK", "false", "let webhooks reach loopback addresses over plain http (development and tests only)"},
}

// Scope is which settings a command takes.
type Scope int

const (
	// Serve takes every setting.
	Serve Scope = iota
	// Database takes where the database is, its pool and the log: what a
	// command that opens the database and exits (migrate) uses. The
	// others keep their defaults and are not read from the environment,
	// so a serve-only variable cannot fail such a command.
	Database
)

// takes reports whether a command of scope sc takes setting s.
func (sc Scope) takes(s setting) bool {
	return sc == Serve || s.flag == "database-url" || strings.HasPrefix(s.flag, "db-") || strings.HasPrefix(s.flag, "log-")
}

// value is a setting's flag: its text, which Load checks once every
// setting is known. A boolean setting may be given bare (-demo), as the
// flag package's own booleans.
type value struct {
	text   string
	isBool bool
}

func (v *value) String() string {
	if v == nil {
		return ""
	}
	return v.text
}

func (v *value) Set(s string) error { v.text = s; return nil }

// IsBoolFlag tells the flag package that -name alone means -name=true.
func (v *value) IsBoolFlag() bool { return v.isBool }

// define adds setting s to fs, with its default from getenv or the table.
func define(fs *flag.FlagSet, s setting, getenv func(string) string) *value {
	v := &value{text: s.def, isBool: s.kind == "bool"}
	if e := getenv(s.env); e != "" {
		v.text = e
	}
	fs.Var(v, s.flag, s.help+" ["+s.env+"]")
	return v
}

// DefineFlag adds the setting named name to fs, for a command that takes
// only some settings as flags (keys, backup read the others from the
// environment): same help, same ALLIANCE_* variable, same default. Pass
// the result to Load as a flag. It panics on an unknown name.
func DefineFlag(fs *flag.FlagSet, name string, getenv func(string) string) flag.Value {
	for _, s := range settings {
		if s.flag == name {
			return define(fs, s, getenv)
		}
	}
	panic("config: no setting " + name)
}

// PrintDefaults writes the help of fs's flags like flag.PrintDefaults, but
// with each setting's own type: the flag package would show every setting
// as a string (they are parsed after every setting is read, to report
// all mistakes at once), so -demo would read as "string (default "false")".
func PrintDefaults(fs *flag.FlagSet) {
	kinds := map[string]string{}
	for _, s := range settings {
		kinds[s.flag] = s.kind
	}
	w := fs.Output()
	fs.VisitAll(func(f *flag.Flag) {
		kind, ok := kinds[f.Name]
		if !ok {
			kind, _ = flag.UnquoteUsage(f)
		}
		fmt.Fprintf(w, "  -%s", f.Name)
		if kind != "bool" && kind != "" {
			fmt.Fprintf(w, " %s", kind)
		}
		_, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "\n    \t%s", strings.ReplaceAll(usage, "\n", "\n    \t"))
		switch {
		case f.DefValue == "" || (kind == "bool" && f.DefValue == "false"):
		case kind == "bool" || kind == "int" || kind == "float" || kind == "duration":
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		default:
			fmt.Fprintf(w, " (default %q)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// Load builds the configuration from flags in args (which win) and
// getenv, for a command of scope sc. isTerminal decides the default log
// format. Help (-h) and
// mistakes in the flags are written to flagOutput; Load then returns
// flag.ErrHelp, or an error from the flag package.
func Load(name string, sc Scope, args []string, getenv func(string) string, isTerminal bool, flagOutput io.Writer) (Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(flagOutput)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s [flags]\n\nflags (each also read from the ALLIANCE_* variable named):\n", name)
		PrintDefaults(fs)
	}
	vals := map[string]*value{}
	for _, s := range settings {
		if sc.takes(s) {
			vals[s.flag] = define(fs, s, getenv)
		} else {
			vals[s.flag] = &value{text: s.def}
		}
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected argument %q", fs.Arg(0))
		fmt.Fprintln(fs.Output(), err) // a mistake in the flags, as the flag package reports one
		fs.Usage()
		return Config{}, err
	}
	get := func(flag string) string { return strings.TrimSpace(vals[flag].text) }

	var c Config
	var errs []error
	bad := func(flag string, why string) {
		v := get(flag)
		if flag == "database-url" {
			v = MaskURL(v) // a refused address may still hold a password
		}
		for _, s := range settings {
			if s.flag == flag {
				errs = append(errs, fmt.Errorf("%s (-%s) = %q: %s", s.env, flag, v, why))
			}
		}
	}
	c.HTTPAddr = get("addr")
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		bad("addr", "must be host:port, such as 127.0.0.1:8080 or :8080")
	}
	c.DatabaseURL = get("database-url")
	if c.DatabaseURL == "" {
		bad("database-url", "must not be empty")
	} else if why := databaseURLProblem(c.DatabaseURL); why != "" {
		bad("database-url", why)
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("log-level"))); err != nil {
		bad("log-level", "must be debug, info, warn or error")
	}
	switch c.LogFormat = get("log-format"); c.LogFormat {
	case "":
		c.LogFormat = "json"
		if isTerminal {
			c.LogFormat = "text"
		}
	case "text", "json":
	default:
		bad("log-format", "must be text or json")
	}
	var err error
	if c.MigrateOnStart, err = strconv.ParseBool(get("migrate-on-start")); err != nil {
		bad("migrate-on-start", "must be true or false")
	}
	c.ItemTexts = get("item-texts")
	if c.MaxBodyBytes, err = strconv.ParseInt(get("max-body-bytes"), 10, 64); err != nil || c.MaxBodyBytes < 1024 {
		bad("max-body-bytes", "must be an integer of at least 1024")
	}
	if c.ShutdownTimeout, err = time.ParseDuration(get("shutdown-timeout")); err != nil || c.ShutdownTimeout <= 0 {
		bad("shutdown-timeout", "must be a positive duration such as 15s")
	}
	if c.Demo, err = strconv.ParseBool(get("demo")); err != nil {
		bad("demo", "must be true or false")
	}
	count := func(flag string) int {
		n, err := strconv.Atoi(get(flag))
		if err != nil || n < 0 {
			bad(flag, "must be a whole number of at least 0")
		}
		return n
	}
	span := func(flag string) time.Duration {
		d, err := time.ParseDuration(get(flag))
		if err != nil || d < 0 {
			bad(flag, "must be a duration such as 30s, or 0")
		}
		return d
	}
	perSecond := func(flag string) float64 {
		r, err := strconv.ParseFloat(get(flag), 64)
		if err != nil || r < 0 || math.IsInf(r, 0) {
			bad(flag, "must be a number of requests per second, 0 for no limit")
		}
		return r
	}
	c.DBMaxOpenConns, c.DBMaxIdleConns = count("db-max-open-conns"), count("db-max-idle-conns")
	c.DBConnMaxLifetime, c.DBConnMaxIdleTime = span("db-conn-max-lifetime"), span("db-conn-max-idle-time")
	c.DBStatementTimeout, c.DBPoolWait = span("db-statement-timeout"), span("db-pool-wait")
	c.RateLimit, c.RateLimitIP, c.RateLimitBurst = perSecond("rate-limit"), perSecond("rate-limit-ip"), count("rate-limit-burst")
	for _, o := range strings.Split(get("cors-origins"), ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if u, err := url.Parse(o); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" {
			bad("cors-origins", "each origin must look like https://host[:port]")
		}
		c.CORSOrigins = append(c.CORSOrigins, o)
	}
	for _, p := range strings.Split(get("trusted-proxies"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, err := netip.ParsePrefix(p); err != nil {
			bad("trusted-proxies", "each entry must be a CIDR such as 10.0.0.0/8 or 192.0.2.7/32")
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	if c.PublicURL = strings.TrimSuffix(get("public-url"), "/"); c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
			u.RawQuery != "" || u.Fragment != "" || strings.Contains(c.PublicURL, "#") {
			bad("public-url", "must look like https://host[:port][/path], without query or fragment")
		}
	}
	switch c.CookieSecure = get("cookie-secure"); c.CookieSecure {
	case "auto", "always", "never":
	default:
		bad("cookie-secure", "must be auto, always or never")
	}
	if c.SecretKey = get("secret-key"); c.SecretKey != "" {
		if k, err := base64.StdEncoding.DecodeString(c.SecretKey); err != nil || len(k) != 32 {
			errs = append(errs, errors.New("ALLIANCE_SECRET_KEY (-secret-key): must be 32 random bytes, base64-encoded (openssl rand -base64 32)"))
		}
	}
	if c.WebhookAllowLoopback, err = strconv.ParseBool(get("webhook-allow-loopback")); err != nil {
		bad("webhook-allow-loopback", "must be true or false")
	}
	return c, errors.Join(errs...)
}

// LogValue prints the configuration at start-up with any password in the
// database URL masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("http_addr", c.HTTPAddr),
		slog.String("database_url", MaskURL(c.DatabaseURL)),
		slog.String("log_level", c.LogLevel.String()),
		slog.String("log_format", c.LogFormat),
		slog.Bool("migrate_on_start", c.MigrateOnStart),
		slog.String("item_texts", c.ItemTexts),
		slog.Int64("max_body_bytes", c.MaxBodyBytes),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.Bool("demo", c.Demo),
		slog.Int("db_max_open_conns", c.DBMaxOpenConns),
		slog.Int("db_max_idle_conns", c.DBMaxIdleConns),
		slog.Duration("db_conn_max_lifetime", c.DBConnMaxLifetime),
		slog.Duration("db_conn_max_idle_time", c.DBConnMaxIdleTime),
		slog.Duration("db_statement_timeout", c.DBStatementTimeout),
		slog.Duration("db_pool_wait", c.DBPoolWait),
		slog.Float64("rate_limit", c.RateLimit),
		slog.Float64("rate_limit_ip", c.RateLimitIP),
		slog.Int("rate_limit_burst", c.RateLimitBurst),
		slog.Any("cors_origins", c.CORSOrigins),
		slog.Any("trusted_proxies", c.TrustedProxies),
		slog.String("public_url", c.PublicURL),
		slog.Bool("secret_key_set", c.SecretKey != ""),
		slog.Bool("webhook_allow_loopback", c.WebhookAllowLoopback),
		slog.String("cookie_secure", c.CookieSecure),
	)
}

// MaskURL hides the passwords of a database address before it is logged,
// wherever pgx takes one: the URL's user info, its password and
// sslpassword parameters, and the same keywords of a keyword=value
// string. An address that does not parse as a URL loses everything
// between its scheme and its host.
func MaskURL(s string) string {
	s = keywordSecret.ReplaceAllString(s, "${1}xxxxx")
	if !strings.Contains(s, "://") {
		return s // a path, or a keyword=value string: nothing left to hide
	}
	u, err := url.Parse(s)
	if err != nil {
		scheme, rest, ok := strings.Cut(s, "://")
		if at := strings.LastIndex(rest, "@"); ok && at >= 0 {
			return scheme + "://xxxxx" + rest[at:]
		}
		return s
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	q := u.Query()
	masked := false
	for k := range q {
		if strings.EqualFold(k, "password") || strings.EqualFold(k, "sslpassword") {
			q[k] = []string{"xxxxx"}
			masked = true
		}
	}
	if masked {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// databaseURLProblem says what is wrong with a database address, or "".
// A path or sqlite://path selects SQLite and a postgres:// or
// postgresql:// URL PostgreSQL; anything else would be taken for the path
// of a new SQLite file, so that a typo in a PostgreSQL address gave each
// instance a database of its own, silently.
func databaseURLProblem(u string) string {
	if scheme, _, ok := strings.Cut(u, "://"); ok {
		switch scheme {
		case "postgres", "postgresql", "sqlite":
			return ""
		}
		return "the scheme must be postgres://, postgresql:// or sqlite:// (or give the path of an SQLite file)"
	}
	switch {
	case schemeLike.MatchString(u):
		return "looks like a URL with a mistyped scheme; give a postgres:// URL or the path of an SQLite file"
	case keywordString.MatchString(u):
		return "a keyword=value connection string is not accepted; give a postgres:// URL"
	}
	return ""
}

var (
	// schemeLike is a path that starts like a URL ("postgres:/db",
	// "postgress:"): a scheme, then a colon.
	schemeLike = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
	// keywordString is a libpq keyword=value connection string.
	keywordString = regexp.MustCompile(`(?i)(^|\s)(host|hostaddr|port|dbname|user|password|sslmode)\s*=`)
)

// keywordSecret is a password keyword of a keyword=value connection
// string, with its value, quoted or not.
var keywordSecret = regexp.MustCompile(`(?i)(\b(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)`)
