package stats

import (
	"math"

	"gonum.org/v1/gonum/stat"
)

// AlphaResult is Cronbach's alpha as reported by psych::alpha.
type AlphaResult struct {
	N            int      `json:"n"` // complete respondents used
	K            int      `json:"k"` // items used (after dropping zero-variance items)
	Raw          float64  `json:"raw_alpha"`
	Std          float64  `json:"std_alpha"`
	FeldtLower   *float64 `json:"feldt_lower"` // psych$feldt 95% interval
	FeldtUpper   *float64 `json:"feldt_upper"`
	DroppedItems []int    `json:"dropped_items"` // 0-based columns dropped for zero variance
}

// CronbachAlpha computes coefficient alpha for items (rows = respondents,
// columns = items) as psych::alpha(items, check.keys = FALSE):
// Raw is psych's raw_alpha, k/(k−1)·(1 − tr(C)/ΣC) on the n−1 covariance
// matrix (the conventional Cronbach's alpha; use this one); Std is
// std.alpha, the same on the correlation matrix. Like psych, items with zero
// variance are dropped before computing alpha (listed in DroppedItems, not
// counted in K). No item is reversed. Feldt bounds follow psych::alpha.ci at
// 95%: 1 − (1−α)·F_{.975, .025}(n−1, (n−1)(k−1)).
//
// Rows containing NaN are treated as missing and dropped (complete cases;
// psych would use pairwise covariances instead). Fewer than 2 complete rows
// or 2 items is Undefined{n_too_small}; fewer than 2 items with variance is
// Undefined{zero_variance}.
func CronbachAlpha(items [][]float64) (AlphaResult, error) {
	if len(items) == 0 {
		return AlphaResult{}, undefined(ReasonNTooSmall)
	}
	k := len(items[0])
	cols := make([][]float64, k)
	for _, row := range items {
		if len(row) != k {
			return AlphaResult{}, undefined(ReasonMismatchedLengths)
		}
		complete := true
		for _, v := range row {
			if math.IsInf(v, 0) {
				return AlphaResult{}, invalid("infinite item response")
			}
			complete = complete && !math.IsNaN(v)
		}
		if complete {
			for j, v := range row {
				cols[j] = append(cols[j], v)
			}
		}
	}
	if k < 2 || len(cols[0]) < 2 {
		return AlphaResult{}, undefined(ReasonNTooSmall)
	}
	n := len(cols[0])
	res := AlphaResult{N: n, DroppedItems: []int{}}
	var kept [][]float64
	for j, col := range cols {
		if constant(col) {
			res.DroppedItems = append(res.DroppedItems, j)
		} else {
			kept = append(kept, col)
		}
	}
	if len(kept) < 2 {
		return AlphaResult{}, undefined(ReasonZeroVariance)
	}
	res.K = len(kept)
	total, ztotal := make([]float64, n), make([]float64, n)
	var sumVar float64
	for _, col := range kept {
		v := stat.Variance(col, nil)
		sumVar += v
		sd := math.Sqrt(v)
		for i, x := range col {
			total[i] += x
			ztotal[i] += x / sd
		}
	}
	kf := float64(res.K)
	vt, sumR := stat.Variance(total, nil), stat.Variance(ztotal, nil) // ΣC and ΣR
	if !(vt > 0) || !(sumR > 0) {
		return AlphaResult{}, undefined(ReasonUndefined)
	}
	res.Raw = (1 - sumVar/vt) * kf / (kf - 1)
	res.Std = (1 - kf/sumR) * kf / (kf - 1)
	if !finite(res.Raw, res.Std) {
		return AlphaResult{}, undefined(ReasonUndefined)
	}
	df1, df2 := float64(n-1), float64(n-1)*(kf-1)
	res.FeldtLower = opt(1 - (1-res.Raw)*qF(0.975, df1, df2))
	res.FeldtUpper = opt(1 - (1-res.Raw)*qF(0.025, df1, df2))
	return res, nil
}
