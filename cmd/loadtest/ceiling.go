package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/oklog/ulid/v2"
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

// startCeiling serves the bare insert handler on 127.0.0.1:0 over a fresh
// SQLite file in dir and returns its base URL and a stop function.
func startCeiling(dir string) (string, func(), error) {
	// The same connection settings as the service's store.
	db, err := gorm.Open(sqlite.Open(store.SQLiteDSN(filepath.Join(dir, "ceiling.db"))), &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		return "", nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return "", nil, err
	}
	sqlDB.SetMaxOpenConns(1) // a single writer
	// The service's own schema, indexes included; foreign keys off on the
	// one connection, as the ceiling has no studies or dyads to point at.
	if err := migrations.Up(context.Background(), sqlDB, migrations.SQLite, nil); err != nil {
		_ = sqlDB.Close()
		return "", nil, fmt.Errorf("ceiling schema: %w", err)
	}
	if err := db.Exec("PRAGMA foreign_keys = OFF").Error; err != nil {
		_ = sqlDB.Close()
		return "", nil, fmt.Errorf("ceiling schema: %w", err)
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
	base, stop, err := startCeiling(dir)
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
	return load(ctx, o, "ceiling", base, ratingRequests(base, dyads, runID(), nil), http.StatusCreated), nil
}
