package demo_test

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/demo"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/store"
)

// demoAlerts seeds the demo (calm or not) and returns its planted alerts
// and the alerts raised, as "DEMO-C003 s3 rupture client".
func demoAlerts(t *testing.T, calm bool) (planted, raised []string, worrying map[string]bool) {
	t.Helper()
	ctx := t.Context()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "demo.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	svc := alliance.NewService(st, instrument.Builtin())
	seed := demo.Seed
	if calm {
		seed = demo.SeedCalm
	}
	res, err := seed(ctx, svc)
	if err != nil {
		t.Fatal(err)
	}
	name := func(code string, session int, kind alliance.AlertKind, role alliance.Role) string {
		return fmt.Sprintf("%s s%d %s %s", code, session, kind, role)
	}
	for _, p := range res.Planted {
		planted = append(planted, name(fmt.Sprintf("DEMO-C%03d", p.Dyad+1), p.Session, p.Kind, p.Role))
	}
	worrying = map[string]bool{}
	page := alliance.Page{Limit: alliance.MaxLimit}
	for {
		as, err := svc.FindAlerts(ctx, alliance.AlertFilter{StudyID: res.Study.ID, Page: page})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			n := name(a.ClientCode, a.Session, a.Kind, a.Role)
			raised = append(raised, n)
			worrying[n] = a.Worrying()
		}
		if len(as) < page.Limit {
			break
		}
		page.After = as[len(as)-1].ID
	}
	return planted, raised, worrying
}

// TestPlantedAlerts: on the demo's data without noise, every planted
// rupture, repair and divergence is raised, and nothing else; the
// planted divergence is the worrying direction.
func TestPlantedAlerts(t *testing.T) {
	planted, raised, worrying := demoAlerts(t, true)
	if len(planted) < 6 {
		t.Fatalf("only %d planted alerts: %v", len(planted), planted)
	}
	for _, p := range planted {
		if !slices.Contains(raised, p) {
			t.Errorf("planted %q was not raised", p)
		}
	}
	for _, r := range raised {
		if !slices.Contains(planted, r) {
			t.Errorf("%q was raised but not planted", r)
		}
	}
	for _, p := range planted {
		if strings.Contains(p, " divergence ") && !worrying[p] {
			t.Errorf("%q is not in the worrying direction", p)
		}
	}
}

// TestDemoShowsAlerts: the demo itself, with its noise, shows the planted
// alerts among those its data raise.
func TestDemoShowsAlerts(t *testing.T) {
	planted, raised, _ := demoAlerts(t, false)
	for _, p := range planted {
		if !slices.Contains(raised, p) {
			t.Errorf("planted %q was not raised in the demo", p)
		}
	}
	t.Logf("the demo raises %d alerts, %d of them planted", len(raised), len(planted))
}
