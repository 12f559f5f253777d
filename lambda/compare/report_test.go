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
	for _, f := range []string{"comparison.md", "comparison.json", chartFile, balanceChartFile} {
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
			Seeds    []struct {
				Seed     uint64                    `json:"seed"`
				Policies map[string]map[string]any `json:"policies"`
			} `json:"seeds"`
		} `json:"scenarios"`
		Summary map[string]map[string]any `json:"summary"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	perRun := []string{"covBefore", "covAfter", "tasksRestarted", "minMoves", "apiCalls", "mutatingCalls", "belowMinHealthy",
		"ineligibleTouched", "foreignDrainReactivated", "simulatedSeconds",
		"distanceBefore", "distanceAfter", "covFloor", "goal", "reachedGoal", "gapClosed", "churnPerMove"}
	perPolicy := []string{"medianChurnRatio", "worstChurnRatio", "meanCovAfter", "belowMinHealthy", "ineligibleTouched",
		"foreignDrainReactivated", "mutatingCalls",
		"runs", "medianGapClosed", "medianChurnPerMove", "worstChurnPerMove"}
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
		if seeds := doc.Scenarios[0].Seeds; len(seeds) != len(WorldSeeds()) {
			t.Errorf("%d seeds, want %d", len(seeds), len(WorldSeeds()))
		} else {
			for _, k := range perRun {
				if _, ok := seeds[len(seeds)-1].Policies[p.Name][k]; !ok {
					t.Errorf("scenarios[0].seeds[last].policies.%s has no %s", p.Name, k)
				}
			}
		}
		if p.Ours {
			for _, k := range []string{"calibration", "falseReach"} {
				if _, ok := doc.Summary[p.Name][k]; !ok {
					t.Errorf("summary.%s has no %s", p.Name, k)
				}
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
