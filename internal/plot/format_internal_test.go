package plot

import (
	"slices"
	"testing"

	"gonum.org/v1/plot/vg"
)

func TestNumberFormats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v          float64
		num, fixed string
	}{
		{0, "0", "0.00"},
		{-0.0001, "0", "0.00"},
		{1, "1", "1.00"},
		{-0.45, "−0.45", "−0.45"},
		{2.5, "2.5", "2.50"},
		{1234.5, "1,234.5", "1,234.50"},
		{-3227166.56, "−3,227,167", "−3,227,167"},
		{1e6, "1,000,000", "1,000,000"},
	}
	for _, tt := range tests {
		if got := num(tt.v); got != tt.num {
			t.Errorf("num(%v) = %q, want %q", tt.v, got, tt.num)
		}
		if got := fix2(tt.v); got != tt.fixed {
			t.Errorf("fix2(%v) = %q, want %q", tt.v, got, tt.fixed)
		}
	}
	if got := count(10000); got != "10,000" {
		t.Errorf("count(10000) = %q, want 10,000", got)
	}
	if got := signed(-0.59); got != " − 0.59" {
		t.Errorf("signed(-0.59) = %q", got)
	}
}

func TestNiceTicks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lo, hi float64
		want   []string
	}{
		{1, 5, []string{"1", "2", "3", "4", "5"}},
		{-1.2, 1.6, []string{"−1.0", "−0.5", "0.0", "0.5", "1.0", "1.5"}},
		{0, 1e-9, []string{"0.0000000000", "0.0000000002", "0.0000000004", "0.0000000006", "0.0000000008", "0.0000000010"}},
		{-1e6, 1e6, []string{"−1,000,000", "−500,000", "0", "500,000", "1,000,000"}},
	}
	for _, tt := range tests {
		var got []string
		for _, tk := range (niceTicks{}).Ticks(tt.lo, tt.hi) {
			got = append(got, tk.Label)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("niceTicks(%v, %v) = %q, want %q", tt.lo, tt.hi, got, tt.want)
		}
	}
}

func TestSpread(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ys      []vg.Length
		gap, hi vg.Length
		want    []vg.Length
	}{
		{"apart already", []vg.Length{100, 50, 10}, 10, 200, []vg.Length{100, 50, 10}},
		{"coinciding keep top-to-bottom order", []vg.Length{50, 50, 50}, 10, 200, []vg.Length{70, 60, 50}},
		{"pushed below the top", []vg.Length{200, 200}, 10, 200, []vg.Length{200, 190}},
	}
	for _, tt := range tests {
		if got := spread(tt.ys, tt.gap, tt.hi); !slices.Equal(got, tt.want) {
			t.Errorf("%s: spread(%v) = %v, want %v", tt.name, tt.ys, got, tt.want)
		}
	}
}
