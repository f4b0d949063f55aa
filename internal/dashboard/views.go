package dashboard

// The view of each page: plain values, formatted by the caller, so the
// templates only lay them out. Numbers arrive as text ("0.42", "—") with
// their intervals and reasons already worded.

// Link is a labelled URL.
type Link struct {
	Text, Href string
}

// Page is what every page has: its title, whether someone is signed in
// (the header then offers sign-out), and the breadcrumbs above the title.
type Page struct {
	Title    string
	SignedIn bool
	Crumbs   []Link
}

// SignIn is the sign-in form. Next is the dashboard page to return to;
// Error, when set, says why the last attempt failed.
type SignIn struct {
	Page
	Next  string
	Error string
}

// StudyList lists the studies the signed-in key may read.
type StudyList struct {
	Page
	Studies []StudyRow
}

// StudyRow is one study of the list.
type StudyRow struct {
	Name, Href, Description, Forms, Created string
}

// Figure is an estimate as shown: its value, its interval, or the reason
// it is undefined.
type Figure struct {
	Value, CI, Reason string
}

// ScaleFigures are the headline agreement figures of one scale.
type ScaleFigures struct {
	Scale      string
	N          int
	Bias       Figure
	LowerLoA   Figure
	UpperLoA   Figure
	CCC        Figure
	Pearson    Figure
	ICC        Figure
	WithinBand string // e.g. "18 of 40 (45%)"
	Higher     string // client higher / counsellor higher counts
	Href       string // the per-session view of this scale
}

// CompletionRow is one session of the completion table.
type CompletionRow struct {
	Session                           int
	Client, Counsellor, Both          int
	ClientPct, CounsellorPct, BothPct string
}

// Plot is a figure embedded as an image; Href opens it on its own (SVG)
// and PNG downloads it for slides.
type Plot struct {
	Title, Src, Alt, PNG string
}

// Overview is a study's overview page.
type Overview struct {
	Page
	Study       StudySummary
	Dyads       string // "13 dyads"
	Completion  []CompletionRow
	Selection   string // e.g. "each dyad's first session rated by both"
	Band        string
	Multiplier  string
	Conf        string
	Figures     []ScaleFigures
	Warnings    []string
	PlotScale   string // the scale the plots show
	Plots       []Plot
	SessionHref string
	DyadsHref   string // the list of the study's dyads
}

// ScoresView is the page of a study in which one role rates (the
// client-only SRS): no agreement to show, so its scores per session,
// and their change (the counsellors' means, which name counsellors, are
// in the JSON it links to).
type ScoresView struct {
	Page
	Study    StudySummary
	Role     string
	Scale    string
	Metric   string // e.g. "sum of the items (0–40)"
	Conf     string
	Sessions []ScoreRow
	Change   string // the reliable-change criterion, or why there is none
	Steps    []ChangeRow
	Warnings []string
	// SummaryPath and ExportPath are the API calls (with a key, not
	// this page's session) that give the same figures and the ratings.
	SummaryPath, ExportPath string
	DyadsHref               string // the list of the study's dyads
}

// ScoreRow is one session's scores.
type ScoreRow struct {
	Session             int
	N                   int
	Mean, Median, Range string
	AtMin, AtMax        string
	BelowCutoff         Figure
}

// ChangeRow is the change from one session to the next.
type ChangeRow struct {
	From, To                   int
	N                          int
	Change                     Figure
	Increase, Decrease, Stable int
}

// StudySummary names a study and its forms.
type StudySummary struct {
	ID, Name, Description, ClientForm, CounsellorForm string
}

// Option is one choice of a select.
type Option struct {
	Value, Text string
	Selected    bool
}

// FlaggedDyad is a dyad whose difference lies outside the band.
type FlaggedDyad struct {
	Dyad, Href                     string
	Client, Counsellor, Difference string
}

// SessionView is one session selection of a study, with a picker.
type SessionView struct {
	Page
	Study       StudySummary
	Action      string
	Sessions    []Option
	Scales      []Option
	Band        string
	Conf        string
	Multiplier  string
	Selection   string
	Figures     ScaleFigures
	Warnings    []string
	Plots       []Plot
	Flagged     []FlaggedDyad
	FlaggedMore int    // flagged dyads not listed
	FlaggedText string // "3 dyads differ"
}

// DyadList is a page of a study's dyads, or those a code search found.
type DyadList struct {
	Page
	Study                      StudySummary
	Action                     string // the search form's target: this page
	ClientCode, CounsellorCode string // the codes searched for, if any
	Searched                   bool
	Codes                      bool // the rows show participant codes
	CodesHref, CodesText       string
	Rows                       []DyadRow
	NextHref                   string // the next page, if there is one
}

// DyadRow is one dyad of the list.
type DyadRow struct {
	ID, Href   string
	Codes      string
	Enrolled   string
	Withdrawal string // "" while consent holds
}

// DyadCell is one scale of one session of a dyad.
type DyadCell struct {
	Client, Counsellor, Difference string
	Flagged                        bool
}

// DyadSession is one row of the dyad's table.
type DyadSession struct {
	Session int
	Missing string // the side that has not rated, if any
	Cells   []DyadCell
	Flagged bool
}

// DyadHeader is what a dyad's page opens with, whichever study it is of.
type DyadHeader struct {
	DyadID    string
	Codes     string // client and counsellor codes, only when asked for
	CodesHref string // the same page with (or without) codes
	CodesText string
	StudyHref string
	// Withdrawal says that consent was withdrawn, and what that means for
	// the figures; "" if it was not.
	Withdrawal string
}

// DyadView is one dyad's course.
type DyadView struct {
	Page
	DyadHeader
	Band     string
	Scales   []string
	Sessions []DyadSession
	Flagged  []int // sessions with any |difference| > band
	Slopes   []string
	Plot     Plot
}

// Problem is an error page.
type Problem struct {
	Page
	Status int
	Detail string
	Fields []string
}

// DyadScoresView is the page of a dyad of a study in which one role
// rates: that role's scores per session.
type DyadScoresView struct {
	Page
	DyadHeader
	Role     string
	Form     string
	Scales   []string
	Sessions []ScoreSession
}

// ScoreSession is one session's scores, one cell per scale.
type ScoreSession struct {
	Session int
	Cells   []ScoreCell
}

// ScoreCell is one scale's score: the item mean and the sum ("—" when
// the scale has no score).
type ScoreCell struct {
	Mean, Sum string
}
