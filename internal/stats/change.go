package stats

import "math"

// JacobsonTruaxZ is the critical |RCI| of Jacobson & Truax (1991).
const JacobsonTruaxZ = 1.96

// RCICriterion is the reliable-change yardstick of Jacobson & Truax (1991)
// for one instrument scale: SEM = SD·sqrt(1 − r_xx), S_diff = sqrt(2)·SEM,
// Threshold = 1.96·S_diff (the smallest change that counts as reliable).
type RCICriterion struct {
	SD          float64 `json:"sd"`          // reference SD of the scale
	Reliability float64 `json:"reliability"` // r_xx, e.g. Cronbach's alpha or test–retest r
	SEM         float64 `json:"sem"`
	SDiff       float64 `json:"s_diff"`
	Threshold   float64 `json:"threshold"`
}

// ReliableChangeCriterion computes the RCI yardstick from a reference SD
// and reliability. sd must be positive and finite and reliability in
// [0, 1] (ErrInvalidArgument); reliability 1 leaves no measurement error,
// so S_diff = 0 and is Undefined{zero_variance}.
func ReliableChangeCriterion(sd, reliability float64) (RCICriterion, error) {
	if !(sd > 0) || math.IsInf(sd, 0) {
		return RCICriterion{}, invalid("reference SD %v must be positive and finite", sd)
	}
	if !(reliability >= 0 && reliability <= 1) {
		return RCICriterion{}, invalid("reliability %v not in [0, 1]", reliability)
	}
	if reliability == 1 {
		return RCICriterion{}, undefined(ReasonZeroVariance)
	}
	sem := sd * math.Sqrt(1-reliability)
	sdiff := math.Sqrt2 * sem
	if !finite(JacobsonTruaxZ * sdiff) {
		// An SD near the float64 limit overflows the criterion; no real scale gets there.
		return RCICriterion{}, undefined(ReasonUndefined)
	}
	return RCICriterion{SD: sd, Reliability: reliability, SEM: sem, SDiff: sdiff, Threshold: JacobsonTruaxZ * sdiff}, nil
}

// ReliableChangeResult is one Jacobson–Truax reliable change index.
type ReliableChangeResult struct {
	RCICriterion
	Change   float64 `json:"change"`   // x2 − x1
	RCI      float64 `json:"rci"`      // Change/S_diff
	Reliable bool    `json:"reliable"` // |RCI| > 1.96
}

// ReliableChange is the Jacobson & Truax (1991) reliable change index
// RCI = (x2 − x1)/S_diff with S_diff = sqrt(2)·SD·sqrt(1 − r_xx); the change
// is reliable when |RCI| > 1.96, i.e. |x2 − x1| > Threshold. The sign of
// RCI is the direction of change on the scale. Errors as
// ReliableChangeCriterion; non-finite scores are ErrInvalidArgument.
func ReliableChange(x1, x2, sd, reliability float64) (ReliableChangeResult, error) {
	if !finite(x1, x2) {
		return ReliableChangeResult{}, invalid("non-finite score")
	}
	c, err := ReliableChangeCriterion(sd, reliability)
	if err != nil {
		return ReliableChangeResult{}, err
	}
	d := x2 - x1
	rci := d / c.SDiff
	if !finite(rci) {
		return ReliableChangeResult{}, undefined(ReasonUndefined)
	}
	return ReliableChangeResult{RCICriterion: c, Change: d, RCI: rci, Reliable: math.Abs(rci) > JacobsonTruaxZ}, nil
}
