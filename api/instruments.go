package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
)

// InstrumentDefinitionRequest defines a family of parallel forms: a client
// form, a counsellor form, or one of them. It holds structure and our own
// short labels only; licensed item wording is loaded per deployment from
// the item-text file (ALLIANCE_ITEM_TEXTS). Item numbers are 1-based; each
// form lists its subscales and reverse keys in its own numbering, and
// parallel says which client item pairs with which counsellor item.
type InstrumentDefinitionRequest struct {
	// ID is the family id; every form id is this id, an underscore and a
	// suffix without underscores.
	ID string `json:"id" example:"sai"`
	// Version names this definition; a changed definition is a new version.
	Version     string   `json:"version" example:"1"`
	Name        string   `json:"name" example:"Session Alliance Inventory (SAI), synthetic key"`
	Citation    string   `json:"citation" example:"Falkenström et al. (2015), Psychological Assessment 27(1), 169-183"`
	LicenceNote string   `json:"licence_note" example:"Item wording not stored; licensed text per deployment"`
	Unverified  []string `json:"unverified,omitempty"`
	// Items is the number of items of each form (at most 200).
	Items          int                  `json:"items" example:"6"`
	Scale          DefinedScaleBody     `json:"scale"`
	MissingPolicy  *DefinedMissingBody  `json:"missing_policy,omitempty" extensions:"x-nullable"`
	ClinicalCutoff *CutoffResponse      `json:"clinical_cutoff,omitempty" extensions:"x-nullable"`
	Reliability    *ReliabilityResponse `json:"reliability,omitempty" extensions:"x-nullable"`
	Parallel       []ParallelPairBody   `json:"parallel,omitempty"`
	Forms          []DefinedFormBody    `json:"forms"`
}

// DefinedScaleBody is the response scale of a definition: answers lie in
// [min, max] on the grid min + n·step (at most 1001 points).
type DefinedScaleBody struct {
	Min     float64             `json:"min" example:"1"`
	Max     float64             `json:"max" example:"7"`
	Step    float64             `json:"step" example:"1"`
	Anchors []DefinedAnchorBody `json:"anchors,omitempty"`
}

// DefinedAnchorBody labels a point of the scale per language code.
type DefinedAnchorBody struct {
	Value  float64           `json:"value" example:"1"`
	Labels map[string]string `json:"labels"`
}

// DefinedMissingBody is the family's own missing-item rule; it can only
// tighten a study's policy. prorate is person_mean (default: the mean of
// the answered items) or none (complete scales only).
type DefinedMissingBody struct {
	MaxMissingFraction     *float64 `json:"max_missing_fraction,omitempty" example:"0.17" extensions:"x-nullable"`
	Prorate                string   `json:"prorate,omitempty" example:"person_mean" enums:"person_mean,none"`
	TotalRequiresSubscales bool     `json:"total_requires_subscales,omitempty" example:"false"`
}

// ParallelPairBody pairs client item client with counsellor item
// counsellor; the pairs are one to one and cover every item.
type ParallelPairBody struct {
	Client     int `json:"client" example:"1"`
	Counsellor int `json:"counsellor" example:"2"`
}

// DefinedFormBody is one form of a family.
type DefinedFormBody struct {
	ID         string   `json:"id" example:"sai_client"`
	Role       string   `json:"role" example:"client" enums:"client,counsellor"`
	Name       string   `json:"name,omitempty"`
	Citation   string   `json:"citation,omitempty"`
	Unverified []string `json:"unverified,omitempty"`
	// Labels are our own short labels in item order (at most 8 words
	// each); omitted means "item 1", "item 2", ….
	Labels    []string           `json:"labels,omitempty"`
	Subscales []SubscaleResponse `json:"subscales,omitempty"`
	Reverse   []int              `json:"reverse,omitempty" example:"2,5"`
	// RuptureReference is what the rupture alert uses until a study has
	// enough ratings of its own (see docs/alerts-and-webhooks.md);
	// absent, ruptures wait for the study's own figures.
	RuptureReference *RuptureReferenceBody `json:"rupture_reference,omitempty" extensions:"x-nullable"`
}

// RuptureReferenceBody is a form's reference for the rupture alert's
// reliable change criterion: Cronbach's alpha of the total and the
// standard deviation of its item mean, with their source.
type RuptureReferenceBody struct {
	Alpha  float64 `json:"alpha" example:"0.91"`
	SD     float64 `json:"sd" example:"0.7"`
	Source string  `json:"source" example:"Hatcher & Gillaspy (2006); sd provisional"`
}

// InstrumentFamilyResponse is a family just defined: its forms under their
// versioned ids, which studies name.
type InstrumentFamilyResponse struct {
	ID        string               `json:"id" example:"sai"`
	Version   string               `json:"version" example:"1"`
	CreatedAt time.Time            `json:"created_at" format:"date-time"`
	Forms     []InstrumentResponse `json:"forms"`
}

// defineInstrument godoc
//
//	@Summary		Define a family of parallel forms
//	@Description	Adds a client form, a counsellor form or both from a JSON definition, without a release: item count, scale with anchor labels per language, subscales, reverse keys, the missing-item rule, an optional clinical cut-off and published reliability, which client item pairs with which counsellor item, licence and citation. No item wording: labels are short (8 words at most); licensed texts come from the deployment's item-text file. The forms get versioned ids (sai_client@1) that studies store, so a study keeps the definition it started with. A definition never changes: the same id and version again, or a built-in family, is 422; a changed definition is posted as a new version. Every fault is a 422 naming its JSON path (forms[1].subscales[0].items[2]). The body is at most 64 KiB (413). Other instances serve the new forms from this answer on. Admin keys bound to no study only.
//	@Tags			instruments
//	@Accept			json
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			body	body		InstrumentDefinitionRequest	true	"the family's definition"
//	@Success		201		{object}	InstrumentFamilyResponse
//	@Header			201		{string}	Location	"/v1/instruments/{id}@{version} of the first form"
//	@Failure		400		{object}	Problem
//	@Failure		413		{object}	Problem
//	@Failure		415		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		429		{object}	Problem
//	@ID				defineInstrument
//	@Router			/v1/instruments [post]
func (s *server) defineInstrument(c *gin.Context) error {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, alliance.MaxDefinitionBytes)
	body, err := readJSON(c, &InstrumentDefinitionRequest{})
	if err != nil {
		return err
	}
	fam, err := s.svc.DefineInstrument(c.Request.Context(), body)
	if err != nil {
		return err
	}
	out := InstrumentFamilyResponse{ID: fam.ID, Version: fam.Version, CreatedAt: fam.CreatedAt, Forms: make([]InstrumentResponse, len(fam.Forms))}
	for i, f := range fam.Forms {
		out.Forms[i] = toInstrumentResponse(f, s.svc.ParallelForms(f))
	}
	c.Header("Location", "/v1/instruments/"+fam.Forms[0].ID)
	c.JSON(http.StatusCreated, out)
	return nil
}

// listInstruments godoc
//
//	@Summary		List instrument forms
//	@Description	The catalogue of questionnaire forms, built-in and defined through POST /v1/instruments alike (builtin says which): items with our short labels (and licensed texts when the deployment supplies them), response scale and anchors, subscales, reverse keys, each item's parallel item, the role each form is for and its parallel forms. Every version of a defined form is listed under its versioned id.
//	@Tags			instruments
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Success		200	{object}	InstrumentList
//	@Failure		401	{object}	Problem
//	@Failure		403	{object}	Problem
//	@ID				listInstruments
//	@Router			/v1/instruments [get]
func (s *server) listInstruments(c *gin.Context) error {
	forms, err := s.svc.Forms(c.Request.Context())
	if err != nil {
		return err
	}
	out := InstrumentList{Items: make([]InstrumentResponse, len(forms))}
	for i, f := range forms {
		out.Items[i] = toInstrumentResponse(f, s.svc.ParallelForms(f))
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// getInstrument godoc
//
//	@Summary		Get one instrument form, everything needed to render it
//	@Description	id is a built-in form's id, a defined form's versioned id (sai_client@1), or its bare id (sai_client) for its latest version.
//	@Tags			instruments
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id	path		string	true	"form id"	example(wai_sr_client)
//	@Success		200	{object}	InstrumentResponse
//	@Failure		404	{object}	Problem
//	@Failure		401	{object}	Problem
//	@Failure		403	{object}	Problem
//	@ID				getInstrument
//	@Router			/v1/instruments/{id} [get]
func (s *server) getInstrument(c *gin.Context) error {
	f, err := s.svc.FindForm(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toInstrumentResponse(f, s.svc.ParallelForms(f)))
	return nil
}
