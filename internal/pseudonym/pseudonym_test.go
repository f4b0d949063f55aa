package pseudonym_test

import (
	"testing"

	"github.com/alliance-project/alliance/internal/pseudonym"
)

const (
	se    = pseudonym.SwedishPersonalNumber
	no    = pseudonym.NorwegianNationalID
	fi    = pseudonym.FinnishPersonalIdentityCode
	ssn   = pseudonym.USSocialSecurityNumber
	dk    = pseudonym.DanishCPR
	email = pseudonym.EmailLike
	phone = pseudonym.PhoneLike
	name  = pseudonym.NameLike
	ok    = pseudonym.Reason("") // allowed
)

// The API shows these strings to clients; changing one breaks them.
func TestReasonValues(t *testing.T) {
	t.Parallel()
	for r, want := range map[pseudonym.Reason]string{
		se: "swedish_personal_number", no: "norwegian_national_id",
		fi: "finnish_personal_identity_code", ssn: "us_ssn", dk: "danish_cpr",
		email: "email_like", phone: "phone_like", name: "name_like",
	} {
		if string(r) != want {
			t.Errorf("reason %q, want %q", r, want)
		}
	}
}

func TestIdentifying(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code string
		want pseudonym.Reason
	}{
		// Ordinary pseudonymous codes: every one must pass.
		{"C-017", ok},
		{"K-03", ok},
		{"DEMO-C005", ok},
		{"DEMO-K01", ok},
		{"ward3-c12", ok},
		{"ST2024-017", ok},
		{"A1", ok},
		{"KW-2026-11", ok},
		{"c_0042", ok},
		{"2024-017", ok}, // 7 digits, no phone marking
		{"P0012", ok},
		{"KW3-CLIENT-12", ok},
		{"P2024-0017", ok},
		{"2024-0017", ok},      // 8 digits but no trunk prefix
		{"0012-0034", ok},      // zero-padded, not a trunk prefix
		{"001-00017", ok},      // zero-padded, 8 digits
		{"ST2024-0017-03", ok}, // 10 digits in groups, inside a lettered code
		{"SITE-001-0017", ok},
		{"S01-P017", ok},
		{"Ward3-Bed12", ok}, // digits end each word, so no name
		{"Site1-Pat017", ok},
		{"C.017", ok},
		{"ST.2024.017", ok},
		{"site.a.no", ok}, // domain label of one letter
		{"KW.C.12", ok},
		{"ward.a", ok},      // one-letter word
		{"demo-client", ok}, // lower-case slug: '-' is not the local-part joiner
		{"demo_client", ok},
		{"DEMO-CLIENT", ok},      // all capitals are never a name
		{"Anna", ok},             // one word is not a name
		{"AnnaSvensson", ok},     // limitation: CamelCase without separator is one word
		{"C-Demo", ok},           // one-letter word before it
		{"OUTLOOK-01", ok},       // a provider's name as the first word
		{"STUDY-OUTLOOK-01", ok}, // provider not last nor before a TLD
		{"gmail.com", email},     // two lower-case words joined by '.'
		{"gmail-com", ok},
		{"1234567", ok},  // 7 bare digits: a local number at most, without area code
		{"555-1234", ok}, // same
		{"123456", ok},
		{"12-34-56", ok},
		{"2024-01-17", ok}, // calendar dates are not phone numbers
		{"17.01.2024", ok},
		{"01.02.2024", ok},
		{"ST2024-100-01-0001", ok},  // 3-2-4 inside a longer number is no SSN
		{"2024-100-01-0001", phone}, // a whole code of 13 digits
		{"10.0.0.1", ok},
		{"0", ok},
		{"", ok},
		{"x-y-z", ok},

		// Swedish personnummer and samordningsnummer.
		// Tolvan Tolvansson, Skatteverket's long-standing test person:
		// Luhn over 121212121 is 2+2+2+2+2+2+2+2+2 = 18, check 2.
		{"19121212-1212", se},
		{"121212-1212", se},
		{"1212121212", se},
		{"191212121212", se},
		{"121212+1212", se}, // '+' for someone aged 100 or more
		// The example personnummer in Skatteverket's and Wikipedia's
		// descriptions: 8*2→7,1,1*2,2,1*2,8,9*2→9,8,7*2→5 sums to 44, check 6.
		{"811218-9876", se},
		{"19811218-9876", se},
		// A samordningsnummer (day 03 + 60): 7*2→5,0,1*2,0,6*2→3,3,2*2,3,9*2→9
		// sums to 29, check 1.
		{"701063-2391", se},
		{"19701063-2391", se},
		// Embedded in a longer code.
		{"P-198112189876", se},
		{"X19811218-9876", se},
		{"P-811218-9876", se},
		{"KW3-121212-1212-A", se},
		// 19850312-1231 is valid (Luhn over 850312123 sums to 29, check 1).
		{"X19850312-1231", se},
		{"19850312-1231", se},
		// Its neighbours with a wrong check digit are not personnummer; the
		// bare ones are refused all the same as long numbers (see PhoneLike),
		// the embedded one is allowed.
		{"19850312-1234", phone},
		{"198503121234", phone},
		{"850312-1234", phone},
		{"850312+1234", phone},
		{"8503+12-1234", phone},
		{"P-198503121234", phone},
		{"X19850312-1234", ok},
		{"X19850312-1232", ok},
		// Impossible dates with a valid check digit.
		{"X851312-123" + luhnDigit("851312123"), ok},   // month 13
		{"X850230-123" + luhnDigit("850230123"), ok},   // 30 February
		{"X850292-123" + luhnDigit("850292123"), ok},   // day 92 is no samordningsnummer
		{"X850300-123" + luhnDigit("850300123"), ok},   // day 0
		{"X17850312-123" + luhnDigit("850312123"), ok}, // century 17 is implausible
		{"X21850312-123" + luhnDigit("850312123"), ok}, // century 21 too
		{"X850391-123" + luhnDigit("850391123"), se},   // day 31 + 60
		// 29 February only in leap years: 2000 but not 1900 in the 12-digit
		// form; the 10-digit form takes 00 as leap.
		{"X000229-123" + luhnDigit("000229123"), se},
		{"X20000229-123" + luhnDigit("000229123"), se},
		{"X19000229-123" + luhnDigit("000229123"), ok},
		{"X19840229-123" + luhnDigit("840229123"), se},
		{"X19850229-123" + luhnDigit("850229123"), ok},

		// Norwegian fødselsnummer. 01010750160, the example in many Norwegian
		// developer guides: K1 = 11 − (0·3+1·7+0·6+1·1+0·8+7·9+5·4+0·5+1·2 = 93
		// mod 11 = 5) = 6; K2 = 11 − (0·5+1·4+0·3+1·2+0·7+7·6+5·5+0·4+1·3+6·2 =
		// 88 mod 11 = 0) → 0.
		{"01010750160", no},
		{"010107 50160", no},
		{"010107-50160", no},
		{"N-01010750160", no},
		// D-nummer, day + 40: K1 = 11 − (105 mod 11 = 6) = 5, K2 = 11 − (106
		// mod 11 = 7) = 4.
		{"41010750154", no},
		// H-nummer (month + 40) and synthetic (month + 80), by the algorithm.
		{mustNorwegian(t, "014107501"), no},
		{mustNorwegian(t, "018107501"), no},
		{"X" + mustNorwegian(t, "150107501"), no},
		{"01010750161", phone}, // wrong K2: 11 bare digits are still refused
		{"X150107-501" + wrongNorwegian(t, "150107501"), ok},
		{"X320107-501" + norwegianControls("320107501"), ok},    // day 32, whatever the controls
		{"X111307-501" + norwegianControls("111307501"), ok},    // month 13
		{"X011307-501" + norwegianControls("011307501"), phone}, // month 13, but 0 and 1 start a phone number

		// Finnish henkilötunnus. DVV's example 131052-308T: 131052308 mod 31
		// = 25 → T.
		{"131052-308T", fi},
		{"131052-308t", fi},
		{"P131052-308T", fi},
		{"131052-308TX", fi},
		{"131052-308U", ok}, // wrong check character
		{"131052-001" + finnishCheckChar("131052001"), ok}, // individual numbers 000 and 001 are not issued
		{"131052-000" + finnishCheckChar("131052000"), ok},
		{"131052-002" + finnishCheckChar("131052002"), fi},
		// DVV's examples of the century signs added in 2023:
		// 010594903 mod 31 = 2, 020594903 mod 31 = 22 → P, 010516903 mod 31 =
		// 29 → X.
		{"010594Y9032", fi},
		{"020594X903P", fi},
		{"010516B903X", fi},
		{"010516b903x", fi},
		{"010101A123" + finnishCheckChar("010101123"), fi},
		{"311299+999" + finnishCheckChar("311299999"), fi},  // 31 December 1899
		{"X290200A123" + finnishCheckChar("290200123"), fi}, // 29 February 2000
		{"X290200Y123" + finnishCheckChar("290200123"), ok}, // 29 February 1900 did not exist
		{"X290200-123" + finnishCheckChar("290200123"), dk}, // but the Danish rule takes 00 as leap
		{"010101G123N", ok}, // G is no century sign

		// US Social Security numbers.
		{"078-05-1120", ssn}, // the Woolworth wallet card number
		{"219-09-9999", ssn}, // the specimen on the SSA's early cards
		{"123-45-6789", ssn},
		{"123 45 6789", ssn},
		{"123.45.6789", ssn},
		{"X123-45-6789", ssn},
		{"ST-100-01-0001", ssn}, // the 3-2-4 shape decides, even in a code
		{"123-45.6789", ok},     // mixed separators
		{"000-12-3456", ok},     // area 000 is never issued
		{"666-12-3456", ok},
		{"900-12-3456", ok},
		{"999-12-3456", ok},
		{"123-00-4567", ok},  // group 00
		{"123-45-0000", ok},  // serial 0000
		{"123456789", phone}, // bare 9 digits: a phone number's length

		// Danish CPR numbers: a valid date is enough.
		{"010190-1234", dk},
		{"X-010190-1234", dk},
		{"311299-0000", dk},
		{"X-290200-0001", dk}, // year 00 is taken as leap
		{"X-290201-0001", ok},
		{"320190-1234", phone},
		{"X-320190-1234", ok},   // day 32
		{"X-111390-1234", ok},   // month 13
		{"K11-010190-1234", ok}, // part of a longer number
		{"01-010190-1234", phone},
		{"0101901234", phone}, // bare: refused as a long number
		// 070761-4285, the example of the CPR office's modulus-11 guide, is
		// also a valid samordningsnummer (1907-07-01; Luhn over 070761428 → 5),
		// and the checksum-verified reason wins.
		{"070761-4285", se},

		// E-mail addresses.
		{"john.doe@example.com", email},
		{"a@b", email},
		{"@SUM(1+1)", email},
		{"john.doe.gmail.com", email},
		{"John.Doe.Gmail.Com", email},
		{"anna.svensson.se", email},
		{"anna_svensson.hotmail.se", email},
		{"c12.demo.se", email},
		{"johndoe-hotmail-com", email},
		{"johndoe_gmail", email},
		{"jd.outlook", email},
		{"john.doe", email}, // the firstname.lastname local part
		{"John.doe", email},
		{"anna.af.klint", email},
		{"anna.svensson85", email},
		{"demo.client", email},       // the price of the rule above
		{"john.doe.smith.jones", ok}, // four words is no local part
		{"john_doe", ok},             // limitation: '_' joins slugs too often
		{"john＠example.com", email},  // full-width at sign

		// Phone numbers.
		{"0701234567", phone},
		{"070-123 45 67", phone},
		{"070-1234567", phone},
		{"+46 70 123 45 67", phone},
		{"+46701234567", phone},
		{"0046701234567", phone},
		{"08-123 456 78", phone},
		{"08-1234567", phone},
		{"08-12345", ok}, // 7 digits without marking
		{"031-123456", phone},
		{"(555) 123-4567", phone},
		{"555-123-4567", phone},
		{"555.123.4567", phone},
		{"1-555-123-4567", phone},
		{"C555-123-4567", phone},
		{"100-200-3000", phone}, // whole code of 10 digits
		{"X100-200-3000", ok},   // no North American area code starts with 1
		{"912 34 567", phone},
		{"91234567", phone},  // Nordic 8-digit number
		{"20240117", phone},  // decision: 8 bare digits are refused
		{"123 45 67", phone}, // 7 digits written with spaces
		{"+4791234567", phone},
		{"C-070-1234567", phone},
		{"C-0701234567", phone},
		{"tel0701234567", phone},
		{"C20240117", ok}, // 8 digits inside a code are a counter or a date
		{"202401171230", phone},
		{"12345678901234567890", phone},
		{"１２３４５６７８９０", phone}, // full-width digits

		// Names.
		{"Anna.Svensson", name},
		{"Anna Svensson", name},
		{"Anna_Svensson", name},
		{"Anna-Svensson", name},
		{"Anna-Karin.Svensson", name},
		{"Anna.von.Svensson", name},
		{"Anna.af.Klint", name},
		{"Sean.O'Brien", name},
		{"Sean.O’Brien", name},
		{"Ronald.McDonald", name},
		{"Åsa.Öberg", name},
		{"Søren.Kierkegaard", name},
		{"C-Anna-Svensson", name},
		{"Anna.Svensson85", name},
		{"Anna.Svensson.1985", name},
		{"Anna\u00a0Svensson", name},
		{"Demo-Client", name}, // the price: capitalised words without digits
		{"Site-Pat017", name},
		{"Anna-SVENSSON", ok}, // limitation: a capitalised surname only
		{"A.Svensson", ok},    // limitation: an initial is not a word
		{"von.Anna", ok},      // a particle does not start a name
	}
	for _, tc := range tests {
		got, found := pseudonym.Identifying(tc.code)
		if got != tc.want || found != (tc.want != ok) {
			t.Errorf("Identifying(%q) = %q, %v; want %q, %v", tc.code, got, found, tc.want, tc.want != ok)
		}
	}
}
