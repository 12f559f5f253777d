package act

import (
	"context"
	"fmt"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
)

// Executor carries a strategy's steps out: an Actor, against ECS or against a
// simulated copy of the cluster for a prediction. The planner (package plan) decides
// each step from what Observe reads; the executor only acts and reports.
type Executor interface {
	// Redeploy forces a new deployment of each service, same task definition.
	Redeploy(ctx context.Context, services []string) error
	// DrainRound drains the instances one after another (mark, DRAINING, wait,
	// ACTIVE, unmark, pause).
	DrainRound(ctx context.Context, instances []*cluster.Instance) error
	// Move starts tasks of each service first, then stops chosen ones.
	Move(ctx context.Context, moves []plan.Move) ([]plan.MoveResult, error)
	// Observe reads every instance and its running-task count again (between drain
	// rounds: ceil(I/100) List and Describe calls, not a full read).
	Observe(ctx context.Context) ([]cluster.InstanceCount, error)
	// Now is the executor's clock.
	Now() time.Time
}

var _ Executor = (*Actor)(nil)

// Execute carries out a strategy on cluster c through ex; chosen is what its
// prediction did (the zero Outcome: decide here). force-new-deployment redeploys
// services once (chosen.Services, else every target, plan.RedeployTargets). move moves
// chosen.Planned (else plan.MoveTargets against the reachable target). drain runs
// rounds: pick the candidates, drain them, read the cluster again, and repeat while
// COV stays above goal (plan.Goal) and keeps falling, at most REBALANCE_MAX_RETRY more
// times.
func Execute(ctx context.Context, strategy string, chosen plan.Outcome, goal float64, c *cluster.Cluster, ex Executor, cfg config.Config) (plan.Outcome, error) {
	var run plan.Outcome
	switch strategy {
	case config.StrategyForceNewDeployment:
		run.Services = chosen.Services
		if run.Services == nil {
			run.Services = plan.RedeployTargets(c, cfg)
		}
		return run, ex.Redeploy(ctx, run.Services)
	case config.StrategyMove:
		run.Planned = chosen.Planned
		if run.Planned == nil {
			eligible, _ := plan.Eligibility(c, cfg.OptOutTag)
			run.Planned, _ = plan.MoveTargets(c, c.Reachable(func(s *cluster.Service) bool { return eligible[s.Name] != nil }), eligible, cfg)
		}
		for _, m := range run.Planned {
			run.Services = append(run.Services, m.Service)
		}
		var err error
		run.Results, err = ex.Move(ctx, run.Planned)
		return run, err
	case config.StrategyDrain:
		eligible, _ := plan.Eligibility(c, cfg.OptOutTag)
		blocked := plan.Blockers(c, eligible)
		obs := c.Observe()
		cov := cluster.COV(cluster.Counts(cluster.Schedulable(obs)))
		for round := 0; round <= cfg.RebalanceMaxRetry; round++ {
			picked, _ := plan.DrainCandidates(obs, blocked, ex.Now(), cfg.JoinWindow, cfg.DrainMaxInstances)
			if len(picked) == 0 {
				run.Ended = "no instance left that can be drained"
				return run, nil
			}
			for _, i := range picked {
				run.Instances = append(run.Instances, i.EC2InstanceID)
			}
			run.Rounds++
			if err := ex.DrainRound(ctx, picked); err != nil {
				return run, err
			}
			var err error
			if obs, err = ex.Observe(ctx); err != nil {
				return run, err
			}
			after := cluster.COV(cluster.Counts(cluster.Schedulable(obs)))
			switch {
			case after <= goal:
				run.Ended = fmt.Sprintf("COV %.2f%% reached the goal %.4g%%", after, goal)
				return run, nil
			case after >= cov:
				// Draining moves every task a wave replaces; when that overshoots, more
				// rounds only shuffle tasks around.
				run.Ended = fmt.Sprintf("round %d did not lower COV (%.2f%% -> %.2f%%)", round+1, cov, after)
				return run, nil
			}
			cov = after
		}
		run.Ended = fmt.Sprintf("REBALANCE_MAX_RETRY (%d) rounds done", cfg.RebalanceMaxRetry)
		return run, nil
	}
	return run, fmt.Errorf("unknown strategy %q", strategy)
}
