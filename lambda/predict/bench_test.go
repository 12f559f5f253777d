package predict_test

import (
	"context"
	"testing"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/predict"
)

// benchDecide runs the whole decision (gate, eligibility, the reachable target, every
// prediction of auto over the default samples, the choice) on a model already read.
func benchDecide(b *testing.B, c *cluster.Cluster) {
	cfg := config.Default()
	now := ct.Epoch.Add(time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		d := predict.Decide(context.Background(), predict.Input{Cluster: c, Config: cfg, Now: now, Budget: cfg.FunctionTimeout(), TaskStart: 30 * time.Second})
		if len(d.Predictions) != 3 {
			b.Fatalf("%d predictions: %s", len(d.Predictions), d.Reason)
		}
	}
}

// BenchmarkDecideAtECSMaximums: ECS's per-cluster maximums, 5,000 instances and a
// joiner, 5,000 services, 50,000 tasks.
func BenchmarkDecideAtECSMaximums(b *testing.B) {
	benchDecide(b, ct.Generate(ct.GenOptions{Name: "max", Seed: 7, Instances: 5000, Joiners: 1, Zones: 3, Services: 5000, Tasks: 50000, Skew: 0.5}))
}

// BenchmarkDecideBigServices: few, large services, where every forced deployment
// places and stops about a thousand tasks: 2,000 instances and a joiner, 40 services,
// 40,000 tasks.
func BenchmarkDecideBigServices(b *testing.B) {
	benchDecide(b, ct.Generate(ct.GenOptions{Name: "big", Seed: 7, Instances: 2000, Joiners: 1, Zones: 3, Services: 40, Tasks: 40000, Skew: 0.5}))
}

// BenchmarkReachableAtECSMaximums is the reachable target alone at the maximums.
func BenchmarkReachableAtECSMaximums(b *testing.B) {
	c := ct.Generate(ct.GenOptions{Name: "max", Seed: 7, Instances: 5000, Joiners: 1, Zones: 3, Services: 5000, Tasks: 50000, Skew: 0.5})
	b.ReportAllocs()
	for b.Loop() {
		c.Reachable(func(*cluster.Service) bool { return true })
	}
}
