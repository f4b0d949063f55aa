package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/config"
	"github.com/alliance-project/alliance/internal/instrument"
)

// firstAdminKey creates an admin key on a database that has none and
// prints it once on stdout (never in the log), so the first start of a
// new installation is usable at once.
func firstAdminKey(ctx context.Context, svc *alliance.Service, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	tok, err := svc.EnsureAdminKey(ctx)
	if err != nil {
		return err
	}
	if tok == "" {
		// Keys exist, so none is made; say so if none of them can
		// administer the service any more (all revoked, or only others).
		ok, err := svc.HasAdminKey(ctx)
		if err == nil && !ok {
			log.Warn("no active admin key that is bound to no study: create one with 'alliance keys create -name admin -scopes admin'")
		}
		return err
	}
	fmt.Fprintf(stdout, `
First start on an empty database: created an admin API key. It is shown only this once; keep it safe.

    %s

Use it as a bearer token, e.g.:
    curl -H "Authorization: Bearer %s" http://%s/v1/studies
Make narrower keys with: alliance keys create -name NAME -scopes collect|analyze|alerts|admin [-study ID]

`, tok, tok, cfg.HTTPAddr)
	return nil
}

// keysUsage is the help of `alliance keys` itself.
const keysUsage = `usage: alliance keys [flags] <action> [action flags]

actions:
  create -name N -scopes admin,collect,analyze,alerts [-study ID]
                                                             make a key; its token is printed once
  list                                                       the keys, never their tokens
  revoke ID                                                  revoke a key

Run 'alliance keys <action> -h' for an action's flags.
`

// keysCommand runs the `alliance keys` actions against an existing
// database, acting as the system (the operator at the machine).
// -database-url may come before the action or among its flags.
func keysCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	top := flag.NewFlagSet("alliance keys", flag.ContinueOnError)
	db := config.DefineFlag(top, "database-url", getenv)
	top.Usage = func() {
		fmt.Fprint(top.Output(), keysUsage+"\nflags:\n")
		config.PrintDefaults(top)
	}
	if err := parseFlags(top, args, stdout, stderr); err != nil {
		return err
	}
	if top.NArg() == 0 {
		top.SetOutput(stderr)
		top.Usage()
		return usageError{errors.New("keys: say create, list or revoke")}
	}
	action, args := top.Arg(0), top.Args()[1:]
	fs := newFlagSet("alliance keys "+action, "")
	var run func(*alliance.Service) error
	switch action {
	case "create":
		name := fs.String("name", "", "what the key is for, e.g. 'tablet, ward 3'")
		scopes := fs.String("scopes", "", "comma-separated: admin, collect, analyze, alerts")
		study := fs.String("study", "", "bind the key to this study id (optional)")
		run = func(svc *alliance.Service) error {
			var sc []string
			for _, s := range strings.Split(*scopes, ",") {
				if s = strings.TrimSpace(s); s != "" {
					sc = append(sc, s)
				}
			}
			k, tok, err := svc.CreateKey(ctx, alliance.KeyInput{Name: *name, Scopes: sc, StudyID: *study})
			if err != nil {
				return describe(err)
			}
			fmt.Fprintf(stdout, "created key %s (%s). Its token is shown only this once:\n\n    %s\n\n", k.ID, *scopes, tok)
			return nil
		}
	case "list":
		run = func(svc *alliance.Service) error { return listKeys(ctx, svc, stdout) }
	case "revoke":
		fs = newFlagSet("alliance keys revoke", " ID")
		run = func(svc *alliance.Service) error {
			k, err := svc.RevokeKey(ctx, fs.Arg(0))
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "revoked key %s (%s) at %s\n", k.ID, k.Name, k.RevokedAt.Format(time.RFC3339))
			return nil
		}
	default:
		fmt.Fprint(stderr, keysUsage)
		return usageError{fmt.Errorf("keys: unknown action %q; say create, list or revoke", action)}
	}
	// The action's own -database-url starts from the one before it.
	fs.Var(db, "database-url", top.Lookup("database-url").Usage)
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	switch {
	case action == "revoke" && fs.NArg() != 1:
		return usageError{errors.New("keys revoke: give the key id")}
	case action != "revoke" && fs.NArg() > 0:
		return usageError{fmt.Errorf("keys %s: unexpected argument %q", action, fs.Arg(0))}
	}
	st, log, err := openExisting(ctx, "keys", db.String(), getenv, stdout, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx, log); err != nil {
		return err
	}
	return run(alliance.NewService(st, instrument.Builtin()))
}

// listKeys prints the keys as a table, never their tokens.
func listKeys(ctx context.Context, svc *alliance.Service, stdout io.Writer) error {
	ks, err := svc.FindKeys(ctx, alliance.Page{Limit: alliance.MaxLimit})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tSTUDY\tCREATED\tREVOKED")
	for _, k := range ks {
		sc := make([]string, len(k.Scopes))
		for i, s := range k.Scopes {
			sc[i] = string(s)
		}
		revoked := "-"
		if k.RevokedAt != nil {
			revoked = k.RevokedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, strings.Join(sc, ","), orDash(k.StudyID),
			k.CreatedAt.Format(time.RFC3339), revoked)
	}
	return tw.Flush()
}

// describe spells out a validation error for the terminal.
func describe(err error) error {
	var ve *alliance.ValidationError
	if errors.As(err, &ve) {
		msgs := make([]string, len(ve.Fields))
		for i, f := range ve.Fields {
			msgs[i] = "-" + strings.SplitN(strings.ReplaceAll(f.Field, "_id", ""), "[", 2)[0] + ": " + f.Message
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
