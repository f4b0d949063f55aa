package api

import "testing"

// Text a spreadsheet would run as a formula is defused; numbers and
// ordinary text are written as they are.
func TestCSVField(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{nil, ""},
		{"C-017", "C-017"},
		{"=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"},
		{"+1", "'+1"},
		{"-1+2", "'-1+2"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{4.5, "4.5"},
		{-0.25, "-0.25"},
		{1e-7, "0.0000001"},
		{12, "12"},
		{true, "TRUE"},
		{false, "FALSE"},
	}
	for _, tt := range tests {
		if got := csvField(tt.in); got != tt.want {
			t.Errorf("csvField(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestLimiterEvictsLeastRecentlyUsed: past its bound the limiter forgets
// the least recently used bucket, not every bucket. Before, it cleared
// them all, which also refilled the bucket of a credential still writing.
func TestLimiterEvictsLeastRecentlyUsed(t *testing.T) {
	l := newLimitersOf(RateLimits{PerCredential: 0.001, Burst: 1}, 3)
	if _, limited := l.allow("busy", ""); limited {
		t.Fatal("the first write was limited")
	}
	for _, other := range []string{"a", "b", "c", "d", "e"} {
		if _, limited := l.allow("busy", ""); !limited {
			t.Fatalf("a credential past its burst was let through after %q wrote", other)
		}
		l.allow(other, "")
	}
	if l.buckets.Len() > 3 {
		t.Errorf("%d buckets kept, want at most 3", l.buckets.Len())
	}
}
