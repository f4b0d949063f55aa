package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
)

// getSessionAgreement godoc
//
//	@Summary		Agreement of one dyad session
//	@Description	Compares the client's and the counsellor's current ratings of one session. Per scale (total first, then the form's subscales): both item-mean scores (each over the items that side answered), client − counsellor of those scores and its absolute value. Item level, on keyed answers over the items both answered (k_both): the mean item difference over those common items (common_items_mean_difference; it differs from scales[total].difference when a side skipped items), mean absolute item difference, profile correlation, D, D² and its Cronbach–Gleser split (elevation + scatter + shape = D²), rwg(J) truncated at 0 (secondary index), and the within-dyad ICC table (items × roles; unstable with ceiling effects). warnings: low_variance when a side gave nearly the same answer to every item, small_n when fewer than 3 items were answered by both. A session nobody rated is 404; a session only one side rated is 422 with errors[0].field = "session" and code client_rating_missing or counsellor_rating_missing. Undefined figures are null with a reason.
//	@Tags			agreement
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id		path		string	true	"dyad id"
//	@Param			session	path		int		true	"session number"
//	@Success		200		{object}	SessionAgreementResponse
//	@Failure		400		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Failure		503		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@ID				getSessionAgreement
//	@Router			/v1/dyads/{id}/sessions/{session}/agreement [get]
func (s *server) getSessionAgreement(c *gin.Context) error {
	session, err := pathInt(c, "session")
	if err != nil {
		return err
	}
	a, err := s.svc.SessionAgreement(c.Request.Context(), c.Param("id"), session)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toSessionAgreementResponse(a))
	return nil
}

// ItemPairResponse is one item on the keyed metric (reverse-keyed items
// reflected); null means unanswered. item is the client form's item key,
// counsellor_item the key of its parallel item on the counsellor form: the
// same number unless the family's definition pairs them otherwise.
type ItemPairResponse struct {
	Item           int      `json:"item" example:"1"`
	CounsellorItem int      `json:"counsellor_item" example:"1"`
	Client         *float64 `json:"client" extensions:"x-nullable" example:"5"`
	Counsellor     *float64 `json:"counsellor" extensions:"x-nullable" example:"4"`
	Difference     *float64 `json:"difference" extensions:"x-nullable" example:"1"`
}

// ProfileResponse is within-dyad profile agreement over the n = k_both
// items both answered. common_items_mean_difference is the mean item
// difference over those items (mean_difference is its older name, kept
// for existing clients). D² = elevation + scatter + shape exactly
// (population SDs). profile_r is null with profile_r_reason when k < 3 or
// a side gave the same answer to every item; rwg_j is truncated at 0.
type ProfileResponse struct {
	N                         int      `json:"n" example:"12"`
	Reason                    string   `json:"reason,omitempty" example:"n_too_small"`
	CommonItemsMeanDifference *float64 `json:"common_items_mean_difference" extensions:"x-nullable" example:"0.9167"`
	// Deprecated: the same value as common_items_mean_difference.
	MeanDifference    *float64 `json:"mean_difference" extensions:"x-nullable" example:"0.9167"`
	MeanAbsDifference *float64 `json:"mean_abs_difference" extensions:"x-nullable" example:"0.9167"`
	D2                *float64 `json:"d2" extensions:"x-nullable" example:"13"`
	D                 *float64 `json:"d" extensions:"x-nullable" example:"3.6056"`
	Elevation         *float64 `json:"elevation" extensions:"x-nullable" example:"10.0833"`
	Scatter           *float64 `json:"scatter" extensions:"x-nullable" example:"0.0006"`
	Shape             *float64 `json:"shape" extensions:"x-nullable" example:"2.9161"`
	ProfileR          *float64 `json:"profile_r" extensions:"x-nullable" example:"0.5071"`
	ProfileRReason    string   `json:"profile_r_reason,omitempty" example:"zero_variance"`
	RwgJ              *float64 `json:"rwg_j" extensions:"x-nullable" example:"0.97"`
	MeanItemVariance  *float64 `json:"mean_item_variance" extensions:"x-nullable" example:"0.5417"`
	REquivalent       string   `json:"r_equivalent"`
}

// ItemAgreementResponse is the item-level agreement of one session.
type ItemAgreementResponse struct {
	KItems        int                `json:"k_items" example:"12"`
	KBoth         int                `json:"k_both" example:"12"`
	ScaleMin      float64            `json:"scale_min" example:"1"`
	ScaleMax      float64            `json:"scale_max" example:"5"`
	Items         []ItemPairResponse `json:"items"`
	Profile       ProfileResponse    `json:"profile"`
	WithinDyadICC ICCResponse        `json:"within_dyad_icc"`
}

// SessionAgreementResponse is the agreement of one complete dyad session.
type SessionAgreementResponse struct {
	DyadID         string                    `json:"dyad_id"`
	StudyID        string                    `json:"study_id"`
	Session        int                       `json:"session" example:"1"`
	ClientForm     string                    `json:"client_form" example:"wai_sr_client"`
	CounsellorForm string                    `json:"counsellor_form" example:"wai_sr_therapist"`
	Metric         string                    `json:"metric" example:"item_mean"`
	Direction      string                    `json:"direction" example:"client_minus_counsellor"`
	Scales         []ScaleDifferenceResponse `json:"scales"`
	ItemLevel      ItemAgreementResponse     `json:"item_level"`
	Warnings       []WarningResponse         `json:"warnings"`
}

func toSessionAgreementResponse(a alliance.SessionAgreement) SessionAgreementResponse {
	it := a.Items
	out := SessionAgreementResponse{
		DyadID: a.Dyad.ID, StudyID: a.Dyad.StudyID, Session: a.Session, ClientForm: a.ClientForm, CounsellorForm: a.CounsellorForm,
		Metric: metricItemMean, Direction: directionCMinT, Scales: toScaleDifferences(a.Scales),
		ItemLevel: ItemAgreementResponse{
			KItems: it.KItems, KBoth: it.KBoth, ScaleMin: it.ScaleMin, ScaleMax: it.ScaleMax,
			Items:         make([]ItemPairResponse, len(it.Items)),
			Profile:       ProfileResponse{N: it.KBoth, Reason: it.Profile.Reason, REquivalent: rProfile},
			WithinDyadICC: toICCResponse(it.ICC, it.KBoth, alliance.DefaultConf, rDyadICC),
		},
		Warnings: toWarnings(a.Warnings),
	}
	for i, p := range it.Items {
		out.ItemLevel.Items[i] = ItemPairResponse(p)
	}
	if p := it.Profile.Value; p != nil {
		pr := &out.ItemLevel.Profile
		pr.N = p.K
		pr.CommonItemsMeanDifference, pr.MeanDifference, pr.MeanAbsDifference = fin(p.MeanDiff), fin(p.MeanDiff), fin(p.MeanAbsDiff)
		pr.D2, pr.D = fin(p.D2), fin(p.D)
		pr.Elevation, pr.Scatter, pr.Shape = fin(p.Elevation), fin(p.Scatter), fin(p.Shape)
		pr.ProfileR, pr.ProfileRReason = p.ProfileR, p.ProfileRReason
		pr.RwgJ, pr.MeanItemVariance = fin(p.RwgJ), fin(p.MeanItemVar)
	}
	return out
}
