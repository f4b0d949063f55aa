package pseudonym

import (
	"regexp"
	"strings"
	"unicode"
)

// nameWord is one capitalised word of a name: Anna, Svensson, McDonald,
// DeVito, O'Brien; the submatch holds trailing digits (Svensson85).
var nameWord = regexp.MustCompile(`^(?:\p{Lu}\p{Ll}+(?:\p{Lu}\p{Ll}+)?|\p{Lu}'\p{Lu}\p{Ll}+)(\d*)$`)

// nameParticles may stand in lower case between the words of a name.
var nameParticles = map[string]bool{
	"af": true, "al": true, "av": true, "bin": true, "da": true, "de": true,
	"del": true, "della": true, "der": true, "di": true, "dos": true, "du": true,
	"la": true, "le": true, "ten": true, "ter": true, "van": true, "von": true,
	"zu": true,
}

// nameLike implements NameLike.
func nameLike(t text) bool {
	fields := strings.FieldsFunc(t.s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
	words := 0 // capitalised words in the current run
	for _, f := range fields {
		m := nameWord.FindStringSubmatch(f)
		switch {
		case m != nil:
			words++
			if words >= 2 {
				return true
			}
			if m[1] != "" { // digits end a name: Site1-Pat017 is two codes' parts
				words = 0
			}
		case words > 0 && nameParticles[f]:
		default:
			words = 0
		}
	}
	return false
}
