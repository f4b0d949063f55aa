package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/migrations"
)

// studyRatingsColumns are the only columns study agreement needs; dates,
// policy and timestamps are not read, which keeps the scan cheap.
const studyRatingsColumns = "r.dyad_id, r.session, r.role, r.form_id, r.answers, r.scores"

// One session per dyad: the first (last) session both roles rated, or for
// a dyad never complete its first (last) rated session. The grouping runs
// on the partial index of current ratings; the join back uses the unique
// index ratings_current (dyad_id, session, role).
const pickSessionSQL = `
WITH per_session AS (
    SELECT r.dyad_id, r.session, COUNT(*) AS roles
    FROM dyads d
    JOIN ratings r %[2]s ON r.dyad_id = d.id AND r.superseded_at IS NULL
    WHERE d.study_id = ?
    GROUP BY r.dyad_id, r.session
), picked AS (
    SELECT dyad_id, COALESCE(%[1]s(CASE WHEN roles = 2 THEN session END), %[1]s(session)) AS session
    FROM per_session
    GROUP BY dyad_id
)
SELECT ` + studyRatingsColumns + `
FROM picked p
JOIN ratings r ON r.dyad_id = p.dyad_id AND r.session = p.session AND r.superseded_at IS NULL`

const fixedSessionSQL = `
SELECT ` + studyRatingsColumns + `
FROM ratings r
WHERE r.study_id = ? AND r.session = ? AND r.superseded_at IS NULL`

// FindStudyRatings returns the current ratings of a study at one session
// per dyad (see alliance.Store), in one query, in no particular order (the
// caller groups them; an ORDER BY would make SQLite sort whole rows).
// Only StudyID, DyadID, Session, Role, FormID, Answers and Scores are
// filled in.
func (s *Store) FindStudyRatings(ctx context.Context, studyID string, sel alliance.SessionSelector) ([]alliance.Rating, error) {
	q := s.db.WithContext(ctx)
	switch {
	case sel.Number > 0:
		q = q.Raw(fixedSessionSQL, studyID, sel.Number)
	default:
		agg, hint := "MIN", ""
		if sel.Last {
			agg = "MAX"
		}
		if s.dialect == migrations.SQLite {
			// Without the hint SQLite reads dyad ids from the table rows
			// (the whole table); the index holds all the grouping needs.
			hint = "INDEXED BY ratings_current"
		}
		q = q.Raw(fmt.Sprintf(pickSessionSQL, agg, hint), studyID)
	}
	rows, err := q.Rows()
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	// Rows are collected in fixed-size chunks and copied once at the end:
	// growing one slice of large structs would copy it about twice over.
	const chunk = 4096
	var chunks [][]alliance.Rating
	cur := make([]alliance.Rating, 0, chunk)
	var answers, scores []byte
	var role string
	for rows.Next() {
		r := alliance.Rating{StudyID: studyID}
		if err := rows.Scan(&r.DyadID, &r.Session, &role, &r.FormID, &answers, &scores); err != nil {
			return nil, translate(err)
		}
		r.Role = alliance.Role(role)
		if r.Answers, err = decodeAnswers(answers); err != nil {
			return nil, fmt.Errorf("decode answers of dyad %s session %d %s: %w", r.DyadID, r.Session, role, err)
		}
		if r.Scores, err = decodeScores(scores); err != nil {
			return nil, fmt.Errorf("decode scores of dyad %s session %d %s: %w", r.DyadID, r.Session, role, err)
		}
		if len(cur) == chunk {
			chunks, cur = append(chunks, cur), make([]alliance.Rating, 0, chunk)
		}
		cur = append(cur, r)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	return slices.Concat(append(chunks, cur)...), nil
}

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
func decodeScores(b []byte) (instrument.Scores, error) {
	p := scoreParser{b: b}
	if out, ok := p.scores(); ok {
		return out, nil
	}
	var ss storedScores
	if err := json.Unmarshal(b, &ss); err != nil {
		return instrument.Scores{}, err
	}
	out := instrument.Scores{Total: instrument.Score(ss.Total), Subscales: make(map[string]instrument.Score, len(ss.Subscales))}
	for k, v := range ss.Subscales {
		out.Subscales[k] = instrument.Score(v)
	}
	return out, nil
}

// scoreParser scans the compact JSON of storedScores. Every method reports
// ok=false on anything unexpected (whitespace, escapes, unknown keys).
type scoreParser struct {
	b []byte
	i int
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
	v, err := strconv.ParseFloat(string(p.b[start:p.i]), 64)
	if err != nil {
		return nil, false
	}
	return &v, true
}

func (p *scoreParser) score() (instrument.Score, bool) {
	var s instrument.Score
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
	v := string(p.b[start:p.i])
	return v, p.eat('"')
}

func (p *scoreParser) scores() (instrument.Scores, bool) {
	out := instrument.Scores{Subscales: make(map[string]instrument.Score, 4)}
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
