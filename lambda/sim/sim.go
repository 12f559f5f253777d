// Package sim is an ECS cluster simulator: it implements ecsclient.API over the
// cluster model on a virtual clock, with the request limits, error codes, placement,
// deployment waves and draining behaviour ECS documents (sources in docs/simulator.md,
// "How the simulator models ECS"). Every call is recorded, faults can be injected
// per action, and nothing ever sleeps.
//
// A Sim is safe for concurrent use; each call runs under one lock.
package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsclient"
)

var _ ecsclient.API = (*Sim)(nil)

// Options configure a simulator.
type Options struct {
	// Now is where the virtual clock starts.
	Now time.Time
	// TaskStart is how long a started task stays PENDING: one wave of a deployment or
	// drain (default 30 s).
	TaskStart time.Duration
	// Seed drives what ECS leaves to chance or does not document (ties between equally
	// good instances, the random placement strategy, which task stops when the
	// documents disagree) and the IDs of new tasks and deployments.
	Seed uint64
	// Sample marks a prediction's copy: its random stream is drawn apart from every
	// world's, so no prediction replays a world's future, whatever the seeds.
	Sample bool
	// StopRule is the reading of which task stops within a zone (cluster.StopRule);
	// nil takes one from Seed.
	StopRule *cluster.StopRule
	// Timing overrides, per service name, the task timing estimated from the cluster
	// (cluster.EstimateTiming, with TaskStart where a service's tasks say nothing).
	Timing map[string]cluster.TimingOverride
}

// Random streams: a world and a prediction sample never share one, even for equal
// seeds.
const (
	worldStream  = 0x5deece66d
	sampleStream = 0x2545f4914f6cdd1d
)

// DefaultTaskStart is how long a started task stays PENDING when nothing says
// otherwise (a snapshot's simulation block, the handler's predictions).
const DefaultTaskStart = 30 * time.Second

// Sim is a simulated ECS cluster.
type Sim struct {
	mu        sync.Mutex
	c         *cluster.Cluster
	now       time.Time
	taskStart time.Duration
	rng       *rand.Rand
	pcg       *rand.PCG // rng's state, which a checkpoint saves
	stopRule  cluster.StopRule

	queue stepQueue
	next  map[*cluster.Service]time.Time // each service's scheduled step
	// firstLook holds the place in the queue of the steady services' first look,
	// which New leaves out (it would change nothing); a service scheduled before the
	// clock first moves takes it, so the order of steps is as if every service had one.
	firstLook map[*cluster.Service]uint64
	start     time.Time
	stalled   map[*cluster.Service]bool   // work left that only an outside change can unblock
	readyAt   map[*cluster.Task]time.Time // when a PENDING task becomes RUNNING
	// holds are the resources stopped tasks keep on their instances, earliest
	// release first.
	holds     []hold
	overrides map[string]cluster.TimingOverride
	timing    map[*cluster.Service]cluster.TaskTiming // each service's, fixed by New
	deadlines []*deadlineCtx

	calls  []Call
	counts map[string]int
	faults FaultFunc
	below  map[*cluster.Service]bool // the services below their minimum healthy count
	// raisedFrom is the desired count a service had before a scale-out still under
	// way: tasks not yet started for a raise make no service less available.
	raisedFrom map[*cluster.Service]int32
	stats      Stats
	eventLog   []Event
	// clusterTags are the cluster's own tags (a snapshot has none).
	clusterTags []cluster.Tag

	// ECS's zone rebalancing (zones.go): the moves under way, the services waiting for
	// room in a zone, and the zones of the schedulable instances (nil: not known yet).
	zoneMoves     map[*cluster.Service]*zoneMove
	zoneWait      map[*cluster.Service]string
	zones         []string
	anyRebalances bool
}

// New simulates c, which the simulator takes over: read it through View. To give c
// back unchanged, Checkpoint first and Rollback at the end.
func New(c *cluster.Cluster, o Options) *Sim {
	if o.TaskStart <= 0 {
		o.TaskStart = DefaultTaskStart
	}
	stream := uint64(worldStream)
	if o.Sample {
		stream = sampleStream
	}
	rule := cluster.StopRules()[o.Seed%uint64(len(cluster.StopRules()))]
	if o.StopRule != nil {
		rule = *o.StopRule
	}
	pcg := rand.NewPCG(o.Seed, o.Seed^stream)
	s := &Sim{
		c:         c,
		now:       o.Now,
		taskStart: o.TaskStart,
		rng:       rand.New(pcg),
		pcg:       pcg,
		stopRule:  rule,
		next:      map[*cluster.Service]time.Time{},
		firstLook: map[*cluster.Service]uint64{},
		start:     o.Now,
		stalled:   map[*cluster.Service]bool{},
		readyAt:   map[*cluster.Task]time.Time{},
		overrides: o.Timing,
		timing:    map[*cluster.Service]cluster.TaskTiming{},
		counts:    map[string]int{},
		below:     map[*cluster.Service]bool{},

		raisedFrom: map[*cluster.Service]int32{},
		zoneMoves:  map[*cluster.Service]*zoneMove{},
		zoneWait:   map[*cluster.Service]string{},
	}
	for _, svc := range c.Services() {
		s.timing[svc] = s.estimateTiming(svc)
		s.anyRebalances = s.anyRebalances || rebalancesZones(svc)
	}
	for _, t := range c.AllTasks() {
		if t.LastStatus == cluster.TaskPending {
			s.readyAt[t] = s.now.Add(s.startOf(c.ServiceOf(t)))
		}
	}
	// Every service that is not steady gets a first look: deployments in progress,
	// tasks on DRAINING instances and daemons missing from instances carry on as ECS
	// would.
	for _, svc := range c.Services() {
		if s.isBelowMinHealthy(svc) {
			s.below[svc] = true
		}
		if steady(svc) && !s.needsZoneMove(svc) {
			s.queue.seq++ // its place, should it be scheduled before the clock moves
			s.firstLook[svc] = s.queue.seq
			continue
		}
		s.schedule(svc, s.now)
	}
	return s
}

// View runs fn on the simulated cluster under the simulator's lock. fn must not keep
// the pointer or call the simulator.
func (s *Sim) View(fn func(c *cluster.Cluster)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.c)
}

// RegisterInstance adds a container instance, as the agent's first registration does:
// daemon services place their task on it at once.
func (s *Sim) RegisterInstance(i *cluster.Instance) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.c.AddInstance(i); err != nil {
		return err
	}
	s.instanceChanged(i)
	return nil
}

// Call is one recorded API call.
type Call struct {
	Action string
	At     time.Time
	Input  any // the caller's input pointer, as passed
	Output any // the answer, when the call succeeded
	Err    error
}

// Calls returns the recorded calls in order.
func (s *Sim) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Stats are the simulator's counters.
type Stats struct {
	Calls         map[string]int // per action
	APICalls      int
	MutatingCalls int
	// BelowMinHealthy counts the times a REPLICA service's RUNNING tasks fell below
	// ceil(desired x minimumHealthyPercent).
	BelowMinHealthy int
	TasksStarted    int
	TasksStopped    int
}

// Stats returns a copy of the counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.stats
	out.Calls = make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out.Calls[k] = v
	}
	return out
}

// Event is something the simulated scheduler did, for reports and debugging.
type Event struct {
	At      time.Time
	Service string
	Message string
}

// Events returns what the scheduler did, in order.
func (s *Sim) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.eventLog...)
}

// Fault is what an injected fault does to one call.
type Fault struct {
	// Err fails the call with this error (wrapped as the SDK wraps service errors);
	// the call changes nothing.
	Err error
	// ItemFailure answers every item of a batch call (DescribeContainerInstances,
	// DescribeServices, DescribeTasks, UpdateContainerInstancesState) with a failure
	// of this reason instead of the item.
	ItemFailure string
	// Delay is virtual latency before the answer; a context deadline inside it fails
	// the call with the context's error.
	Delay time.Duration
	// After, when set, runs once the call has been served (its effect is in the
	// cluster) and before the answer goes back, under the simulator's lock: a test can
	// act on a call that took, without sleeping. It must not call the simulator.
	After func()
}

// FaultFunc decides the fault for the n-th call (from 1) of an action; the zero Fault
// lets the call through. It runs under the simulator's lock and must not call it.
type FaultFunc func(action string, n int) Fault

// SetFaults installs f (nil removes it).
func (s *Sim) SetFaults(f FaultFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// FailNth fails the n-th call of action with f and lets every other call through.
func FailNth(action string, n int, f Fault) FaultFunc {
	return func(a string, k int) Fault {
		if a == action && k == n {
			return f
		}
		return Fault{}
	}
}

// serve runs one API call under the lock: it records the call, applies its fault, and
// wraps the error handle returns the way the SDK wraps service errors. handle returns
// bare ECS errors.
func serve[In, Out any](ctx context.Context, s *Sim, action string, in In, handle func(Fault) (Out, error)) (Out, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var zero Out
	if err := ctx.Err(); err != nil {
		// A cancelled context never reaches the service.
		return zero, opError(action, err)
	}
	s.counts[action]++
	s.stats.APICalls++
	if ecsclient.Mutating(action) {
		s.stats.MutatingCalls++
	}
	s.calls = append(s.calls, Call{Action: action, At: s.now, Input: in})
	idx := len(s.calls) - 1
	var f Fault
	if s.faults != nil {
		f = s.faults(action, s.counts[action])
	}
	out, err := zero, f.Err
	if f.Delay > 0 {
		if serr := s.sleepLocked(ctx, f.Delay); serr != nil {
			err = serr
		}
	}
	if err == nil {
		out, err = handle(f)
		if f.After != nil {
			f.After()
		}
	}
	if err != nil {
		err = opError(action, err)
		s.calls[idx].Err = err
		return zero, err
	}
	s.calls[idx].Output = out
	return out, nil
}

func (s *Sim) logEvent(svc *cluster.Service, msg string) {
	s.eventLog = append(s.eventLog, Event{At: s.now, Service: svc.Name, Message: msg})
}

// SetAgentConnected disconnects or reconnects an instance's container agent, as a lost
// network path or an agent restart does: a disconnected instance takes no new tasks,
// and its tasks keep running.
func (s *Sim) SetAgentConnected(arn string, connected bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.instance(arn)
	if i == nil {
		return fmt.Errorf("no container instance %s", arn)
	}
	s.c.ChangingInstance(i)
	i.AgentConnected = connected
	s.instanceChanged(i)
	return nil
}

// TerminateInstance ends an instance as the end of a Spot interruption or a scale-in
// does: its live tasks stop, it goes INACTIVE, and services replace the tasks on
// the instances left.
func (s *Sim) TerminateInstance(arn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.instance(arn)
	if i == nil || i.Status == cluster.StatusInactive {
		return fmt.Errorf("no live container instance %s", arn)
	}
	for _, t := range slices.Clone(i.Tasks()) {
		if !t.Live() {
			continue
		}
		s.stopTaskNow(t, "Host EC2 (instance "+i.EC2InstanceID+") terminated.")
		if svc := s.c.ServiceOf(t); svc != nil {
			s.checkBelowMinHealthy(svc)
			s.schedule(svc, s.now)
		}
	}
	s.c.ChangingInstance(i)
	i.Status = cluster.StatusInactive
	s.instanceChanged(i)
	return nil
}

// KillTask stops a live task the way a crash, an OOM kill or a lost host does, outside
// any deployment's bounds; its service replaces it. It is how tests make a service fall
// below its minimum healthy count.
func (s *Sim) KillTask(arn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.task(arn)
	if t == nil || !t.Live() {
		return fmt.Errorf("no live task %s", arn)
	}
	s.stopTaskNow(t, "Essential container in task exited")
	if svc := s.c.ServiceOf(t); svc != nil {
		s.checkBelowMinHealthy(svc)
		s.schedule(svc, s.now)
	}
	return nil
}
