package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/api"
	"github.com/alliance-project/alliance/internal/surveypage"
)

// TestSurveyPageServed: the router serves the hosted survey page to anyone,
// with its security headers, and /s redirects to /s/ (a browser keeps the
// fragment, and with it the token, across the redirect).
func TestSurveyPageServed(t *testing.T) {
	e := newEnv(t)
	rec := e.expect(http.StatusOK, http.MethodGet, "/s/", "", "Authorization", "", "Accept-Language", "sv-SE,sv;q=0.9")
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("GET /s/ Content-Type = %q", ct)
	}
	for h, want := range map[string]string{
		"Content-Security-Policy": surveypage.ContentSecurityPolicy,
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "no-store",
	} {
		if got := rec.Header().Get(h); got != want {
			t.Errorf("GET /s/: %s = %q, want %q", h, got, want)
		}
	}
	if !strings.Contains(rec.Body.String(), `<html lang="sv"`) {
		t.Errorf("GET /s/ with Accept-Language sv is not in Swedish")
	}
	rec = e.expect(http.StatusOK, http.MethodGet, "/s/survey.js", "", "Authorization", "")
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("GET /s/survey.js: Content-Type %q, Cache-Control %q", ct, rec.Header().Get("Cache-Control"))
	}
	e.expect(http.StatusNotFound, http.MethodGet, "/s/secret.txt", "", "Authorization", "")
	if rec := e.do(http.MethodGet, "/s", "", "Authorization", ""); rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/s/" {
		t.Errorf("GET /s = %d to %q, want a redirect to /s/", rec.Code, rec.Header().Get("Location"))
	}
}

// TestSurveyLinkURL: an invitation carries the page's link with the token
// in the fragment, root-relative unless the public URL is configured.
func TestSurveyLinkURL(t *testing.T) {
	for _, tt := range []struct{ publicURL, prefix string }{
		{"", "/s/#"},
		{"https://survey.example.org", "https://survey.example.org/s/#"},
	} {
		e := newEnvWith(t, envOptions{publicURL: tt.publicURL})
		dyad := e.newDyad("wai_sr_client", "wai_sr_therapist")
		inv := e.invite(dyad.ID, 1, "client")
		if inv.URL != tt.prefix+inv.Token || !strings.HasPrefix(inv.Token, "als_") {
			t.Errorf("public URL %q: url = %q, token %q; want %s<token>", tt.publicURL, inv.URL, inv.Token, tt.prefix)
		}
		if inv.URLPath != "/v1/survey" {
			t.Errorf("url_path = %q", inv.URLPath)
		}
	}
}

// TestSurveyMissingPolicy: the survey form says how many items the rater
// may skip: the study's max_missing_fraction beside the form's own cap.
func TestSurveyMissingPolicy(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		form, formCap, applied string
	}{{"wai_sr_client", "null", "0.1"}, {"srs_client", "0", "0"}} {
		st := decode[api.StudyResponse](t, e.expect(http.StatusCreated, http.MethodPost, "/v1/studies",
			`{"name":"S","forms":{"client":"`+tt.form+`"},"missing_policy":{"max_missing_fraction":0.1}}`))
		dyad := e.createDyad(st.ID, "C-1", "K-1")
		inv := e.invite(dyad.ID, 1, "client")
		rec := e.expect(http.StatusOK, http.MethodGet, "/v1/survey", "", "Authorization", "Bearer "+inv.Token)
		var body struct {
			MissingPolicy map[string]json.RawMessage `json:"missing_policy"`
			Instrument    map[string]json.RawMessage `json:"instrument"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		// The policy the form applies to the study's 0.1: the smaller.
		if got := string(body.MissingPolicy["max_missing_fraction"]); got != tt.applied {
			t.Errorf("%s: missing_policy.max_missing_fraction = %s, want %s", tt.form, got, tt.applied)
		}
		if got := string(body.Instrument["max_missing_fraction"]); got != tt.formCap {
			t.Errorf("%s: instrument.max_missing_fraction = %s, want %s", tt.form, got, tt.formCap)
		}
	}
}

// invite makes a survey link for dyad's session and role.
func (e *env) invite(dyadID string, session int, role string) api.InvitationResponse {
	e.t.Helper()
	rec := e.expect(http.StatusCreated, http.MethodPost, "/v1/dyads/"+dyadID+"/invitations",
		fmt.Sprintf(`{"session":%d,"role":%q}`, session, role))
	return decode[api.InvitationResponse](e.t, rec)
}
