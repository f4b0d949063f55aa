package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/alliance-project/alliance/api"
)

// TestIdempotencyKeysAreScoped: a key is scoped to the credential that
// sent it and to the request's route and target. Before, keys were global:
// a key one frontend claimed made another study's submission a 409
// idempotency-key-reuse.
func TestIdempotencyKeysAreScoped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.newDyad("wai_sr_client", "wai_sr_therapist")
	b := e.newDyad("wai_sr_client", "wai_sr_therapist")
	tabletA := e.newKey(fmt.Sprintf(`{"name":"tablet A","scopes":["collect"],"study_id":%q}`, a.StudyID))
	tabletB := e.newKey(fmt.Sprintf(`{"name":"tablet B","scopes":["collect"],"study_id":%q}`, b.StudyID))
	const key = "Idempotency-Key"

	e.expect(http.StatusCreated, http.MethodPost, ratingsPath(a.ID), ratingBody(1, "client", refClient), key, "k-1", "Authorization", "Bearer "+tabletA)
	// Another credential, another study, the same key: its own write.
	rec := e.expect(http.StatusCreated, http.MethodPost, ratingsPath(b.ID), ratingBody(1, "client", refClient), key, "k-1", "Authorization", "Bearer "+tabletB)
	if rec.Header().Get("Idempotent-Replayed") != "" {
		t.Errorf("another credential's first use of k-1 was answered as a replay")
	}
	// The same credential, another target: a new write too.
	other := e.createDyad(a.StudyID, "C-002", "K-01")
	e.expect(http.StatusCreated, http.MethodPost, ratingsPath(other.ID), ratingBody(1, "client", refClient), key, "k-1", "Authorization", "Bearer "+tabletA)
	for _, d := range []api.DyadResponse{a, b, other} {
		if n := len(decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, ratingsPath(d.ID), "")).Items); n != 1 {
			t.Errorf("dyad %s has %d ratings, want 1", d.ID, n)
		}
	}
}

// TestReplayChecksScopeFirst: a key bound to study A that repeats study
// B's amendment (same path, body and key) is told 404, not given B's
// rating. Before, AmendRating replayed before it checked the caller's
// scope.
func TestReplayChecksScopeFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.newDyad("wai_sr_client", "wai_sr_therapist")
	b := e.newDyad("wai_sr_client", "wai_sr_therapist")
	tabletA := e.newKey(fmt.Sprintf(`{"name":"tablet A","scopes":["collect"],"study_id":%q}`, a.StudyID))
	e.postRating(b.ID, 1, "client", refClient)
	path, body := ratingPath(b.ID, 1, "client"), `{"answers":[4,4,4,4,4,4,4,4,4,4,4,4]}`
	e.expect(http.StatusOK, http.MethodPut, path, body, "Idempotency-Key", "amend-1")
	for _, auth := range []string{tabletA, e.newKey(`{"name":"other admin","scopes":["admin"]}`)} {
		rec := e.do(http.MethodPut, path, body, "Idempotency-Key", "amend-1", "Authorization", "Bearer "+auth)
		if rec.Header().Get("Idempotent-Replayed") != "" {
			t.Errorf("PUT %s with another credential's key was replayed: %s", path, rec.Body)
		}
		if auth == tabletA {
			checkProblem(t, rec, "PUT of study B's rating with study A's key", problemWant{status: 404, typ: typeBlank})
		}
	}
}
