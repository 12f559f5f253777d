package plan_test

import (
	"testing"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
)

// BenchmarkPlannerAtECSMaximums is the planner's own arithmetic on a model already
// read, without the predictions (which simulate): the COV and minMoves, the trigger
// check, eligibility, the per-service imbalances and redeploy targets, and the drain
// candidates, at 5,000 instances and a joiner, 5,000 services, 50,000 tasks. It is
// what must stay negligible next to one ECS call (tens of milliseconds).
func BenchmarkPlannerAtECSMaximums(b *testing.B) {
	c := ct.Generate(ct.GenOptions{Name: "max", Seed: 7, Instances: 5000, Joiners: 1, Zones: 3, Services: 5000, Tasks: 50000, Skew: 0.5, Ineligible: true, Daemons: 1})
	joiner := c.Instances()[5000]
	cfg := config.Default()
	now := ct.Epoch.Add(time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		counts := cluster.Counts(c.Distribution())
		if cluster.COV(counts) <= cfg.COVPercent || cluster.MinMoves(counts) == 0 {
			b.Fatal("balanced")
		}
		if reason, _ := plan.ClusterJoined(c, joiner.ARN); reason != "" {
			b.Fatal(reason)
		}
		eligible, _ := plan.Eligibility(c, cfg.OptOutTag)
		if len(plan.RedeployTargets(c, cfg)) == 0 {
			b.Fatal("no targets")
		}
		plan.DrainCandidates(c.InstanceCounts(), plan.Blockers(c, eligible), now, cfg.JoinWindow, cfg.DrainMaxInstances)
	}
}
