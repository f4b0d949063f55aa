package api_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/api"
)

func TestDyadCreateAndGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	path := "/v1/studies/" + st.ID + "/dyads"
	rec := e.expect(http.StatusCreated, http.MethodPost, path, dyadBody("C-017", "K-03"))
	d := decode[api.DyadResponse](t, rec)

	if !strings.HasPrefix(d.ID, "dy_") || d.StudyID != st.ID || d.ClientCode != "C-017" || d.CounsellorCode != "K-03" {
		t.Errorf("POST %s = %+v, want a dy_ id in study %s with codes C-017/K-03", path, d, st.ID)
	}
	if loc := rec.Header().Get("Location"); loc != "/v1/dyads/"+d.ID {
		t.Errorf("Location = %q, want /v1/dyads/%s", loc, d.ID)
	}
	got := decode[api.DyadResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+d.ID, ""))
	if !reflect.DeepEqual(got, d) {
		t.Errorf("GET /v1/dyads/%s = %+v, want %+v", d.ID, got, d)
	}
	// A 64-character code is the longest allowed.
	e.createDyad(st.ID, strings.Repeat("c", 64), "K-03")
}

func TestDyadDuplicateClientCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	first := e.createDyad(st.ID, "C-001", "K-01")

	path := "/v1/studies/" + st.ID + "/dyads"
	rec := e.do(http.MethodPost, path, dyadBody("C-001", "K-02"))
	checkProblem(t, rec, "POST "+path+" (client code taken)", problemWant{status: http.StatusConflict, typ: typeConflict})

	list := decode[api.DyadList](t, e.expect(http.StatusOK, http.MethodGet, path, ""))
	if len(list.Items) != 1 || list.Items[0].ID != first.ID {
		t.Errorf("GET %s after the 409 = %+v, want only %s", path, list.Items, first.ID)
	}

	other := e.createStudy("wai_sr_client", "wai_sr_therapist")
	e.createDyad(other.ID, "C-001", "K-02") // the same code in another study is another person
}

func TestDyadInvalidCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	path := "/v1/studies/" + st.ID + "/dyads"
	tests := []struct {
		name string
		body string
		want []fieldCode
	}{
		{"empty client code", dyadBody("", "K-01"), []fieldCode{{"client_code", "required"}}},
		{"missing client code", `{"counsellor_code":"K-01"}`, []fieldCode{{"client_code", "required"}}},
		{"a name with a space", dyadBody("John Smith", "K-01"), []fieldCode{{"client_code", "invalid_code"}}},
		{"an e-mail address", dyadBody("a@b.c", "K-01"), []fieldCode{{"client_code", "invalid_code"}}},
		{"65 characters", dyadBody(strings.Repeat("c", 65), "K-01"), []fieldCode{{"client_code", "invalid_code"}}},
		{"leading dash", dyadBody("-C1", "K-01"), []fieldCode{{"client_code", "invalid_code"}}},
		{"non-ASCII letters", dyadBody("Åsa", "K-01"), []fieldCode{{"client_code", "invalid_code"}}},
		{"empty counsellor code", dyadBody("C-001", ""), []fieldCode{{"counsellor_code", "required"}}},
		{"counsellor e-mail", dyadBody("C-001", "k@clinic.org"), []fieldCode{{"counsellor_code", "invalid_code"}}},
		{"both bad", dyadBody("John Smith", ""), []fieldCode{{"client_code", "invalid_code"}, {"counsellor_code", "required"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.with(t).do(http.MethodPost, path, tt.body)
			checkProblem(t, rec, "POST "+path+" ("+tt.name+")", problemWant{422, typeValidation, tt.want})
		})
	}
	rec := e.do(http.MethodPost, path, `{"client_code":"C-1","counsellor_code":"K-1","name":"John"}`)
	checkProblem(t, rec, "POST "+path+" (unknown field)", problemWant{400, typeMalformed, []fieldCode{{"name", "unknown_field"}}})

	list := decode[api.DyadList](t, e.expect(http.StatusOK, http.MethodGet, path, ""))
	if len(list.Items) != 0 {
		t.Errorf("GET %s after only failed POSTs has %d dyads, want 0", path, len(list.Items))
	}
}

func TestDyadListFilterAndPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	a := e.createDyad(st.ID, "C-001", "K-01")
	b := e.createDyad(st.ID, "C-002", "K-02")
	c := e.createDyad(st.ID, "C-003", "K-01")
	e.createDyad(e.createStudy("wai_sr_client", "").ID, "C-004", "K-01") // another study's dyad
	base := "/v1/studies/" + st.ID + "/dyads"

	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{a.ID, b.ID, c.ID}},
		{"?counsellor_code=K-01", []string{a.ID, c.ID}},
		{"?counsellor_code=K-02", []string{b.ID}},
		{"?counsellor_code=K-99", nil},
	}
	for _, tt := range tests {
		l := decode[api.DyadList](t, e.expect(http.StatusOK, http.MethodGet, base+tt.query, ""))
		if got := dyadIDs(l); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("GET %s%s ids = %v, want %v", base, tt.query, got, tt.want)
		}
		if l.Next != nil {
			t.Errorf("GET %s%s next = %q, want null", base, tt.query, *l.Next)
		}
	}

	p1 := decode[api.DyadList](t, e.expect(http.StatusOK, http.MethodGet, base+"?counsellor_code=K-01&limit=1", ""))
	if got := dyadIDs(p1); len(got) != 1 || got[0] != a.ID || p1.Next == nil {
		t.Fatalf("GET %s?counsellor_code=K-01&limit=1 = %v next %v, want [%s] and a cursor", base, got, p1.Next, a.ID)
	}
	path := base + "?counsellor_code=K-01&limit=1&after=" + *p1.Next
	p2 := decode[api.DyadList](t, e.expect(http.StatusOK, http.MethodGet, path, ""))
	if got := dyadIDs(p2); len(got) != 1 || got[0] != c.ID || p2.Next != nil {
		t.Errorf("GET %s = %v, next %v; want [%s], the last page: next null", path, got, p2.Next, c.ID)
	}
	// A list whose length is a multiple of the limit ends on a full page
	// whose next is null, not on an empty page after it.
	if l := decode[api.DyadList](t, e.expect(http.StatusOK, http.MethodGet, base+"?limit=3", "")); len(l.Items) != 3 || l.Next != nil {
		t.Errorf("GET %s?limit=3 of 3 dyads = %d items, next %v; want 3 and null", base, len(l.Items), l.Next)
	}
}

func dyadIDs(l api.DyadList) []string {
	var out []string
	for _, d := range l.Items {
		out = append(out, d.ID)
	}
	return out
}

func TestDyadNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct{ method, path, body string }{
		{http.MethodPost, "/v1/studies/st_nope/dyads", dyadBody("C-001", "K-01")},
		{http.MethodGet, "/v1/studies/st_nope/dyads", ""},
		{http.MethodGet, "/v1/dyads/dy_nope", ""},
		{http.MethodGet, "/v1/dyads/dy_nope/ratings", ""},
	}
	for _, tt := range tests {
		rec := e.do(tt.method, tt.path, tt.body)
		checkProblem(t, rec, tt.method+" "+tt.path, problemWant{status: http.StatusNotFound, typ: typeBlank})
	}
}
