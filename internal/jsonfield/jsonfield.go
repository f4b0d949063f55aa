// Package jsonfield names the JSON field a decoding error is about as an
// API names it to a client: with the index of every array on the way
// ("answers[3]", "forms[1].role"). encoding/json names the struct field
// only ("answers", "forms.role"), which leaves a survey frontend unable to
// point at the item whose answer had the wrong type.
package jsonfield

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Of is the indexed path of the value a type error is about, found in
// body, the JSON that failed to decode; te.Field unchanged when body does
// not show where it is.
func Of(te *json.UnmarshalTypeError, body []byte) string {
	if te.Field == "" {
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // keeps a number's text, to tell 1e400 from its neighbours
	var doc any
	if dec.Decode(&doc) != nil {
		return te.Field
	}
	kind, text, _ := strings.Cut(te.Value, " ") // "string", "number 1e400"
	if path, ok := locate(doc, strings.Split(te.Field, "."), kind, text); ok {
		return strings.TrimPrefix(path, ".")
	}
	return te.Field
}

// locate finds the first value along path (object keys; arrays on the way
// are searched element by element) that is of JSON kind (and, for a
// number whose text the error gave, that text), and returns its path.
func locate(v any, path []string, kind, text string) (string, bool) {
	switch x := v.(type) {
	case []any:
		// An element first: in "answers":[5,[5]] the error is about the
		// inner array, not about the answers, which are an array as asked.
		for i, e := range x {
			if p, ok := locate(e, path, kind, text); ok {
				return "[" + strconv.Itoa(i) + "]" + p, true
			}
		}
	case map[string]any:
		if len(path) == 0 {
			break
		}
		e, ok := x[path[0]]
		if !ok { // encoding/json matches keys without regard to case
			for k, ev := range x {
				if strings.EqualFold(k, path[0]) {
					e, ok = ev, true
					break
				}
			}
		}
		if ok {
			if p, found := locate(e, path[1:], kind, text); found {
				return "." + path[0] + p, true
			}
		}
	}
	if len(path) == 0 && kindOf(v) == kind && (text == "" || kind != "number" || v.(json.Number).String() == text) {
		return "", true
	}
	return "", false
}

// kindOf is the JSON kind of a decoded value, as encoding/json's type
// errors name it.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return ""
}
