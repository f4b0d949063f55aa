package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
)

// TestInstrumentDefinitions: on each backend a definition is stored once
// per id and version (a second is ErrConflict), read back oldest first,
// counted, and never changed or removed: the database refuses both, as
// every instance's cache relies on.
func TestInstrumentDefinitions(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		defs := []alliance.InstrumentDefinition{
			{ID: "sai", Version: "1", Definition: []byte(`{"id":"sai","version":"1"}`), CreatedAt: now},
			{ID: "sai", Version: "2", Definition: []byte(`{"id":"sai","version":"2"}`), CreatedAt: now.Add(time.Second)},
			{ID: "abc", Version: "1", Definition: []byte(`{"id":"abc"}`), CreatedAt: now.Add(2 * time.Second)},
		}
		for _, d := range defs {
			if err := st.CreateInstrument(ctx, d); err != nil {
				t.Fatalf("CreateInstrument %s@%s: %v", d.ID, d.Version, err)
			}
		}
		if err := st.CreateInstrument(ctx, defs[0]); !errors.Is(err, alliance.ErrConflict) {
			t.Errorf("a second sai@1 = %v, want ErrConflict", err)
		}
		got, err := st.FindInstruments(ctx)
		if err != nil || len(got) != 3 {
			t.Fatalf("FindInstruments = %d, %v", len(got), err)
		}
		for i, d := range got {
			if d.ID != defs[i].ID || d.Version != defs[i].Version || string(d.Definition) != string(defs[i].Definition) || !d.CreatedAt.Equal(defs[i].CreatedAt) {
				t.Errorf("definition %d = %+v, want %+v", i, d, defs[i])
			}
		}
		if n, err := st.CountInstruments(ctx); n != 3 || err != nil {
			t.Errorf("CountInstruments = %d, %v", n, err)
		}
		db := st.db.WithContext(ctx)
		if err := translate(db.Model(&instrumentRow{}).Where("id = ?", "sai").Update("definition", "{}").Error); !errors.Is(err, alliance.ErrConflict) {
			t.Errorf("UPDATE instrument_definitions = %v, want ErrConflict", err)
		}
		if err := translate(db.Where("id = ?", "sai").Delete(&instrumentRow{}).Error); !errors.Is(err, alliance.ErrConflict) {
			t.Errorf("DELETE FROM instrument_definitions = %v, want ErrConflict", err)
		}
	})
}
