package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/jsonfield"
)

// readJSON reads the whole (size-limited) body and decodes it strictly into
// dst: JSON content type, valid UTF-8, no unknown fields, exactly one value.
// It returns the raw body so writes can fingerprint it for idempotency.
// Every failure names the field it concerns.
func readJSON(c *gin.Context, dst any) ([]byte, error) {
	if ce := c.GetHeader("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return nil, &requestError{status: http.StatusUnsupportedMediaType, typ: typeMediaType,
			title: "Unsupported Media Type", detail: "send the body uncompressed",
			fields: []FieldError{{Field: "Content-Encoding", Code: "unsupported_encoding", Message: "no content encoding is accepted"}}}
	}
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, &requestError{status: http.StatusUnsupportedMediaType, typ: typeMediaType,
				title: "Unsupported Media Type", detail: "send the body as application/json",
				fields: []FieldError{{Field: "Content-Type", Code: "unsupported_media_type", Message: "must be application/json"}}}
		}
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &requestError{status: http.StatusRequestEntityTooLarge, typ: typeTooLarge,
				title: "Request body too large", detail: fmt.Sprintf("the body exceeds %d bytes", mbe.Limit)}
		}
		return nil, malformed("", "unreadable_body", "the request body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, malformed("", "empty_body", "a JSON object body is required")
	}
	if !utf8.Valid(body) {
		return nil, malformed("", "invalid_utf8", "the body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return nil, decodeError(err, body, reflect.TypeOf(dst))
	}
	// More() is false before a stray '}' or ']', so ask for the next token.
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("", "trailing_data", "the body must hold exactly one JSON object")
	}
	return body, nil
}

// decodeError names the offending field of a JSON decoding failure.
func decodeError(err error, body []byte, dst reflect.Type) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return malformed("", "malformed_json", fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se))
	case errors.As(err, &te):
		field := jsonfield.Of(te, body)
		if field == "" {
			field = "(body)"
		}
		return malformed(field, "wrong_type", fmt.Sprintf("%s must be %s, not a JSON %s", field, jsonKind(te.Type.Kind().String()), te.Value))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return malformed("", "malformed_json", "the JSON body ends too early")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		names := []string{name}
		var doc any
		if json.Unmarshal(body, &doc) == nil {
			if paths := unknownFields(doc, dst, ""); len(paths) > 0 {
				names = paths
			}
		}
		re := malformed(names[0], "unknown_field", fmt.Sprintf("unknown field %q", names[0])).(*requestError)
		for _, n := range names[1:] {
			re.fields = append(re.fields, FieldError{Field: n, Code: "unknown_field", Message: fmt.Sprintf("unknown field %q", n)})
		}
		if len(names) > 1 {
			re.detail = fmt.Sprintf("%d unknown fields: %s", len(names), strings.Join(names, ", "))
		}
		return re
	}
	return malformed("", "malformed_json", err.Error())
}

// unknownFields lists the dotted paths of every object key in doc that
// the Go type t has no field for, so a client learns of all of them in one
// answer; encoding/json reports only the first bare name.
func unknownFields(doc any, t reflect.Type, prefix string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	switch v := doc.(type) {
	case map[string]any:
		if t.Kind() != reflect.Struct {
			return nil
		}
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			fields[strings.ToLower(name)] = f.Type
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[strings.ToLower(k)]
			if !ok {
				out = append(out, prefix+k)
				continue
			}
			out = append(out, unknownFields(v[k], ft, prefix+k+".")...)
		}
	case []any:
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return nil
		}
		for i, e := range v {
			out = append(out, unknownFields(e, t.Elem(), fmt.Sprintf("%s[%d].", strings.TrimSuffix(prefix, "."), i))...)
		}
	}
	return out
}

// jsonKind names a Go kind the way a JSON client thinks of it.
func jsonKind(kind string) string {
	switch kind {
	case "int", "int64", "int32":
		return "an integer"
	case "float64", "float32":
		return "a number"
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	case "bool":
		return "true or false"
	}
	return "of another type"
}

// idempotency reads the Idempotency-Key header and fingerprints the request
// (method, path, body) so a reused key with another request is detected.
func idempotency(c *gin.Context, body []byte) (*alliance.Idempotency, error) {
	vals, sent := c.Request.Header[http.CanonicalHeaderKey("Idempotency-Key")]
	if !sent {
		return nil, nil
	}
	// Sent but empty (a frontend's unset variable) is refused, not taken
	// as no key: the frontend would believe its retries safe.
	key := ""
	if len(vals) == 1 {
		key = vals[0]
	}
	if key == "" || len(key) > 255 || strings.ContainsFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		return nil, malformed("Idempotency-Key", "invalid_header", "1-255 visible ASCII characters, e.g. a UUID")
	}
	request := c.Request.Method + " " + c.Request.URL.Path
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", request)
	h.Write(body)
	return &alliance.Idempotency{Key: key, Request: request, Fingerprint: hex.EncodeToString(h.Sum(nil))}, nil
}

// readKeyedJSON is readJSON for a write that takes an Idempotency-Key: it
// also reads the key and fingerprints the request with it.
func readKeyedJSON(c *gin.Context, v any) (*alliance.Idempotency, error) {
	body, err := readJSON(c, v)
	if err != nil {
		return nil, err
	}
	return idempotency(c, body)
}

// markReplayed tells the client that a response repeats the first answer
// to a request retried with its Idempotency-Key.
func markReplayed(c *gin.Context, replayed bool) {
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
}

// queryTime reads an optional RFC 3339 time query parameter, in UTC; nil
// when absent.
func queryTime(c *gin.Context, name string) (*time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil, malformed(name, "invalid_value", name+" must be an RFC 3339 time, e.g. 2026-11-23T00:00:00Z")
	}
	t = t.UTC()
	return &t, nil
}

// pathInt parses an integer path parameter such as a session number.
func pathInt(c *gin.Context, name string) (int, error) {
	n, err := strconv.Atoi(c.Param(name))
	if err != nil {
		return 0, malformed(name, "invalid_value", name+" must be an integer")
	}
	return n, nil
}

// pageParams reads the cursor-pagination query parameters of the list
// named list (see cursor).
func pageParams(c *gin.Context, list string) (alliance.Page, error) {
	var p alliance.Page
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return p, malformed("limit", "invalid_value", "limit must be an integer")
		}
		if n < 1 || n > alliance.MaxLimit {
			return p, malformed("limit", "out_of_range", fmt.Sprintf("limit must be between 1 and %d", alliance.MaxLimit))
		}
		p.Limit = n
	}
	if raw := c.Query("after"); raw != "" {
		last, ok := readCursor(raw, list)
		if !ok {
			return p, malformed("after", "invalid_cursor", "after must be the next cursor of a previous page of this list")
		}
		p.After = last
	}
	return p, nil
}

// A cursor is opaque to clients: the list it belongs to (e.g. the dyads
// of one study) and the last id of the page, base64url-encoded. A cursor
// that does not decode, belongs to another list or holds no id is
// refused (400 invalid_cursor) instead of answering an empty page that
// looks like the end of the list.
func cursor(list, last string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(list + "\x00" + last))
}

// cursorID is what an id of a list looks like: a prefixed ULID, or the
// audit log's number.
var cursorID = regexp.MustCompile(`^([a-z]{2}_[0-9a-z]{26}|[0-9a-z]{26}|[0-9]{1,19})$`)

func readCursor(raw, list string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return "", false
	}
	got, last, ok := strings.Cut(string(b), "\x00")
	return last, ok && got == list && cursorID.MatchString(last)
}

// pageOf reads one page of list with find, and the cursor of the page
// after it: nil on the last page. A full page asks find for one item
// after its last, so a list whose length is a multiple of the limit ends
// on a full page whose next is null, as the guide says, not on an empty
// page after it.
func pageOf[T any](list string, p alliance.Page, id func(T) string, find func(alliance.Page) ([]T, error)) ([]T, *string, error) {
	items, err := find(p)
	if err != nil {
		return nil, nil, err
	}
	limit := p.Limit
	if limit == 0 {
		limit = alliance.DefaultLimit
	}
	if len(items) < limit {
		return items, nil, nil
	}
	last := id(items[len(items)-1])
	more, err := find(alliance.Page{Limit: 1, After: last})
	if err != nil || len(more) == 0 {
		return items, nil, err
	}
	cur := cursor(list, last)
	return items, &cur, nil
}
