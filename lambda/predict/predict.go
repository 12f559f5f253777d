// Package predict runs candidate strategies on simulated copies of the cluster, through
// the same actor code that acts for real, and decides between them (auto). ECS does not
// document how it breaks ties between equally good instances, nor which task a
// scale-in stops within a zone, so no single simulated future is the future: every
// candidate runs on several independent samples of those unknowns, next to a run that
// does nothing on the same sample, and is credited only with what it changes beyond
// it. The samples' seeds come from the input (a replay repeats them) and their random
// stream is never a world's.
package predict

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/act"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

// Input is what Decide decides on.
type Input struct {
	// Cluster is the model as read. The predictions run on it and roll every change
	// back before Decide returns (a copy of 50,000 tasks is a third of the function's
	// memory): nothing else may use it meanwhile.
	Cluster *cluster.Cluster
	Config  config.Config
	Now     time.Time
	// Budget is the invocation's remaining time: each simulated run gets it as its
	// deadline, as the real run will.
	Budget time.Duration
	// TaskStart is how long a started task is assumed to take to run.
	TaskStart time.Duration
	// Clock and ComputeBudget bound the predictions' own work: once ComputeBudget has
	// passed on Clock, no further candidate is tried (nil Clock: no bound).
	Clock         func() time.Time
	ComputeBudget time.Duration
}

// settleLimit bounds how long a simulated copy runs on after the strategy returns.
const settleLimit = time.Hour

// Decide applies the COV gate, computes the reachable target and the goal, and predicts
// the configured strategy (auto: force-new-deployment and drain) over the samples; it
// chooses with plan.Choose.
func Decide(ctx context.Context, in Input) plan.Decision {
	c, cfg := in.Cluster, in.Config
	counts := cluster.Counts(c.Distribution())
	cov := cluster.COV(counts)
	eligible, skipped := plan.Eligibility(c, cfg.OptOutTag)
	// By name: it must hold for any copy of the model too.
	movable := func(s *cluster.Service) bool { return eligible[s.Name] != nil }
	d := plan.Decision{Strategy: plan.StrategySkip, COVBefore: cluster.Round2(cov), MinMoves: cluster.MinMoves(counts), Skipped: skipped, Goal: cfg.COVPercent}
	d.COVPredicted, d.COVPredictedLow, d.COVPredictedHigh = d.COVBefore, d.COVBefore, d.COVBefore
	if cov <= cfg.COVPercent {
		d.Reason = plan.GateReason(cov, cfg.COVPercent, len(counts))
		return d
	}
	reach := c.Reachable(movable)
	p := newPredictor(ctx, in, movable, cov, reach)
	d.Samples, d.SampleSeed = len(p.opts), p.opts[0].Seed
	// A deployment already rolling moves tasks the rebalancer may not touch: the floor
	// is the lower of today's and the one the cluster reaches by itself.
	floors, idleMoves := []float64{reach.COVFloor}, reach.Moves
	for _, r := range p.idle {
		floors = append(floors, r.floor)
		idleMoves = max(idleMoves, r.distance)
	}
	d.COVFloor, d.ReachableMoves = cluster.Round2(slices.Min(floors)), reach.Moves
	d.Goal, d.FloorBinds = plan.Goal(cfg.COVPercent, d.COVFloor)
	p.goal = d.Goal
	switch idle := p.summarize("", p.idle, p.idle); {
	case idleMoves == 0:
		d.Reason = fmt.Sprintf("COV %.2f%% is the lowest the services' own placement allows: no task the rebalancer may move is out of place", cov)
		return d
	case cov <= d.Goal:
		d.Reason = fmt.Sprintf("COV %.2f%% is within %.1f points of %.2f%%, the lowest the services' own placement allows", cov, plan.FloorMargin, d.COVFloor)
		return d
	case idle.COVHigh <= d.Goal:
		d.Reason = fmt.Sprintf("the cluster reaches the goal %.4g%% by itself (deployments in flight, or ECS's own zone rebalancing): predicted COV %s without acting", d.Goal, idle.COVText())
		return d
	}
	strategies := []config.Strategy{cfg.Strategy}
	if cfg.Strategy == config.StrategyAuto {
		// In the order ties go: a move restarts only what it moves.
		strategies = []config.Strategy{config.StrategyMove, config.StrategyForceNewDeployment, config.StrategyDrain}
	}
	for _, s := range strategies {
		pr := plan.Prediction{Strategy: s}
		switch s {
		case config.StrategyMove:
			moves, why := plan.MoveTargets(c, reach, eligible, cfg)
			switch {
			case len(moves) == 0:
				pr.Reason = "no eligible service has tasks above its share of the reachable target that it can start first"
				if len(why) > 0 {
					pr.Reason += " (" + skipText(why) + ")"
				}
			case p.outOfTime():
				pr.Reason = "not predicted: the time left for predictions ran out"
			default:
				pr = p.predict(s, plan.Outcome{Planned: moves}, true)
			}
		case config.StrategyForceNewDeployment:
			if targets := plan.RedeployTargets(c, cfg); len(targets) == 0 {
				pr.Reason = "no eligible service is imbalanced"
			} else {
				pr = p.redeploy(targets)
			}
		case config.StrategyDrain:
			switch pr.Reason = plan.DrainImpossible(c, cfg, in.Now); {
			case pr.Reason != "":
			case p.outOfTime():
				pr.Reason = "not predicted: the time left for predictions ran out"
			default:
				pr = p.predict(s, plan.Outcome{}, true)
			}
		}
		d.Predictions = append(d.Predictions, pr)
	}
	chosen, reason := plan.Choose(cov, d.Goal, d.Predictions)
	d.Reason = reason
	if d.FloorBinds {
		d.Reason += fmt.Sprintf("; goal %.2f%%: the services' own placement allows no lower than %.2f%%", d.Goal, d.COVFloor)
	}
	if chosen != nil {
		d.Strategy, d.Chosen = chosen.Strategy, chosen
		d.COVPredicted, d.COVPredictedLow, d.COVPredictedHigh = chosen.COVAfter, chosen.COVLow, chosen.COVHigh
	}
	return d
}

// predictor runs candidates on the samples. Every run starts from the cluster as read
// and rolls back to it (sim.Checkpoint): copying 50,000 tasks per candidate cost more
// than running it.
type predictor struct {
	ctx       context.Context
	in        Input
	goal      float64
	covBefore float64
	reach     cluster.Reach // of the cluster as read
	movable   func(*cluster.Service) bool
	base      *cluster.Cluster // where every run starts: the input, rolled back after each
	opts      []sim.Options
	idle      []result // doing nothing, per sample
	started   time.Time
}

// newPredictor prepares the samples and runs doing nothing on each.
func newPredictor(ctx context.Context, in Input, movable func(*cluster.Service) bool, cov float64, reach cluster.Reach) *predictor {
	p := &predictor{ctx: ctx, in: in, goal: in.Config.COVPercent, covBefore: cov, reach: reach, movable: movable, base: in.Cluster}
	if in.Clock != nil {
		p.started = in.Clock()
	}
	rules := cluster.StopRules()
	for k, seed := range SampleSeeds(in.Cluster, in.Now, in.Config.PredictionSamples) {
		// Both readings of the stop rule, in equal parts.
		rule := rules[k%len(rules)]
		p.opts = append(p.opts, sim.Options{Now: in.Now, TaskStart: in.TaskStart, Seed: seed, Sample: true, StopRule: &rule})
	}
	for k := range p.opts {
		p.idle = append(p.idle, p.run(k, "", plan.Outcome{}, true))
	}
	return p
}

// outOfTime reports whether the predictions' share of the invocation is spent.
func (p *predictor) outOfTime() bool {
	return p.in.Clock != nil && p.in.Clock().Sub(p.started) >= p.in.ComputeBudget
}

// result is one run on one sample.
type result struct {
	cov      float64
	stopped  int
	distance int     // to the reachable target of the settled copy
	floor    float64 // that target's COV
	seconds  float64
	outcome  plan.Outcome
	err      error
}

// run executes strategy ("" for nothing) on sample k's copy and lets it settle; with
// measure it also finds the settled copy's distance to its reachable target (the
// costliest part of a small run, so the prefix search leaves it out).
func (p *predictor) run(k int, strategy config.Strategy, chosen plan.Outcome, measure bool) result {
	s := sim.New(p.base, p.opts[k])
	defer s.Rollback(s.Checkpoint())
	var r result
	if strategy != "" {
		a := p.actor(s)
		sctx, cancel := s.WithTimeout(p.ctx, p.in.Budget)
		// Execute reads the cluster before anything has run: it is still the one read.
		r.outcome, r.err = act.Execute(sctx, strategy, chosen, p.goal, p.in.Cluster, a, p.in.Config)
		cancel()
	}
	p.settle(s, &r, measure)
	return r
}

// actor acts on the simulated copy s as the real actor acts on ECS.
func (p *predictor) actor(s *sim.Sim) *act.Actor {
	return act.New(s, s, p.in.Cluster.Name, s, p.in.Config, quiet).WithCountReader(func(context.Context) ([]cluster.InstanceCount, error) {
		var out []cluster.InstanceCount
		s.View(func(m *cluster.Cluster) { out = m.InstanceCounts() })
		return out, nil
	}).WithReader(func(context.Context) (*cluster.Cluster, error) {
		var out *cluster.Cluster
		s.View(func(m *cluster.Cluster) { out = m.Clone() })
		return out, nil
	})
}

// settle lets s run until nothing is in progress and reads the result into r; with
// measure it also finds the settled copy's distance to its reachable target (the
// costliest part of a short run). A run that started and stopped nothing ends where
// the cluster was read, with its target.
func (p *predictor) settle(s *sim.Sim, r *result, measure bool) {
	s.Settle(settleLimit)
	stats := s.Stats()
	s.View(func(m *cluster.Cluster) {
		r.cov = cluster.COV(cluster.Counts(m.Distribution()))
		switch {
		case !measure:
		case stats.TasksStarted == 0 && stats.TasksStopped == 0 && stats.MutatingCalls == 0:
			r.distance, r.floor = p.reach.Moves, p.reach.COVFloor
		default:
			reach := m.Reachable(p.movable)
			r.distance, r.floor = reach.Moves, reach.COVFloor
		}
	})
	r.stopped = stats.TasksStopped
	r.seconds = s.Now().Sub(p.in.Now).Seconds()
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// predict runs strategy on every sample.
func (p *predictor) predict(strategy config.Strategy, chosen plan.Outcome, measure bool) plan.Prediction {
	runs := make([]result, len(p.opts))
	for k := range p.opts {
		runs[k] = p.run(k, strategy, chosen, measure)
	}
	pr := p.summarize(strategy, runs, p.idle)
	if !measure {
		pr.Moves = 0
	}
	return pr
}

// summarize turns the runs of one candidate into a prediction, each sample measured
// against the idle run on the same sample.
func (p *predictor) summarize(strategy config.Strategy, runs, idle []result) plan.Prediction {
	pr := plan.Prediction{Strategy: strategy, Possible: true, Samples: len(runs), Run: runs[0].outcome, Reason: runs[0].outcome.Ended}
	var covs, credited, seconds []float64
	var restarts, moves []int
	for k, r := range runs {
		if r.err != nil && (k == 0 || pr.Reason == "") {
			pr.Reason = "stopped: " + r.err.Error()
		}
		covs = append(covs, r.cov)
		credited = append(credited, p.covBefore-(idle[k].cov-r.cov))
		restarts = append(restarts, max(0, r.stopped-idle[k].stopped))
		moves = append(moves, idle[k].distance-r.distance)
		seconds = append(seconds, r.seconds)
	}
	med, low, high := plan.Spread(covs)
	pr.COVAfter, pr.COVLow, pr.COVHigh = cluster.Round2(med), cluster.Round2(low), cluster.Round2(high)
	_, _, creditedHigh := plan.Spread(credited)
	pr.COVCreditedHigh = cluster.Round2(creditedHigh)
	pr.Restarts, pr.RestartsHigh = medianInt(restarts), slices.Max(restarts)
	pr.Moves = medianInt(moves)
	sec, _, _ := plan.Spread(seconds)
	pr.Seconds = sec
	pr.Reaches = pr.COVHigh <= p.goal
	return pr
}

// skipText says why services were left out, one part per reason with at most three
// names: at ECS's maximums thousands share a reason.
func skipText(skips []plan.Skip) string {
	var reasons []string
	names := map[string][]string{}
	for _, sk := range skips {
		if names[sk.Reason] == nil {
			reasons = append(reasons, sk.Reason)
		}
		names[sk.Reason] = append(names[sk.Reason], sk.Name)
	}
	parts := make([]string, len(reasons))
	for k, r := range reasons {
		n := names[r]
		switch {
		case len(n) == 1:
			parts[k] = n[0] + ": " + r
		case len(n) <= 3:
			parts[k] = strings.Join(n, ", ") + ": " + r
		default:
			parts[k] = fmt.Sprintf("%d services (%s, ...): %s", len(n), strings.Join(n[:3], ", "), r)
		}
	}
	return strings.Join(parts, "; ")
}

func medianInt(v []int) int {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// maxWorsePrefixes is how many longer prefixes in a row may predict no better before
// the search stops.
const maxWorsePrefixes = 3

// redeploy chooses how many of the targets to redeploy: it predicts each prefix of the
// largest-imbalance-first list and keeps the smallest whose pessimistic COV reaches the
// goal (restarts only grow with the prefix), else the one with the lowest pessimistic
// COV, giving up after maxWorsePrefixes longer prefixes that do no better or when the
// time for predictions runs out.
func (p *predictor) redeploy(targets []string) plan.Prediction {
	runs := p.prefixes(targets)
	var best plan.Prediction
	worse, tried := 0, 0
	for k := 1; k <= len(runs) && worse < maxWorsePrefixes; k++ {
		pr := p.summarize(config.StrategyForceNewDeployment, runs[k-1], p.idle)
		pr.Moves = 0 // not measured: Reachable is the costliest part of a short run
		tried++
		switch {
		case k == 1 || pr.COVHigh < best.COVHigh:
			best, worse = pr, 0
		default:
			worse++
		}
		if best.Reaches {
			break
		}
	}
	// The same runs again, measured: runs are repeatable per sample.
	best.Moves = p.predict(config.StrategyForceNewDeployment, plan.Outcome{Services: best.Run.Services}, true).Moves
	if n := len(best.Run.Services); n < len(targets) {
		best.Reason = fmt.Sprintf("redeploying the first %d of %d imbalanced services predicts best", n, len(targets))
		if tried < len(targets) && worse < maxWorsePrefixes && !best.Reaches {
			best.Reason += fmt.Sprintf(" (of %d tried before the time for predictions ran out)", tried)
		}
	}
	return best
}

// prefixes runs every prefix of targets on every sample and returns the runs per
// prefix (index k-1 for the first k) and sample. Redeploying the first k services is
// redeploying the first k-1 and then one more, so each sample's copy redeploys one
// service at a time, as the actor paces them, and forks the future after each
// (sim.Checkpoint) to let it settle: a prefix costs its last service, not all of them.
// Once the time for predictions runs out, the prefixes stop where the sample got to
// (the first is always run), and later samples stop there too.
func (p *predictor) prefixes(targets []string) [][]result {
	limit := len(targets)
	runs := make([][]result, limit)
	for k := range runs {
		runs[k] = make([]result, len(p.opts))
	}
	for k := range p.opts {
		s := sim.New(p.base, p.opts[k])
		start := s.Checkpoint()
		a := p.actor(s)
		sctx, cancel := s.WithTimeout(p.ctx, p.in.Budget)
		var errs []error
		halted := false
		for j := 1; j <= limit; j++ {
			if j > 1 && p.outOfTime() {
				limit = j - 1
				break
			}
			if !halted {
				// The actor stops at the first redeploy it has no time for, as it would
				// with the whole list.
				if err := a.Redeploy(sctx, targets[j-1:j]); err != nil {
					errs = append(errs, err)
					halted = errors.Is(err, act.ErrOutOfTime) || sctx.Err() != nil
				}
			}
			fork := s.Checkpoint()
			r := result{outcome: plan.Outcome{Services: targets[:j]}, err: errors.Join(errs...)}
			p.settle(s, &r, false)
			runs[j-1][k] = r
			s.Rollback(fork)
		}
		cancel()
		s.Rollback(start)
	}
	return runs[:limit]
}

// SampleSeeds derives n sample seeds from what the planner read: the cluster's
// instances and services and the time. The same input gives the same seeds, so a
// replay repeats its predictions; nothing of the simulated world's own randomness goes
// in.
func SampleSeeds(c *cluster.Cluster, now time.Time, n int) []uint64 {
	h := fnv.New64a()
	var buf [8]byte
	num := func(v int64) {
		binary.LittleEndian.PutUint64(buf[:], uint64(v))
		h.Write(buf[:])
	}
	h.Write([]byte(c.ARN))
	num(now.UnixNano())
	for _, i := range c.Instances() {
		h.Write([]byte(i.ARN))
		h.Write([]byte(i.Status))
		num(int64(i.RunningTasksCount()))
	}
	for _, s := range c.Services() {
		h.Write([]byte(s.Name))
		num(int64(s.DesiredCount))
		num(int64(s.RunningCount()))
	}
	base := h.Sum64()
	out := make([]uint64, n)
	for k := range out {
		out[k] = splitmix64(base + uint64(k)*0x9e3779b97f4a7c15)
	}
	return out
}

// splitmix64 scrambles consecutive inputs into independent-looking seeds.
func splitmix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
