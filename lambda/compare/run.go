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
// and, for ours, says what it decided.
type Policy struct {
	Name string
	Ours bool
	Run  func(ctx context.Context, s *sim.Sim, sc Scenario) (decision string, err error)
}

// Policies are ours (auto, force-new-deployment, drain, with the default
// configuration) and the baselines, in the order reports list them.
func Policies() []Policy {
	var out []Policy
	for _, strategy := range []string{config.StrategyAuto, config.StrategyForceNewDeployment, config.StrategyDrain} {
		cfg := config.Default()
		cfg.Strategy = strategy
		out = append(out, Policy{Name: strategy, Ours: true, Run: func(ctx context.Context, s *sim.Sim, sc Scenario) (string, error) {
			h := rebalance.New(rebalance.Options{Config: cfg, API: s, Clock: s, TaskStart: sc.Sim.TaskStart, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
			reps, err := h.Process(ctx, sc.Event)
			if len(reps) == 0 {
				return "", err
			}
			return reps[0].Action, err
		}})
	}
	for _, name := range []string{baseline.RedeployAll, baseline.DrainBusiest, baseline.RedeployUneven} {
		p := baseline.Policies[name]
		out = append(out, Policy{Name: name, Run: func(ctx context.Context, s *sim.Sim, sc Scenario) (string, error) {
			ev, err := event.Decode(sc.Event)
			if err != nil {
				return "", err
			}
			return "", p(ctx, s, s, ev.Instance.ClusterARN)
		}})
	}
	return out
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

	stopped map[string]bool // the tasks the run stopped, by ARN
}

// settleLimit bounds how long the cluster runs on after the policy returns.
const settleLimit = time.Hour

// Measure runs p on a fresh copy of sc's cluster. Given the idle run's metrics, it
// charges p only for what the cluster would not have done by itself: tasksRestarted
// leaves out the idle run's stops, and a task of an ineligible service stopped on an
// instance p drained does not count when the idle run stopped it too (its service was
// already replacing it).
func Measure(sc Scenario, p Policy, idle *Metrics) Metrics {
	s := sim.New(sc.Cluster.Clone(), sc.Sim)
	if sc.EventTime.After(s.Now()) {
		s.Advance(sc.EventTime.Sub(s.Now()))
	}
	start := s.Now()
	before := observe(s)

	cfg := config.Default()
	ctx, cancel := s.WithTimeout(context.Background(), cfg.FunctionTimeout())
	decision, err := p.Run(ctx, s, sc)
	cancel()
	s.Settle(settleLimit)

	m := Metrics{Decision: decision, COVBefore: before.cov, MinMoves: before.minMoves}
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
				// back after: SPEC §5 accepts that, so it is not counted.
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
	return m
}

// state is what Measure needs from before the policy runs.
type state struct {
	cov           float64
	minMoves      int
	ineligible    map[string]map[string]string // service -> its live tasks -> their instance
	foreignDrains map[string]bool              // instances DRAINING before the join
}

func observe(s *sim.Sim) state {
	st := state{ineligible: map[string]map[string]string{}, foreignDrains: map[string]bool{}}
	s.View(func(c *cluster.Cluster) {
		counts := cluster.Counts(c.Distribution())
		st.cov, st.minMoves = cluster.Round2(cluster.COV(counts)), cluster.MinMoves(counts)
		eligible, _ := plan.Eligibility(c, config.Default().OptOutTag)
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
}

// Idle is the reference run: no policy at all. What the cluster does by itself after
// the join (a deployment already rolling stops its old tasks) is not a policy's cost.
var Idle = Policy{Name: "idle", Run: func(context.Context, *sim.Sim, Scenario) (string, error) { return "", nil }}

// Run measures every policy, and the idle reference, on every scenario, on all cores
// (each run has its own simulator, so the figures do not depend on the order): the idle
// runs first, since every policy's figures leave out what its scenario's idle run did.
func Run(scenarios []Scenario, policies []Policy) []Result {
	out := make([]Result, len(scenarios))
	for k, sc := range scenarios {
		live := 0
		for _, t := range sc.Cluster.AllTasks() {
			if t.Live() {
				live++
			}
		}
		out[k] = Result{Scenario: sc, Instances: len(sc.Cluster.Instances()), Services: len(sc.Cluster.Services()), Tasks: live,
			Policies: map[string]Metrics{}}
	}
	var mu sync.Mutex
	parallel(len(scenarios), func(k int) {
		m := Measure(scenarios[k], Idle, nil)
		mu.Lock()
		out[k].Idle = m
		mu.Unlock()
	})
	parallel(len(scenarios)*len(policies), func(j int) {
		k, p := j/len(policies), policies[j%len(policies)]
		m := Measure(scenarios[k], p, &out[k].Idle)
		mu.Lock()
		out[k].Policies[p.Name] = m
		mu.Unlock()
	})
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
