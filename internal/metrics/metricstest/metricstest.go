// Package metricstest reads what a Prometheus endpoint serves, for the
// tests of the packages that expose metrics.
package metricstest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Scrape is one reading of an endpoint.
type Scrape struct {
	Text     string // as served
	Families map[string]*dto.MetricFamily
}

// Get scrapes url as Prometheus does, in the text format.
func Get(ctx context.Context, url string) (Scrape, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Scrape{}, fmt.Errorf("scrape %s: %w", url, err)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	req.Close = true // leaves no idle connection behind a test
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Scrape{}, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Scrape{}, fmt.Errorf("scrape %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Scrape{}, fmt.Errorf("scrape %s: %s: %s", url, resp.Status, body)
	}
	return Parse(string(body))
}

// Parse reads metrics in the text format.
func Parse(text string) (Scrape, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		return Scrape{}, fmt.Errorf("parse metrics: %w", err)
	}
	return Scrape{Text: text, Families: families}, nil
}

// Value returns the value of the series of the metric name whose labels
// include the given name and value pairs, and whether there is one.
func (s Scrape) Value(name string, labelPairs ...string) (float64, bool) {
	f, ok := s.Families[name]
	if !ok {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		if hasLabels(m, labelPairs) {
			switch {
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue(), true
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue(), true
			case m.GetUntyped() != nil:
				return m.GetUntyped().GetValue(), true
			}
		}
	}
	return 0, false
}

func hasLabels(m *dto.Metric, pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == pairs[i] && l.GetValue() == pairs[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}
