package alliance

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// The study-wide views behind the dashboard and its plots, beside the
// agreement report: how complete a study is, every dyad's difference over
// sessions, and the differences of each counsellor's dyads.

// SessionCompletion counts the current ratings of one session number.
type SessionCompletion struct {
	Session    int
	Client     int
	Counsellor int
	// Both counts dyads rated by both sides at this session.
	Both int
}

// Completion is how far a study's rating has got: its dyads and, per
// session number anyone rated, the ratings of each role.
type Completion struct {
	Dyads    int
	Sessions []SessionCompletion
}

// StudyCompletion counts a study's dyads and its ratings per session and
// role.
func (s *Service) StudyCompletion(ctx context.Context, studyID string) (Completion, error) {
	if _, err := s.FindStudyByID(ctx, studyID); err != nil {
		return Completion{}, err
	}
	c, err := s.store.CountStudyRatings(ctx, studyID)
	if err != nil {
		return Completion{}, fmt.Errorf("study %s completion: %w", studyID, err)
	}
	return c, nil
}

// SessionValue is one number at a session of a dyad.
type SessionValue struct {
	Session int
	Value   float64
}

// DifferenceTrajectories are the client − counsellor differences of one
// scale (item means) of every dyad at every session where both sides have
// a score, computed by the same code as every other difference.
type DifferenceTrajectories struct {
	Study Study
	Scale string
	Conf  float64
	// Sessions lists every session number anyone rated, ascending, so that
	// a session with no complete pair still shows (with n = 0).
	Sessions []int
	// Dyads holds, in dyad id order, the differences of each dyad with at
	// least one, by session.
	Dyads [][]SessionValue
}

// SessionPair is one dyad session's two means of a scale; nil where a
// side's score is missing.
type SessionPair struct {
	DyadID             string
	Session            int
	Client, Counsellor *float64
}

// StudyTrajectories returns every dyad's difference over sessions for the
// first scale of q (default: the total). q is checked like the agreement
// report's query; its session selector does not apply, since every session
// is shown, and band and multiplier are only validated.
func (s *Service) StudyTrajectories(ctx context.Context, studyID string, q AgreementQuery) (DifferenceTrajectories, error) {
	set, scales, err := s.agreementSettings(ctx, studyID, q)
	if err != nil {
		return DifferenceTrajectories{}, err
	}
	out := DifferenceTrajectories{Study: set.Study, Scale: scales[0], Conf: set.Conf}
	pairs, sessions, err := s.store.FindStudyScalePairs(ctx, studyID, out.Scale)
	if err != nil {
		return DifferenceTrajectories{}, fmt.Errorf("study %s scores: %w", studyID, err)
	}
	out.Sessions = sessions
	slices.SortFunc(pairs, func(a, b SessionPair) int {
		return cmp.Or(cmp.Compare(a.DyadID, b.DyadID), cmp.Compare(a.Session, b.Session))
	})
	last := ""
	for _, p := range pairs {
		d := meansDifference(out.Scale, true, true, p.Client, p.Counsellor).Difference
		if d == nil {
			continue
		}
		if len(out.Dyads) == 0 || p.DyadID != last {
			out.Dyads, last = append(out.Dyads, nil), p.DyadID
		}
		cur := &out.Dyads[len(out.Dyads)-1]
		*cur = append(*cur, SessionValue{Session: p.Session, Value: *d})
	}
	return out, nil
}

// CounsellorDifferences are the client − counsellor differences of one
// counsellor's dyads, one per dyad with a complete pair.
type CounsellorDifferences struct {
	Code        string
	Differences []float64
}

// CounsellorGroups are a study's pairs at the selected session grouped
// by counsellor: what a caterpillar plot draws. N is the number of pairs,
// as in the agreement report.
type CounsellorGroups struct {
	Study       Study
	Selector    SessionSelector
	Scale       string
	Conf        float64
	N           int
	Counsellors []CounsellorDifferences // by code
}

// CounsellorGroups returns, for the first scale of q (default: the total)
// at q's session, the differences of each counsellor's dyads: the pairs of
// the agreement report (same selection, same n), grouped by the dyads'
// counsellor codes. Every counsellor of the study is listed, those without
// a pair with no differences. The per-counsellor statistics themselves are
// CounsellorAgreement's.
func (s *Service) CounsellorGroups(ctx context.Context, studyID string, q AgreementQuery) (CounsellorGroups, error) {
	if len(q.Scales) > 1 {
		q.Scales = q.Scales[:1]
	}
	a, err := s.StudyScaleAgreement(ctx, studyID, q)
	if err != nil {
		return CounsellorGroups{}, err
	}
	sc := a.Scales[0]
	out := CounsellorGroups{Study: a.Study, Selector: a.Selector, Scale: sc.Scale, Conf: a.Conf, N: sc.N}
	counsellor, err := s.counsellorCodes(ctx, studyID)
	if err != nil {
		return CounsellorGroups{}, err
	}
	byCode := map[string][]float64{}
	for _, code := range counsellor {
		byCode[code] = byCode[code][:0:0]
	}
	for _, p := range sc.Pairs {
		code := counsellor[p.DyadID]
		byCode[code] = append(byCode[code], p.Client-p.Counsellor)
	}
	for code, ds := range byCode {
		out.Counsellors = append(out.Counsellors, CounsellorDifferences{Code: code, Differences: ds})
	}
	slices.SortFunc(out.Counsellors, func(a, b CounsellorDifferences) int { return cmp.Compare(a.Code, b.Code) })
	return out, nil
}
