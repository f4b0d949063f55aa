package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/alliance-project/alliance/internal/alliance"
)

// The answers and scores columns hold JSON: answers as an array in item
// order (null for an unanswered item), scores as storedScores. This file
// writes them and reads them back; the readers are hand-written for the
// compact JSON the writers produce, because every rating read (a study's
// agreement reads 200,000 of them) decodes both, and fall back to
// encoding/json on anything else.

// storedScore is the persisted shape of a score. It is owned by the store,
// not by the instrument package, so renaming a Go field never changes
// what old rows mean.
type storedScore struct {
	Mean     *float64 `json:"mean"`
	Sum      *float64 `json:"sum"`
	Answered int      `json:"answered"`
	Items    int      `json:"items"`
	Prorated bool     `json:"prorated"`
	Reason   string   `json:"reason,omitempty"`
}

type storedScores struct {
	Total     storedScore            `json:"total"`
	Subscales map[string]storedScore `json:"subscales"`
}

// encodeAnswers renders answers for the answers column.
func encodeAnswers(answers []*float64) (string, error) {
	b, err := json.Marshal(answers)
	if err != nil {
		return "", fmt.Errorf("encode answers: %w", err)
	}
	return string(b), nil
}

// encodeScores renders scores for the scores column.
func encodeScores(sc alliance.Scores) (string, error) {
	ss := storedScores{Total: storedScore(sc.Total), Subscales: make(map[string]storedScore, len(sc.Subscales))}
	for k, v := range sc.Subscales {
		ss.Subscales[k] = storedScore(v)
	}
	b, err := json.Marshal(ss)
	if err != nil {
		return "", fmt.Errorf("encode scores: %w", err)
	}
	return string(b), nil
}

// EncodeScores renders scores exactly as the scores column holds them, for
// code that writes rows without the store (benchmark data).
func EncodeScores(sc alliance.Scores) (string, error) { return encodeScores(sc) }

// decodeAnswers parses the stored answers array, e.g. [5,4,null,3.5], with
// a hand-written scanner (the column is always written by json.Marshal of
// []*float64, so it holds only numbers, null, commas and brackets); all
// values share one backing array. Anything unexpected falls back to
// encoding/json.
func decodeAnswers(b []byte) ([]*float64, error) {
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return slowAnswers(b)
	}
	body := b[1 : len(b)-1]
	if len(body) == 0 {
		return []*float64{}, nil
	}
	n := 1
	for _, c := range body {
		if c == ',' {
			n++
		}
	}
	out := make([]*float64, n)
	vals := make([]float64, n)
	start, i := 0, 0
	for pos := 0; pos <= len(body); pos++ {
		if pos < len(body) && body[pos] != ',' {
			continue
		}
		tok := body[start:pos]
		start = pos + 1
		switch {
		case string(tok) == "null":
		case len(tok) == 1 && tok[0] >= '0' && tok[0] <= '9':
			vals[i] = float64(tok[0] - '0')
			out[i] = &vals[i]
		default:
			v, err := strconv.ParseFloat(string(tok), 64)
			if err != nil {
				return slowAnswers(b)
			}
			vals[i] = v
			out[i] = &vals[i]
		}
		i++
	}
	return out, nil
}

func slowAnswers(b []byte) ([]*float64, error) {
	var out []*float64
	err := json.Unmarshal(b, &out)
	return out, err
}

// decodeScores parses the stored scores document (written by json.Marshal
// of storedScores) with a small scanner that knows its shape; anything it
// does not expect falls back to encoding/json, so the result is the same.
func decodeScores(b []byte) (alliance.Scores, error) {
	return new(scoreDecoder).decode(b)
}

// scoreDecoder decodes many scores documents, sharing what they repeat: the
// subscale names and reasons (interned) and the backing arrays of the
// means and sums. A study's 200,000 ratings otherwise cost a string per
// key and an allocation per number.
type scoreDecoder struct {
	names  map[string]string
	floats []float64
}

// maxInterned bounds the interned strings, should a column hold something
// unexpected: a form has a handful of subscales and reasons.
const maxInterned = 64

func (d *scoreDecoder) decode(b []byte) (alliance.Scores, error) {
	p := scoreParser{b: b, d: d}
	if out, ok := p.scores(); ok {
		return out, nil
	}
	var ss storedScores
	if err := json.Unmarshal(b, &ss); err != nil {
		return alliance.Scores{}, err
	}
	out := alliance.Scores{Total: alliance.Score(ss.Total), Subscales: make(map[string]alliance.Score, len(ss.Subscales))}
	for k, v := range ss.Subscales {
		out.Subscales[k] = alliance.Score(v)
	}
	return out, nil
}

// scoreParser scans the compact JSON of storedScores. Every method reports
// ok=false on anything unexpected (whitespace, escapes, unknown keys).
type scoreParser struct {
	b []byte
	i int
	d *scoreDecoder
}

// float returns a pointer to v in the decoder's current backing array.
func (p *scoreParser) float(v float64) *float64 {
	d := p.d
	if len(d.floats) == cap(d.floats) {
		d.floats = make([]float64, 0, 1024)
	}
	d.floats = append(d.floats, v)
	return &d.floats[len(d.floats)-1]
}

func (p *scoreParser) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// key reads a quoted object key without escapes and the colon after it.
func (p *scoreParser) key() (string, bool) {
	k, ok := p.str()
	return k, ok && p.eat(':')
}

// object calls field for each key of an object until the closing brace.
func (p *scoreParser) object(field func(k string) bool) bool {
	if !p.eat('{') {
		return false
	}
	if p.eat('}') {
		return true
	}
	for {
		k, ok := p.key()
		if !ok || !field(k) {
			return false
		}
		if p.eat('}') {
			return true
		}
		if !p.eat(',') {
			return false
		}
	}
}

// number reads a JSON number or null (nil).
func (p *scoreParser) number() (*float64, bool) {
	if bytes.HasPrefix(p.b[p.i:], []byte("null")) {
		p.i += 4
		return nil, true
	}
	start := p.i
	for p.i < len(p.b) && strings.IndexByte("+-.0123456789eE", p.b[p.i]) >= 0 {
		p.i++
	}
	tok := p.b[start:p.i]
	if len(tok) == 1 && tok[0] >= '0' && tok[0] <= '9' {
		return p.float(float64(tok[0] - '0')), true
	}
	v, err := strconv.ParseFloat(string(tok), 64)
	if err != nil {
		return nil, false
	}
	return p.float(v), true
}

func (p *scoreParser) score() (alliance.Score, bool) {
	var s alliance.Score
	ok := p.object(func(k string) bool {
		var ok bool
		var v *float64
		switch k {
		case "mean":
			s.Mean, ok = p.number()
		case "sum":
			s.Sum, ok = p.number()
		case "answered", "items":
			if v, ok = p.number(); ok && v != nil {
				if k == "answered" {
					s.Answered = int(*v)
				} else {
					s.Items = int(*v)
				}
			}
			ok = ok && v != nil
		case "prorated":
			switch {
			case bytes.HasPrefix(p.b[p.i:], []byte("true")):
				s.Prorated, ok = true, true
				p.i += 4
			case bytes.HasPrefix(p.b[p.i:], []byte("false")):
				ok = true
				p.i += 5
			}
		case "reason":
			s.Reason, ok = p.str()
		}
		return ok
	})
	return s, ok
}

func (p *scoreParser) str() (string, bool) {
	if !p.eat('"') {
		return "", false
	}
	start := p.i
	for p.i < len(p.b) && p.b[p.i] != '"' {
		if p.b[p.i] == '\\' {
			return "", false
		}
		p.i++
	}
	raw := p.b[start:p.i]
	if v, ok := p.d.names[string(raw)]; ok {
		return v, p.eat('"')
	}
	v := string(raw)
	if p.d.names == nil {
		p.d.names = make(map[string]string)
	}
	if len(p.d.names) < maxInterned {
		p.d.names[v] = v
	}
	return v, p.eat('"')
}

func (p *scoreParser) scores() (alliance.Scores, bool) {
	out := alliance.Scores{Subscales: make(map[string]alliance.Score, 4)}
	ok := p.object(func(k string) bool {
		switch k {
		case "total":
			var ok bool
			out.Total, ok = p.score()
			return ok
		case "subscales":
			if bytes.HasPrefix(p.b[p.i:], []byte("null")) {
				p.i += 4
				return true
			}
			return p.object(func(sub string) bool {
				s, ok := p.score()
				out.Subscales[sub] = s
				return ok
			})
		}
		return false
	})
	return out, ok && p.i == len(p.b)
}
