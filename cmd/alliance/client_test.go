package main

// The generated client, end to end: the README's walk-through, step by
// step, through the typed Go client oapi-codegen builds from the OpenAPI 3
// document, against the real binary serving `-demo` on a fresh SQLite file.
// It first checks that the client compiled into this test is the one the
// served document generates, so the walk-through shows what any client
// generated from /openapi.json gets.

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/alliance-project/alliance/internal/apiclient"
)

const (
	// clientDir holds the generated client and its oapi-codegen settings.
	clientDir = "../../internal/apiclient"
	// openapiFile is the OpenAPI 3 document the binary embeds and serves.
	openapiFile = "../../docs/openapi.json"
)

func TestGeneratedClientWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	srv := binStart(t, binBuild(t), filepath.Join(t.TempDir(), "walk.db"), "ALLIANCE_DEMO=true")
	ctx := t.Context()

	// The client compiled into this test is what the served document
	// generates.
	served := getBody(t, srv.base+"/openapi.json")
	if file, err := os.ReadFile(openapiFile); err != nil || !bytes.Equal(served, file) {
		t.Fatalf("/openapi.json differs from %s (%v): rebuild after `go generate ./...`", openapiFile, err)
	}
	tmp := t.TempDir()
	if err := os.WriteFile(filepath.Join(tmp, "openapi.json"), served, 0o600); err != nil {
		t.Fatal(err)
	}
	gen := exec.Command("go", "tool", "oapi-codegen", "-config", filepath.Join(clientDir, "oapi-codegen.yaml"),
		"-o", filepath.Join(tmp, "client.gen.go"), filepath.Join(tmp, "openapi.json"))
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("oapi-codegen on the served document: %v\n%s", err, out)
	}
	fresh, _ := os.ReadFile(filepath.Join(tmp, "client.gen.go"))
	if committed, err := os.ReadFile(filepath.Join(clientDir, "client.gen.go")); err != nil || !bytes.Equal(fresh, committed) {
		t.Fatalf("internal/apiclient/client.gen.go is not what oapi-codegen makes of the served document (%v): run `go generate ./...`", err)
	}

	key := srv.client.Transport.(binAuth).token
	c, err := apiclient.NewClientWithResponses(srv.base, apiclient.WithRequestEditorFn(bearerEditor(key)))
	if err != nil {
		t.Fatal(err)
	}
	ok := func(step string, status int, body []byte, want int) {
		t.Helper()
		if status != want {
			t.Fatalf("%s = %d, want %d; body %.400s", step, status, want, body)
		}
	}

	// 0. The server's address says where the documentation is.
	index, err := c.GetIndexWithResponse(ctx)
	must(t, err)
	ok("GET /", index.StatusCode(), index.Body, 200)
	if index.JSON200.Docs != "/docs/" || index.JSON200.Openapi != "/openapi.json" {
		t.Errorf("GET / = %+v, want links to /docs/ and /openapi.json", *index.JSON200)
	}

	// 1. The instrument forms a frontend can render.
	list, err := c.ListInstrumentsWithResponse(ctx)
	must(t, err)
	ok("list instruments", list.StatusCode(), list.Body, 200)
	if !slices.ContainsFunc(list.JSON200.Items, func(i apiclient.InstrumentResponse) bool { return i.Id == "wai_sr_therapist" }) {
		t.Errorf("the catalogue has no wai_sr_therapist: %s", list.Body)
	}
	form, err := c.GetInstrumentWithResponse(ctx, "wai_sr_client")
	must(t, err)
	ok("get instrument", form.StatusCode(), form.Body, 200)
	if f := form.JSON200; f.Role != apiclient.InstrumentResponseRoleClient || len(f.Items) != 12 || !slices.Contains(f.ParallelForms, "wai_sr_therapist") {
		t.Errorf("wai_sr_client = role %s, %d items, parallel %v; want client, 12, wai_sr_therapist", f.Role, len(f.Items), f.ParallelForms)
	}

	// 2. A study.
	study, err := c.CreateStudyWithResponse(ctx, apiclient.CreateStudyRequest{
		Name:  "Keyworker alliance",
		Forms: apiclient.FormsBody{Client: ptr("wai_sr_client"), Counsellor: ptr("wai_sr_therapist")},
	})
	must(t, err)
	ok("create study", study.StatusCode(), study.Body, 201)
	studyID := study.JSON201.Id

	// 3. A dyad, by pseudonymous codes.
	dyad, err := c.CreateDyadWithResponse(ctx, studyID, apiclient.CreateDyadRequest{ClientCode: "C-017", CounsellorCode: "K-03"})
	must(t, err)
	ok("create dyad", dyad.StatusCode(), dyad.Body, 201)
	dyadID := dyad.JSON201.Id

	// 4. The client's rating of session 1, with an Idempotency-Key: a
	// retry returns the first result.
	rating := apiclient.CreateRatingRequest{
		Session: 1, Role: apiclient.CreateRatingRequestRoleClient,
		Answers: answers(5, 4, 5, 4, 5, 5, 4, 4, 5, 4, 4, 5),
	}
	rating.SessionDate = &openapi_types.Date{Time: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)}
	keyed := &apiclient.CreateRatingParams{IdempotencyKey: ptr("6f1c2a1e-client-s1")}
	first, err := c.CreateRatingWithResponse(ctx, dyadID, keyed, rating)
	must(t, err)
	ok("rate session 1", first.StatusCode(), first.Body, 201)
	if total := first.JSON201.Scores.Total; total.Sum == nil || *total.Sum != 54 || *total.Mean != 4.5 || total.Answered != 12 {
		t.Errorf("client total = %s, want sum 54, mean 4.5 over 12 answers", first.Body)
	}
	again, err := c.CreateRatingWithResponse(ctx, dyadID, keyed, rating)
	must(t, err)
	ok("retry session 1", again.StatusCode(), again.Body, 201)
	if again.JSON201.Id != first.JSON201.Id || again.HTTPResponse.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry = id %s (replayed %q), want the first rating %s replayed", again.JSON201.Id, again.HTTPResponse.Header.Get("Idempotent-Replayed"), first.JSON201.Id)
	}

	// 5. The counsellor rates the same session through a one-time survey
	// link, leaving the last item unanswered (a null item).
	invite, err := c.CreateInvitationWithResponse(ctx, dyadID, apiclient.CreateInvitationRequest{
		Session: 1, Role: apiclient.CreateInvitationRequestRoleCounsellor, ExpiresIn: ptr("72h"),
	})
	must(t, err)
	ok("invite", invite.StatusCode(), invite.Body, 201)
	link := bearerEditor(invite.JSON201.Token)
	survey, err := c.GetSurveyWithResponse(ctx, link)
	must(t, err)
	ok("survey form", survey.StatusCode(), survey.Body, 200)
	if s := survey.JSON200; s.Session != 1 || s.Role != "counsellor" || s.Instrument.Id != "wai_sr_therapist" {
		t.Errorf("survey = session %d, role %s, form %s; want 1, counsellor, wai_sr_therapist", s.Session, s.Role, s.Instrument.Id)
	}
	sparse := answers(4, 3, 4, 4, 4, 3, 4, 3, 4, 3, 3, 0)
	sparse[11] = nil
	receipt, err := c.SubmitSurveyWithResponse(ctx, nil, apiclient.SubmitSurveyJSONRequestBody{Answers: sparse}, link)
	must(t, err)
	ok("survey submit", receipt.StatusCode(), receipt.Body, 201)
	if receipt.JSON201.Session != 1 || receipt.JSON201.Role != "counsellor" {
		t.Errorf("receipt = %+v, want session 1, counsellor", *receipt.JSON201)
	}

	// 6. Both sides of the session and their comparison.
	session, err := c.GetSessionWithResponse(ctx, dyadID, 1)
	must(t, err)
	ok("session", session.StatusCode(), session.Body, 200)
	s := session.JSON200
	if !s.Complete || s.Comparison == nil || s.Counsellor == nil || s.Counsellor.Answers[11] != nil {
		t.Fatalf("session 1 = %s, want complete, compared, the counsellor's item 12 null", session.Body)
	}
	if d := s.Comparison.Total.Difference; d == nil || *d <= 0 {
		t.Errorf("client − counsellor total = %v, want positive (the client rated higher)", d)
	}

	// 7. The session's agreement figures.
	agree, err := c.GetSessionAgreementWithResponse(ctx, dyadID, 1)
	must(t, err)
	ok("session agreement", agree.StatusCode(), agree.Body, 200)
	if p := agree.JSON200.ItemLevel.Profile; p.N != 11 || p.ProfileR == nil || p.D2 == nil {
		t.Errorf("profile = n %d, r %v, D² %v; want 11 items both answered, r and D² computed", p.N, p.ProfileR, p.D2)
	}

	// 8. A bad answer: a 422 problem naming the field.
	bad, err := c.CreateRatingWithResponse(ctx, dyadID, nil, apiclient.CreateRatingRequest{
		Session: 2, Role: apiclient.CreateRatingRequestRoleClient,
		Answers: answers(5, 4, 5, 9, 5, 5, 4, 4, 5, 4, 4, 5),
	})
	must(t, err)
	ok("bad rating", bad.StatusCode(), bad.Body, 422)
	if p := bad.ApplicationproblemJSON422; p == nil || p.Errors == nil || !slices.ContainsFunc(*p.Errors, func(e apiclient.FieldError) bool {
		return e.Field == "answers[3]" && e.Code == "out_of_range"
	}) {
		t.Errorf("422 problem = %s, want errors naming answers[3] out_of_range", bad.Body)
	}
	if ct := bad.HTTPResponse.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("422 Content-Type = %q, want application/problem+json", ct)
	}

	// 9. Amend the client's rating; the history keeps the first version
	// and the audit log records both.
	amended := apiclient.AmendRatingRequest{Answers: answers(5, 4, 5, 4, 5, 5, 4, 4, 5, 4, 4, 4), SessionDate: rating.SessionDate}
	amend, err := c.AmendRatingWithResponse(ctx, dyadID, 1, apiclient.AmendRatingParamsRoleClient, nil, amended)
	must(t, err)
	ok("amend", amend.StatusCode(), amend.Body, 200)
	if amend.JSON200.Version != 2 || amend.JSON200.Scores.Total.Sum == nil || *amend.JSON200.Scores.Total.Sum != 53 {
		t.Errorf("amended = %s, want version 2, sum 53", amend.Body)
	}
	history, err := c.GetRatingHistoryWithResponse(ctx, dyadID, 1, apiclient.GetRatingHistoryParamsRoleClient)
	must(t, err)
	ok("history", history.StatusCode(), history.Body, 200)
	if h := history.JSON200.Items; len(h) != 2 || h[0].Version != 1 || h[0].SupersededAt == nil || h[1].SupersededAt != nil {
		t.Errorf("history = %s, want version 1 superseded, then the current version 2", history.Body)
	}
	audit, err := c.ListAuditWithResponse(ctx, &apiclient.ListAuditParams{StudyId: &studyID})
	must(t, err)
	ok("audit", audit.StatusCode(), audit.Body, 200)
	var actions []string
	for _, e := range audit.JSON200.Items {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"rating.create", "rating.amend"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit actions %v lack %s", actions, want)
		}
	}

	// 10. Study-level agreement on the demo study (the first study).
	studies, err := c.ListStudiesWithResponse(ctx, nil)
	must(t, err)
	ok("list studies", studies.StatusCode(), studies.Body, 200)
	if len(studies.JSON200.Items) < 2 || studies.JSON200.Items[1].Id != studyID {
		t.Fatalf("studies = %s, want the demo study first, then ours", studies.Body)
	}
	demo := studies.JSON200.Items[0].Id
	stats, err := c.GetStudyAgreementWithResponse(ctx, demo, &apiclient.GetStudyAgreementParams{Session: ptr("first"), Scale: &[]string{"total"}})
	must(t, err)
	ok("study agreement", stats.StatusCode(), stats.Body, 200)
	if sc := stats.JSON200.Scales; len(sc) != 1 || sc[0].Scale != "total" || sc[0].N < 30 || sc[0].Pearson.R == nil || len(sc[0].Icc.Forms) == 0 {
		t.Errorf("demo study agreement = %.600s, want the total scale over the demo dyads with r and ICCs", stats.Body)
	}

	// 12. The SAI example of the instruments guide, defined and used by a study.
	doc, err := os.ReadFile("../../docs/instruments.md")
	must(t, err)
	_, sai, _ := bytes.Cut(doc, []byte("<!-- sai-definition -->\n```json\n"))
	sai, _, _ = bytes.Cut(sai, []byte("```"))
	fam, err := c.DefineInstrumentWithBodyWithResponse(ctx, "application/json", bytes.NewReader(sai))
	must(t, err)
	ok("define the SAI", fam.StatusCode(), fam.Body, 201)
	if f := fam.JSON201.Forms; len(f) != 2 || f[0].Id != "sai_client@1" || f[1].Id != "sai_counsellor@1" {
		t.Fatalf("SAI forms = %.400s", fam.Body)
	}
	saiStudy, err := c.CreateStudyWithResponse(ctx, apiclient.CreateStudyRequest{
		Name:  "SAI per session",
		Forms: apiclient.FormsBody{Client: ptr("sai_client"), Counsellor: ptr("sai_counsellor")},
	})
	must(t, err)
	ok("SAI study", saiStudy.StatusCode(), saiStudy.Body, 201)
	if f := saiStudy.JSON201.Forms; f.Client == nil || *f.Client != "sai_client@1" {
		t.Errorf("SAI study forms = %s, want the versioned ids", saiStudy.Body)
	}
	binCheckLogs(t, []*binServer{srv}, []string{"C-017", "K-03"}, nil)
}

// bearerEditor sends token as the request's credential.
func bearerEditor(token string) apiclient.RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

func answers(v ...float64) []*float64 {
	out := make([]*float64, len(v))
	for i := range v {
		out[i] = &v[i]
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func getBody(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d, %v", url, resp.StatusCode, err)
	}
	return b
}
