package api_test

// The browser test of the analysts' dashboard (/ui/): headless Chromium,
// driven by chromedp with the survey page's harness (browserTab, checkAxe,
// screenshot in surveypage_browser_test.go), against the real router over
// a real SQLite store holding the demo study. It skips without Chromium
// unless ALLIANCE_REQUIRE_BROWSER is set; ALLIANCE_SCREENSHOTS=1 writes
// dashboard-overview-*.png and dashboard-bland-altman.png to docs/images/.

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/alliance-project/alliance/internal/demo"
)

// waitPath waits until the tab has loaded a page whose path is want and
// whose query holds every one of params, and returns its location.
func waitPath(t *testing.T, tab context.Context, want string, params ...string) string {
	t.Helper()
	loc := ""
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		loc = eval[string](t, tab, `location.href`)
		u, err := url.Parse(loc)
		ok := err == nil && u.Path == want && eval[string](t, tab, `document.readyState`) == "complete"
		for _, p := range params {
			ok = ok && strings.Contains(u.RawQuery, p)
		}
		if ok {
			return loc
		}
	}
	t.Fatalf("the tab is at %s, want path %s; it says: %.500s", loc, want, eval[string](t, tab, `document.body ? document.body.innerText : ''`))
	return ""
}

// checkImages waits for the page's images and fails unless there are want
// of them and every one loaded (naturalWidth > 0).
func checkImages(t *testing.T, tab context.Context, what string, want int) {
	t.Helper()
	type img struct {
		Src      string `json:"src"`
		Complete bool   `json:"complete"`
		Width    int    `json:"width"`
	}
	var imgs []img
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		imgs = eval[[]img](t, tab, `[...document.images].map((i) => ({src: i.src, complete: i.complete, width: i.naturalWidth}))`)
		done := true
		for _, i := range imgs {
			done = done && i.Complete
		}
		if done {
			break
		}
	}
	if len(imgs) != want {
		t.Errorf("%s has %d images, want %d", what, len(imgs), want)
	}
	for _, i := range imgs {
		if !i.Complete || i.Width == 0 {
			t.Errorf("%s: image %s did not load (complete %v, naturalWidth %d)", what, i.Src, i.Complete, i.Width)
		}
	}
}

// TestBrowserDashboard signs in to the dashboard as an analyst would, from
// the link the demo prints: opening the overview of the demo study sends
// the browser to the sign-in page, the key is pasted, and the overview
// comes back with all its plots loaded, no console error and no axe-core
// WCAG 2.1 A/AA violation (nor on the session and dyad pages). After
// sign-out, every page sends the browser back to sign-in, and a plot is
// refused.
func TestBrowserDashboard(t *testing.T) {
	e := newEnv(t)
	d, err := demo.Seed(t.Context(), e.svc)
	if err != nil {
		t.Fatal(err)
	}
	key := e.newKey(`{"name":"analyst","scopes":["analyze"]}`)
	srv := httptest.NewServer(e.engine)
	t.Cleanup(srv.Close)
	tab := browserTab(t, "en-GB,en;q=0.9")
	overview := "/ui/studies/" + d.Study.ID

	do(t, tab, "open the overview", chromedp.Navigate(srv.URL+overview))
	if loc := waitPath(t, tab, "/ui/"); !strings.Contains(loc, "next="+url.QueryEscape(overview)) {
		t.Errorf("signed out, the overview sent the browser to %s; want the sign-in page remembering it", loc)
	}
	checkAxe(t, tab, "sign-in page")
	do(t, tab, "sign in", chromedp.SendKeys("#key", key), chromedp.Click("button.primary"))
	waitPath(t, tab, overview)
	if got := eval[string](t, tab, `document.querySelector('h1').textContent`); got != demo.StudyName {
		t.Errorf("overview heading %q, want the demo study's name", got)
	}
	if eval[bool](t, tab, `document.cookie.includes('alliance_session')`) {
		t.Error("a script can read the session cookie; it must be HttpOnly")
	}
	checkImages(t, tab, "overview", 4)
	checkAxe(t, tab, "overview")
	checkReflow(t, tab, 768)
	screenshot(t, tab, "dashboard-overview", 1280, 820)

	do(t, tab, "pick session 3, bond", chromedp.Navigate(srv.URL+overview+"/sessions"),
		chromedp.SetValue("#session", "3"), chromedp.SetValue("#scale", "bond"), chromedp.Click("form.picker button"))
	waitPath(t, tab, overview+"/sessions", "session=3", "scale=bond")
	if got := eval[string](t, tab, `document.querySelector('h2').textContent`); got != "bond at session 3" {
		t.Errorf("the session view shows %q, want bond at session 3", got)
	}
	checkImages(t, tab, "session view", 4)
	checkAxe(t, tab, "session view")

	link := eval[string](t, tab, `document.querySelector('section[aria-labelledby=flagged-heading] tbody a').getAttribute('href')`)
	do(t, tab, "open a flagged dyad", chromedp.Click("section[aria-labelledby=flagged-heading] tbody a"))
	path, query, _ := strings.Cut(link, "?")
	waitPath(t, tab, path, query)
	checkImages(t, tab, "dyad view", 1)
	checkAxe(t, tab, "dyad view")

	// A study in which only the client rates opens on its scores.
	srs := e.createStudy("srs_client", "")
	for i, v := range []float64{9, 8.5, 7, 9.5, 6} {
		dy := e.createDyad(srs.ID, fmt.Sprintf("C-SRS%d", i), "K-SRS")
		e.postRating(dy.ID, 1, "client", fmt.Sprintf("[%g,%g,%g,%g]", v, v, v, v))
		e.postRating(dy.ID, 2, "client", fmt.Sprintf("[%g,%g,%g,%g]", v-1, v, v, v))
	}
	do(t, tab, "open the single-role study", chromedp.Navigate(srv.URL+"/ui/studies/"+srs.ID))
	waitPath(t, tab, "/ui/studies/"+srs.ID)
	if got := eval[string](t, tab, `document.querySelector('#sessions-heading').textContent`); got != "Scores per session" {
		t.Errorf("the single-role study's page shows %q, want its scores per session", got)
	}
	checkAxe(t, tab, "single-role study")
	screenshot(t, tab, "dashboard-scores", 1280, 820)

	// Its dyads are found by code from the list, and open on their scores.
	do(t, tab, "open the dyad list", chromedp.Click(`a[href$="/dyads"]`))
	waitPath(t, tab, "/ui/studies/"+srs.ID+"/dyads")
	if n := eval[int](t, tab, `document.querySelectorAll('tbody tr').length`); n != 5 {
		t.Errorf("the dyad list shows %d dyads, want 5", n)
	}
	checkAxe(t, tab, "dyad list")
	screenshot(t, tab, "dashboard-dyads", 1280, 560)
	checkReflow(t, tab, 375)
	do(t, tab, "find C-SRS2", chromedp.SendKeys("#client_code", "C-SRS2"), chromedp.Click("form.picker button"))
	waitPath(t, tab, "/ui/studies/"+srs.ID+"/dyads", "client_code=C-SRS2")
	if got := eval[string](t, tab, `document.querySelector('td.codes').textContent`); got != "C-SRS2, K-SRS" {
		t.Errorf("the search for C-SRS2 shows %q", got)
	}
	found, _, _ := strings.Cut(eval[string](t, tab, `document.querySelector('tbody a').getAttribute('href')`), "?")
	do(t, tab, "open the dyad found", chromedp.Click("tbody a"))
	waitPath(t, tab, found, "labels=codes")
	if n := eval[int](t, tab, `document.querySelectorAll('tbody tr').length`); n != 2 {
		t.Errorf("the dyad's page shows %d sessions, want 2", n)
	}
	checkAxe(t, tab, "single-role dyad")

	// The Bland–Altman plot on its own, as an analyst opens it from the overview.
	do(t, tab, "open the Bland–Altman plot", chromedp.Navigate(srv.URL+"/v1/studies/"+d.Study.ID+"/plots/bland-altman.svg?session=first&trend=true"))
	plotScreenshot(t, tab, "dashboard-bland-altman")

	do(t, tab, "back to the overview", chromedp.Navigate(srv.URL+overview))
	waitPath(t, tab, overview)
	do(t, tab, "sign out", chromedp.Click("form.signout button"))
	waitPath(t, tab, "/ui/")
	for _, p := range []string{overview, overview + "/sessions?session=2", "/ui/studies", "/ui/dyads/" + d.FirstDyad.ID} {
		do(t, tab, "open "+p, chromedp.Navigate(srv.URL+p))
		if loc := waitPath(t, tab, "/ui/"); !strings.Contains(loc, "next=") {
			t.Errorf("after sign-out %s went to %s, want the sign-in page", p, loc)
		}
	}
	if eval[bool](t, tab, `document.cookie !== ''`) {
		t.Error("a cookie is left after sign-out")
	}
}

// plotScreenshot writes the SVG open in the tab, at its own size, as a
// PNG: to docs/images with ALLIANCE_SCREENSHOTS=1, else a temporary
// directory.
func plotScreenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	dir := t.TempDir()
	if os.Getenv("ALLIANCE_SCREENSHOTS") == "1" {
		dir = filepath.Join("..", "docs", "images")
	}
	w := eval[float64](t, tab, `document.documentElement.getBoundingClientRect().width`)
	h := eval[float64](t, tab, `document.documentElement.getBoundingClientRect().height`)
	if _, err := chromedp.Call(tab, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: int64(w), Height: int64(h), DeviceScaleFactor: 2,
	}); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = chromedp.Call(tab, emulation.ClearDeviceMetricsOverride, cdp.Empty{}) }()
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", p)
}
