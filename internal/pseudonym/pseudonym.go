// Package pseudonym tells whether a proposed participant code looks like it
// identifies a person, so that the service can refuse it before it is stored.
//
// Participant codes (client_code, counsellor_code) are the only link between
// a dyad's ratings and a person, and they are meant to mean nothing outside
// the clinic's own key list. Under time pressure clinics type what they have
// at hand instead: a personal identity number, a phone number, an e-mail
// address, a name. Identifying recognises those written forms. It cannot
// recognise a code that identifies someone only through the clinic's own
// records, and it does not try to.
//
// The rules are syntactic and use the standard library only, so the same code
// gets the same answer on every node and in every release until a rule is
// changed on purpose. Each Reason constant documents exactly what triggers it.
// The rules lean towards refusing: a refused code costs the clinic a retype,
// an accepted identity number cannot be taken back out of backups and exports.
//
// Check codes after the service's own character rules; Identifying reads
// ASCII digits and folds only full-width forms and Unicode dashes and spaces,
// so digits of other scripts are not read as digits.
package pseudonym

import (
	"strings"
	"unicode"
)

// Reason names the kind of personal data a code looks like. The values are
// stable: the API shows them to clients with looks_identifying.
//
// Where a code matches several rules, the first in the order below is
// reported: identity numbers whose check digits verify come first because
// they are the strongest evidence and the most useful thing to tell a clinic.
type Reason string

// The reasons, in the order Identifying tries them. A "digit group" is a
// maximal run of ASCII digits; identity numbers are found wherever such groups
// occur in the code, so "P-811218-9876" and "X19121212-1212" are caught as
// well as the bare numbers.
const (
	// SwedishPersonalNumber: a personnummer or samordningsnummer. A digit
	// group of 10 (YYMMDDNNNC) or 12 (CCYYMMDDNNNC, century 18-20) digits, or
	// a group of 6 or 8 followed by one '-', '+' or ' ' and a group of 4; the
	// date is a real calendar date, with 60 added to the day for a
	// samordningsnummer; and the Luhn check digit over the 10-digit form
	// verifies.
	SwedishPersonalNumber Reason = "swedish_personal_number"

	// NorwegianNationalID: a fødselsnummer, D-nummer (day + 40), H-nummer
	// (month + 40) or synthetic test number (month + 80). A digit group of 11,
	// or a group of 6 followed by one '-' or ' ' and a group of 5; a real date
	// once the offsets are removed; and both mod-11 control digits verify.
	NorwegianNationalID Reason = "norwegian_national_id"

	// FinnishPersonalIdentityCode: a henkilötunnus DDMMYYCZZZQ. A digit group
	// of 6, the century sign right after it ('+', '-', 'A'-'F', 'U'-'Y', any
	// case), then 3 digits and the check character; a real date in that
	// century, an individual number 002-999, and the mod-31 check character
	// verifies.
	FinnishPersonalIdentityCode Reason = "finnish_personal_identity_code"

	// USSocialSecurityNumber: the AAA-GG-SSSS shape. Three digit groups of 3,
	// 2 and 4 digits joined by the same single '-', ' ' or '.' and not joined
	// to any further digit group, outside the ranges the SSA never issues
	// (area 000, 666 or 900-999, group 00, serial 0000). There is no check
	// digit, so the shape alone decides: study codes should not use 3-2-4
	// digit groups.
	USSocialSecurityNumber Reason = "us_ssn"

	// DanishCPR: a CPR number in its written form DDMMYY-SSSS, that is two
	// digit groups of 6 and 4 joined by one '-' and not joined to any further
	// digit group, whose first six digits are a real date. CPR numbers issued
	// since 2007 need not pass the old mod-11 check, so none is made. The
	// bare ten digits are refused as PhoneLike, like every run of 10 or more
	// digits.
	DanishCPR Reason = "danish_cpr"

	// EmailLike: an e-mail address or a piece of one. The code contains '@';
	// or it has three or more '.'-separated labels ending in a common
	// top-level domain after a domain label of two or more characters with a
	// letter (john.doe.gmail.com); or it names a common mail provider after
	// its first word, either last or before a common top-level domain
	// (johndoe-hotmail-com); or it is two or three words of two or more
	// letters joined by '.', at least one all lower case and not a name
	// particle, the last allowed trailing digits (john.doe, anna.svensson85,
	// also gmail.com and demo.client): the firstname.lastname local part.
	EmailLike Reason = "email_like"

	// PhoneLike: a phone number, or a number too long to be a study's
	// counter. Any run of 10 or more digits; or a code made only of digits,
	// '+', spaces, dashes, dots and parentheses that has 10 or more digits;
	// or one made only of digits, a leading '+', spaces, dashes, dots and
	// parentheses that has 7-9 digits with a leading '+', a space or a
	// parenthesis, or 8-9 digits either bare or starting with a trunk prefix
	// ('0' then 1-9); or,
	// inside a longer code, such a number written with '+', a space or
	// parentheses (7-15 digits), with a trunk prefix (8-15 digits) or in the
	// North American 3-3-4 grouping. Calendar dates (2024-01-17, 17.01.2024)
	// are not phone numbers. So 2024-017 (7 digits), 2024-0017 and 0012-0034
	// (8, no trunk prefix) and P2024-0017 stay allowed.
	PhoneLike Reason = "phone_like"

	// NameLike: two or more consecutive capitalised words, as a name is
	// written (Anna.Svensson, Anna-Karin Svensson, Anna_von_Svensson,
	// McDonald, O'Brien). The code is split at every character that is not a
	// letter, digit or apostrophe; a word is an upper-case letter followed by
	// lower-case letters (one inner capital allowed: McDonald); lower-case
	// particles (af, van, von, de, ...) may stand between the words; the last
	// word may carry trailing digits (Anna.Svensson85). All-capital words are
	// never names, so DEMO-CLIENT and KW3-CLIENT-12 stay allowed, but
	// Demo-Client is refused.
	NameLike Reason = "name_like"
)

// rules is the order in which Identifying tries the rules; see Reason.
var rules = []struct {
	reason Reason
	match  func(text) bool
}{
	{SwedishPersonalNumber, swedishPersonalNumber},
	{NorwegianNationalID, norwegianNationalID},
	{FinnishPersonalIdentityCode, finnishPersonalIdentityCode},
	{USSocialSecurityNumber, usSocialSecurityNumber},
	{DanishCPR, danishCPR},
	{EmailLike, emailLike},
	{PhoneLike, phoneLike},
	{NameLike, nameLike},
}

// Identifying reports whether code looks like it identifies a person and,
// if it does, the first Reason (in the order of the constants) whose rule it
// matches. A false result means no rule matched, not that the code is safe.
// The matched text is never returned, so callers cannot log it by accident.
func Identifying(code string) (Reason, bool) {
	t := newText(code)
	for _, r := range rules {
		if r.match(t) {
			return r.reason, true
		}
	}
	return "", false
}

// text is a code prepared once for all rules: folded, with its digit groups.
type text struct {
	s    string
	runs []span // maximal runs of ASCII digits, left to right
}

// span is s[start:end] of a text.
type span struct{ start, end int }

func (p span) len() int { return p.end - p.start }

func newText(code string) text {
	t := text{s: fold(code)}
	for i := 0; i < len(t.s); {
		if !isDigit(t.s[i]) {
			i++
			continue
		}
		j := i
		for j < len(t.s) && isDigit(t.s[j]) {
			j++
		}
		t.runs = append(t.runs, span{i, j})
		i = j
	}
	return t
}

func (t text) at(p span) string { return t.s[p.start:p.end] }

// joined returns the digit group after runs[i] when exactly one byte from
// seps stands between the two, and that byte.
func (t text) joined(i int, seps string) (span, byte, bool) {
	if i+1 >= len(t.runs) {
		return span{}, 0, false
	}
	a, b := t.runs[i], t.runs[i+1]
	if b.start != a.end+1 || strings.IndexByte(seps, t.s[a.end]) < 0 {
		return span{}, 0, false
	}
	return b, t.s[a.end], true
}

// chainSeps are the bytes that join digit groups into one number for the
// shape-only rules (USSocialSecurityNumber, DanishCPR): 2024-100-01-0001 is
// one four-group number, not an SSN with a prefix.
const chainSeps = "-+./ _"

// chains calls f with each maximal sequence of digit groups joined by single
// chainSeps bytes, and the joining bytes.
func (t text) chains(f func(groups []span, seps []byte) bool) bool {
	for i := 0; i < len(t.runs); {
		groups, seps := []span{t.runs[i]}, []byte(nil)
		for {
			next, sep, ok := t.joined(i, chainSeps)
			if !ok {
				break
			}
			groups, seps = append(groups, next), append(seps, sep)
			i++
		}
		i++
		if f(groups, seps) {
			return true
		}
	}
	return false
}

// fold maps the look-alikes that a copy from a word processor or a phone
// brings in (full-width letters and digits, Unicode dashes and spaces, curly
// apostrophes) to the ASCII forms the rules look for.
func fold(code string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
			return r - 0xFEE0
		case r >= 0x2010 && r <= 0x2015, r == 0x2212, r == 0xFE63:
			return '-'
		case r == 0x2018 || r == 0x2019:
			return '\''
		case unicode.IsSpace(r):
			return ' '
		}
		return r
	}, code)
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// num is the value of a string of ASCII digits.
func num(digits string) int {
	n := 0
	for i := 0; i < len(digits); i++ {
		n = n*10 + int(digits[i]-'0')
	}
	return n
}
