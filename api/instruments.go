package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// listInstruments godoc
//
//	@Summary		List instrument forms
//	@Description	The catalogue of questionnaire forms: items with our short labels (and licensed texts when the deployment supplies them), response scale and anchors, subscales, reverse keys, the role each form is for and its parallel forms.
//	@Tags			instruments
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Success		200	{object}	InstrumentList
//	@Failure		401	{object}	Problem
//	@Failure		403	{object}	Problem
//	@ID				listInstruments
//	@Router			/v1/instruments [get]
func (s *server) listInstruments(c *gin.Context) error {
	forms := s.svc.Forms()
	out := InstrumentList{Items: make([]InstrumentResponse, len(forms))}
	for i, f := range forms {
		out.Items[i] = toInstrumentResponse(f, forms)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// getInstrument godoc
//
//	@Summary	Get one instrument form, everything needed to render it
//	@Tags		instruments
//	@Produce	json,application/problem+json
//	@Security	BearerAuth
//	@Param		id	path		string	true	"form id"	example(wai_sr_client)
//	@Success	200	{object}	InstrumentResponse
//	@Failure	404	{object}	Problem
//	@Failure	401	{object}	Problem
//	@Failure	403	{object}	Problem
//	@ID			getInstrument
//	@Router		/v1/instruments/{id} [get]
func (s *server) getInstrument(c *gin.Context) error {
	f, err := s.svc.FindForm(c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toInstrumentResponse(f, s.svc.Forms()))
	return nil
}
