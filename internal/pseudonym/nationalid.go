package pseudonym

import "strings"

// swedishPersonalNumber implements SwedishPersonalNumber.
func swedishPersonalNumber(t text) bool {
	for i, r := range t.runs {
		switch r.len() {
		case 10, 12:
			if validSwedish(t.at(r)) {
				return true
			}
		case 6, 8:
			// '+' marks someone aged 100 or more in the 10-digit form.
			if next, _, ok := t.joined(i, "-+ "); ok && next.len() == 4 && validSwedish(t.at(r)+t.at(next)) {
				return true
			}
		}
	}
	return false
}

// validSwedish checks 10 or 12 digits as a personnummer or samordningsnummer.
func validSwedish(d string) bool {
	year := -1
	if len(d) == 12 {
		if c := num(d[:2]); c < 18 || c > 20 {
			return false
		}
		year, d = num(d[:4]), d[2:]
	}
	if year < 0 {
		year = num(d[:2])
	}
	month, day := num(d[2:4]), num(d[4:6])
	if day > 60 { // samordningsnummer
		day -= 60
	}
	return validDate(year, month, day) && luhn(d)
}

// luhn reports whether the last of the digits is the Luhn check digit of the
// others (weights 2, 1, 2, ... from the left for Sweden's nine digits).
func luhn(d string) bool {
	sum := 0
	for i := 0; i < len(d)-1; i++ {
		v := int(d[i]-'0') * (2 - i%2)
		sum += v/10 + v%10
	}
	return (10-sum%10)%10 == int(d[len(d)-1]-'0')
}

// norwegianNationalID implements NorwegianNationalID.
func norwegianNationalID(t text) bool {
	for i, r := range t.runs {
		switch r.len() {
		case 11:
			if validNorwegian(t.at(r)) {
				return true
			}
		case 6:
			if next, _, ok := t.joined(i, "- "); ok && next.len() == 5 && validNorwegian(t.at(r)+t.at(next)) {
				return true
			}
		}
	}
	return false
}

var (
	norwegianK1 = [...]int{3, 7, 6, 1, 8, 9, 4, 5, 2}
	norwegianK2 = [...]int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2}
)

// validNorwegian checks 11 digits DDMMYYIIIKK.
func validNorwegian(d string) bool {
	day, month, year := num(d[0:2]), num(d[2:4]), num(d[4:6])
	if day > 40 { // D-nummer
		day -= 40
	}
	switch {
	case month > 80: // synthetic numbers of the Tax Administration's test data
		month -= 80
	case month > 40: // H-nummer
		month -= 40
	}
	return validDate(year, month, day) &&
		mod11(d, norwegianK1[:]) == int(d[9]-'0') &&
		mod11(d, norwegianK2[:]) == int(d[10]-'0')
}

// mod11 is the control digit for the leading digits of d under weights; 10
// means the number cannot be issued and matches no digit.
func mod11(d string, weights []int) int {
	sum := 0
	for i, w := range weights {
		sum += w * int(d[i]-'0')
	}
	return (11 - sum%11) % 11
}

// finnishCheck is indexed by the nine digits DDMMYYZZZ modulo 31.
const finnishCheck = "0123456789ABCDEFHJKLMNPRSTUVWXY"

// finnishCentury maps a century sign to the century; the letters B-F and
// U-Y were added in 2023.
func finnishCentury(sign byte) (int, bool) {
	switch sign {
	case '+':
		return 1800, true
	case '-', 'U', 'V', 'W', 'X', 'Y', 'u', 'v', 'w', 'x', 'y':
		return 1900, true
	case 'A', 'B', 'C', 'D', 'E', 'F', 'a', 'b', 'c', 'd', 'e', 'f':
		return 2000, true
	}
	return 0, false
}

// finnishPersonalIdentityCode implements FinnishPersonalIdentityCode.
func finnishPersonalIdentityCode(t text) bool {
	for i, r := range t.runs {
		if r.len() != 6 || i+1 >= len(t.runs) {
			continue
		}
		century, ok := finnishCentury(t.s[r.end])
		next := t.runs[i+1]
		if !ok || next.start != r.end+1 {
			continue
		}
		var individual string
		var check byte
		switch {
		case next.len() == 4: // a digit check character
			individual, check = t.s[next.start:next.start+3], t.s[next.start+3]
		case next.len() == 3 && next.end < len(t.s):
			individual, check = t.at(next), t.s[next.end]
		default:
			continue
		}
		date := t.at(r)
		if validDate(century+num(date[4:6]), num(date[2:4]), num(date[0:2])) &&
			num(individual) >= 2 &&
			strings.ToUpper(string(check)) == string(finnishCheck[num(date+individual)%31]) {
			return true
		}
	}
	return false
}

// usSocialSecurityNumber implements USSocialSecurityNumber.
func usSocialSecurityNumber(t text) bool {
	return t.chains(func(g []span, seps []byte) bool {
		if len(g) != 3 || g[0].len() != 3 || g[1].len() != 2 || g[2].len() != 4 ||
			seps[0] != seps[1] || strings.IndexByte("- .", seps[0]) < 0 {
			return false
		}
		area, group, serial := num(t.at(g[0])), num(t.at(g[1])), num(t.at(g[2]))
		return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
	})
}

// danishCPR implements DanishCPR.
func danishCPR(t text) bool {
	return t.chains(func(g []span, seps []byte) bool {
		if len(g) != 2 || g[0].len() != 6 || g[1].len() != 4 || seps[0] != '-' {
			return false
		}
		d := t.at(g[0])
		return validDate(num(d[4:6]), num(d[2:4]), num(d[0:2]))
	})
}

// validDate reports whether day and month name a day of year. A two-digit
// year is taken as leap when divisible by four, which errs towards a match
// for 29 February 1900.
func validDate(year, month, day int) bool {
	if month < 1 || month > 12 || day < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month-1]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	return day <= days
}
