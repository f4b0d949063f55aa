package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/plot"
)

// The agreement figures as resources: SVG by default, PNG with
// ?format=png, drawn by internal/plot from the same numbers the agreement
// report returns (the same pairs, n, bias, limits and CCC), and with no
// interval where a report gives it as null: each plot input carries
// alliance.MinNInterval, the service's rule for intervals. A study plot
// takes the agreement report's parameters, checked by the same code, so a
// bad one gets the same 400 or 422 problem.

// plotCSP is sent with every figure: an SVG opened on its own is a
// document, and this one needs nothing but its inline styles.
const plotCSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"

// plotOptions are the query parameters of every plot route besides the
// agreement ones.
type plotOptions struct {
	format plot.Format
	// codes labels rows and titles with participant codes (?labels=codes);
	// by default a figure shows none.
	codes bool
	// trend draws the Bland–Altman proportional-bias line (?trend=true).
	trend bool
}

// parsePlotOptions reads format, labels and trend; a bad value is a 422
// naming the parameter (trend that is not a boolean is a 400, as a
// number that does not parse is elsewhere).
func parsePlotOptions(c *gin.Context) (plotOptions, error) {
	var o plotOptions
	var fields []alliance.FieldError
	switch f := c.Query("format"); f {
	case "", "svg":
	case "png":
		o.format = plot.PNG
	default:
		fields = append(fields, alliance.FieldError{Field: "format", Code: "invalid_value", Message: `must be "svg" (default) or "png"`})
	}
	switch l := c.Query("labels"); l {
	case "", "none":
	case "codes":
		o.codes = true
	default:
		fields = append(fields, alliance.FieldError{Field: "labels", Code: "invalid_value", Message: `must be "none" (default: no participant codes) or "codes"`})
	}
	if len(fields) > 0 {
		return o, &alliance.ValidationError{Fields: fields}
	}
	if t, ok := c.GetQuery("trend"); ok {
		v, err := strconv.ParseBool(strings.TrimSpace(t))
		if err != nil {
			return o, malformed("trend", "invalid_value", "trend must be true or false")
		}
		o.trend = v
	}
	return o, nil
}

// plotQuery reads a study plot's parameters: the agreement report's, with
// at most one scale (default: the total), and the plot options.
func plotQuery(c *gin.Context) (alliance.AgreementQuery, plotOptions, error) {
	q, err := agreementQuery(c)
	if err != nil {
		return q, plotOptions{}, err
	}
	if len(q.Scales) > 1 {
		return q, plotOptions{}, &alliance.ValidationError{Fields: []alliance.FieldError{{Field: "scale", Code: "one_scale",
			Message: "a plot shows one scale: give one of total or a subscale key"}}}
	}
	o, err := parsePlotOptions(c)
	return q, o, err
}

// sendPlot draws a figure into memory and sends it, so that a failure is
// still a problem+json answer. A drawing error is a bug (the figures'
// inputs come from validated data); its message may quote scores or
// codes, so it is replaced before it can reach the log.
func (s *server) sendPlot(c *gin.Context, name string, o plotOptions, draw func(io.Writer, plot.Format) error) error {
	var buf bytes.Buffer
	if err := draw(&buf, o.format); err != nil {
		return fmt.Errorf("drawing the %s plot failed (details withheld: they may quote participant data)", name)
	}
	ct := "image/svg+xml"
	if o.format == plot.PNG {
		ct = "image/png"
	}
	c.Header("Content-Security-Policy", plotCSP)
	c.Header("Content-Disposition", `inline; filename="`+name+"."+o.format.String()+`"`)
	c.Data(http.StatusOK, ct, buf.Bytes())
	return nil
}

// plotScale is the score axis of a scale of the study's forms: item
// means on the form's response scale, e.g. "WAI-SR total", 1–5.
func (s *server) plotScale(ctx context.Context, st alliance.Study, scale string) (plot.Scale, error) {
	f, err := s.svc.FindForm(ctx, st.Forms[alliance.RoleClient])
	if err != nil {
		return plot.Scale{}, err
	}
	name := strings.ToUpper(strings.ReplaceAll(f.Family, "_", "-")) + " " + scale
	for _, sub := range f.Subscales {
		if sub.Key == scale && sub.Label != "" {
			name = strings.ToUpper(strings.ReplaceAll(f.Family, "_", "-")) + " " + sub.Label
		}
	}
	return plot.Scale{Name: name, Unit: "item mean", Min: f.Scale.Min, Max: f.Scale.Max}, nil
}

// sessionLabel names the session selection for a title.
func sessionLabel(sel alliance.SessionSelector) string {
	switch {
	case sel.Number > 0:
		return "session " + strconv.Itoa(sel.Number)
	case sel.Last:
		return "last session both rated"
	}
	return "first session both rated"
}

// scaleFigures computes the agreement of the plot's one scale.
func (s *server) scaleFigures(c *gin.Context) (alliance.StudyAgreement, plot.Scale, plotOptions, error) {
	q, o, err := plotQuery(c)
	if err != nil {
		return alliance.StudyAgreement{}, plot.Scale{}, o, err
	}
	if len(q.Scales) == 0 {
		q.Scales = []string{alliance.ScaleTotal}
	}
	a, err := s.svc.StudyScaleAgreement(c.Request.Context(), c.Param("id"), q)
	if err != nil {
		return a, plot.Scale{}, o, err
	}
	sc, err := s.plotScale(c.Request.Context(), a.Study, a.Scales[0].Scale)
	return a, sc, o, err
}

func pairScores(ps []alliance.ScorePair) (client, counsellor []float64) {
	client, counsellor = make([]float64, len(ps)), make([]float64, len(ps))
	for i, p := range ps {
		client[i], counsellor[i] = p.Client, p.Counsellor
	}
	return client, counsellor
}

func estimate(v float64, lo, hi *float64) plot.Estimate {
	e := plot.Estimate{Value: v}
	if lo != nil && hi != nil {
		e.CI = &plot.Interval{Lower: *lo, Upper: *hi}
	}
	return e
}

// plotBlandAltman godoc
//
//	@Summary		Bland–Altman plot of a study's agreement
//	@Description	Client − counsellor difference against the mean of both scores (item metric), one point per dyad at the selected session; overlapping points are drawn once with area proportional to their count (binned past 2,000 distinct positions), and the caption says which. Lines: bias and limits of agreement with their CIs (shaded), the proportional-bias regression with trend=true; n in the caption. The numbers are the agreement report's for the same parameters (GET /v1/studies/{id}/agreement). SVG (default) carries <title>, <desc> and a JSON <metadata id="alliance-plot"> element recording what was drawn; format=png gives a 200 dpi PNG. n = 0, 1 or 2 gives a figure that says what it cannot show.
//	@Tags			plots
//	@Produce		image/svg+xml,image/png,application/problem+json
//	@Security		BearerAuth
//	@Param			id			path		string				true	"study id"
//	@Param			session		query		string				false	"a session number, first or last (default first)"
//	@Param			scale		query		string				false	"one scale: total (default) or a subscale key"
//	@Param			band		query		number				false	"agreement band on the item-mean metric (default 0.5, ≥ 0); checked as in the agreement report"
//	@Param			multiplier	query		number				false	"limits-of-agreement multiplier (default 1.96; above 0, at most 10)"
//	@Param			conf		query		number				false	"confidence level of the intervals (default 0.95; above 0, at most 0.999999)"
//	@Param			trend		query		boolean				false	"draw the proportional-bias line (default false)"
//	@Param			format		query		string				false	"svg (default) or png"												Enums(svg, png)
//	@Param			labels		query		string				false	"none (default) or codes; this figure shows no codes either way"	Enums(none, codes)
//	@Success		200			{file}		file				"the figure (image/svg+xml or image/png)"
//	@Header			200			{string}	Content-Disposition	"inline; filename=bland-altman.svg (or .png)"
//	@Failure		400			{object}	Problem
//	@Failure		404			{object}	Problem
//	@Failure		422			{object}	Problem
//	@Failure		401			{object}	Problem
//	@Failure		403			{object}	Problem
//	@ID				plotBlandAltman
//	@Router			/v1/studies/{id}/plots/bland-altman.svg [get]
func (s *server) plotBlandAltman(c *gin.Context) error {
	a, scale, o, err := s.scaleFigures(c)
	if err != nil {
		return err
	}
	sc := a.Scales[0]
	in := plot.BAInput{
		Title: "Bland–Altman plot: " + scale.Name + ", " + sessionLabel(a.Selector),
		Scale: scale, Conf: a.Conf, MinNInterval: alliance.MinNInterval,
	}
	in.Client, in.Counsellor = pairScores(sc.Pairs)
	if v := sc.BlandAltman.Value; v != nil {
		in.Limits = &plot.BALimits{
			Bias:       plot.Estimate{Value: v.Bias},
			Lower:      plot.Estimate{Value: v.Lower},
			Upper:      plot.Estimate{Value: v.Upper},
			Multiplier: v.Multiplier,
		}
		if bias, lower, upper := alliance.BlandAltmanCIs(sc.BlandAltman); bias != nil {
			in.Limits.Bias.CI = &plot.Interval{Lower: bias.Lower, Upper: bias.Upper}
			in.Limits.Lower.CI = &plot.Interval{Lower: lower.Lower, Upper: lower.Upper}
			in.Limits.Upper.CI = &plot.Interval{Lower: upper.Lower, Upper: upper.Upper}
		}
		if o.trend && v.Trend != nil {
			in.Trend = &plot.Line{Intercept: v.Trend.Intercept, Slope: v.Trend.Slope}
		}
	}
	return s.sendPlot(c, "bland-altman", o, func(w io.Writer, f plot.Format) error { return plot.BlandAltman(w, in, f) })
}

// plotScatter godoc
//
//	@Summary		Client against counsellor scatter plot of a study
//	@Description	Each dyad's client score against its counsellor score (item metric) at the selected session on equal axes, with the line of identity, Lin's CCC with its CI and Pearson r (with its CI when n ≥ 4), and n. Overlapping points are drawn once, sized by count (binned past 2,000 distinct positions). The numbers are the agreement report's for the same parameters. SVG (default) with <title>, <desc> and JSON <metadata id="alliance-plot">, or format=png.
//	@Tags			plots
//	@Produce		image/svg+xml,image/png,application/problem+json
//	@Security		BearerAuth
//	@Param			id			path		string				true	"study id"
//	@Param			session		query		string				false	"a session number, first or last (default first)"
//	@Param			scale		query		string				false	"one scale: total (default) or a subscale key"
//	@Param			band		query		number				false	"agreement band (default 0.5, ≥ 0); checked as in the agreement report"
//	@Param			multiplier	query		number				false	"limits-of-agreement multiplier (default 1.96; above 0, at most 10); checked as in the agreement report"
//	@Param			conf		query		number				false	"confidence level of the intervals (default 0.95; above 0, at most 0.999999)"
//	@Param			format		query		string				false	"svg (default) or png"												Enums(svg, png)
//	@Param			labels		query		string				false	"none (default) or codes; this figure shows no codes either way"	Enums(none, codes)
//	@Success		200			{file}		file				"the figure (image/svg+xml or image/png)"
//	@Header			200			{string}	Content-Disposition	"inline; filename=scatter.svg (or .png)"
//	@Failure		400			{object}	Problem
//	@Failure		404			{object}	Problem
//	@Failure		422			{object}	Problem
//	@Failure		401			{object}	Problem
//	@Failure		403			{object}	Problem
//	@ID				plotScatter
//	@Router			/v1/studies/{id}/plots/scatter.svg [get]
func (s *server) plotScatter(c *gin.Context) error {
	a, scale, o, err := s.scaleFigures(c)
	if err != nil {
		return err
	}
	sc := a.Scales[0]
	in := plot.ScatterInput{
		Title: "Client against counsellor: " + scale.Name + ", " + sessionLabel(a.Selector),
		Scale: scale, Conf: a.Conf,
	}
	in.Client, in.Counsellor = pairScores(sc.Pairs)
	if v := sc.CCC.Value; v != nil {
		e := estimate(v.RhoC, v.Lower, v.Upper)
		in.CCC = &e
	}
	if v := sc.Pearson.Value; v != nil {
		e := estimate(v.R, v.Lower, v.Upper)
		in.Pearson = &e
	}
	return s.sendPlot(c, "scatter", o, func(w io.Writer, f plot.Format) error { return plot.Scatter(w, in, f) })
}

// plotTrajectories godoc
//
//	@Summary		Client − counsellor difference over sessions
//	@Description	Every dyad's client − counsellor difference (item metric) at every session both rated, as a thin line, with the per-session mean and its t-based CI as a band and n per session (binned past 2,000 observations). Every session number anyone rated is shown, n = 0 included. The session parameter does not apply (all sessions are drawn) but is checked like the other agreement parameters. SVG (default) with <title>, <desc> and JSON <metadata id="alliance-plot">, or format=png.
//	@Tags			plots
//	@Produce		image/svg+xml,image/png,application/problem+json
//	@Security		BearerAuth
//	@Param			id			path		string				true	"study id"
//	@Param			session		query		string				false	"checked, not used: every session is drawn"
//	@Param			scale		query		string				false	"one scale: total (default) or a subscale key"
//	@Param			band		query		number				false	"checked as in the agreement report"
//	@Param			multiplier	query		number				false	"checked as in the agreement report"
//	@Param			conf		query		number				false	"confidence level of the per-session CIs (default 0.95; above 0, at most 0.999999)"
//	@Param			format		query		string				false	"svg (default) or png"												Enums(svg, png)
//	@Param			labels		query		string				false	"none (default) or codes; this figure shows no codes either way"	Enums(none, codes)
//	@Success		200			{file}		file				"the figure (image/svg+xml or image/png)"
//	@Header			200			{string}	Content-Disposition	"inline; filename=trajectories.svg (or .png)"
//	@Failure		400			{object}	Problem
//	@Failure		404			{object}	Problem
//	@Failure		422			{object}	Problem
//	@Failure		401			{object}	Problem
//	@Failure		403			{object}	Problem
//	@ID				plotTrajectories
//	@Router			/v1/studies/{id}/plots/trajectories.svg [get]
func (s *server) plotTrajectories(c *gin.Context) error {
	q, o, err := plotQuery(c)
	if err != nil {
		return err
	}
	tr, err := s.svc.StudyTrajectories(c.Request.Context(), c.Param("id"), q)
	if err != nil {
		return err
	}
	scale, err := s.plotScale(c.Request.Context(), tr.Study, tr.Scale)
	if err != nil {
		return err
	}
	in := plot.TrajectoriesInput{
		Title: "Client − counsellor difference by session: " + scale.Name,
		Scale: scale, Sessions: tr.Sessions, Conf: tr.Conf, MinNInterval: alliance.MinNInterval,
		Dyads: make([][]plot.SessionValue, len(tr.Dyads)),
	}
	if in.Sessions == nil {
		in.Sessions = []int{} // no session yet: an empty figure, not one inferred from no dyads
	}
	for i, d := range tr.Dyads {
		in.Dyads[i] = sessionValues(d)
	}
	return s.sendPlot(c, "trajectories", o, func(w io.Writer, f plot.Format) error { return plot.Trajectories(w, in, f) })
}

// plotCounsellors godoc
//
//	@Summary		Mean client − counsellor difference by counsellor (caterpillar plot)
//	@Description	One row per counsellor: the mean client − counsellor difference (item metric) of their dyads at the selected session with its t-based CI and the number of dyads, sorted by mean; counsellors without a complete pair are listed without a point. The pairs are the agreement report's for the same parameters. Rows are labelled "Counsellor 1".."Counsellor k" unless labels=codes. SVG (default) with <title>, <desc> and JSON <metadata id="alliance-plot">, or format=png.
//	@Tags			plots
//	@Produce		image/svg+xml,image/png,application/problem+json
//	@Security		BearerAuth
//	@Param			id			path		string				true	"study id"
//	@Param			session		query		string				false	"a session number, first or last (default first)"
//	@Param			scale		query		string				false	"one scale: total (default) or a subscale key"
//	@Param			band		query		number				false	"checked as in the agreement report"
//	@Param			multiplier	query		number				false	"checked as in the agreement report"
//	@Param			conf		query		number				false	"confidence level of the CIs (default 0.95; above 0, at most 0.999999)"
//	@Param			format		query		string				false	"svg (default) or png"												Enums(svg, png)
//	@Param			labels		query		string				false	"none (default: Counsellor 1..k) or codes (the counsellor codes)"	Enums(none, codes)
//	@Success		200			{file}		file				"the figure (image/svg+xml or image/png)"
//	@Header			200			{string}	Content-Disposition	"inline; filename=counsellors.svg (or .png)"
//	@Failure		400			{object}	Problem
//	@Failure		404			{object}	Problem
//	@Failure		422			{object}	Problem
//	@Failure		401			{object}	Problem
//	@Failure		403			{object}	Problem
//	@ID				plotCounsellors
//	@Router			/v1/studies/{id}/plots/counsellors.svg [get]
func (s *server) plotCounsellors(c *gin.Context) error {
	q, o, err := plotQuery(c)
	if err != nil {
		return err
	}
	ca, err := s.svc.CounsellorGroups(c.Request.Context(), c.Param("id"), q)
	if err != nil {
		return err
	}
	scale, err := s.plotScale(c.Request.Context(), ca.Study, ca.Scale)
	if err != nil {
		return err
	}
	in := plot.CaterpillarInput{
		Title: "Client − counsellor difference by counsellor: " + scale.Name + ", " + sessionLabel(ca.Selector),
		Scale: scale, HideCodes: !o.codes, Conf: ca.Conf, MinNInterval: alliance.MinNInterval,
		Counsellors: make([]plot.CounsellorDifferences, len(ca.Counsellors)),
	}
	for i, k := range ca.Counsellors {
		in.Counsellors[i] = plot.CounsellorDifferences{Code: k.Code, Differences: k.Differences}
	}
	return s.sendPlot(c, "counsellors", o, func(w io.Writer, f plot.Format) error { return plot.Caterpillar(w, in, f) })
}

// plotDyadTrajectory godoc
//
//	@Summary		One dyad's ratings over sessions
//	@Description	Both raters' scores (item metric) per session, one panel per scale (total and subscales, or the scales asked for); a session only one side rated shows that side's marker. The title names the dyad's codes only with labels=codes. SVG (default) with <title>, <desc> and JSON <metadata id="alliance-plot">, or format=png.
//	@Tags			plots
//	@Produce		image/svg+xml,image/png,application/problem+json
//	@Security		BearerAuth
//	@Param			id		path		string				true	"dyad id"
//	@Param			scale	query		[]string			false	"scales to draw: total and/or subscale keys (default all); repeat or comma-separate"	collectionFormat(multi)
//	@Param			format	query		string				false	"svg (default) or png"																	Enums(svg, png)
//	@Param			labels	query		string				false	"none (default) or codes (the dyad's codes in the title)"								Enums(none, codes)
//	@Success		200		{file}		file				"the figure (image/svg+xml or image/png)"
//	@Header			200		{string}	Content-Disposition	"inline; filename=trajectory.svg (or .png)"
//	@Failure		404		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@ID				plotDyadTrajectory
//	@Router			/v1/dyads/{id}/plots/trajectory.svg [get]
func (s *server) plotDyadTrajectory(c *gin.Context) error {
	o, err := parsePlotOptions(c)
	if err != nil {
		return err
	}
	a, err := s.svc.DyadAgreement(c.Request.Context(), c.Param("id"), nil)
	if err != nil {
		return err
	}
	scales := a.Scales
	if asked := queryList(c, "scale"); len(asked) > 0 {
		var picked []string
		for _, sc := range asked {
			if !slices.Contains(a.Scales, sc) {
				return &alliance.ValidationError{Fields: []alliance.FieldError{{Field: "scale", Code: "unknown_scale",
					Message: "unknown scale; this dyad's scales are " + strings.Join(a.Scales, ", ")}}}
			}
			if !slices.Contains(picked, sc) {
				picked = append(picked, sc)
			}
		}
		scales = picked
	}
	st, err := s.svc.FindStudyByID(c.Request.Context(), a.Dyad.StudyID)
	if err != nil {
		return err
	}
	in := plot.DyadTrajectoryInput{Title: "One dyad: client and counsellor ratings by session"}
	if o.codes {
		in.Title, in.Dyad = "", a.Dyad.ClientCode+" / "+a.Dyad.CounsellorCode
	}
	for _, name := range scales {
		k := slices.Index(a.Scales, name)
		scale, err := s.plotScale(c.Request.Context(), st, name)
		if err != nil {
			return err
		}
		ser := plot.ScaleSeries{Scale: scale}
		for _, ses := range a.Sessions {
			d := ses.Scales[k]
			if d.Client != nil {
				ser.Client = append(ser.Client, plot.SessionValue{Session: ses.Session, Value: *d.Client})
			}
			if d.Counsellor != nil {
				ser.Counsellor = append(ser.Counsellor, plot.SessionValue{Session: ses.Session, Value: *d.Counsellor})
			}
		}
		in.Scales = append(in.Scales, ser)
	}
	return s.sendPlot(c, "trajectory", o, func(w io.Writer, f plot.Format) error { return plot.DyadTrajectory(w, in, f) })
}

func sessionValues(vs []alliance.SessionValue) []plot.SessionValue {
	out := make([]plot.SessionValue, len(vs))
	for i, v := range vs {
		out[i] = plot.SessionValue(v)
	}
	return out
}
