package api_test

// Browser tests of the hosted survey page (/s/): headless Chromium, driven
// by chromedp, against the real router over a real SQLite store, through a
// small reverse proxy that can drop a response. They need Debian's
// chromium and axe-core (scripts/browser-deps.sh installs both). Without
// Chromium they skip, unless ALLIANCE_REQUIRE_BROWSER is set: then a
// missing browser or axe-core fails. ALLIANCE_SCREENSHOTS=1 writes the
// screenshots to docs/images/ instead of a temporary directory.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/alliance-project/alliance/api"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/surveypage"
)

// requireBrowser is whether a missing browser or axe-core fails the tests.
func requireBrowser() bool { return os.Getenv("ALLIANCE_REQUIRE_BROWSER") != "" }

// chromiumPath finds the browser: ALLIANCE_CHROMIUM, else chromium on PATH.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ALLIANCE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if requireBrowser() {
		t.Fatal("no Chromium on PATH and ALLIANCE_REQUIRE_BROWSER is set: run scripts/browser-deps.sh (or set ALLIANCE_CHROMIUM)")
	}
	t.Skip("browser test skipped: no Chromium on PATH; run scripts/browser-deps.sh, and set ALLIANCE_REQUIRE_BROWSER=1 to make a missing browser fail")
	return ""
}

// axeSource is axe.min.js: ALLIANCE_AXE_JS, else the copy that
// scripts/browser-deps.sh installs into .cache/axe. "" when it is absent
// and not required.
var axeSource = sync.OnceValues(func() (string, error) {
	p := os.Getenv("ALLIANCE_AXE_JS")
	if p == "" {
		p = filepath.Join("..", ".cache", "axe", "node_modules", "axe-core", "axe.min.js")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("axe-core not found (%w): run scripts/browser-deps.sh or set ALLIANCE_AXE_JS", err)
	}
	return string(b), nil
})

// surveyProxy is a reverse proxy in front of the service, as a real
// deployment has. It records the Idempotency-Key of every survey
// submission and can cut the connection of the first one, before it
// reaches the service (cutFirst) or after the service has answered it,
// before the answer reaches the browser (dropFirst, or holdFirst: the
// answer is held back until the browser gives the request up). cutAll
// cuts every submission and cutGets every GET of the form, as a lost
// connection does; holdGets holds every GET of the form back, as a slow
// network does; gone answers every survey request with this 410
// problem, as the service answers a link that has expired.
type surveyProxy struct {
	front     *httptest.Server
	posts     atomic.Int32
	cutFirst  atomic.Bool
	cutAll    atomic.Bool
	dropFirst atomic.Bool
	holdFirst atomic.Bool
	cutGets   atomic.Bool                   // cut every GET /v1/survey, as a lost connection does
	holdGets  atomic.Pointer[chan struct{}] // hold every GET /v1/survey until the channel is closed
	dropped   chan int                      // the status the browser never saw
	gone      atomic.Pointer[api.Problem]

	mu   sync.Mutex
	keys []string
}

func (p *surveyProxy) idempotencyKeys() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.keys)
}

func newSurveyProxy(t *testing.T, h http.Handler) *surveyProxy {
	t.Helper()
	back := httptest.NewServer(h)
	t.Cleanup(back.Close)
	u, _ := url.Parse(back.URL)
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &surveyProxy{dropped: make(chan int, 1)}
	p.front = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g := p.gone.Load(); g != nil && r.URL.Path == "/v1/survey" {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusGone)
			_ = json.NewEncoder(w).Encode(g)
			return
		}
		if hold := p.holdGets.Load(); hold != nil && r.Method == http.MethodGet && r.URL.Path == "/v1/survey" {
			select {
			case <-*hold:
			case <-r.Context().Done():
				return
			}
		}
		if r.Method == http.MethodGet && r.URL.Path == "/v1/survey" && p.cutGets.Load() {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				_ = conn.Close()
			}
			return
		}
		if r.Method == http.MethodPost && r.URL.Path == "/v1/survey" {
			p.mu.Lock()
			p.keys = append(p.keys, r.Header.Get("Idempotency-Key"))
			p.mu.Unlock()
			first := p.posts.Add(1) == 1
			if p.cutAll.Load() || (first && p.cutFirst.Load()) {
				if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
					_ = conn.Close()
				}
				return
			}
			if first && (p.dropFirst.Load() || p.holdFirst.Load()) {
				rec := httptest.NewRecorder()
				rp.ServeHTTP(rec, r.WithContext(context.WithoutCancel(r.Context())))
				p.dropped <- rec.Code
				if p.holdFirst.Load() {
					select {
					case <-r.Context().Done():
					case <-time.After(20 * time.Second):
					}
				}
				conn, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					_ = conn.Close()
				}
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.front.Close)
	return p
}

// openLink opens inv's survey link, through proxy, in a new browser tab
// whose browser language is acceptLang.
func openLink(t *testing.T, proxy *surveyProxy, inv api.InvitationResponse, acceptLang string) context.Context {
	t.Helper()
	tab := browserTab(t, acceptLang)
	do(t, tab, "open the link", chromedp.Navigate(proxy.front.URL+inv.URL))
	return tab
}

// browserTab starts a headless Chromium whose Accept-Language is
// acceptLang, with a fresh profile, and returns a tab. Uncaught page errors
// and Content-Security-Policy violations fail the test.
func browserTab(t *testing.T, acceptLang string) context.Context {
	t.Helper()
	exe := chromiumPath(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("accept-lang", acceptLang),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(acancel)
	tab, tcancel := chromedp.NewContext(actx)
	t.Cleanup(tcancel)
	if err := watchTab(t, tab); err != nil {
		t.Fatalf("start Chromium (%s): %v", exe, err)
	}
	return tab
}

// anotherTab opens a second tab in tab's browser: the same profile, so
// the same localStorage, as a rater's second tab on one link has.
func anotherTab(t *testing.T, tab context.Context) context.Context {
	t.Helper()
	other, cancel := chromedp.NewContext(tab)
	t.Cleanup(cancel)
	if err := watchTab(t, other); err != nil {
		t.Fatalf("open another tab: %v", err)
	}
	return other
}

// watchTab makes uncaught page errors and Content-Security-Policy
// violations in tab fail the test.
func watchTab(t *testing.T, tab context.Context) error {
	t.Helper()
	// Report CSP violations to the console, where the listener below sees them.
	if _, err := chromedp.Call(tab, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));`,
	}); err != nil {
		return err
	}
	var mu sync.Mutex
	var problems []string
	console := chromedp.Events(tab, runtime.ConsoleAPICalled)
	exceptions := chromedp.Events(tab, runtime.ExceptionThrown)
	go func() {
		for ev, err := range console {
			if err != nil {
				return
			}
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, strings.Trim(string(a.Value), `"`))
				}
				mu.Lock()
				problems = append(problems, "console."+string(ev.Type)+": "+strings.Join(parts, " "))
				mu.Unlock()
			}
		}
	}()
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			msg := ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
			mu.Lock()
			problems = append(problems, "uncaught: "+msg)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Errorf("page error: %s", p)
		}
	})
	return nil
}

// do runs steps in the tab or fails the test.
func do(t *testing.T, tab context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(tab, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a script in the tab or fails the test.
func eval[T any](t *testing.T, tab context.Context, script string) T {
	t.Helper()
	v, err := chromedp.Run(tab, chromedp.Evaluate[T](script))
	if err != nil {
		t.Fatalf("evaluate %s: %v", script, err)
	}
	return v
}

// waitView waits until the page shows one of its views (view-form,
// view-done, view-problem) and returns its id.
func waitView(t *testing.T, tab context.Context, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	shown := ""
	for time.Now().Before(deadline) {
		shown = eval[string](t, tab, `[...document.querySelectorAll('.view')].filter((v) => !v.hidden).map((v) => v.id).join(',')`)
		if shown == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("page shows %q, want %q; it says: %s", shown, want,
		eval[string](t, tab, `document.querySelector('main').innerText`))
}

// text is the rendered text of the element with id.
func text(t *testing.T, tab context.Context, id string) string {
	t.Helper()
	return strings.TrimSpace(eval[string](t, tab, fmt.Sprintf(`document.getElementById(%q).textContent`, id)))
}

// waitText waits until the element with id reads want (the page changes
// language asynchronously, once the catalogue has arrived).
func waitText(t *testing.T, tab context.Context, id, want string) {
	t.Helper()
	got := ""
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		if got = text(t, tab, id); got == want {
			return
		}
	}
	t.Errorf("#%s reads %q, want %q", id, got, want)
}

// msg is the page catalogue's text of key in lang with {name} filled in.
func msg(t *testing.T, lang, key string, args ...string) string {
	t.Helper()
	s := surveypage.Message(lang, key)
	if s == "" {
		t.Fatalf("catalogue %s has no %q", lang, key)
	}
	for i := 0; i+1 < len(args); i += 2 {
		s = strings.ReplaceAll(s, "{"+args[i]+"}", args[i+1])
	}
	return s
}

// pageAnswers reads the checked value of every item, in form order.
func pageAnswers(t *testing.T, tab context.Context) []*float64 {
	t.Helper()
	return eval[[]*float64](t, tab, `[...document.querySelectorAll('fieldset.item')].map((f) => {
		const c = f.querySelector('input:checked'); return c ? Number(c.value) : null; })`)
}

// active describes the focused element: "radio q3 2", "button submit"...
func active(t *testing.T, tab context.Context) string {
	t.Helper()
	return eval[string](t, tab, `(() => { const a = document.activeElement;
		if (!a) return ''; if (a.type === 'radio') return 'radio ' + a.name + ' ' + a.value;
		return a.tagName.toLowerCase() + ' ' + (a.id || a.className); })()`)
}

// tabTo presses Tab until the focus is on an element whose description
// starts with prefix.
func tabTo(t *testing.T, tab context.Context, prefix string) {
	t.Helper()
	for range 60 {
		if strings.HasPrefix(active(t, tab), prefix) {
			return
		}
		do(t, tab, "Tab", chromedp.KeyEvent(kb.Tab))
	}
	t.Fatalf("Tab never reached %q; focus is on %q", prefix, active(t, tab))
}

// answerByKeyboard answers items from..to-1 (0-based) with the keyboard:
// Tab into each radio group, then Space for the lowest value or the arrow
// keys for the others; a nil answer is skipped by tabbing past it.
func answerByKeyboard(t *testing.T, tab context.Context, answers []*float64, from, to int, lowest float64) {
	t.Helper()
	for i := from; i < to; i++ {
		name := fmt.Sprintf("radio q%d ", i+1)
		tabTo(t, tab, name)
		checkFocusVisible(t, tab)
		v := answers[i]
		switch {
		case v == nil:
			continue
		case *v == lowest:
			do(t, tab, "Space", chromedp.KeyEvent(" "))
		default:
			for range int(*v - lowest) {
				do(t, tab, "ArrowDown", chromedp.KeyEvent(kb.ArrowDown))
			}
		}
		if got := active(t, tab); got != fmt.Sprintf("%s%g", name, *v) {
			t.Fatalf("item %d: focus on %q after answering %g", i+1, got, *v)
		}
	}
}

// checkFocusVisible fails unless the focused radio's answer box shows a
// focus outline of at least 2 px.
func checkFocusVisible(t *testing.T, tab context.Context) {
	t.Helper()
	width := eval[float64](t, tab, `(() => { const l = document.activeElement.closest('label');
		const s = getComputedStyle(l); return s.outlineStyle === 'none' ? 0 : parseFloat(s.outlineWidth); })()`)
	if width < 2 {
		t.Errorf("the focused answer (%s) has a %g px focus outline, want a visible one", active(t, tab), width)
	}
}

// checkReflow fails if the page scrolls sideways at a CSS width of w px
// (320: a small phone; 640: 1280 px at 200% zoom).
func checkReflow(t *testing.T, tab context.Context, w int64) {
	t.Helper()
	if _, err := chromedp.Call(tab, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: w, Height: 700, DeviceScaleFactor: 1, Mobile: w < 600,
	}); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = chromedp.Call(tab, emulation.ClearDeviceMetricsOverride, cdp.Empty{}) }()
	time.Sleep(100 * time.Millisecond)
	overflow := eval[[]string](t, tab, `[...document.querySelectorAll('body *')].filter((e) => {
		const r = e.getBoundingClientRect(); return r.width > 0 && r.right > document.documentElement.clientWidth + 1; })
		.map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + e.className)`)
	sw := eval[int64](t, tab, `document.documentElement.scrollWidth`)
	if sw > w || len(overflow) > 0 {
		t.Errorf("at %d px the page is %d px wide; overflowing: %v", w, sw, overflow)
	}
}

// checkAxe runs axe-core's WCAG 2.1 A and AA rules on the page and fails
// on any violation.
func checkAxe(t *testing.T, tab context.Context, what string) {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		if requireBrowser() {
			t.Fatalf("%s: %v", what, err)
		}
		t.Logf("%s: accessibility check NOT run: %v", what, err)
		return
	}
	if eval[string](t, tab, `typeof window.axe`) != "object" {
		if _, err := chromedp.Run(tab, chromedp.Evaluate[chromedp.Void](src)); err != nil {
			t.Fatalf("inject axe-core: %v", err)
		}
	}
	type node struct {
		Target         []any  `json:"target"`
		FailureSummary string `json:"failureSummary"`
	}
	type violation struct {
		ID    string `json:"id"`
		Help  string `json:"help"`
		Nodes []node `json:"nodes"`
	}
	res, err := chromedp.Run(tab, chromedp.Evaluate[struct {
		Violations []violation `json:"violations"`
		Passes     int         `json:"passes"`
	}](`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})
		.then((r) => ({violations: r.violations.map((v) => ({id: v.id, help: v.help, nodes: v.nodes.map((n) => ({target: n.target, failureSummary: n.failureSummary}))})), passes: r.passes.length}))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe.run: %v", what, err)
	}
	if res.Passes == 0 {
		t.Errorf("%s: axe-core checked no rule at all", what)
	}
	for _, v := range res.Violations {
		for _, n := range v.Nodes {
			t.Errorf("%s: axe %s (%s) at %v: %s", what, v.ID, v.Help, n.Target, n.FailureSummary)
		}
	}
}

// screenshot writes full-page PNGs of the page at each width, into
// docs/images when ALLIANCE_SCREENSHOTS=1 and a temporary directory
// otherwise.
func screenshot(t *testing.T, tab context.Context, name string, widths ...int64) {
	t.Helper()
	dir := t.TempDir()
	if os.Getenv("ALLIANCE_SCREENSHOTS") == "1" {
		dir = filepath.Join("..", "docs", "images")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range widths {
		if _, err := chromedp.Call(tab, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: w, Height: 800, DeviceScaleFactor: 1, Mobile: w < 600,
		}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // let the layout settle
		png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s at %d px: %v", name, w, err)
		}
		p := filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, w))
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", p)
	}
	if _, err := chromedp.Call(tab, emulation.ClearDeviceMetricsOverride, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
}

func floats(vs ...float64) []*float64 {
	out := make([]*float64, len(vs))
	for i, v := range vs {
		if v != 0 { // 0 is not on these scales: it stands for "unanswered"
			out[i] = &v
		}
	}
	return out
}

func sameFloats(a, b []*float64) bool {
	return slices.EqualFunc(a, b, func(x, y *float64) bool { return (x == nil && y == nil) || (x != nil && y != nil && *x == *y) })
}

func fmtFloats(vs []*float64) string {
	b, _ := json.Marshal(vs)
	return string(b)
}

// TestBrowserSurvey fills a survey link in both languages as a keyboard
// user would: the page opens in the browser's language, the answers
// survive a reload, the rating is stored with exactly those answers, the
// confirmation says so, and the used link then says it was used. axe-core
// finds no WCAG 2.1 A/AA violation on the form, the confirmation or the
// "used" page.
func TestBrowserSurvey(t *testing.T) {
	tests := []struct {
		lang, acceptLang string
		session          int
		role             string
		answers          []*float64 // 0: left unanswered
		screenshots      bool
	}{
		{"en", "en-GB,en;q=0.9", 3, "client", floats(5, 4, 5, 4, 5, 5, 4, 1, 5, 4, 4, 0), true},
		{"sv", "sv-SE,sv;q=0.9,en;q=0.5", 4, "counsellor", floats(4, 3, 4, 4, 2, 3, 4, 3, 1, 3, 3, 5), false},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			e := newEnv(t)
			dyad := e.newDyad("wai_sr_client", "wai_sr_therapist")
			inv := e.invite(dyad.ID, tt.session, tt.role)
			if want := "/s/#" + inv.Token; inv.URL != want {
				t.Fatalf("invitation url = %q, want %q", inv.URL, want)
			}
			proxy := newSurveyProxy(t, e.engine)
			link := proxy.front.URL + inv.URL
			tab := browserTab(t, tt.acceptLang)

			do(t, tab, "open the link", chromedp.Navigate(link))
			waitView(t, tab, "view-form")
			if got := eval[string](t, tab, `document.documentElement.lang`); got != tt.lang {
				t.Errorf("page language = %q, want %q (Accept-Language %s)", got, tt.lang, tt.acceptLang)
			}
			if got, want := text(t, tab, "form-heading"), msg(t, tt.lang, "form.heading", "session", fmt.Sprint(tt.session)); got != want {
				t.Errorf("heading = %q, want %q", got, want)
			}
			if got, want := text(t, tab, "form-role"), msg(t, tt.lang, "form.role."+tt.role); got != want {
				t.Errorf("role line = %q, want %q", got, want)
			}
			if got, want := eval[string](t, tab, `document.querySelector('#q3 .item-text').textContent`), msg(t, tt.lang, "item.neutral", "n", "3"); got != want {
				t.Errorf("item 3 reads %q, want the neutral %q", got, want)
			}
			if got, want := eval[string](t, tab, `document.querySelector('#q1 .opt-label').textContent`), msg(t, tt.lang, "anchor.Seldom"); got != want {
				t.Errorf("first anchor = %q, want %q", got, want)
			}
			checkAxe(t, tab, "empty form")

			// Half the items, then a reload: nothing is lost.
			answerByKeyboard(t, tab, tt.answers, 0, 6, 1)
			half := append(slices.Clone(tt.answers[:6]), make([]*float64, 6)...)
			do(t, tab, "reload", chromedp.Reload())
			waitView(t, tab, "view-form")
			if got := pageAnswers(t, tab); !sameFloats(got, half) {
				t.Fatalf("after reload the page shows %s, want %s", fmtFloats(got), fmtFloats(half))
			}
			if got, want := text(t, tab, "progress-text"), msg(t, tt.lang, "progress", "answered", "6", "total", "12"); got != want {
				t.Errorf("progress after reload = %q, want %q", got, want)
			}
			if tt.screenshots {
				screenshot(t, tab, "survey-form", 390, 1280)
			}

			answerByKeyboard(t, tab, tt.answers, 6, 12, 1)
			if got := pageAnswers(t, tab); !sameFloats(got, tt.answers) {
				t.Fatalf("the page shows %s, want %s", fmtFloats(got), fmtFloats(tt.answers))
			}
			checkAxe(t, tab, "filled form")
			checkReflow(t, tab, 320)
			checkReflow(t, tab, 640)
			if got := eval[string](t, tab, `location.hash`); got != "#"+inv.Token {
				t.Errorf("location.hash = %q, want the token still there", got)
			}

			// Twice, as an impatient rater does: one submission all the same.
			tabTo(t, tab, "button submit")
			do(t, tab, "press Enter on the submit button twice", chromedp.KeyEvent(kb.Enter+kb.Enter))
			waitView(t, tab, "view-done")
			if got, want := text(t, tab, "done-heading"), msg(t, tt.lang, "done.heading"); got != want {
				t.Errorf("confirmation = %q, want %q", got, want)
			}
			if got := active(t, tab); got != "h1 done-heading" {
				t.Errorf("focus after sending = %q, want the confirmation heading", got)
			}
			if n := proxy.posts.Load(); n != 1 {
				t.Errorf("the page sent %d submissions, want 1", n)
			}
			stored := decode[api.RatingResponse](t, e.expect(http.StatusOK, http.MethodGet, ratingPath(dyad.ID, tt.session, tt.role), ""))
			if !sameFloats(stored.Answers, tt.answers) {
				t.Errorf("stored answers %s, want %s", fmtFloats(stored.Answers), fmtFloats(tt.answers))
			}
			if got := text(t, tab, "done-reference"); got != msg(t, tt.lang, "done.reference", "id", stored.ID) {
				t.Errorf("receipt reference = %q, want the rating %s", got, stored.ID)
			}
			if n := eval[int](t, tab, `Object.keys(localStorage).filter((k) => k.startsWith('alliance.survey.')).length`); n != 0 {
				t.Errorf("%d drafts left in localStorage after the rating was stored", n)
			}
			checkAxe(t, tab, "confirmation")
			checkReflow(t, tab, 320)
			if tt.screenshots {
				screenshot(t, tab, "survey-done", 390, 1280)
			}
			checkReceiptKept(t, tab, stored.ID)

			// Reloaded, or the link opened again, in this browser: the
			// confirmation the rater saw, with the same reference, not
			// "this link has already been used".
			received := text(t, tab, "done-received")
			do(t, tab, "reload the confirmation", chromedp.Reload())
			checkConfirmation(t, tab, tt.lang, stored.ID, received)
			checkAxe(t, tab, "confirmation after a reload")
			do(t, tab, "reopen the used link", chromedp.Navigate("about:blank"), chromedp.Navigate(link))
			checkConfirmation(t, tab, tt.lang, stored.ID, received)
			checkReceiptKept(t, tab, stored.ID)

			// The used link, opened in another browser (a fresh profile,
			// which keeps no receipt): used.
			other := browserTab(t, tt.acceptLang)
			do(t, other, "open the used link in another browser", chromedp.Navigate(link))
			waitView(t, other, "view-problem")
			if got, want := text(t, other, "problem-heading"), msg(t, tt.lang, "problem.used.heading"); got != want {
				t.Errorf("used link says %q, want %q", got, want)
			}
			checkAxe(t, other, "used link")
			checkReflow(t, other, 320)
			if tt.screenshots {
				screenshot(t, other, "survey-used", 390)
			}
			if rs := decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, ratingsPath(dyad.ID), "")); len(rs.Items) != 1 {
				t.Errorf("dyad has %d ratings, want 1", len(rs.Items))
			}
		})
	}
}

// checkConfirmation fails unless the page shows the confirmation in lang,
// with the rating's id as its reference and received as the time (as the
// page said when the rating was stored), and the focus on its heading.
func checkConfirmation(t *testing.T, tab context.Context, lang, ratingID, received string) {
	t.Helper()
	waitView(t, tab, "view-done")
	if got, want := text(t, tab, "done-heading"), msg(t, lang, "done.heading"); got != want {
		t.Errorf("confirmation = %q, want %q", got, want)
	}
	if got, want := text(t, tab, "done-reference"), msg(t, lang, "done.reference", "id", ratingID); got != want {
		t.Errorf("receipt reference = %q, want %q", got, want)
	}
	if got := text(t, tab, "done-received"); got != received || received == "" {
		t.Errorf("receipt time = %q, want %q", got, received)
	}
	if got := active(t, tab); got != "h1 done-heading" {
		t.Errorf("focus on the confirmation = %q, want its heading", got)
	}
	if got := eval[string](t, tab, `document.documentElement.lang`); got != lang {
		t.Errorf("confirmation in %q, want %s", got, lang)
	}
}

// checkReceiptKept fails unless the tab's localStorage keeps the receipt
// of ratingID, its id and time and how long it is kept, and no answers:
// no draft is left, and nothing kept holds answers.
func checkReceiptKept(t *testing.T, tab context.Context, ratingID string) {
	t.Helper()
	kept := eval[[]map[string]any](t, tab, `Object.keys(localStorage).filter((k) => k.startsWith('alliance.survey-receipt.'))
		.map((k) => JSON.parse(localStorage.getItem(k)))`)
	if len(kept) != 1 {
		t.Errorf("localStorage keeps %d receipts, want 1: %v", len(kept), kept)
		return
	}
	var fields []string
	for k := range kept[0] {
		fields = append(fields, k)
	}
	slices.Sort(fields)
	if !slices.Equal(fields, []string{"id", "received_at", "until", "v"}) || kept[0]["id"] != ratingID {
		t.Errorf("kept receipt = %v, want the id %s, received_at, until and v alone", kept[0], ratingID)
	}
	if until, err := time.Parse(time.RFC3339, fmt.Sprint(kept[0]["until"])); err != nil || until.Before(time.Now().Add(30*24*time.Hour)) {
		t.Errorf("receipt kept until %v, want 30 days after the link's expiry", kept[0]["until"])
	}
	if n := draftCount(t, tab); n != 0 {
		t.Errorf("%d drafts left in localStorage after the rating was stored", n)
	}
	if eval[bool](t, tab, `Object.values(localStorage).some((v) => v.includes('answers'))`) {
		t.Errorf("localStorage keeps answers after the rating was stored: %v", eval[map[string]string](t, tab, `({...localStorage})`))
	}
}

// TestBrowserSurveyLanguageAndGaps switches the language on the page by
// keyboard (the choice survives a reload) and checks that sending too few
// answers is refused on the page, with each gap named and reachable.
func TestBrowserSurveyLanguageAndGaps(t *testing.T) {
	e := newEnv(t)
	dyad := e.newDyad("wai_sr_client", "wai_sr_therapist")
	inv := e.invite(dyad.ID, 2, "client")
	proxy := newSurveyProxy(t, e.engine)
	tab := openLink(t, proxy, inv, "en-US,en;q=0.9")
	waitView(t, tab, "view-form")
	if got, want := text(t, tab, "form-heading"), msg(t, "en", "form.heading", "session", "2"); got != want {
		t.Fatalf("heading = %q, want %q", got, want)
	}
	// The language buttons come before the heading: Shift+Tab reaches them.
	for range 5 {
		if active(t, tab) == "button lang" && eval[string](t, tab, `document.activeElement.dataset.lang`) == "sv" {
			break
		}
		do(t, tab, "Shift+Tab", chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(kb.ModifierShift)))
	}
	do(t, tab, "press Space on Svenska", chromedp.KeyEvent(" "))
	waitText(t, tab, "form-heading", msg(t, "sv", "form.heading", "session", "2"))
	if got := eval[string](t, tab, `document.querySelector('button[data-lang="sv"]').getAttribute('aria-pressed')`); got != "true" {
		t.Errorf("Svenska aria-pressed = %q, want true", got)
	}
	answerByKeyboard(t, tab, floats(5, 4), 0, 2, 1)
	do(t, tab, "reload", chromedp.Reload())
	waitView(t, tab, "view-form")
	if got := eval[string](t, tab, `document.documentElement.lang`); got != "sv" {
		t.Errorf("after a reload the page language is %q, want the chosen sv", got)
	}

	// Ten gaps where three are allowed: refused on the page, nothing sent.
	do(t, tab, "submit", chromedp.Focus(chromedp.CSS("#submit")), chromedp.KeyEvent(kb.Enter))
	if got := active(t, tab); got != "div error-summary" {
		t.Errorf("focus after a refused submit = %q, want the error summary", got)
	}
	if got, want := text(t, tab, "error-summary-heading"), msg(t, "sv", "error.summary.heading"); got != want {
		t.Errorf("summary heading = %q, want %q", got, want)
	}
	if n := eval[int](t, tab, `document.querySelectorAll('#error-summary-list button').length`); n != 10 {
		t.Errorf("summary lists %d items, want the 10 unanswered", n)
	}
	checkAxe(t, tab, "form with errors")
	tabTo(t, tab, "button link")
	do(t, tab, "follow the first gap", chromedp.KeyEvent(kb.Enter))
	if got := active(t, tab); got != "radio q3 1" {
		t.Errorf("the first gap's button moved focus to %q, want item 3", got)
	}
	if got := eval[string](t, tab, `location.hash`); got != "#"+inv.Token {
		t.Errorf("location.hash = %q after following a gap, want the token kept", got)
	}
	if n := proxy.posts.Load(); n != 0 {
		t.Errorf("the page sent %d submissions with too many gaps, want 0", n)
	}
}

// TestBrowserSurveyItemTexts: with a licensed item-text file (here an
// invented fixture), items read in the page's language, else in a language
// the file has (marked with lang for screen readers), else neutrally.
func TestBrowserSurveyItemTexts(t *testing.T) {
	f, err := os.Open("testdata/item-texts.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cat, err := instrument.Builtin().WithTexts(f)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, envOptions{catalogue: cat})
	dyad := e.newDyad("wai_sr_client", "wai_sr_therapist")
	inv := e.invite(dyad.ID, 1, "client")
	proxy := newSurveyProxy(t, e.engine)
	tab := openLink(t, proxy, inv, "sv")
	waitView(t, tab, "view-form")
	itemText := func(key int) (string, string) {
		t.Helper()
		r := eval[[]string](t, tab, fmt.Sprintf(`(() => { const e = document.querySelector('#q%d .item-text');
			return [e.textContent, e.getAttribute('lang') || '']; })()`, key))
		return r[0], r[1]
	}
	for _, tt := range []struct {
		key        int
		text, lang string
	}{
		{1, "Påhittad formulering ett, en testfixtur", ""},
		{2, "Invented wording two, a test fixture", "en"},
		{3, msg(t, "sv", "item.neutral", "n", "3"), ""},
	} {
		if text, lang := itemText(tt.key); text != tt.text || lang != tt.lang {
			t.Errorf("sv page, item %d = %q (lang %q), want %q (lang %q)", tt.key, text, lang, tt.text, tt.lang)
		}
	}
	checkAxe(t, tab, "form with item texts")
	do(t, tab, "choose English", chromedp.Click(chromedp.CSS(`button[data-lang="en"]`)))
	waitText(t, tab, "form-heading", msg(t, "en", "form.heading", "session", "1"))
	if text, lang := itemText(1); text != "Invented wording one, a test fixture" || lang != "" {
		t.Errorf("en page, item 1 = %q (lang %q), want the English text", text, lang)
	}
}

// TestBrowserSurveyBadLinks: a link without a token and one with an
// unknown token each get a kind explanation, never a form.
func TestBrowserSurveyBadLinks(t *testing.T) {
	e := newEnv(t)
	proxy := newSurveyProxy(t, e.engine)
	tab := browserTab(t, "sv")
	for _, tt := range []struct{ fragment, kind string }{
		{"", "missing"},
		{"#als_01jd8x2k4m5n6p7q8r9s0t1v2w.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "invalid"},
	} {
		do(t, tab, "open "+tt.kind, chromedp.Navigate("about:blank"), chromedp.Navigate(proxy.front.URL+"/s/"+tt.fragment))
		waitView(t, tab, "view-problem")
		if got, want := text(t, tab, "problem-heading"), msg(t, "sv", "problem."+tt.kind+".heading"); got != want {
			t.Errorf("%s link: heading %q, want %q", tt.kind, got, want)
		}
		checkAxe(t, tab, tt.kind+" link")
	}
}

// TestBrowserSurveyRetry: the connection of the first submission breaks
// before it reaches the service. The page retries by itself with the same
// Idempotency-Key, and the rating is stored once and confirmed.
func TestBrowserSurveyRetry(t *testing.T) {
	e := newEnv(t)
	dyad := e.newDyad("wai_sr_client", "wai_sr_therapist")
	inv := e.invite(dyad.ID, 6, "client")
	proxy := newSurveyProxy(t, e.engine)
	proxy.cutFirst.Store(true)
	answers := floats(2, 3, 4, 4, 5, 0, 4, 4, 3, 3, 4, 4)
	tab := openLink(t, proxy, inv, "en")
	waitView(t, tab, "view-form")
	answerByKeyboard(t, tab, answers, 0, 12, 1)
	tabTo(t, tab, "button submit")
	do(t, tab, "send", chromedp.KeyEvent(kb.Enter))
	waitView(t, tab, "view-done")
	keys := proxy.idempotencyKeys()
	if len(keys) < 2 || keys[0] == "" || slices.ContainsFunc(keys, func(k string) bool { return k != keys[0] }) {
		t.Errorf("Idempotency-Keys of the attempts = %q, want one key, retried", keys)
	}
	rs := decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, ratingsPath(dyad.ID), ""))
	if len(rs.Items) != 1 || !sameFloats(rs.Items[0].Answers, answers) {
		t.Errorf("the dyad has %d ratings, want exactly 1 with %s", len(rs.Items), fmtFloats(answers))
	}
}

// TestBrowserSurveyDroppedResponse: the first submission reaches the
// service and is stored, but the connection is cut before the answer
// reaches the browser. The page retries with the same Idempotency-Key; the
// service must answer the retry with the stored receipt (a replay), so the
// page confirms and exactly one rating is stored.
//
// This needs the server-side replay of survey submissions (a retried POST
// /v1/survey with the same Idempotency-Key gets the first receipt with
// Idempotent-Replayed: true); until the service has it, the retry gets 410
// and this test fails on the page's "link has now been used" message.
func TestBrowserSurveyDroppedResponse(t *testing.T) {
	e := newEnv(t)
	dyad := e.newDyad("wai_sr_client", "wai_sr_therapist")
	inv := e.invite(dyad.ID, 5, "client")
	proxy := newSurveyProxy(t, e.engine)
	proxy.dropFirst.Store(true)
	answers := floats(3, 3, 4, 4, 5, 5, 4, 4, 3, 3, 4, 4)
	tab := openLink(t, proxy, inv, "en")
	waitView(t, tab, "view-form")
	answerByKeyboard(t, tab, answers, 0, 12, 1)
	tabTo(t, tab, "button submit")
	do(t, tab, "send", chromedp.KeyEvent(kb.Enter))
	select {
	case code := <-proxy.dropped:
		if code != http.StatusCreated {
			t.Fatalf("the dropped submission got %d from the service, want 201", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the page never sent the answers")
	}
	if rs := decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, ratingsPath(dyad.ID), "")); len(rs.Items) != 1 || !sameFloats(rs.Items[0].Answers, answers) {
		t.Fatalf("after the dropped response the dyad has %d ratings, want exactly 1 with %s", len(rs.Items), fmtFloats(answers))
	}
	waitView(t, tab, "view-done")
	if n := proxy.posts.Load(); n < 2 {
		t.Errorf("the page sent %d submissions, want a retry after the dropped one", n)
	}
	if got, want := text(t, tab, "done-heading"), msg(t, "en", "done.heading"); got != want {
		t.Errorf("confirmation = %q, want %q", got, want)
	}
	if rs := decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, ratingsPath(dyad.ID), "")); len(rs.Items) != 1 {
		t.Errorf("after the retry the dyad has %d ratings, want exactly 1", len(rs.Items))
	}
}

// TestBrowserSurveyStudyLanguage: the study's language wins over the
// browser's; the rater can still switch.
func TestBrowserSurveyStudyLanguage(t *testing.T) {
	e := newEnv(t)
	st := decode[api.StudyResponse](t, e.expect(http.StatusCreated, http.MethodPost, "/v1/studies",
		`{"name":"Svensk studie","forms":{"client":"wai_sr_client","counsellor":"wai_sr_therapist"},"language":"sv"}`))
	dyad := e.createDyad(st.ID, "C-001", "K-01")
	inv := e.invite(dyad.ID, 1, "client")
	proxy := newSurveyProxy(t, e.engine)
	tab := openLink(t, proxy, inv, "en-US,en;q=0.9")
	waitText(t, tab, "form-heading", msg(t, "sv", "form.heading", "session", "1"))
	if got := eval[string](t, tab, `document.documentElement.lang`); got != "sv" {
		t.Errorf("page language %q, want the study's sv over the browser's en", got)
	}
}

// TestBrowserSurveyCustomInstrument: a family defined through the API is
// rendered and answered like the WAI-SR: seven options per item on its
// 1–7 scale, the definition's Swedish anchor labels on a Swedish page, and
// a rating stored and scored with its own reverse keys.
func TestBrowserSurveyCustomInstrument(t *testing.T) {
	e := newEnv(t)
	e.defineFamily(customDefinition)
	dyad := e.newDyad("tst_client", "tst_counsellor")
	inv := e.invite(dyad.ID, 1, "counsellor")
	proxy := newSurveyProxy(t, e.engine)
	tab := openLink(t, proxy, inv, "sv-SE,sv;q=0.9")
	waitView(t, tab, "view-form")
	if n := eval[int](t, tab, `document.querySelectorAll('#q1 input[type=radio]').length`); n != 7 {
		t.Errorf("item 1 offers %d options, want 7", n)
	}
	for _, tt := range []struct{ value, want string }{{"1", "Aldrig"}, {"4", "Ibland"}, {"7", "Alltid"}} {
		got := eval[string](t, tab, `(() => { const i = document.querySelector('#q1 input[value="`+tt.value+`"]');
			return i.closest('label').querySelector('.opt-label').textContent; })()`)
		if got != tt.want {
			t.Errorf("anchor %s reads %q, want the definition's %q", tt.value, got, tt.want)
		}
	}
	checkAxe(t, tab, "custom form")
	answers := floats(2, 5, 5, 1, 6, 6)
	answerByKeyboard(t, tab, answers, 0, 6, 1)
	tabTo(t, tab, "button submit")
	do(t, tab, "press Enter on the submit button", chromedp.KeyEvent(kb.Enter))
	waitView(t, tab, "view-done")
	stored := decode[api.RatingResponse](t, e.expect(http.StatusOK, http.MethodGet, ratingPath(dyad.ID, 1, "counsellor"), ""))
	if !sameFloats(stored.Answers, answers) || stored.Instrument != "tst_counsellor@1" {
		t.Errorf("stored %s on %s, want %s on tst_counsellor@1", fmtFloats(stored.Answers), stored.Instrument, fmtFloats(answers))
	}
	checkScore(t, "counsellor bond", stored.Scores.Subscales["bond"], 19.0/3, 19, 3, 3, false)
}

// clickAnswers picks every non-nil answer with a click on its radio
// button (for tests whose subject is not the keyboard).
func clickAnswers(t *testing.T, tab context.Context, answers []*float64) {
	t.Helper()
	for i, v := range answers {
		if v == nil {
			continue
		}
		if !eval[bool](t, tab, fmt.Sprintf(`(() => { const i = document.querySelector('#q%d input[value="%g"]');
			i.click(); return i.checked; })()`, i+1, *v)) {
			t.Fatalf("item %d: %g is not picked after a click", i+1, *v)
		}
	}
}

// studyIn creates a study of the WAI-SR whose survey language is lang and
// a dyad in it.
func (e *env) studyIn(lang string) api.DyadResponse {
	e.t.Helper()
	st := decode[api.StudyResponse](e.t, e.expect(http.StatusCreated, http.MethodPost, "/v1/studies",
		`{"name":"Studie","forms":{"client":"wai_sr_client","counsellor":"wai_sr_therapist"},"language":"`+lang+`"}`))
	return e.createDyad(st.ID, "C-001", "K-01")
}

// checkProblemPage fails unless the page shows the problem page of kind in
// lang: heading, body and help, and the page's lang attribute.
func checkProblemPage(t *testing.T, tab context.Context, kind, lang string) {
	t.Helper()
	waitView(t, tab, "view-problem")
	for _, part := range []string{"heading", "body", "help"} {
		if got, want := text(t, tab, "problem-"+part), msg(t, lang, "problem."+kind+"."+part); got != want {
			t.Errorf("%s link: problem %s = %q, want %q", kind, part, got, want)
		}
	}
	if got := eval[string](t, tab, `document.documentElement.lang`); got != lang {
		t.Errorf("%s link: page language %q, want %q", kind, got, lang)
	}
}

// TestBrowserSurveyGoneLinks: a link that can no longer be answered says
// why, by the 410's code, in the study's language (the problem's
// language), whatever the browser's: revoked while the rater fills in the
// form (nothing stored: not "your answers were most likely stored"), and
// a revoked, a used and an expired link opened in a browser that never
// saw them.
func TestBrowserSurveyGoneLinks(t *testing.T) {
	e := newEnv(t)
	dyad := e.studyIn("sv")
	proxy := newSurveyProxy(t, e.engine)
	answers := floats(3, 3, 4, 4, 5, 5, 4, 4, 3, 3, 4, 4)

	revoked := e.invite(dyad.ID, 1, "client")
	tab := openLink(t, proxy, revoked, "en-US,en;q=0.9")
	waitView(t, tab, "view-form")
	waitText(t, tab, "form-heading", msg(t, "sv", "form.heading", "session", "1"))
	clickAnswers(t, tab, answers)
	e.expect(http.StatusOK, http.MethodDelete, "/v1/invitations/"+revoked.ID, "")
	do(t, tab, "send", chromedp.Click(chromedp.CSS("#submit")))
	checkProblemPage(t, tab, "revoked", "sv")
	checkAxe(t, tab, "revoked after filling in")
	if rs := decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, ratingsPath(dyad.ID), "")); len(rs.Items) != 0 {
		t.Errorf("the dyad has %d ratings after a send through a revoked link, want 0", len(rs.Items))
	}

	used := e.invite(dyad.ID, 2, "client")
	e.expect(http.StatusCreated, http.MethodPost, "/v1/survey", `{"answers":`+refClient+`}`, "Authorization", "Bearer "+used.Token)
	expired := e.invite(dyad.ID, 3, "client")
	for _, tc := range []struct {
		kind string
		inv  api.InvitationResponse
	}{{"revoked", revoked}, {"used", used}, {"expired", expired}} {
		if tc.kind == "expired" { // the service's answer once its week is over
			proxy.gone.Store(&api.Problem{Type: "urn:alliance:problem:survey-link-gone", Title: "Gone", Status: http.StatusGone,
				Detail: "this survey link has expired: nothing was stored through it", Code: "link_expired", Language: "sv"})
		}
		tab := browserTab(t, "en-US,en;q=0.9")
		do(t, tab, "open the "+tc.kind+" link", chromedp.Navigate(proxy.front.URL+tc.inv.URL))
		checkProblemPage(t, tab, tc.kind, "sv")
		checkAxe(t, tab, tc.kind+" link")
	}
}

// TestBrowserSurveyLanguageKept: the page's language outlives the draft.
// A rater who chose English on a Swedish study's page reads the
// confirmation recovered after a reload in English after the rating is
// stored (and the draft removed), and so the "used" page once the receipt
// is no longer kept; a page reloaded while a send's outcome is unknown
// confirms the recovered rating in the study's language, not the
// browser's.
func TestBrowserSurveyLanguageKept(t *testing.T) {
	e := newEnv(t)
	dyad := e.studyIn("sv")
	answers := floats(3, 3, 4, 4, 5, 5, 4, 4, 3, 3, 4, 4)
	tab := browserTab(t, "en-US,en;q=0.9")

	proxy := newSurveyProxy(t, e.engine)
	inv := e.invite(dyad.ID, 1, "client")
	do(t, tab, "open the link", chromedp.Navigate(proxy.front.URL+inv.URL))
	waitText(t, tab, "form-heading", msg(t, "sv", "form.heading", "session", "1"))
	do(t, tab, "choose English", chromedp.Click(chromedp.CSS(`button[data-lang="en"]`)))
	waitText(t, tab, "form-heading", msg(t, "en", "form.heading", "session", "1"))
	clickAnswers(t, tab, answers)
	do(t, tab, "send", chromedp.Click(chromedp.CSS("#submit")))
	waitView(t, tab, "view-done")
	ref, received := text(t, tab, "done-reference"), text(t, tab, "done-received")
	do(t, tab, "reload", chromedp.Reload())
	waitView(t, tab, "view-done")
	if got, want := text(t, tab, "done-heading"), msg(t, "en", "done.heading"); got != want {
		t.Errorf("confirmation after a reload = %q, want the chosen English %q", got, want)
	}
	if got, gotAt := text(t, tab, "done-reference"), text(t, tab, "done-received"); got != ref || gotAt != received {
		t.Errorf("confirmation after a reload: %q, %q; want %q, %q", got, gotAt, ref, received)
	}
	// The receipt's keeping time is over: it is swept, and the link says
	// it was used, in the chosen language all the same.
	eval[bool](t, tab, `(() => { for (const k of Object.keys(localStorage).filter((k) => k.startsWith('alliance.survey-receipt.'))) {
		const r = JSON.parse(localStorage.getItem(k)); r.until = new Date(Date.now() - 1000).toISOString();
		localStorage.setItem(k, JSON.stringify(r)); } return true; })()`)
	do(t, tab, "reload", chromedp.Reload())
	checkProblemPage(t, tab, "used", "en")
	if n := eval[int](t, tab, `Object.keys(localStorage).filter((k) => k.startsWith('alliance.survey-receipt.')).length`); n != 0 {
		t.Errorf("%d receipts kept past their time", n)
	}

	held := newSurveyProxy(t, e.engine)
	held.holdFirst.Store(true)
	inv = e.invite(dyad.ID, 2, "client")
	do(t, tab, "open the second link", chromedp.Navigate(held.front.URL+inv.URL))
	waitText(t, tab, "form-heading", msg(t, "sv", "form.heading", "session", "2"))
	clickAnswers(t, tab, answers)
	do(t, tab, "send", chromedp.Click(chromedp.CSS("#submit")))
	select {
	case code := <-held.dropped:
		if code != http.StatusCreated {
			t.Fatalf("the held submission got %d from the service, want 201", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the page never sent the answers")
	}
	do(t, tab, "reload while the answer is held back", chromedp.Reload())
	waitView(t, tab, "view-done")
	if got, want := text(t, tab, "done-heading"), msg(t, "sv", "done.heading"); got != want {
		t.Errorf("recovered confirmation = %q, want the study's Swedish %q", got, want)
	}
	if got := eval[string](t, tab, `document.documentElement.lang`); got != "sv" {
		t.Errorf("recovered confirmation in %q, want sv", got)
	}
}

// TestBrowserSurveySkips: the page says how many items may stay blank as
// it then holds the rater to it: with the WAI-SR's three 4-item subscales
// and the default 0.25, three in all but one per subscale (so that every
// scale is scored). Items 1 and 2 (both in the task subscale) blank are
// refused; answering item 1 lifts item 2's error, as it may now stay
// blank, and the rating is stored with every scale scored.
func TestBrowserSurveySkips(t *testing.T) {
	e := newEnv(t)
	dyad := e.newDyad("wai_sr_client", "wai_sr_therapist")
	inv := e.invite(dyad.ID, 1, "client")
	proxy := newSurveyProxy(t, e.engine)
	tab := openLink(t, proxy, inv, "en")
	waitView(t, tab, "view-form")
	if got, want := text(t, tab, "form-skips"), msg(t, "en", "form.skips.grouped.other", "n", "3"); got != want {
		t.Errorf("skips = %q, want %q", got, want)
	}
	groups := eval[[]string](t, tab, `[...document.querySelectorAll('#form-skips-groups li')].map((l) => l.textContent)`)
	var want []string
	for _, items := range []string{"1, 2, 10, and 12", "3, 5, 7, and 9", "4, 6, 8, and 11"} {
		want = append(want, msg(t, "en", "form.skips.group.one", "items", items))
	}
	if !slices.Equal(groups, want) {
		t.Errorf("per-subscale limits = %q, want %q", groups, want)
	}

	answers := floats(0, 0, 4, 4, 5, 5, 4, 4, 3, 3, 4, 4)
	clickAnswers(t, tab, answers)
	do(t, tab, "send", chromedp.Click(chromedp.CSS("#submit")))
	if got := eval[[]string](t, tab, `[...document.querySelectorAll('#error-summary-list button')].map((b) => b.textContent)`); !slices.Equal(got, []string{"Statement 1", "Statement 2"}) {
		t.Errorf("summary lists %q, want statements 1 and 2", got)
	}
	if got, want := text(t, tab, "error-summary-text"), msg(t, "en", "error.missing.one"); got != want {
		t.Errorf("summary says %q, want %q", got, want)
	}
	missing := "Error: " + msg(t, "en", "item.error.missing")
	for _, id := range []string{"q1-error", "q2-error"} {
		if got := text(t, tab, id); got != missing || eval[bool](t, tab, `document.getElementById('`+id+`').hidden`) {
			t.Errorf("#%s = %q, want %q shown", id, got, missing)
		}
	}
	checkAxe(t, tab, "form with a subscale's gaps")

	answers[0] = floats(4)[0]
	clickAnswers(t, tab, answers[:1])
	if eval[bool](t, tab, `!document.getElementById('q2-error').hidden || document.getElementById('q2').classList.contains('has-error')`) {
		t.Errorf("item 2 still says %q once it may stay blank", text(t, tab, "q2-error"))
	}
	if !eval[bool](t, tab, `document.getElementById('error-summary').hidden`) {
		t.Errorf("the error summary stays once nothing is left to answer: %q", text(t, tab, "error-summary"))
	}
	do(t, tab, "send", chromedp.Click(chromedp.CSS("#submit")))
	waitView(t, tab, "view-done")
	stored := decode[api.RatingResponse](t, e.expect(http.StatusOK, http.MethodGet, ratingPath(dyad.ID, 1, "client"), ""))
	if !sameFloats(stored.Answers, answers) {
		t.Errorf("stored %s, want %s", fmtFloats(stored.Answers), fmtFloats(answers))
	}
	for _, scale := range []string{"goal", "task", "bond"} {
		if stored.Scores.Subscales[scale].Mean == nil {
			t.Errorf("subscale %s unscored, want every scale scored", scale)
		}
	}
	if stored.Scores.Total.Mean == nil {
		t.Error("total unscored")
	}
}

// TestBrowserSurveyNumberEntry: on the SRS (0–10 in steps of 0.1, a number
// field) the hint names the step; 7.25 is told to keep to the step (with
// the two nearest values) and 11 to keep to the range, and both messages
// stay when Send is pressed (not "Please answer this statement"), with
// nothing sent until they are fixed.
func TestBrowserSurveyNumberEntry(t *testing.T) {
	e := newEnv(t)
	st := decode[api.StudyResponse](t, e.expect(http.StatusCreated, http.MethodPost, "/v1/studies",
		`{"name":"SRS","forms":{"client":"srs_client"}}`))
	dyad := e.createDyad(st.ID, "C-001", "K-01")
	inv := e.invite(dyad.ID, 1, "client")
	proxy := newSurveyProxy(t, e.engine)
	tab := openLink(t, proxy, inv, "en")
	waitView(t, tab, "view-form")
	if got, want := text(t, tab, "q1-value-hint"), msg(t, "en", "scale.range", "min", "0", "max", "10", "step", "0.1", "minLabel", "Low", "maxLabel", "High"); got != want {
		t.Errorf("hint = %q, want %q", got, want)
	}
	do(t, tab, "type the answers",
		chromedp.SendKeys(chromedp.CSS("#q1-value"), "7.25"+kb.Tab),
		chromedp.SendKeys(chromedp.CSS("#q2-value"), "11"+kb.Tab),
		chromedp.SendKeys(chromedp.CSS("#q3-value"), "5"+kb.Tab),
		chromedp.SendKeys(chromedp.CSS("#q4-value"), "6.5"+kb.Tab))
	stepErr := "Error: " + msg(t, "en", "item.error.step", "step", "0.1", "lower", "7.2", "upper", "7.3")
	rangeErr := "Error: " + msg(t, "en", "item.error.range", "min", "0", "max", "10")
	check := func(when string) {
		t.Helper()
		for id, want := range map[string]string{"q1-error": stepErr, "q2-error": rangeErr} {
			if got := text(t, tab, id); got != want || eval[bool](t, tab, `document.getElementById('`+id+`').hidden`) {
				t.Errorf("%s: #%s = %q, want %q shown", when, id, got, want)
			}
		}
	}
	check("typed")
	do(t, tab, "send", chromedp.Click(chromedp.CSS("#submit")))
	check("after Send")
	if got, want := text(t, tab, "error-summary-heading"), msg(t, "en", "error.summary.check"); got != want {
		t.Errorf("summary heading = %q, want %q", got, want)
	}
	if n := eval[int](t, tab, `document.querySelectorAll('#error-summary-list button').length`); n != 2 {
		t.Errorf("summary lists %d entries, want the 2 to correct", n)
	}
	checkAxe(t, tab, "number entries with errors")
	if n := proxy.posts.Load(); n != 0 {
		t.Errorf("the page sent %d submissions with entries off the scale, want 0", n)
	}

	for id, v := range map[string]string{"q1-value": "7.3", "q2-value": "10"} {
		eval[bool](t, tab, `(() => { const i = document.getElementById('`+id+`'); i.value = ''; i.focus(); return true; })()`)
		do(t, tab, "retype "+id, chromedp.SendKeys(chromedp.CSS("#"+id), v+kb.Tab))
	}
	if !eval[bool](t, tab, `document.getElementById('error-summary').hidden`) {
		t.Errorf("the summary stays after the entries were corrected")
	}
	do(t, tab, "send", chromedp.Click(chromedp.CSS("#submit")))
	waitView(t, tab, "view-done")
	stored := decode[api.RatingResponse](t, e.expect(http.StatusOK, http.MethodGet, ratingPath(dyad.ID, 1, "client"), ""))
	if want := []*float64{new(7.3), new(10.0), new(5.0), new(6.5)}; !sameFloats(stored.Answers, want) {
		t.Errorf("stored %s, want %s", fmtFloats(stored.Answers), fmtFloats(want))
	}
}

// TestBrowserSurveyScaleLayout: anchor labels never break inside a word
// (Chromium on Linux has no hyphenation dictionary) nor stick out of
// their answer box, at 1280 px and at 640 px (1280 at 200 % zoom), for
// the WAI-S's 7-point English labels ("Occasionally") in English and
// Swedish; the WAI-SR's 5 points stay a row of columns on a wide screen.
func TestBrowserSurveyScaleLayout(t *testing.T) {
	e := newEnv(t)
	st := decode[api.StudyResponse](t, e.expect(http.StatusCreated, http.MethodPost, "/v1/studies",
		`{"name":"WAI-S","forms":{"client":"wai_s_client","counsellor":"wai_s_therapist"}}`))
	waiS := e.invite(e.createDyad(st.ID, "C-001", "K-01").ID, 1, "client")
	waiSR := e.invite(e.newDyad("wai_sr_client", "wai_sr_therapist").ID, 1, "client")
	proxy := newSurveyProxy(t, e.engine)
	broken := `(() => { const bad = [];
		for (const l of document.querySelectorAll('#items .opt-label')) {
			const b = l.closest('.opt').getBoundingClientRect(), r = l.getBoundingClientRect();
			if (r.left < b.left - 0.5 || r.right > b.right + 0.5) bad.push(l.textContent + ' sticks out of its box');
			const node = l.firstChild;
			if (!node) continue;
			for (const m of l.textContent.matchAll(/\S+/g)) {
				const range = document.createRange();
				range.setStart(node, m.index);
				range.setEnd(node, m.index + m[0].length);
				if (range.getClientRects().length > 1) bad.push(l.textContent + ': "' + m[0] + '" is broken');
			}
		}
		return [...new Set(bad)]; })()`
	columns := `getComputedStyle(document.querySelector('#q1 .scale')).gridTemplateColumns.trim().split(/\s+/).length`
	for _, tc := range []struct {
		name, lang string
		inv        api.InvitationResponse
		wideCols   int // columns at 1280 px; 0: not checked
	}{{"WAI-S en", "en", waiS, 0}, {"WAI-S sv", "sv", waiS, 0}, {"WAI-SR en", "en", waiSR, 5}} {
		tab := browserTab(t, tc.lang)
		do(t, tab, "open "+tc.name, chromedp.Navigate(proxy.front.URL+tc.inv.URL))
		waitView(t, tab, "view-form")
		for _, w := range []int64{1280, 640} {
			if _, err := chromedp.Call(tab, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
				Width: w, Height: 900, DeviceScaleFactor: 1,
			}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond) // the resize, then fitScales
			if bad := eval[[]string](t, tab, broken); len(bad) > 0 {
				t.Errorf("%s at %d px: %q", tc.name, w, bad)
			}
			if n := eval[int](t, tab, columns); w == 1280 && tc.wideCols > 0 && n != tc.wideCols {
				t.Errorf("%s at %d px: the scale has %d columns, want %d", tc.name, w, n, tc.wideCols)
			}
		}
		checkAxe(t, tab, tc.name)
		checkReflow(t, tab, 320)
	}
}

// TestBrowserSurveyOfflineGiveUp: when the automatic retries of a send
// give up (the connection stays lost), the send button is itself again
// ("Send answers", not aria-disabled) beside "could not be sent" and "Try
// again", and trying again once the connection is back stores the rating.
func TestBrowserSurveyOfflineGiveUp(t *testing.T) {
	e := newEnv(t)
	dyad := e.newDyad("wai_sr_client", "wai_sr_therapist")
	inv := e.invite(dyad.ID, 1, "client")
	proxy := newSurveyProxy(t, e.engine)
	proxy.cutAll.Store(true)
	answers := floats(3, 3, 4, 4, 5, 5, 4, 4, 3, 3, 4, 4)
	tab := openLink(t, proxy, inv, "en")
	waitView(t, tab, "view-form")
	clickAnswers(t, tab, answers)
	do(t, tab, "send", chromedp.Click(chromedp.CSS("#submit")))
	deadline := time.Now().Add(20 * time.Second)
	for eval[bool](t, tab, `document.getElementById('send-problem').hidden`) {
		if time.Now().After(deadline) {
			t.Fatalf("the page never gave up; it says %q", text(t, tab, "send-status"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got, want := text(t, tab, "send-problem-text"), "Error: "+msg(t, "en", "status.offline"); got != want {
		t.Errorf("send problem = %q, want %q", got, want)
	}
	type button struct {
		Text, AriaDisabled string
		Busy               bool
	}
	got := eval[button](t, tab, `(() => { const b = document.getElementById('submit');
		return {Text: b.textContent, AriaDisabled: b.getAttribute('aria-disabled'), Busy: b.classList.contains('busy')}; })()`)
	if want := (button{Text: msg(t, "en", "submit.label"), AriaDisabled: "false"}); got != want {
		t.Errorf("send button after giving up = %+v, want %+v", got, want)
	}
	checkAxe(t, tab, "send given up")
	proxy.cutAll.Store(false)
	do(t, tab, "try again", chromedp.Click(chromedp.CSS("#send-retry")))
	waitView(t, tab, "view-done")
	if rs := decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, ratingsPath(dyad.ID), "")); len(rs.Items) != 1 || !sameFloats(rs.Items[0].Answers, answers) {
		t.Errorf("the dyad has %d ratings, want exactly 1 with %s", len(rs.Items), fmtFloats(answers))
	}
}

// halfStepFamily is a one-form family "<id>" of two items on 0–10 in
// steps of 0.5 (21 points: a number field), with anchors (a JSON array).
func halfStepFamily(id, anchors string) string {
	return `{"id": "` + id + `", "version": "1", "name": "Half steps", "citation": "synthetic, for tests",
  "licence_note": "no licence needed: synthetic", "items": 2,
  "scale": {"min": 0, "max": 10, "step": 0.5, "anchors": ` + anchors + `},
  "forms": [{"id": "` + id + `_client", "role": "client"}]}`
}

// TestBrowserSurveyRangeHint: a number field's hint names the anchor
// labels of the scale's ends only where there are some: no empty
// brackets on a scale without anchors ("A number from 0 () to 10 ()"), or
// at the end of a scale that labels only its other end; in English and
// Swedish.
func TestBrowserSurveyRangeHint(t *testing.T) {
	e := newEnv(t)
	e.defineFamily(halfStepFamily("hna", `[]`))
	e.defineFamily(halfStepFamily("hlo", `[{"value": 0, "labels": {"en": "None", "sv": "Inget"}}]`))
	e.defineFamily(halfStepFamily("hhi", `[{"value": 5, "labels": {"en": "Half", "sv": "Hälften"}}, {"value": 10, "labels": {"en": "All", "sv": "Allt"}}]`))
	proxy := newSurveyProxy(t, e.engine)
	for _, tc := range []struct {
		family, lang, key string
		args              []string
	}{
		{"hna", "en", "scale.range.unlabelled", nil},
		{"hna", "sv", "scale.range.unlabelled", nil},
		{"hlo", "en", "scale.range.minLabel", []string{"minLabel", "None"}},
		{"hhi", "sv", "scale.range.maxLabel", []string{"maxLabel", "Allt"}},
	} {
		st := decode[api.StudyResponse](t, e.expect(http.StatusCreated, http.MethodPost, "/v1/studies",
			`{"name":"Half steps `+tc.family+` `+tc.lang+`","forms":{"client":"`+tc.family+`_client"},"language":"`+tc.lang+`"}`))
		inv := e.invite(e.createDyad(st.ID, "C-001", "K-01").ID, 1, "client")
		tab := openLink(t, proxy, inv, tc.lang)
		waitView(t, tab, "view-form")
		number := "0,5"
		if tc.lang == "en" {
			number = "0.5"
		}
		want := msg(t, tc.lang, tc.key, append([]string{"min", "0", "max", "10", "step", number}, tc.args...)...)
		for _, id := range []string{"q1-value-hint", "q2-value-hint"} {
			got := text(t, tab, id)
			if got != want || strings.Contains(got, "()") || strings.Contains(got, "{") {
				t.Errorf("%s %s: #%s = %q, want %q", tc.family, tc.lang, id, got, want)
			}
		}
		checkAxe(t, tab, "number fields of "+tc.family+" in "+tc.lang)
	}
}

// draftCount is how many survey drafts the tab's localStorage holds.
func draftCount(t *testing.T, tab context.Context) int {
	t.Helper()
	return eval[int](t, tab, `Object.keys(localStorage).filter((k) => k.startsWith('alliance.survey.')).length`)
}

// TestBrowserSurveyTwoTabs: two tabs on one link share one draft, and so
// one Idempotency-Key. Tab A sends its answers and they are stored; tab B,
// which could not learn of it (its check of the link fails, see
// TestBrowserSurveyOtherTabSent), then sends other answers under the same
// key, which the service refuses (409, idempotency-key-reuse). Tab B must say that its answers were not
// stored, not that the link "has now been used" with "your answers most
// likely stored"; the rating keeps tab A's answers.
func TestBrowserSurveyTwoTabs(t *testing.T) {
	for _, lang := range []string{"en", "sv"} {
		t.Run(lang, func(t *testing.T) {
			e := newEnv(t)
			dyad := e.studyIn(lang)
			inv := e.invite(dyad.ID, 1, "client")
			proxy := newSurveyProxy(t, e.engine)
			first := floats(5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5)
			second := floats(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)

			tabA := openLink(t, proxy, inv, lang)
			waitView(t, tabA, "view-form")
			tabB := anotherTab(t, tabA)
			do(t, tabB, "open the link in another tab", chromedp.Navigate(proxy.front.URL+inv.URL))
			waitView(t, tabB, "view-form")
			if n := draftCount(t, tabB); n != 1 {
				t.Fatalf("the two tabs keep %d drafts, want the one they share", n)
			}
			proxy.cutGets.Store(true)
			clickAnswers(t, tabA, first)
			clickAnswers(t, tabB, second)

			do(t, tabA, "send from tab A", chromedp.Click(chromedp.CSS("#submit")))
			waitView(t, tabA, "view-done")
			do(t, tabB, "send other answers from tab B", chromedp.Click(chromedp.CSS("#submit")))
			checkProblemPage(t, tabB, "notStored", lang)
			if got := active(t, tabB); got != "h1 problem-heading" {
				t.Errorf("focus after the refused send = %q, want the problem heading", got)
			}
			checkAxe(t, tabB, "answers not stored")
			checkReflow(t, tabB, 320)

			if keys := proxy.idempotencyKeys(); len(keys) != 2 || keys[0] == "" || keys[0] != keys[1] {
				t.Errorf("Idempotency-Keys of the two sends = %q, want the shared draft's key twice", keys)
			}
			rs := decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, ratingsPath(dyad.ID), ""))
			if len(rs.Items) != 1 || !sameFloats(rs.Items[0].Answers, first) {
				t.Errorf("the dyad has %d ratings, want exactly 1, with tab A's answers %s", len(rs.Items), fmtFloats(first))
			}
			if n := draftCount(t, tabB); n != 0 {
				t.Errorf("%d drafts left after the link was used", n)
			}
			checkReceiptKept(t, tabB, rs.Items[0].ID) // tab A's, which the refusal leaves
		})
	}
}

// TestBrowserSurveyOtherTabSent: a tab on a link learns when another tab
// on it has removed the draft they share. When the other tab's answers
// are stored, the tab says the link was used at once, without the rater
// answering again and sending for nothing; when the link still works (the
// other tab had an incomplete link with the same id, so it removed the
// draft as unknown), the tab keeps its answers again.
func TestBrowserSurveyOtherTabSent(t *testing.T) {
	e := newEnv(t)
	dyad := e.studyIn("sv")
	proxy := newSurveyProxy(t, e.engine)
	answers := floats(5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5)

	inv := e.invite(dyad.ID, 1, "client")
	tabA := openLink(t, proxy, inv, "en")
	waitView(t, tabA, "view-form")
	tabB := anotherTab(t, tabA)
	do(t, tabB, "open the link in another tab", chromedp.Navigate(proxy.front.URL+inv.URL))
	waitView(t, tabB, "view-form")
	clickAnswers(t, tabB, floats(1, 1, 1))
	clickAnswers(t, tabA, answers)
	do(t, tabA, "send from tab A", chromedp.Click(chromedp.CSS("#submit")))
	waitView(t, tabA, "view-done")
	// Tab B showed other answers than the stored ones: these were not
	// stored, not "used: the answers sent are stored", though tab A kept
	// its receipt.
	checkProblemPage(t, tabB, "notStored", "sv")
	if got := active(t, tabB); got != "h1 problem-heading" {
		t.Errorf("tab B's focus = %q, want the problem heading", got)
	}
	if n := proxy.posts.Load(); n != 1 {
		t.Errorf("the tabs sent %d submissions, want tab A's alone", n)
	}
	if n := draftCount(t, tabB); n != 0 {
		t.Errorf("%d drafts left after the link was used", n)
	}
	rs := decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, ratingsPath(dyad.ID), ""))
	if len(rs.Items) != 1 || !sameFloats(rs.Items[0].Answers, answers) {
		t.Errorf("the dyad has %d ratings, want exactly 1, with tab A's answers %s", len(rs.Items), fmtFloats(answers))
	}
	// Reloaded, tab B shows no answers of its own: it confirms what this
	// browser sent, with tab A's reference.
	checkReceiptKept(t, tabB, rs.Items[0].ID)
	received := text(t, tabA, "done-received")
	do(t, tabB, "reload tab B", chromedp.Reload())
	checkConfirmation(t, tabB, "sv", rs.Items[0].ID, received)

	// Another link, and a third tab with a wrong secret under its id.
	inv = e.invite(dyad.ID, 2, "client")
	do(t, tabB, "open the second link", chromedp.Navigate("about:blank"), chromedp.Navigate(proxy.front.URL+inv.URL))
	waitView(t, tabB, "view-form")
	half := floats(2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0)
	clickAnswers(t, tabB, half)
	id, secret, _ := strings.Cut(inv.Token, ".")
	tabC := anotherTab(t, tabB)
	do(t, tabC, "open the link with a wrong secret", chromedp.Navigate(proxy.front.URL+"/s/#"+id+"."+strings.Repeat("A", len(secret))))
	checkProblemPage(t, tabC, "invalid", "sv") // the study's language, kept under the id
	for deadline := time.Now().Add(5 * time.Second); draftCount(t, tabB) != 1; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("tab B never kept its draft again after the other tab removed it")
		}
	}
	waitView(t, tabB, "view-form")
	do(t, tabB, "reload tab B", chromedp.Reload())
	waitView(t, tabB, "view-form")
	if got := pageAnswers(t, tabB); !sameFloats(got, half) {
		t.Errorf("after the reload tab B shows %s, want its answers %s", fmtFloats(got), fmtFloats(half))
	}
}

// TestBrowserSurveyNoScript: without JavaScript the page shows its notice
// alone, not also "Loading your questionnaire…", which would never go;
// with JavaScript the script shows the loading view while the form is on
// its way, and never the notice.
func TestBrowserSurveyNoScript(t *testing.T) {
	e := newEnv(t)
	inv := e.invite(e.newDyad("wai_sr_client", "wai_sr_therapist").ID, 1, "client")
	proxy := newSurveyProxy(t, e.engine)
	loading, notice := msg(t, "en", "page.loading"), msg(t, "en", "page.noscript")
	// shown is what the page shows in its main part (innerText leaves out
	// what is hidden).
	shown := func(tab context.Context) string {
		t.Helper()
		return strings.TrimSpace(eval[string](t, tab, `document.querySelector('main').innerText`))
	}

	tab := browserTab(t, "en")
	if _, err := chromedp.Call(tab, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	do(t, tab, "open the link without JavaScript", chromedp.Navigate(proxy.front.URL+inv.URL))
	if got := shown(tab); got != notice {
		t.Errorf("without JavaScript the page shows %q, want the notice %q alone", got, notice)
	}

	hold := make(chan struct{})
	proxy.holdGets.Store(&hold)
	tab = openLink(t, proxy, inv, "en")
	for deadline := time.Now().Add(10 * time.Second); shown(tab) != loading; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("while the form is on its way the page shows %q, want %q", shown(tab), loading)
		}
	}
	close(hold)
	waitView(t, tab, "view-form")
	if got := shown(tab); strings.Contains(got, notice) || strings.Contains(got, loading) {
		t.Errorf("the form shows the notice or the loading text: %q", got)
	}
}

// TestBrowserSurveyRatedElsewhere: a link whose session and role were
// rated another way since it was sent (a tablet, the API) says so when it
// opens, in the study's language: nothing was sent through it, nothing
// more is needed; not "used" (its rater sent nothing), and before the
// rater answers anything.
func TestBrowserSurveyRatedElsewhere(t *testing.T) {
	e := newEnv(t)
	dyad := e.studyIn("sv")
	inv := e.invite(dyad.ID, 1, "client")
	e.postRating(dyad.ID, 1, "client", refClient)
	proxy := newSurveyProxy(t, e.engine)
	tab := openLink(t, proxy, inv, "en")
	checkProblemPage(t, tab, "rated", "sv")
	if got := active(t, tab); got != "h1 problem-heading" {
		t.Errorf("focus = %q, want the problem heading", got)
	}
	checkAxe(t, tab, "rated elsewhere")
	if n := proxy.posts.Load(); n != 0 {
		t.Errorf("the page sent %d submissions, want none", n)
	}
}
