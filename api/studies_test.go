package api_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/api"
)

func TestStudyCreateAndGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := `{"name":"  Keyworker alliance 2026  ","description":"parallel WAI-SR","forms":{"client":"wai_sr_client","counsellor":"wai_sr_therapist"}}`
	rec := e.expect(http.StatusCreated, http.MethodPost, "/v1/studies", body, "Content-Type", "application/json; charset=utf-8")
	st := decode[api.StudyResponse](t, rec)

	if !strings.HasPrefix(st.ID, "st_") {
		t.Errorf("id = %q, want an st_ id", st.ID)
	}
	if loc := rec.Header().Get("Location"); loc != "/v1/studies/"+st.ID {
		t.Errorf("Location = %q, want /v1/studies/%s", loc, st.ID)
	}
	if st.Name != "Keyworker alliance 2026" || st.Description != "parallel WAI-SR" {
		t.Errorf("name/description = %q/%q, want the trimmed name and the description", st.Name, st.Description)
	}
	if st.Forms != (api.FormsBody{Client: "wai_sr_client", Counsellor: "wai_sr_therapist"}) {
		t.Errorf("forms = %+v", st.Forms)
	}
	checkFloat(t, "missing_policy.max_missing_fraction (default)", st.MissingPolicy.MaxMissingFraction, 0.25, 0)
	if st.CreatedAt.IsZero() {
		t.Error("created_at is zero")
	}

	got := decode[api.StudyResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+st.ID, ""))
	if !reflect.DeepEqual(got, st) {
		t.Errorf("GET /v1/studies/%s = %+v, want the created study %+v", st.ID, got, st)
	}
}

func TestStudyCreateExplicitPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rec := e.expect(http.StatusCreated, http.MethodPost, "/v1/studies",
		`{"name":"strict","forms":{"client":"srs_client"},"missing_policy":{"max_missing_fraction":0}}`)
	st := decode[api.StudyResponse](t, rec)
	checkFloat(t, "missing_policy.max_missing_fraction", st.MissingPolicy.MaxMissingFraction, 0, 0)
	if st.Forms != (api.FormsBody{Client: "srs_client"}) {
		t.Errorf("forms = %+v, want client srs_client only", st.Forms)
	}
}

func TestStudyListPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var ids []string
	for range 3 {
		ids = append(ids, e.createStudy("wai_sr_client", "wai_sr_therapist").ID)
	}

	first := decode[api.StudyList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies?limit=2", ""))
	if len(first.Items) != 2 || first.Items[0].ID != ids[0] || first.Items[1].ID != ids[1] {
		t.Fatalf("GET /v1/studies?limit=2 items = %v, want the first two of %v", studyIDs(first), ids)
	}
	if first.Next == nil || *first.Next == "" {
		t.Fatalf("GET /v1/studies?limit=2 next = null, want a cursor")
	}

	path := "/v1/studies?limit=2&after=" + *first.Next
	second := decode[api.StudyList](t, e.expect(http.StatusOK, http.MethodGet, path, ""))
	if len(second.Items) != 1 || second.Items[0].ID != ids[2] {
		t.Errorf("GET %s items = %v, want [%s]", path, studyIDs(second), ids[2])
	}
	if second.Next != nil {
		t.Errorf("GET %s next = %q, want null", path, *second.Next)
	}

	all := e.expect(http.StatusOK, http.MethodGet, "/v1/studies", "")
	if string(rawFields(t, all.Body.Bytes())["next"]) != "null" {
		t.Errorf("GET /v1/studies: next = %s, want null", rawFields(t, all.Body.Bytes())["next"])
	}
	if got := studyIDs(decode[api.StudyList](t, all)); !reflect.DeepEqual(got, ids) {
		t.Errorf("GET /v1/studies ids = %v, want %v (oldest first)", got, ids)
	}
}

func TestStudyListEmpty(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rec := e.expect(http.StatusOK, http.MethodGet, "/v1/studies", "")
	m := rawFields(t, rec.Body.Bytes())
	if string(m["items"]) != "[]" || string(m["next"]) != "null" {
		t.Errorf("GET /v1/studies on an empty database = %s, want items [] and next null", rec.Body)
	}
}

func studyIDs(l api.StudyList) []string {
	var out []string
	for _, s := range l.Items {
		out = append(out, s.ID)
	}
	return out
}

func TestStudyCreateErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	valid := `{"name":"s","forms":{"client":"wai_sr_client"}}`
	tests := []struct {
		name    string
		body    string
		headers []string
		want    problemWant
	}{
		{"missing name", `{"forms":{"client":"wai_sr_client"}}`, nil,
			problemWant{422, typeValidation, []fieldCode{{"name", "required"}}}},
		{"blank name", `{"name":"   ","forms":{"client":"wai_sr_client"}}`, nil,
			problemWant{422, typeValidation, []fieldCode{{"name", "required"}}}},
		{"name too long", `{"name":"` + strings.Repeat("n", 201) + `","forms":{"client":"wai_sr_client"}}`, nil,
			problemWant{422, typeValidation, []fieldCode{{"name", "too_long"}}}},
		{"unknown instrument", `{"name":"s","forms":{"client":"wai_nope"}}`, nil,
			problemWant{422, typeValidation, []fieldCode{{"forms.client", "unknown_instrument"}}}},
		{"client form given as counsellor", `{"name":"s","forms":{"client":"wai_sr_client","counsellor":"wai_sr_client"}}`, nil,
			problemWant{422, typeValidation, []fieldCode{{"forms.counsellor", "role_mismatch"}}}},
		{"therapist form given as client", `{"name":"s","forms":{"client":"wai_sr_therapist"}}`, nil,
			problemWant{422, typeValidation, []fieldCode{{"forms.client", "role_mismatch"}}}},
		{"forms not parallel", `{"name":"s","forms":{"client":"wai_sr_client","counsellor":"wai_s_therapist"}}`, nil,
			problemWant{422, typeValidation, []fieldCode{{"forms.counsellor", "not_parallel"}}}},
		{"no forms member", `{"name":"s"}`, nil,
			problemWant{422, typeValidation, []fieldCode{{"forms", "required"}}}},
		{"empty forms", `{"name":"s","forms":{}}`, nil,
			problemWant{422, typeValidation, []fieldCode{{"forms", "required"}}}},
		{"policy fraction 1.5", `{"name":"s","forms":{"client":"wai_sr_client"},"missing_policy":{"max_missing_fraction":1.5}}`, nil,
			problemWant{422, typeValidation, []fieldCode{{"missing_policy.max_missing_fraction", "out_of_range"}}}},
		{"policy fraction 1", `{"name":"s","forms":{"client":"wai_sr_client"},"missing_policy":{"max_missing_fraction":1}}`, nil,
			problemWant{422, typeValidation, []fieldCode{{"missing_policy.max_missing_fraction", "out_of_range"}}}},
		{"policy fraction negative", `{"name":"s","forms":{"client":"wai_sr_client"},"missing_policy":{"max_missing_fraction":-0.1}}`, nil,
			problemWant{422, typeValidation, []fieldCode{{"missing_policy.max_missing_fraction", "out_of_range"}}}},
		{"every bad field at once", `{"forms":{"client":"wai_nope"},"missing_policy":{"max_missing_fraction":2}}`, nil,
			problemWant{422, typeValidation, []fieldCode{{"name", "required"}, {"forms.client", "unknown_instrument"}, {"missing_policy.max_missing_fraction", "out_of_range"}}}},

		{"unknown field", `{"name":"s","forms":{"client":"wai_sr_client"},"colour":"red"}`, nil,
			problemWant{400, typeMalformed, []fieldCode{{"colour", "unknown_field"}}}},
		// A nested unknown member must be named by its path, as every other
		// field error is (forms.client, missing_policy.max_missing_fraction).
		{"unknown nested field", `{"name":"s","forms":{"client":"wai_sr_client","therapist":"wai_sr_therapist"}}`, nil,
			problemWant{400, typeMalformed, []fieldCode{{"forms.therapist", "unknown_field"}}}},
		{"name is a number", `{"name":5,"forms":{"client":"wai_sr_client"}}`, nil,
			problemWant{400, typeMalformed, []fieldCode{{"name", "wrong_type"}}}},
		{"form id is a number", `{"name":"s","forms":{"client":5}}`, nil,
			problemWant{400, typeMalformed, []fieldCode{{"forms.client", "wrong_type"}}}},
		{"fraction is a string", `{"name":"s","forms":{"client":"wai_sr_client"},"missing_policy":{"max_missing_fraction":"0.2"}}`, nil,
			problemWant{400, typeMalformed, []fieldCode{{"missing_policy.max_missing_fraction", "wrong_type"}}}},
		{"body is an array", `[]`, nil,
			problemWant{400, typeMalformed, []fieldCode{{"(body)", "wrong_type"}}}},
		{"malformed JSON, cut short", `{"name":"s",`, nil,
			problemWant{400, typeMalformed, []fieldCode{{"", "malformed_json"}}}},
		{"malformed JSON, trailing comma", `{"name":"s",}`, nil,
			problemWant{400, typeMalformed, []fieldCode{{"", "malformed_json"}}}},
		{"empty body", ``, nil,
			problemWant{400, typeMalformed, []fieldCode{{"", "empty_body"}}}},
		{"blank body", " \n\t", nil,
			problemWant{400, typeMalformed, []fieldCode{{"", "empty_body"}}}},
		{"invalid UTF-8", "{\"name\":\"s\xff\",\"forms\":{\"client\":\"wai_sr_client\"}}", nil,
			problemWant{400, typeMalformed, []fieldCode{{"", "invalid_utf8"}}}},
		{"trailing object", valid + ` {}`, nil,
			problemWant{400, typeMalformed, []fieldCode{{"", "trailing_data"}}}},
		{"trailing garbage", valid + ` x`, nil,
			problemWant{400, typeMalformed, []fieldCode{{"", "trailing_data"}}}},
		// A stray closing brace or bracket after the object is trailing data too.
		{"trailing closing brace", valid + `}`, nil,
			problemWant{400, typeMalformed, []fieldCode{{"", "trailing_data"}}}},
		{"trailing closing bracket", valid + `]`, nil,
			problemWant{400, typeMalformed, []fieldCode{{"", "trailing_data"}}}},
		{"text/plain", valid, []string{"Content-Type", "text/plain"},
			problemWant{415, typeMediaType, []fieldCode{{"Content-Type", "unsupported_media_type"}}}},
		{"form-urlencoded", `name=s`, []string{"Content-Type", "application/x-www-form-urlencoded"},
			problemWant{415, typeMediaType, []fieldCode{{"Content-Type", "unsupported_media_type"}}}},
		{"over 1 MiB", `{"name":"s","forms":{"client":"wai_sr_client"},"description":"` + strings.Repeat("d", 1<<20) + `"}`, nil,
			problemWant{413, typeTooLarge, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.with(t).do(http.MethodPost, "/v1/studies", tt.body, tt.headers...)
			checkProblem(t, rec, "POST /v1/studies ("+tt.name+")", tt.want)
		})
	}
	if l := decode[api.StudyList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies", "")); len(l.Items) != 0 {
		t.Errorf("after only failed POSTs, GET /v1/studies has %d studies, want 0", len(l.Items))
	}
}

func TestStudyBodyLimit(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, envOptions{maxBodyBytes: 256})
	small := `{"name":"s","forms":{"client":"wai_sr_client"}}`
	e.expect(http.StatusCreated, http.MethodPost, "/v1/studies", small)

	big := `{"name":"s","forms":{"client":"wai_sr_client"},"description":"` + strings.Repeat("d", 300) + `"}`
	rec := e.do(http.MethodPost, "/v1/studies", big)
	checkProblem(t, rec, "POST /v1/studies (300-byte description, 256-byte limit)", problemWant{413, typeTooLarge, nil})
}

func TestStudyQueryAndPathErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	tests := []struct {
		path string
		want problemWant
	}{
		{"/v1/studies?limit=0", problemWant{400, typeMalformed, []fieldCode{{"limit", "out_of_range"}}}},
		{"/v1/studies?limit=-1", problemWant{400, typeMalformed, []fieldCode{{"limit", "out_of_range"}}}},
		{"/v1/studies?limit=501", problemWant{400, typeMalformed, []fieldCode{{"limit", "out_of_range"}}}},
		{"/v1/studies?limit=abc", problemWant{400, typeMalformed, []fieldCode{{"limit", "invalid_value"}}}},
		{"/v1/studies?limit=2.5", problemWant{400, typeMalformed, []fieldCode{{"limit", "invalid_value"}}}},
		{"/v1/studies/" + st.ID + "/dyads?limit=0", problemWant{400, typeMalformed, []fieldCode{{"limit", "out_of_range"}}}},
		{"/v1/studies/" + st.ID + "/dyads?limit=abc", problemWant{400, typeMalformed, []fieldCode{{"limit", "invalid_value"}}}},
		{"/v1/studies/st_nope", problemWant{404, typeBlank, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			checkProblem(t, e.with(t).do(http.MethodGet, tt.path, ""), "GET "+tt.path, tt.want)
		})
	}
}
