package api_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/alliance-project/alliance/api"
	"github.com/alliance-project/alliance/internal/pgtest"
	"github.com/alliance-project/alliance/internal/store"
)

// Canary values: distinctive enough that finding one in a log can only
// mean it leaked there.
const (
	canaryClient     = "CNRY-C-7Q3X"
	canaryCounsellor = "CNRY-K-9Z2W"
	canaryAnswers    = `[2,5,1,4,3,5,2,1,4,3,5,1]`
	canaryAnswers2   = `[1,3,5,2,4,1,3,5,2,4,1,3]`
	canaryDate       = "1911-04-07"
)

// TestLogCanarySQLite and TestLogCanaryPostgres drive the paths where a
// failing statement used to log its values (duplicate dyad, duplicate
// rating, a survey link for a rated session, a used link, a reused
// idempotency key, invalid answers, a statement cut off by the database,
// a dashboard search by code, found and refused) with canary values,
// logging at every level. The log witness of newEnv fails the test if
// any code, answer vector, date or score reaches a line.
func TestLogCanarySQLite(t *testing.T) {
	logCanaryScenario(t, newEnv(t), nil)
}

func TestLogCanaryPostgres(t *testing.T) {
	url := pgtest.Database(t)
	e := newEnvWith(t, envOptions{databaseURL: url, storeOptions: []store.Option{store.WithStatementTimeout(500 * time.Millisecond)}})
	logCanaryScenario(t, e, func(dyadID string) {
		// A statement the database cancels: the ratings table is locked
		// past the statement timeout, so the write fails with 57014 (503).
		db, err := sql.Open("pgx", url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		tx, err := db.BeginTx(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback() }()
		if _, err := tx.Exec("LOCK TABLE ratings IN ACCESS EXCLUSIVE MODE"); err != nil {
			t.Fatal(err)
		}
		e.allow5xx = true
		rec := e.do(http.MethodPost, ratingsPath(dyadID), canaryRating(3, "client", canaryAnswers2))
		e.allow5xx = false
		checkProblem(t, rec, "rating while the table is locked", problemWant{status: 503, typ: typeUnavailable})
	})
}

func canaryRating(session int, role, answers string) string {
	return fmt.Sprintf(`{"session":%d,"session_date":%q,"role":%q,"answers":%s}`, session, canaryDate, role, answers)
}

func logCanaryScenario(t *testing.T, e *env, unavailable func(dyadID string)) {
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	d := e.createDyad(st.ID, canaryClient, canaryCounsellor)
	dyads := "/v1/studies/" + st.ID + "/dyads"

	// 409: the client code is taken.
	checkProblem(t, e.do(http.MethodPost, dyads, dyadBody(canaryClient, canaryCounsellor)), "duplicate dyad",
		problemWant{status: 409, typ: typeConflict})
	// 422: invalid codes and answers; the messages quote them.
	checkProblem(t, e.do(http.MethodPost, dyads, dyadBody(canaryClient+" x", canaryCounsellor)), "bad code",
		problemWant{status: 422, typ: typeValidation})
	bad := `[2,5,1,4,3,5,2,1,4,3,5,9]`
	checkProblem(t, e.do(http.MethodPost, ratingsPath(d.ID), canaryRating(1, "client", bad)), "bad answers",
		problemWant{status: 422, typ: typeValidation})

	// 201, then 409 for the same session and role.
	e.expect(http.StatusCreated, http.MethodPost, ratingsPath(d.ID), canaryRating(1, "client", canaryAnswers), "Idempotency-Key", "canary-key-1")
	checkProblem(t, e.do(http.MethodPost, ratingsPath(d.ID), canaryRating(1, "client", canaryAnswers2)), "duplicate rating",
		problemWant{status: 409, typ: typeConflict})
	// 409: the idempotency key with another body.
	checkProblem(t, e.do(http.MethodPost, ratingsPath(d.ID), canaryRating(2, "client", canaryAnswers2), "Idempotency-Key", "canary-key-1"),
		"reused key", problemWant{status: 409, typ: typeIdempotency})
	// An amendment, and one with the old answers again.
	e.expect(http.StatusOK, http.MethodPut, ratingPath(d.ID, 1, "client"), fmt.Sprintf(`{"session_date":%q,"answers":%s}`, canaryDate, canaryAnswers2))

	// A survey link for the rated session: refused at creation (409
	// already_rated); a link whose session is rated meanwhile, refused at
	// submission; then a link used twice (410).
	checkProblem(t, e.do(http.MethodPost, "/v1/dyads/"+d.ID+"/invitations", `{"session":1,"role":"client"}`), "link for a rated session",
		problemWant{status: 409, typ: typeConflict})
	inv := decode[api.InvitationResponse](t, e.expect(http.StatusCreated, http.MethodPost, "/v1/dyads/"+d.ID+"/invitations",
		`{"session":4,"role":"client"}`))
	e.expect(http.StatusCreated, http.MethodPost, ratingsPath(d.ID), canaryRating(4, "client", canaryAnswers2))
	rec := e.do(http.MethodPost, "/v1/survey", fmt.Sprintf(`{"session_date":%q,"answers":%s}`, canaryDate, canaryAnswers), "Authorization", "Bearer "+inv.Token)
	if rec.Code != http.StatusGone {
		t.Errorf("survey for a session rated meanwhile = %d, want 410; body %s", rec.Code, rec.Body)
	}
	inv = decode[api.InvitationResponse](t, e.expect(http.StatusCreated, http.MethodPost, "/v1/dyads/"+d.ID+"/invitations",
		`{"session":2,"role":"counsellor"}`))
	survey := fmt.Sprintf(`{"session_date":%q,"answers":%s}`, canaryDate, canaryAnswers2)
	e.expect(http.StatusCreated, http.MethodPost, "/v1/survey", survey, "Authorization", "Bearer "+inv.Token)
	checkProblem(t, e.do(http.MethodPost, "/v1/survey", survey, "Authorization", "Bearer "+inv.Token), "used link",
		problemWant{status: 410, typ: "urn:alliance:problem:survey-link-gone"})

	// Reads that carry the codes in the query.
	e.expect(http.StatusOK, http.MethodGet, dyads+"?counsellor_code="+canaryCounsellor, "")
	e.expect(http.StatusOK, http.MethodGet, dyads+"?client_code="+canaryClient, "", "X-Request-ID", canaryClient) // a frontend's own request id
	e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+st.ID+"/export?include=scores,items", "")
	cookie := sessionCookie(e, e.newKey(`{"name":"analyst","scopes":["analyze"]}`))
	for _, q := range []string{"?client_code=" + canaryClient, "?counsellor_code=" + canaryCounsellor + "&limit=0"} {
		uiGet(e, cookie, "/ui/studies/"+st.ID+"/dyads"+q)
	}

	if unavailable != nil {
		unavailable(d.ID)
	}
}
