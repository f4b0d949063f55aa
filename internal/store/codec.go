package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

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
	out, _, err := decodeAnswersInto(b, nil, nil)
	return out, err
}

// decodeAnswersInto is decodeAnswers into the storage of out and vals
// (grown when too small), for readers that decode row after row and keep
// no row: it returns the answers and the value storage to pass back for
// the next row.
func decodeAnswersInto(b []byte, out []*float64, vals []float64) ([]*float64, []float64, error) {
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		a, err := slowAnswers(b)
		return a, vals, err
	}
	body := b[1 : len(b)-1]
	if len(body) == 0 {
		return []*float64{}, vals, nil
	}
	n := 1 + bytes.Count(body, []byte{','})
	if cap(out) < n {
		out = make([]*float64, n)
	}
	if cap(vals) < n {
		vals = make([]float64, n)
	}
	out, vals = out[:n], vals[:n]
	start, i := 0, 0
	for pos := 0; pos <= len(body); pos++ {
		if pos < len(body) && body[pos] != ',' {
			continue
		}
		tok := body[start:pos]
		start = pos + 1
		switch {
		case string(tok) == "null":
			out[i] = nil
		case len(tok) == 1 && tok[0] >= '0' && tok[0] <= '9':
			vals[i] = float64(tok[0] - '0')
			out[i] = &vals[i]
		default:
			v, ok := parseNumber(tok)
			if !ok {
				a, err := slowAnswers(b)
				return a, vals, err
			}
			vals[i] = v
			out[i] = &vals[i]
		}
		i++
	}
	return out, vals, nil
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

// decode returns the scores in b, in a map of their own.
func (d *scoreDecoder) decode(b []byte) (alliance.Scores, error) {
	out := alliance.Scores{Subscales: make(map[string]alliance.Score, 4)}
	err := d.decodeInto(b, &out)
	return out, err
}

// decodeInto decodes b into out, reusing out.Subscales (cleared) when it
// has one. The means and sums point into the decoder's backing array,
// which reuse rewinds.
func (d *scoreDecoder) decodeInto(b []byte, out *alliance.Scores) error {
	if out.Subscales == nil {
		out.Subscales = make(map[string]alliance.Score, 4)
	}
	clear(out.Subscales)
	out.Total = alliance.Score{}
	p := scoreParser{b: b, d: d}
	if p.scoresInto(out) {
		return nil
	}
	var ss storedScores
	if err := json.Unmarshal(b, &ss); err != nil {
		return err
	}
	clear(out.Subscales)
	out.Total = alliance.Score(ss.Total)
	for k, v := range ss.Subscales {
		out.Subscales[k] = alliance.Score(v)
	}
	return nil
}

// reuse lets the next documents overwrite the means and sums decoded so
// far: for readers that keep no scores from one row to the next.
func (d *scoreDecoder) reuse() { d.floats = d.floats[:0] }

// intern returns raw as a string, shared with earlier calls for the same
// bytes (up to maxInterned distinct strings).
func (d *scoreDecoder) intern(raw []byte) string {
	if v, ok := d.names[string(raw)]; ok {
		return v
	}
	v := string(raw)
	if d.names == nil {
		d.names = make(map[string]string)
	}
	if len(d.names) < maxInterned {
		d.names[v] = v
	}
	return v
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

// key reads a quoted object key without escapes and the colon after it,
// as bytes of the document: keys are compared, not kept.
func (p *scoreParser) key() ([]byte, bool) {
	k, ok := p.raw()
	return k, ok && p.eat(':')
}

// object calls field for each key of an object until the closing brace.
func (p *scoreParser) object(field func(k []byte) bool) bool {
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

// literal reads lit (null, true, false) if it comes next.
func (p *scoreParser) literal(lit string) bool {
	if len(p.b)-p.i >= len(lit) && string(p.b[p.i:p.i+len(lit)]) == lit {
		p.i += len(lit)
		return true
	}
	return false
}

// number reads a JSON number or null (nil).
func (p *scoreParser) number() (*float64, bool) {
	if p.literal("null") {
		return nil, true
	}
	v, ok := p.plain()
	if !ok {
		return nil, false
	}
	return p.float(v), true
}

// plain reads a JSON number.
func (p *scoreParser) plain() (float64, bool) {
	start := p.i
	for p.i < len(p.b) && isNumberByte(p.b[p.i]) {
		p.i++
	}
	return parseNumber(p.b[start:p.i])
}

// isNumberByte reports whether c may occur in a JSON number.
func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'
}

// pow10 are the powers of ten a float64 holds exactly.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// parseNumber is strconv.ParseFloat(tok, 64). Plain decimals of at most
// 15 digits (answers, counts, sums and most means) are computed directly:
// their digits and the power of ten are exact float64s, so one division,
// correctly rounded, gives the same float ParseFloat does (Clinger's fast
// path, which strconv takes too, after more checks).
func parseNumber(tok []byte) (float64, bool) {
	mant, ndigits, frac, dot := 0, 0, 0, false
	for _, c := range tok {
		switch {
		case c >= '0' && c <= '9':
			mant = mant*10 + int(c-'0')
			ndigits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			ndigits = 16 // a sign or an exponent: not the fast path
		}
		if ndigits > 15 {
			v, err := strconv.ParseFloat(string(tok), 64)
			return v, err == nil
		}
	}
	if ndigits == 0 || (dot && frac == 0) || tok[0] == '.' {
		v, err := strconv.ParseFloat(string(tok), 64)
		return v, err == nil
	}
	return float64(mant) / pow10[frac], true
}

// count reads a JSON number that must be present (answered, items).
func (p *scoreParser) count() (int, bool) {
	v, ok := p.plain()
	return int(v), ok
}

// score reads one scale's score: in the layout json.Marshal gives
// storedScore when it can (keys in field order, no spaces), else key by
// key.
func (p *scoreParser) score() (alliance.Score, bool) {
	start := p.i
	if s, ok := p.scoreInOrder(); ok {
		return s, true
	}
	p.i = start
	return p.scoreByKey()
}

// scoreInOrder reads {"mean":…,"sum":…,"answered":…,"items":…,
// "prorated":…[,"reason":"…"]}, the layout the store writes, by matching
// the keys where they must be instead of looking each one up.
func (p *scoreParser) scoreInOrder() (alliance.Score, bool) {
	var s alliance.Score
	var ok bool
	if !p.literal(`{"mean":`) {
		return s, false
	}
	if s.Mean, ok = p.number(); !ok || !p.literal(`,"sum":`) {
		return s, false
	}
	if s.Sum, ok = p.number(); !ok || !p.literal(`,"answered":`) {
		return s, false
	}
	if s.Answered, ok = p.count(); !ok || !p.literal(`,"items":`) {
		return s, false
	}
	if s.Items, ok = p.count(); !ok || !p.literal(`,"prorated":`) {
		return s, false
	}
	switch {
	case p.literal("true"):
		s.Prorated = true
	case p.literal("false"):
	default:
		return s, false
	}
	if p.literal(`,"reason":`) {
		raw, ok := p.raw()
		if !ok {
			return s, false
		}
		s.Reason = p.d.intern(raw)
	}
	return s, p.eat('}')
}

// scoreByKey reads a score object whatever the order of its keys.
func (p *scoreParser) scoreByKey() (alliance.Score, bool) {
	var s alliance.Score
	ok := p.object(func(k []byte) bool {
		var ok bool
		switch string(k) {
		case "mean":
			s.Mean, ok = p.number()
		case "sum":
			s.Sum, ok = p.number()
		case "answered":
			s.Answered, ok = p.count()
		case "items":
			s.Items, ok = p.count()
		case "prorated":
			switch {
			case p.literal("true"):
				s.Prorated, ok = true, true
			case p.literal("false"):
				ok = true
			}
		case "reason":
			var raw []byte
			if raw, ok = p.raw(); ok {
				s.Reason = p.d.intern(raw)
			}
		}
		return ok
	})
	return s, ok
}

// raw reads a quoted string without escapes and returns its bytes.
func (p *scoreParser) raw() ([]byte, bool) {
	if !p.eat('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.b) && p.b[p.i] != '"' {
		if p.b[p.i] == '\\' {
			return nil, false
		}
		p.i++
	}
	raw := p.b[start:p.i]
	return raw, p.eat('"')
}

// scores reads the document into scores of their own.
func (p *scoreParser) scores() (alliance.Scores, bool) {
	out := alliance.Scores{Subscales: make(map[string]alliance.Score, 4)}
	ok := p.scoresInto(&out)
	return out, ok
}

// scoresInto fills out (whose Subscales is empty) from the document.
func (p *scoreParser) scoresInto(out *alliance.Scores) bool {
	if p.scoresInOrder(out) {
		return true
	}
	p.i = 0
	clear(out.Subscales)
	out.Total = alliance.Score{}
	return p.scoresByKey(out)
}

// scoresInOrder reads {"total":…,"subscales":{…}}, the layout the store
// writes.
func (p *scoreParser) scoresInOrder(out *alliance.Scores) bool {
	var ok bool
	if !p.literal(`{"total":`) {
		return false
	}
	if out.Total, ok = p.score(); !ok || !p.literal(`,"subscales":`) {
		return false
	}
	if !p.literal("null") && !p.subscales(out) {
		return false
	}
	return p.eat('}') && p.i == len(p.b)
}

// subscales reads the object of subscale scores.
func (p *scoreParser) subscales(out *alliance.Scores) bool {
	return p.object(func(name []byte) bool {
		s, ok := p.score()
		if ok {
			out.Subscales[p.d.intern(name)] = s
		}
		return ok
	})
}

// scoresByKey reads the document whatever the order of its keys.
func (p *scoreParser) scoresByKey(out *alliance.Scores) bool {
	ok := p.object(func(k []byte) bool {
		switch string(k) {
		case "total":
			var ok bool
			out.Total, ok = p.score()
			return ok
		case "subscales":
			return p.literal("null") || p.subscales(out)
		}
		return false
	})
	return ok && p.i == len(p.b)
}
