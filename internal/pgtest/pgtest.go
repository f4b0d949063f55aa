// Package pgtest gives tests a throwaway PostgreSQL database of their own
// on the server named by ALLIANCE_TEST_POSTGRES_URL (scripts/postgres-test.sh
// starts one), and skips them, saying how to run them, where there is none.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver for the admin connection
)

// Env names the variable that points the tests at a PostgreSQL
// server: a postgres:// URL of a role allowed to CREATE DATABASE, e.g.
// postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable.
// scripts/postgres-test.sh starts a throwaway server and sets it.
const Env = "ALLIANCE_TEST_POSTGRES_URL"

// SkipWithout skips t, saying how to run it, unless Env is set.
func SkipWithout(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(Env)
	if admin == "" {
		t.Skip(Env + " is not set: skipping the PostgreSQL variant " +
			"(run `scripts/postgres-test.sh go test ./...` to start a throwaway PostgreSQL 15)")
	}
	return admin
}

// Database creates an empty database for one test and returns its
// URL; the database is dropped when the test ends. Without Env the
// test is skipped with a message saying how to run it.
func Database(t testing.TB) string {
	t.Helper()
	admin := SkipWithout(t)
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL", Env)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	name := "alliance_test_" + hex.EncodeToString(b)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", admin)
		if err != nil {
			t.Error(err)
			return
		}
		defer db.Close()
		// FORCE ends sessions a failed test left open (PostgreSQL 13+).
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
