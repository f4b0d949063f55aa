package store_test

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/pgtest"
	"github.com/alliance-project/alliance/internal/store"
)

// TestPoolExhaustion takes every connection of an instance's pool away
// and checks that reads, writes and HTTP requests are refused as
// unavailable once the pool wait is over, with a 503 and Retry-After,
// instead of queueing for as long as the request lives; and that all is
// well once connections are free again.
func TestPoolExhaustion(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	ctx := context.Background()
	const wait = 300 * time.Millisecond
	st, err := store.Open(ctx, url, discard, store.WithMaxOpenConns(2), store.WithPoolWait(wait))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	in := serve(t, st)
	admin, err := in.svc.EnsureAdminKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	created := send(t, "POST", in.srv.URL+"/v1/studies", admin, "", map[string]any{
		"name": "pool", "forms": map[string]string{"client": "wai_sr_client", "counsellor": "wai_sr_therapist"}})
	if created.status != http.StatusCreated {
		t.Fatalf("create study = %+v", created)
	}
	dyad := send(t, "POST", in.srv.URL+"/v1/studies/"+created.id+"/dyads", admin, "", map[string]string{
		"client_code": "P1", "counsellor_code": "K1"})
	if dyad.status != http.StatusCreated {
		t.Fatalf("create dyad = %+v", dyad)
	}

	// Hold both connections, as two slow queries would.
	var held []*sql.Conn
	for range 2 {
		c, err := st.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	study := alliance.Study{ID: "st_pool", Name: "n", Forms: map[alliance.Role]string{}, Policy: instrument.DefaultPolicy(), CreatedAt: time.Now().UTC()}
	for name, call := range map[string]func() error{
		"read (GORM)":      func() error { _, err := st.FindStudyByID(ctx, created.id); return err },
		"read (plain SQL)": func() error { _, err := st.FindDyadByID(ctx, dyad.id); return err },
		"write":            func() error { return st.CreateStudy(ctx, study) },
		"long read (study ratings)": func() error {
			_, err := st.FindStudyRatings(ctx, created.id, alliance.SessionSelector{})
			return err
		},
		"long read (export)": func() error {
			return st.StreamStudyRatings(ctx, created.id, nil, false, func(alliance.ExportRow) error { return nil })
		},
	} {
		start := time.Now()
		err := call()
		if !errors.Is(err, alliance.ErrUnavailable) {
			t.Errorf("%s with the pool exhausted = %v, want ErrUnavailable", name, err)
		}
		if d := time.Since(start); d < wait {
			t.Errorf("%s gave up after %v, before the pool wait of %v", name, d, wait)
		}
	}
	for _, r := range []struct{ method, path string }{
		{"GET", "/v1/studies/" + created.id},
		{"POST", "/v1/dyads/" + dyad.id + "/ratings"},
		{"GET", "/v1/studies/" + created.id + "/export"},
		{"GET", "/v1/studies/" + created.id + "/agreement"},
	} {
		req, _ := http.NewRequest(r.method, in.srv.URL+r.path, nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		if r.method == "POST" {
			req = jsonRequest(t, r.method, in.srv.URL+r.path, admin, map[string]any{"session": 1, "role": "client", "answers": answers(1)})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s with the pool exhausted = %d, Retry-After %q; want 503 with Retry-After",
				r.method, r.path, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}

	for _, c := range held {
		c.Close()
	}
	if err := st.CreateStudy(ctx, study); err != nil {
		t.Errorf("write after the connections came back = %v", err)
	}
	if r := send(t, "POST", in.srv.URL+"/v1/dyads/"+dyad.id+"/ratings", admin, "", map[string]any{
		"session": 1, "role": "client", "answers": answers(1)}); r.status != http.StatusCreated {
		t.Errorf("rating after the connections came back = %+v", r)
	}
}
