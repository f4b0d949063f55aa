package alliance

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/alliance-project/alliance/internal/stats"
)

// Cluster bootstrap settings of the counsellor report: fixed, so a report
// is reproducible, and reported beside every bootstrap interval.
const (
	BootstrapReplicates = 2000
	BootstrapSeed       = 20261130
)

// CounsellorQuery selects a counsellor report: one session per dyad (as in
// AgreementQuery), one scale (default total) and the confidence level.
type CounsellorQuery struct {
	Session string
	Scale   string
	Conf    *float64
}

// CounsellorSummary is one counsellor's dyads at the selected session: the
// mean client score, counsellor score and client − counsellor difference
// (t intervals clipped to the metric's range), and the share of dyads
// where the client rates higher (difference > 0; Wilson interval).
type CounsellorSummary struct {
	Code         string
	NDyads       int
	Client       Estimate
	Counsellor   Estimate
	Difference   Estimate
	ClientHigher Estimate
}

// VarianceSplit is the random-intercept decomposition of one score into
// a counsellor and a dyad level (stats.RandomIntercept: exact one-way
// ANOVA when balanced, REML otherwise, as lme4 fits it).
type VarianceSplit struct {
	Score string // "client", "counsellor" or "difference"
	Fit   Figure[RandomEffects]
}

// ClusteredAgreement puts the naive study-level figures of a scale beside
// their cluster-robust counterparts: the mean difference with the CR1
// sandwich interval, Pearson's r and Lin's CCC with cluster-bootstrap
// percentile intervals (BootstrapReplicates replicates, BootstrapSeed).
type ClusteredAgreement struct {
	Clusters         int
	MeanDifference   MeanDifference
	Pearson          Figure[Correlation]
	PearsonBootstrap Figure[BootstrapCI]
	CCC              Figure[CCCResult]
	CCCBootstrap     Figure[BootstrapCI]
}

// CounsellorAgreement is the report on dyads nested in counsellors.
type CounsellorAgreement struct {
	Study       Study
	Selector    SessionSelector
	Scale       string
	Conf        float64
	NPairs      int
	NIncomplete int
	Counsellors []CounsellorSummary
	Variance    []VarianceSplit
	Clustered   ClusteredAgreement
	Warnings    []Warning
}

// CounsellorAgreement summarises a study's complete dyads at one session
// per counsellor and splits the variance of the client score, the
// counsellor score and their difference into counsellor and dyad levels.
// Counsellor codes are shown; client codes are not.
func (s *Service) CounsellorAgreement(ctx context.Context, studyID string, q CounsellorQuery) (CounsellorAgreement, error) {
	sc, err := s.parseScope(ctx, studyID, q.Session, q.Conf, q.Scale, nil, s.studyForm)
	if err != nil {
		return CounsellorAgreement{}, err
	}
	sel, conf, scale, f := sc.sel, sc.conf, sc.scale, sc.form
	tf, err := s.FindForm(ctx, sc.study.Forms[RoleCounsellor])
	if err != nil {
		return CounsellorAgreement{}, err
	}
	pairs, err := s.studyPairs(ctx, studyID, sel)
	if err != nil {
		return CounsellorAgreement{}, err
	}
	sp := collectScale(scale, f, tf, pairs)
	out := CounsellorAgreement{Study: sc.study, Selector: sel, Scale: scale, Conf: conf, NPairs: len(sp.c), NIncomplete: sp.nIncomplete}
	d := make([]float64, len(sp.c))
	for i := range d {
		d[i] = sp.c[i] - sp.t[i]
	}
	lo, hi := f.Scale.Min, f.Scale.Max
	w := warnings{}
	if out.Counsellors, err = perCounsellor(sp, d, conf, lo, hi, &w); err != nil {
		return out, err
	}
	for _, y := range []struct {
		name string
		v    []float64
	}{{"client", sp.c}, {"counsellor", sp.t}, {"difference", d}} {
		fit, err := figureOf(stats.RandomIntercept(sp.counsellors, y.v, conf))
		if err != nil {
			return out, fmt.Errorf("variance of the %s score: %w", y.name, err)
		}
		out.Variance = append(out.Variance, VarianceSplit{Score: y.name, Fit: fit})
	}
	if out.Clustered, err = clustered(sp, d, conf); err != nil {
		return out, err
	}
	w.smallN(scale, "pairs of scale scores", out.NPairs, false)
	w.fewClusters(scale, out.Clustered.Clusters)
	out.Warnings = w
	return out, nil
}

// perCounsellor summarises each counsellor's pairs, counsellors in code
// order.
func perCounsellor(sp scalePairs, d []float64, conf, lo, hi float64, w *warnings) ([]CounsellorSummary, error) {
	idx := map[string][]int{}
	for i, c := range sp.counsellors {
		idx[c] = append(idx[c], i)
	}
	codes := make([]string, 0, len(idx))
	for c := range idx {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	out := make([]CounsellorSummary, 0, len(codes))
	var small, clipped []string
	pick := func(x []float64, is []int) []float64 {
		out := make([]float64, len(is))
		for k, i := range is {
			out[k] = x[i]
		}
		return out
	}
	for _, code := range codes {
		is := idx[code]
		cs := CounsellorSummary{Code: code, NDyads: len(is)}
		higher := 0
		for _, i := range is {
			if d[i] > bandTolerance {
				higher++
			}
		}
		var errs [4]error
		cs.Client, errs[0] = meanEstimate(pick(sp.c, is), conf, lo, hi)
		cs.Counsellor, errs[1] = meanEstimate(pick(sp.t, is), conf, lo, hi)
		cs.Difference, errs[2] = meanEstimate(pick(d, is), conf, lo-hi, hi-lo)
		cs.ClientHigher, errs[3] = shareEstimate(higher, len(is), conf)
		if err := errors.Join(errs[:]...); err != nil {
			// Not the code: an error may reach the log.
			return nil, fmt.Errorf("counsellor summary: %w", err)
		}
		if len(is) < MinNInterval {
			small = append(small, code)
		}
		if cs.Client.Clipped || cs.Counsellor.Clipped || cs.Difference.Clipped {
			clipped = append(clipped, code)
		}
		out = append(out, cs)
	}
	if len(small) > 0 {
		w.add(WarnSmallN, "", "%d counsellors have fewer than %d dyads, so their intervals are null: %s", len(small), MinNInterval, joinCodes(small))
	}
	if len(clipped) > 0 {
		w.add(WarnCIClipped, "", "intervals of the mean truncated to the scale's range for counsellors %s", joinCodes(clipped))
	}
	return out, nil
}

func joinCodes(codes []string) string {
	const show = 10
	if len(codes) > show {
		return fmt.Sprintf("%s and %d more", joinCodes(codes[:show]), len(codes)-show)
	}
	s := ""
	for i, c := range codes {
		if i > 0 {
			s += ", "
		}
		s += c
	}
	return s
}

// clustered computes the study-level figures of a scale naively and with
// counsellors as clusters.
func clustered(sp scalePairs, d []float64, conf float64) (ClusteredAgreement, error) {
	out := ClusteredAgreement{}
	var errs [5]error
	out.MeanDifference, errs[0] = meanDifference(sp.counsellors, d, conf)
	out.Clusters = out.MeanDifference.Clusters
	out.Pearson, errs[1] = correlation(stats.Pearson(sp.c, sp.t, conf))
	out.CCC, errs[2] = figureOf(stats.CCC(sp.t, sp.c, conf))
	if v := out.CCC.Value; v != nil && v.Lower == nil {
		out.CCC.CIReason = stats.ReasonUndefined
	}
	boot := func(f func([]string, []float64, []float64, int, float64, uint64) (BootstrapCI, error)) (Figure[BootstrapCI], error) {
		if out.Clusters < MinNInterval {
			return Figure[BootstrapCI]{Reason: stats.ReasonNTooSmall}, nil
		}
		return figureOf(f(sp.counsellors, sp.c, sp.t, BootstrapReplicates, conf, BootstrapSeed))
	}
	out.PearsonBootstrap, errs[3] = boot(stats.ClusterBootstrapPearson[string])
	// CCC with counsellor as x and client as y, as everywhere else.
	out.CCCBootstrap, errs[4] = boot(func(g []string, c, t []float64, b int, conf float64, seed uint64) (BootstrapCI, error) {
		return stats.ClusterBootstrapCCC(g, t, c, b, conf, seed)
	})
	return out, errors.Join(errs[:]...)
}
