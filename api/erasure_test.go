package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alliance-project/alliance/api"
	"github.com/alliance-project/alliance/internal/pgtest"
)

// The erasure canaries: values that can only be in the database files if
// the erased dyad's data is still there.
const (
	eraseClient     = "ERZ-C-5T7Q"
	eraseCounsellor = "ERZ-K-8W1P"
	eraseAnswers    = `[1,4,2,5,3,1,4,2,5,3,1,4]`
	eraseAmended    = `[2,4,2,5,3,1,4,2,5,3,1,4]`
	eraseDate       = "1909-03-02"
	// Session 2 diverges: the alert's figures and the alert.raised event
	// hold the difference, 4.9166… − 1.0833… = 3.833333333333334, which
	// nothing else stores.
	eraseDivClient     = `[5,5,5,5,5,5,5,5,5,5,5,4]`
	eraseDivCounsellor = `[1,1,1,1,1,1,1,1,1,1,1,2]`
	eraseDifference    = "3.833333333333334"
	// A webhook endpoint of an erased study goes with it.
	eraseHookURL = "https://93.184.215.14/erz-hook-7Q2"
)

// eraseCanaries are the byte strings an erased dyad leaves if anything of
// it is left: its codes, its answer vectors (as stored: JSON without the
// brackets), its session date.
var eraseCanaries = []string{eraseClient, eraseCounsellor, strings.Trim(eraseAnswers, "[]"), strings.Trim(eraseAmended, "[]"), eraseDate,
	eraseDifference, eraseHookURL}

// seedErasable fills a dyad with every kind of data the service keeps of
// it (ratings of both roles, an amendment with its history, an
// idempotency record, a used and a pending survey link, audit entries, an
// alert, outbox events) beside a dyad that stays, and returns both.
func seedErasable(t *testing.T, e *env, studyID string) (victim, survivor api.DyadResponse) {
	t.Helper()
	victim = e.createDyad(studyID, eraseClient, eraseCounsellor)
	survivor = e.createDyad(studyID, "KEEP-C-1", "KEEP-K-1")
	body := func(role, answers string) string {
		return fmt.Sprintf(`{"session":1,"session_date":%q,"role":%q,"answers":%s}`, eraseDate, role, answers)
	}
	e.expect(http.StatusCreated, http.MethodPost, ratingsPath(victim.ID), body("client", eraseAnswers), "Idempotency-Key", "erase-1")
	e.expect(http.StatusOK, http.MethodPut, ratingPath(victim.ID, 1, "client"), fmt.Sprintf(`{"session_date":%q,"answers":%s}`, eraseDate, eraseAmended))
	inv := decode[api.InvitationResponse](t, e.expect(http.StatusCreated, http.MethodPost, "/v1/dyads/"+victim.ID+"/invitations", `{"session":1,"role":"counsellor"}`))
	e.expect(http.StatusCreated, http.MethodPost, "/v1/survey", fmt.Sprintf(`{"session_date":%q,"answers":%s}`, eraseDate, eraseAnswers), "Authorization", "Bearer "+inv.Token)
	e.expect(http.StatusCreated, http.MethodPost, "/v1/dyads/"+victim.ID+"/invitations", `{"session":3,"role":"client"}`)
	e.expect(http.StatusCreated, http.MethodPost, ratingsPath(victim.ID), ratingBody(2, "client", eraseDivClient))
	e.expect(http.StatusCreated, http.MethodPost, ratingsPath(victim.ID), ratingBody(2, "counsellor", eraseDivCounsellor))
	if alerts := decode[api.AlertList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+victim.ID+"/alerts", "")); len(alerts.Items) == 0 {
		t.Fatal("the erasable dyad raised no alert")
	}
	e.expect(http.StatusCreated, http.MethodPost, ratingsPath(survivor.ID), ratingBody(1, "client", refClient))
	return victim, survivor
}

// checkErased checks through the API that nothing of the dyad is left but
// the audit trail's bare facts.
func checkErased(t *testing.T, e *env, victim, survivor api.DyadResponse) {
	t.Helper()
	checkProblem(t, e.do(http.MethodGet, "/v1/dyads/"+victim.ID, ""), "GET erased dyad", problemWant{status: 404, typ: typeBlank})
	checkProblem(t, e.do(http.MethodDelete, "/v1/dyads/"+victim.ID+"?confirm="+victim.ID, ""), "erase again", problemWant{status: 404, typ: typeBlank})
	e.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+survivor.ID, "")
	if n := len(decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, ratingsPath(survivor.ID), "")).Items); n != 1 {
		t.Errorf("the surviving dyad has %d ratings, want 1", n)
	}
	export := e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+victim.StudyID+"/export?include=scores,items", "").Body.String()
	if strings.Contains(export, victim.ID) || strings.Contains(export, eraseClient) || !strings.Contains(export, survivor.ID) {
		t.Errorf("export after the erasure still names the erased dyad, or lost the other:\n%s", export)
	}
	audit := decode[api.AuditList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/audit?study_id="+victim.StudyID+"&limit=500", ""))
	var erased, redacted int
	for _, a := range audit.Items {
		if a.DyadID == nil || *a.DyadID != victim.ID {
			continue
		}
		if a.Action == "dyad.erase" {
			erased++
			continue
		}
		if a.Before != nil || a.After != nil || a.RedactedAt == nil {
			t.Errorf("audit entry %d (%s) of the erased dyad keeps its payload: before %v after %v", a.ID, a.Action, a.Before, a.After)
		}
		redacted++
	}
	// dyad.create, rating.create (API, survey), rating.amend, two invitations.
	if erased != 1 || redacted < 6 {
		t.Errorf("audit log: %d erasure entries and %d redacted entries of the dyad; want 1 and at least 6", erased, redacted)
	}
}

// scan reports which canaries the files hold.
func scan(t *testing.T, files ...string) []string {
	t.Helper()
	var found []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range eraseCanaries {
			if bytes.Contains(b, []byte(c)) {
				found = append(found, fmt.Sprintf("%s in %s", c, filepath.Base(f)))
			}
		}
	}
	return found
}

// TestEraseDyadSQLite erases a dyad and then reads the raw database file,
// its WAL and its shared memory for the dyad's codes, answers and dates:
// none may be left, not in a table, an index, a free page or the WAL.
func TestEraseDyadSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "erase.db")
	e := newEnvWith(t, envOptions{databaseURL: path})
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	victim, survivor := seedErasable(t, e, st.ID)
	files := []string{path, path + "-wal", path + "-shm"}
	found := strings.Join(scan(t, files...), " ")
	for _, c := range []string{eraseClient, eraseDifference} {
		if !strings.Contains(found, c) {
			t.Fatalf("canary %s is not in the files before the erasure: the scan proves nothing for it", c)
		}
	}
	e.expect(http.StatusNoContent, http.MethodDelete, "/v1/dyads/"+victim.ID+"?confirm="+victim.ID, "")
	if found := scan(t, files...); len(found) > 0 {
		t.Errorf("after the erasure the files still hold: %v", found)
	}
	checkErased(t, e, victim, survivor)
}

// TestEraseStudySQLite erases a whole study the same way.
func TestEraseStudySQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "erase-study.db")
	e := newEnvWith(t, envOptions{databaseURL: path})
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	e.expect(http.StatusCreated, http.MethodPost, "/v1/studies/"+st.ID+"/webhooks", `{"url":"`+eraseHookURL+`","events":["alert.raised"]}`)
	seedErasable(t, e, st.ID)
	bound := e.newKey(fmt.Sprintf(`{"name":"tablet","scopes":["collect"],"study_id":%q}`, st.ID))
	// An analyst of the study signed in to the dashboard: the session goes
	// with the study's keys.
	analyst := e.newKey(fmt.Sprintf(`{"name":"analyst","scopes":["analyze"],"study_id":%q}`, st.ID))
	signIn := httptest.NewRequest(http.MethodPost, "/ui/sign-in", strings.NewReader(url.Values{"key": {analyst}}.Encode()))
	signIn.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	signIn.Header.Set("Origin", "http://example.com")
	rec := httptest.NewRecorder()
	e.engine.ServeHTTP(rec, signIn)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("dashboard sign-in = %d: %s", rec.Code, rec.Body)
	}
	kept := e.createStudy("wai_sr_client", "wai_sr_therapist")
	e.createDyad(kept.ID, "KEEP-C-2", "KEEP-K-2")

	if found := strings.Join(scan(t, path, path+"-wal", path+"-shm"), " "); !strings.Contains(found, eraseHookURL) {
		t.Fatal("the webhook URL is not in the files before the erasure: the scan proves nothing for it")
	}
	checkProblem(t, e.do(http.MethodDelete, "/v1/studies/"+st.ID+"?confirm="+kept.ID, ""), "confirming another study",
		problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"confirm", "mismatch"}}})
	e.expect(http.StatusNoContent, http.MethodDelete, "/v1/studies/"+st.ID+"?confirm="+st.ID, "")
	if found := scan(t, path, path+"-wal", path+"-shm"); len(found) > 0 {
		t.Errorf("after the erasure the files still hold: %v", found)
	}
	checkProblem(t, e.do(http.MethodGet, "/v1/studies/"+st.ID, ""), "GET erased study", problemWant{status: 404, typ: typeBlank})
	checkProblem(t, e.do(http.MethodGet, "/v1/instruments", "", "Authorization", "Bearer "+bound), "a key bound to the erased study",
		problemWant{status: 401, typ: "urn:alliance:problem:unauthenticated"})
	e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+kept.ID+"/dyads", "")
	audit := decode[api.AuditList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/audit?study_id="+st.ID+"&limit=500", ""))
	for _, a := range audit.Items {
		if a.Action != "study.erase" && (a.Before != nil || a.After != nil) {
			t.Errorf("audit entry %d (%s) of the erased study keeps its payload", a.ID, a.Action)
		}
	}
}

// TestEraseDyadPostgres erases a dyad on PostgreSQL and reads a pg_dump of
// the whole database for the canaries. A second instance on the same
// database answers 404 for the dyad right after the DELETE's response:
// no instance caches dyads on PostgreSQL.
func TestEraseDyadPostgres(t *testing.T) {
	url := pgtest.Database(t)
	dump, err := exec.LookPath("pg_dump")
	if err != nil {
		dump = "/usr/lib/postgresql/15/bin/pg_dump"
	}
	a := newEnvWith(t, envOptions{databaseURL: url})
	b := newEnvWith(t, envOptions{databaseURL: url, noMigrate: true})
	b.adminToken = a.adminToken
	b.h = withAdmin(b.engine, a.adminToken)
	st := a.createStudy("wai_sr_client", "wai_sr_therapist")
	victim, survivor := seedErasable(t, a, st.ID)
	b.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+victim.ID, "") // instance b has read it

	pgDump := func() string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, dump, "--no-owner", "--data-only", url).Output()
		if err != nil {
			t.Fatalf("pg_dump: %v", err)
		}
		return string(out)
	}
	before := pgDump()
	if !strings.Contains(before, eraseClient) || !strings.Contains(before, strings.Trim(eraseAnswers, "[]")) || !strings.Contains(before, eraseDifference) {
		t.Fatal("the canaries are not in the dump before the erasure: the scan proves nothing")
	}
	a.expect(http.StatusNoContent, http.MethodDelete, "/v1/dyads/"+victim.ID+"?confirm="+victim.ID, "")
	checkProblem(t, b.do(http.MethodGet, "/v1/dyads/"+victim.ID, ""), "GET on the other instance right after the erasure",
		problemWant{status: 404, typ: typeBlank})
	after := pgDump()
	for _, c := range eraseCanaries {
		if strings.Contains(after, c) {
			t.Errorf("pg_dump after the erasure still holds %q", c)
		}
	}
	checkErased(t, a, victim, survivor)
}

// TestEraseDuringWritesPostgres: a dyad, or a whole study, erased on one
// instance while both instances store the dyad's ratings is erased,
// wholly: 204, and no rating, alert or event of it is left. Before the
// erasure locked what it erases, a rating committed between its deletes
// made the last one fail its foreign key: 404, and nothing erased.
func TestEraseDuringWritesPostgres(t *testing.T) {
	url := pgtest.Database(t)
	a := newEnvWith(t, envOptions{databaseURL: url})
	b := newEnvWith(t, envOptions{databaseURL: url, noMigrate: true})
	b.h = withAdmin(b.engine, a.adminToken)
	for round := range 6 {
		st := a.createStudy("wai_sr_client", "wai_sr_therapist")
		d := a.createDyad(st.ID, fmt.Sprintf("ERACE-%d", round), "K-1")
		target := "/v1/dyads/" + d.ID + "?confirm=" + d.ID
		if round%2 == 1 {
			target = "/v1/studies/" + st.ID + "?confirm=" + st.ID
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var session atomic.Int64
		for w := range 4 {
			e := []*env{a, b}[w%2]
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					n := int(session.Add(1))
					role := []string{"client", "counsellor"}[n%2]
					rec := e.do(http.MethodPost, ratingsPath(d.ID), ratingBody(n/2+1, role, refClient))
					if rec.Code != http.StatusCreated && rec.Code != http.StatusNotFound {
						t.Errorf("a rating beside the erasure = %d, want 201 or, once erased, 404; body %s", rec.Code, rec.Body)
						return
					}
				}
			})
		}
		time.Sleep(30 * time.Millisecond)
		rec := a.do(http.MethodDelete, target, "")
		close(stop)
		wg.Wait()
		if rec.Code != http.StatusNoContent {
			t.Fatalf("round %d: DELETE %s while the dyad is rated = %d, want 204; body %s", round, target, rec.Code, rec.Body)
		}
		for _, table := range []string{"ratings", "alerts", "outbox_events", "dyads"} {
			col := "dyad_id"
			if table == "dyads" {
				col = "id"
			}
			var n int
			if err := a.store.DB().QueryRow("SELECT count(*) FROM "+table+" WHERE "+col+" = $1", d.ID).Scan(&n); err != nil || n != 0 {
				t.Errorf("round %d: %d rows of the erased dyad in %s (%v)", round, n, table, err)
			}
		}
	}
}
