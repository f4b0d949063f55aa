package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/config"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/store"
)

func TestSeedDemo(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "demo.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	svc := alliance.NewService(st, instrument.Builtin())
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	id, err := seedDemo(ctx, svc, log, "http://127.0.0.1:8080")
	if err != nil || id == "" {
		t.Fatalf("seedDemo = %q, %v", id, err)
	}
	for _, want := range []string{"/v1/studies/" + id + "/agreement", "/agreement", "/sessions/1/agreement", "http://127.0.0.1:8080/s/#als_",
		"dashboard=\"http://127.0.0.1:8080/ui/?next=%2Fui%2Fstudies%2F" + id + "\""} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	// The survey link in the log opens a form for a session nobody rated.
	_, link, _ := strings.Cut(logs.String(), "survey_link=http://127.0.0.1:8080/s/#")
	tok, _, _ := strings.Cut(link, "\n")
	actor, err := svc.Authenticate(ctx, tok)
	if err != nil || actor.Invitation == nil {
		t.Fatalf("demo survey token %q: %v", tok, err)
	}
	if s, err := svc.FindSession(ctx, actor.Invitation.DyadID, actor.Invitation.Session); err != nil || s.Client != nil || s.Counsellor != nil {
		t.Errorf("demo survey link's session %d: %+v, %v; want an unrated session", actor.Invitation.Session, s, err)
	}
	studies, _ := svc.FindStudies(ctx, alliance.Page{Limit: 10})
	if len(studies) != 1 || !strings.HasPrefix(studies[0].Name, "DEMO (synthetic data)") {
		t.Fatalf("studies = %+v", studies)
	}
	for _, sel := range []string{"first", "last"} {
		a, err := svc.StudyAgreement(ctx, id, alliance.AgreementQuery{Session: sel})
		if err != nil {
			t.Fatal(err)
		}
		if a.NComplete < 30 || len(a.Scales) != 4 {
			t.Errorf("%s: %d complete pairs, %d scales", sel, a.NComplete, len(a.Scales))
		}
		for _, s := range a.Scales {
			if s.ICC.Value == nil || len(s.ICC.Value.Forms) != 6 {
				t.Errorf("%s %s: ICC undefined (%s)", sel, s.Scale, s.ICC.Reason)
			}
			if b := s.BlandAltman.Value; b == nil || b.Bias < 0.2 || b.Bias > 0.9 {
				t.Errorf("%s %s: bias %+v, want clients about 0.5 higher", sel, s.Scale, b)
			}
		}
	}
	// Second run: the database is not empty, nothing is added.
	id2, err := seedDemo(ctx, svc, log, "http://127.0.0.1:8080")
	if err != nil || id2 != "" {
		t.Fatalf("second seedDemo = %q, %v; want nothing done", id2, err)
	}
	if studies, _ := svc.FindStudies(ctx, alliance.Page{Limit: 10}); len(studies) != 1 {
		t.Errorf("after a second run: %d studies, want 1", len(studies))
	}
}

func TestDemoSetting(t *testing.T) {
	for _, args := range [][]string{{"-demo"}, {"--demo"}, {"-demo=true"}} {
		c, err := config.Load("t", args, func(string) string { return "" }, false, new(strings.Builder))
		if err != nil || !c.Demo {
			t.Errorf("Load(%v) demo = %v, %v; want true", args, c.Demo, err)
		}
	}
	c, err := config.Load("t", nil, func(k string) string { return map[string]string{"ALLIANCE_DEMO": "true"}[k] }, false, new(strings.Builder))
	if err != nil || !c.Demo {
		t.Errorf("ALLIANCE_DEMO=true: demo = %v, %v", c.Demo, err)
	}
	if c, _ := config.Load("t", nil, func(string) string { return "" }, false, new(strings.Builder)); c.Demo {
		t.Error("demo is on by default")
	}
}
