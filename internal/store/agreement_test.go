package store

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/instrument"
)

// The hand-written decoders must agree with encoding/json on everything
// the store writes, and fall back to it on anything else.
func TestAgreementDecoders(t *testing.T) {
	f, _ := instrument.Builtin().Form("wai_sr_client")
	v := func(x float64) *float64 { return &x }
	answerSets := [][]*float64{
		{v(5), v(4), nil, v(3), v(5), v(5), v(4), v(4), v(5), v(4), v(4), v(5)},
		{nil, nil, nil, nil, nil, nil, nil, nil, nil, v(1), v(2), v(3)},
		{v(2.5), v(10), v(-1), v(1e-7)},
		{},
	}
	// One decoder shared by all documents, as FindStudyRatings shares it:
	// interned names and shared backing arrays must not leak between them.
	shared := new(scoreDecoder)
	var sharedGot, sharedWant []instrument.Scores
	for _, a := range answerSets {
		b, _ := json.Marshal(a)
		got, err := decodeAnswers(b)
		var want []*float64
		_ = json.Unmarshal(b, &want)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("decodeAnswers(%s) = %v, %v; want %v", b, got, err, want)
		}
		if len(a) == 12 {
			ss := storedScores{Total: storedScore(f.Score(a, instrument.DefaultPolicy()).Total), Subscales: map[string]storedScore{}}
			for k, s := range f.Score(a, instrument.DefaultPolicy()).Subscales {
				ss.Subscales[k] = storedScore(s)
			}
			sb, _ := json.Marshal(ss)
			got, err := decodeScores(sb)
			p := scoreParser{b: sb, d: new(scoreDecoder)}
			_, fast := p.scores()
			want := f.Score(a, instrument.DefaultPolicy())
			sg, serr := shared.decode(sb)
			if serr != nil {
				t.Fatal(serr)
			}
			sharedGot, sharedWant = append(sharedGot, sg), append(sharedWant, want)
			if err != nil || !fast || !reflect.DeepEqual(got, want) {
				t.Errorf("decodeScores(%s) = %+v, %v (fast %v); want %+v", sb, got, err, fast, want)
			}
		}
	}
	// Whitespace (as PostgreSQL jsonb would print) takes the slow path.
	if !reflect.DeepEqual(sharedGot, sharedWant) {
		t.Errorf("a shared scoreDecoder decoded %+v; want %+v", sharedGot, sharedWant)
	}
	got, err := decodeScores([]byte(`{"total": {"mean": 4.5, "sum": 54, "answered": 12, "items": 12, "prorated": false}, "subscales": {}}`))
	if err != nil || *got.Total.Mean != 4.5 || got.Total.Items != 12 {
		t.Errorf("spaced scores = %+v, %v", got, err)
	}
	ans, err := decodeAnswers([]byte(`[5, null, 4]`))
	if err != nil || len(ans) != 3 || *ans[2] != 4 || ans[1] != nil {
		t.Errorf("spaced answers = %v, %v", ans, err)
	}
	if _, err := decodeAnswers([]byte(`[5,"x"]`)); err == nil {
		t.Error("decodeAnswers accepted a string")
	}
}

// TestFindStudyRatingsSelection checks the session rules in SQL, on both
// backends: a fixed session, and each dyad's first/last complete session
// (or, never complete, its first/last rated one), current versions only.
func TestFindStudyRatingsSelection(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testStudyRatingsSelection(t, b.open(t)) })
	}
}

func testStudyRatingsSelection(t *testing.T, st *Store) {
	ctx := context.Background()
	now := time.Now().UTC()
	f, _ := instrument.Builtin().Form("wai_sr_client")
	if err := st.CreateStudy(ctx, alliance.Study{ID: "st", Name: "s", Forms: map[alliance.Role]string{}, Policy: instrument.DefaultPolicy(), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	x := 4.0
	ans := []*float64{&x, &x, &x, &x, &x, &x, &x, &x, &x, &x, &x, &x}
	rating := func(dyad string, session int, role alliance.Role, version int) alliance.Rating {
		return alliance.Rating{ID: fmt.Sprintf("%s%s%d.%d", dyad, role, session, version), StudyID: "st", DyadID: dyad, Session: session, Role: role,
			FormID: f.ID, Answers: ans, Scores: f.Score(ans, instrument.DefaultPolicy()), Policy: instrument.DefaultPolicy(),
			ScoringVersion: "1", Version: version, CreatedAt: now}
	}
	add := func(dyad string, session int, role alliance.Role) {
		if err := st.CreateRating(ctx, rating(dyad, session, role, 1), nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"a", "b", "c"} {
		if err := st.CreateDyad(ctx, alliance.Dyad{ID: d, StudyID: "st", ClientCode: d, CounsellorCode: "k", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	// a: 1 client only, 2 both, 3 both, 4 counsellor only
	add("a", 1, alliance.RoleClient)
	add("a", 2, alliance.RoleClient)
	add("a", 2, alliance.RoleCounsellor)
	add("a", 3, alliance.RoleClient)
	add("a", 3, alliance.RoleCounsellor)
	add("a", 4, alliance.RoleCounsellor)
	// an amended rating counts once, as its current version
	if err := st.AmendRating(ctx, rating("a", 3, alliance.RoleClient, 1), rating("a", 3, alliance.RoleClient, 2), nil); err != nil {
		t.Fatal(err)
	}
	// b: never complete: 2 client, 5 counsellor
	add("b", 2, alliance.RoleClient)
	add("b", 5, alliance.RoleCounsellor)
	// c: nothing
	pick := func(sel alliance.SessionSelector) map[string]int {
		rs, err := st.FindStudyRatings(ctx, "st", sel)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, r := range rs {
			k := r.DyadID + "/" + string(r.Role)
			if _, dup := out[k]; dup {
				t.Errorf("FindStudyRatings(%v): two ratings for %s", sel, k)
			}
			out[k] = r.Session
			if r.Scores.Total.Mean == nil || *r.Scores.Total.Mean != 4 || len(r.Answers) != 12 {
				t.Errorf("rating %+v not decoded", r)
			}
		}
		return out
	}
	tests := []struct {
		sel  alliance.SessionSelector
		want map[string]int
	}{
		{alliance.SessionSelector{}, map[string]int{"a/client": 2, "a/counsellor": 2, "b/client": 2}},
		{alliance.SessionSelector{Last: true}, map[string]int{"a/client": 3, "a/counsellor": 3, "b/counsellor": 5}},
		{alliance.SessionSelector{Number: 2}, map[string]int{"a/client": 2, "a/counsellor": 2, "b/client": 2}},
		{alliance.SessionSelector{Number: 4}, map[string]int{"a/counsellor": 4}},
		{alliance.SessionSelector{Number: 9}, map[string]int{}},
	}
	for _, tc := range tests {
		if got := pick(tc.sel); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("FindStudyRatings(%v) = %v, want %v", tc.sel, got, tc.want)
		}
	}
}
