package pseudonym

import "strings"

// MaxCodeLen is the longest participant code, in bytes.
const MaxCodeLen = 64

// The code alphabet: a code starts with a letter or digit and goes on
// with those, '.', '_' and '-'. No spaces and no '@' keep out the usual
// accidents (full names, e-mail addresses); the rules in Identifying do
// the rest.
const (
	codeStart = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	codeRest  = codeStart + "._-"
)

// WellFormed reports whether code is spelt as a participant code must be:
// 1 to MaxCodeLen letters, digits, '.', '_' or '-', the first a letter or
// digit. Whether it is a pseudonym is Identifying's question.
func WellFormed(code string) bool {
	if code == "" || len(code) > MaxCodeLen || strings.IndexByte(codeStart, code[0]) < 0 {
		return false
	}
	for i := 1; i < len(code); i++ {
		if strings.IndexByte(codeRest, code[i]) < 0 {
			return false
		}
	}
	return true
}
