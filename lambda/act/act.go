// Package act is the only code that calls mutating ECS APIs (UpdateService,
// UpdateContainerInstancesState, PutAttributes, DeleteAttributes, TagResource,
// UntagResource, UpdateTaskProtection), and the one place that enforces the limits
// around them, itself, from what ECS shows just before each call: eligibility, the
// per-run caps (MAX_SERVICES_PER_RUN, MAX_MOVES_PER_RUN, DRAIN_MAX_INSTANCES), the
// pacing under ECS's sustained UpdateService rate, the last ACTIVE instance and a third
// of them unavailable at most, room for the tasks a drain or a move displaces, and
// the deadline; the drain marker before every drain and reactivation on every way out;
// a move's markers and its undo. Refusals are typed errors (ErrIneligible, ...).
//
// The same Actor runs against ECS, and against a simulated copy of the cluster for
// predictions; dry run swaps the mutating calls for a Recorder.
package act

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/clock"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsclient"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
)

// ErrOutOfTime means the invocation's deadline cannot cover the next wait, so the actor
// did not start it.
var ErrOutOfTime = errors.New("not enough time left before the deadline")

// Margins around waits.
const (
	// reactivateMargin is kept after a drain's wait for setting the instance ACTIVE
	// again and removing the marker, retries included.
	reactivateMargin = 15 * time.Second
	restoreAttempts  = 4
)

// Step is one thing the actor did (or, with a Recorder, would have done).
type Step struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"` // redeploy, mark, drain, reactivate, unmark
	Target string    `json:"target"`
	Error  string    `json:"error,omitempty"`
}

// Actor acts on one cluster.
type Actor struct {
	read       ecsclient.ReadAPI
	write      ecsclient.WriteAPI
	cluster    string
	clock      clock.Clock
	cfg        config.Config
	log        *slog.Logger
	readCounts func(ctx context.Context) ([]cluster.InstanceCount, error)
	readAll    func(ctx context.Context) (*cluster.Cluster, error)

	dry        bool // write is a Recorder: nothing reaches ECS
	redeployed map[string]bool
	moved      map[string]bool // services moved this invocation
	movedTasks int
	lastUpdate time.Time
	steps      []Step
}

// New returns an actor on clusterID that reads through read and mutates through write
// (the same client in production; a Recorder in dry run).
func New(read ecsclient.ReadAPI, write ecsclient.WriteAPI, clusterID string, clk clock.Clock, cfg config.Config, log *slog.Logger) *Actor {
	a := &Actor{read: read, write: write, cluster: clusterID, clock: clk, cfg: cfg, log: log, redeployed: map[string]bool{}, moved: map[string]bool{}}
	_, a.dry = write.(*Recorder)
	a.readCounts = func(ctx context.Context) ([]cluster.InstanceCount, error) {
		return ecsclient.ReadInstances(ctx, read, clusterID)
	}
	a.readAll = func(ctx context.Context) (*cluster.Cluster, error) {
		// The invocation's first read reported the odd items; this one only plans.
		c, _, err := ecsclient.Read(ctx, read, clusterID)
		return c, err
	}
	return a
}

// WithCountReader replaces how the actor reads the instances' counts between drain
// rounds (a simulation reads its own model).
func (a *Actor) WithCountReader(read func(ctx context.Context) ([]cluster.InstanceCount, error)) *Actor {
	a.readCounts = read
	return a
}

// WithReader replaces how the actor reads the whole cluster between move rounds (a
// simulation reads its own model).
func (a *Actor) WithReader(read func(ctx context.Context) (*cluster.Cluster, error)) *Actor {
	a.readAll = read
	return a
}

// Read reads the whole cluster again.
func (a *Actor) Read(ctx context.Context) (*cluster.Cluster, error) { return a.readAll(ctx) }

// Steps returns what the actor did, in order.
func (a *Actor) Steps() []Step { return append([]Step(nil), a.steps...) }

// Now is the actor's clock.
func (a *Actor) Now() time.Time { return a.clock.Now() }

// ReadCounts reads every instance and its running-task count again.
func (a *Actor) ReadCounts(ctx context.Context) ([]cluster.InstanceCount, error) {
	return a.readCounts(ctx)
}

// The log line each step writes as it happens, and its keys (the same names as Step's
// JSON, which the decision record carries at the end).
const (
	LogStep   = "step"
	LogKind   = "kind"
	LogTarget = "target"
	LogError  = "error"
	LogDryRun = "dryRun"
)

// record notes a step for the decision record and logs it at once: a run can last
// ten minutes, and an operator watching the log sees each call as it is made.
func (a *Actor) record(kind, target string, err error) {
	st := Step{At: a.clock.Now(), Kind: kind, Target: target}
	attrs := []any{slog.String(LogKind, kind), slog.String(LogTarget, target)}
	if err != nil {
		st.Error = err.Error()
		attrs = append(attrs, slog.String(LogError, st.Error))
	}
	if a.dry {
		attrs = append(attrs, slog.Bool(LogDryRun, true))
	}
	a.steps = append(a.steps, st)
	a.log.Info(LogStep, attrs...)
}

// remaining is the time left before ctx's deadline (a long time without one).
func (a *Actor) remaining(ctx context.Context) time.Duration {
	dl, ok := ctx.Deadline()
	if !ok {
		return time.Duration(1<<62 - 1)
	}
	return dl.Sub(a.clock.Now())
}

// Redeploy forces a new deployment of each service with its current task definition
// (never a new revision), at most MAX_SERVICES_PER_RUN per invocation, one call per
// config.UpdateServiceInterval (ECS's sustained UpdateService rate is 5 per second per
// account, shared with every other caller). Before the first call it describes the
// services (one DescribeServices per 10) and refuses, with ErrIneligible or
// ErrAlreadyMoving, a service that is not eligible as ECS describes it now or that a
// move holds, whatever the plan says. Failures are joined per service.
func (a *Actor) Redeploy(ctx context.Context, services []string) error {
	var todo []string
	for _, name := range services {
		if !a.redeployed[name] && !slices.Contains(todo, name) {
			todo = append(todo, name)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	described, err := ecsclient.DescribeServices(ctx, a.read, a.cluster, todo)
	if err != nil {
		return fmt.Errorf("redeploy: %w", err)
	}
	byName := map[string]types.Service{}
	for _, sv := range described {
		byName[aws.ToString(sv.ServiceName)] = sv
	}
	var errs []error
	for _, name := range todo {
		if len(a.redeployed)+len(a.moved) >= a.cfg.MaxServicesPerRun {
			errs = append(errs, fmt.Errorf("redeploy %s: %w: MAX_SERVICES_PER_RUN is %d", name, ErrCapReached, a.cfg.MaxServicesPerRun))
			continue
		}
		if err := a.eligible(byName, name); err != nil {
			errs = append(errs, fmt.Errorf("redeploy %s: %w", name, err))
			continue
		}
		if err := a.pace(ctx); err != nil {
			return errors.Join(append(errs, fmt.Errorf("redeploy %s: %w", name, err))...)
		}
		_, err := a.write.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: &a.cluster, Service: aws.String(name), ForceNewDeployment: true})
		a.record("redeploy", name, err)
		if err != nil {
			errs = append(errs, fmt.Errorf("redeploy %s: %w", name, err))
			continue
		}
		a.redeployed[name] = true
	}
	return errors.Join(errs...)
}

// eligible refuses a service, as DescribeServices shows it now, that the rebalancer
// must not touch: not found, ineligible (plan.IneligibleCounting), or carrying a
// move's surge tag.
func (a *Actor) eligible(described map[string]types.Service, name string) error {
	sv, ok := described[name]
	if !ok {
		return fmt.Errorf("%w: not found", ErrIneligible)
	}
	s := ecsclient.ServiceFromAPI(sv)
	if why := plan.IneligibleCounting(s, int(sv.RunningCount), int(sv.PendingCount), a.cfg.OptOutTag); why != "" {
		return fmt.Errorf("%w: %s", ErrIneligible, why)
	}
	if _, ok := s.Tag(plan.SurgeTag); ok {
		return ErrAlreadyMoving
	}
	return nil
}

// pace waits until config.UpdateServiceInterval has passed since the previous
// UpdateService call (ECS's sustained rate is 5 per second per account, shared with
// every other caller).
func (a *Actor) pace(ctx context.Context) error {
	if !a.lastUpdate.IsZero() {
		if wait := a.lastUpdate.Add(config.UpdateServiceInterval).Sub(a.clock.Now()); wait > 0 {
			if a.remaining(ctx) < wait {
				return ErrOutOfTime
			}
			if err := a.clock.Sleep(ctx, wait); err != nil {
				return err
			}
		}
	}
	a.lastUpdate = a.clock.Now()
	return nil
}

// DrainRound drains the instances one after another: mark, DRAINING, wait
// DRAIN_TIMEOUT, ACTIVE, unmark, then pause DRAIN_SLEEP_TIME. It returns the instances
// (EC2 IDs) it set DRAINING. It refuses more than
// DRAIN_MAX_INSTANCES, and stops at the first drain that fails, that the deadline
// cannot cover (ErrOutOfTime), or that would follow one that made COV worse
// (ErrDrainMadeWorse: the round was planned on a cluster that is no longer there).
func (a *Actor) DrainRound(ctx context.Context, instances []*cluster.Instance) (drained []string, err error) {
	if len(instances) > a.cfg.DrainMaxInstances {
		return nil, fmt.Errorf("refusing to drain %d instances in one round: %w: DRAIN_MAX_INSTANCES is %d", len(instances), ErrCapReached, a.cfg.DrainMaxInstances)
	}
	limit := math.Inf(1) // COV before the drain before
	for _, i := range instances {
		cov, did, err := a.drain(ctx, i, limit)
		if did {
			drained = append(drained, i.EC2InstanceID)
		}
		if err != nil {
			return drained, err
		}
		limit = cov
		if a.remaining(ctx) < a.cfg.DrainSleepTime {
			return drained, fmt.Errorf("pause after draining %s: %w", i.EC2InstanceID, ErrOutOfTime)
		}
		if err := a.clock.Sleep(ctx, a.cfg.DrainSleepTime); err != nil {
			return drained, fmt.Errorf("pause after draining %s: %w", i.EC2InstanceID, err)
		}
	}
	return drained, nil
}

// drain drains one instance for DRAIN_TIMEOUT. Once the instance is DRAINING, it is set
// ACTIVE again on every way out (a cancelled context included); should even that
// fail, the marker stays for the next invocation's sweep.
// It refuses when the COV read just before is above limit, and returns that COV and
// whether the instance was set DRAINING.
func (a *Actor) drain(ctx context.Context, i *cluster.Instance, limit float64) (cov float64, drained bool, err error) {
	switch {
	case i.Status != cluster.StatusActive || !i.AgentConnected:
		return 0, false, fmt.Errorf("refusing to drain %s: %w: status %s, agent connected %v", i.EC2InstanceID, ErrNotDrainable, i.Status, i.AgentConnected)
	case i.Marked():
		return 0, false, fmt.Errorf("refusing to drain %s: %w: it already carries the drain marker", i.EC2InstanceID, ErrNotDrainable)
	case a.remaining(ctx) < a.cfg.DrainTimeout+reactivateMargin:
		return 0, false, fmt.Errorf("drain %s: %w", i.EC2InstanceID, ErrOutOfTime)
	}
	if cov, err = a.checkDrain(ctx, i.ARN, limit); err != nil {
		return cov, drained, fmt.Errorf("refusing to drain %s: %w", i.EC2InstanceID, err)
	}
	if err := a.mark(ctx, i.ARN); err != nil {
		return cov, drained, err
	}
	if err := a.setStatus(ctx, i.ARN, cluster.StatusDraining, "drain"); err != nil {
		if !ecsclient.Unanswered(err) {
			// ECS refused: not drained, and the marker must not outlive the attempt.
			return cov, drained, errors.Join(err, a.unmark(context.WithoutCancel(ctx), i.ARN))
		}
		// A throttle or timeout may hide a drain that happened: undo it the safe way
		// (ACTIVE is a no-op on an ACTIVE instance), or leave the marker to the sweep.
		return cov, drained, errors.Join(err, a.restore(context.WithoutCancel(ctx), i.ARN))
	}
	drained = true
	defer func() { err = errors.Join(err, a.restore(context.WithoutCancel(ctx), i.ARN)) }()
	if err := a.clock.Sleep(ctx, a.cfg.DrainTimeout); err != nil {
		return cov, drained, fmt.Errorf("drain of %s cut short: %w", i.EC2InstanceID, err)
	}
	return cov, drained, nil
}

// checkDrain reads the instances again (ceil(I/100) List and Describe calls) and
// refuses to drain arn when, as ECS shows it now, it is no longer ACTIVE and
// connected, carries the drain marker, is the last ACTIVE and connected instance, or
// uses more CPU or memory than the other ACTIVE, connected instances have free, when
// the drain would leave more than a third of the instances unavailable
// (plan.TooManyUnavailable), when the COV of the ACTIVE, connected instances is above
// limit, or when its tasks now include one of a service it must not touch
// (checkTasksOn). Instances someone
// else drains count as unavailable: drains never stack on theirs until the cluster
// cannot hold its tasks. It returns that COV.
func (a *Actor) checkDrain(ctx context.Context, arn string, limit float64) (float64, error) {
	obs, err := a.readCounts(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the instances: %w", err)
	}
	dist := cluster.Schedulable(obs)
	cov := cluster.COV(cluster.Counts(dist))
	unavailable := plan.TooManyUnavailable(obs)
	var target *cluster.Instance
	var free cluster.Resources
	others := 0
	for _, e := range dist {
		if e.Instance.ARN == arn {
			target = e.Instance
			continue
		}
		others++
		free = free.Add(e.Instance.Remaining)
	}
	switch {
	case target == nil:
		return cov, fmt.Errorf("%w: not ACTIVE and connected now", ErrNotDrainable)
	case target.Marked():
		return cov, fmt.Errorf("%w: it carries the drain marker now", ErrNotDrainable)
	case others == 0:
		return cov, ErrLastInstance
	case unavailable != "":
		return cov, fmt.Errorf("%w: %s", ErrTooManyUnavailable, unavailable)
	case cov > limit:
		return cov, fmt.Errorf("%w (%.2f%% -> %.2f%%)", ErrDrainMadeWorse, limit, cov)
	}
	if used := target.Registered.Sub(target.Remaining); !free.Fits(used) {
		return cov, fmt.Errorf("%w: its tasks use cpu %d, memory %d; the other instances have cpu %d, memory %d free",
			ErrNoCapacity, used.CPU, used.Memory, free.CPU, free.Memory)
	}
	return cov, a.checkTasksOn(ctx, arn)
}

// checkTasksOn reads the tasks on the instance and their services as ECS describes
// them now (ceil(T/100) ListTasks and DescribeTasks, ceil(S/10) DescribeServices) and
// refuses the drain (ErrIneligible) when one is a task of a service the rebalancer must
// not touch (mid-deployment since the plan was made, say), or when no service task
// would move. DAEMON tasks come back after the drain, standalone ones stay.
func (a *Actor) checkTasksOn(ctx context.Context, arn string) error {
	tasks, err := ecsclient.InstanceTasks(ctx, a.read, a.cluster, arn)
	if err != nil {
		return fmt.Errorf("read its tasks: %w", err)
	}
	var names []string
	for _, t := range tasks {
		if name, ok := strings.CutPrefix(aws.ToString(t.Group), "service:"); ok && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	described, err := ecsclient.DescribeServices(ctx, a.read, a.cluster, names)
	if err != nil {
		return fmt.Errorf("read the services of its tasks: %w", err)
	}
	moves := false
	for _, sv := range described {
		s := ecsclient.ServiceFromAPI(sv)
		if s.IsDaemon() {
			continue
		}
		if why := plan.IneligibleCounting(s, int(sv.RunningCount), int(sv.PendingCount), a.cfg.OptOutTag); why != "" {
			return fmt.Errorf("%w: it runs tasks of %s now: %s", ErrIneligible, s.Name, why)
		}
		moves = true
	}
	if !moves {
		return fmt.Errorf("%w: it runs no service task to move now", ErrNotDrainable)
	}
	return nil
}

// restore sets a drained instance ACTIVE and removes the marker, retrying with backoff:
// leaving an instance DRAINING is the failure this tool must not have.
func (a *Actor) restore(ctx context.Context, arn string) error {
	var err error
	for attempt := range restoreAttempts {
		if attempt > 0 {
			_ = a.clock.Sleep(ctx, time.Duration(1<<attempt)*time.Second)
		}
		if err = a.setStatus(ctx, arn, cluster.StatusActive, "reactivate"); err == nil {
			return a.unmark(ctx, arn)
		}
	}
	return err
}

func (a *Actor) setStatus(ctx context.Context, arn, status, kind string) error {
	out, err := a.write.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{
		Cluster: &a.cluster, ContainerInstances: []string{arn}, Status: types.ContainerInstanceStatus(status)})
	if err == nil && len(out.Failures) > 0 {
		f := out.Failures[0]
		err = fmt.Errorf("%s %s: %s", aws.ToString(f.Arn), aws.ToString(f.Reason), aws.ToString(f.Detail))
	}
	a.record(kind, arn, err)
	if err != nil {
		return fmt.Errorf("set %s %s: %w", arn, status, err)
	}
	return nil
}

func (a *Actor) mark(ctx context.Context, arn string) error {
	_, err := a.write.PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: &a.cluster, Attributes: []types.Attribute{{
		Name: aws.String(cluster.MarkerAttribute), Value: aws.String(a.clock.Now().UTC().Format(time.RFC3339)),
		TargetId: aws.String(arn), TargetType: types.TargetTypeContainerInstance,
	}}})
	a.record("mark", arn, err)
	if err != nil {
		return fmt.Errorf("mark %s: %w", arn, err)
	}
	return nil
}

func (a *Actor) unmark(ctx context.Context, arn string) error {
	_, err := a.write.DeleteAttributes(ctx, &ecs.DeleteAttributesInput{Cluster: &a.cluster, Attributes: []types.Attribute{{
		Name: aws.String(cluster.MarkerAttribute), TargetId: aws.String(arn), TargetType: types.TargetTypeContainerInstance,
	}}})
	a.record("unmark", arn, err)
	if err != nil {
		return fmt.Errorf("unmark %s: %w", arn, err)
	}
	return nil
}

// Sweep repairs what an earlier invocation left behind (README, "Safety guarantees" 2):
// every instance carrying the marker is set ACTIVE again if it is DRAINING (after its
// DRAIN_TIMEOUT has run out, waiting for the rest when the deadline allows) and
// unmarked. Instances DRAINING without the marker were drained by someone else and are
// never touched. It returns the instances it reactivated.
func (a *Actor) Sweep(ctx context.Context) ([]string, error) {
	marked, err := ecsclient.ListMarked(ctx, a.read, a.cluster, cluster.MarkerAttribute)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	var restored []string
	var errs []error
	for _, i := range marked {
		if i.Status != cluster.StatusDraining {
			errs = append(errs, a.unmark(ctx, i.ARN))
			continue
		}
		v, _ := i.Attribute(cluster.MarkerAttribute)
		if at, perr := time.Parse(time.RFC3339, v); perr == nil {
			if left := at.Add(a.cfg.DrainTimeout).Sub(a.clock.Now()); left > 0 && a.remaining(ctx) > left+reactivateMargin {
				_ = a.clock.Sleep(ctx, left)
			}
		}
		if err := a.restore(context.WithoutCancel(ctx), i.ARN); err != nil {
			errs = append(errs, err)
			continue
		}
		restored = append(restored, i.EC2InstanceID)
	}
	return restored, errors.Join(errs...)
}
