package compare

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// Write produces the three files, and comparison.json carries every field the issue
// names, per scenario and policy and per policy in the summary.
func TestWriteReport(t *testing.T) {
	policies := Policies()
	report := NewReport(Run([]Scenario{joinScenario(t)}, policies), policies)
	dir := t.TempDir()
	if err := report.Write(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"comparison.md", "comparison.json", chartFile} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}

	raw, err := os.ReadFile(filepath.Join(dir, "comparison.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Scenarios []struct {
			Policies map[string]map[string]any `json:"policies"`
		} `json:"scenarios"`
		Summary map[string]map[string]any `json:"summary"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	perRun := []string{"covBefore", "covAfter", "tasksRestarted", "minMoves", "apiCalls", "mutatingCalls", "belowMinHealthy",
		"ineligibleTouched", "foreignDrainReactivated", "simulatedSeconds"}
	perPolicy := []string{"medianChurnRatio", "worstChurnRatio", "meanCovAfter", "belowMinHealthy", "ineligibleTouched",
		"foreignDrainReactivated", "mutatingCalls"}
	if len(doc.Scenarios) != 1 || len(doc.Summary) != len(policies) {
		t.Fatalf("%d scenarios, %d summaries", len(doc.Scenarios), len(doc.Summary))
	}
	for _, p := range policies {
		for _, k := range perRun {
			if _, ok := doc.Scenarios[0].Policies[p.Name][k]; !ok {
				t.Errorf("scenarios[0].policies.%s has no %s", p.Name, k)
			}
		}
		for _, k := range perPolicy {
			if _, ok := doc.Summary[p.Name][k]; !ok {
				t.Errorf("summary.%s has no %s", p.Name, k)
			}
		}
	}

	var md bytes.Buffer
	report.Markdown(&md)
	golden := filepath.Join("testdata", "report.golden.md")
	if *update {
		if err := os.WriteFile(golden, md.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test ./lambda/compare -update writes it)", err)
	}
	if diff := cmp.Diff(string(want), md.String()); diff != "" {
		t.Errorf("comparison.md (-golden +got):\n%s", diff)
	}
}

// The committed docs/comparison.json is what `make compare` writes today: the README
// quotes it, so a change to the planner, the simulator or a baseline that moves a
// figure must regenerate it.
func TestCommittedComparisonIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole comparison (a few seconds)")
	}
	report, err := Compare("../../testdata/snapshots", "../../testdata/events")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := report.Write(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"comparison.json", "comparison.md"} {
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("..", "..", "docs", f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want, got) {
			t.Errorf("docs/%s is stale: run make compare (diff, -committed +now):\n%s", f, cmp.Diff(string(want), string(got)))
		}
	}
}
