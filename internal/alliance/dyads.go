package alliance

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/alliance-project/alliance/internal/auth"
	"github.com/alliance-project/alliance/internal/pseudonym"
)

// DyadInput is a request to add a dyad to a study.
type DyadInput struct {
	ClientCode     string
	CounsellorCode string
}

// checkCode refuses codes that are not pseudonyms: outside the code
// alphabet, shaped like a personal identity number, an e-mail address, a
// phone number or a name (see internal/pseudonym), or, when the study
// sets one, not matching its code pattern. The message says what the code
// looks like, never the code.
func checkCode(fe *fieldErrors, field, code string, st Study, pattern *regexp.Regexp) {
	switch {
	case code == "":
		fe.add(field, "required", "a pseudonymous code is required")
	case !pseudonym.WellFormed(code):
		fe.add(field, "invalid_code", fmt.Sprintf("1-%d characters: letters, digits, '.', '_' or '-', starting with a letter or digit; never a name", pseudonym.MaxCodeLen))
	default:
		if reason, ok := pseudonym.Identifying(code); ok {
			fe.add(field, "looks_identifying", fmt.Sprintf("this looks like %s (%s); use a pseudonymous study code that identifies no one",
				strings.ReplaceAll(string(reason), "_", " "), reason))
		} else if pattern != nil && !pattern.MatchString(code) {
			fe.add(field, "pattern_mismatch", "does not match the study's code_pattern "+st.CodePattern)
		}
	}
}

// enrols checks that the actor may add dyads to a study: admin keys, and
// a collect key bound to a study (a survey frontend enrolling its
// participants; the study's lookup checks the binding). An analyze key
// only reads, and beside an unbound collect key it is no licence to enrol
// in every study.
func enrols(a Actor) error {
	if a.Has(auth.ScopeAdmin) || (a.Has(auth.ScopeCollect) && a.StudyID != "") {
		return nil
	}
	return fmt.Errorf("dyads are enrolled by admin keys, and by collect keys bound to a study: %w", ErrForbidden)
}

// looksUpDyads checks that the actor may find dyads by id or code: admin
// and analyze keys as they see studies; a collect key only when it is
// bound to a study, so it never sees another study's codes.
func looksUpDyads(a Actor) error {
	if a.Has(auth.ScopeAdmin) || a.Has(auth.ScopeAnalyze) || a.StudyID != "" {
		return nil
	}
	return fmt.Errorf("a collect key looks up dyads only when it is bound to a study: %w", ErrForbidden)
}

// CreateDyad adds a dyad to an existing study; the client code is unique
// within the study.
func (s *Service) CreateDyad(ctx context.Context, studyID string, in DyadInput) (Dyad, error) {
	if err := enrols(ActorFrom(ctx)); err != nil {
		return Dyad{}, err
	}
	st, err := s.FindStudyByID(ctx, studyID)
	if err != nil {
		return Dyad{}, err
	}
	var pattern *regexp.Regexp
	if st.CodePattern != "" {
		if pattern, err = pseudonym.CompilePattern(st.CodePattern); err != nil {
			return Dyad{}, fmt.Errorf("study %s code pattern: %w", st.ID, err)
		}
	}
	var fe fieldErrors
	checkCode(&fe, "client_code", in.ClientCode, st, pattern)
	checkCode(&fe, "counsellor_code", in.CounsellorCode, st, pattern)
	if err := fe.err(); err != nil {
		return Dyad{}, err
	}
	d := Dyad{
		ID:             newID("dy"),
		StudyID:        studyID,
		ClientCode:     in.ClientCode,
		CounsellorCode: in.CounsellorCode,
		CreatedAt:      s.now(),
	}
	after := map[string]any{"client_code": d.ClientCode, "counsellor_code": d.CounsellorCode}
	if err := s.store.CreateDyad(ctx, d, s.audit(ctx, "dyad.create", "dyad", d.ID, studyID, d.ID, nil, after)); err != nil {
		if errors.Is(err, ErrConflict) {
			return Dyad{}, fmt.Errorf("this client code already has a dyad in this study: %w", err)
		}
		return Dyad{}, fmt.Errorf("create dyad: %w", err)
	}
	return d, nil
}

// FindDyadByID returns one dyad.
func (s *Service) FindDyadByID(ctx context.Context, id string) (Dyad, error) {
	d, err := s.store.FindDyadByID(ctx, id)
	if err == nil && !ActorFrom(ctx).sees(d.StudyID) {
		err = ErrNotFound
	}
	if err != nil {
		return Dyad{}, fmt.Errorf("dyad %s: %w", id, err)
	}
	return d, nil
}

// GetDyad returns one dyad to a caller that asked for it by id (see
// looksUpDyads); FindDyadByID serves the use cases that act on a dyad.
func (s *Service) GetDyad(ctx context.Context, id string) (Dyad, error) {
	if err := looksUpDyads(ActorFrom(ctx)); err != nil {
		return Dyad{}, err
	}
	return s.FindDyadByID(ctx, id)
}

// FindDyads returns one page of a study's dyads, optionally only those
// with a client code or a counsellor code, matched exactly: a frontend
// finds its participant's dyad by code.
func (s *Service) FindDyads(ctx context.Context, f DyadFilter) ([]Dyad, error) {
	if err := looksUpDyads(ActorFrom(ctx)); err != nil {
		return nil, err
	}
	p, err := checkPage(f.Page)
	if err != nil {
		return nil, err
	}
	f.Page = p
	if _, err := s.FindStudyByID(ctx, f.StudyID); err != nil {
		return nil, err
	}
	return s.store.FindDyads(ctx, f)
}
