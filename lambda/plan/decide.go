package plan

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
)

// ActionSkip is the decision to do nothing; the other decisions are the strategy names.
const ActionSkip = "skip"

// Executor carries decisions out: the actor against ECS, or the actor against a
// simulated copy of the cluster for a prediction. The planner decides each step; the
// executor only acts and reports.
type Executor interface {
	// Redeploy forces a new deployment of each service, same task definition.
	Redeploy(ctx context.Context, services []string) error
	// DrainRound drains the instances one after another (mark, DRAINING, wait,
	// ACTIVE, unmark, pause).
	DrainRound(ctx context.Context, instances []*cluster.Instance) error
	// Observe reads every instance and its running-task count again (between drain
	// rounds: ceil(I/100) List and Describe calls, not a full read).
	Observe(ctx context.Context) ([]cluster.InstanceCount, error)
	// Now is the executor's clock.
	Now() time.Time
}

// Simulation is an Executor over a simulated copy of a cluster.
type Simulation interface {
	Executor
	// WithBudget gives ctx a deadline budget from now on the simulation's clock.
	WithBudget(ctx context.Context, budget time.Duration) (context.Context, context.CancelFunc)
	// Settle runs the copy until nothing is in progress (at most an hour) and returns
	// its COV, the tasks stopped since the copy was made, and the simulated time spent.
	Settle() (cov float64, restarts int, elapsed time.Duration)
}

// Run is what executing a strategy did.
type Run struct {
	Services  []string `json:"services,omitempty"`  // redeployed
	Instances []string `json:"instances,omitempty"` // drained, in order (EC2 instance IDs)
	Rounds    int      `json:"rounds,omitempty"`
	Ended     string   `json:"ended,omitempty"` // why the drain loop stopped
}

// RedeployTargets are the services a targeted force-new-deployment redeploys: the
// eligible, imbalanced ones, largest imbalance first, at most MAX_SERVICES_PER_RUN.
func RedeployTargets(c *cluster.Cluster, cfg config.Config) []string {
	eligible, _ := Eligibility(c, cfg.OptOutTag)
	var out []string
	for _, im := range Imbalances(c, eligible) {
		if len(out) == cfg.MaxServicesPerRun {
			break
		}
		out = append(out, im.Service)
	}
	return out
}

// Execute carries out a strategy on cluster c through ex. force-new-deployment
// redeploys services once (nil: every target, RedeployTargets). drain runs rounds: pick
// the candidates, drain them, read the cluster again, and repeat while COV stays above
// COV_PERCENT and keeps falling, at most REBALANCE_MAX_RETRY more times.
func Execute(ctx context.Context, strategy string, services []string, c *cluster.Cluster, ex Executor, cfg config.Config) (Run, error) {
	var run Run
	switch strategy {
	case config.StrategyForceNewDeployment:
		run.Services = services
		if run.Services == nil {
			run.Services = RedeployTargets(c, cfg)
		}
		return run, ex.Redeploy(ctx, run.Services)
	case config.StrategyDrain:
		eligible, _ := Eligibility(c, cfg.OptOutTag)
		blocked := Blockers(c, eligible)
		obs := c.Observe()
		cov := cluster.COV(cluster.Counts(cluster.Schedulable(obs)))
		for round := 0; round <= cfg.RebalanceMaxRetry; round++ {
			picked, _ := DrainCandidates(obs, blocked, ex.Now(), cfg.JoinWindow, cfg.DrainMaxInstances)
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
			case after <= cfg.COVPercent:
				run.Ended = fmt.Sprintf("COV %.2f%% reached COV_PERCENT %.4g%%", after, cfg.COVPercent)
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

// Prediction is what a strategy is expected to do, from a run on a simulated copy.
type Prediction struct {
	Strategy string `json:"strategy"`
	Possible bool   `json:"possible"`
	// Reason explains an impossible strategy, or how a run ended.
	Reason   string  `json:"reason,omitempty"`
	Run      Run     `json:"run"`
	Restarts int     `json:"tasksRestarted"`
	COVAfter float64 `json:"covAfter"`
	Reaches  bool    `json:"reachesTarget"`
	Seconds  float64 `json:"simulatedSeconds"`
}

// predictRedeploy chooses how many of the targets to redeploy: it predicts each prefix
// of the largest-imbalance-first list and keeps the smallest that reaches the COV
// target (restarts only grow with the prefix), else the one with the lowest COV, giving
// up after three longer prefixes that do no better.
func predictRedeploy(ctx context.Context, targets []string, c *cluster.Cluster, cfg config.Config, budget time.Duration, simulate func(*cluster.Cluster) Simulation) Prediction {
	var best Prediction
	worse := 0
	for k := 1; k <= len(targets) && worse < 3; k++ {
		p := predictOnce(ctx, config.StrategyForceNewDeployment, targets[:k], c, cfg, budget, simulate)
		switch {
		case k == 1 || p.COVAfter < best.COVAfter:
			best, worse = p, 0
		default:
			worse++
		}
		if best.Reaches {
			break
		}
	}
	if len(best.Run.Services) < len(targets) {
		best.Reason = fmt.Sprintf("redeploying the first %d of %d imbalanced services predicts best", len(best.Run.Services), len(targets))
	}
	return best
}

// predictOnce runs strategy on a simulated copy of c within the invocation's budget.
func predictOnce(ctx context.Context, strategy string, services []string, c *cluster.Cluster, cfg config.Config, budget time.Duration, simulate func(*cluster.Cluster) Simulation) Prediction {
	s := simulate(c)
	sctx, cancel := s.WithBudget(ctx, budget)
	defer cancel()
	run, err := Execute(sctx, strategy, services, c, s, cfg)
	cov, restarts, elapsed := s.Settle()
	p := Prediction{Strategy: strategy, Possible: true, Run: run, Restarts: restarts, Seconds: elapsed.Seconds(), Reason: run.Ended}
	if err != nil {
		p.Reason = "stopped: " + err.Error()
	}
	p.COVAfter = cluster.Round2(cov)
	p.Reaches = p.COVAfter <= cfg.COVPercent
	return p
}

// MinGapClosed is the share of the distance between the current COV and COV_PERCENT a
// strategy that does not reach the target must close to be worth its restarts.
const MinGapClosed = 0.25

// Choose picks among the possible predictions (SPEC §5, auto): the one that reaches
// the COV target (gate) with the fewest restarts; if none reaches it, the one that
// lowers COV the most, provided it closes at least MinGapClosed of the gap (then fewer
// restarts); ties go to force-new-deployment, which is listed first. It returns nil and
// the reason when no strategy helps.
func Choose(covBefore, gate float64, preds []Prediction) (*Prediction, string) {
	var best *Prediction
	better := func(p, than *Prediction) bool {
		if p.Reaches != than.Reaches {
			return p.Reaches
		}
		if !p.Reaches && p.COVAfter != than.COVAfter {
			return p.COVAfter < than.COVAfter
		}
		return p.Restarts < than.Restarts
	}
	enough := cluster.Round2(covBefore - MinGapClosed*(covBefore-gate))
	var why []string
	for k := range preds {
		p := &preds[k]
		switch {
		case !p.Possible:
			why = append(why, p.Strategy+": "+p.Reason)
			continue
		case p.Restarts == 0 || (!p.Reaches && p.COVAfter > enough):
			why = append(why, fmt.Sprintf("%s: predicted COV %.2f%% after %d restarts (worth acting at %.2f%% or below)", p.Strategy, p.COVAfter, p.Restarts, enough))
			continue
		}
		if best == nil || better(p, best) {
			best = p
		}
	}
	if best == nil {
		return nil, fmt.Sprintf("no strategy helps enough from %.2f%%: %s", covBefore, strings.Join(why, "; "))
	}
	reason := fmt.Sprintf("%s predicted COV %.2f%% -> %.2f%% with %d restarts", best.Strategy, covBefore, best.COVAfter, best.Restarts)
	if !best.Reaches {
		reason += " (above the target, but the largest improvement)"
	}
	return best, reason
}

// Input is what Decide decides on.
type Input struct {
	Cluster *cluster.Cluster
	Config  config.Config
	Now     time.Time
	// Budget is the invocation's remaining time; predictions run within it.
	Budget time.Duration
}

// Decision is the planner's answer.
type Decision struct {
	Action       string       `json:"decision"`
	Reason       string       `json:"reason"`
	COVBefore    float64      `json:"covBefore"`
	COVPredicted float64      `json:"covPredicted"`
	MinMoves     int          `json:"minMoves"`
	Predictions  []Prediction `json:"predictions,omitempty"`
	Skipped      []Skip       `json:"skippedServices,omitempty"`
	Chosen       *Prediction  `json:"-"`
}

// Decide applies the COV gate and the configured strategy: auto predicts both and
// chooses; a named strategy is predicted and acted on if it lowers COV.
func Decide(ctx context.Context, in Input, simulate func(*cluster.Cluster) Simulation) Decision {
	c, cfg := in.Cluster, in.Config
	counts := cluster.Counts(c.Distribution())
	cov := cluster.COV(counts)
	d := Decision{Action: ActionSkip, COVBefore: cluster.Round2(cov), MinMoves: cluster.MinMoves(counts)}
	d.COVPredicted = d.COVBefore
	_, d.Skipped = Eligibility(c, cfg.OptOutTag)
	if cov <= cfg.COVPercent {
		d.Reason = gateReason(cov, cfg.COVPercent, len(counts))
		return d
	}

	strategies := []string{cfg.Strategy}
	if cfg.Strategy == config.StrategyAuto {
		strategies = []string{config.StrategyForceNewDeployment, config.StrategyDrain}
	}
	for _, s := range strategies {
		p := Prediction{Strategy: s}
		switch s {
		case config.StrategyForceNewDeployment:
			if targets := RedeployTargets(c, cfg); len(targets) == 0 {
				p.Reason = "no eligible service is imbalanced"
			} else {
				p = predictRedeploy(ctx, targets, c, cfg, in.Budget, simulate)
			}
		case config.StrategyDrain:
			if p.Reason = drainImpossible(c, cfg, in.Now); p.Reason == "" {
				p = predictOnce(ctx, s, nil, c, cfg, in.Budget, simulate)
			}
		}
		d.Predictions = append(d.Predictions, p)
	}
	chosen, reason := Choose(cov, cfg.COVPercent, d.Predictions)
	d.Reason = reason
	if chosen != nil {
		d.Action, d.Chosen, d.COVPredicted = chosen.Strategy, chosen, chosen.COVAfter
	}
	return d
}

// drainImpossible returns why no drain round can start on c, or "".
func drainImpossible(c *cluster.Cluster, cfg config.Config, now time.Time) string {
	if cfg.DrainMaxInstances == 0 {
		return "DRAIN_MAX_INSTANCES is 0"
	}
	eligible, _ := Eligibility(c, cfg.OptOutTag)
	picked, skipped := DrainCandidates(c.Observe(), Blockers(c, eligible), now, cfg.JoinWindow, cfg.DrainMaxInstances)
	if len(picked) > 0 {
		return ""
	}
	var parts []string
	for _, s := range skipped {
		parts = append(parts, s.Name+": "+s.Reason)
	}
	return "no instance can be drained (" + strings.Join(parts, "; ") + ")"
}

// gateReason explains a skip below the gate, with the value and the gate, and for
// large clusters how small a lone joiner's COV is (SPEC §4).
func gateReason(cov, gate float64, n int) string {
	r := fmt.Sprintf("COV %.2f%% is at or below COV_PERCENT %.4g%%", cov, gate)
	if n >= 2 {
		if joiner := math.Sqrt(float64(n)) / float64(n-1) * 100; joiner <= gate {
			r += fmt.Sprintf("; with %d instances one empty joiner only reaches %.2f%%: lower COV_PERCENT for a cluster this size", n, joiner)
		}
	}
	return r
}
