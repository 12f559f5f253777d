package act

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsclient"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
)

// Refusals: the limits the actor checks itself before a redeploy, a drain or a move,
// whatever the plan says. Each comes wrapped with the service or instance it refused.
var (
	ErrCapReached    = errors.New("per-run cap reached")
	ErrIneligible    = errors.New("service is not eligible")
	ErrNoRoom        = errors.New("maximumPercent leaves no room to start a task first")
	ErrNoCapacity    = errors.New("not enough free CPU or memory")
	ErrAlreadyMoving = errors.New("service carries the surge tag of another move")
	ErrNotDrainable  = errors.New("instance is not ACTIVE and connected, or already carries the drain marker")
	ErrLastInstance  = errors.New("no other ACTIVE, connected instance would be left")
	// ErrTooManyUnavailable refuses a drain that would leave more than a third of the
	// instances not ACTIVE and connected.
	ErrTooManyUnavailable = errors.New("too many instances unavailable")
	// ErrDrainMadeWorse stops a drain round once a drain in it made COV worse.
	ErrDrainMadeWorse = errors.New("the previous drain made COV worse")
)

// Move pacing.
const (
	// movePoll is how often a move looks at its services while it waits.
	movePoll = 15 * time.Second
	// protectSlack is what a protection lasts beyond MOVE_WAIT: long enough for the
	// scale-in to stop the chosen tasks, short enough to end soon after a crash.
	protectSlack = 2 * time.Minute
)

// moving is one service's move in progress.
type moving struct {
	move    plan.Move
	res     *plan.MoveResult
	surge   plan.Surge
	before  map[string]bool // its tasks before the raise
	tagged  bool
	raised  bool
	lowered bool
	// ownScaleIn: the move itself lowered the desired count, so ECS may still be
	// about to stop the chosen tasks.
	ownScaleIn bool
	started    []string             // new tasks that ran
	ours       []string             // tasks the move protected
	until      map[string]time.Time // when each of those protections ends, as ECS set it
	chosen     []string
	done       bool
}

// Move moves tasks start first (docs/decisions.md, "Strategies"): for each service it tags the service with
// the surge marker, raises its desired count by the move's count, waits until the new
// tasks run, chooses which tasks stop (plan.ChooseStops), protects every other task it
// may, lowers the desired count back (only if nobody changed it meanwhile), waits for
// the chosen tasks to stop, and removes its protections and the marker. Services move
// together; the cluster carries plan.MovingTag meanwhile. Before the first call it
// checks every limit itself (eligibility as described now, the surge tag, the per-run
// caps, maximumPercent, the free capacity, the deadline) and refuses a service that
// breaks one with a typed error; every way out undoes what it did.
func (a *Actor) Move(ctx context.Context, moves []plan.Move) (results []plan.MoveResult, err error) {
	results = make([]plan.MoveResult, len(moves))
	var errs []error
	refuse := func(k int, why error) {
		results[k].Ended = "refused: " + why.Error()
		errs = append(errs, fmt.Errorf("move %s: %w", moves[k].Service, why))
	}
	w1 := min(a.cfg.MoveWait, (a.remaining(ctx)-reactivateMargin)/2)
	if w1 < 2*movePoll {
		return results, fmt.Errorf("move: %w", ErrOutOfTime)
	}
	names := make([]string, len(moves))
	for k, m := range moves {
		names[k], results[k].Service = m.Service, m.Service
	}
	described, err := ecsclient.DescribeServices(ctx, a.read, a.cluster, names)
	if err != nil {
		return results, fmt.Errorf("move: %w", err)
	}
	byName := map[string]types.Service{}
	for _, sv := range described {
		byName[aws.ToString(sv.ServiceName)] = sv
	}
	obs, err := a.readCounts(ctx)
	if err != nil {
		return results, fmt.Errorf("move: %w", err)
	}
	free := map[string]cluster.Resources{}
	for _, e := range cluster.Schedulable(obs) {
		free[e.Instance.ARN] = e.Instance.Remaining
	}

	var active []*moving
	seen := map[string]bool{}
	clusterARN := ""
	for k, m := range moves {
		switch {
		case !a.moved[m.Service] && len(a.redeployed)+len(a.moved) >= a.cfg.MaxServicesPerRun:
			refuse(k, fmt.Errorf("%w: MAX_SERVICES_PER_RUN is %d", ErrCapReached, a.cfg.MaxServicesPerRun))
			continue
		case m.Count < 1 || a.movedTasks+m.Count > a.cfg.MaxMovesPerRun:
			refuse(k, fmt.Errorf("%w: %d more tasks, MAX_MOVES_PER_RUN is %d and %d moved", ErrCapReached, m.Count, a.cfg.MaxMovesPerRun, a.movedTasks))
			continue
		case seen[m.Service]:
			refuse(k, fmt.Errorf("%w: the plan names it twice", ErrCapReached))
			continue
		}
		seen[m.Service] = true
		if err := a.eligible(byName, m.Service); err != nil {
			refuse(k, err)
			continue
		}
		s := ecsclient.ServiceFromAPI(byName[m.Service])
		_, maxTotal := s.HealthyBounds()
		size := m.Size
		if int(s.DesiredCount)+m.Count > maxTotal {
			refuse(k, fmt.Errorf("%w: %d + %d tasks above %d%% of %d", ErrNoRoom, s.DesiredCount, m.Count, s.MaximumPercent, s.DesiredCount))
			continue
		}
		if plan.Reserve(free, m.Hosts, size, m.Count) < m.Count {
			refuse(k, fmt.Errorf("%w for %d more tasks of cpu %d, memory %d", ErrNoCapacity, m.Count, size.CPU, size.Memory))
			continue
		}
		tasks, err := ecsclient.ServiceTasks(ctx, a.read, a.cluster, m.Service)
		if err != nil {
			errs = append(errs, fmt.Errorf("move %s: %w", m.Service, err))
			results[k].Ended = "could not read its tasks"
			continue
		}
		mv := &moving{move: m, res: &results[k], before: map[string]bool{}, until: map[string]time.Time{},
			surge: plan.Surge{From: s.DesiredCount, By: int32(m.Count), At: a.clock.Now()}}
		for _, t := range tasks {
			mv.before[aws.ToString(t.TaskArn)] = true
		}
		mv.move.ARN = s.ARN // as ECS names it now
		clusterARN = s.ClusterARN
		a.moved[m.Service] = true
		a.movedTasks += m.Count
		active = append(active, mv)
	}
	if len(active) == 0 {
		return results, errors.Join(errs...)
	}

	// From the first mutating call on, every way out undoes what is left.
	defer func() {
		for _, mv := range active {
			if !mv.done {
				err = errors.Join(err, a.undoMove(context.WithoutCancel(ctx), mv))
			}
		}
		// The cluster's marker goes last, and only once no service keeps its own: the
		// next sweep looks for services only when the cluster carries it.
		if clusterARN != "" && !slices.ContainsFunc(active, func(mv *moving) bool { return mv.tagged }) {
			err = errors.Join(err, a.untag(context.WithoutCancel(ctx), clusterARN, plan.MovingTag, "untag-cluster"))
		}
	}()
	if err := a.tag(ctx, clusterARN, plan.MovingTag, a.clock.Now().UTC().Format(time.RFC3339), "tag-cluster"); err != nil {
		clusterARN = "" // nothing to remove
		return results, errors.Join(append(errs, err)...)
	}
	for _, mv := range active {
		if err := a.tag(ctx, mv.move.ARN, plan.SurgeTag, mv.surge.String(), "tag-service"); err != nil {
			mv.res.Ended = "could not tag the service"
			// A throttle or timeout may hide a tag that took: the undo removes it, or
			// the cluster's marker stays for the sweep. A marker left behind would
			// refuse every later move of the service.
			mv.tagged = ecsclient.Unanswered(err)
			errs = append(errs, err)
			continue
		}
		mv.tagged = true
		got, wrote, err := a.changeDesired(ctx, mv.move.Service, mv.surge.From, mv.surge.Raised(), "raise")
		switch {
		case err != nil:
			errs = append(errs, err)
			mv.res.Ended = "could not raise its desired count"
			// A raise that may have taken: the undo compares the count and restores it.
			mv.raised = wrote && ecsclient.Unanswered(err)
			errs = append(errs, a.undoMove(context.WithoutCancel(ctx), mv))
			continue
		case !wrote:
			mv.res.Ended = fmt.Sprintf("desired count changed to %d by someone else before the raise: not moved", got)
			errs = append(errs, a.undoMove(context.WithoutCancel(ctx), mv))
			continue
		}
		mv.raised = true
	}

	// Wait until the new tasks run.
	raised := func() []*moving {
		var out []*moving
		for _, mv := range active {
			if mv.raised && !mv.done {
				out = append(out, mv)
			}
		}
		return out
	}
	if err := a.waitServices(ctx, w1, raised(), func(mv *moving, sv types.Service) bool {
		return sv.RunningCount >= mv.surge.Raised() && sv.PendingCount == 0
	}); err != nil {
		return results, errors.Join(append(errs, err)...)
	}

	obs, err = a.readCounts(ctx)
	if err != nil {
		return results, errors.Join(append(errs, fmt.Errorf("move: %w", err))...)
	}
	load, zoneOf := map[string]int{}, map[string]string{}
	for _, e := range cluster.Schedulable(obs) {
		load[e.Instance.ARN], zoneOf[e.Instance.ARN] = e.Count, e.Instance.Zone
	}
	for _, mv := range raised() {
		if err := a.chooseAndLower(ctx, mv, load, zoneOf); err != nil {
			errs = append(errs, err)
		}
	}

	// Wait for the chosen tasks to stop, then see what stopped.
	w2 := min(a.cfg.MoveWait, a.remaining(ctx)-reactivateMargin)
	var lowered []*moving
	for _, mv := range active {
		if mv.lowered && !mv.done {
			lowered = append(lowered, mv)
		}
	}
	if err := a.waitStopped(ctx, w2, lowered); err != nil {
		errs = append(errs, err)
	}
	for _, mv := range lowered {
		if err := a.finishMove(ctx, mv); err != nil {
			errs = append(errs, err)
		}
	}
	return results, errors.Join(errs...)
}

// waitServices polls the services (DescribeServices, batched) every movePoll until
// ready holds for each, wait has passed, or ctx ends.
func (a *Actor) waitServices(ctx context.Context, wait time.Duration, ms []*moving, ready func(*moving, types.Service) bool) error {
	until := a.clock.Now().Add(wait)
	for len(ms) > 0 {
		if err := a.clock.Sleep(ctx, min(movePoll, until.Sub(a.clock.Now()))); err != nil {
			return fmt.Errorf("move cut short: %w", err)
		}
		names := make([]string, len(ms))
		for k, mv := range ms {
			names[k] = mv.move.Service
		}
		described, err := ecsclient.DescribeServices(ctx, a.read, a.cluster, names)
		if err != nil {
			return fmt.Errorf("move: %w", err)
		}
		var left []*moving
		for _, mv := range ms {
			k := slices.IndexFunc(described, func(sv types.Service) bool { return aws.ToString(sv.ServiceName) == mv.move.Service })
			if k < 0 || !ready(mv, described[k]) {
				left = append(left, mv)
			}
		}
		ms = left
		if !a.clock.Now().Before(until) {
			break
		}
	}
	return nil
}

// chooseAndLower reads where the service's new tasks landed, chooses as many tasks to
// stop as new ones run (plan.ChooseStops), protects every other task it may (never one
// someone else protected), and lowers the desired count back to the original if it
// still holds the raised one.
func (a *Actor) chooseAndLower(ctx context.Context, mv *moving, load map[string]int, zoneOf map[string]string) error {
	name := mv.move.Service
	tasks, err := ecsclient.ServiceTasks(ctx, a.read, a.cluster, name)
	if err != nil {
		return fmt.Errorf("move %s: %w", name, err)
	}
	var arns []string
	for _, t := range tasks {
		arns = append(arns, aws.ToString(t.TaskArn))
	}
	prot, err := ecsclient.TaskProtection(ctx, a.read, a.cluster, arns)
	if err != nil {
		return fmt.Errorf("move %s: %w", name, err)
	}
	held := map[string]bool{}
	for _, p := range prot {
		if p.ProtectionEnabled {
			held[aws.ToString(p.TaskArn)] = true
		}
	}
	var cands []plan.MoveTask
	for _, t := range tasks {
		arn := aws.ToString(t.TaskArn)
		isNew := !mv.before[arn]
		if aws.ToString(t.LastStatus) != cluster.TaskRunning || !healthy(t) {
			continue // a new task not up yet is stopped first by the scale-in (PENDING first)
		}
		if isNew {
			mv.started = append(mv.started, arn)
		}
		cands = append(cands, plan.MoveTask{ARN: arn, Instance: aws.ToString(t.ContainerInstanceArn), New: isNew, Held: held[arn]})
	}
	mv.res.Started = len(mv.started)
	if len(mv.started) < mv.move.Count {
		mv.res.Ended = fmt.Sprintf("%d of %d new tasks ran within MOVE_WAIT", len(mv.started), mv.move.Count)
	}
	mv.chosen = plan.ChooseStops(cands, len(mv.started), load, zoneOf)
	chosen := map[string]bool{}
	for _, arn := range mv.chosen {
		chosen[arn] = true
		for _, c := range cands {
			if c.ARN == arn {
				load[c.Instance]-- // the next service chooses against the cluster this one leaves
			}
		}
	}
	var protect []string
	for _, c := range cands {
		if !chosen[c.ARN] && !held[c.ARN] {
			protect = append(protect, c.ARN)
		}
	}
	if len(mv.chosen) > 0 {
		minutes := int32((a.cfg.MoveWait + protectSlack + time.Minute - 1) / time.Minute)
		if err := a.protect(ctx, mv, protect, minutes); err != nil {
			return fmt.Errorf("move %s: %w", name, err) // the deferred undo puts the count back
		}
	}
	return a.lower(ctx, mv)
}

// healthy reports a task ECS does not report unhealthy: its health status, and every
// container's that reports one, is HEALTHY or UNKNOWN (no health check).
func healthy(t types.Task) bool {
	if t.HealthStatus == types.HealthStatusUnhealthy {
		return false
	}
	for _, c := range t.Containers {
		if c.HealthStatus == types.HealthStatusUnhealthy {
			return false
		}
	}
	return true
}

// protect sets scale-in protection on arns, 10 per call, remembering each batch that
// took.
func (a *Actor) protect(ctx context.Context, mv *moving, arns []string, minutes int32) error {
	for start := 0; start < len(arns); start += ecsclient.MaxUpdateTaskProtection {
		batch := arns[start:min(start+ecsclient.MaxUpdateTaskProtection, len(arns))]
		out, err := a.write.UpdateTaskProtection(ctx, &ecs.UpdateTaskProtectionInput{Cluster: &a.cluster, Tasks: batch, ProtectionEnabled: true, ExpiresInMinutes: aws.Int32(minutes)})
		if err == nil {
			for _, p := range out.ProtectedTasks {
				mv.ours = append(mv.ours, aws.ToString(p.TaskArn))
				mv.until[aws.ToString(p.TaskArn)] = aws.ToTime(p.ExpirationDate)
			}
			if len(out.Failures) > 0 {
				f := out.Failures[0]
				err = fmt.Errorf("%s: %s", aws.ToString(f.Arn), aws.ToString(f.Reason))
			}
		}
		a.record("protect", mv.move.Service, err)
		if err != nil {
			return fmt.Errorf("protect tasks: %w", err)
		}
	}
	return nil
}

// unprotect clears the protections the move set, and only those: it reads them again
// first, and a task whose protection someone else set or renewed since (another
// expiry than the move's) keeps it. What is left is one round trip, as with the
// desired count.
func (a *Actor) unprotect(ctx context.Context, mv *moving) error {
	if len(mv.ours) == 0 {
		return nil
	}
	// A task that stopped meanwhile may come back as a failure: it needs nothing.
	var now []types.ProtectedTask
	for start := 0; start < len(mv.ours); start += ecsclient.MaxGetTaskProtection {
		got, err := a.read.GetTaskProtection(ctx, &ecs.GetTaskProtectionInput{Cluster: &a.cluster, Tasks: mv.ours[start:min(start+ecsclient.MaxGetTaskProtection, len(mv.ours))]})
		if err != nil {
			return fmt.Errorf("unprotect tasks of %s (they expire by themselves): %w", mv.move.Service, err)
		}
		now = append(now, got.ProtectedTasks...)
	}
	var clear []string
	for _, p := range now {
		arn := aws.ToString(p.TaskArn)
		if p.ProtectionEnabled && aws.ToTime(p.ExpirationDate).Equal(mv.until[arn]) {
			clear = append(clear, arn)
		}
	}
	var errs []error
	for start := 0; start < len(clear); start += ecsclient.MaxUpdateTaskProtection {
		batch := clear[start:min(start+ecsclient.MaxUpdateTaskProtection, len(clear))]
		_, err := a.write.UpdateTaskProtection(ctx, &ecs.UpdateTaskProtectionInput{Cluster: &a.cluster, Tasks: batch, ProtectionEnabled: false})
		a.record("unprotect", mv.move.Service, err)
		if err != nil {
			errs = append(errs, fmt.Errorf("unprotect tasks of %s (they expire by themselves): %w", mv.move.Service, err))
		}
	}
	if len(errs) == 0 {
		mv.ours = nil
	}
	return errors.Join(errs...)
}

// changeDesired sets the service's desired count from one value to another, and only
// from it: after pacing, it describes the service and writes only if the desired count
// is still from. ECS has no conditional update, so this leaves one round trip in which
// Service Auto Scaling or a person could still change it; their change is otherwise
// never overwritten. It returns the desired count it found (or set) and whether it
// wrote.
func (a *Actor) changeDesired(ctx context.Context, service string, from, to int32, kind string) (int32, bool, error) {
	if err := a.pace(ctx); err != nil {
		return 0, false, fmt.Errorf("%s %s to %d: %w", kind, service, to, err)
	}
	described, err := ecsclient.DescribeServices(ctx, a.read, a.cluster, []string{service})
	if err != nil {
		return 0, false, fmt.Errorf("%s %s to %d: %w", kind, service, to, err)
	}
	if len(described) == 0 {
		return 0, false, fmt.Errorf("%s %s to %d: %w: gone", kind, service, to, ErrIneligible)
	}
	if got := described[0].DesiredCount; got != from {
		return got, false, nil
	}
	_, err = a.write.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: &a.cluster, Service: aws.String(service), DesiredCount: aws.Int32(to)})
	a.record(kind, fmt.Sprintf("%s desired %d", service, to), err)
	if err != nil {
		return from, true, fmt.Errorf("%s %s to %d: %w", kind, service, to, err)
	}
	return to, true, nil
}

// lower sets the desired count back to the original, only if it still holds the
// raised one: a change by Service Auto Scaling or a person is never overwritten.
func (a *Actor) lower(ctx context.Context, mv *moving) error {
	got, wrote, err := a.changeDesired(ctx, mv.move.Service, mv.surge.Raised(), mv.surge.From, "lower")
	switch {
	case errors.Is(err, ErrIneligible):
		mv.res.Ended = "the service is gone"
		return nil
	case err != nil:
		return err
	case !wrote:
		mv.res.Ended = fmt.Sprintf("desired count changed to %d by someone else meanwhile: left as it is", got)
		mv.lowered = true // nothing of ours to put back; protections and marker still go
		return nil
	}
	mv.lowered, mv.ownScaleIn = true, true
	return nil
}

// waitStopped polls the chosen tasks (DescribeTasks, batched) until every one has
// stopped, wait has passed, or ctx ends.
func (a *Actor) waitStopped(ctx context.Context, wait time.Duration, ms []*moving) error {
	var arns []string
	for _, mv := range ms {
		arns = append(arns, mv.chosen...)
	}
	until := a.clock.Now().Add(wait)
	for len(arns) > 0 && a.clock.Now().Before(until) {
		if err := a.clock.Sleep(ctx, min(movePoll, until.Sub(a.clock.Now()))); err != nil {
			return fmt.Errorf("move cut short: %w", err)
		}
		tasks, err := ecsclient.DescribeTasks(ctx, a.read, a.cluster, arns)
		if err != nil {
			return fmt.Errorf("move: %w", err)
		}
		arns = arns[:0]
		for _, t := range tasks {
			if aws.ToString(t.LastStatus) != cluster.TaskStopped {
				arns = append(arns, aws.ToString(t.TaskArn))
			}
		}
	}
	return nil
}

// finishMove checks which tasks stopped (ECS may have stopped others than the chosen:
// the record says so), removes the move's protections and the marker.
func (a *Actor) finishMove(ctx context.Context, mv *moving) error {
	tasks, err := ecsclient.ServiceTasks(ctx, a.read, a.cluster, mv.move.Service)
	if err != nil {
		return errors.Join(fmt.Errorf("move %s: %w", mv.move.Service, err), a.undoMove(context.WithoutCancel(ctx), mv))
	}
	runs := map[string]bool{}
	for _, t := range tasks {
		if aws.ToString(t.LastStatus) != cluster.TaskStopped && aws.ToString(t.DesiredStatus) != cluster.TaskStopped {
			runs[aws.ToString(t.TaskArn)] = true
		}
	}
	chosen := map[string]bool{}
	for _, arn := range mv.chosen {
		chosen[arn] = true
		if runs[arn] {
			mv.res.StillRunning = append(mv.res.StillRunning, taskID(arn))
			continue
		}
		mv.res.Stopped = append(mv.res.Stopped, taskID(arn))
		if !mv.before[arn] {
			mv.res.Returned++
		}
	}
	for arn := range mv.before {
		if !runs[arn] && !chosen[arn] {
			mv.res.StoppedByECS = append(mv.res.StoppedByECS, taskID(arn))
		}
	}
	for _, arn := range mv.started {
		if !runs[arn] && !chosen[arn] {
			mv.res.StoppedByECS = append(mv.res.StoppedByECS, taskID(arn))
		}
	}
	slices.Sort(mv.res.StoppedByECS)
	mv.res.Moved = len(mv.res.Stopped) - mv.res.Returned
	if len(mv.res.StillRunning) > 0 && mv.res.Ended == "" {
		mv.res.Ended = fmt.Sprintf("%d chosen tasks still ran after MOVE_WAIT", len(mv.res.StillRunning))
	}
	mv.done = true
	if len(mv.res.StillRunning) > 0 && mv.ownScaleIn && len(mv.ours) > 0 {
		// The scale-in has not stopped the chosen tasks yet: cleared now, the
		// protections would let it stop others. They expire by themselves.
		mv.res.Ended = join(mv.res.Ended, "protections left to expire")
		return a.untagService(ctx, mv)
	}
	return errors.Join(a.unprotect(ctx, mv), a.untagService(ctx, mv))
}

// untagService removes the service's surge marker; on failure it stays, and so does
// the cluster's, for the next sweep.
func (a *Actor) untagService(ctx context.Context, mv *moving) error {
	if err := a.untag(ctx, mv.move.ARN, plan.SurgeTag, "untag-service"); err != nil {
		return err
	}
	mv.tagged = false
	return nil
}

// undoMove puts back what a move that did not finish changed: the desired count (only
// if it still holds the raised one), its protections, the marker.
func (a *Actor) undoMove(ctx context.Context, mv *moving) error {
	mv.done = true
	var errs []error
	if mv.raised && !mv.lowered {
		got, wrote, err := a.changeDesired(ctx, mv.move.Service, mv.surge.Raised(), mv.surge.From, "restore")
		switch {
		case errors.Is(err, ErrIneligible):
		case err != nil:
			errs = append(errs, fmt.Errorf("undo move of %s: %w (the next sweep repairs it)", mv.move.Service, err))
		case wrote:
			mv.lowered, mv.ownScaleIn = true, true
		case got == mv.surge.From:
			mv.lowered = true // the raise never took
		default:
			mv.res.Ended = join(mv.res.Ended, fmt.Sprintf("desired count changed to %d by someone else: left as it is", got))
		}
		mv.res.Ended = join(mv.res.Ended, "undone")
	}
	if mv.ownScaleIn && len(mv.ours) > 0 {
		// ECS scales in after the call returns: cleared now, the protections would let
		// it stop any task. They expire by themselves minutes after the chosen ones
		// stopped.
		mv.res.Ended = join(mv.res.Ended, "protections left to expire")
	} else {
		errs = append(errs, a.unprotect(ctx, mv))
	}
	if mv.tagged && mv.lowered || mv.tagged && !mv.raised {
		// Leave the marker while the count may still be raised: the sweep needs it.
		errs = append(errs, a.untagService(ctx, mv))
	}
	return errors.Join(errs...)
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func taskID(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

func (a *Actor) tag(ctx context.Context, arn, key, value, kind string) error {
	_, err := a.write.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String(key), Value: aws.String(value)}}})
	a.record(kind, arn, err)
	if err != nil {
		return fmt.Errorf("tag %s: %w", arn, err)
	}
	return nil
}

func (a *Actor) untag(ctx context.Context, arn, key, kind string) error {
	_, err := a.write.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{key}})
	a.record(kind, arn, err)
	if err != nil {
		return fmt.Errorf("untag %s: %w", arn, err)
	}
	return nil
}

// SweepMoves repairs what a move an earlier invocation did not finish left (README,
// "Safety guarantees" 10). A move tags the cluster (plan.MovingTag) before it touches
// a service, so one ListTagsForResource call tells whether there is anything to
// repair (a cluster known by name only is first looked up through its services). Then
// every service with the surge tag gets its desired count back if it still holds the
// raised one (someone else's change is left alone, and said) and loses the tag, and
// the cluster loses its; protections expire by themselves. It returns what it did, one
// line per service.
func (a *Actor) SweepMoves(ctx context.Context) ([]string, error) {
	clusterARN := a.cluster
	var services []types.Service
	if !isARN(clusterARN) {
		var err error
		if services, err = ecsclient.AllServices(ctx, a.read, a.cluster); err != nil {
			return nil, fmt.Errorf("sweep of moves: %w", err)
		}
		if len(services) == 0 {
			return nil, nil
		}
		clusterARN = aws.ToString(services[0].ClusterArn)
	}
	out, err := a.read.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(clusterARN)})
	if err != nil {
		return nil, fmt.Errorf("sweep of moves: %w", err)
	}
	_, moving := ecsclient.Tag(out.Tags, plan.MovingTag)
	if !moving && services == nil {
		return nil, nil
	}
	if services == nil {
		if services, err = ecsclient.AllServices(ctx, a.read, a.cluster); err != nil {
			return nil, fmt.Errorf("sweep of moves: %w", err)
		}
	}
	var done []string
	var errs []error
	for _, sv := range services {
		v, ok := ecsclient.Tag(sv.Tags, plan.SurgeTag)
		if !ok {
			continue
		}
		name := aws.ToString(sv.ServiceName)
		surge, perr := plan.ParseSurge(v)
		switch {
		case perr != nil:
			done = append(done, fmt.Sprintf("%s: %v; tag removed, desired count left at %d", name, perr, sv.DesiredCount))
		case sv.DesiredCount != surge.Raised():
			done = append(done, fmt.Sprintf("%s: desired count %d is not the %d a move set: left as it is", name, sv.DesiredCount, surge.Raised()))
		default:
			got, wrote, err := a.changeDesired(ctx, name, surge.Raised(), surge.From, "restore")
			switch {
			case err != nil:
				errs = append(errs, err)
				continue // the tag stays for the next sweep
			case !wrote:
				done = append(done, fmt.Sprintf("%s: desired count %d is not the %d a move set: left as it is", name, got, surge.Raised()))
			default:
				done = append(done, fmt.Sprintf("%s: desired count %d back to %d", name, surge.Raised(), surge.From))
			}
		}
		if err := a.untag(ctx, aws.ToString(sv.ServiceArn), plan.SurgeTag, "untag-service"); err != nil {
			errs = append(errs, err)
		}
	}
	if moving && len(errs) == 0 {
		errs = append(errs, a.untag(ctx, clusterARN, plan.MovingTag, "untag-cluster"))
	}
	return done, errors.Join(errs...)
}

func isARN(s string) bool { return strings.HasPrefix(s, "arn:") }
