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
	"github.com/alliance-project/alliance/internal/store"
)

// firstAdminKey creates an admin key on a database that has none and
// prints it once on stdout (never in the log), so the first start of a
// new installation is usable at once.
func firstAdminKey(ctx context.Context, svc *alliance.Service, cfg config.Config, stdout io.Writer) error {
	tok, err := svc.EnsureAdminKey(ctx)
	if err != nil || tok == "" {
		return err
	}
	fmt.Fprintf(stdout, `
First start on an empty database: created an admin API key. It is shown only this once; keep it safe.

    %s

Use it as a bearer token, e.g.:
    curl -H "Authorization: Bearer %s" http://%s/v1/studies
Make narrower keys with: alliance keys create -name NAME -scopes collect|analyze|admin [-study ID]

`, tok, tok, cfg.HTTPAddr)
	return nil
}

// keys runs the `alliance keys` subcommands against the configured
// database, acting as the system (the operator at the machine).
func keys(ctx context.Context, args []string, cfg config.Config, st *store.Store, log *slog.Logger, stdout, stderr io.Writer) error {
	if err := st.Migrate(ctx, log); err != nil {
		return err
	}
	svc := alliance.NewService(st, instrument.Builtin())
	if len(args) == 0 {
		return errors.New("keys: say create, list or revoke")
	}
	fs := flag.NewFlagSet("alliance keys "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch args[0] {
	case "create":
		name := fs.String("name", "", "what the key is for, e.g. 'tablet, ward 3'")
		scopes := fs.String("scopes", "", "comma-separated: admin, collect, analyze, alerts")
		study := fs.String("study", "", "bind the key to this study id (optional)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
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
	case "list":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
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
	case "revoke":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return errors.New("keys revoke: give the key id")
		}
		k, err := svc.RevokeKey(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked key %s (%s) at %s\n", k.ID, k.Name, k.RevokedAt.Format(time.RFC3339))
		return nil
	}
	return fmt.Errorf("keys: unknown action %q; say create, list or revoke", args[0])
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
