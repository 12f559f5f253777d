package ecsrebalancer_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"
	"quamina.net/go/quamina"

	"github.com/ecs-rebalancer/ecs-rebalancer/ecsrebalancer"
)

// rulePatterns synthesizes the rule for the given clusters and returns its pattern,
// with `$or` expanded into alternatives (quamina has no `$or`).
func rulePatterns(t *testing.T, clusters ...string) []string {
	t.Helper()
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Rule"), &awscdk.StackProps{Env: env})
	var arns []*string
	for _, c := range clusters {
		arns = append(arns, jsii.String("arn:aws:ecs:us-east-1:111122223333:cluster/"+c))
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("x"), 0o755)
	ecsrebalancer.NewRebalancer(stack, "R", &ecsrebalancer.RebalancerProps{ClusterArns: arns, BootstrapDir: dir})
	var pattern map[string]any
	for _, r := range resources(template(t, stack), "AWS::Events::Rule") {
		if p, ok := r["EventPattern"]; ok {
			pattern = p.(map[string]any)
		}
	}
	detail := pattern["detail"].(map[string]any)
	alternatives := detail["$or"].([]any)
	if len(alternatives) != 2 {
		t.Fatalf("$or has %d alternatives", len(alternatives))
	}
	var out []string
	for _, alt := range alternatives {
		d := map[string]any{}
		for k, v := range detail {
			if k != "$or" {
				d[k] = v
			}
		}
		for k, v := range alt.(map[string]any) {
			d[k] = v
		}
		p := map[string]any{"source": pattern["source"], "detail-type": pattern["detail-type"], "detail": d}
		b, _ := json.Marshal(p)
		out = append(out, string(b))
	}
	return out
}

func matcher(t *testing.T, patterns []string) func([]byte) bool {
	t.Helper()
	q, err := quamina.New()
	if err != nil {
		t.Fatal(err)
	}
	for k, p := range patterns {
		if err := q.AddPattern(k, p); err != nil {
			t.Fatalf("quamina rejects the synthesized pattern %s: %v", p, err)
		}
	}
	return func(event []byte) bool {
		m, err := q.MatchesForEvent(event)
		return err == nil && len(m) > 0
	}
}

// docs/decisions.md, "What it does with an event": the rule matches joiner events with and without
// task counts, and nothing else in testdata/events.
func TestRulePatternOnRecordedEvents(t *testing.T) {
	match := matcher(t, rulePatterns(t, "demo", "default", "my-cluster", "mixed", "large", "lazy", "slow", "ports", "eni"))
	want := map[string]bool{
		"aws-sample.json": true, "schema-complete.json": true, "headline-join.json": true, "mixed-join.json": true, "large-join.json": true, "lazy-join.json": true, "slow-join.json": true, "ports-join.json": true, "eni-join.json": true,
		"busy-instance.json": false, "draining-instance.json": false, "disconnected-agent.json": false, "other-cluster.json": false,
		"task-state-change.json": false, "service-action.json": false, "deployment-state-change.json": false,
		"scheduled.json": false, "malformed.json": false,
	}
	files, _ := filepath.Glob("../testdata/events/*.json")
	got := map[string]bool{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got[filepath.Base(f)] = match(raw)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rule matches (-want +got):\n%s", diff)
	}
}

// busyDay generates a day of ECS events for a busy cluster of n instances: every task
// start or stop emits a task state change and a container instance state change (with
// the instance's counts); agents reconnect a few times an hour; a few instances join
// (registration with no tasks, then the daemon's task), a few leave, and the
// rebalancer's own drains flip instances to DRAINING and back.
func busyDay(seed uint64, cluster string, n int) [][]byte {
	rng := rand.New(rand.NewPCG(seed, seed))
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	counts := make([]int, n)
	for k := range counts {
		counts[k] = 10 + rng.IntN(15)
	}
	var out [][]byte
	instance := func(at time.Time, k int, status string, connected bool, running int) {
		out = append(out, ciEvent(cluster, at, fmt.Sprintf("%032x", k), status, connected, running))
	}
	for minute := range 24 * 60 {
		at := start.Add(time.Duration(minute) * time.Minute)
		// Deployments and scaling: a few task starts or stops a minute.
		for range 1 + rng.IntN(4) {
			k := rng.IntN(n)
			counts[k] = max(1, counts[k]+rng.IntN(3)-1)
			out = append(out, taskEvent(cluster, at))
			instance(at, k, "ACTIVE", true, counts[k])
		}
		// Agents disconnect and reconnect several times an hour each.
		for k := range n {
			if rng.IntN(20) == 0 {
				instance(at, k, "ACTIVE", false, counts[k])
				instance(at.Add(time.Second), k, "ACTIVE", true, counts[k])
			}
		}
		// Twice a day the group scales out by two instances: each registers empty (the
		// event the function exists for), then gets its daemon task; some reconnect
		// while still empty.
		if minute%720 == 360 {
			for j := range 2 {
				k := n + minute + j
				instance(at, k, "ACTIVE", true, 0)
				if j == 0 {
					instance(at.Add(2*time.Second), k, "ACTIVE", true, 0)
				}
				instance(at.Add(5*time.Second), k, "ACTIVE", true, 1)
			}
		}
		// Once in a while an instance is drained and comes back.
		if minute%180 == 90 {
			k := rng.IntN(n)
			instance(at, k, "DRAINING", true, counts[k])
			instance(at.Add(45*time.Second), k, "ACTIVE", true, counts[k]/2)
		}
		if minute%60 == 0 {
			out = append(out, serviceEvent(cluster, at))
		}
	}
	return out
}

func ciEvent(cluster string, at time.Time, id, status string, connected bool, running int) []byte {
	arn := "arn:aws:ecs:us-east-1:111122223333:container-instance/" + cluster + "/" + id
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": "e", "detail-type": "ECS Container Instance State Change", "source": "aws.ecs",
		"account": "111122223333", "time": at.Format(time.RFC3339), "region": "us-east-1", "resources": []string{arn},
		"detail": map[string]any{
			"agentConnected": connected, "clusterArn": "arn:aws:ecs:us-east-1:111122223333:cluster/" + cluster,
			"containerInstanceArn": arn, "status": status, "runningTasksCount": running, "pendingTasksCount": 0, "version": 1,
		},
	})
	return b
}

func taskEvent(cluster string, at time.Time) []byte {
	b, _ := json.Marshal(map[string]any{
		"version": "0", "detail-type": "ECS Task State Change", "source": "aws.ecs", "time": at.Format(time.RFC3339),
		"detail": map[string]any{"clusterArn": "arn:aws:ecs:us-east-1:111122223333:cluster/" + cluster, "lastStatus": "RUNNING"},
	})
	return b
}

func serviceEvent(cluster string, at time.Time) []byte {
	b, _ := json.Marshal(map[string]any{
		"version": "0", "detail-type": "ECS Service Action", "source": "aws.ecs", "time": at.Format(time.RFC3339),
		"detail": map[string]any{"clusterArn": "arn:aws:ecs:us-east-1:111122223333:cluster/" + cluster, "eventName": "SERVICE_STEADY_STATE"},
	})
	return b
}

// The point of the pattern: on a busy cluster, only the joins invoke the function.
func TestRuleFractionOnABusyCluster(t *testing.T) {
	match := matcher(t, rulePatterns(t, "prod"))
	events := busyDay(7, "prod", 40)
	matched := 0
	for _, e := range events {
		if match(e) {
			matched++
		}
	}
	// 2 scale-outs x 2 instances, one of which reconnects while still empty: 6 events.
	if matched != 6 {
		t.Errorf("%d of %d events invoke the function, want the 6 join events", matched, len(events))
	}
	t.Logf("busy cluster, 24 h, 40 instances: %d ECS events, %d invoke the function (%.4f%%)", len(events), matched, 100*float64(matched)/float64(len(events)))
	other := busyDay(7, "staging", 40)
	for _, e := range other {
		if match(e) {
			t.Fatal("another cluster's event invokes the function")
		}
	}
}
