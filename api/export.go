package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
//	@Param			updated_since	query		string				false	"only rows that changed after this RFC 3339 time: ratings stored then and every row of a dyad withdrawn then (wide: whole sessions in which either side was stored or voided then); a removed row (a void in the long shape, an erasure) cannot appear"	Format(date-time)
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
	since, err := queryTime(c, "updated_since")
	if err != nil {
		return err
	}
	q, err := alliance.ParseExportQuery(c.Query("shape"), c.Query("include"), since)
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
	w := bufio.NewWriterSize(c.Writer, exportBuffer)
	var enc rowEncoder
	if format == "csv" {
		c.Header("Content-Type", "text/csv; charset=utf-8; header=present")
		enc = csvEncoder()
	} else {
		c.Header("Content-Type", "application/x-ndjson")
		enc = ndjsonRow(t.Columns)
	}
	c.Status(http.StatusOK)
	err = writeRows(c.Request.Context(), w, t, enc, format == "csv")
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

// exportBuffer is the size of the buffer between an export and the
// connection: each write to the connection is one HTTP chunk and a
// syscall, so fewer, larger ones.
const exportBuffer = 256 << 10

// rowEncoder appends one encoded row, line end included, to b.
type rowEncoder func(b []byte, row []alliance.Value) ([]byte, error)

// writeRows writes t's rows (a CSV header first when header is set) to w,
// each encoded into one buffer reused from row to row.
func writeRows(ctx context.Context, w *bufio.Writer, t alliance.Table, enc rowEncoder, header bool) error {
	var line []byte
	if header {
		names := make([]string, len(t.Columns))
		for i, col := range t.Columns {
			names[i] = csvField(col.Name)
		}
		if _, err := w.Write(appendCSVLine(line, names...)); err != nil {
			return err
		}
	}
	return t.Rows(ctx, func(row []alliance.Value) error {
		var err error
		if line, err = enc(line[:0], row); err != nil {
			return err
		}
		_, err = w.Write(line)
		return err
	})
}

// csvEncoder returns the encoder of a row as encoding/csv's Writer writes
// it (RFC 4180, quotes only where needed, LF line ends), each value
// formatted by appendCSV.
func csvEncoder() rowEncoder {
	nums := new(decimals)
	return func(b []byte, row []alliance.Value) ([]byte, error) {
		for i := range row {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCSV(b, &row[i], nums)
		}
		return append(b, '\n'), nil
	}
}

// appendCSVLine writes fields (each already formatted by csvField) as one
// CSV record.
func appendCSVLine(b []byte, fields ...string) []byte {
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCSVText(b, f)
	}
	return append(b, '\n')
}

// csvField formats one value given as a Go value (nil, string, int,
// float64 or bool) as appendCSV does, before quoting.
func csvField(v any) string {
	var x alliance.Value
	switch v := v.(type) {
	case string:
		return defuse(v)
	case int:
		x = alliance.IntValue(v)
	case float64:
		x = alliance.NumberValue(v)
	case bool:
		x = alliance.BoolValue(v)
	case nil:
	default:
		return fmt.Sprint(v)
	}
	return string(appendCSV(nil, &x, nil))
}

// defuse prefixes text that a spreadsheet would run as a formula (leading
// =, +, -, @, tab or CR) with an apostrophe.
func defuse(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// appendCSV formats one value for CSV: missing is an empty field, numbers
// in plain decimal notation (nums, if not nil, remembers them), booleans
// TRUE/FALSE (R's read.csv and pandas both read them as logical), text
// defused (see defuse) and quoted where RFC 4180 needs it.
func appendCSV(b []byte, v *alliance.Value, nums *decimals) []byte {
	switch v.Kind {
	case alliance.Text:
		return appendCSVText(b, defuse(v.Text))
	case alliance.Integer:
		return strconv.AppendInt(b, int64(v.Int), 10)
	case alliance.Number:
		return nums.append(b, v.Num)
	case alliance.Boolean:
		if v.Bool {
			return append(b, "TRUE"...)
		}
		return append(b, "FALSE"...)
	case alliance.DateOnly:
		return v.Time.AppendFormat(b, time.DateOnly)
	case alliance.Timestamp:
		return appendTimestamp(b, v.Time)
	}
	return b
}

// exportTimestamp is the layout of an export's timestamps: RFC 3339 with
// always six fractional digits, the service's precision. With a fixed
// width they sort as text in time order, so an analyst's max() of a
// column read as text is the latest time (RFC3339Nano drops trailing
// zeros: "…:50.82971Z" sorted before "…:50.8Z" as text).
const exportTimestamp = "2006-01-02T15:04:05.000000Z07:00"

// appendTimestamp is t.AppendFormat(b, exportTimestamp), written out for
// UTC times (every timestamp of an export): the general formatter reads
// its layout afresh for each of 200,000 rows.
func appendTimestamp(b []byte, t time.Time) []byte {
	year, month, day := t.Date()
	if t.Location() != time.UTC || year < 0 || year > 9999 {
		return t.AppendFormat(b, exportTimestamp)
	}
	hour, minute, second := t.Clock()
	b = appendDigits(b, year, 4)
	b = appendDigits(append(b, '-'), int(month), 2)
	b = appendDigits(append(b, '-'), day, 2)
	b = appendDigits(append(b, 'T'), hour, 2)
	b = appendDigits(append(b, ':'), minute, 2)
	b = appendDigits(append(b, ':'), second, 2)
	b = appendDigits(append(b, '.'), t.Nanosecond()/1000, 6)
	return append(b, 'Z')
}

// appendDigits writes n (0 ≤ n < 10^width, width ≤ 9) in width decimal
// digits, zero-padded.
func appendDigits(b []byte, n, width int) []byte {
	start := len(b)
	b = append(b, "000000000"[:width]...)
	for i := len(b) - 1; i >= start; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return b
}

// appendCSVText writes a field as encoding/csv's Writer (UseCRLF false)
// does: quoted, with quotes doubled, when it holds a comma, a quote, CR or
// LF, begins with a space, or is \.; as it is otherwise.
func appendCSVText(b []byte, field string) []byte {
	if !csvNeedsQuotes(field) {
		return append(b, field...)
	}
	b = append(b, '"')
	for {
		i := strings.IndexByte(field, '"')
		if i < 0 {
			break
		}
		b = append(b, field[:i+1]...)
		b = append(b, '"')
		field = field[i+1:]
	}
	b = append(b, field...)
	return append(b, '"')
}

// csvNeedsQuotes is encoding/csv's fieldNeedsQuotes for a comma.
func csvNeedsQuotes(field string) bool {
	if field == "" {
		return false
	}
	if field == `\.` {
		return true
	}
	for i := 0; i < len(field); i++ {
		if csvSpecial[field[i]] {
			return true
		}
	}
	if c := field[0]; c < utf8.RuneSelf {
		return asciiSpace[c]
	}
	r, _ := utf8.DecodeRuneInString(field)
	return unicode.IsSpace(r)
}

// csvSpecial are the bytes that make encoding/csv quote a field;
// asciiSpace the ASCII bytes unicode.IsSpace reports.
var csvSpecial, asciiSpace = byteSet("\n\r\","), byteSet("\t\n\v\f\r ")

func byteSet(s string) (set [256]bool) {
	for i := range len(s) {
		set[s[i]] = true
	}
	return set
}

// decimals writes numbers as strconv.FormatFloat(x, 'f', -1, 64) does.
// Integers (answers, counts, sums) take strconv.AppendInt; the text of
// other numbers is remembered, in a small table indexed by a hash of
// their bits: an export writes a few hundred distinct means 200,000
// times, and the shortest-decimal algorithm is the costliest step of
// writing a row. A nil *decimals remembers nothing.
type decimals struct {
	entries [256]struct {
		bits uint64
		n    uint8 // length of text; 0 for an empty entry
		text [31]byte
	}
}

func (d *decimals) append(b []byte, x float64) []byte {
	if n := int64(x); float64(n) == x && n > -1e15 && n < 1e15 && (n != 0 || !math.Signbit(x)) {
		return strconv.AppendInt(b, n, 10)
	}
	if d == nil {
		return strconv.AppendFloat(b, x, 'f', -1, 64)
	}
	bits := math.Float64bits(x)
	e := &d.entries[(bits*0x9E3779B97F4A7C15)>>56]
	if e.n > 0 && e.bits == bits {
		return append(b, e.text[:e.n]...)
	}
	start := len(b)
	b = strconv.AppendFloat(b, x, 'f', -1, 64)
	if n := len(b) - start; n <= len(e.text) {
		e.bits, e.n = bits, uint8(n)
		copy(e.text[:], b[start:])
	}
	return b
}

// ndjsonRow returns the encoder of one JSON object per line, with the
// columns' names as keys in column order and values as encoding/json
// writes them.
func ndjsonRow(cols []alliance.Column) rowEncoder {
	keys := make([][]byte, len(cols))
	for i, col := range cols {
		k, _ := json.Marshal(col.Name)
		keys[i] = append(k, ':')
	}
	nums := new(decimals)
	return func(b []byte, row []alliance.Value) ([]byte, error) {
		b = append(b, '{')
		for i := range row {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, keys[i]...)
			var err error
			if b, err = appendJSON(b, &row[i], nums); err != nil {
				return b, err
			}
		}
		return append(b, "}\n"...), nil
	}
}

// appendJSON writes one value as json.Marshal would.
func appendJSON(b []byte, v *alliance.Value, nums *decimals) ([]byte, error) {
	switch v.Kind {
	case alliance.Text:
		return appendJSONString(b, v.Text)
	case alliance.Integer:
		return strconv.AppendInt(b, int64(v.Int), 10), nil
	case alliance.Number:
		return appendJSONNumber(b, v.Num, nums)
	case alliance.Boolean:
		return strconv.AppendBool(b, v.Bool), nil
	case alliance.DateOnly:
		b = append(b, '"')
		return append(v.Time.AppendFormat(b, time.DateOnly), '"'), nil
	case alliance.Timestamp:
		b = append(b, '"')
		return append(appendTimestamp(b, v.Time), '"'), nil
	}
	return append(b, "null"...), nil
}

// appendJSONString quotes s as json.Marshal does. Printable ASCII other
// than the quote, the backslash and the HTML characters json.Marshal
// escapes is written as it is; anything else goes through json.Marshal.
func appendJSONString(b []byte, s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			return append(b, q...), err
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), nil
}

// appendJSONNumber writes x as encoding/json does: plain decimals between
// 1e-6 and 1e21, an exponent outside (1e-07 written 1e-7), and an error
// for NaN and infinities.
func appendJSONNumber(b []byte, x float64, nums *decimals) ([]byte, error) {
	abs := math.Abs(x)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		_, err := json.Marshal(x)
		return b, err
	}
	if abs == 0 || (abs >= 1e-6 && abs < 1e21) {
		return nums.append(b, x), nil
	}
	b = strconv.AppendFloat(b, x, 'e', -1, 64)
	if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1]
		b = b[:n-1]
	}
	return b, nil
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
//	@Header			200		{string}	Content-Disposition	"with format=csv: attachment; filename=alliance-STUDY-SHAPE-codebook.csv"
//	@Failure		404		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@ID				getCodebook
//	@Router			/v1/studies/{id}/codebook [get]
func (s *server) codebook(c *gin.Context) error {
	q, err := alliance.ParseExportQuery(c.Query("shape"), c.Query("include"), nil)
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
		line := appendCSVLine(nil, "name", "type", "description", "values")
		for _, col := range t.Columns {
			line = appendCSVLine(line, csvField(col.Name), csvField(col.Type), csvField(col.Description), csvField(col.Values))
		}
		_, err := c.Writer.Write(line)
		return err
	}
	out := CodebookResponse{StudyID: c.Param("id"), Shape: q.Shape, Missing: "empty field in CSV, null in NDJSON",
		Columns: make([]ColumnResponse, len(t.Columns))}
	for i, col := range t.Columns {
		out.Columns[i] = ColumnResponse(col)
	}
	c.JSON(http.StatusOK, out)
	return nil
}
