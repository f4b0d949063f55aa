package plot_test

import (
	"io"

	"github.com/alliance-project/alliance/internal/plot"
)

type drawFunc func(w io.Writer, f plot.Format) error

// samples are the figures of the synthetic study by file name.
func samples() map[string]drawFunc {
	c, t := synthPairs(120, 1)
	c1, t1 := synthPairs(1, 2)
	cb, tb := continuousPairs(10000, 3)
	return map[string]drawFunc{
		"bland-altman": func(w io.Writer, f plot.Format) error {
			return plot.BlandAltman(w, baInput(c, t), f)
		},
		"bland-altman-n1": func(w io.Writer, f plot.Format) error {
			return plot.BlandAltman(w, baInput(c1, t1), f)
		},
		"bland-altman-binned": func(w io.Writer, f plot.Format) error {
			return plot.BlandAltman(w, baInput(cb, tb), f)
		},
		"scatter": func(w io.Writer, f plot.Format) error {
			return plot.Scatter(w, scatterInput(c, t), f)
		},
		"scatter-n2": func(w io.Writer, f plot.Format) error {
			return plot.Scatter(w, scatterInput(c[:2], t[:2]), f)
		},
		"scatter-binned": func(w io.Writer, f plot.Format) error {
			return plot.Scatter(w, scatterInput(cb, tb), f)
		},
	}
}
