package alliance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/pseudonym"
)

// Service holds the use cases. Handlers call it; it validates input,
// scores ratings and talks to the Store.
type Service struct {
	store Store
	forms *forms
	now   func() time.Time
	// reliabilities caches each study's own reliability estimates for
	// the rupture alert (see reliability).
	reliabilities reliabilityCache
	// webhooks configures webhook endpoints (see ConfigureWebhooks).
	webhooks webhookConfig
	// writing serializes the rating writes of each dyad (see dyadLocks).
	writing dyadLocks
}

// NewService wires the use cases to a store and an instrument catalogue:
// the built-in forms, to which the families defined at run time are added
// (see LoadInstruments).
func NewService(store Store, catalogue *instrument.Catalogue) *Service {
	// Microseconds: PostgreSQL keeps no more, and a replayed response must
	// equal the first one byte for byte.
	return &Service{store: store, forms: newForms(catalogue), now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// newID returns an opaque, time-ordered id with a short type prefix, so ids
// sort in creation order (stable cursor pagination) and are recognisable
// in logs without revealing anything about the person behind them.
func newID(prefix string) string {
	return prefix + "_" + strings.ToLower(ulid.Make().String())
}

// Ready reports whether the service can serve requests that need the database.
func (s *Service) Ready(ctx context.Context) error { return s.store.Ping(ctx) }

// SurveyLanguages are the languages of the hosted survey page.
var SurveyLanguages = []string{"en", "sv"}

// StudyInput is a request to create a study. An empty form id means the
// role does not rate in this study; MaxMissingFraction and
// TotalRequiresSubscales nil mean the defaults (instrument.DefaultPolicy:
// 0.25, and totals scored without regard to their subscales).
type StudyInput struct {
	Name                   string
	Description            string
	ClientForm             string
	CounsellorForm         string
	MaxMissingFraction     *float64
	TotalRequiresSubscales *bool
	CodePattern            string
	Language               string
	// Alerts sets the alert thresholds; nil takes the defaults.
	Alerts *AlertThresholdsInput
}

// CreateStudy validates the forms (they must exist, suit their role and be
// parallel forms of one family) and stores the study.
func (s *Service) CreateStudy(ctx context.Context, in StudyInput) (Study, error) {
	if ActorFrom(ctx).StudyID != "" {
		return Study{}, fmt.Errorf("a key bound to a study cannot create studies: %w", ErrForbidden)
	}
	var fe fieldErrors
	name := fe.label("name", in.Name, 200, "a study needs a name")
	if utf8.RuneCountInString(in.Description) > 2000 {
		fe.add("description", "too_long", "at most 2000 characters")
	}
	forms := map[Role]string{}
	var picked []*instrument.Form
	for _, rf := range []struct {
		role Role
		id   string
	}{{RoleClient, in.ClientForm}, {RoleCounsellor, in.CounsellorForm}} {
		if rf.id == "" {
			continue
		}
		field := "forms." + string(rf.role)
		// A study keeps the exact definition it starts with: a base id
		// resolves to the latest version and the study stores that
		// version's id.
		f, err := s.FindForm(ctx, rf.id)
		switch {
		case errors.Is(err, ErrNotFound):
			fe.add(field, "unknown_instrument", fmt.Sprintf("no instrument form %q; see GET /v1/instruments", rf.id))
		case err != nil:
			return Study{}, err
		case Role(f.Role) != rf.role:
			fe.add(field, "role_mismatch", fmt.Sprintf("form %q is for the %s role", f.ID, f.Role))
		default:
			forms[rf.role] = f.ID
			picked = append(picked, f)
		}
	}
	if in.ClientForm == "" && in.CounsellorForm == "" {
		fe.add("forms", "required", "name the instrument form of at least one role")
	}
	if len(picked) == 2 && !picked[0].Parallel(picked[1]) {
		fe.add("forms.counsellor", "not_parallel", fmt.Sprintf("form %q is not a parallel form of %q (parallel forms come from one definition: the same family and version)", picked[1].ID, picked[0].ID))
	}
	if in.CodePattern != "" {
		if err := pseudonym.CheckPattern(in.CodePattern); err != nil {
			fe.add("code_pattern", "invalid_pattern", err.Error())
		}
	}
	if in.Language != "" && !slices.Contains(SurveyLanguages, in.Language) {
		fe.add("language", "invalid_value", "one of "+strings.Join(SurveyLanguages, ", "))
	}
	policy := instrument.DefaultPolicy()
	if in.MaxMissingFraction != nil {
		policy.MaxMissingFraction = *in.MaxMissingFraction
		if err := policy.Validate(); err != nil {
			fe.add("missing_policy.max_missing_fraction", "out_of_range", err.Error())
		}
	}
	if in.TotalRequiresSubscales != nil {
		policy.TotalRequiresSubscales = *in.TotalRequiresSubscales
	}
	alerts := checkThresholds(&fe, "alert_thresholds.", in.Alerts, picked...)
	if err := fe.err(); err != nil {
		return Study{}, err
	}
	st := Study{
		ID:          newID("st"),
		Name:        name,
		Description: in.Description,
		Forms:       forms,
		Policy:      policy,
		CodePattern: in.CodePattern,
		Language:    in.Language,
		CreatedAt:   s.now(),
		Alerts:      alerts,
	}
	if err := s.store.CreateStudy(ctx, st, s.audit(ctx, "study.create", "study", st.ID, st.ID, "", nil, studyAudit(st))); err != nil {
		return Study{}, fmt.Errorf("create study: %w", err)
	}
	return st, nil
}

// studyForms are the forms of a study's roles, by role.
func (s *Service) studyForms(ctx context.Context, st Study) (map[Role]*Form, error) {
	forms := make(map[Role]*Form, len(st.Forms))
	for role, id := range st.Forms {
		f, err := s.FindForm(ctx, id)
		if err != nil {
			return nil, err
		}
		forms[role] = f
	}
	return forms, nil
}

// FindStudyByID returns one study.
func (s *Service) FindStudyByID(ctx context.Context, id string) (Study, error) {
	st, err := s.store.FindStudyByID(ctx, id)
	if err == nil && !ActorFrom(ctx).sees(st.ID) {
		err = ErrNotFound
	}
	if err != nil {
		return Study{}, fmt.Errorf("study %s: %w", id, err)
	}
	return st, nil
}

// FindStudies returns one page of studies in creation order.
func (s *Service) FindStudies(ctx context.Context, p Page) ([]Study, error) {
	p, err := checkPage(p)
	if err != nil {
		return nil, err
	}
	if bound := ActorFrom(ctx).StudyID; bound != "" {
		// A key bound to one study lists that study only.
		st, err := s.FindStudyByID(ctx, bound)
		if err != nil || st.ID <= p.After {
			return nil, err
		}
		return []Study{st}, nil
	}
	return s.store.FindStudies(ctx, p)
}

func studyAudit(st Study) any {
	return map[string]any{"name": st.Name, "forms": st.Forms, "max_missing_fraction": st.Policy.MaxMissingFraction,
		"total_requires_subscales": st.Policy.TotalRequiresSubscales, "code_pattern": st.CodePattern, "language": st.Language,
		"alert_thresholds": thresholdsAudit(st.Alerts)}
}

func checkPage(p Page) (Page, error) {
	switch {
	case p.Limit == 0:
		p.Limit = DefaultLimit
	case p.Limit < 1 || p.Limit > MaxLimit:
		return p, invalid("limit", "out_of_range", fmt.Sprintf("must be between 1 and %d", MaxLimit))
	}
	return p, nil
}
