package plot_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/alliance-project/alliance/internal/plot"
)

// TestWriteSamples writes every figure of the synthetic study to
// $ALLIANCE_PLOT_OUT as SVG and PNG, with the n = 0 and n = 2 figures, for
// a person to look at:
//
//	ALLIANCE_PLOT_OUT=/tmp/plots go test ./internal/plot/ -run Samples
//
// Unset, it writes the study's SVGs to a temporary directory, so writing
// files is always exercised; TestPNGSize and TestSmallN render the PNGs,
// which take seconds each under -race.
func TestWriteSamples(t *testing.T) {
	dir := os.Getenv("ALLIANCE_PLOT_OUT")
	figs, formats := samples(), []plot.Format{plot.SVG, plot.PNG}
	if dir == "" {
		dir, figs, formats = t.TempDir(), studySamples(), formats[:1]
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, draw := range figs {
		for _, f := range formats {
			var buf bytes.Buffer
			if err := draw(&buf, f); err != nil {
				t.Fatalf("%s.%s: %v", name, f, err)
			}
			path := filepath.Join(dir, name+"."+f.String())
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("samples in %s", dir)
}
