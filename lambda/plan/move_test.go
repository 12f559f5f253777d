package plan_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
)

func TestChooseStops(t *testing.T) {
	// a and b in zone 1, c in zone 2; the joiner j in zone 1.
	zoneOf := map[string]string{"a": "z1", "b": "z1", "c": "z2", "j": "z1"}
	old := func(arn, inst string) plan.MoveTask { return plan.MoveTask{ARN: arn, Instance: inst} }
	tests := []struct {
		name  string
		tasks []plan.MoveTask
		load  map[string]int
		want  []string
	}{
		{"the busiest instance's task", []plan.MoveTask{old("t1", "a"), old("t2", "b"), old("t3", "c"), {ARN: "n1", Instance: "j", New: true}},
			map[string]int{"a": 9, "b": 7, "c": 8, "j": 1}, []string{"t1"}},
		// c is the busiest, but stopping there takes zone 2 to 0 against zone 1's 2.
		{"never a worse zone spread", []plan.MoveTask{old("t1", "a"), old("t3", "c"), {ARN: "n1", Instance: "j", New: true}},
			map[string]int{"a": 5, "c": 9, "j": 1}, []string{"t1"}},
		{"never a task someone else protected", []plan.MoveTask{{ARN: "t1", Instance: "a", Held: true}, old("t2", "b"), old("t3", "c"), {ARN: "n1", Instance: "j", New: true}},
			map[string]int{"a": 9, "b": 7, "c": 8, "j": 1}, []string{"t2"}},
		// Stopping t1 would only swap a and j: a restart that moves nothing.
		{"equally busy: the new task goes back", []plan.MoveTask{old("t1", "a"), {ARN: "n1", Instance: "j", New: true}},
			map[string]int{"a": 5, "j": 5}, []string{"n1"}},
		// The new task landed on the busiest instance: it is given back.
		{"a new task where it does not help", []plan.MoveTask{old("t1", "a"), old("t3", "c"), {ARN: "n1", Instance: "b", New: true}},
			map[string]int{"a": 3, "b": 9, "c": 3}, []string{"n1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, plan.ChooseStops(tt.tasks, 1, tt.load, zoneOf)); diff != "" {
				t.Errorf("stops (-want +got):\n%s", diff)
			}
		})
	}
}

func moveCluster(t *testing.T, size cluster.Resources, opts ...ct.ServiceOpt) *cluster.Cluster {
	b := ct.New("demo")
	a, bb, c := b.Instance("us-east-1a"), b.Instance("us-east-1b"), b.Instance("us-east-1c")
	b.Instance("us-east-1a", ct.Resources(size.CPU, size.Memory)) // the joiner
	web := b.Service("web", append([]ct.ServiceOpt{ct.Desired(6)}, opts...)...)
	// Two per zone, and a (which shares its zone with the joiner) the busiest.
	b.Tasks(web, a, 2)
	b.Tasks(web, bb, 2)
	b.Tasks(web, c, 2)
	filler := b.Service("filler", ct.Desired(4), ct.Placement("binpack", "memory"))
	b.Tasks(filler, a, 4)
	return b.Cluster(t)
}

func targets(c *cluster.Cluster, cfg config.Config) ([]plan.Move, []plan.Skip) {
	eligible, _ := plan.Eligibility(c, cfg.OptOutTag)
	return plan.MoveTargets(c, c.Reachable(func(s *cluster.Service) bool { return eligible[s.Name] != nil }), eligible, cfg)
}

func TestMoveTargets(t *testing.T) {
	cfg := config.Default()
	moves, skipped := targets(moveCluster(t, cluster.Resources{CPU: 4096, Memory: 8192}), cfg)
	if len(moves) != 1 || moves[0].Service != "web" || moves[0].Count < 1 {
		t.Fatalf("moves %+v, want web (skipped %+v)", moves, skipped)
	}
	cfg.MaxMovesPerRun = 1
	if moves, _ := targets(moveCluster(t, cluster.Resources{CPU: 4096, Memory: 8192}), cfg); len(moves) != 1 || moves[0].Count != 1 {
		t.Errorf("MAX_MOVES_PER_RUN 1: %+v", moves)
	}
	// No room above 100 %.
	if moves, skipped := targets(moveCluster(t, cluster.Resources{CPU: 4096, Memory: 8192}, ct.Deploy(50, 100)), config.Default()); len(moves) != 0 || !hasReason(skipped, "web", "maximumPercent") {
		t.Errorf("maximumPercent 100: moves %+v, skipped %+v", moves, skipped)
	}
	// No instance has room for a web task: nowhere to land, and no panic.
	full := moveCluster(t, cluster.Resources{CPU: 4096, Memory: 8192})
	full.Service("web").TaskSize = cluster.Resources{CPU: 1 << 20, Memory: 1 << 20}
	if moves, skipped := targets(full, config.Default()); len(moves) != 0 || !hasReason(skipped, "web", "could land") {
		t.Errorf("no room anywhere: moves %+v, skipped %+v", moves, skipped)
	}
	// A joiner too small for a web task: nowhere sure to land.
	if moves, skipped := targets(moveCluster(t, cluster.Resources{CPU: 128, Memory: 128}), config.Default()); len(moves) != 0 || !hasReason(skipped, "web", "could land") {
		t.Errorf("full joiner: moves %+v, skipped %+v", moves, skipped)
	}
}

// The moves of one plan see each other: once s1's move takes a task off A and puts
// one on J, s2's same move would only swap them back, so it is left out.
func TestMoveTargetsDoNotOvershoot(t *testing.T) {
	b := ct.New("demo")
	a, j, bb := b.Instance("us-east-1a"), b.Instance("us-east-1a"), b.Instance("us-east-1b")
	for _, name := range []string{"s1", "s2"} {
		s := b.Service(name, ct.Desired(4), ct.TaskSize(16, 16))
		b.Tasks(s, a, 2)
		b.Tasks(s, bb, 2)
	}
	filler := b.Service("filler", ct.Desired(7), ct.Placement("binpack", "memory"), ct.TaskSize(16, 16))
	b.Tasks(filler, j, 1)
	b.Tasks(filler, bb, 6)
	c := b.Cluster(t)
	eligible, _ := plan.Eligibility(c, config.Default().OptOutTag)
	// A 4, J 1, B 10: one task from A to J helps, a second only swaps them.
	reach := cluster.Reach{Surplus: map[string]int{"s1": 1, "s2": 1}}
	moves, skipped := plan.MoveTargets(c, reach, eligible, config.Default())
	var got []string
	for _, m := range moves {
		got = append(got, fmt.Sprintf("%s %d", m.Service, m.Count))
	}
	if diff := cmp.Diff([]string{"s1 1"}, got); diff != "" || !hasReason(skipped, "s2", "where it helps") {
		t.Errorf("moves (-want +got):\n%s\nskipped %+v", diff, skipped)
	}
}

func hasReason(skipped []plan.Skip, name, part string) bool {
	for _, s := range skipped {
		if s.Name == name && strings.Contains(s.Reason, part) {
			return true
		}
	}
	return false
}

func TestSurgeTagRoundTrip(t *testing.T) {
	s := plan.Surge{From: 3, By: 2, At: ct.Epoch}
	got, err := plan.ParseSurge(s.String())
	if err != nil || !got.At.Equal(s.At) || got.From != 3 || got.By != 2 || got.Raised() != 5 {
		t.Errorf("ParseSurge(%q) = %+v, %v", s.String(), got, err)
	}
	for _, bad := range []string{"", "3", "3+0@2026-11-20T09:00:00Z", "x+1@2026-11-20T09:00:00Z", "3+1@yesterday"} {
		if _, err := plan.ParseSurge(bad); err == nil {
			t.Errorf("ParseSurge(%q) accepted", bad)
		}
	}
}
