package api

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
)

// The export's hand-written encoders must write exactly what the standard
// library writes for the same values: encoding/csv for a record of
// csvField texts, json.Marshal for NDJSON values, time.Time.AppendFormat
// and strconv.FormatFloat for timestamps and numbers.

// randomText draws strings with what CSV and JSON treat specially:
// quotes, commas, line breaks, leading spaces, formula characters, HTML
// characters, control bytes, non-ASCII and invalid UTF-8.
func randomText(rng *rand.Rand) string {
	pieces := []string{"a", "Z", "0", "-", "_", ".", ",", "\"", "\n", "\r", " ", "\t", "=", "+", "@", "<", ">", "&",
		"\\", "\x00", "\x1f", "\x7f", "é", "✓", "\u2028", "\u00a0", "\u0085", "\xff", "\\."}
	var b []byte
	for range rng.IntN(6) {
		b = append(b, pieces[rng.IntN(len(pieces))]...)
	}
	return string(b)
}

func randomNumber(rng *rand.Rand) float64 {
	switch rng.IntN(6) {
	case 0:
		return float64(rng.IntN(100) - 50)
	case 1:
		return float64(rng.IntN(48)) / 12
	case 2:
		return math.Float64frombits(rng.Uint64())
	case 3:
		return (rng.Float64() - 0.5) * math.Pow(10, float64(rng.IntN(50)-25))
	case 4:
		return math.Copysign(0, -1)
	}
	return rng.NormFloat64()
}

func TestCSVRowMatchesEncodingCSV(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	enc := csvEncoder()
	for range 5000 {
		row := []alliance.Value{alliance.TextValue(randomText(rng)), alliance.IntValue(rng.IntN(2000) - 1000),
			alliance.NumberValue(randomNumber(rng)), alliance.BoolValue(rng.IntN(2) == 0), {}, alliance.TextValue(randomText(rng))}
		var want bytes.Buffer
		w := csv.NewWriter(&want)
		rec := []string{csvField(row[0].Text), strconv.Itoa(row[1].Int), strconv.FormatFloat(row[2].Num, 'f', -1, 64),
			csvField(row[3].Bool), "", csvField(row[5].Text)}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		got, err := enc(nil, row)
		if err != nil || !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("csv row %q = %q, %v; encoding/csv writes %q", rec, got, err, want.Bytes())
		}
	}
}

func TestNDJSONValuesMatchJSONMarshal(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	nums := new(decimals)
	for range 20000 {
		var v alliance.Value
		var want any
		switch rng.IntN(4) {
		case 0:
			s := randomText(rng)
			v, want = alliance.TextValue(s), s
		case 1:
			x := randomNumber(rng)
			v, want = alliance.NumberValue(x), x
		case 2:
			n := rng.IntN(1 << 20)
			v, want = alliance.IntValue(n), n
		default:
			b := rng.IntN(2) == 0
			v, want = alliance.BoolValue(b), b
		}
		wantJSON, wantErr := json.Marshal(want)
		got, err := appendJSON(nil, &v, nums)
		if (err != nil) != (wantErr != nil) || (err == nil && !bytes.Equal(got, wantJSON)) {
			t.Fatalf("appendJSON(%#v) = %s, %v; json.Marshal gives %s, %v", want, got, err, wantJSON, wantErr)
		}
	}
	if _, err := appendJSON(nil, &alliance.Value{Kind: alliance.Number, Num: math.NaN()}, nil); err == nil {
		t.Error("appendJSON(NaN) gave no error; json.Marshal refuses it")
	}
	if got, _ := appendJSON(nil, &alliance.Value{}, nil); string(got) != "null" {
		t.Errorf("appendJSON(missing) = %s, want null", got)
	}
}

// TestDecimalsRemember: the remembered text of a number is the text of
// that number, whatever else shares its slot.
func TestDecimalsRemember(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	d := new(decimals)
	pool := make([]float64, 2000) // more numbers than slots: collisions
	for i := range pool {
		pool[i] = randomNumber(rng)
	}
	for range 100000 {
		x := pool[rng.IntN(len(pool))]
		if got, want := string(d.append(nil, x)), strconv.FormatFloat(x, 'f', -1, 64); got != want {
			t.Fatalf("decimals.append(%v) = %s, want %s", x, got, want)
		}
	}
}

func TestAppendTimestampMatchesAppendFormat(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	zone := time.FixedZone("", 3600)
	for i := range 20000 {
		tm := time.Unix(rng.Int64N(1<<36)-1<<35, rng.Int64N(1e9))
		switch i % 4 {
		case 0:
			tm = tm.UTC()
		case 1:
			tm = tm.UTC().Truncate(time.Duration(rng.IntN(4)+1) * time.Millisecond)
		case 2:
			tm = tm.In(zone)
		default:
			tm = tm.UTC().Truncate(time.Second)
		}
		if got, want := appendTimestamp(nil, tm), tm.AppendFormat(nil, exportTimestamp); !bytes.Equal(got, want) {
			t.Fatalf("appendTimestamp(%v) = %s, want %s", tm, got, want)
		}
	}
}
