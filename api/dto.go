package api

import (
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
)

// --- instruments ---

// AnchorResponse is one labelled point of a response scale: label in
// English (else the first language defined) and, per language code, every
// label the definition gives.
type AnchorResponse struct {
	Value  float64           `json:"value" example:"1"`
	Label  string            `json:"label" example:"Seldom"`
	Labels map[string]string `json:"labels"`
}

// ScaleResponse is the response scale every item of a form shares.
type ScaleResponse struct {
	Min     float64          `json:"min" example:"1"`
	Max     float64          `json:"max" example:"5"`
	Step    float64          `json:"step" example:"1"`
	Anchors []AnchorResponse `json:"anchors"`
}

// ItemResponse is one item: its key (answers are positional in key order),
// its subscale, whether it is reverse-keyed, our short label, the family's
// number of the item (parallel: the client form's item it pairs with) and,
// when the deployment supplied licensed texts, the item text per language.
type ItemResponse struct {
	Key      int               `json:"key" example:"1"`
	Parallel int               `json:"parallel" example:"1"`
	Subscale string            `json:"subscale,omitempty" example:"task"`
	Reverse  bool              `json:"reverse"`
	Label    string            `json:"label" example:"sessions clarify how to change"`
	Text     map[string]string `json:"text,omitempty"`
}

// SubscaleResponse names a subscale and its item keys.
type SubscaleResponse struct {
	Key   string `json:"key" example:"goal"`
	Label string `json:"label" example:"Goal"`
	Items []int  `json:"items" example:"4,6,8,11"`
}

// InstrumentResponse is everything a frontend needs to render a form.
type InstrumentResponse struct {
	// ID names the exact definition: a built-in form's id, or a defined
	// form's id and version (sai_client@1).
	ID     string `json:"id" example:"wai_sr_client"`
	Family string `json:"family" example:"wai_sr"`
	// Builtin is true for the forms shipped with the service, false for
	// those defined through POST /v1/instruments.
	Builtin       bool               `json:"builtin" example:"true"`
	Name          string             `json:"name" example:"Working Alliance Inventory, short revised, client form"`
	Role          string             `json:"role" example:"client" enums:"client,counsellor"`
	Version       string             `json:"version" example:"1"`
	Citation      string             `json:"citation"`
	LicenceNote   string             `json:"licence_note"`
	Unverified    []string           `json:"unverified"`
	ParallelForms []string           `json:"parallel_forms" example:"wai_sr_therapist"`
	Scale         ScaleResponse      `json:"scale"`
	Items         []ItemResponse     `json:"items"`
	Subscales     []SubscaleResponse `json:"subscales"`
	// MaxMissingFraction is the form's own cap on unanswered items (null: none).
	MaxMissingFraction *float64 `json:"max_missing_fraction" extensions:"x-nullable"`
	// Prorate is the form's proration rule: person_mean (a scale with
	// missing items is scored by the mean of those answered, within the
	// caps) or none (every item must be answered, whatever a study allows).
	Prorate string `json:"prorate" example:"person_mean" enums:"person_mean,none"`
	// TotalRequiresSubscales: the form scores a total only when every
	// subscale is scored, whatever a study's policy says.
	TotalRequiresSubscales bool `json:"total_requires_subscales" example:"false"`
	// RuptureReference is what the rupture alert uses until a study has
	// reliability figures of its own (null: none; ruptures then wait).
	RuptureReference *RuptureReferenceResponse `json:"rupture_reference" extensions:"x-nullable"`
	// ClinicalCutoff is the published cut-off of the total (null: none).
	ClinicalCutoff *CutoffResponse `json:"clinical_cutoff" extensions:"x-nullable"`
	// Reliability is a published reliability of the total (null: none), the
	// default r_xx of the summary's reliable change index.
	Reliability *ReliabilityResponse `json:"reliability" extensions:"x-nullable"`
}

// RuptureReferenceResponse is a form's provisional reliability for the
// rupture alert: Cronbach's alpha of the total and the SD of its item mean.
type RuptureReferenceResponse struct {
	Alpha  float64 `json:"alpha" example:"0.91"`
	SD     float64 `json:"sd" example:"0.67"`
	Source string  `json:"source"`
}

// ReliabilityResponse is a published reliability coefficient.
type ReliabilityResponse struct {
	Value  float64 `json:"value" example:"0.88"`
	Kind   string  `json:"kind" example:"cronbach_alpha"`
	Source string  `json:"source"`
}

// InstrumentList is the catalogue.
type InstrumentList struct {
	Items []InstrumentResponse `json:"items"`
}

// toInstrumentResponse converts f; parallel are its parallel forms' ids.
func toInstrumentResponse(f *alliance.Form, parallel []string) InstrumentResponse {
	out := InstrumentResponse{
		ID: f.ID, Family: f.Family, Builtin: f.Builtin, Name: f.Name, Role: f.Role, Version: f.Version,
		Citation: f.Citation, LicenceNote: f.LicenceNote, Unverified: f.Unverified,
		ParallelForms: parallel, MaxMissingFraction: f.MaxMissingFraction,
		Prorate: f.Prorate, TotalRequiresSubscales: f.TotalRequiresSubscales,
		Scale:     ScaleResponse{Min: f.Scale.Min, Max: f.Scale.Max, Step: f.Scale.Step, Anchors: []AnchorResponse{}},
		Items:     make([]ItemResponse, len(f.Items)),
		Subscales: make([]SubscaleResponse, len(f.Subscales)),
	}
	if out.Unverified == nil {
		out.Unverified = []string{}
	}
	if c := f.ClinicalCutoff; c != nil {
		out.ClinicalCutoff = &CutoffResponse{Value: c.Value, Metric: c.Metric, Source: c.Source}
	}
	if r := f.Reliability; r != nil {
		out.Reliability = &ReliabilityResponse{Value: r.Value, Kind: r.Kind, Source: r.Source}
	}
	if r := f.RuptureReference; r != nil {
		out.RuptureReference = &RuptureReferenceResponse{Alpha: r.Alpha, SD: r.SD, Source: r.Source}
	}
	for _, a := range f.Scale.Anchors {
		out.Scale.Anchors = append(out.Scale.Anchors, AnchorResponse{Value: a.Value, Label: a.Label, Labels: a.Labels})
	}
	for i, it := range f.Items {
		out.Items[i] = ItemResponse{Key: it.Key, Parallel: it.Parallel, Subscale: it.Subscale, Reverse: it.Reverse, Label: it.Label, Text: it.Text}
	}
	for i, s := range f.Subscales {
		out.Subscales[i] = SubscaleResponse{Key: s.Key, Label: s.Label, Items: s.Items}
	}
	return out
}

// --- studies ---

// FormsBody names the instrument form each role answers in a study.
type FormsBody struct {
	Client     string `json:"client,omitempty" example:"wai_sr_client"`
	Counsellor string `json:"counsellor,omitempty" example:"wai_sr_therapist"`
}

// MissingPolicyBody is the study's missing-item policy: a (sub)scale of k
// items is scored, by the mean of the answered items, when at most
// floor(max_missing_fraction·k) items are unanswered; with
// total_requires_subscales the total is scored only when every subscale
// is (default false: the total counts its own items only).
type MissingPolicyBody struct {
	MaxMissingFraction     *float64 `json:"max_missing_fraction" example:"0.25" extensions:"x-nullable"`
	TotalRequiresSubscales *bool    `json:"total_requires_subscales,omitempty" example:"false" extensions:"x-nullable"`
}

// CreateStudyRequest creates a study.
type CreateStudyRequest struct {
	Name          string             `json:"name" example:"Keyworker alliance 2026" validate:"required"`
	Description   string             `json:"description,omitempty" example:"Parallel WAI-SR after sessions 1, 3 and 6"`
	Forms         FormsBody          `json:"forms" validate:"required"`
	MissingPolicy *MissingPolicyBody `json:"missing_policy,omitempty" extensions:"x-nullable"`
	// CodePattern, when given, is a regular expression (RE2 syntax) every
	// participant code of the study must match in full.
	CodePattern string `json:"code_pattern,omitempty" example:"^[CK]-[0-9]{3}$"`
	// Language is the hosted survey page's default language.
	Language string `json:"language,omitempty" example:"sv" enums:"en,sv"`
	// AlertThresholds sets the alert thresholds (absent: the defaults).
	AlertThresholds *AlertThresholdsBody `json:"alert_thresholds,omitempty" extensions:"x-nullable"`
}

// StudyResponse is a study.
type StudyResponse struct {
	ID            string            `json:"id" example:"st_01jd8x2k4m5n6p7q8r9s0t1v2w"`
	Name          string            `json:"name"`
	Description   string            `json:"description"`
	Forms         FormsBody         `json:"forms"`
	MissingPolicy MissingPolicyBody `json:"missing_policy"`
	CodePattern   string            `json:"code_pattern,omitempty" example:"^[CK]-[0-9]{3}$"`
	Language      string            `json:"language,omitempty" example:"sv"`
	CreatedAt     time.Time         `json:"created_at" format:"date-time"`
	// AlertThresholds are the study's alert thresholds, defaults filled in.
	AlertThresholds AlertThresholdsBody `json:"alert_thresholds"`
}

// StudyList is one page of studies; Next is the cursor of the next page.
type StudyList struct {
	Items []StudyResponse `json:"items"`
	Next  *string         `json:"next" extensions:"x-nullable"`
}

func toStudyResponse(s alliance.Study) StudyResponse {
	return StudyResponse{
		ID: s.ID, Name: s.Name, Description: s.Description,
		Forms:         FormsBody{Client: s.Forms[alliance.RoleClient], Counsellor: s.Forms[alliance.RoleCounsellor]},
		MissingPolicy: toMissingPolicyBody(s.Policy),
		CodePattern:   s.CodePattern, Language: s.Language,
		CreatedAt: s.CreatedAt, AlertThresholds: toThresholdsBody(s.Alerts),
	}
}

// toMissingPolicyBody is a policy as studies and ratings show it: both
// members always present.
func toMissingPolicyBody(p alliance.Policy) MissingPolicyBody {
	f, t := p.MaxMissingFraction, p.TotalRequiresSubscales
	return MissingPolicyBody{MaxMissingFraction: &f, TotalRequiresSubscales: &t}
}

// --- dyads ---

// CreateDyadRequest adds a dyad to a study. Codes are pseudonyms chosen by
// the study team; never names.
type CreateDyadRequest struct {
	ClientCode     string `json:"client_code" example:"C-017" validate:"required"`
	CounsellorCode string `json:"counsellor_code" example:"K-03" validate:"required"`
}

// DyadResponse is a dyad.
type DyadResponse struct {
	ID             string    `json:"id" example:"dy_01jd8x2k4m5n6p7q8r9s0t1v2w"`
	StudyID        string    `json:"study_id"`
	ClientCode     string    `json:"client_code" example:"C-017"`
	CounsellorCode string    `json:"counsellor_code" example:"K-03"`
	CreatedAt      time.Time `json:"created_at" format:"date-time"`
	// Withdrawal is null unless consent was withdrawn.
	Withdrawal *WithdrawalResponse `json:"withdrawal" extensions:"x-nullable"`
}

// WithdrawalResponse says when and why a dyad was withdrawn from
// collection, and whose consent was withdrawn.
type WithdrawalResponse struct {
	At         time.Time `json:"at" format:"date-time"`
	Scope      string    `json:"scope" example:"client" enums:"client,counsellor,both"`
	ReasonCode string    `json:"reason_code" example:"consent_withdrawn"`
	// WidenedAt is when the scope widened to both, the other side
	// withdrawing too (at stays when collection stopped); null if it did
	// not.
	WidenedAt *time.Time `json:"widened_at" format:"date-time" extensions:"x-nullable"`
}

// DyadList is one page of dyads; Next is the cursor of the next page.
type DyadList struct {
	Items []DyadResponse `json:"items"`
	Next  *string        `json:"next" extensions:"x-nullable"`
}

func toDyadResponse(d alliance.Dyad) DyadResponse {
	out := DyadResponse{ID: d.ID, StudyID: d.StudyID, ClientCode: d.ClientCode, CounsellorCode: d.CounsellorCode, CreatedAt: d.CreatedAt}
	if w := d.Withdrawal; w != nil {
		out.Withdrawal = &WithdrawalResponse{At: w.At, Scope: w.Scope, ReasonCode: w.Reason, WidenedAt: w.WidenedAt}
	}
	return out
}

// --- ratings ---

// CreateRatingRequest is one rater's answers for one session. Answers are
// positional in item-key order (answers[0] is item 1); null is an
// unanswered item.
type CreateRatingRequest struct {
	Session     *int       `json:"session" example:"1" minimum:"1" validate:"required"`
	SessionDate string     `json:"session_date,omitempty" example:"2026-11-23" format:"date"`
	Role        string     `json:"role" example:"client" enums:"client,counsellor" validate:"required"`
	Answers     []*float64 `json:"answers" example:"5,4,5,4,5,5,4,4,5,4,4,5" validate:"required"`
}

// AmendRatingRequest replaces a rating; session and role come from the path.
type AmendRatingRequest struct {
	SessionDate string     `json:"session_date,omitempty" example:"2026-11-23" format:"date"`
	Answers     []*float64 `json:"answers" example:"5,4,5,4,5,5,4,4,5,4,4,4" validate:"required"`
}

// ScoreResponse is one scale's score. Mean is on the item metric (1–5 on
// the WAI-SR); sum is on the full-form metric (prorated as mean × items
// when items are missing). Both are null, with a reason, when too many
// items are missing under the study's policy (too_many_missing), or, for
// the total of a study whose policy has total_requires_subscales, when a
// subscale is unscored (subscale_missing).
type ScoreResponse struct {
	Mean     *float64 `json:"mean" example:"4.5" extensions:"x-nullable"`
	Sum      *float64 `json:"sum" example:"18" extensions:"x-nullable"`
	Answered int      `json:"answered" example:"4"`
	Items    int      `json:"items" example:"4"`
	Prorated bool     `json:"prorated"`
	Reason   string   `json:"reason,omitempty" example:"too_many_missing"`
}

// ScoresResponse holds the total and per-subscale scores.
type ScoresResponse struct {
	Total     ScoreResponse            `json:"total"`
	Subscales map[string]ScoreResponse `json:"subscales"`
}

// RatingResponse is one version of a rating with its raw answers, scores
// and the rules that produced them.
type RatingResponse struct {
	ID             string            `json:"id" example:"ra_01jd8x2k4m5n6p7q8r9s0t1v2w"`
	StudyID        string            `json:"study_id"`
	DyadID         string            `json:"dyad_id"`
	Session        int               `json:"session" example:"1"`
	SessionDate    *string           `json:"session_date" example:"2026-11-23" format:"date" extensions:"x-nullable"`
	Role           string            `json:"role" example:"client" enums:"client,counsellor"`
	Instrument     string            `json:"instrument" example:"wai_sr_client"`
	Answers        []*float64        `json:"answers"`
	Scores         ScoresResponse    `json:"scores"`
	MissingPolicy  MissingPolicyBody `json:"missing_policy"`
	ScoringVersion string            `json:"scoring_version" example:"2/wai_sr_client@1"`
	Version        int               `json:"version" example:"1"`
	CreatedAt      time.Time         `json:"created_at" format:"date-time"`
	SupersededAt   *time.Time        `json:"superseded_at" format:"date-time" extensions:"x-nullable"`
	// VoidedAt is set on a version an admin voided; it then left current
	// data, and VoidReason says why.
	VoidedAt   *time.Time `json:"voided_at,omitempty" format:"date-time"`
	VoidReason string     `json:"void_reason,omitempty" example:"wrong_dyad"`
}

// RatingList lists ratings (a dyad's current ones, or one rating's history).
type RatingList struct {
	Items []RatingResponse `json:"items"`
}

func toScoreResponse(s alliance.Score) ScoreResponse { return ScoreResponse(s) }

func toRatingResponse(r alliance.Rating) RatingResponse {
	out := RatingResponse{
		ID: r.ID, StudyID: r.StudyID, DyadID: r.DyadID, Session: r.Session, Role: string(r.Role),
		Instrument: r.FormID, Answers: r.Answers,
		Scores:         ScoresResponse{Total: toScoreResponse(r.Scores.Total), Subscales: map[string]ScoreResponse{}},
		MissingPolicy:  toMissingPolicyBody(r.Policy),
		ScoringVersion: r.ScoringVersion, Version: r.Version, CreatedAt: r.CreatedAt, SupersededAt: r.SupersededAt,
		VoidedAt: r.VoidedAt, VoidReason: r.VoidReason,
	}
	for k, v := range r.Scores.Subscales {
		out.Scores.Subscales[k] = toScoreResponse(v)
	}
	if r.SessionDate != nil {
		d := r.SessionDate.String()
		out.SessionDate = &d
	}
	return out
}

func toRatingList(rs []alliance.Rating) RatingList {
	out := RatingList{Items: make([]RatingResponse, len(rs))}
	for i, r := range rs {
		out.Items[i] = toRatingResponse(r)
	}
	return out
}

// --- sessions ---

// DifferenceResponse is client − counsellor on the item-mean metric for one
// scale; difference is null, with a reason, when either score is missing.
type DifferenceResponse struct {
	Client     *float64 `json:"client" example:"4.5" extensions:"x-nullable"`
	Counsellor *float64 `json:"counsellor" example:"3.58" extensions:"x-nullable"`
	Difference *float64 `json:"difference" example:"0.92" extensions:"x-nullable"`
	Reason     string   `json:"reason,omitempty" example:"score_missing"`
}

// ComparisonResponse is the basic comparison of a complete session.
type ComparisonResponse struct {
	Metric    string                        `json:"metric" example:"item_mean"`
	Direction string                        `json:"direction" example:"client_minus_counsellor"`
	Total     DifferenceResponse            `json:"total"`
	Subscales map[string]DifferenceResponse `json:"subscales"`
}

// SessionResponse shows both sides of one dyad session.
type SessionResponse struct {
	DyadID     string              `json:"dyad_id"`
	Session    int                 `json:"session" example:"1"`
	Complete   bool                `json:"complete"`
	Client     *RatingResponse     `json:"client" extensions:"x-nullable"`
	Counsellor *RatingResponse     `json:"counsellor" extensions:"x-nullable"`
	Comparison *ComparisonResponse `json:"comparison" extensions:"x-nullable"`
}

func toDifferenceResponse(d alliance.ScaleDifference) DifferenceResponse {
	return DifferenceResponse{Client: d.Client, Counsellor: d.Counsellor, Difference: d.Difference, Reason: d.Reason}
}

func toSessionResponse(s alliance.Session) SessionResponse {
	out := SessionResponse{DyadID: s.Dyad.ID, Session: s.Number, Complete: s.Complete()}
	if s.Client != nil {
		r := toRatingResponse(*s.Client)
		out.Client = &r
	}
	if s.Counsellor != nil {
		r := toRatingResponse(*s.Counsellor)
		out.Counsellor = &r
	}
	if s.Differences != nil {
		c := &ComparisonResponse{Metric: "item_mean", Direction: "client_minus_counsellor", Subscales: map[string]DifferenceResponse{}}
		for _, d := range s.Differences {
			if d.Scale == alliance.ScaleTotal {
				c.Total = toDifferenceResponse(d)
			} else {
				c.Subscales[d.Scale] = toDifferenceResponse(d)
			}
		}
		out.Comparison = c
	}
	return out
}

// --- health ---

// StatusResponse is the body of a healthy health check.
type StatusResponse struct {
	Status string `json:"status" example:"ok"`
}
