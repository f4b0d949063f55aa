package stats_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/alliance-project/alliance/internal/stats"
)

func TestClusterRobustMeanFixtures(t *testing.T) {
	var f struct {
		ClusterMean []struct {
			Name             string
			Conf             float64
			G, Y             []float64
			N, Clusters      int
			Mean, SE         float64
			NaiveSE          float64 `json:"naive_se"`
			DF, Lower, Upper float64
		} `json:"cluster_mean"`
	}
	loadJSON(t, "testdata/fixtures.json", &f)
	if len(f.ClusterMean) == 0 {
		t.Fatal("no fixtures")
	}
	for _, c := range f.ClusterMean {
		t.Run(c.Name, func(t *testing.T) {
			got, err := stats.ClusterRobustMean(ints(c.G), c.Y, c.Conf)
			if err != nil {
				t.Fatal(err)
			}
			if got.N != c.N || got.Clusters != c.Clusters {
				t.Errorf("N, G = %d, %d; want %d, %d", got.N, got.Clusters, c.N, c.Clusters)
			}
			approxEqual(t, "mean", got.Mean, c.Mean, fixTol)
			approxEqual(t, "se (vcovCL HC1)", got.SE, c.SE, fixTol)
			approxEqual(t, "naive se", got.NaiveSE, c.NaiveSE, fixTol)
			approxEqual(t, "df", got.DF, c.DF, fixTol)
			approxEqual(t, "lower", got.Lower, c.Lower, fixTol)
			approxEqual(t, "upper", got.Upper, c.Upper, fixTol)
		})
	}
}

func TestClusterEdges(t *testing.T) {
	pearson := func(x, y []float64) (float64, error) { c, err := stats.Pearson(x, y, .95); return c.R, err }
	x, y := []float64{1, 2, 3, 4}, []float64{2, 1, 4, 3}
	tests := []struct {
		name string
		fn   func() error
		want string
	}{
		{"mean one cluster", func() error { _, err := stats.ClusterRobustMean([]int{1, 1, 1}, x[:3], .95); return err }, stats.ReasonNTooSmall},
		{"mean empty", func() error { _, err := stats.ClusterRobustMean([]int{}, nil, .95); return err }, stats.ReasonNTooSmall},
		{"mean mismatched", func() error { _, err := stats.ClusterRobustMean([]int{1}, x, .95); return err }, stats.ReasonMismatchedLengths},
		{"mean NaN", func() error {
			_, err := stats.ClusterRobustMean([]int{1, 2}, []float64{1, math.NaN()}, .95)
			return err
		}, "invalid"},
		{"boot one cluster", func() error {
			_, err := stats.ClusterBootstrap([]int{1, 1, 1, 1}, x, y, pearson, 10, .95, 1)
			return err
		}, stats.ReasonNTooSmall},
		{"boot B=0", func() error {
			_, err := stats.ClusterBootstrap([]int{1, 1, 2, 2}, x, y, pearson, 0, .95, 1)
			return err
		}, "invalid"},
		{"boot full-data stat undefined", func() error {
			_, err := stats.ClusterBootstrapPearson([]int{1, 1, 2, 2}, x, []float64{3, 3, 3, 3}, 10, .95, 1)
			return err
		}, stats.ReasonZeroVariance},
		{"boot mismatched", func() error { _, err := stats.ClusterBootstrapCCC([]int{1, 2}, x, y, 10, .95, 1); return err }, stats.ReasonMismatchedLengths},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkReason(t, tc.fn(), tc.want) })
	}
}

// clustered draws G clusters of m pairs: x = u_g + e, y = u_g + e' with unit
// variances, so the population correlation of x and y is 0.5 and the pairs
// within a cluster are dependent.
func clustered(rng *rand.Rand, G, m int) (g []int, x, y []float64) {
	for c := range G {
		u := rng.NormFloat64()
		for range m {
			g = append(g, c)
			x = append(x, u+rng.NormFloat64())
			y = append(y, u+rng.NormFloat64()+0.2)
		}
	}
	return g, x, y
}

func TestClusterBootstrapDeterminism(t *testing.T) {
	g, x, y := clustered(rand.New(rand.NewPCG(7, 8)), 12, 3)
	for _, fn := range []struct {
		name string
		f    func(seed uint64) (stats.BootstrapCI, error)
	}{
		{"pearson", func(s uint64) (stats.BootstrapCI, error) { return stats.ClusterBootstrapPearson(g, x, y, 500, .95, s) }},
		{"ccc", func(s uint64) (stats.BootstrapCI, error) { return stats.ClusterBootstrapCCC(g, x, y, 500, .95, s) }},
	} {
		t.Run(fn.name, func(t *testing.T) {
			a, err := fn.f(42)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := fn.f(42)
			c, _ := fn.f(43)
			if a != b {
				t.Errorf("same seed, different results: %+v vs %+v", a, b)
			}
			if a.Lower == c.Lower && a.Upper == c.Upper {
				t.Errorf("seeds 42 and 43 gave the same interval %+v", a)
			}
			if a.Seed != 42 || a.B != 500 || a.Clusters != 12 || a.N != 36 || a.Valid != 500 || a.Method != "cluster_percentile" {
				t.Errorf("bookkeeping: %+v", a)
			}
			if !(a.Lower < a.Estimate && a.Estimate < a.Upper) || a.Lower < -1 || a.Upper > 1 {
				t.Errorf("interval %v–%v around %v", a.Lower, a.Upper, a.Estimate)
			}
		})
	}
}

func TestClusterBootstrapProperties(t *testing.T) {
	t.Run("clusters of one pair: resampled pairs stay pairs", func(t *testing.T) {
		// y = 2x exactly: every resample with two distinct x has r = 1.
		x := []float64{1, 2, 3, 4, 5, 6}
		y := []float64{2, 4, 6, 8, 10, 12}
		ci, err := stats.ClusterBootstrapPearson([]string{"a", "b", "c", "d", "e", "f"}, x, y, 200, .9, 3)
		if err != nil {
			t.Fatal(err)
		}
		approxEqual(t, "lower", ci.Lower, 1, 1e-12)
		approxEqual(t, "upper", ci.Upper, 1, 1e-12)
		if ci.Valid == 0 || ci.Valid > 200 {
			t.Errorf("valid = %d", ci.Valid)
		}
	})
	t.Run("coverage of the population r", func(t *testing.T) {
		// Coverage of the population r = 0.5 by 90% intervals over repeated
		// samples of 25 clusters × 4 pairs: percentile intervals are a bit
		// narrow at this size, so ask only for ≥ 80% (nominal 90%).
		rng := rand.New(rand.NewPCG(11, 12))
		const reps = 200
		covered, coveredIID := 0, 0
		for i := range reps {
			g, x, y := clustered(rng, 25, 4)
			ci, err := stats.ClusterBootstrapPearson(g, x, y, 300, .90, uint64(i))
			if err != nil {
				t.Fatal(err)
			}
			if ci.Lower <= 0.5 && 0.5 <= ci.Upper {
				covered++
			}
			// The same bootstrap with every pair its own cluster ignores the
			// dependence and should cover less often.
			own := make([]int, len(g))
			for j := range own {
				own[j] = j
			}
			iid, err := stats.ClusterBootstrapPearson(own, x, y, 300, .90, uint64(i))
			if err != nil {
				t.Fatal(err)
			}
			if iid.Lower <= 0.5 && 0.5 <= iid.Upper {
				coveredIID++
			}
		}
		t.Logf("coverage %d/%d clustered, %d/%d pairs resampled", covered, reps, coveredIID, reps)
		if covered < reps*8/10 {
			t.Errorf("coverage %d/%d, want ≥ 80%%", covered, reps)
		}
		if coveredIID >= covered {
			t.Errorf("pair bootstrap covered %d ≥ cluster bootstrap %d", coveredIID, covered)
		}
	})
	t.Run("CR1 mean: SE grows with within-cluster dependence", func(t *testing.T) {
		// Same values, grouped into clusters of identical values vs. spread
		// across clusters: the cluster-robust SE is larger for the former.
		y := []float64{1, 1, 1, 3, 3, 3, 5, 5, 5, 7, 7, 7}
		together := []int{1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4}
		spread := []int{1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3}
		a, _ := stats.ClusterRobustMean(together, y, .95)
		b, _ := stats.ClusterRobustMean(spread, y, .95)
		if !(a.SE > a.NaiveSE && b.SE < a.SE) {
			t.Errorf("together SE %v (naive %v), spread SE %v", a.SE, a.NaiveSE, b.SE)
		}
	})
}
