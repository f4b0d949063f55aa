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
