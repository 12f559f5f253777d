package compare

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/baseline"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/event"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/rebalance"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

// Policy is one way to react to a join: it acts on the simulator through the ECS API
// and, for ours, says what it decided and predicted.
type Policy struct {
	Name string
	Ours bool
	Run  func(ctx context.Context, s *sim.Sim, sc Scenario) (Decided, error)
}

// Decided is what one of our policies decided: the decision, and the prediction it
// chose (nil for a skip).
type Decided struct {
	Decision  string
	Predicted *plan.Prediction
}

// Policies are ours (auto, move, force-new-deployment, drain, with the default
// configuration) and the baselines, in the order reports list them.
func Policies() []Policy {
	var out []Policy
	for _, strategy := range []config.Strategy{config.StrategyAuto, config.StrategyMove, config.StrategyForceNewDeployment, config.StrategyDrain} {
		cfg := config.Default()
		cfg.Strategy = strategy
		out = append(out, ours(string(strategy), cfg))
	}
	for _, name := range []string{baseline.RedeployAll, baseline.DrainBusiest, baseline.RedeployUneven} {
		p := baseline.ByName(name)
		out = append(out, Policy{Name: name, Run: func(ctx context.Context, s *sim.Sim, sc Scenario) (Decided, error) {
			ev, err := event.Decode(sc.Event)
			if err != nil {
				return Decided{}, err
			}
			return Decided{}, p(ctx, s, s, ev.Instance.ClusterARN)
		}})
	}
	return out
}

// ours is the rebalancer's handler with cfg, as a policy.
func ours(name string, cfg config.Config) Policy {
	return Policy{Name: name, Ours: true, Run: func(ctx context.Context, s *sim.Sim, sc Scenario) (Decided, error) {
		h := rebalance.New(rebalance.Options{Config: cfg, API: s, Clock: s, TaskStart: sc.Sim.TaskStart, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
		reps, err := h.Process(ctx, sc.Event)
		if len(reps) == 0 {
			return Decided{}, err
		}
		return Decided{Decision: string(reps[0].Strategy), Predicted: reps[0].Chosen}, err
	}}
}

// Metrics are what one policy did on one scenario, measured by the simulator from the
// moment the event is delivered until the cluster settles.
type Metrics struct {
	Decision                string  `json:"decision,omitempty"` // ours: skip, force-new-deployment, drain
	Acted                   bool    `json:"acted"`              // made a mutating call
	COVBefore               float64 `json:"covBefore"`
	COVAfter                float64 `json:"covAfter"`
	TasksRestarted          int     `json:"tasksRestarted"` // tasks stopped beyond those the cluster stops without any policy (Result.Idle)
	TasksStopped            int     `json:"tasksStopped"`   // every task stopped, the policy's or not
	MinMoves                int     `json:"minMoves"`
	APICalls                int     `json:"apiCalls"`
	MutatingCalls           int     `json:"mutatingCalls"`
	BelowMinHealthy         int     `json:"belowMinHealthy"`
	IneligibleTouched       int     `json:"ineligibleTouched"`
	ForeignDrainReactivated int     `json:"foreignDrainReactivated"`
	SimulatedSeconds        float64 `json:"simulatedSeconds"`
	Error                   string  `json:"error,omitempty"` // what the policy's calls returned, e.g. ECS refusing to redeploy a CODE_DEPLOY service

	// The reachable target (cluster.Reach): moves to it before and after, the goal
	// (COV_PERCENT, or the floor plus half a point when the services' placement allows
	// no lower; the floor is the lower of before and of what the idle run reaches), and
	// whether COV after reached it.
	DistanceBefore int     `json:"distanceBefore"`
	DistanceAfter  int     `json:"distanceAfter"`
	COVFloor       float64 `json:"covFloor"`
	Goal           float64 `json:"goal"`
	ReachedGoal    bool    `json:"reachedGoal"`
	// GapClosed is 1 - distanceAfter/distanceBefore (nil when nothing was out of
	// place); ChurnPerMove is tasksRestarted / (distanceBefore - distanceAfter), nil
	// when nothing was restarted, and NoNetMove marks restarts that closed no distance
	// (an infinite churn).
	GapClosed    *float64 `json:"gapClosed"`
	ChurnPerMove *float64 `json:"churnPerMove"`
	NoNetMove    bool     `json:"noNetMove,omitempty"`
	// Ours: the range the chosen prediction gave, whether COV after fell inside it, and
	// whether it promised to reach the goal.
	PredictedLow   *float64 `json:"predictedCovLow,omitempty"`
	PredictedHigh  *float64 `json:"predictedCovHigh,omitempty"`
	InsideRange    bool     `json:"insideRange,omitempty"`
	PredictedReach bool     `json:"predictedReach,omitempty"`

	stopped map[string]bool // the tasks the run stopped, by ARN
	floor   float64         // the settled cluster's reachable floor
}

// settleLimit bounds how long the cluster runs on after the policy returns.
const settleLimit = time.Hour

// Measure runs p on a fresh copy of sc's cluster. Given the idle run's metrics, it
// charges p only for what the cluster would not have done by itself: tasksRestarted
// leaves out the idle run's stops, and a task of an ineligible service stopped on an
// instance p drained does not count when the idle run stopped it too (its service was
// already replacing it).
func Measure(sc Scenario, p Policy, idle *Metrics) Metrics {
	return measure(sc, sc.Sim, p, idle)
}

// measure is Measure in the world opts describes (its seed).
func measure(sc Scenario, opts sim.Options, p Policy, idle *Metrics) Metrics {
	s := sim.New(sc.Cluster.Clone(), opts)
	if sc.EventTime.After(s.Now()) {
		s.Advance(sc.EventTime.Sub(s.Now()))
	}
	start := s.Now()
	before := measureState(s)

	cfg := config.Default()
	ctx, cancel := s.WithTimeout(context.Background(), cfg.FunctionTimeout())
	decided, err := p.Run(ctx, s, sc)
	cancel()
	s.Settle(settleLimit)

	m := Metrics{Decision: decided.Decision, COVBefore: before.cov, MinMoves: before.minMoves, DistanceBefore: before.reach.Moves}
	if err != nil {
		m.Error = err.Error()
	}
	st := s.Stats()
	m.TasksStopped, m.APICalls, m.MutatingCalls, m.BelowMinHealthy = st.TasksStopped, st.APICalls, st.MutatingCalls, st.BelowMinHealthy
	m.TasksRestarted = m.TasksStopped
	var idleStopped map[string]bool
	if idle != nil {
		m.TasksRestarted = max(0, m.TasksStopped-idle.TasksStopped)
		idleStopped = idle.stopped
	}
	m.Acted = st.MutatingCalls > 0
	m.SimulatedSeconds = s.Now().Sub(start).Seconds()

	touched, drained, reactivated := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, c := range s.Calls() {
		if c.Err != nil {
			continue
		}
		switch in := c.Input.(type) {
		case *ecs.UpdateServiceInput:
			touched[aws.ToString(in.Service)] = true
		case *ecs.UpdateContainerInstancesStateInput:
			for _, arn := range in.ContainerInstances {
				switch in.Status {
				case types.ContainerInstanceStatusDraining:
					drained[arn] = true
				case types.ContainerInstanceStatusActive:
					reactivated[arn] = true
				}
			}
		}
	}
	s.View(func(c *cluster.Cluster) {
		m.COVAfter = cluster.Round2(cluster.COV(cluster.Counts(c.Distribution())))
		after := c.Reachable(before.movable)
		m.DistanceAfter, m.floor = after.Moves, after.COVFloor
		m.stopped = map[string]bool{}
		for _, t := range c.AllTasks() {
			if !t.Live() && !t.StoppedAt.Before(start) {
				m.stopped[t.ARN] = true
			}
		}
		for name, tasks := range before.ineligible {
			svc := c.Service(name)
			hit := touched[name] || touched[svc.ARN]
			for arn, inst := range tasks {
				// A drain stops the daemon's task on the instance and the daemon puts it
				// back after: the strategy accepts that, so it is not counted.
				if drained[inst] && m.stopped[arn] && !idleStopped[arn] && !svc.IsDaemon() {
					hit = true
				}
			}
			if hit {
				m.IneligibleTouched++
			}
		}
		for arn := range before.foreignDrains {
			if i := c.Instance(arn); reactivated[arn] && i != nil && i.Status == cluster.StatusActive {
				m.ForeignDrainReactivated++
			}
		}
	})
	floor := before.reach.COVFloor
	if idle != nil {
		floor = min(floor, idle.floor)
	} else {
		floor = min(floor, m.floor)
	}
	m.COVFloor = cluster.Round2(floor)
	m.Goal, _ = plan.Goal(cfg.COVPercent, m.COVFloor)
	m.ReachedGoal = m.COVAfter <= m.Goal
	if m.DistanceBefore > 0 {
		m.GapClosed = ptr(round2(1 - float64(m.DistanceAfter)/float64(m.DistanceBefore)))
	}
	if m.TasksRestarted > 0 {
		if net := m.DistanceBefore - m.DistanceAfter; net > 0 {
			m.ChurnPerMove = ptr(round2(float64(m.TasksRestarted) / float64(net)))
		} else {
			m.NoNetMove = true
		}
	}
	if pr := decided.Predicted; pr != nil && m.Acted {
		m.PredictedLow, m.PredictedHigh = ptr(pr.COVLow), ptr(pr.COVHigh)
		m.InsideRange = pr.COVLow <= m.COVAfter && m.COVAfter <= pr.COVHigh
		m.PredictedReach = pr.Reaches
	}
	return m
}

// state is what Measure needs from before the policy runs.
type state struct {
	cov           float64
	minMoves      int
	reach         cluster.Reach
	movable       func(*cluster.Service) bool
	ineligible    map[string]map[string]string // service -> its live tasks -> their instance
	foreignDrains map[string]bool              // instances DRAINING before the join
}

// measureState is what the comparison measures of the world before a policy acts.
func measureState(s *sim.Sim) state {
	st := state{ineligible: map[string]map[string]string{}, foreignDrains: map[string]bool{}}
	s.View(func(c *cluster.Cluster) {
		counts := cluster.Counts(c.Distribution())
		st.cov, st.minMoves = cluster.Round2(cluster.COV(counts)), cluster.MinMoves(counts)
		eligible, _ := plan.Eligibility(c, config.Default().OptOutTag)
		names := map[string]bool{}
		for name := range eligible {
			names[name] = true
		}
		// The settled copy has its own Service values: match by name.
		st.movable = func(s *cluster.Service) bool { return names[s.Name] }
		st.reach = c.Reachable(st.movable)
		for _, svc := range c.Services() {
			if eligible[svc.Name] != nil {
				continue
			}
			tasks := map[string]string{}
			for _, t := range svc.Tasks() {
				if t.Live() {
					tasks[t.ARN] = t.InstanceARN
				}
			}
			st.ineligible[svc.Name] = tasks
		}
		for _, i := range c.Instances() {
			if i.Status == cluster.StatusDraining {
				st.foreignDrains[i.ARN] = true
			}
		}
	})
	return st
}

// Result is one scenario's figures, per policy.
type Result struct {
	Scenario
	Instances int                `json:"instances"`
	Services  int                `json:"services"`
	Tasks     int                `json:"tasks"`
	Idle      Metrics            `json:"idle"` // the cluster left alone: DAEMON tasks on the joiner, deployments already in flight
	Policies  map[string]Metrics `json:"policies"`
	// Seeds are the same runs in every world seed (WorldSeeds): Idle and Policies above
	// are the first's.
	Seeds []SeedRuns `json:"seeds"`
}

// SeedRuns are one world seed's runs of a scenario.
type SeedRuns struct {
	Seed     uint64             `json:"seed"`
	Idle     Metrics            `json:"idle"`
	Policies map[string]Metrics `json:"policies"`
}

// WorldSeeds are the simulated worlds every scenario runs in: the seeds decide ECS's
// ties and which documented reading of the stop rule holds. Predictions never draw
// from a world's stream (sim.Options.Sample), whatever these numbers.
func WorldSeeds() []uint64 { return []uint64{1, 2, 3, 4, 5} }

// idle is the reference run: no policy at all. What the cluster does by itself after
// the join (a deployment already rolling stops its old tasks) is not a policy's cost.
var idle = Policy{Name: "idle", Run: func(context.Context, *sim.Sim, Scenario) (Decided, error) { return Decided{}, nil }}

// Run measures every policy, and the idle reference, on every scenario, on all cores
// (each run has its own simulator, so the figures do not depend on the order): the idle
// runs first, since every policy's figures leave out what its scenario's idle run did.
func Run(scenarios []Scenario, policies []Policy) []Result {
	seeds := WorldSeeds()
	out := make([]Result, len(scenarios))
	for k, sc := range scenarios {
		live := 0
		for _, t := range sc.Cluster.AllTasks() {
			if t.Live() {
				live++
			}
		}
		out[k] = Result{Scenario: sc, Instances: len(sc.Cluster.Instances()), Services: len(sc.Cluster.Services()), Tasks: live}
		for _, seed := range seeds {
			out[k].Seeds = append(out[k].Seeds, SeedRuns{Seed: seed, Policies: map[string]Metrics{}})
		}
	}
	world := func(sc Scenario, seed uint64) sim.Options {
		o := sc.Sim
		o.Seed = seed
		return o
	}
	var mu sync.Mutex
	parallel(len(scenarios)*len(seeds), func(j int) {
		k, w := j/len(seeds), j%len(seeds)
		m := measure(scenarios[k], world(scenarios[k], seeds[w]), idle, nil)
		mu.Lock()
		out[k].Seeds[w].Idle = m
		mu.Unlock()
	})
	parallel(len(scenarios)*len(seeds)*len(policies), func(j int) {
		k, w, p := j/(len(seeds)*len(policies)), j/len(policies)%len(seeds), policies[j%len(policies)]
		m := measure(scenarios[k], world(scenarios[k], seeds[w]), p, &out[k].Seeds[w].Idle)
		mu.Lock()
		out[k].Seeds[w].Policies[p.Name] = m
		mu.Unlock()
	})
	for k := range out {
		out[k].Idle, out[k].Policies = out[k].Seeds[0].Idle, out[k].Seeds[0].Policies
	}
	return out
}

// parallel calls f(0) ... f(n-1) on GOMAXPROCS goroutines and waits for them.
func parallel(n int, f func(int)) {
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for j := range jobs {
				f(j)
			}
		})
	}
	for j := range n {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
}
