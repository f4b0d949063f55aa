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
//	@description				"Bearer <token>": an API key (alk_…, scopes admin, collect, analyze) or a one-time survey token (als_…). The first start on an empty database prints an admin key.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
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
		os.Exit(1)
	}
}

const usage = `usage: alliance <command> [flags]

commands:
  serve     run the HTTP API (applies migrations first unless -migrate-on-start=false)
  migrate   apply pending schema migrations and exit
  backup    copy the SQLite database consistently while it runs: backup -out PATH
  keys      manage API keys: keys create -name N -scopes admin,collect,analyze [-study ID]
                             keys list
                             keys revoke ID
  version   print the version

Run 'alliance <command> -h' for the flags; each flag also reads an ALLIANCE_* variable.
`

// run is main without globals, so tests can drive the binary's logic.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, version())
		return nil
	case "serve", "migrate", "keys", "backup":
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
	var keyArgs []string
	if cmd == "keys" || cmd == "backup" { // own flags; settings come from the environment
		keyArgs, rest = rest, nil
	}
	cfg, err := config.Load("alliance "+cmd, rest, getenv, isTerminal(stderr), stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	st, err := store.Open(ctx, cfg.DatabaseURL, log,
		store.WithMaxOpenConns(cfg.DBMaxOpenConns), store.WithMaxIdleConns(cfg.DBMaxIdleConns),
		store.WithConnMaxLifetime(cfg.DBConnMaxLifetime), store.WithConnMaxIdleTime(cfg.DBConnMaxIdleTime),
		store.WithStatementTimeout(cfg.DBStatementTimeout))
	if err != nil {
		return err
	}
	defer st.Close()
	switch cmd {
	case "migrate":
		return st.Migrate(ctx, log)
	case "keys":
		return keys(ctx, keyArgs, cfg, st, log, stdout, stderr)
	case "backup":
		fs := flag.NewFlagSet("alliance backup", flag.ContinueOnError)
		fs.SetOutput(stderr)
		out := fs.String("out", "", "path of the new backup file (must not exist)")
		if err := fs.Parse(keyArgs); err != nil {
			return err
		}
		if *out == "" {
			return errors.New("backup: give -out PATH")
		}
		if err := st.Backup(ctx, *out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "backup written to %s (integrity checked)\n", *out)
		return nil
	}
	return serve(ctx, cfg, st, log, stdout)
}

func serve(ctx context.Context, cfg config.Config, st *store.Store, log *slog.Logger, stdout io.Writer) error {
	log.Info("starting alliance", "version", version(), "config", cfg)
	if cfg.MigrateOnStart {
		if err := st.Migrate(ctx, log); err != nil {
			return err
		}
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
	if err := firstAdminKey(ctx, svc, cfg, stdout); err != nil {
		return err
	}
	if cfg.Demo {
		base := cfg.PublicURL
		if base == "" {
			base = "http://" + cfg.HTTPAddr
		}
		if _, err := seedDemo(ctx, svc, log, base); err != nil {
			return err
		}
	}
	gin.SetMode(gin.ReleaseMode)
	h := api.NewHandler(api.Deps{
		Service:      svc,
		Log:          log,
		MaxBodyBytes: cfg.MaxBodyBytes,
		RateLimits:   api.RateLimits{PerCredential: cfg.RateLimit, PerIP: cfg.RateLimitIP, Burst: cfg.RateLimitBurst},
		CORSOrigins:  cfg.CORSOrigins,
		PublicURL:    cfg.PublicURL,
		CookieSecure: cfg.CookieSecure,
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
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
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
