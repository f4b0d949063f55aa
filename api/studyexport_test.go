package api_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alliance-project/alliance/api"
)

// exportStudy seeds a study with two dyads: dyad A has a complete session 1
// (the reference pair) and a client-only session 2; dyad B has session 1
// with the counsellor's rating only.
func exportStudy(t *testing.T) (*env, string, []api.DyadResponse) {
	e := newEnv(t)
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	a := e.createDyad(st.ID, "C-A", "K-1")
	b := e.createDyad(st.ID, "C-B", "K-1")
	e.postRating(a.ID, 1, "client", refClient)
	e.postRating(a.ID, 1, "counsellor", refTherapist)
	e.postRating(a.ID, 2, "client", `[5,5,5,5,5,5,5,5,5,null,5,5]`)
	e.postRating(b.ID, 1, "counsellor", refTherapist)
	return e, st.ID, []api.DyadResponse{a, b}
}

// readCSV parses an export as RFC 4180 and returns header and rows as maps.
func readCSV(t *testing.T, body []byte) ([]string, []map[string]string) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("export is not RFC 4180 CSV: %v\n%s", err, body)
	}
	var rows []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		rows = append(rows, m)
	}
	return recs[0], rows
}

func codebookNames(t *testing.T, e *env, studyID, query string) []string {
	t.Helper()
	cb := decode[api.CodebookResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+studyID+"/codebook?"+query, ""))
	names := make([]string, len(cb.Columns))
	for i, c := range cb.Columns {
		names[i] = c.Name
		if c.Type == "" || c.Description == "" {
			t.Errorf("codebook column %s lacks type or description", c.Name)
		}
	}
	return names
}

func TestExportLongCSV(t *testing.T) {
	t.Parallel()
	e, sid, _ := exportStudy(t)
	rec := e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+sid+"/export?include=scores,items", "")
	if ct := rec.Header().Get("Content-Type"); ct != "text/csv; charset=utf-8; header=present" {
		t.Errorf("Content-Type = %q", ct)
	}
	header, rows := readCSV(t, rec.Body.Bytes())
	if want := codebookNames(t, e, sid, "include=scores,items"); !slices.Equal(header, want) {
		t.Errorf("CSV header = %v,\nwant the codebook's %v", header, want)
	}
	if len(rows) != 4 {
		t.Fatalf("long export has %d rows, want one per rating (4)", len(rows))
	}
	first := rows[0]
	if first["client_code"] != "C-A" || first["role"] != "client" || first["session"] != "1" ||
		first["total_mean"] != "4.5" || first["total_sum"] != "54" || first["total_prorated"] != "FALSE" || first["item_12"] != "5" {
		t.Errorf("first row = %v, want the reference client rating", first)
	}
	s2 := rows[2]
	if s2["session"] != "2" || s2["item_10"] != "" || s2["total_prorated"] != "TRUE" || s2["session_date"] != "" {
		t.Errorf("session 2 row = %v, want item_10 empty (missing), prorated TRUE, no date", s2)
	}
}

func TestExportWide(t *testing.T) {
	t.Parallel()
	e, sid, dyads := exportStudy(t)
	rec := e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+sid+"/export?shape=wide&include=items,scores", "")
	header, rows := readCSV(t, rec.Body.Bytes())
	if want := codebookNames(t, e, sid, "shape=wide&include=items,scores"); !slices.Equal(header, want) {
		t.Errorf("CSV header = %v,\nwant the codebook's %v", header, want)
	}
	if len(rows) != 3 {
		t.Fatalf("wide export has %d rows, want one per dyad session (3)", len(rows))
	}
	full := rows[0]
	diff, err := strconv.ParseFloat(full["diff_total"], 64)
	if err != nil || full["dyad_id"] != dyads[0].ID || full["complete"] != "TRUE" || diff-(4.5-43.0/12) > 1e-12 || (4.5-43.0/12)-diff > 1e-12 {
		t.Errorf("complete session row = %v, want complete TRUE and diff_total 4.5 − 3.58333", full)
	}
	if full["client_total_sum"] != "54" || full["counsellor_total_sum"] != "43" || full["counsellor_item_2"] != "3" {
		t.Errorf("complete session row sides = %v", full)
	}
	half := rows[1]
	if half["complete"] != "FALSE" || half["counsellor_total_mean"] != "" || half["diff_total"] != "" || half["client_total_mean"] != "5" {
		t.Errorf("client-only session row = %v, want counsellor and diff columns empty", half)
	}
	if other := rows[2]; other["client_code"] != "C-B" || other["client_total_mean"] != "" || other["counsellor_total_sum"] != "43" {
		t.Errorf("counsellor-only session row = %v", other)
	}
}

func TestExportNDJSON(t *testing.T) {
	t.Parallel()
	e, sid, _ := exportStudy(t)
	rec := e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+sid+"/export?format=ndjson&shape=wide", "")
	if ct := rec.Header().Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("Content-Type = %q, want application/x-ndjson", ct)
	}
	want := codebookNames(t, e, sid, "shape=wide")
	sc := bufio.NewScanner(rec.Body)
	n := 0
	for sc.Scan() {
		n++
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		var keys []string
		if _, err := dec.Token(); err != nil {
			t.Fatal(err)
		}
		obj := map[string]any{}
		for dec.More() {
			k, _ := dec.Token()
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("line %d is not JSON: %v", n, err)
			}
			keys = append(keys, k.(string))
			obj[k.(string)] = v
		}
		if !slices.Equal(keys, want) {
			t.Errorf("line %d keys = %v, want the codebook's in order", n, keys)
		}
		if n == 2 && (obj["counsellor_total_mean"] != nil || obj["complete"] != false || obj["session"] != 2.0) {
			t.Errorf("line 2 = %v, want null counsellor scores, complete false, session 2", obj)
		}
	}
	if n != 3 {
		t.Errorf("NDJSON lines = %d, want 3", n)
	}
}

// TestExportWideOneRoleStudy: a study of one role (the client-only SRS)
// has the wide shape of any study, its other side's columns missing; its
// item columns once indexed the absent role's pairing and answered 500.
func TestExportWideOneRoleStudy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st := e.createStudy("srs_client", "")
	d := e.createDyad(st.ID, "C-001", "K-01")
	e.expect(http.StatusCreated, http.MethodPost, ratingsPath(d.ID), ratingBody(1, "client", `[8,9,7.5,10]`))
	const q = "shape=wide&include=items,scores"
	header, rows := readCSV(t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+st.ID+"/export?"+q, "").Body.Bytes())
	if want := codebookNames(t, e, st.ID, q); !slices.Equal(header, want) {
		t.Errorf("CSV header = %v,\nwant the codebook's %v", header, want)
	}
	if len(rows) != 1 || rows[0]["client_item_3"] != "7.5" || rows[0]["counsellor_item_3"] != "" || rows[0]["complete"] != "FALSE" {
		t.Errorf("rows = %v, want the client's answers and the counsellor's columns empty", rows)
	}
	e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+st.ID+"/export?format=ndjson&"+q, "")
}

// The column set depends on the study's forms, not on its data.
func TestExportStableColumnsOnEmptyStudy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	empty := e.createStudy("wai_sr_client", "wai_sr_therapist")
	for _, q := range []string{"", "shape=wide", "include=items", "shape=wide&include=items,scores"} {
		got, rows := readCSV(t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+empty.ID+"/export?"+q, "").Body.Bytes())
		if len(rows) != 0 {
			t.Errorf("empty study export %q has %d rows", q, len(rows))
		}
		if want := codebookNames(t, e, empty.ID, q); !slices.Equal(got, want) {
			t.Errorf("empty study header %q = %v, want %v", q, got, want)
		}
	}
}

func TestExportUpdatedSinceAndAmendments(t *testing.T) {
	t.Parallel()
	e, sid, dyads := exportStudy(t)
	since := time.Now().UTC()
	time.Sleep(2 * time.Millisecond)
	e.expect(http.StatusOK, http.MethodPut, ratingPath(dyads[0].ID, 1, "client"), `{"answers":[4,4,4,4,4,4,4,4,4,4,4,4]}`)
	q := "updated_since=" + url.QueryEscape(since.Format(time.RFC3339Nano))

	_, long := readCSV(t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+sid+"/export?"+q, "").Body.Bytes())
	if len(long) != 1 || long[0]["version"] != "2" || long[0]["total_mean"] != "4" {
		t.Fatalf("long export since the amendment = %v, want only the amended version 2", long)
	}
	_, wide := readCSV(t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+sid+"/export?shape=wide&"+q, "").Body.Bytes())
	if len(wide) != 1 || wide[0]["complete"] != "TRUE" || wide[0]["counsellor_total_sum"] != "43" {
		t.Fatalf("wide export since the amendment = %v, want the whole changed session", wide)
	}
	_, all := readCSV(t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+sid+"/export", "").Body.Bytes())
	if len(all) != 4 {
		t.Errorf("full export after an amendment has %d rows, want 4 current ratings", len(all))
	}
}

// TestExportUpdatedSinceVoidsAndWithdrawals: an incremental pull has
// what changed after its time, not only the ratings stored then: the
// session one of whose sides was voided (wide: that side now empty), and
// every row of a dyad withdrawn then (the withdrawal is on each).
func TestExportUpdatedSinceVoidsAndWithdrawals(t *testing.T) {
	t.Parallel()
	e, sid, dyads := exportStudy(t)
	since := time.Now().UTC()
	time.Sleep(2 * time.Millisecond)
	e.expect(http.StatusOK, http.MethodPost, ratingPath(dyads[0].ID, 1, "counsellor")+"/void", `{"reason_code":"wrong_dyad"}`)
	e.expect(http.StatusOK, http.MethodPost, "/v1/dyads/"+dyads[1].ID+"/withdraw", `{"scope":"client","reason_code":"consent_withdrawn"}`)
	q := "updated_since=" + url.QueryEscape(since.Format(time.RFC3339Nano))

	_, wide := readCSV(t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+sid+"/export?shape=wide&"+q, "").Body.Bytes())
	bySession := map[string]map[string]string{}
	for _, row := range wide {
		bySession[row["dyad_id"]+"/"+row["session"]] = row
	}
	if v := bySession[dyads[0].ID+"/1"]; len(wide) != 2 || v == nil || v["complete"] != "FALSE" || v["counsellor_total_sum"] != "" || v["client_total_sum"] != "54" {
		t.Errorf("wide export since = %v, want dyad A's session 1 with its voided side empty, and dyad B's withdrawn session", wide)
	}
	if w := bySession[dyads[1].ID+"/1"]; w == nil || w["withdrawal_scope"] != "client" || w["withdrawn_at"] == "" {
		t.Errorf("wide export since = %v, want the withdrawn dyad's session marked", wide)
	}
	_, long := readCSV(t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+sid+"/export?"+q, "").Body.Bytes())
	if len(long) != 1 || long[0]["dyad_id"] != dyads[1].ID || long[0]["withdrawal_scope"] != "client" {
		t.Errorf("long export since = %v, want the withdrawn dyad's one rating (a void leaves no row to show)", long)
	}
}

// TestExportUpdatedSinceWidening: when the other side withdraws too, the
// withdrawal's scope widens to both while its time stays when collection
// stopped; an incremental pull after the first withdrawal has the
// dyad's rows again, with the wider scope, and the dyad says when it
// widened.
func TestExportUpdatedSinceWidening(t *testing.T) {
	t.Parallel()
	e, sid, dyads := exportStudy(t)
	withdraw := "/v1/dyads/" + dyads[1].ID + "/withdraw"
	first := decode[api.DyadResponse](t, e.expect(http.StatusOK, http.MethodPost, withdraw, `{"scope":"client","reason_code":"consent_withdrawn"}`))
	since := time.Now().UTC()
	time.Sleep(2 * time.Millisecond)
	widened := decode[api.DyadResponse](t, e.expect(http.StatusOK, http.MethodPost, withdraw, `{"scope":"counsellor","reason_code":"other"}`))
	if w := widened.Withdrawal; w == nil || w.Scope != "both" || !w.At.Equal(first.Withdrawal.At) || w.WidenedAt == nil || !w.WidenedAt.After(since) {
		t.Fatalf("widened withdrawal = %+v; want scope both, the first time, and widened_at after %v", w, since)
	}
	if got := decode[api.DyadResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+dyads[1].ID, "")); got.Withdrawal.WidenedAt == nil ||
		!got.Withdrawal.WidenedAt.Equal(*widened.Withdrawal.WidenedAt) {
		t.Errorf("GET the dyad: withdrawal %+v, want widened_at %v", got.Withdrawal, widened.Withdrawal.WidenedAt)
	}
	q := "updated_since=" + url.QueryEscape(since.Format(time.RFC3339Nano))
	for _, shape := range []string{"long", "wide"} {
		_, rows := readCSV(t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+sid+"/export?shape="+shape+"&"+q, "").Body.Bytes())
		if len(rows) == 0 {
			t.Errorf("%s export since the first withdrawal is empty; want the widened dyad's rows", shape)
		}
		for _, row := range rows {
			if row["dyad_id"] != dyads[1].ID || row["withdrawal_scope"] != "both" {
				t.Errorf("%s export since the first withdrawal has %v; want only the widened dyad, scope both", shape, row)
			}
		}
	}
}

func TestExportErrors(t *testing.T) {
	t.Parallel()
	e, sid, _ := exportStudy(t)
	tests := []struct {
		path string
		want problemWant
	}{
		{"/v1/studies/" + sid + "/export?format=xml", problemWant{422, typeValidation, []fieldCode{{"format", "invalid_value"}}}},
		{"/v1/studies/" + sid + "/export?shape=tall", problemWant{422, typeValidation, []fieldCode{{"shape", "invalid_value"}}}},
		{"/v1/studies/" + sid + "/export?include=answers", problemWant{422, typeValidation, []fieldCode{{"include", "invalid_value"}}}},
		{"/v1/studies/" + sid + "/export?updated_since=yesterday", problemWant{400, typeMalformed, []fieldCode{{"updated_since", "invalid_value"}}}}, // a time that does not parse, as since elsewhere
		{"/v1/studies/" + sid + "/codebook?shape=tall", problemWant{422, typeValidation, []fieldCode{{"shape", "invalid_value"}}}},
		{"/v1/studies/st_missing/export", problemWant{404, typeBlank, nil}},
		{"/v1/studies/st_missing/codebook", problemWant{404, typeBlank, nil}},
	}
	for _, tt := range tests {
		checkProblem(t, e.do(http.MethodGet, tt.path, ""), "GET "+tt.path, tt.want)
	}
}

// TestCodebookCSV: the data dictionary as CSV, one row per export column,
// with value labels for the categorical columns (R factor levels, SPSS
// value labels).
func TestCodebookCSV(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	rec := e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+st.ID+"/codebook?format=csv&include=scores,items", "")
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("Content-Type = %q, want text/csv", ct)
	}
	rows, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[0], ","); got != "name,type,description,values" {
		t.Errorf("header = %q", got)
	}
	labels := map[string]string{}
	for _, r := range rows[1:] {
		labels[r[0]] = r[3]
	}
	if labels["item_1"] != "1=Seldom; 2=Sometimes; 3=Fairly often; 4=Very often; 5=Always" {
		t.Errorf("item_1 values = %q", labels["item_1"])
	}
	if labels["role"] != "client=client; counsellor=counsellor" || labels["total_mean"] != "" {
		t.Errorf("role values = %q, total_mean values = %q", labels["role"], labels["total_mean"])
	}
	json := decode[api.CodebookResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+st.ID+"/codebook?include=scores,items", ""))
	if len(json.Columns) != len(rows)-1 {
		t.Errorf("JSON codebook has %d columns, CSV %d", len(json.Columns), len(rows)-1)
	}
	checkProblem(t, e.do(http.MethodGet, "/v1/studies/"+st.ID+"/codebook?format=xml", ""), "codebook as xml",
		problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"format", "invalid_value"}}})
}
