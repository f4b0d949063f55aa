package pseudonym_test

import (
	"testing"

	"github.com/alliance-project/alliance/internal/pseudonym"
)

var reasons = map[pseudonym.Reason]bool{se: true, no: true, fi: true, ssn: true, dk: true, email: true, phone: true, name: true}

// FuzzIdentifying checks that Identifying never panics, gives the same
// answer twice, and reports a known reason exactly when it refuses.
func FuzzIdentifying(f *testing.F) {
	for _, s := range []string{
		"C-017", "19121212-1212", "811218+9876", "01010750160", "010107 50160", "131052-308T",
		"010594Y9032", "078-05-1120", "010190-1234", "john.doe@example.com", "john.doe.gmail.com",
		"+46 70 123 45 67", "(555) 123-4567", "Anna.von.Svensson", "Sean.O'Brien", "１２３４５６７８９０",
		"123456", "X-", "-", "0", "\xff\xfe", "Å", "2024-01-17", "a.b.c", "@", "+",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		r1, ok1 := pseudonym.Identifying(code)
		r2, ok2 := pseudonym.Identifying(code)
		if r1 != r2 || ok1 != ok2 {
			t.Fatalf("Identifying(%q) = %q, %v then %q, %v", code, r1, ok1, r2, ok2)
		}
		if ok1 != (r1 != "") || ok1 && !reasons[r1] {
			t.Fatalf("Identifying(%q) = %q, %v: want a known reason exactly when refused", code, r1, ok1)
		}
	})
}
