package api

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/dashboard"
	"github.com/alliance-project/alliance/internal/stats"
)

// The analysts' dashboard (/ui/): sign-in with an API key, then pages
// that show a study's agreement and embed its plots. The pages only read;
// the sign-in and sign-out forms are the only posts, and both are
// refused unless their Origin is this server (with the SameSite=Strict
// cookie, that is the CSRF defence: no token is needed).

// sessionCookie holds the dashboard session token: HttpOnly, so no script
// reads it, SameSite=Strict, so no other site's page sends it, and Secure
// as the CookieSecure setting says.
const sessionCookie = "alliance_session"

// Cookie security settings (ALLIANCE_COOKIE_SECURE).
const (
	// CookieSecureAuto marks the cookie Secure when the request came over
	// TLS to this process.
	CookieSecureAuto = "auto"
	// CookieSecureAlways always marks it Secure: the setting for a
	// TLS-terminating proxy in front of the server.
	CookieSecureAlways = "always"
	// CookieSecureNever never does, for plain-HTTP use on a trusted network.
	CookieSecureNever = "never"
)

// flagLimit is the most flagged dyads a session page lists.
const flagLimit = 50

func (s *server) cookieSecure(c *gin.Context) bool {
	switch s.cookieSecurity {
	case CookieSecureAlways:
		return true
	case CookieSecureNever:
		return false
	}
	return c.Request.TLS != nil
}

// setSession sets (maxAge > 0) or clears (maxAge < 0) the session cookie.
func (s *server) setSession(c *gin.Context, token string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.cookieSecure(c), SameSite: http.SameSiteStrictMode,
	})
}

// sameOrigin reports whether a form post comes from a page of this
// server: its Origin names this host, or the public URL's origin.
// Browsers send Origin with every POST; a post without one is refused.
func (s *server) sameOrigin(c *gin.Context) bool {
	u, err := url.Parse(c.GetHeader("Origin"))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	if pub, err := url.Parse(s.publicURL); err == nil && s.publicURL != "" && pub.Scheme == u.Scheme && pub.Host == u.Host {
		return true
	}
	return u.Host == c.Request.Host
}

// errForeignOrigin refuses a form post from another site.
var errForeignOrigin = &requestError{status: http.StatusForbidden, typ: typeForbidden, title: "Forbidden",
	detail: "this form may only be sent from the dashboard's own pages"}

// safeNext is the page to return to after sign-in: a dashboard page of
// this server, never another site.
func safeNext(next string) string {
	if strings.HasPrefix(next, dashboard.Path) && !strings.HasPrefix(next, "//") && !strings.Contains(next, `\`) &&
		!strings.HasPrefix(next, dashboard.Path+"sign-") {
		return next
	}
	return dashboard.Path + "studies"
}

// render sends a dashboard page.
func (s *server) render(c *gin.Context, status int, page string, view any) error {
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	return dashboard.Render(c.Writer, page, view)
}

// pageFunc builds a dashboard page: its template and view.
type pageFunc func(c *gin.Context) (page string, view any, err error)

// page adapts a page builder: its error becomes an error page (logged as
// writeProblem logs a problem), not problem+json. A parameter sent empty
// is dropped first: a person who clears a form's field asks for its
// default.
func (s *server) page(h pageFunc) handlerFunc {
	return func(c *gin.Context) error {
		if q := c.Request.URL.Query(); len(q) > 0 {
			for k, vs := range q {
				if !slices.ContainsFunc(vs, func(v string) bool { return v != "" }) {
					q.Del(k)
				}
			}
			c.Request.URL.RawQuery = q.Encode()
		}
		name, view, err := h(c)
		if err != nil {
			s.errorPage(c, err)
			return nil
		}
		return s.render(c, http.StatusOK, name, view)
	}
}

func (s *server) errorPage(c *gin.Context, err error) {
	p := loggedProblem(c, s.log, err)
	signedIn := alliance.ActorFrom(c.Request.Context()).Kind == alliance.ActorDashboard
	view := dashboard.Problem{Page: dashboard.Page{Title: p.Title, SignedIn: signedIn}, Status: p.Status, Detail: p.Detail}
	for _, f := range p.Errors {
		view.Fields = append(view.Fields, f.Field+": "+f.Message)
	}
	if p.Status == http.StatusServiceUnavailable {
		c.Header("Retry-After", "1")
	}
	if err := s.render(c, p.Status, "problem", view); err != nil {
		s.log.ErrorContext(c.Request.Context(), "render error page", "request_id", p.RequestID, "err", err)
	}
}

// pageRefused answers a page request whose credential was refused: a
// missing, ended or expired session goes to the sign-in page (the page
// asked for comes back after sign-in); anything else is an error page.
func (s *server) pageRefused(c *gin.Context, err error) {
	if !errors.Is(err, alliance.ErrUnauthenticated) {
		s.errorPage(c, err)
		return
	}
	if _, cerr := c.Cookie(sessionCookie); cerr == nil {
		s.setSession(c, "", -1) // a stale cookie: forget it
	}
	target := dashboard.Path
	if c.Request.Method == http.MethodGet {
		target += "?next=" + url.QueryEscape(c.Request.URL.RequestURI())
	}
	c.Redirect(http.StatusSeeOther, target)
}

// uiHome is the sign-in page, or for someone signed in, the study list.
func (s *server) uiHome(c *gin.Context) error {
	next := safeNext(c.Query("next"))
	if tok, err := c.Cookie(sessionCookie); err == nil {
		if _, err := s.svc.AuthenticateUISession(c.Request.Context(), tok); err == nil {
			c.Redirect(http.StatusSeeOther, next)
			return nil
		}
	}
	return s.render(c, http.StatusOK, "signin", dashboard.SignIn{Page: dashboard.Page{Title: "Sign in"}, Next: next})
}

// uiSignIn opens a session for the key posted in the form and sets its
// cookie. A wrong key shows the form again with the reason.
func (s *server) uiSignIn(c *gin.Context) error {
	if !s.sameOrigin(c) {
		s.errorPage(c, errForeignOrigin)
		return nil
	}
	if wait, limited := s.limits.allow("ui-sign-in", c.ClientIP()); limited {
		c.Header("Retry-After", retryAfterSeconds(wait))
		s.errorPage(c, &rateLimited{retryAfter: wait})
		return nil
	}
	next := safeNext(c.PostForm("next"))
	_, tok, err := s.svc.SignIn(c.Request.Context(), c.PostForm("key"))
	if err != nil {
		p := loggedProblem(c, s.log, err)
		msg := "that is not a valid API key, or it has been revoked."
		switch p.Status {
		case http.StatusForbidden:
			msg = "this key has neither the analyze nor the admin scope, so it cannot read studies."
		case http.StatusUnauthorized:
		default:
			s.errorPage(c, err)
			return nil
		}
		return s.render(c, p.Status, "signin", dashboard.SignIn{Page: dashboard.Page{Title: "Sign in"}, Next: next, Error: msg})
	}
	s.setSession(c, tok, int(alliance.UISessionTTL.Seconds()))
	c.Redirect(http.StatusSeeOther, next)
	return nil
}

// uiSignOut ends the session and forgets its cookie.
func (s *server) uiSignOut(c *gin.Context) error {
	if !s.sameOrigin(c) {
		s.errorPage(c, errForeignOrigin)
		return nil
	}
	if err := s.svc.SignOut(c.Request.Context()); err != nil && !errors.Is(err, alliance.ErrNotFound) {
		s.errorPage(c, err)
		return nil
	}
	s.setSession(c, "", -1)
	c.Redirect(http.StatusSeeOther, dashboard.Path)
	return nil
}

func crumbs(links ...dashboard.Link) []dashboard.Link {
	return append([]dashboard.Link{{Text: "Studies", Href: dashboard.Path + "studies"}}, links...)
}

func studyHref(id string) string { return dashboard.Path + "studies/" + url.PathEscape(id) }

// uiStudies lists the studies the session's key may read.
func (s *server) uiStudies(c *gin.Context) (string, any, error) {
	sts, err := s.svc.FindStudies(c.Request.Context(), alliance.Page{Limit: alliance.MaxLimit, After: c.Query("after")})
	if err != nil {
		return "", nil, err
	}
	view := dashboard.StudyList{Page: dashboard.Page{Title: "Studies", SignedIn: true}}
	for _, st := range sts {
		view.Studies = append(view.Studies, dashboard.StudyRow{
			Name: st.Name, Href: studyHref(st.ID), Description: st.Description,
			Forms:   formOr(st.Forms[alliance.RoleClient]) + " / " + formOr(st.Forms[alliance.RoleCounsellor]),
			Created: st.CreatedAt.Format("2006-01-02"),
		})
	}
	return "studies", view, nil
}

func formOr(id string) string {
	if id == "" {
		return "none"
	}
	return id
}

func studySummary(st alliance.Study) dashboard.StudySummary {
	return dashboard.StudySummary{ID: st.ID, Name: st.Name, Description: st.Description,
		ClientForm: formOr(st.Forms[alliance.RoleClient]), CounsellorForm: formOr(st.Forms[alliance.RoleCounsellor])}
}

// selectionQuery is the query string that asks a plot, or another page, for
// the same selection as the page shows; without a scale, every scale.
func selectionQuery(a alliance.StudyAgreement, scale string) url.Values {
	q := url.Values{
		"session": {a.Selector.String()}, "band": {num(a.Band)},
		"multiplier": {num(a.LoAMultiplier)}, "conf": {num(a.Conf)},
	}
	if scale != "" {
		q.Set("scale", scale)
	}
	return q
}

// studyPlots are the figures of one scale and session of a study.
func studyPlots(a alliance.StudyAgreement, sc alliance.ScaleAgreement) []dashboard.Plot {
	q := selectionQuery(a, sc.Scale)
	base := "/v1/studies/" + url.PathEscape(a.Study.ID) + "/plots/"
	sel := sessionLabel(a.Selector)
	n := strconv.Itoa(sc.N)
	plot := func(file, title, alt string, extra ...string) dashboard.Plot {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		src := base + file + "?" + v.Encode()
		v.Set("format", "png")
		return dashboard.Plot{Title: title, Src: src, Alt: alt, PNG: base + file + "?" + v.Encode()}
	}
	return []dashboard.Plot{
		plot("bland-altman.svg", "Bland–Altman plot", "Bland–Altman plot of the "+sc.Scale+" score, "+sel+": client − counsellor difference against the mean of both, n = "+n+", with bias, limits of agreement and the proportional-bias line.", "trend", "true"),
		plot("scatter.svg", "Client against counsellor", "Scatter plot of the client's against the counsellor's "+sc.Scale+" score, "+sel+", n = "+n+", with the line of identity and Lin's CCC."),
		plot("trajectories.svg", "Difference over sessions", "The client − counsellor difference of the "+sc.Scale+" score over all sessions, dyad by dyad (or their spread, when the dyads are many), with the mean and its confidence band per session."),
		plot("counsellors.svg", "Difference by counsellor", "Caterpillar plot: the mean client − counsellor difference of the "+sc.Scale+" score of each counsellor's dyads, "+sel+", with confidence intervals and the number of dyads."),
	}
}

// uiOverview is a study's overview: completion, headline figures with
// their intervals and warnings, and the plots of the total score.
func (s *server) uiOverview(c *gin.Context) (string, any, error) {
	ctx := c.Request.Context()
	st, err := s.svc.FindStudyByID(ctx, c.Param("id"))
	if err != nil {
		return "", nil, err
	}
	if len(st.Forms) < 2 {
		return s.uiScores(c, st)
	}
	q, err := agreementQuery(c)
	if err != nil {
		return "", nil, err
	}
	a, err := s.svc.StudyAgreement(ctx, c.Param("id"), q)
	if err != nil {
		return "", nil, err
	}
	comp, err := s.svc.StudyCompletion(ctx, a.Study.ID)
	if err != nil {
		return "", nil, err
	}
	view := dashboard.Overview{
		Page:  dashboard.Page{Title: a.Study.Name, SignedIn: true, Crumbs: crumbs()},
		Study: studySummary(a.Study), Dyads: plural(comp.Dyads, "dyad", "dyads"),
		Selection: sessionLabel(a.Selector), Band: num(a.Band), Multiplier: num(a.LoAMultiplier), Conf: num(a.Conf),
		SessionHref: studyHref(a.Study.ID) + "/sessions?" + selectionQuery(a, "").Encode(),
		DyadsHref:   studyHref(a.Study.ID) + "/dyads",
		Warnings:    warnings(a, a.Scales...),
	}
	for _, sc := range comp.Sessions {
		view.Completion = append(view.Completion, dashboard.CompletionRow{
			Session: sc.Session, Client: sc.Client, Counsellor: sc.Counsellor, Both: sc.Both,
			ClientPct: pct(sc.Client, comp.Dyads), CounsellorPct: pct(sc.Counsellor, comp.Dyads), BothPct: pct(sc.Both, comp.Dyads),
		})
	}
	for _, sc := range a.Scales {
		view.Figures = append(view.Figures, scaleFigures(a, sc))
	}
	if len(a.Scales) > 0 {
		view.PlotScale, view.Plots = a.Scales[0].Scale, studyPlots(a, a.Scales[0])
	}
	return "overview", view, nil
}

// uiScores is the page of a study in which one role rates: its summary
// (scores per session and their change), as GET /v1/studies/{id}/summary
// has it.
func (s *server) uiScores(c *gin.Context, st alliance.Study) (string, any, error) {
	q, err := summaryQuery(c)
	if err != nil {
		return "", nil, err
	}
	sum, err := s.svc.StudySummary(c.Request.Context(), st.ID, q)
	if err != nil {
		return "", nil, err
	}
	base := "/v1/studies/" + url.PathEscape(st.ID)
	view := dashboard.ScoresView{
		Page:  dashboard.Page{Title: st.Name, SignedIn: true, Crumbs: crumbs()},
		Study: studySummary(st), Conf: num(sum.Conf), Scale: sum.Scale,
		SummaryPath: "GET " + base + "/summary", ExportPath: "GET " + base + "/export?include=scores,items",
		DyadsHref: studyHref(st.ID) + "/dyads",
	}
	for _, w := range sum.Warnings {
		// The summary clips only the counsellors' means, which this page
		// does not show, and its warning names them by code.
		if w.Code == alliance.WarnCIClipped {
			continue
		}
		view.Warnings = append(view.Warnings, w.Detail)
	}
	for _, rs := range sum.Roles {
		view.Role = string(rs.Role)
		metric := "item mean"
		if rs.Metric == alliance.MetricSum {
			metric = "sum of the items"
		}
		view.Metric = fmt.Sprintf("%s (%s to %s)", metric, num(rs.Min), num(rs.Max))
		for _, d := range rs.Sessions {
			row := dashboard.ScoreRow{Session: d.Session, N: d.N, Median: "—", Range: "—",
				AtMin: strconv.Itoa(d.AtMin), AtMax: strconv.Itoa(d.AtMax), BelowCutoff: estimateFigure(d.BelowCutoff)}
			row.Mean = optFix2(d.Summary.Mean) + " (" + optFix2(d.Summary.SD) + ")"
			if d.Median != nil {
				row.Median = fix2(*d.Median) + " [" + fix2(*d.Q1) + ", " + fix2(*d.Q3) + "]"
			}
			if d.Summary.Min != nil {
				row.Range = fix2(*d.Summary.Min) + " to " + fix2(*d.Summary.Max)
			}
			view.Sessions = append(view.Sessions, row)
		}
		switch ch := rs.Change; {
		case ch.Value == nil || ch.Value.Criterion.Value == nil:
			why := ch.Reason
			if ch.Value != nil {
				why = ch.Value.Criterion.Reason
			}
			view.Change = "No reliable-change criterion: " + reasonText(why) + "."
		default:
			k := ch.Value.Criterion.Value
			view.Change = fmt.Sprintf("A change counts as reliable beyond ±%s (%g × S_diff; Jacobson and Truax), from the SD of the session-1 scores (%s) and a reliability of %s (%s).",
				fix2(k.Threshold), stats.JacobsonTruaxZ, fix2(k.SD), fix2(k.Reliability), strings.ReplaceAll(ch.Value.Source, "_", " "))
			for _, step := range ch.Value.Steps {
				view.Steps = append(view.Steps, dashboard.ChangeRow{From: step.From, To: step.To, N: step.Change.N, Change: estimateFigure(step.Change),
					Increase: step.ReliableIncrease, Decrease: step.ReliableDecrease, Stable: step.NoReliableChange})
			}
		}
	}
	return "scores", view, nil
}

// estimateFigure is a mean or share as shown: its value and interval, or why
// it has none.
func estimateFigure(e alliance.Estimate) dashboard.Figure {
	if e.Value == nil {
		return dashboard.Figure{Reason: reasonText(e.Reason)}
	}
	return figure(*e.Value, e.Lower, e.Upper, e.CIReason)
}

// uiSession shows one session selection and scale, with a picker.
func (s *server) uiSession(c *gin.Context) (string, any, error) {
	ctx := c.Request.Context()
	q, err := agreementQuery(c)
	if err != nil {
		return "", nil, err
	}
	if len(q.Scales) == 0 {
		q.Scales = []string{alliance.ScaleTotal}
	}
	q.Scales = q.Scales[:1]
	a, err := s.svc.StudyScaleAgreement(ctx, c.Param("id"), q)
	if err != nil {
		return "", nil, err
	}
	comp, err := s.svc.StudyCompletion(ctx, a.Study.ID)
	if err != nil {
		return "", nil, err
	}
	form, err := s.svc.FindForm(ctx, a.Study.Forms[alliance.RoleClient])
	if err != nil {
		return "", nil, err
	}
	sc := a.Scales[0]
	sel := a.Selector.String()
	view := dashboard.SessionView{
		Page: dashboard.Page{Title: "Sessions of " + a.Study.Name, SignedIn: true,
			Crumbs: crumbs(dashboard.Link{Text: a.Study.Name, Href: studyHref(a.Study.ID) + "?" + selectionQuery(a, "").Encode()})},
		Study: studySummary(a.Study), Action: studyHref(a.Study.ID) + "/sessions",
		Band: num(a.Band), Conf: num(a.Conf), Multiplier: num(a.LoAMultiplier), Selection: sessionLabel(a.Selector),
		Figures: scaleFigures(a, sc), Warnings: warnings(a, sc), Plots: studyPlots(a, sc),
	}
	view.Sessions = []dashboard.Option{
		{Value: "first", Text: "First session both rated", Selected: sel == "first"},
		{Value: "last", Text: "Last session both rated", Selected: sel == "last"},
	}
	for _, c := range comp.Sessions {
		v := strconv.Itoa(c.Session)
		view.Sessions = append(view.Sessions, dashboard.Option{Value: v, Text: "Session " + v + " (" + strconv.Itoa(c.Both) + " complete)", Selected: sel == v})
	}
	if a.Selector.Number > 0 && !slices.ContainsFunc(view.Sessions, func(o dashboard.Option) bool { return o.Selected }) {
		view.Sessions = append(view.Sessions, dashboard.Option{Value: sel, Text: "Session " + sel + " (no ratings)", Selected: true})
	}
	for _, name := range form.Scales() {
		view.Scales = append(view.Scales, dashboard.Option{Value: name, Text: name, Selected: name == sc.Scale})
	}
	flagged := slices.Clone(sc.Pairs)
	flagged = slices.DeleteFunc(flagged, func(p alliance.ScorePair) bool { return !outside(p.Client-p.Counsellor, a.Band) })
	slices.SortStableFunc(flagged, func(x, y alliance.ScorePair) int {
		return cmp.Compare(math.Abs(y.Client-y.Counsellor), math.Abs(x.Client-x.Counsellor))
	})
	view.FlaggedText = plural(len(flagged), "dyad differs", "dyads differ")
	if len(flagged) > flagLimit {
		view.FlaggedMore, flagged = len(flagged)-flagLimit, flagged[:flagLimit]
	}
	for _, p := range flagged {
		view.Flagged = append(view.Flagged, dashboard.FlaggedDyad{
			Dyad: p.DyadID, Href: dashboard.Path + "dyads/" + url.PathEscape(p.DyadID) + "?" + url.Values{"band": {num(a.Band)}, "conf": {num(a.Conf)}}.Encode(),
			Client: fix2(p.Client), Counsellor: fix2(p.Counsellor), Difference: fix2(p.Client - p.Counsellor),
		})
	}
	return "session", view, nil
}

// uiDyad shows one dyad's course: its trajectory, every session's
// differences, and the sessions outside the band. Codes only on request.
func (s *server) uiDyad(c *gin.Context) (string, any, error) {
	ctx := c.Request.Context()
	o, err := parsePlotOptions(c)
	if err != nil {
		return "", nil, err
	}
	band := alliance.DefaultBand
	if b, err := queryFloat(c, "band"); err != nil {
		return "", nil, err
	} else if b != nil {
		if !(*b >= 0) || math.IsInf(*b, 0) {
			return "", nil, &alliance.ValidationError{Fields: []alliance.FieldError{{Field: "band", Code: "out_of_range",
				Message: "the agreement band must be a finite number ≥ 0 on the item-mean metric"}}}
		}
		band = *b
	}
	d, err := s.svc.GetDyad(ctx, c.Param("id"))
	if err != nil {
		return "", nil, err
	}
	st, err := s.svc.FindStudyByID(ctx, d.StudyID)
	if err != nil {
		return "", nil, err
	}
	if len(st.Forms) < 2 {
		return s.uiDyadScores(c, d, st, o.codes)
	}
	conf, err := queryFloat(c, "conf")
	if err != nil {
		return "", nil, err
	}
	a, err := s.svc.DyadAgreement(ctx, d.ID, conf)
	if err != nil {
		return "", nil, err
	}
	plotSrc := "/v1/dyads/" + url.PathEscape(a.Dyad.ID) + "/plots/trajectory.svg"
	view := dashboard.DyadView{
		Page: dashboard.Page{Title: "Dyad " + a.Dyad.ID, SignedIn: true,
			Crumbs: crumbs(dashboard.Link{Text: st.Name, Href: studyHref(st.ID)})},
		DyadHeader: dyadHeader(a.Dyad, st, o.codes, url.Values{"band": {num(band)}, "conf": {num(a.Conf)}}),
		Band:       num(band), Scales: a.Scales,
	}
	if o.codes {
		plotSrc += "?labels=codes"
	}
	png := plotSrc + "?format=png"
	if o.codes {
		png = plotSrc + "&format=png"
	}
	view.Plot = dashboard.Plot{Title: "Both raters' scores by session", Src: plotSrc, PNG: png,
		Alt: fmt.Sprintf("Client and counsellor scores of this dyad over %d sessions, one panel per scale (%s).", len(a.Sessions), strings.Join(a.Scales, ", "))}
	for _, ses := range a.Sessions {
		row := dashboard.DyadSession{Session: ses.Session}
		if ses.Missing != "" {
			row.Missing = "no " + string(ses.Missing) + " rating"
		}
		for _, d := range ses.Scales {
			cell := dashboard.DyadCell{Client: optFix2(d.Client), Counsellor: optFix2(d.Counsellor)}
			if d.Difference != nil {
				cell.Difference = fix2(*d.Difference)
				cell.Flagged = outside(*d.Difference, band)
				row.Flagged = row.Flagged || cell.Flagged
			}
			row.Cells = append(row.Cells, cell)
		}
		if row.Flagged {
			view.Flagged = append(view.Flagged, ses.Session)
		}
		view.Sessions = append(view.Sessions, row)
	}
	sessions := func(n int) string { return plural(n, "session", "sessions") }
	for _, sl := range a.Slopes {
		line := sl.Scale + ": "
		if v := sl.Fit.Value; v != nil {
			line += "client − counsellor changes by " + fix2(v.Slope) + " per session"
			switch {
			case v.Lower != nil && v.Upper != nil:
				line += " (" + num(100*v.Conf) + "% CI " + ciText(*v.Lower, *v.Upper) + ")"
			case sl.Fit.CIReason == stats.ReasonNTooSmall:
				line += " (no interval: too few sessions)"
			}
			line += ", from " + sessions(sl.N)
		} else {
			why := reasonText(sl.Fit.Reason)
			if sl.Fit.Reason == stats.ReasonNTooSmall {
				why = "too few sessions"
			}
			line += "no slope: " + why + " (" + sessions(sl.N) + " rated by both)"
		}
		view.Slopes = append(view.Slopes, line)
	}
	return "dyad", view, nil
}

// dyadHeader opens a dyad's page: the dyad, its codes when asked for
// (codes), the link that shows or hides them, keeping the page's own
// query q, and its withdrawal.
func dyadHeader(d alliance.Dyad, st alliance.Study, codes bool, q url.Values) dashboard.DyadHeader {
	self := dashboard.Path + "dyads/" + url.PathEscape(d.ID)
	h := dashboard.DyadHeader{DyadID: d.ID, StudyHref: studyHref(st.ID), Withdrawal: withdrawalText(d.Withdrawal)}
	link := url.Values{}
	for k, vs := range q {
		link[k] = vs
	}
	if codes {
		h.Codes = "client " + d.ClientCode + ", counsellor " + d.CounsellorCode
		h.CodesText = "hide participant codes"
	} else {
		link.Set("labels", "codes")
		h.CodesText = "show participant codes"
	}
	h.CodesHref = self
	if len(link) > 0 {
		h.CodesHref += "?" + link.Encode()
	}
	return h
}

// withdrawalText says that a dyad's consent was withdrawn, and what that
// means for the figures; "" if it was not.
func withdrawalText(w *alliance.Withdrawal) string {
	if w == nil {
		return ""
	}
	whose := map[string]string{"client": "the client's", "counsellor": "the counsellor's", "both": "both sides'"}[w.Scope]
	return fmt.Sprintf("Consent withdrawn (%s) on %s: no new ratings are collected; those given are kept and count in the study's figures.",
		whose, w.At.Format("2006-01-02"))
}

// uiDyadScores is the page of a dyad of a study in which one role rates:
// that role's scores session by session, as its ratings have them (no
// difference to show).
func (s *server) uiDyadScores(c *gin.Context, d alliance.Dyad, st alliance.Study, codes bool) (string, any, error) {
	ctx := c.Request.Context()
	role := alliance.RoleClient
	if st.Forms[role] == "" {
		role = alliance.RoleCounsellor
	}
	form, err := s.svc.FindForm(ctx, st.Forms[role])
	if err != nil {
		return "", nil, err
	}
	rs, err := s.svc.FindDyadRatings(ctx, d.ID)
	if err != nil {
		return "", nil, err
	}
	view := dashboard.DyadScoresView{
		Page: dashboard.Page{Title: "Dyad " + d.ID, SignedIn: true,
			Crumbs: crumbs(dashboard.Link{Text: st.Name, Href: studyHref(st.ID)})},
		DyadHeader: dyadHeader(d, st, codes, nil),
		Role:       string(role), Form: form.ID, Scales: form.Scales(),
	}
	for _, r := range rs {
		row := dashboard.ScoreSession{Session: r.Session}
		for _, sc := range view.Scales {
			score := r.Scores.Of(sc)
			row.Cells = append(row.Cells, dashboard.ScoreCell{Mean: optFix2(score.Mean), Sum: optFix2(score.Sum)})
		}
		view.Sessions = append(view.Sessions, row)
	}
	return "dyadscores", view, nil
}

// uiDyads lists a study's dyads a page at a time, or finds them by a
// client's or counsellor's code: the way to a dyad's page for a dyad the
// overview does not flag, and in a study where one role rates, the only
// one. Codes show when asked for, or when searched for.
func (s *server) uiDyads(c *gin.Context) (string, any, error) {
	ctx := c.Request.Context()
	o, err := parsePlotOptions(c)
	if err != nil {
		return "", nil, err
	}
	p, err := pageParams(c, "dyads/"+c.Param("id"))
	if err != nil {
		return "", nil, err
	}
	st, err := s.svc.FindStudyByID(ctx, c.Param("id"))
	if err != nil {
		return "", nil, err
	}
	ds, next, err := s.findDyads(c, p)
	if err != nil {
		return "", nil, err
	}
	self := studyHref(st.ID) + "/dyads"
	view := dashboard.DyadList{
		Page: dashboard.Page{Title: "Dyads of " + st.Name, SignedIn: true,
			Crumbs: crumbs(dashboard.Link{Text: st.Name, Href: studyHref(st.ID)})},
		Study: studySummary(st), Action: self, ClientCode: c.Query("client_code"), CounsellorCode: c.Query("counsellor_code"),
	}
	view.Searched = view.ClientCode != "" || view.CounsellorCode != ""
	view.Codes = o.codes || view.Searched
	// The same list with codes shown or hidden; a search shows them, so
	// hiding them starts the list again.
	if view.Codes {
		view.CodesHref, view.CodesText = self, "hide participant codes"
	} else {
		view.CodesHref, view.CodesText = self+"?labels=codes", "show participant codes"
	}
	dyadQuery := ""
	if view.Codes {
		dyadQuery = "?labels=codes"
	}
	for _, d := range ds {
		row := dashboard.DyadRow{ID: d.ID, Href: dashboard.Path + "dyads/" + url.PathEscape(d.ID) + dyadQuery,
			Enrolled: d.CreatedAt.Format("2006-01-02")}
		if view.Codes {
			row.Codes = d.ClientCode + ", " + d.CounsellorCode
		}
		if w := d.Withdrawal; w != nil {
			row.Withdrawal = "withdrawn (" + w.Scope + ") on " + w.At.Format("2006-01-02")
		}
		view.Rows = append(view.Rows, row)
	}
	if next != nil {
		q := c.Request.URL.Query()
		q.Set("after", *next)
		view.NextHref = self + "?" + q.Encode()
	}
	return "dyads", view, nil
}

// outside reports whether a difference lies outside ± band, with the
// agreement report's tolerance for float rounding.
func outside(d, band float64) bool { return math.Abs(d) > band+1e-9 }

// scaleFigures formats the headline figures of one scale.
func scaleFigures(a alliance.StudyAgreement, sc alliance.ScaleAgreement) dashboard.ScaleFigures {
	f := dashboard.ScaleFigures{Scale: sc.Scale, N: sc.N,
		Href: studyHref(a.Study.ID) + "/sessions?" + selectionQuery(a, sc.Scale).Encode()}
	if v := sc.BlandAltman.Value; v != nil {
		ba := func(v float64, ci *stats.Interval) dashboard.Figure {
			if ci == nil {
				return figure(v, nil, nil, sc.BlandAltman.CIReason)
			}
			return figure(v, &ci.Lower, &ci.Upper, "")
		}
		bias, lower, upper := alliance.BlandAltmanCIs(sc.BlandAltman)
		f.Bias, f.LowerLoA, f.UpperLoA = ba(v.Bias, bias), ba(v.Lower, lower), ba(v.Upper, upper)
	} else {
		f.Bias = dashboard.Figure{Reason: reasonText(sc.BlandAltman.Reason)}
		f.LowerLoA, f.UpperLoA = f.Bias, f.Bias
	}
	f.CCC = dashboard.Figure{Reason: reasonText(sc.CCC.Reason)}
	if v := sc.CCC.Value; v != nil {
		f.CCC = figure(v.RhoC, v.Lower, v.Upper, sc.CCC.CIReason)
	}
	f.Pearson = dashboard.Figure{Reason: reasonText(sc.Pearson.Reason)}
	if v := sc.Pearson.Value; v != nil {
		f.Pearson = figure(v.R, v.Lower, v.Upper, sc.Pearson.CIReason)
	}
	f.ICC = dashboard.Figure{Reason: reasonText(sc.ICC.Reason)}
	if t := sc.ICC.Value; t != nil {
		for _, fm := range t.Forms {
			if fm.Type == "ICC2" {
				f.ICC = figure(fm.Value, fm.Lower, fm.Upper, sc.ICC.CIReason)
			}
		}
	}
	f.WithinBand = strconv.Itoa(sc.WithinBand) + " of " + strconv.Itoa(sc.N) + " (" + pct(sc.WithinBand, sc.N) + ")"
	f.Higher = "client higher " + strconv.Itoa(sc.ClientHigher) + ", counsellor higher " + strconv.Itoa(sc.CounsellorHigher)
	return f
}

// figure is a value as shown, with its interval, or with why it has none
// (ciReason; an interval without a reason just is not shown).
func figure(v float64, lo, hi *float64, ciReason string) dashboard.Figure {
	f := dashboard.Figure{Value: fix2(v)}
	switch {
	case lo != nil && hi != nil:
		f.CI = ciText(*lo, *hi)
	case ciReason != "":
		f.CI = "(no interval: " + reasonText(ciReason) + ")"
	}
	return f
}

// warnings are what a reader of the figures should know first: dyads left
// out, figures that are not defined, proportional bias, small n, and the
// nesting of dyads in counsellors.
func warnings(a alliance.StudyAgreement, scales ...alliance.ScaleAgreement) []string {
	var out []string
	if a.NIncomplete > 0 {
		out = append(out, fmt.Sprintf("%d of %d dyads %s only one side's rating at this session and %s left out.", a.NIncomplete, a.NDyads,
			map[bool]string{true: "has", false: "have"}[a.NIncomplete == 1], map[bool]string{true: "is", false: "are"}[a.NIncomplete == 1]))
	}
	for _, sc := range scales {
		if sc.NScoreMissing > 0 {
			out = append(out, fmt.Sprintf("%s: %s left out because a side's score is missing (too many unanswered items).", sc.Scale, plural(sc.NScoreMissing, "complete session is", "complete sessions are")))
		}
		switch {
		case sc.N == 0:
			out = append(out, sc.Scale+": no complete pairs at this session, so no figure can be computed.")
		case sc.N < 10:
			out = append(out, fmt.Sprintf("%s: n = %d; intervals are wide and some figures are not defined.", sc.Scale, sc.N))
		}
		if v := sc.BlandAltman.Value; v != nil && v.Trend != nil && v.Trend.P != nil && *v.Trend.P < 0.05 {
			out = append(out, fmt.Sprintf("%s: the difference changes with the level of the scores (proportional bias: slope %s, %s); limits of agreement assume it does not. The Bland–Altman plot shows the trend line.",
				sc.Scale, fix2(v.Trend.Slope), pText(*v.Trend.P)))
		}
	}
	// The study agreement's own warnings, but small n, said above per
	// scale, and only those of the scales shown.
	for _, w := range a.Warnings {
		if w.Code == alliance.WarnSmallN || (w.Scale != "" && !slices.ContainsFunc(scales, func(sc alliance.ScaleAgreement) bool { return sc.Scale == w.Scale })) {
			continue
		}
		line := w.Detail
		if w.Scale != "" {
			line = w.Scale + ": " + line
		}
		out = append(out, line)
	}
	if a.NComplete > 0 {
		out = append(out, "Dyads sharing a counsellor are not independent: treat intervals and p-values as descriptive.")
	}
	return out
}

// pText is a p-value as a reader expects it: never "p = 0.000".
func pText(p float64) string {
	if p < 0.001 {
		return "p < 0.001"
	}
	return fmt.Sprintf("p = %.3f", p)
}

var reasonTexts = map[string]string{
	"n_too_small":   "too few dyads",
	"zero_variance": "no variation in the scores",
}

func reasonText(r string) string {
	if t, ok := reasonTexts[r]; ok {
		return t
	}
	return strings.ReplaceAll(r, "_", " ")
}

// fix2 formats a figure to two decimals with a true minus sign.
func fix2(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	if s == "-0.00" {
		s = "0.00"
	}
	return strings.Replace(s, "-", "−", 1)
}

func optFix2(p *float64) string {
	if p == nil {
		return "—"
	}
	return fix2(*p)
}

func ciText(lo, hi float64) string { return "[" + fix2(lo) + ", " + fix2(hi) + "]" }

// num formats a parameter as short as it reads.
func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// plural is "1 thing is" or "n things are".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func pct(n, of int) string {
	if of == 0 {
		return "–"
	}
	return strconv.Itoa(int(math.Round(100*float64(n)/float64(of)))) + "%"
}
