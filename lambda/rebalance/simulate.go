package rebalance

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/act"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

// simulation is a prediction: the real actor, acting on a simulated copy of the
// cluster on the simulator's clock.
type simulation struct {
	*act.Actor
	s     *sim.Sim
	start time.Time
}

// simulator returns the factory plan.Decide uses for its predictions.
func simulator(cfg config.Config, now time.Time, taskStart time.Duration) func(*cluster.Cluster) plan.Simulation {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	return func(c *cluster.Cluster) plan.Simulation {
		s := sim.New(c.Clone(), sim.Options{Now: now, TaskStart: taskStart, Seed: 1})
		a := act.New(s, s, c.Name, s, cfg, quiet).WithObserver(func(context.Context) ([]cluster.InstanceCount, error) {
			var out []cluster.InstanceCount
			s.View(func(m *cluster.Cluster) { out = m.Observe() })
			return out, nil
		})
		return &simulation{Actor: a, s: s, start: now}
	}
}

func (p *simulation) WithBudget(ctx context.Context, budget time.Duration) (context.Context, context.CancelFunc) {
	return p.s.WithTimeout(ctx, budget)
}

func (p *simulation) Settle() (float64, int, time.Duration) {
	p.s.Settle(time.Hour)
	var cov float64
	p.s.View(func(m *cluster.Cluster) { cov = cluster.COV(cluster.Counts(m.Distribution())) })
	return cov, p.s.Stats().TasksStopped, p.s.Now().Sub(p.start)
}
