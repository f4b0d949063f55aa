package pseudonym

import (
	"strings"
	"unicode"
)

// commonTLDs are the top-level domains that end the mail addresses a clinic
// in our countries meets. Short ones that are also ordinary words or
// abbreviations in codes (it, in, is, at, be, me, us) are left out on
// purpose; no is kept because Norway's clinics use the service.
var commonTLDs = map[string]bool{
	"com": true, "net": true, "org": true, "edu": true, "gov": true, "info": true,
	"io": true, "eu": true, "nu": true, "se": true, "no": true, "dk": true,
	"fi": true, "de": true, "uk": true, "nl": true, "fr": true, "es": true,
	"pl": true, "ch": true, "ee": true,
}

// mailProviders are the domain names of large free mail services. Words that
// a study might use for something else (live, mail, proton, online) are not
// listed.
var mailProviders = map[string]bool{
	"gmail": true, "googlemail": true, "hotmail": true, "outlook": true,
	"yahoo": true, "ymail": true, "icloud": true, "aol": true, "gmx": true,
	"msn": true, "protonmail": true, "yandex": true, "telia": true,
}

// emailLike implements EmailLike.
func emailLike(t text) bool {
	if strings.IndexByte(t.s, '@') >= 0 {
		return true
	}
	lower := strings.ToLower(t.s)
	if labels := strings.Split(lower, "."); len(labels) >= 3 &&
		commonTLDs[labels[len(labels)-1]] && domainLabel(labels[len(labels)-2]) {
		return true
	}
	words := strings.FieldsFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for i := 1; i < len(words); i++ {
		if mailProviders[words[i]] && (i == len(words)-1 || commonTLDs[words[i+1]]) {
			return true
		}
	}
	return localPart(t.s)
}

// domainLabel reports whether l can be the label before the top-level domain:
// two or more of a-z, 0-9 and '-', at least one a letter. The length rule keeps
// dotted codes such as site.a.no allowed.
func domainLabel(l string) bool {
	letter := false
	for _, r := range l {
		switch {
		case 'a' <= r && r <= 'z':
			letter = true
		case '0' <= r && r <= '9', r == '-':
		default:
			return false
		}
	}
	return letter && len(l) >= 2
}

// localPart reports whether s is the firstname.lastname local part of an
// address: two or three words of two or more letters joined by '.', each
// lower case or capitalised, at least one lower case and not a name particle
// (otherwise it is a NameLike), the last allowed trailing digits. Joined by '_' or '-' the same words are
// allowed, because lower-case slugs such as demo-client are common in codes.
func localPart(s string) bool {
	labels := strings.Split(s, ".")
	if len(labels) < 2 || len(labels) > 3 {
		return false
	}
	lower := false
	for i, l := range labels {
		if i == len(labels)-1 {
			l = strings.TrimRight(l, "0123456789")
		}
		if len([]rune(l)) < 2 {
			return false
		}
		allLower := true
		for j, r := range l {
			switch {
			case unicode.IsLower(r):
			case j == 0 && unicode.IsUpper(r):
				allLower = false
			default:
				return false
			}
		}
		lower = lower || allLower && !nameParticles[l] // Anna.von.Svensson is a NameLike
	}
	return lower
}

// phoneBytes are the bytes a phone number is written with, besides a
// leading '+'.
const phoneBytes = "0123456789 ().-"

// phoneLike implements PhoneLike.
func phoneLike(t text) bool {
	for _, r := range t.runs {
		if r.len() >= 10 {
			return true
		}
	}
	if longNumber(t.s) {
		return true
	}
	for i := 0; i < len(t.s); {
		if strings.IndexByte(phoneBytes, t.s[i]) < 0 {
			i++
			continue
		}
		j := i
		for j < len(t.s) && strings.IndexByte(phoneBytes, t.s[j]) >= 0 {
			j++
		}
		if phoneSegment(t.s, i, j) {
			return true
		}
		i = j
	}
	return false
}

// longNumber reports a code made only of digits and "+-.() " with 10 or
// more digits. Decision: such a code is refused even when no check digit
// verifies, because it is a phone number, a mistyped identity number (the '+'
// of a Swedish centenarian included) or another register's number, and a
// study's counter never needs that many digits.
func longNumber(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		switch {
		case isDigit(s[i]):
			n++
		case strings.IndexByte("+-.() ", s[i]) < 0:
			return false
		}
	}
	return n >= 10
}

// phoneSegment judges s[start:end], a maximal run of phoneBytes.
func phoneSegment(s string, start, end int) bool {
	plus := start > 0 && s[start-1] == '+'
	whole := end == len(s) && (start == 0 || plus && start == 1)
	seg := strings.Trim(s[start:end], " -.")
	var groups []string // digit groups
	var seps []string   // what stands between consecutive groups
	marked := plus      // written the way only phone numbers are
	n := 0
	for i := 0; i < len(seg); {
		j := i
		if isDigit(seg[i]) {
			for j < len(seg) && isDigit(seg[j]) {
				j++
			}
			groups = append(groups, seg[i:j])
			n += j - i
		} else {
			for j < len(seg) && !isDigit(seg[j]) {
				j++
			}
			if len(groups) > 0 && j < len(seg) {
				seps = append(seps, seg[i:j])
			}
			marked = marked || strings.ContainsAny(seg[i:j], " ()")
		}
		i = j
	}
	switch {
	case n < 7 || n > 15 || calendarDate(groups, seps):
		return false
	case marked:
		return true
	case n >= 8 && seg[0] == '0' && '1' <= seg[1] && seg[1] <= '9':
		// A trunk prefix and an area code, as in 070-123 45 67; zero-padded
		// study numbers (0012-0034) start with 00 instead.
		return true
	case northAmerican(groups, seps):
		return true
	case whole && len(groups) == 1 && n >= 8:
		// Nordic numbers are 8 digits with no prefix: 91234567.
		return true
	}
	return false
}

// northAmerican reports the 3-3-4 grouping (1-3-3-4 with the country code)
// with one '-' or '.' throughout and an area code starting 2-9.
func northAmerican(groups, seps []string) bool {
	if len(groups) == 4 && groups[0] == "1" {
		groups, seps = groups[1:], seps[1:]
	}
	if len(groups) != 3 || len(groups[0]) != 3 || len(groups[1]) != 3 || len(groups[2]) != 4 || groups[0][0] < '2' {
		return false
	}
	for _, sep := range seps {
		if sep != seps[0] || (sep != "-" && sep != ".") {
			return false
		}
	}
	return true
}

// calendarDate reports YYYY-MM-DD or DD-MM-YYYY (with '-' or '.' throughout),
// which are written like numbers but are not phone numbers.
func calendarDate(groups, seps []string) bool {
	if len(groups) != 3 || seps[0] != seps[1] || (seps[0] != "-" && seps[0] != ".") {
		return false
	}
	switch {
	case len(groups[0]) == 4 && len(groups[1]) == 2 && len(groups[2]) == 2:
		return validDate(num(groups[0]), num(groups[1]), num(groups[2]))
	case len(groups[0]) == 2 && len(groups[1]) == 2 && len(groups[2]) == 4:
		return validDate(num(groups[2]), num(groups[1]), num(groups[0]))
	}
	return false
}
