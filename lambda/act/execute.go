package act

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
)

// Executor carries a strategy's steps out: an Actor, against ECS or against a
// simulated copy of the cluster for a prediction. The planner (package plan) decides
// each step from what ReadCounts reads; the executor only acts and reports.
type Executor interface {
	// Redeploy forces a new deployment of each service, same task definition.
	Redeploy(ctx context.Context, services []string) error
	// DrainRound drains the instances one after another (mark, DRAINING, wait,
	// ACTIVE, unmark, pause).
	DrainRound(ctx context.Context, instances []*cluster.Instance) (drained []string, err error)
	// Move starts tasks of each service first, then stops chosen ones.
	Move(ctx context.Context, moves []plan.Move) ([]plan.MoveResult, error)
	// ReadCounts reads every instance and its running-task count again (between drain
	// rounds: ceil(I/100) List and Describe calls, not a full read).
	ReadCounts(ctx context.Context) ([]cluster.InstanceCount, error)
	// Read reads the whole cluster again (between move rounds: the read of an
	// invocation).
	Read(ctx context.Context) (*cluster.Cluster, error)
	// Now is the executor's clock.
	Now() time.Time
}

var _ Executor = (*Actor)(nil)

// Execute carries out a strategy on cluster c through ex; chosen is what its
// prediction did (the zero Outcome: decide here). force-new-deployment redeploys
// services once (chosen.Services, else every target, plan.RedeployTargets). move runs
// rounds (executeMoves). drain runs rounds: pick the candidates, drain them, read the
// cluster again, and repeat while COV stays above goal (plan.Goal) and keeps falling,
// at most REBALANCE_MAX_RETRY more times.
func Execute(ctx context.Context, strategy config.Strategy, chosen plan.Outcome, goal float64, c *cluster.Cluster, ex Executor, cfg config.Config) (plan.Outcome, error) {
	var run plan.Outcome
	switch strategy {
	case config.StrategyForceNewDeployment:
		run.Services = chosen.Services
		if run.Services == nil {
			run.Services = plan.RedeployTargets(c, cfg)
		}
		return run, ex.Redeploy(ctx, run.Services)
	case config.StrategyMove:
		return executeMoves(ctx, chosen.Planned, goal, c, ex, cfg)
	case config.StrategyDrain:
		eligible, _ := plan.Eligibility(c, cfg.OptOutTag)
		blocked := plan.Blockers(c, eligible)
		obs := c.InstanceCounts()
		cov := cluster.COV(cluster.Counts(cluster.Schedulable(obs)))
		for round := 0; round <= cfg.RebalanceMaxRetry; round++ {
			picked, _ := plan.DrainCandidates(obs, blocked, ex.Now(), cfg.JoinWindow, cfg.DrainMaxInstances)
			if len(picked) == 0 {
				run.Ended = "no instance left that can be drained"
				return run, nil
			}
			run.Rounds++
			drained, err := ex.DrainRound(ctx, picked)
			// The record holds what was drained, not what was planned.
			run.Instances = append(run.Instances, drained...)
			run.DrainRounds = append(run.DrainRounds, drained)
			if errors.Is(err, ErrDrainMadeWorse) {
				run.Ended = fmt.Sprintf("round %d stopped: %v", round+1, err)
				return run, nil
			} else if err != nil {
				return run, err
			}
			if obs, err = ex.ReadCounts(ctx); err != nil {
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
	// auto and skip are decisions about which strategy to run, not steps.
	return run, fmt.Errorf("strategy %q has no steps of its own", strategy)
}

// executeMoves runs move rounds: the first moves first (chosen by the prediction; nil:
// plan.MoveTargets on c), each later one plans again on the cluster read after the
// round before. A round can only move the tasks whose new copies surely land where
// they help; once those moved, the cluster has changed and more may. Rounds go on
// while the round before moved a task and COV stays above goal, at most
// REBALANCE_MAX_RETRY more times, and while the deadline leaves twice the time the
// round before took (the actor also refuses a round whose waits it cannot fit: that
// ends the rounds, not the run). MAX_MOVES_PER_RUN and MAX_SERVICES_PER_RUN hold
// for the whole invocation: a later round plans within what the earlier ones left.
func executeMoves(ctx context.Context, first []plan.Move, goal float64, c *cluster.Cluster, ex Executor, cfg config.Config) (plan.Outcome, error) {
	var run plan.Outcome
	planned := first
	tasks := 0
	var took time.Duration // by the round before
	for round := 0; round <= cfg.RebalanceMaxRetry; round++ {
		if round > 0 {
			if cov := cluster.COV(cluster.Counts(c.Distribution())); cov <= goal {
				run.Ended = fmt.Sprintf("COV %.2f%% reached the goal %.4g%%", cov, goal)
				return run, nil
			}
			// The round before measured how long tasks take here; twice that is what
			// the next one may need.
			if dl, ok := ctx.Deadline(); ok && dl.Sub(ex.Now()) < 2*took {
				run.Ended = fmt.Sprintf("no time left for round %d (round %d took %v)", round+1, round, took.Round(time.Second))
				return run, nil
			}
		}
		if round > 0 || planned == nil {
			left := cfg
			left.MaxMovesPerRun -= tasks
			left.MaxServicesPerRun -= len(run.Services) // the distinct services moved so far
			planned = nil
			if left.MaxMovesPerRun > 0 && left.MaxServicesPerRun > 0 {
				eligible, _ := plan.Eligibility(c, cfg.OptOutTag)
				reach := c.Reachable(func(s *cluster.Service) bool { return eligible[s.Name] != nil })
				planned, _ = plan.MoveTargets(c, reach, eligible, left)
			}
		}
		if len(planned) == 0 {
			if round > 0 {
				run.Ended = fmt.Sprintf("after round %d no move surely helps", round)
			}
			return run, nil
		}
		if round == 0 {
			run.Planned = planned
		}
		for _, m := range planned {
			run.Services = appendNew(run.Services, m.Service)
			tasks += m.Count
		}
		began := ex.Now()
		results, err := ex.Move(ctx, planned)
		took = ex.Now().Sub(began)
		run.Results = append(run.Results, results...)
		if round > 0 && errors.Is(err, ErrOutOfTime) {
			run.Ended = fmt.Sprintf("no time left for round %d", round+1)
			return run, nil
		}
		run.Rounds++
		if err != nil {
			return run, err
		}
		moved := 0
		for _, r := range results {
			moved += r.Moved
		}
		if moved == 0 {
			run.Ended = fmt.Sprintf("round %d moved no task", round+1)
			return run, nil
		}
		if round == cfg.RebalanceMaxRetry {
			break
		}
		if c, err = ex.Read(ctx); err != nil {
			return run, err
		}
	}
	run.Ended = fmt.Sprintf("REBALANCE_MAX_RETRY (%d) rounds done", cfg.RebalanceMaxRetry)
	return run, nil
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
