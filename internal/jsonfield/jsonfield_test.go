package jsonfield_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/alliance-project/alliance/internal/jsonfield"
)

func TestOf(t *testing.T) {
	type form struct {
		Role    string `json:"role"`
		Reverse []int  `json:"reverse"`
	}
	type body struct {
		Session *int       `json:"session"`
		Answers []*float64 `json:"answers"`
		Forms   []form     `json:"forms"`
		Grid    [][]int    `json:"grid"`
	}
	for _, tt := range []struct{ in, want string }{
		{`{"answers":[5,"4",3]}`, "answers[1]"},
		{`{"answers":[5,4,true]}`, "answers[2]"},
		{`{"answers":[5,{},3]}`, "answers[1]"},
		{`{"answers":[5,4,1e400]}`, "answers[2]"},
		{`{"answers":"all fives"}`, "answers"},
		{`{"session":"1"}`, "session"},
		{`{"forms":[{"role":"client"},{"role":5}]}`, "forms[1].role"},
		{`{"forms":[{"role":"client","reverse":[1]},{"reverse":["1"]}]}`, "forms[1].reverse[0]"},
		{`{"Forms":[{"role":"client"},{"Role":5}]}`, "forms[1].role"},
		{`{"grid":[[1,2],[3,"x"]]}`, "grid[1][1]"},
		{`{"answers":[5,[5],3]}`, "answers[1]"},
		{`{"session":[1]}`, "session"},
		{`{"forms":[{"role":"client"},{"role":["client"]}]}`, "forms[1].role"},
	} {
		var b body
		var te *json.UnmarshalTypeError
		if err := json.Unmarshal([]byte(tt.in), &b); !errors.As(err, &te) {
			t.Fatalf("%s: %v is not a type error", tt.in, err)
		}
		if got := jsonfield.Of(te, []byte(tt.in)); got != tt.want {
			t.Errorf("%s: field %q (encoding/json: %q), want %q", tt.in, got, te.Field, tt.want)
		}
	}
}
