package stats

import (
	"encoding/json"
	"math"
	"os"
	"sort"
	"testing"
)

func TestQuantile7(t *testing.T) {
	b, err := os.ReadFile("testdata/fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Quantile7 struct{ X, P, Q []float64 }
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	x := append([]float64(nil), f.Quantile7.X...)
	sort.Float64s(x)
	for i, p := range f.Quantile7.P {
		if got, want := quantile7(x, p), f.Quantile7.Q[i]; math.Abs(got-want) > 1e-12 {
			t.Errorf("quantile7(%v) = %v, want %v (R type 7)", p, got, want)
		}
	}
}
