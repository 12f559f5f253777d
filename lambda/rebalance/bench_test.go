package rebalance

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

// BenchmarkDecisionAtECSMaximums is one whole invocation in dry run, through the
// simulator's ECS API, at ECS's per-cluster maximums: the event, the trigger check and
// re-describe, the read of every instance, service and task (1,654 calls, docs/operations.md, "ECS
// calls per decision"), the plan with both predictions, and the report. Dry run leaves
// the cluster as it was, so every iteration decides on the same join.
func BenchmarkDecisionAtECSMaximums(b *testing.B) {
	c := ct.Generate(ct.GenOptions{Name: "max", Seed: 7, Instances: 5000, Joiners: 1, Zones: 3, Services: 5000, Tasks: 50000, Skew: 0.5})
	joiner := c.Instances()[5000]
	s := sim.New(c, sim.Options{Now: ct.Epoch, TaskStart: 30 * time.Second, Seed: 1})
	cfg := config.Default()
	cfg.DryRun = true
	h := New(Options{Config: cfg, API: s, Clock: s, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	raw := ct.JoinEvent(c, joiner, ct.Epoch)
	b.ReportAllocs()
	for b.Loop() {
		reps, err := h.Process(context.Background(), raw)
		// At this size auto predicts both strategies and finds neither worth it.
		if err != nil || len(reps) != 1 || len(reps[0].Predictions) != 2 {
			b.Fatalf("not a full decision: %v %+v", err, reps)
		}
	}
	b.ReportMetric(float64(s.Stats().APICalls)/float64(b.N), "ecs-calls/op")
}
