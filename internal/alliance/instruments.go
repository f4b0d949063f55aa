package alliance

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alliance-project/alliance/internal/instrument"
)

// InstrumentDefinition is a family definition as the store keeps it: the
// family's id and version and its canonical JSON (see
// instrument.Definition). A stored definition never changes.
type InstrumentDefinition struct {
	ID         string
	Version    string
	Definition []byte
	CreatedAt  time.Time
}

// Family is a family of parallel forms defined at run time: its id and
// version, and its forms under their versioned ids.
type Family struct {
	ID        string
	Version   string
	Forms     []*Form
	CreatedAt time.Time
}

// forms is the service's instrument catalogue: the built-in forms (with
// the deployment's item texts) and every family defined at run time. The
// catalogue is copy-on-write, so reads take no lock.
//
// Definitions are immutable, so a form once known is never stale; what an
// instance may lack is a family another instance defined. Every read that
// could miss one — a form id it does not know, a base id that names the
// latest version, the list of all forms — first counts the stored
// definitions (one query on a small table) and, when the count differs
// from the definitions it holds, reads them all. A family defined on any
// instance is therefore seen by every other from its commit on.
type forms struct {
	base *instrument.Catalogue
	cur  atomic.Pointer[instrument.Catalogue]
	mu   sync.Mutex
	// stored is the number of stored definitions cur holds (under mu).
	stored int
}

func newForms(base *instrument.Catalogue) *forms {
	f := &forms{base: base}
	f.cur.Store(base)
	return f
}

func (s *Service) catalogue() *instrument.Catalogue { return s.forms.cur.Load() }

// refreshForms brings the catalogue up to the stored definitions: one
// count when nothing changed, a read of every definition when something
// did (rebuilt in creation order, so a base id names the latest version
// on every instance alike).
func (s *Service) refreshForms(ctx context.Context) error {
	s.forms.mu.Lock()
	defer s.forms.mu.Unlock()
	n, err := s.store.CountInstruments(ctx)
	if err != nil {
		return fmt.Errorf("count instrument definitions: %w", err)
	}
	if n == s.forms.stored {
		return nil
	}
	defs, err := s.store.FindInstruments(ctx)
	if err != nil {
		return fmt.Errorf("read instrument definitions: %w", err)
	}
	cat := s.forms.base
	for _, sd := range defs {
		d, err := instrument.ParseStoredDefinition(sd.Definition)
		if err == nil {
			cat, err = cat.With(d)
		}
		if err != nil {
			return fmt.Errorf("stored instrument %s version %s: %w", sd.ID, sd.Version, err)
		}
	}
	s.forms.cur.Store(cat)
	s.forms.stored = len(defs)
	return nil
}

// LoadInstruments reads the families defined at run time and checks the
// deployment's item texts against every form now known: a text for a form
// or item that does not exist is a start-up error, not a silent "Statement
// 3". The server calls it once at start; without it the catalogue still
// loads on first use.
func (s *Service) LoadInstruments(ctx context.Context) error {
	if err := s.refreshForms(ctx); err != nil {
		return err
	}
	if err := s.catalogue().CheckTexts(); err != nil {
		return fmt.Errorf("the item texts name a form or item no instrument has: %w", err)
	}
	return nil
}

// Forms lists every instrument form, built-in and defined at run time,
// for frontends that render forms.
func (s *Service) Forms(ctx context.Context) ([]*Form, error) {
	if err := s.refreshForms(ctx); err != nil {
		return nil, err
	}
	return s.catalogue().Forms(), nil
}

// FindForm returns one instrument form by its id: a built-in form's id, a
// versioned id ("sai_client@2"), or the base id of a form defined at run
// time ("sai_client"), which means its latest version.
func (s *Service) FindForm(ctx context.Context, id string) (*Form, error) {
	f, ok := s.catalogue().Form(id)
	if !ok || (!f.Builtin && f.ID != id) {
		// Unknown here, or a base id whose latest version another
		// instance may have defined since: ask the store.
		if err := s.refreshForms(ctx); err != nil {
			return nil, err
		}
		f, ok = s.catalogue().Form(id)
	}
	if !ok {
		return nil, fmt.Errorf("instrument %q: %w", id, ErrNotFound)
	}
	return f, nil
}

// ParallelForms lists the ids of the forms parallel to f: the other forms
// of its definition, which are known wherever f is.
func (s *Service) ParallelForms(f *Form) []string {
	out := []string{}
	for _, g := range s.catalogue().Forms() {
		if g.ID != f.ID && f.Parallel(g) {
			out = append(out, g.ID)
		}
	}
	return out
}

// DefineInstrument stores a family of parallel forms defined by the JSON
// definition data (see instrument.Definition) and adds it to the
// catalogue. Only an admin key bound to no study may define one. A family
// and version already defined, or a built-in family, is refused: a
// definition never changes once stored, so studies keep the version they
// started with and caches elsewhere are never stale. A changed definition
// is posted as a new version.
func (s *Service) DefineInstrument(ctx context.Context, data []byte) (Family, error) {
	if ActorFrom(ctx).StudyID != "" {
		return Family{}, fmt.Errorf("a key bound to a study cannot define instruments: %w", ErrForbidden)
	}
	d, err := instrument.ParseDefinition(data)
	if err != nil {
		var de *instrument.DefinitionError
		if errors.As(err, &de) {
			return Family{}, &ValidationError{Fields: de.Fields}
		}
		return Family{}, err
	}
	if err := s.refreshForms(ctx); err != nil {
		return Family{}, err
	}
	cat := s.catalogue()
	switch {
	case cat.BuiltinFamily(d.ID):
		return Family{}, invalid("id", "builtin_instrument", fmt.Sprintf("%q is a built-in family; built-in forms cannot be redefined: choose another id", d.ID))
	case cat.HasFamily(d.ID, d.Version):
		return Family{}, duplicateVersion(d)
	}
	sd := InstrumentDefinition{ID: d.ID, Version: d.Version, Definition: d.Canonical(), CreatedAt: s.now()}
	ref := d.ID + "@" + d.Version
	err = s.store.CreateInstrument(ctx, sd, s.audit(ctx, "instrument.create", "instrument", ref, "", "", nil,
		map[string]any{"id": d.ID, "version": d.Version, "items": d.Items, "forms": len(d.Forms)}))
	switch {
	case errors.Is(err, ErrConflict):
		return Family{}, duplicateVersion(d) // defined meanwhile, here or elsewhere
	case err != nil:
		return Family{}, fmt.Errorf("define instrument %s: %w", ref, err)
	}
	s.forms.mu.Lock()
	if cat := s.forms.cur.Load(); !cat.HasFamily(d.ID, d.Version) {
		if next, err := cat.With(d); err == nil {
			s.forms.cur.Store(next)
			s.forms.stored++
		}
	}
	s.forms.mu.Unlock()
	out := Family{ID: d.ID, Version: d.Version, CreatedAt: sd.CreatedAt}
	for _, df := range d.Forms {
		f, err := s.FindForm(ctx, df.ID+"@"+d.Version)
		if err != nil {
			return out, err
		}
		out.Forms = append(out.Forms, f)
	}
	return out, nil
}

func duplicateVersion(d *instrument.Definition) error {
	return invalid("version", "duplicate_version", fmt.Sprintf("%s version %s is already defined, and a definition never changes: post the changed definition as a new version", d.ID, d.Version))
}

// MaxDefinitionBytes bounds the JSON of one instrument definition.
const MaxDefinitionBytes = instrument.MaxDefinitionBytes
