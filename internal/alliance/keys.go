package alliance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/alliance-project/alliance/internal/auth"
)

// Key is an API key as stored: never the secret, only its hash.
type Key struct {
	ID        string
	Name      string
	Scopes    []auth.Scope
	StudyID   string
	Hash      string
	CreatedAt time.Time
	CreatedBy string
	RevokedAt *time.Time
}

// KeyInput is a request for a new API key.
type KeyInput struct {
	Name    string
	Scopes  []string
	StudyID string
}

// CreateKey makes an API key and returns it with its secret token, which
// exists nowhere else: it is shown once. A key bound to a study can only
// make keys bound to the same study.
func (s *Service) CreateKey(ctx context.Context, in KeyInput) (Key, string, error) {
	var fe fieldErrors
	name := fe.label("name", in.Name, 100, "a name of 1-100 characters says what the key is for")
	var scopes []auth.Scope
	for i, raw := range in.Scopes {
		sc, err := auth.ParseScope(raw)
		if err != nil {
			fe.add(fmt.Sprintf("scopes[%d]", i), "invalid_value", err.Error())
		} else if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	if len(in.Scopes) == 0 {
		fe.add("scopes", "required", "at least one of admin, collect, analyze, alerts")
	}
	actor := ActorFrom(ctx)
	studyID := in.StudyID
	if actor.StudyID != "" {
		if studyID != "" && studyID != actor.StudyID {
			fe.add("study_id", "forbidden", "a key bound to a study can only create keys for that study")
		}
		studyID = actor.StudyID
	}
	if err := fe.err(); err != nil {
		return Key{}, "", err
	}
	if studyID != "" {
		if _, err := s.FindStudyByID(ctx, studyID); errors.Is(err, ErrNotFound) {
			return Key{}, "", invalid("study_id", "unknown_study", "no study has this id")
		} else if err != nil {
			return Key{}, "", err
		}
	}
	tok := auth.New(auth.KindKey)
	k := Key{ID: tok.ID, Name: name, Scopes: scopes, StudyID: studyID, Hash: auth.Hash(tok.Secret),
		CreatedAt: s.now(), CreatedBy: actor.Label()}
	view := map[string]any{"name": k.Name, "scopes": k.Scopes, "study_id": k.StudyID}
	if err := s.store.CreateKey(ctx, k, s.audit(ctx, "key.create", "key", k.ID, k.StudyID, "", nil, view)); err != nil {
		return Key{}, "", fmt.Errorf("create key: %w", err)
	}
	return k, tok.String(), nil
}

// EnsureAdminKey creates a first admin key when the database has none, so
// a new installation can be used at once. It returns the token only when
// it created one.
func (s *Service) EnsureAdminKey(ctx context.Context) (string, error) {
	n, err := s.store.CountKeys(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	_, tok, err := s.CreateKey(ctx, KeyInput{Name: "first admin key", Scopes: []string{string(auth.ScopeAdmin)}})
	return tok, err
}

// HasAdminKey reports whether an unrevoked admin key bound to no study
// exists: the key that can make studies and other keys.
func (s *Service) HasAdminKey(ctx context.Context) (bool, error) {
	p := Page{Limit: MaxLimit}
	for {
		keys, err := s.store.FindKeys(ctx, "", p)
		if err != nil {
			return false, err
		}
		for _, k := range keys {
			if k.RevokedAt == nil && k.StudyID == "" && slices.Contains(k.Scopes, auth.ScopeAdmin) {
				return true, nil
			}
		}
		if len(keys) < p.Limit {
			return false, nil
		}
		p.After = keys[len(keys)-1].ID
	}
}

// FindKeys lists keys (never their secrets); a study-bound admin sees the
// keys of its study only.
func (s *Service) FindKeys(ctx context.Context, p Page) ([]Key, error) {
	p, err := checkPage(p)
	if err != nil {
		return nil, err
	}
	return s.store.FindKeys(ctx, ActorFrom(ctx).StudyID, p)
}

// RevokeKey disables a key for good; the row stays for the audit trail.
func (s *Service) RevokeKey(ctx context.Context, id string) (Key, error) {
	k, err := s.store.FindKeyByID(ctx, id)
	if err == nil && !ActorFrom(ctx).sees(k.StudyID) {
		err = ErrNotFound // a study-bound admin sees neither global keys nor other studies'
	}
	if err != nil {
		return Key{}, fmt.Errorf("key %s: %w", id, err)
	}
	if k.RevokedAt != nil {
		return k, nil
	}
	at := s.now()
	if err := s.store.RevokeKey(ctx, id, at, s.audit(ctx, "key.revoke", "key", id, k.StudyID, "", nil, nil)); err != nil {
		return Key{}, fmt.Errorf("revoke key %s: %w", id, err)
	}
	k.RevokedAt = &at
	return k, nil
}
