package replay_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/replay"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/snapshot"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	headline = "../../testdata/snapshots/headline.json"
	join     = "../../testdata/events/headline-join.json"
)

func run(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := replay.Main(args, func(k string) string { return env[k] }, &out, &errOut)
	return code, out.String(), errOut.String()
}

// An event of another cluster is a skip that names the real cause: the snapshot holds
// another cluster (not a missing CLUSTERS setting).
func TestEventOfAnotherCluster(t *testing.T) {
	code, out, errOut := run(t, nil, "-cluster", headline, "../../testdata/events/aws-sample.json")
	if code != 0 || !strings.Contains(out, "SKIP: ignored: the event is for cluster default, and the snapshot holds demo") {
		t.Errorf("exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}
}

// -h describes the flags and exits 0; flags may follow the event files.
func TestHelpAndFlagsAnywhere(t *testing.T) {
	code, out, errOut := run(t, nil, "-h")
	if code != 0 || out != "" || !strings.Contains(errOut, "-cluster string") || !strings.Contains(errOut, "-json") {
		t.Errorf("-h: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, errOut = run(t, nil, "-cluster", headline, join, "-json")
	if code != 0 || !strings.HasPrefix(out, "{") {
		t.Errorf("-json after the event: exit %d, stderr %q, stdout starts %.40q", code, errOut, out)
	}
}

func TestBadInputExitsTwoWithOneLine(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "broken.json")
	os.WriteFile(notJSON, []byte("{"), 0o644)
	array := filepath.Join(dir, "array.json")
	os.WriteFile(array, []byte("[]"), 0o644)
	stranger := filepath.Join(dir, "stranger.json")
	raw, _ := os.ReadFile(join)
	os.WriteFile(stranger, bytes.ReplaceAll(raw, []byte("846010d178daf15a101daecd16cc5238"), []byte("ffffffffffffffffffffffffffffffff")), 0o644)

	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"missing snapshot", nil, []string{"-cluster", "nope.json", join}, "replay: open nope.json: no such file or directory"},
		{"snapshot that is not JSON", nil, []string{"-cluster", notJSON, join}, "replay: " + notJSON + ": invalid snapshot JSON"},
		{"missing event", nil, []string{"-cluster", headline, "nope.json"}, "replay: open nope.json"},
		{"event that is not JSON", nil, []string{"-cluster", headline, "../../testdata/events/malformed.json"}, "replay: ../../testdata/events/malformed.json: invalid JSON"},
		{"event for an instance the snapshot lacks", nil, []string{"-cluster", headline, stranger}, "container instance arn:aws:ecs:us-east-1:111122223333:container-instance/demo/ffffffffffffffffffffffffffffffff is not in the snapshot"},
		{"bad configuration", map[string]string{"COV_PERCENT": "-1", "STRATEGY": "x"}, []string{"-cluster", headline, join}, "replay: configuration: "},
		{"no events", nil, []string{"-cluster", headline}, "usage: replay -cluster SNAPSHOT.json [-json|-emf] [-seed N] [-add-instance ID|ZONE] [-scheduled] [-sweep SETTING=V1,V2,...] [-o AFTER.json] [EVENT.json...]"},
		{"unknown flag", nil, []string{"-verbose", "-cluster", headline, join}, "flag provided but not defined"},
		{"CLUSTERS names a cluster the snapshot does not hold", map[string]string{"CLUSTERS": "default"}, []string{"-cluster", headline, join},
			"replay: CLUSTERS names default, but the snapshot holds only cluster demo"},
		{"an event file holding an array", nil, []string{"-cluster", headline, array}, "replay: " + array + ": not an EventBridge event"},
		{"the snapshot passed as the event", nil, []string{"-cluster", headline, headline}, "replay: " + headline + ": not an EventBridge event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, tt.env, tt.args...)
			if code != replay.ExitBadInput || out != "" || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing, %q", code, out, errOut, tt.want)
			}
			if tt.name != "no events" && tt.name != "unknown flag" && strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("stderr is not one line: %q", errOut)
			}
			if strings.Contains(errOut, "events.") || strings.Contains(errOut, "Go value") {
				t.Errorf("stderr names Go types: %q", errOut)
			}
		})
	}
}

// The replay's JSON keys (README, "See it work"), on the headline.
func TestJSONFields(t *testing.T) {
	code, out, errOut := run(t, nil, "-json", "-cluster", headline, join)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"decision", "reason", "dryRun", "covBefore", "covAfter", "distributionBefore", "distributionAfter",
		"servicesRedeployed", "instancesDrained", "tasksStarted", "tasksStopped", "minMoves", "apiCalls", "mutatingCalls",
		"belowMinHealthy", "statusAfter", "simulatedSeconds"} {
		if _, ok := got[k]; !ok {
			t.Errorf("missing %q", k)
		}
	}
	want := map[string]any{
		"decision": "force-new-deployment", "covBefore": 58.82, "covAfter": 11.76, "tasksStarted": 12.0, "tasksStopped": 12.0,
		"minMoves": 7.0, "mutatingCalls": 1.0, "belowMinHealthy": 0.0, "simulatedSeconds": 60.0, // 30 s to start, 30 s of stop timeout
		"servicesRedeployed": []any{"web"}, "instancesDrained": []any{},
		"distributionAfter": map[string]any{"i-086bb020d55d9ef60": 9.0, "i-000d7c0b76667f6d0": 9.0, "i-082f38121890b8143": 9.0, "i-07be041293f8ad5de": 7.0},
		"statusAfter":       map[string]any{"i-086bb020d55d9ef60": "ACTIVE", "i-000d7c0b76667f6d0": "ACTIVE", "i-082f38121890b8143": "ACTIVE", "i-07be041293f8ad5de": "ACTIVE"},
	}
	for k, w := range want {
		if diff := cmp.Diff(w, got[k]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
}

// Events run one after another on one cluster and one virtual clock: an event older
// than the clock is delivered at the clock.
func TestEventsShareTheClusterAndClock(t *testing.T) {
	code, out, errOut := run(t, nil, "-json", "-cluster", headline, join, join, "../../testdata/events/busy-instance.json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d objects", len(lines))
	}
	want := []string{"2026-11-20T09:00:00Z force-new-deployment 1", "2026-11-20T09:01:00Z skip 0", "2026-11-20T09:01:00Z skip 0"}
	var got []string
	for _, l := range lines {
		var r struct {
			DeliveredAt string `json:"deliveredAt"`
			Decision    string `json:"decision"`
			Mutating    int    `json:"mutatingCalls"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %d", r.DeliveredAt, r.Decision, r.Mutating))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// Without simulation.now the clock starts at the first event, never at the wall clock.
func TestClockStartsAtTheFirstEventWithoutNow(t *testing.T) {
	raw, _ := os.ReadFile(headline)
	var snap map[string]any
	json.Unmarshal(raw, &snap)
	delete(snap["simulation"].(map[string]any), "now")
	b, _ := json.Marshal(snap)
	path := filepath.Join(t.TempDir(), "s.json")
	os.WriteFile(path, b, 0o644)
	code, out, errOut := run(t, nil, "-json", "-cluster", path, join)
	if code != 0 || !strings.Contains(out, `"deliveredAt":"2026-11-20T08:58:01Z"`) {
		t.Errorf("exit %d, %s %s", code, out, errOut)
	}
}

// A dry run says what it would do, apart from what it did (nothing).
func TestDryRunReplay(t *testing.T) {
	code, out, _ := run(t, map[string]string{"DRY_RUN": "true"}, "-json", "-cluster", headline, join)
	var r struct {
		MutatingCalls      int      `json:"mutatingCalls"`
		DryRun             bool     `json:"dryRun"`
		ServicesRedeployed []string `json:"servicesRedeployed"`
		Planned            struct {
			ServicesRedeployed []string `json:"servicesRedeployed"`
		} `json:"planned"`
	}
	if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil {
		t.Fatalf("exit %d, %v: %s", code, err, out)
	}
	if r.MutatingCalls != 0 || !r.DryRun || len(r.ServicesRedeployed) != 0 || !cmp.Equal(r.Planned.ServicesRedeployed, []string{"web"}) {
		t.Errorf("dry run: %s", out)
	}
	_, text, _ := run(t, map[string]string{"DRY_RUN": "true"}, "-cluster", headline, join)
	if !strings.Contains(text, "\nwould redeploy web\n") || strings.Contains(text, "\nredeployed") {
		t.Errorf("dry run text:\n%s", text)
	}
}

// A skip on a cluster that moves by itself says the tasks were not the rebalancer's.
func TestSkipSaysTheTasksWereTheClusters(t *testing.T) {
	// mixed.json has a deployment rolling; a forced drain there is predicted not to help.
	_, text, _ := run(t, map[string]string{"STRATEGY": "drain"}, "-cluster", "../../testdata/snapshots/mixed.json", "../../testdata/events/mixed-join.json")
	if !strings.Contains(text, "decision   SKIP") || !strings.Contains(text, "all by the cluster itself") {
		t.Errorf("text:\n%s", text)
	}
}

// The report a person reads (make replay), kept as a golden file.
func TestTextReport(t *testing.T) {
	code, out, errOut := run(t, nil, "-cluster", headline, join)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	path := filepath.Join("testdata", "headline.txt")
	if *update {
		os.WriteFile(path, []byte(out), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), out); diff != "" {
		t.Errorf("report (-golden +got; go test ./lambda/replay -update):\n%s", diff)
	}
}

// What would it do on this cluster if an instance joined now, or the schedule fired?
func TestWhatIf(t *testing.T) {
	code, out, errOut := run(t, nil, "-cluster", headline, "-add-instance", "us-east-1b")
	if code != 0 || !strings.Contains(out, "(what-if: ") || !strings.Contains(out, "shaped like i-000d7c0b76667f6d0") || !strings.Contains(out, "trigger    join of") {
		t.Errorf("-add-instance ZONE: exit %d, stderr %q\n%s", code, errOut, out)
	}
	code, out, _ = run(t, nil, "-cluster", headline, "-add-instance", "i-086bb020d55d9ef60", "-json")
	var r struct {
		DistributionBefore map[string]int `json:"distributionBefore"`
		Trigger            string         `json:"trigger"`
	}
	if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil || len(r.DistributionBefore) != 5 || !strings.HasPrefix(r.Trigger, "join of") {
		t.Errorf("-add-instance ID: exit %d, %v, %+v", code, err, r)
	}
	code, out, _ = run(t, nil, "-cluster", headline, "-scheduled")
	if code != 0 || !strings.Contains(out, "(what-if: the schedule fires)") || !strings.Contains(out, "trigger    scheduled check") {
		t.Errorf("-scheduled: exit %d\n%s", code, out)
	}
	code, out, errOut = run(t, nil, "-cluster", headline, "-add-instance", "us-west-2a")
	if code != replay.ExitBadInput || out != "" || !strings.Contains(errOut, "zones: us-east-1a, us-east-1b, us-east-1c") {
		t.Errorf("an unknown zone: exit %d, stderr %q", code, errOut)
	}
}

// A large cluster's report shows how many instances run how many tasks, not one bar
// per instance.
func TestLargeClusterReportIsShort(t *testing.T) {
	if testing.Short() {
		t.Skip("300 instances: not in the edit-test loop (-short)")
	}
	code, out, errOut := run(t, nil, "-cluster", "../../testdata/snapshots/large.json", "../../testdata/events/large-join.json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if lines := strings.Count(out, "\n"); lines > 60 || !strings.Contains(out, "tasks per instance") || !strings.Contains(out, "changed most (") {
		t.Errorf("%d lines:\n%s", lines, out)
	}
}

// -emf prints what the function itself writes: the step lines, the decision record
// and the metric line, in the function's format.
func TestEMF(t *testing.T) {
	code, out, errOut := run(t, nil, "-cluster", headline, "-emf", join)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var kinds []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		switch {
		case m["message"] != nil:
			kinds = append(kinds, m["message"].(string))
		case m["_aws"] != nil:
			kinds = append(kinds, "metrics")
		}
	}
	if diff := cmp.Diff([]string{"step", "decision", "metrics"}, kinds); diff != "" {
		t.Errorf("lines (-want +got):\n%s\n%s", diff, out)
	}
}

// -sweep runs the same events once per value of one setting, one line each.
func TestSweep(t *testing.T) {
	code, out, errOut := run(t, nil, "-cluster", headline, "-sweep", "COV_PERCENT=10,60", join)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "COV_PERCENT=10") || !strings.Contains(lines[0], "force-new-deployment") ||
		!strings.Contains(lines[1], "skip") {
		t.Errorf("exit %d, stderr %q:\n%s", code, errOut, out)
	}
	for _, bad := range []string{"COV_PRECENT=10", "COV_PERCENT", "COV_PERCENT=10,abc"} {
		if code, _, errOut := run(t, nil, "-cluster", headline, "-sweep", bad, join); code != replay.ExitBadInput || errOut == "" {
			t.Errorf("-sweep %s: exit %d, stderr %q", bad, code, errOut)
		}
	}
}

// -o writes the settled cluster as a snapshot: every task where the run left it, the
// clock where it ended, and a second replay starts from there.
func TestWriteSettledCluster(t *testing.T) {
	after := filepath.Join(t.TempDir(), "after.json")
	code, out, errOut := run(t, nil, "-json", "-o", after, "-cluster", headline, join)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r struct {
		DistributionAfter map[string]float64 `json:"distributionAfter"`
		DeliveredAt       time.Time          `json:"deliveredAt"`
		SimulatedSeconds  float64            `json:"simulatedSeconds"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	snap, err := snapshot.Load(after)
	if err != nil {
		t.Fatalf("the written snapshot does not load: %v", err)
	}
	got := map[string]float64{}
	for _, i := range snap.Cluster.Instances() {
		if i.Status == cluster.StatusActive {
			got[i.EC2InstanceID] = float64(i.RunningTasksCount())
		}
	}
	if diff := cmp.Diff(r.DistributionAfter, got); diff != "" {
		t.Errorf("tasks per instance in the written snapshot (-report +snapshot):\n%s", diff)
	}
	if want := r.DeliveredAt.Add(time.Duration(r.SimulatedSeconds) * time.Second); !snap.Simulation.Now.Equal(want) {
		t.Errorf("simulation.now = %v, want %v", snap.Simulation.Now, want)
	}
	// Chained: the same join again finds the cluster balanced.
	code, out, errOut = run(t, nil, "-json", "-cluster", after, join)
	if code != 0 || !strings.Contains(out, `"decision":"skip"`) {
		t.Errorf("replay of the written snapshot: exit %d, %s %s", code, out, errOut)
	}
}

// What the function's read had to assume shows in the report: here, instance types
// whose interface limit it does not know, so their awsvpc tasks are not limited.
func TestReportShowsWhatTheReadAssumed(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/snapshots/eni.json")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "s.json")
	if err := os.WriteFile(path, bytes.ReplaceAll(raw, []byte(`"m5.xlarge"`), []byte(`"x9.huge"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, nil, "-cluster", path, "../../testdata/events/eni-join.json")
	want := "note       4 container instance(s) of types the ENI table lacks (x9.huge): their awsvpc tasks are not limited by interfaces"
	if code != 0 || !strings.Contains(out, want) {
		t.Errorf("exit %d, stderr %q; stdout lacks %q:\n%s", code, errOut, want, out)
	}
	code, out, _ = run(t, nil, "-cluster", "../../testdata/snapshots/eni.json", "../../testdata/events/eni-join.json")
	if code != 0 || strings.Contains(out, "note ") {
		t.Errorf("exit %d; a snapshot of known types has notes:\n%s", code, out)
	}
}
