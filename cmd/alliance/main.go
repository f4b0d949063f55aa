// Command alliance serves the alliance API: parallel client and counsellor
// working-alliance ratings, scored and compared.
//
//	@title						alliance API
//	@version					1
//	@description				Collects the client's and the counsellor's rating of the same session on parallel forms of a working-alliance instrument, scores both and compares them. Errors are RFC 9457 application/problem+json with an errors array naming each bad field.
//	@license.name				MIT
//	@license.url				https://opensource.org/license/mit
//	@BasePath					/
//	@schemes					http https
//	@produce					json
//	@consumes					json
//
//	@securityDefinitions.apikey	BearerAuth
//	@in							header
//	@name						Authorization
//	@description				An API key (alk_…; scopes admin, collect, analyze, alerts) or a one-time survey token (als_…), sent as "Authorization: Bearer <token>"; Swagger UI's Authorize box takes the token alone. The first start on an empty database prints an admin key.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/mattn/go-isatty"

	"github.com/alliance-project/alliance/api"
	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/config"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/store"
	"github.com/alliance-project/alliance/internal/store/rowcache"
	"github.com/alliance-project/alliance/migrations"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "alliance:", err)
		os.Exit(exitCode(err))
	}
}

const usage = `usage: alliance <command> [flags]

commands:
  serve     run the HTTP API (applies migrations first unless -migrate-on-start=false)
  migrate   apply pending schema migrations and exit (creates a new SQLite file)
  backup    copy the SQLite database consistently while it runs: backup -out PATH
  keys      manage API keys: keys create -name N -scopes admin,collect,analyze,alerts [-study ID]
                             keys list
                             keys revoke ID
  version   print the version

Run 'alliance <command> -h' for the flags; each flag also reads an ALLIANCE_* variable.
backup and keys work on an existing database only (-database-url or ALLIANCE_DATABASE_URL).
`

// usageError is a mistake in the command line, or a database that keys or
// backup cannot find: the process exits 2, as the flag package does.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitCode is the process's exit status for an error run returned.
func exitCode(err error) int {
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

// run is main without globals, so tests can drive the binary's logic. A
// help request (-h) is answered on stdout and is no error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	err := command(ctx, args, getenv, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func command(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return usageError{errors.New("no command given")}
	}
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "version":
		fs := newFlagSet("alliance version", "")
		if err := parseFlags(fs, rest, stdout, stderr); err != nil {
			return err
		}
		fmt.Fprintln(stdout, version())
		return nil
	case "serve", "migrate":
	case "keys":
		return keysCommand(ctx, rest, getenv, stdout, stderr)
	case "backup":
		return backupCommand(ctx, rest, getenv, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Errorf("unknown command %q", cmd)}
	}
	scope := config.Serve
	if cmd == "migrate" {
		scope = config.Database
	}
	cfg, err := loadConfig("alliance "+cmd, scope, rest, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if cmd == "migrate" {
		return st.Migrate(ctx, log)
	}
	return serve(ctx, cfg, st, log, stdout)
}

// loadConfig reads the settings from args and the environment; help goes
// to stdout, a mistake in the flags to stderr with the usage.
func loadConfig(name string, sc config.Scope, args []string, getenv func(string) string, stdout, stderr io.Writer) (config.Config, error) {
	var out bytes.Buffer
	cfg, err := config.Load(name, sc, args, getenv, isTerminal(stderr), &out)
	return cfg, flagResult(err, &out, stdout, stderr)
}

func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (*store.Store, error) {
	return store.Open(ctx, cfg.DatabaseURL, log,
		store.WithMaxOpenConns(cfg.DBMaxOpenConns), store.WithMaxIdleConns(cfg.DBMaxIdleConns),
		store.WithConnMaxLifetime(cfg.DBConnMaxLifetime), store.WithConnMaxIdleTime(cfg.DBConnMaxIdleTime),
		store.WithStatementTimeout(cfg.DBStatementTimeout), store.WithPoolWait(cfg.DBPoolWait))
}

// newFlagSet is a subcommand's flag set; its help starts with synopsis
// (the arguments after the flags) and lists its typed flags.
func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s [flags]%s\n", name, synopsis)
		var any bool
		fs.VisitAll(func(*flag.Flag) { any = true })
		if any {
			fmt.Fprint(fs.Output(), "\nflags:\n")
			config.PrintDefaults(fs)
		}
	}
	return fs
}

// parseFlags parses args into fs: help goes to stdout (flag.ErrHelp is
// returned, which run answers with exit 0), a mistake to stderr with the
// usage (a usageError: exit 2).
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	var out bytes.Buffer
	fs.SetOutput(&out)
	return flagResult(fs.Parse(args), &out, stdout, stderr)
}

// flagResult routes what a flag set printed while parsing: its help to
// stdout, its complaint and usage to stderr. A mistake in a flag or in a
// setting's value is a usage error (exit 2), as the guide says.
func flagResult(err error, out *bytes.Buffer, stdout, stderr io.Writer) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		_, _ = out.WriteTo(stdout)
		return err
	case out.Len() > 0: // the flag package explained the mistake
		_, _ = out.WriteTo(stderr)
	}
	return usageError{err} // or a setting's value, named by Load
}

// backupCommand runs `alliance backup`: a consistent copy of an existing
// SQLite database.
func backupCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("alliance backup", "")
	out := fs.String("out", "", "path of the new backup file (must not exist)")
	db := config.DefineFlag(fs, "database-url", getenv)
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("backup: unexpected argument %q", fs.Arg(0))}
	}
	if *out == "" {
		return usageError{errors.New("backup: give -out PATH")}
	}
	st, _, err := openExisting(ctx, "backup", db.String(), getenv, stdout, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Backup(ctx, *out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s (integrity checked)\n", *out)
	return nil
}

// openExisting opens the database named by dbURL for a maintenance
// command, refusing an SQLite file that does not exist: opening one
// would create an empty database and report success on it (a backup run
// by cron from the wrong directory, a key made where the server never
// looks). The other settings come from the environment.
func openExisting(ctx context.Context, name, dbURL string, getenv func(string) string, stdout, stderr io.Writer) (*store.Store, *slog.Logger, error) {
	cfg, err := loadConfig("alliance "+name, config.Database, []string{"-database-url=" + dbURL}, getenv, stdout, stderr)
	if err != nil {
		return nil, nil, err
	}
	if path, ok := store.SQLitePath(cfg.DatabaseURL); ok {
		where := path
		if !filepath.IsAbs(path) {
			wd, _ := os.Getwd()
			where = fmt.Sprintf("%s (%q, relative to the working directory %s)", filepath.Join(wd, path), cfg.DatabaseURL, wd)
		}
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, nil, usageError{fmt.Errorf("%s: no database at %s; pass -database-url or set ALLIANCE_DATABASE_URL to an existing database, or create one with 'alliance migrate'", name, where)}
		} else if err != nil {
			return nil, nil, fmt.Errorf("%s: database at %s: %w", name, where, err)
		}
	}
	log := newLogger(cfg, stderr)
	st, err := openStore(ctx, cfg, log)
	return st, log, err
}

func serve(ctx context.Context, cfg config.Config, st *store.Store, log *slog.Logger, stdout io.Writer) error {
	log.Info("starting alliance", "version", version(), "config", cfg)
	if cfg.MigrateOnStart {
		if err := st.Migrate(ctx, log); err != nil {
			return err
		}
	} else if err := migrations.Check(ctx, st.DB(), st.Dialect()); err != nil {
		// Not an internal error about a missing table further on.
		return fmt.Errorf("ALLIANCE_MIGRATE_ON_START is false and the database's schema is not this release's: %w", err)
	}
	cat := instrument.Builtin()
	if cfg.ItemTexts != "" {
		f, err := os.Open(cfg.ItemTexts)
		if err != nil {
			return fmt.Errorf("ALLIANCE_ITEM_TEXTS: %w", err)
		}
		cat, err = cat.WithTexts(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("ALLIANCE_ITEM_TEXTS %s: %w", cfg.ItemTexts, err)
		}
	}
	// SQLite is served by this one process, so studies and dyads may be
	// cached; PostgreSQL's other instances could change them (rowcache).
	svc := alliance.NewService(rowcache.New(st, rowcache.Options{Rows: st.Dialect() == migrations.SQLite}), cat)
	// The families defined through the API join the built-in forms, and
	// the item texts are checked against them all.
	if err := svc.LoadInstruments(ctx); err != nil {
		return fmt.Errorf("instruments: %w", err)
	}
	stopWebhooks, err := startWebhooks(cfg, svc, st, log)
	if err != nil {
		return err
	}
	defer stopWebhooks()
	if err := firstAdminKey(ctx, svc, cfg, log, stdout); err != nil {
		return err
	}
	if cfg.Demo {
		base := cfg.PublicURL
		if base == "" {
			base = "http://" + cfg.HTTPAddr
		}
		if _, err := seedDemo(ctx, svc, log, base, stdout); err != nil {
			return err
		}
	}
	gin.SetMode(gin.ReleaseMode)
	h := api.NewHandler(api.Deps{
		Service:        svc,
		Log:            log,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		RateLimits:     api.RateLimits{PerCredential: cfg.RateLimit, PerIP: cfg.RateLimitIP, Burst: cfg.RateLimitBurst},
		CORSOrigins:    cfg.CORSOrigins,
		PublicURL:      cfg.PublicURL,
		TrustedProxies: cfg.TrustedProxies,
		CookieSecure:   cfg.CookieSecure,
	})
	srv := &http.Server{
		Addr:              cfg.HTTPAddr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return err
	}
	log.Info("listening", "addr", ln.Addr().String(), "url", "http://"+ln.Addr().String()+"/v1/instruments")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel, ReplaceAttr: readableDurations}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// readableDurations writes a duration as Go spells it ("15s", "1.2ms"):
// the JSON handler would write an integer of nanoseconds.
func readableDurations(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

// version reports the module version and VCS revision the binary was built
// from, as recorded by the Go toolchain.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "alliance (unknown version)"
	}
	v := "alliance " + bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			v += " " + s.Value
		}
	}
	return v + " " + bi.GoVersion
}
