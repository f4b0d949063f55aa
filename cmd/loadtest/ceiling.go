package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/oklog/ulid/v2"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/alliance-project/alliance/internal/store"
	"github.com/alliance-project/alliance/migrations"
)

// The ceiling: the simplest thing a team could write instead of this
// service, a bare gin handler inserting one row with GORM, with the
// service's own schema and connection settings, measured in the same run.

// ceilingRow has the column shape of the ratings table.
type ceilingRow struct {
	ID                 string `gorm:"primaryKey"`
	StudyID            string
	DyadID             string
	Session            int
	SessionDate        *string
	Role               string
	FormID             string
	Answers            string
	Scores             string
	MaxMissingFraction float64
	ScoringVersion     string
	Version            int
	CreatedAt          time.Time
	SupersededAt       *time.Time
}

func (ceilingRow) TableName() string { return "ratings" }

// ceilingScores is a scores document of the size the service stores.
const ceilingScores = `{"total":{"mean":4.5,"sum":54,"answered":12,"items":12,"prorated":false},"subscales":{"bond":{"mean":4.75,"sum":19,"answered":4,"items":4,"prorated":false},"goal":{"mean":4.25,"sum":17,"answered":4,"items":4,"prorated":false},"task":{"mean":4.5,"sum":18,"answered":4,"items":4,"prorated":false}}}`

// startCeiling serves the bare insert handler on 127.0.0.1:0 and returns
// its base URL and a stop function. With a postgres:// pgURL it inserts
// into PostgreSQL (see openCeilingPostgres), otherwise into a fresh SQLite
// file in dir.
func startCeiling(dir, pgURL string) (string, func(), error) {
	var db *gorm.DB
	var err error
	if store.IsPostgresURL(pgURL) {
		db, err = openCeilingPostgres(pgURL)
	} else {
		db, err = openCeilingSQLite(dir)
	}
	if err != nil {
		return "", nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return "", nil, err
	}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.POST("/v1/dyads/:id/ratings", func(c *gin.Context) {
		var req struct {
			Session int        `json:"session"`
			Role    string     `json:"role"`
			Answers []*float64 `json:"answers"`
		}
		if err := c.ShouldBindJSON(&req); err != nil {
			c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
			return
		}
		answers, _ := json.Marshal(req.Answers)
		row := ceilingRow{
			ID: "ra_" + strings.ToLower(ulid.Make().String()), StudyID: "st_ceiling", DyadID: c.Param("id"),
			Session: req.Session, Role: req.Role, FormID: "wai_sr_client", Answers: string(answers),
			Scores: ceilingScores, MaxMissingFraction: 0.25, ScoringVersion: "1", Version: 1,
			CreatedAt: time.Now().UTC(),
		}
		if err := db.WithContext(c.Request.Context()).Create(&row).Error; err != nil {
			c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
			return
		}
		c.JSON(http.StatusCreated, row)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = sqlDB.Close()
		return "", nil, err
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = sqlDB.Close()
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// ceilingGORM is the GORM configuration of both ceilings: no logging, no
// implicit transaction around the one INSERT.
var ceilingGORM = &gorm.Config{
	Logger:                 logger.Discard,
	SkipDefaultTransaction: true,
	NowFunc:                func() time.Time { return time.Now().UTC() },
}

// openCeilingSQLite opens a fresh SQLite file in dir with the service's
// connection settings, schema and indexes.
func openCeilingSQLite(dir string) (*gorm.DB, error) {
	db, err := gorm.Open(sqlite.Open(store.SQLiteDSN(filepath.Join(dir, "ceiling.db"))), ceilingGORM)
	if err != nil {
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(1) // a single writer
	// The service's own schema, indexes included; foreign keys off on the
	// one connection, as the ceiling has no studies or dyads to point at.
	if err := migrations.Up(context.Background(), sqlDB, migrations.SQLite, nil); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("ceiling schema: %w", err)
	}
	if err := db.Exec("PRAGMA foreign_keys = OFF").Error; err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("ceiling schema: %w", err)
	}
	return db, nil
}

// ceilingPool is the bare insert's PostgreSQL pool: one connection per
// load connection, so no request waits for a connection.
const ceilingPool = 32

// openCeilingPostgres opens a pool of ceilingPool connections on rawURL
// and inserts into a ratings table of its own, in a schema of its own
// (loadtest_ceiling, made afresh): a copy of the service's ratings table
// with its columns, defaults, checks and indexes, but not its foreign
// keys or triggers, as the ceiling has no studies or dyads to point at.
// The service's migrations are applied first if the database lacks them.
func openCeilingPostgres(rawURL string) (*gorm.DB, error) {
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, errors.New("-ceiling-db: not a valid postgres:// URL")
	}
	setup := stdlib.OpenDB(*cfg.Copy())
	defer setup.Close()
	if err := migrations.Up(ctx, setup, migrations.Postgres, nil); err != nil {
		return nil, fmt.Errorf("ceiling schema: %w", err)
	}
	for _, q := range []string{
		"DROP SCHEMA IF EXISTS loadtest_ceiling CASCADE",
		"CREATE SCHEMA loadtest_ceiling",
		"CREATE TABLE loadtest_ceiling.ratings (LIKE public.ratings INCLUDING ALL)",
	} {
		if _, err := setup.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("ceiling schema: %w", err)
		}
	}
	cfg.RuntimeParams["search_path"] = "loadtest_ceiling"
	sqlDB := stdlib.OpenDB(*cfg)
	sqlDB.SetMaxOpenConns(ceilingPool)
	sqlDB.SetMaxIdleConns(ceilingPool)
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), ceilingGORM)
	if err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return db, nil
}

func runCeiling(ctx context.Context, o options) (Result, error) {
	dir := o.dbDir
	if dir == "" {
		d, err := os.MkdirTemp("", "loadtest-ceiling-")
		if err != nil {
			return Result{}, err
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.MkdirAll(dir, 0o750); err != nil {
		return Result{}, err
	}
	base, stop, err := startCeiling(dir, o.ceilingDB)
	if err != nil {
		return Result{}, err
	}
	defer stop()
	client := newClient(o.conns)
	defer client.CloseIdleConnections()
	dyads := make([]string, o.dyads)
	for i := range dyads {
		dyads[i] = fmt.Sprintf("dy_ceiling_%06d", i)
	}
	return load(ctx, o, "ceiling", base, ratingRequests(base, dyads, runID(), nil, o.steady), http.StatusCreated), nil
}
