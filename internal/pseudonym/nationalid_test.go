package pseudonym_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alliance-project/alliance/internal/pseudonym"
)

// realDate reports whether year-month-day exists, through time.Date's
// normalisation (a different path from the package's own table).
func realDate(year, month, day int) bool {
	d := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	return d.Year() == year && int(d.Month()) == month && d.Day() == day
}

// swedishValid checks ten digits YYMMDDNNNC as the package should; a
// two-digit year is placed in 2000-2099, which has the same leap years as
// reading 00 as leap.
func swedishValid(ten string) bool {
	v, _ := strconv.Atoi(ten[4:6])
	if v > 60 {
		v -= 60
	}
	y, _ := strconv.Atoi(ten[0:2])
	m, _ := strconv.Atoi(ten[2:4])
	return realDate(2000+y, m, v) && luhnDigit(ten[:9]) == ten[9:]
}

// finnishValid checks DDMMYY, a 1900s century sign and four digits ZZZQ.
func finnishValid(ddmmyy, zzzq string) bool {
	d, _ := strconv.Atoi(ddmmyy[0:2])
	m, _ := strconv.Atoi(ddmmyy[2:4])
	y, _ := strconv.Atoi(ddmmyy[4:6])
	z, _ := strconv.Atoi(zzzq[:3])
	return realDate(1900+y, m, d) && z >= 2 && finnishCheckChar(ddmmyy+zzzq[:3]) == zzzq[3:]
}

// randomDate is a day between 1890 and 2025.
func randomDate(rng *rand.Rand) time.Time {
	return time.Date(1890, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(136*365))
}

// check fails the test unless Identifying(code) gives want; with
// not set, it fails when Identifying gives want.
func check(t *testing.T, code string, want pseudonym.Reason) {
	t.Helper()
	got, found := pseudonym.Identifying(code)
	if got != want || found != (want != "") {
		t.Errorf("Identifying(%q) = %q, %v; want %q", code, got, found, want)
	}
}

func checkNot(t *testing.T, code string, not pseudonym.Reason) {
	t.Helper()
	if got, _ := pseudonym.Identifying(code); got == not {
		t.Errorf("Identifying(%q) = %q, want anything else", code, got)
	}
}

func TestConstructedSwedish(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 1))
	for range 2000 {
		d := randomDate(rng)
		serial := fmt.Sprintf("%03d", rng.IntN(1000))
		for _, day := range []int{d.Day(), d.Day() + 60} { // personnummer, samordningsnummer
			ymd := fmt.Sprintf("%02d%02d", int(d.Month()), day)
			short, long := d.Format("06")+ymd, d.Format("2006")+ymd
			c := luhnDigit(short + serial)
			for _, code := range []string{
				short + "-" + serial + c, short + "+" + serial + c, short + serial + c,
				long + "-" + serial + c, long + serial + c,
				"P-" + long + serial + c, "X" + long + "-" + serial + c + "Z", "KW3-" + short + "-" + serial + c,
			} {
				check(t, code, se)
			}
			wrong := strconv.Itoa((int(c[0]-'0') + 1 + rng.IntN(9)) % 10)
			check(t, long+"-"+serial+wrong, phone) // 12 digits
			check(t, "X"+long+"-"+serial+wrong, "")
			checkNot(t, "X"+short+"-"+serial+wrong, se)
		}
	}
}

func TestConstructedNorwegian(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(2, 2))
	for n := 0; n < 2000; {
		d := randomDate(rng)
		individual := fmt.Sprintf("%03d", rng.IntN(1000))
		kind := []struct{ day, month int }{{0, 0}, {40, 0}, {0, 40}, {0, 80}}[rng.IntN(4)]
		nine := fmt.Sprintf("%02d%02d%s%s", d.Day()+kind.day, int(d.Month())+kind.month, d.Format("06"), individual)
		controls := norwegianControls(nine)
		if controls == "" {
			continue // no number is issued with this start
		}
		n++
		for _, code := range []string{
			nine + controls, nine[:6] + " " + nine[6:] + controls, nine[:6] + "-" + nine[6:] + controls,
			"N-" + nine + controls, "X" + nine[:6] + "-" + nine[6:] + controls + "Z",
		} {
			check(t, code, no)
		}
		wrong := controls[:1] + strconv.Itoa((int(controls[1]-'0')+1+rng.IntN(9))%10)
		check(t, nine+wrong, phone) // 11 digits
		checkNot(t, "X"+nine[:6]+"-"+nine[6:]+wrong, no)
	}
}

func TestConstructedFinnish(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 3))
	signs := map[int]string{1800: "+", 1900: "-UVWXY", 2000: "ABCDEF"}
	for range 3000 {
		d := time.Date(1850, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(176*365))
		century := d.Year() / 100 * 100
		sign := string(signs[century][rng.IntN(len(signs[century]))])
		ddmmyy := d.Format("020106")
		individual := fmt.Sprintf("%03d", 2+rng.IntN(998))
		q := finnishCheckChar(ddmmyy + individual)
		code := ddmmyy + sign + individual + q
		want := fi
		if strings.Contains("-+", sign) && q[0] <= '9' && swedishValid(ddmmyy+individual+q) {
			want = se // the same 6-4 digits also verify as Swedish, which goes first
		}
		for _, c := range []string{code, strings.ToLower(code), "P" + code, "P-" + code + "-01"} {
			check(t, c, want)
		}
		for _, wrong := range []string{"G", "Z", "I", strconv.Itoa(rng.IntN(10)), "A"} {
			if wrong != q {
				checkNot(t, "P"+ddmmyy+sign+individual+wrong, fi)
			}
		}
	}
}

func TestConstructedDanish(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(4, 4))
	for range 2000 {
		d := randomDate(rng)
		ddmmyy, serial := d.Format("020106"), fmt.Sprintf("%04d", rng.IntN(10000))
		want := dk
		switch {
		case swedishValid(ddmmyy + serial):
			want = se
		case finnishValid(ddmmyy, serial):
			want = fi
		}
		check(t, ddmmyy+"-"+serial, want)
		check(t, "X-"+ddmmyy+"-"+serial, want)
		check(t, ddmmyy+serial, map[bool]pseudonym.Reason{true: se, false: phone}[want == se])

		// Impossible dates: day 32-99 or month 13-99.
		bad := fmt.Sprintf("%02d%02d%s", 32+rng.IntN(68), int(d.Month()), d.Format("06"))
		if rng.IntN(2) == 0 {
			bad = fmt.Sprintf("%02d%02d%s", d.Day(), 13+rng.IntN(87), d.Format("06"))
		}
		checkNot(t, "X-"+bad+"-"+serial, dk)
	}
}

func TestConstructedSSN(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 5))
	for range 2000 {
		area, group, serial := 1+rng.IntN(899), 1+rng.IntN(99), 1+rng.IntN(9999)
		if area == 666 {
			continue
		}
		for _, sep := range []string{"-", " ", "."} {
			code := fmt.Sprintf("%03d%s%02d%s%04d", area, sep, group, sep, serial)
			check(t, code, ssn)
			check(t, "X"+code, ssn)
		}
		switch rng.IntN(5) {
		case 0:
			area = 0
		case 1:
			area = 666
		case 2:
			area = 900 + rng.IntN(100)
		case 3:
			group = 0
		case 4:
			serial = 0
		}
		checkNot(t, fmt.Sprintf("%03d-%02d-%04d", area, group, serial), ssn)
	}
}

// TestStudyCodeFamilies runs the code shapes studies use, with many
// counters, through Identifying: none may be refused.
func TestStudyCodeFamilies(t *testing.T) {
	t.Parallel()
	prefixes := []string{"", "C", "K", "P", "C-", "K-", "P-", "ST", "DEMO-C", "DEMO-K", "KW3-CLIENT-",
		"ward3-c", "c_", "S01-P", "SITE-", "A", "CL.", "kw-2026-", "T2-"}
	middles := []string{"", "2024-", "2026-", "24-", "03-", "001-"}
	var counters []string
	for _, n := range []int{0, 1, 3, 7, 12, 17, 42, 99, 100, 123, 500, 999, 1000, 1234, 5678, 9999} {
		for width := 1; width <= 4; width++ {
			if s := fmt.Sprintf("%0*d", width, n); len(s) == width {
				counters = append(counters, s)
			}
		}
	}
	for _, p := range prefixes {
		for _, m := range middles {
			for _, c := range counters {
				check(t, p+m+c, "")
			}
		}
	}
}
