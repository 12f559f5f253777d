package rebalance

import (
	"context"
	"testing"
	"time"

	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
)

// BenchmarkDecideAtECSMaximums is the decision alone (gate, eligibility, both
// predictions of auto, the choice) on a model already read, at ECS's per-cluster
// maximums: 5,000 instances and a joiner, 5,000 services, 50,000 tasks.
func BenchmarkDecideAtECSMaximums(b *testing.B) {
	c := ct.Generate(ct.GenOptions{Name: "max", Seed: 7, Instances: 5000, Joiners: 1, Zones: 3, Services: 5000, Tasks: 50000, Skew: 0.5})
	cfg := config.Default()
	now := ct.Epoch.Add(time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		d := plan.Decide(context.Background(), plan.Input{Cluster: c, Config: cfg, Now: now, Budget: cfg.FunctionTimeout()}, simulator(cfg, now, 30*time.Second))
		if len(d.Predictions) != 2 {
			b.Fatalf("%d predictions: %s", len(d.Predictions), d.Reason)
		}
	}
}
