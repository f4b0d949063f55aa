package stats

import "math"

// ICCForm is one intraclass correlation with its F test and confidence
// interval, as one row of psych::ICC(x, lmer = FALSE)$results.
type ICCForm struct {
	Type         string   `json:"type"`          // psych: ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k
	Name         string   `json:"name"`          // McGraw & Wong (1996): ICC(1), ICC(A,1), ICC(C,1), ICC(k), ICC(A,k), ICC(C,k)
	ShroutFleiss string   `json:"shrout_fleiss"` // Shrout & Fleiss (1979): ICC(1,1) … ICC(3,k)
	Value        float64  `json:"value"`
	F            *float64 `json:"f"` // nil when the error mean square is 0 (F infinite; P is then 0)
	DF1          float64  `json:"df1"`
	DF2          float64  `json:"df2"`
	P            *float64 `json:"p"`
	Lower        *float64 `json:"lower"`
	Upper        *float64 `json:"upper"`
}

// ICCTable holds the two-way ANOVA mean squares and the six ICC forms.
type ICCTable struct {
	N     int       `json:"n"`   // targets (rows)
	K     int       `json:"k"`   // raters (columns)
	MSR   float64   `json:"msr"` // between targets (psych MSB)
	MSC   float64   `json:"msc"` // between raters (psych MSJ)
	MSE   float64   `json:"mse"` // residual
	MSW   float64   `json:"msw"` // within targets, (SSC+SSE)/(n(k−1))
	Forms []ICCForm `json:"forms"`
}

// ICC computes the Shrout & Fleiss / McGraw & Wong intraclass correlations of
// x (rows = targets, columns = raters, complete data) exactly as
// psych::ICC(x, lmer = FALSE, alpha = 1 − conf): F tests are upper-tail,
// single/average-measure CIs for ICC1 and ICC3 come from the exact F
// quantiles, and ICC2/ICC2k use psych's Satterthwaite-type approximation
// (McGraw & Wong 1996, Table 7) with non-integer denominator df v.
//
// Negative estimates are returned as is. No variance between targets
// (MSR = 0, including all-identical ratings) is Undefined{zero_variance};
// n < 2 or k < 2 is Undefined{n_too_small}; ragged rows are
// Undefined{mismatched_lengths}.
func ICC(x [][]float64, conf float64) (ICCTable, error) {
	if err := checkConf(conf); err != nil {
		return ICCTable{}, err
	}
	n := len(x)
	if n == 0 {
		return ICCTable{}, undefined(ReasonNTooSmall)
	}
	k := len(x[0])
	for _, row := range x {
		if len(row) != k {
			return ICCTable{}, undefined(ReasonMismatchedLengths)
		}
		if err := checkFinite(row); err != nil {
			return ICCTable{}, err
		}
	}
	if n < 2 || k < 2 {
		return ICCTable{}, undefined(ReasonNTooSmall)
	}

	nf, kf := float64(n), float64(k)
	var grand float64
	rowMean, colMean := make([]float64, n), make([]float64, k)
	for i, row := range x {
		for j, v := range row {
			rowMean[i] += v
			colMean[j] += v
			grand += v
		}
	}
	grand /= nf * kf
	for i := range rowMean {
		rowMean[i] /= kf
	}
	for j := range colMean {
		colMean[j] /= nf
	}
	if constant(rowMean) {
		return ICCTable{}, undefined(ReasonZeroVariance)
	}
	var ssr, ssc, sse float64
	for _, m := range rowMean {
		ssr += kf * (m - grand) * (m - grand)
	}
	for _, m := range colMean {
		ssc += nf * (m - grand) * (m - grand)
	}
	// Residuals directly (not SST − SSR − SSC) to avoid cancellation.
	for i, row := range x {
		for j, v := range row {
			e := v - rowMean[i] - colMean[j] + grand
			sse += e * e
		}
	}
	msr, msc := ssr/(nf-1), ssc/(kf-1)
	mse, msw := sse/((nf-1)*(kf-1)), (ssc+sse)/(nf*(kf-1))
	if !finite(msr, msc, mse, msw) {
		return ICCTable{}, undefined(ReasonUndefined)
	}

	alpha := 1 - conf
	icc1 := (msr - msw) / (msr + (kf-1)*msw)
	icc2 := (msr - mse) / (msr + (kf-1)*mse + kf*(msc-mse)/nf)
	icc3 := (msr - mse) / (msr + (kf-1)*mse)
	icc1k := (msr - msw) / msr
	icc2k := (msr - mse) / (msr + (msc-mse)/nf)
	icc3k := (msr - mse) / msr
	if !finite(icc1, icc2, icc3, icc1k, icc2k, icc3k) {
		return ICCTable{}, undefined(ReasonUndefined)
	}

	// One-way (ICC1) and two-way consistency (ICC3) F tests and CIs.
	f11, df11n, df11d := msr/msw, nf-1, nf*(kf-1)
	f21, df21n, df21d := msr/mse, nf-1, (nf-1)*(kf-1)
	p11, p21 := fUpper(f11, df11n, df11d), fUpper(f21, df21n, df21d)
	f1L := f11 / qF(1-alpha/2, df11n, df11d)
	f1U := f11 * qF(1-alpha/2, df11d, df11n)
	f3L := f21 / qF(1-alpha/2, df21n, df21d)
	f3U := f21 * qF(1-alpha/2, df21d, df21n)

	// ICC2: psych's approximate df for the absolute-agreement interval.
	// Without error variance (the raters differ by a constant, or not at
	// all) F_j = MSC/MSE is infinite and v tends to k − 1, the limit
	// psych's figures approach as MSE goes to 0.
	v := kf - 1
	if mse > 0 {
		fj := msc / mse
		vn := (kf - 1) * (nf - 1) * sq(kf*icc2*fj+nf*(1+(kf-1)*icc2)-kf*icc2)
		vd := (nf-1)*kf*kf*icc2*icc2*fj*fj + sq(nf*(1+(kf-1)*icc2)-kf*icc2)
		v = vn / vd
	}
	fu := qF(1-alpha/2, nf-1, v)
	fl := qF(1-alpha/2, v, nf-1)
	l2 := nf * (msr - fu*mse) / (fu*(kf*msc+(kf*nf-kf-nf)*mse) + nf*msr)
	u2 := nf * (fl*msr - mse) / (kf*msc + (kf*nf-kf-nf)*mse + nf*fl*msr)

	// (F − 1)/(F + k − 1), and its limit 1 when F is infinite (no error
	// or within-target variance): the interval of a perfect agreement is
	// [1, 1], as its average-measure twin 1 − 1/F gives.
	single := func(f float64) float64 {
		if math.IsInf(f, 1) {
			return 1
		}
		return (f - 1) / (f + kf - 1)
	}
	form := func(typ, name, sf string, val, f, d1, d2, p, lo, up float64) ICCForm {
		return ICCForm{Type: typ, Name: name, ShroutFleiss: sf, Value: val,
			F: opt(f), DF1: d1, DF2: d2, P: opt(p), Lower: opt(lo), Upper: opt(up)}
	}
	forms := []ICCForm{
		form("ICC1", "ICC(1)", "ICC(1,1)", icc1, f11, df11n, df11d, p11, single(f1L), single(f1U)),
		form("ICC2", "ICC(A,1)", "ICC(2,1)", icc2, f21, df21n, df21d, p21, l2, u2),
		form("ICC3", "ICC(C,1)", "ICC(3,1)", icc3, f21, df21n, df21d, p21, single(f3L), single(f3U)),
		form("ICC1k", "ICC(k)", "ICC(1,k)", icc1k, f11, df11n, df11d, p11, 1-1/f1L, 1-1/f1U),
		form("ICC2k", "ICC(A,k)", "ICC(2,k)", icc2k, f21, df21n, df21d, p21,
			l2*kf/(1+l2*(kf-1)), u2*kf/(1+u2*(kf-1))),
		form("ICC3k", "ICC(C,k)", "ICC(3,k)", icc3k, f21, df21n, df21d, p21, 1-1/f3L, 1-1/f3U),
	}
	return ICCTable{N: n, K: k, MSR: msr, MSC: msc, MSE: mse, MSW: msw, Forms: forms}, nil
}

func sq(v float64) float64 { return v * v }
