package cluster

import (
	"slices"
	"time"
)

// TaskTiming is how long a service's tasks take to come up and to go away, as the
// simulator plays them.
type TaskTiming struct {
	// Start runs from placement to RUNNING (image pull, container start): what a
	// task's startedAt - createdAt shows.
	Start time.Duration
	// Healthy runs from RUNNING to a task the deployment counts: behind a load
	// balancer, until it passes its first health check; zero otherwise.
	Healthy time.Duration
	// StopTimeout is how long ECS waits for the task's containers to exit after the
	// stop signal before it kills them (the agent's ECS_CONTAINER_STOP_TIMEOUT, 30 s by
	// default). A task that exits on SIGTERM goes sooner: this is the worst case.
	StopTimeout time.Duration
	// DeregistrationDelay is how long ECS waits, for a task behind a load balancer,
	// for the target group to drain its connections before the stop signal (the target
	// group's deregistration_delay.timeout_seconds, 300 s by default). Zero for a task
	// with no load balancer.
	DeregistrationDelay time.Duration
}

// Ready is how long a new task takes to count for its deployment.
func (t TaskTiming) Ready() time.Duration { return t.Start + t.Healthy }

// Hold is how long a stopped task keeps its CPU and memory on its instance: the
// deregistration delay, then the stop timeout.
func (t TaskTiming) Hold() time.Duration { return t.DeregistrationDelay + t.StopTimeout }

// What ECS and Elastic Load Balancing use when nothing says otherwise (docs/simulator.md
// gives the sources).
const (
	// DefaultStopTimeout is the agent's ECS_CONTAINER_STOP_TIMEOUT default.
	DefaultStopTimeout = 30 * time.Second
	// DefaultDeregistrationDelay is a target group's default deregistration delay.
	DefaultDeregistrationDelay = 300 * time.Second
	// DefaultHealthCheckInterval is a target group's default health check interval: a
	// newly registered target is healthy once it passes one check.
	DefaultHealthCheckInterval = 30 * time.Second
)

// Bounds of an observed start: below a second the timestamps are not a real start
// (a capture that set both to one instant), above an hour a task that was stuck.
const (
	minObservedStart = time.Second
	maxObservedStart = time.Hour
)

// EstimateTiming is the timing of svc's tasks read from the cluster itself, without
// permissions beyond ECS's reads:
//   - Start is the median of startedAt - createdAt over the service's running tasks
//     (image pull and container start), or fallback when none has usable timestamps.
//   - Healthy, behind a load balancer, is the health check grace period, the
//     operator's own bound on how long a task takes to pass its first health check, or
//     one default health check interval when the service sets none.
//   - StopTimeout is the agent's default.
//   - DeregistrationDelay is the target group default for a service with load
//     balancers (ECS cannot read the target group's own value).
func EstimateTiming(svc *Service, fallback time.Duration) TaskTiming {
	out := TaskTiming{Start: fallback, StopTimeout: DefaultStopTimeout}
	if d, ok := ObservedStart(svc); ok {
		out.Start = d
	}
	if len(svc.LoadBalancers) > 0 {
		out.Healthy = DefaultHealthCheckInterval
		if svc.HealthCheckGracePeriod > 0 {
			out.Healthy = svc.HealthCheckGracePeriod
		}
		out.DeregistrationDelay = DefaultDeregistrationDelay
	}
	return out
}

// ObservedStart is the median startedAt - createdAt over svc's running tasks, and
// whether any showed a plausible one.
func ObservedStart(svc *Service) (time.Duration, bool) {
	var starts []time.Duration
	for t := range svc.EachTask() {
		if t.LastStatus != TaskRunning || t.CreatedAt.IsZero() || t.StartedAt.IsZero() {
			continue
		}
		if d := t.StartedAt.Sub(t.CreatedAt); d >= minObservedStart && d <= maxObservedStart {
			starts = append(starts, d)
		}
	}
	if len(starts) == 0 {
		return 0, false
	}
	slices.Sort(starts)
	return starts[len(starts)/2], true
}

// TimingOverride replaces parts of an estimated TaskTiming with what the operator
// knows (a snapshot's simulation.services block); nil fields keep the estimate.
type TimingOverride struct {
	Start, StopTimeout, DeregistrationDelay *time.Duration
}

// Apply returns t with the override's fields set.
func (o TimingOverride) Apply(t TaskTiming) TaskTiming {
	if o.Start != nil {
		t.Start = *o.Start
	}
	if o.StopTimeout != nil {
		t.StopTimeout = *o.StopTimeout
	}
	if o.DeregistrationDelay != nil {
		t.DeregistrationDelay = *o.DeregistrationDelay
	}
	return t
}

// HoldResources keeps r and ports reserved on i after the task that held them
// stopped, as an instance does while a stopping task drains and exits;
// ReleaseResources frees them.
func (c *Cluster) HoldResources(i *Instance, r Resources, ports []HostPort) {
	c.ChangingInstance(i)
	i.Remaining = i.Remaining.Sub(r)
	i.heldPorts = append(i.heldPorts, ports...)
	i.Version++
}

// ReleaseResources frees what HoldResources kept.
func (c *Cluster) ReleaseResources(i *Instance, r Resources, ports []HostPort) {
	c.ChangingInstance(i)
	i.Remaining = i.Remaining.Add(r)
	for _, p := range ports {
		if k := slices.Index(i.heldPorts, p); k >= 0 {
			i.heldPorts = slices.Delete(i.heldPorts, k, k+1)
		}
	}
	i.Version++
}
