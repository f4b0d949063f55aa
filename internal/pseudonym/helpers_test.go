package pseudonym_test

import (
	"strconv"
	"testing"
)

// These helpers compute check digits independently of the package (other
// formulations of the same published algorithms), so that constructed test
// numbers do not merely repeat the code under test.

// luhnDigit is the Swedish check digit for nine digits: double every other
// digit from the left, add the digit sums, take the complement to 10.
func luhnDigit(nine string) string {
	doubled := [10]int{0, 2, 4, 6, 8, 1, 3, 5, 7, 9} // digit sum of 2d
	sum := 0
	for i, c := range nine {
		d := int(c - '0')
		if i%2 == 0 {
			d = doubled[d]
		}
		sum += d
	}
	return strconv.Itoa((10 - sum%10) % 10)
}

// norwegianControls returns the two control digits for nine digits
// DDMMYYIII, or "" when the first would be 10 (no number is issued then).
func norwegianControls(nine string) string {
	control := func(digits string, weights []int) int {
		sum := 0
		for i, c := range digits {
			sum += int(c-'0') * weights[i]
		}
		switch r := 11 - sum%11; r {
		case 11:
			return 0
		default:
			return r
		}
	}
	k1 := control(nine, []int{3, 7, 6, 1, 8, 9, 4, 5, 2})
	if k1 == 10 {
		return ""
	}
	k2 := control(nine+strconv.Itoa(k1), []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2})
	if k2 == 10 {
		return ""
	}
	return strconv.Itoa(k1) + strconv.Itoa(k2)
}

// mustNorwegian is norwegianControls for a test row that needs a number.
func mustNorwegian(t *testing.T, nine string) string {
	t.Helper()
	c := norwegianControls(nine)
	if c == "" {
		t.Fatalf("no Norwegian number starts %s", nine)
	}
	return nine + c
}

// finnishCheckChar is the check character for the nine digits DDMMYYZZZ.
func finnishCheckChar(nine string) string {
	n, err := strconv.Atoi(nine)
	if err != nil {
		panic(err)
	}
	return string("0123456789ABCDEFHJKLMNPRSTUVWXY"[n%31])
}

// wrongNorwegian returns two control digits for nine that are not the valid
// ones.
func wrongNorwegian(t *testing.T, nine string) string {
	t.Helper()
	valid := norwegianControls(nine)
	for _, c := range []string{"00", "11", "19", "91"} {
		if c != valid {
			return c
		}
	}
	t.Fatal("unreachable")
	return ""
}
