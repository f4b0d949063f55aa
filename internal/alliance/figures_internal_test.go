package alliance

import (
	"testing"

	"github.com/alliance-project/alliance/internal/stats"
)

// TestUndefinedIntervalIsAReason: an interval the data or the level
// cannot give is a null with its reason, as every other figure's, not an
// error that fails the report (a 500 once, for conf 1 − 1e-16).
func TestUndefinedIntervalIsAReason(t *testing.T) {
	const conf = 0.9999999999999999 // (1 + conf)/2 rounds to 1
	m, err := meanEstimate([]float64{3, 4, 5}, conf, 1, 5)
	if err != nil || m.Value == nil || *m.Value != 4 || m.Lower != nil || m.CIReason != stats.ReasonUndefined {
		t.Errorf("meanEstimate = %+v, %v; want the mean 4, no bounds, ci_reason undefined", m, err)
	}
}
