package pseudonym_test

import (
	"fmt"

	"github.com/alliance-project/alliance/internal/pseudonym"
)

func ExampleIdentifying() {
	for _, code := range []string{"C-017", "19121212-1212", "0701234567", "john.doe.gmail.com", "Anna.Svensson"} {
		if reason, found := pseudonym.Identifying(code); found {
			fmt.Printf("%s: refused, looks like %s\n", code, reason)
		} else {
			fmt.Printf("%s: allowed\n", code)
		}
	}
	// Output:
	// C-017: allowed
	// 19121212-1212: refused, looks like swedish_personal_number
	// 0701234567: refused, looks like phone_like
	// john.doe.gmail.com: refused, looks like email_like
	// Anna.Svensson: refused, looks like name_like
}

func ExampleCompilePattern() {
	re, err := pseudonym.CompilePattern(`C-\d+|K-\d+`)
	if err != nil {
		panic(err)
	}
	fmt.Println(re.MatchString("C-017"), re.MatchString("C-017-Anna"))
	_, err = pseudonym.CompilePattern(`a)|(b`)
	fmt.Println(err != nil)
	// Output:
	// true false
	// true
}
