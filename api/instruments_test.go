package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/alliance-project/alliance/api"
)

func TestInstrumentsList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	list := decode[api.InstrumentList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/instruments", ""))
	var ids []string
	for _, f := range list.Items {
		ids = append(ids, f.ID)
	}
	want := []string{"srs_client", "wai_s_client", "wai_s_therapist", "wai_sr_client", "wai_sr_therapist"}
	if !slices.Equal(ids, want) {
		t.Errorf("GET /v1/instruments ids = %v, want %v", ids, want)
	}
}

func TestInstrumentGetWAISRClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := decode[api.InstrumentResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/instruments/wai_sr_client", ""))

	if f.ID != "wai_sr_client" || f.Family != "wai_sr" || f.Role != "client" {
		t.Errorf("id/family/role = %s/%s/%s, want wai_sr_client/wai_sr/client", f.ID, f.Family, f.Role)
	}
	if f.Scale.Min != 1 || f.Scale.Max != 5 || f.Scale.Step != 1 {
		t.Errorf("scale = %v..%v step %v, want 1..5 step 1", f.Scale.Min, f.Scale.Max, f.Scale.Step)
	}
	if len(f.Scale.Anchors) != 5 {
		t.Errorf("scale has %d anchors, want 5", len(f.Scale.Anchors))
	}
	if len(f.Items) != 12 {
		t.Fatalf("items = %d, want 12", len(f.Items))
	}
	wantSub := map[string][]int{"goal": {4, 6, 8, 11}, "task": {1, 2, 10, 12}, "bond": {3, 5, 7, 9}}
	gotSub := map[string][]int{}
	for _, s := range f.Subscales {
		gotSub[s.Key] = s.Items
	}
	if len(gotSub) != len(wantSub) {
		t.Errorf("subscales = %v, want %v", gotSub, wantSub)
	}
	for k, items := range wantSub {
		if !slices.Equal(gotSub[k], items) {
			t.Errorf("subscale %s items = %v, want %v", k, gotSub[k], items)
		}
	}
	for i, it := range f.Items {
		if it.Key != i+1 {
			t.Errorf("items[%d].key = %d, want %d", i, it.Key, i+1)
		}
		if !slices.Contains(wantSub[it.Subscale], it.Key) {
			t.Errorf("item %d in subscale %q, not in the subscale's item list", it.Key, it.Subscale)
		}
		if it.Reverse {
			t.Errorf("item %d is reverse-keyed; the WAI-SR has no reverse-keyed items", it.Key)
		}
	}
	if !slices.Contains(f.ParallelForms, "wai_sr_therapist") {
		t.Errorf("parallel_forms = %v, want it to contain wai_sr_therapist", f.ParallelForms)
	}
	if slices.Contains(f.ParallelForms, "wai_s_therapist") || slices.Contains(f.ParallelForms, "wai_sr_client") {
		t.Errorf("parallel_forms = %v, want only forms of the wai_sr family other than itself", f.ParallelForms)
	}
}

func TestInstrumentGetOtherForms(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	ws := decode[api.InstrumentResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/instruments/wai_s_client", ""))
	if ws.Scale.Min != 1 || ws.Scale.Max != 7 || len(ws.Items) != 12 {
		t.Errorf("wai_s_client: scale %v..%v, %d items; want 1..7, 12", ws.Scale.Min, ws.Scale.Max, len(ws.Items))
	}
	var reversed []int
	for _, it := range ws.Items {
		if it.Reverse {
			reversed = append(reversed, it.Key)
		}
	}
	if !slices.Equal(reversed, []int{4, 10}) {
		t.Errorf("wai_s_client reverse-keyed items = %v, want [4 10]", reversed)
	}

	srs := decode[api.InstrumentResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/instruments/srs_client", ""))
	if srs.Role != "client" || srs.Scale.Min != 0 || srs.Scale.Max != 10 || srs.Scale.Step != 0.1 || len(srs.Items) != 4 {
		t.Errorf("srs_client: role %s, scale %v..%v step %v, %d items; want client, 0..10 step 0.1, 4",
			srs.Role, srs.Scale.Min, srs.Scale.Max, srs.Scale.Step, len(srs.Items))
	}
	if c, r := srs.ClinicalCutoff, srs.Reliability; c == nil || c.Value != 36 || c.Metric != "sum" || r == nil || r.Value != 0.88 || r.Source == "" {
		t.Errorf("srs_client clinical_cutoff %+v, reliability %+v; want 36 on the sum and 0.88 with a source", c, r)
	}
	if len(srs.ParallelForms) != 0 {
		t.Errorf("srs_client parallel_forms = %v, want []", srs.ParallelForms)
	}
}

func TestInstrumentUnknown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rec := e.do(http.MethodGet, "/v1/instruments/wai_nope", "")
	checkProblem(t, rec, "GET /v1/instruments/wai_nope", problemWant{status: http.StatusNotFound, typ: typeBlank})
}
