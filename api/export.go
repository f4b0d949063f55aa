package api

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
)

// ColumnResponse describes one export column.
type ColumnResponse struct {
	Name        string `json:"name" example:"client_total_mean"`
	Type        string `json:"type" example:"number" enums:"string,integer,number,boolean,date,datetime"`
	Description string `json:"description"`
	// Values labels the values of a categorical column, as R factor
	// levels or SPSS value labels: "1=Seldom; 2=Sometimes; …".
	Values string `json:"values,omitempty" example:"1=Seldom; 2=Sometimes; 3=Fairly often; 4=Very often; 5=Always"`
}

// CodebookResponse is the data dictionary of an export shape.
type CodebookResponse struct {
	StudyID string           `json:"study_id"`
	Shape   string           `json:"shape" example:"wide" enums:"long,wide"`
	Missing string           `json:"missing" example:"empty field in CSV, null in NDJSON"`
	Columns []ColumnResponse `json:"columns"`
}

// exportStudy godoc
//
//	@Summary		Export a study's ratings as CSV or NDJSON
//	@Description	Streams the study's current ratings. long: one row per rating (tidy; ready for R and pandas). wide: one row per dyad session with client and counsellor side by side and client − counsellor differences. The column set depends only on the study's forms and the query (see the codebook). CSV follows RFC 4180 with a header row; missing values are empty; dates are ISO 8601; text fields that a spreadsheet would run as a formula are prefixed with an apostrophe.
//	@Tags			exports
//	@Produce		text/csv,application/x-ndjson,application/problem+json
//	@Security		BearerAuth
//	@Param			id				path		string				true	"study id"
//	@Param			format			query		string				false	"csv (default) or ndjson"	Enums(csv, ndjson)
//	@Param			shape			query		string				false	"long (default) or wide"	Enums(long, wide)
//	@Param			include			query		string				false	"comma-separated: scores (default), items"
//	@Param			updated_since	query		string				false	"only ratings stored after this RFC 3339 time (wide: sessions in which either side changed)"	Format(date-time)
//	@Success		200				{file}		file				"the export: CSV (RFC 4180, header row) or NDJSON (one JSON object per line), columns as in the codebook"
//	@Header			200				{string}	Content-Disposition	"attachment; filename=alliance-STUDY-SHAPE.csv (or .ndjson)"
//	@Failure		404				{object}	Problem
//	@Failure		422				{object}	Problem
//	@Failure		401				{object}	Problem
//	@Failure		403				{object}	Problem
//	@ID				exportStudy
//	@Router			/v1/studies/{id}/export [get]
func (s *server) exportStudy(c *gin.Context) error {
	format := c.DefaultQuery("format", "csv")
	if format != "csv" && format != "ndjson" {
		return &alliance.ValidationError{Fields: []alliance.FieldError{{Field: "format", Code: "invalid_value", Message: `must be "csv" or "ndjson"`}}}
	}
	q, err := alliance.ParseExportQuery(c.Query("shape"), c.Query("include"), c.Query("updated_since"))
	if err != nil {
		return err
	}
	studyID := c.Param("id")
	t, err := s.svc.ExportStudy(c.Request.Context(), studyID, q)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("alliance-%s-%s.%s", studyID, q.Shape, format)
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	w := bufio.NewWriterSize(c.Writer, 64<<10)
	var write func([]any) error
	if format == "csv" {
		c.Header("Content-Type", "text/csv; charset=utf-8; header=present")
		write = csvWriter(w, t.Columns)
	} else {
		c.Header("Content-Type", "application/x-ndjson")
		write = ndjsonWriter(w, t.Columns)
	}
	c.Status(http.StatusOK)
	err = t.Rows(c.Request.Context(), write)
	if err == nil {
		err = w.Flush()
	}
	if err != nil && !c.Writer.Written() {
		return err // nothing sent yet: an ordinary problem response
	}
	if err != nil {
		// The status line is gone; abort the connection so the client sees a
		// truncated transfer instead of a silently short file.
		if c.Request.Context().Err() == nil && err != context.Canceled {
			s.log.ErrorContext(c.Request.Context(), "export failed mid-stream", "request_id", c.GetString(requestIDKey), "err", err)
		}
		panic(http.ErrAbortHandler)
	}
	return nil
}

// csvWriter writes the header at once and returns the row writer.
func csvWriter(w *bufio.Writer, cols []alliance.Column) func([]any) error {
	cw := csv.NewWriter(w)
	header := make([]string, len(cols))
	for i, col := range cols {
		header[i] = col.Name
	}
	headerErr := cw.Write(header)
	rec := make([]string, len(cols))
	return func(row []any) error {
		if headerErr != nil {
			return headerErr
		}
		for i, v := range row {
			rec[i] = csvField(v)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
		cw.Flush()
		return cw.Error()
	}
}

// csvField formats one value for CSV. Text that a spreadsheet would run as
// a formula (leading =, +, -, @, tab or CR) gets a leading apostrophe.
func csvField(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if x != "" && strings.ContainsRune("=+-@\t\r", rune(x[0])) {
			return "'" + x
		}
		return x
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		// Upper case: R's read.csv and pandas both read TRUE/FALSE as logical.
		if x {
			return "TRUE"
		}
		return "FALSE"
	}
	return fmt.Sprint(v)
}

// ndjsonWriter writes one JSON object per line with keys in column order.
func ndjsonWriter(w *bufio.Writer, cols []alliance.Column) func([]any) error {
	keys := make([][]byte, len(cols))
	for i, col := range cols {
		k, _ := json.Marshal(col.Name)
		keys[i] = k
	}
	return func(row []any) error {
		w.WriteByte('{')
		for i, v := range row {
			if i > 0 {
				w.WriteByte(',')
			}
			w.Write(keys[i])
			w.WriteByte(':')
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			w.Write(b)
		}
		_, err := w.WriteString("}\n")
		return err
	}
}

// codebook godoc
//
//	@Summary		Data dictionary of a study's export
//	@Description	Every column of the export with the same shape and include: its type, meaning and, for categorical columns, value labels. JSON by default; format=csv gives one row per column (name, type, description, values) for R's read.csv or SPSS syntax generators.
//	@Tags			exports
//	@Produce		json,text/csv,application/problem+json
//	@Security		BearerAuth
//	@Param			id		path		string	true	"study id"
//	@Param			format	query		string	false	"json (default) or csv"		Enums(json, csv)
//	@Param			shape	query		string	false	"long (default) or wide"	Enums(long, wide)
//	@Param			include	query		string	false	"comma-separated: scores (default), items"
//	@Success		200		{object}	CodebookResponse
//	@Failure		404		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@ID				getCodebook
//	@Router			/v1/studies/{id}/codebook [get]
func (s *server) codebook(c *gin.Context) error {
	q, err := alliance.ParseExportQuery(c.Query("shape"), c.Query("include"), "")
	if err != nil {
		return err
	}
	format := c.DefaultQuery("format", "json")
	if format != "json" && format != "csv" {
		return &alliance.ValidationError{Fields: []alliance.FieldError{{Field: "format", Code: "invalid_value", Message: `must be "json" or "csv"`}}}
	}
	t, err := s.svc.ExportStudy(c.Request.Context(), c.Param("id"), q)
	if err != nil {
		return err
	}
	if format == "csv" {
		c.Header("Content-Type", "text/csv; charset=utf-8; header=present")
		c.Header("Content-Disposition", `attachment; filename="alliance-`+c.Param("id")+`-`+q.Shape+`-codebook.csv"`)
		w := bufio.NewWriter(c.Writer)
		write := csvWriter(w, []alliance.Column{{Name: "name"}, {Name: "type"}, {Name: "description"}, {Name: "values"}})
		for _, col := range t.Columns {
			if err := write([]any{col.Name, col.Type, col.Description, col.Values}); err != nil {
				return err
			}
		}
		return w.Flush()
	}
	out := CodebookResponse{StudyID: c.Param("id"), Shape: q.Shape, Missing: "empty field in CSV, null in NDJSON",
		Columns: make([]ColumnResponse, len(t.Columns))}
	for i, col := range t.Columns {
		out.Columns[i] = ColumnResponse(col)
	}
	c.JSON(http.StatusOK, out)
	return nil
}
