package plot_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/alliance-project/alliance/internal/plot"
)

// TestWriteSamples writes every figure for the synthetic study as SVG and
// PNG, to $ALLIANCE_PLOT_OUT when set (for a person to look at) or to a
// temporary directory otherwise, so the samples are always rendered.
func TestWriteSamples(t *testing.T) {
	dir := os.Getenv("ALLIANCE_PLOT_OUT")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, draw := range samples() {
		for _, f := range []plot.Format{plot.SVG, plot.PNG} {
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
