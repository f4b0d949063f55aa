package stats_test

import (
	"math"
	"reflect"
	"testing"

	"github.com/alliance-project/alliance/internal/stats"
)

func TestAlphaPairwiseFixtures(t *testing.T) {
	var f struct {
		AlphaPairwise []struct {
			Name       string
			X          [][]*float64
			N, K       int
			MinPairN   int `json:"min_pair_n"`
			Dropped    []float64
			RawAlpha   float64  `json:"raw_alpha"`
			StdAlpha   float64  `json:"std_alpha"`
			FeldtLower *float64 `json:"feldt_lower"`
			FeldtUpper *float64 `json:"feldt_upper"`
			Feldt90    feldt90
		} `json:"alpha_pairwise"`
	}
	loadJSON(t, "testdata/fixtures.json", &f)
	if len(f.AlphaPairwise) == 0 {
		t.Fatal("no fixtures")
	}
	for _, c := range f.AlphaPairwise {
		t.Run(c.Name, func(t *testing.T) {
			got, err := stats.CronbachAlphaPairwise(withNaN(c.X))
			if err != nil {
				t.Fatal(err)
			}
			if got.Method != stats.AlphaPairwise || got.N != c.N || got.K != c.K || got.MinPairN != c.MinPairN {
				t.Errorf("method, N, K, min pair n = %q, %d, %d, %d; want pairwise, %d, %d, %d",
					got.Method, got.N, got.K, got.MinPairN, c.N, c.K, c.MinPairN)
			}
			if want := ints(c.Dropped); !reflect.DeepEqual(got.DroppedItems, want) {
				t.Errorf("dropped = %v, want %v", got.DroppedItems, want)
			}
			approxEqual(t, "raw_alpha", got.Raw, c.RawAlpha, fixTol)
			approxEqual(t, "std.alpha", got.Std, c.StdAlpha, fixTol)
			approxPtr(t, "feldt lower", got.FeldtLower, c.FeldtLower, fixTol)
			approxPtr(t, "feldt upper", got.FeldtUpper, c.FeldtUpper, fixTol)
			c.Feldt90.check(t, got)
		})
	}
}

func TestAlphaPairwiseCompleteData(t *testing.T) {
	// Without missing answers pairwise and listwise are the same psych::alpha.
	for _, c := range loadFixtures(t).Alpha {
		t.Run(c.Name, func(t *testing.T) {
			got, err := stats.CronbachAlphaPairwise(c.X)
			if err != nil {
				t.Fatal(err)
			}
			if got.N != c.N || got.K != c.K || got.MinPairN != c.N {
				t.Errorf("N, K, min pair n = %d, %d, %d; want %d, %d, %d", got.N, got.K, got.MinPairN, c.N, c.K, c.N)
			}
			approxEqual(t, "raw", got.Raw, c.RawAlpha, fixTol)
			approxEqual(t, "std", got.Std, c.StdAlpha, fixTol)
			approxPtr(t, "feldt lower", got.FeldtLower, c.FeldtLower, fixTol)
			lw, _ := stats.CronbachAlphaListwise(c.X)
			if lw.Method != stats.AlphaListwise || lw.MinPairN != lw.N {
				t.Errorf("listwise: %+v", lw)
			}
		})
	}
}

func TestAlphaMissingEdges(t *testing.T) {
	N := math.NaN()
	tests := []struct {
		name string
		fn   func([][]float64) (stats.AlphaResult, error)
		x    [][]float64
		want string
	}{
		{"pairwise 2 respondents", stats.CronbachAlphaPairwise, [][]float64{{1, 2}, {2, 3}, {N, N}}, stats.ReasonNTooSmall},
		{"listwise 2 complete rows", stats.CronbachAlphaListwise, [][]float64{{1, 2}, {2, 3}, {3, N}}, stats.ReasonNTooSmall},
		{"CronbachAlpha 2 rows", stats.CronbachAlpha, [][]float64{{1, 2}, {2, 4}}, stats.ReasonNTooSmall},
		{"pairwise no common respondents", stats.CronbachAlphaPairwise, [][]float64{{1, N, 2}, {2, N, 3}, {N, 1, 4}, {N, 3, 5}}, stats.ReasonNTooSmall},
		{"pairwise one item", stats.CronbachAlphaPairwise, [][]float64{{1}, {2}, {3}}, stats.ReasonNTooSmall},
		{"pairwise ragged", stats.CronbachAlphaPairwise, [][]float64{{1, 2}, {2}}, stats.ReasonMismatchedLengths},
		{"pairwise flat items", stats.CronbachAlphaPairwise, [][]float64{{1, 3, 1}, {1, 3, 2}, {N, 3, 3}}, stats.ReasonZeroVariance},
		{"pairwise Inf", stats.CronbachAlphaPairwise, [][]float64{{1, 2}, {2, math.Inf(1)}, {3, 3}}, "invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.fn(tc.x)
			checkReason(t, err, tc.want)
		})
	}
	t.Run("pairwise ignores unanswered rows", func(t *testing.T) {
		x := [][]float64{{1, 2, 2}, {2, N, 3}, {3, 3, N}, {4, 5, 4}, {2, 2, 3}}
		a, err := stats.CronbachAlphaPairwise(x)
		if err != nil {
			t.Fatal(err)
		}
		b, err := stats.CronbachAlphaPairwise(append(x, []float64{N, N, N}))
		if err != nil {
			t.Fatal(err)
		}
		if a.Raw != b.Raw || a.Std != b.Std || a.N != 5 || b.N != 5 || a.MinPairN != 3 || b.MinPairN != 3 {
			t.Errorf("%+v vs %+v", a, b)
		}
	})
}
