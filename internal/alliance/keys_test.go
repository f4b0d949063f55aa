package alliance_test

import (
	"testing"

	"github.com/alliance-project/alliance/internal/alliance"
)

// TestHasAdminKey: only an unrevoked admin key bound to no study can
// administer the service; start-up warns when none is left.
func TestHasAdminKey(t *testing.T) {
	f := newFixture(t)
	has := func() bool {
		t.Helper()
		ok, err := f.svc.HasAdminKey(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if has() {
		t.Fatal("an empty database has an admin key")
	}
	if _, _, err := f.svc.CreateKey(f.ctx, alliance.KeyInput{Name: "tablet", Scopes: []string{"collect"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.CreateKey(f.ctx, alliance.KeyInput{Name: "study admin", Scopes: []string{"admin"}, StudyID: f.study.ID}); err != nil {
		t.Fatal(err)
	}
	if has() {
		t.Error("a collect key and a study-bound admin key count as an admin key")
	}
	k, _, err := f.svc.CreateKey(f.ctx, alliance.KeyInput{Name: "ops", Scopes: []string{"admin"}})
	if err != nil {
		t.Fatal(err)
	}
	if !has() {
		t.Error("an unbound admin key is not found")
	}
	if _, err := f.svc.RevokeKey(f.ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if has() {
		t.Error("a revoked admin key still counts")
	}
}
