package sim

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
)

// The service scheduler. Each service is looked at in steps: when something changes
// (a deployment, an instance's state) and whenever one of its PENDING tasks comes up
// RUNNING (TaskStart after it started). One step is one wave: it stops what the
// deployment configuration lets it stop, then starts what it lets it start.

func (s *Sim) step(svc *cluster.Service) {
	delete(s.stalled, svc)
	s.promote(svc)
	if svc.Status != cluster.ServiceActive {
		return
	}
	var unfinished bool
	var earliest time.Time // the service's next look: a task coming up, a protection ending
	if svc.IsDaemon() {
		unfinished = s.daemonStep(svc)
	} else {
		unfinished, earliest = s.replicaStep(svc)
	}
	s.refreshDeployments(svc)
	s.checkBelowMinHealthy(svc)
	if !svc.IsDaemon() && !unfinished && earliest.IsZero() {
		s.rebalanceZones(svc) // ECS looks at the zones of a steady service
	}

	for t := range svc.EachTask() { // the minimum: order does not matter
		if at, ok := s.readyAt[t]; ok && (earliest.IsZero() || at.Before(earliest)) {
			earliest = at
		}
	}
	switch {
	case !earliest.IsZero():
		s.schedule(svc, earliest)
	case unfinished:
		// Nothing will change for this service until capacity frees up or an
		// instance changes; instanceChanged and stopTask wake it.
		s.stalled[svc] = true
	}
}

// promote moves the service's PENDING tasks whose start time has come to RUNNING.
func (s *Sim) promote(svc *cluster.Service) {
	// Every due task starts at the same instant: the order does not matter.
	var due []*cluster.Task
	for t := range svc.EachTask() {
		if at, ok := s.readyAt[t]; ok && !at.After(s.now) {
			due = append(due, t)
		}
	}
	for _, t := range due {
		if at, ok := s.readyAt[t]; ok && !at.After(s.now) {
			delete(s.readyAt, t)
			s.c.SetRunning(t, s.startedAt(svc, t))
		}
	}
}

// isOld reports whether a live task is to be replaced: it belongs to a deployment that
// is no longer the primary one, or it runs on a DRAINING instance.
func (s *Sim) isOld(svc *cluster.Service, t *cluster.Task) bool {
	if i := s.c.Instance(t.InstanceARN); i != nil && i.Status == cluster.StatusDraining {
		return true
	}
	p := svc.Primary()
	if p == nil || t.StartedBy == p.ID {
		return false
	}
	for _, d := range svc.Deployments {
		if d.ID == t.StartedBy {
			return true
		}
	}
	return false // not started by a known deployment: counted with the primary
}

// replicaStep is one wave of the REPLICA scheduler. It reports whether work is left,
// and when a scale-in protection that holds some of it ends (zero: none does).
//
// ECS (deployment-type-ecs, container-instance-draining): at least
// ceil(desired x minimumHealthyPercent) tasks stay RUNNING and at most
// floor(desired x maximumPercent) are RUNNING or PENDING; service tasks PENDING on a
// DRAINING instance stop at once; RUNNING ones are replaced within those bounds.
// Protected tasks (UpdateTaskProtection) are skipped by scale-in and by deployments
// until their protection ends; a service with more protected tasks than it wants waits
// for them, as ECS's DEPLOYMENT_BLOCKED does. Draining does not consult protection:
// what ECS does there on EC2 is not documented.
func (s *Sim) replicaStep(svc *cluster.Service) (unfinished bool, protectedUntil time.Time) {
	var keepRunning, keepPending, oldRunning []*cluster.Task
	surge := s.zoneMoveTask(svc) // a zone move's task, above the desired count until it is RUNNING
	for _, t := range svc.Tasks() {
		if t == surge {
			continue
		}
		switch old := s.isOld(svc, t); {
		case old && t.LastStatus == cluster.TaskPending:
			s.stopTask(t, "Task superseded before it started")
		case old:
			oldRunning = append(oldRunning, t)
		case t.LastStatus == cluster.TaskPending:
			keepPending = append(keepPending, t)
		default:
			keepRunning = append(keepRunning, t)
		}
	}
	desired := int(svc.DesiredCount)
	minHealthy, maxTotal := svc.HealthyBounds()
	if svc.DeploymentController != cluster.ControllerECS {
		// Blue/green (CODE_DEPLOY) and EXTERNAL services deploy outside ECS's scheduler,
		// so their old tasks here are a drain's; on EC2 they drain with the default
		// percents, 100 % and 200 %, whatever their own (SDK, DeploymentConfiguration).
		minHealthy, maxTotal = desired, 2*desired
	}
	surging := 0
	switch {
	case surge == nil:
	case surge.LastStatus == cluster.TaskPending:
		surging = 1 // counted against the maximum only
	case len(keepRunning)+len(keepPending) >= desired:
		keepRunning = append(s.finishZoneMove(svc, keepRunning), surge)
	default:
		// The service lost a task while the move was under way: the moved task takes
		// its place, and there is nothing to stop.
		s.zoneMoves[svc].task = nil
		keepRunning = append(keepRunning, surge)
	}

	// Scale-in: a lowered desired count stops the surplus at once, PENDING first, and
	// never a protected task.
	held := func(t *cluster.Task) bool {
		if !t.Protected(s.now) {
			return false
		}
		if protectedUntil.IsZero() || t.ProtectedUntil.Before(protectedUntil) {
			protectedUntil = t.ProtectedUntil
		}
		return true
	}
	for surplus := len(keepRunning) + len(keepPending) - desired; surplus > 0; surplus-- {
		if n := len(keepPending); n > 0 {
			s.stopTask(keepPending[n-1], "Scaling activity initiated by (deployment)")
			keepPending = keepPending[:n-1]
			continue
		}
		free := s.unprotected(keepRunning, held)
		if len(free) == 0 {
			s.logEvent(svc, fmt.Sprintf("(service %s) has more protected tasks than its desired count %d: the scale-in waits for their protection to end.", svc.Name, desired))
			unfinished = true
			break
		}
		victim := s.c.PickToStop(svc, free, s.stopRule, s.rng.IntN)
		s.stopTask(victim, "Scaling activity initiated by (deployment)")
		keepRunning = without(keepRunning, victim)
	}

	// Stop old tasks while the service keeps its minimum healthy count; protected ones
	// stay until their protection ends.
	healthy := len(keepRunning) + len(oldRunning)
	stoppable := s.unprotected(oldRunning, func(t *cluster.Task) bool { return !s.isOnDraining(t) && held(t) })
	heldOld := len(oldRunning) - len(stoppable)
	if healthy-minHealthy >= len(stoppable) {
		// Every old task may stop (the usual second wave of a 100 %/200 % rollout):
		// which goes first changes nothing, and choosing one at a time is quadratic in
		// the service's size.
		for _, t := range stoppable {
			s.stopTask(t, stopReason(s.c, t))
		}
		stoppable = nil
	}
	for canStop := healthy - minHealthy; canStop > 0 && len(stoppable) > 0; canStop-- {
		victim := s.c.PickToStop(svc, stoppable, s.stopRule, s.rng.IntN)
		s.stopTask(victim, stopReason(s.c, victim))
		stoppable = without(stoppable, victim)
	}
	oldLeft := len(stoppable) + heldOld

	// Start replacements up to the maximum.
	need := desired - len(keepRunning) - len(keepPending)
	room := maxTotal - (len(keepRunning) + len(keepPending) + oldLeft + surging)
	started := 0
	var placer *cluster.Placer // the wave's tasks one after another, reading the instances once
	for ; started < min(need, room); started++ {
		if svc.OnFargate() {
			if s.startTaskOn(svc, nil) == nil {
				break
			}
			continue
		}
		if placer == nil {
			var err error
			if placer, err = s.c.NewPlacer(svc, svc.TaskSize); err != nil {
				s.logEvent(svc, err.Error())
				break
			}
		}
		if !s.startTaskAt(svc, placer) {
			break
		}
	}
	return unfinished || oldLeft > 0 || started < need, protectedUntil
}

// unprotected returns the tasks of ts that held does not keep, ts itself when it keeps
// none (the common case: no copy).
func (s *Sim) unprotected(ts []*cluster.Task, held func(*cluster.Task) bool) []*cluster.Task {
	for k, t := range ts {
		if held(t) {
			out := slices.Clone(ts[:k])
			for _, u := range ts[k+1:] {
				if !held(u) {
					out = append(out, u)
				}
			}
			return out
		}
	}
	return ts
}

func (s *Sim) isOnDraining(t *cluster.Task) bool {
	i := s.c.Instance(t.InstanceARN)
	return i != nil && i.Status == cluster.StatusDraining
}

func stopReason(c *cluster.Cluster, t *cluster.Task) string {
	if i := c.Instance(t.InstanceARN); i != nil && i.Status == cluster.StatusDraining {
		return "Service " + t.ServiceName() + ": container instance is in DRAINING state"
	}
	return "Deployment replaced the task"
}

// daemonStep keeps one task of a DAEMON service on every ACTIVE, connected instance
// that satisfies its constraints and has room. On a DRAINING instance the daemon task
// is the last to stop: it stops once the instance's other service tasks are gone. A new
// deployment replaces each daemon task in place (ECS's daemon defaults, min 0 % and max
// 100 %, stop it before starting the new one). It reports whether work is left.
func (s *Sim) daemonStep(svc *cluster.Service) bool {
	byInstance := map[string][]*cluster.Task{}
	for _, t := range svc.Tasks() {
		byInstance[t.InstanceARN] = append(byInstance[t.InstanceARN], t)
	}
	eligible, err := s.c.Hosts(svc)
	if err != nil {
		s.logEvent(svc, err.Error())
		return false
	}
	isEligible := map[*cluster.Instance]bool{}
	for _, i := range eligible {
		isEligible[i] = true
	}
	unfinished := false
	for _, i := range s.c.Instances() {
		tasks := byInstance[i.ARN]
		switch {
		case i.Status == cluster.StatusDraining:
			if len(tasks) > 0 && otherServiceTasks(s.c, i, svc) > 0 {
				unfinished = true // waits for the replica tasks to leave
				continue
			}
			for _, t := range tasks {
				s.stopTask(t, "Container instance is in DRAINING state")
			}
			continue
		case i.Status != cluster.StatusActive:
			for _, t := range tasks {
				s.stopTask(t, "Container instance is not ACTIVE")
			}
			continue
		case !isEligible[i]:
			continue
		}
		current := 0
		for _, t := range tasks {
			if s.isOld(svc, t) {
				s.stopTask(t, "Deployment replaced the task")
				continue
			}
			current++
		}
		if current == 0 {
			if s.startTaskOn(svc, i) == nil {
				unfinished = true
			}
		}
	}
	if n := int32(len(eligible)); svc.DesiredCount != n {
		s.c.ChangingService(svc)
		svc.DesiredCount = n
	}
	return unfinished
}

// otherServiceTasks counts live tasks of other services on the instance.
func otherServiceTasks(c *cluster.Cluster, i *cluster.Instance, except *cluster.Service) int {
	n := 0
	for _, t := range i.Tasks() {
		if name := t.ServiceName(); name != "" && name != except.Name {
			if svc := c.Service(name); svc != nil && !svc.IsDaemon() {
				n++
			}
		}
	}
	return n
}

// startTaskAt places one task of svc with p and starts it; false when nothing can take
// it.
func (s *Sim) startTaskAt(svc *cluster.Service, p *cluster.Placer) bool {
	i, err := p.Next(s.rng.IntN)
	if err != nil {
		s.logEvent(svc, err.Error())
		return false
	}
	if i == nil {
		s.logEvent(svc, fmt.Sprintf("(service %s) was unable to place a task because no container instance met all of its requirements.", svc.Name))
		return false
	}
	return s.startTaskOn(svc, i) != nil
}

// startTaskOn starts a PENDING task of svc on i (nil: Fargate) and returns it, nil when
// it cannot start. It checks that the task fits, which daemon placement needs.
func (s *Sim) startTaskOn(svc *cluster.Service, i *cluster.Instance) *cluster.Task {
	t := &cluster.Task{
		ARN:           fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%s", s.c.Region, s.c.Account, s.c.Name, s.hex(32)),
		ClusterARN:    s.c.ARN,
		Group:         cluster.ServiceGroup(svc.Name),
		LastStatus:    cluster.TaskPending,
		DesiredStatus: cluster.TaskRunning,
		Size:          svc.TaskSize,
		HostPorts:     svc.HostPorts,
		LaunchType:    svc.LaunchType,
		CreatedAt:     s.now,
		Version:       1,
	}
	t.TaskDefinitionARN = svc.TaskDefinition
	if p := svc.Primary(); p != nil {
		t.StartedBy = p.ID
		if p.TaskDefinition != "" {
			t.TaskDefinitionARN = p.TaskDefinition
		}
	}
	if i != nil {
		if !i.Remaining.Fits(t.Size) || !i.PortsFree(t.HostPorts) {
			return nil
		}
		t.InstanceARN = i.ARN
		t.AvailabilityZone = i.Zone
		t.CapacityProviderName = i.CapacityProviderName
		if t.LaunchType == "" && t.CapacityProviderName == "" {
			t.LaunchType = cluster.LaunchEC2
		}
	}
	if err := s.c.StartTask(t); err != nil {
		s.logEvent(svc, err.Error())
		return nil
	}
	s.readyAt[t] = s.now.Add(s.startOf(svc))
	s.stats.TasksStarted++
	return t
}

// stopTask stops t as the scheduler and StopTask do: gracefully. A task that was
// RUNNING keeps its CPU, memory, ENI and host ports on its instance for its service's Hold (the target
// group's deregistration delay, then the stop timeout); a PENDING one frees them at
// once.
func (s *Sim) stopTask(t *cluster.Task, reason string) {
	var hold time.Duration
	if t.LastStatus == cluster.TaskRunning {
		if svc := s.c.ServiceOf(t); svc != nil {
			hold = s.timingOf(svc).Hold()
		} else {
			hold = cluster.DefaultStopTimeout
		}
	}
	s.stop(t, reason, hold)
}

// stopTaskNow stops t as a crash or a lost host does: its containers are gone, and so
// is what they held.
func (s *Sim) stopTaskNow(t *cluster.Task, reason string) { s.stop(t, reason, 0) }

func (s *Sim) stop(t *cluster.Task, reason string, keep time.Duration) {
	size, ports, inst := t.Size, t.HostPorts, s.c.Instance(t.InstanceARN)
	s.c.StopTask(t, s.now, reason)
	delete(s.readyAt, t)
	s.stats.TasksStopped++
	if keep > 0 && inst != nil && (size != (cluster.Resources{}) || len(ports) > 0) {
		s.c.HoldResources(inst, size, ports)
		s.addHold(hold{inst: inst, size: size, ports: ports, until: s.now.Add(keep)})
	}
	// Even a stop that frees nothing yet can unblock a stalled service: a daemon
	// waiting for the replicas to leave a draining instance.
	s.wakeStalled()
	if keep == 0 && inst != nil {
		s.wakeZoneWaiters(inst.Zone)
	}
}

// wakeStalled gives every stalled service another look now: something changed that may
// unblock it (capacity freed, an instance came back). They wake in ARN order, not the
// map's: the first to step takes the freed room, and a run must be repeatable.
func (s *Sim) wakeStalled() {
	if len(s.stalled) == 0 {
		return
	}
	woken := make([]*cluster.Service, 0, len(s.stalled))
	for svc := range s.stalled {
		woken = append(woken, svc)
	}
	slices.SortFunc(woken, func(a, b *cluster.Service) int { return strings.Compare(a.ARN, b.ARN) })
	for _, svc := range woken {
		delete(s.stalled, svc)
		s.schedule(svc, s.now)
	}
}

// instanceChanged reacts to an instance joining or changing state: its services and
// every daemon service look again, and stalled services may now fit.
func (s *Sim) instanceChanged(i *cluster.Instance) {
	s.c.ChangingInstance(i)
	i.Version++
	for _, t := range i.Tasks() {
		if svc := s.c.ServiceOf(t); svc != nil {
			s.schedule(svc, s.now)
		}
	}
	for _, svc := range s.c.Services() {
		if svc.IsDaemon() {
			s.schedule(svc, s.now)
		}
	}
	s.zonesChanged(i)
	s.wakeStalled()
}

// refreshDeployments recounts each deployment's tasks, drops deployments with none
// left, and completes the primary once it alone runs the desired count.
func (s *Sim) refreshDeployments(svc *cluster.Service) {
	p := svc.Primary()
	if p == nil {
		return
	}
	running, pending := map[string]int32{}, map[string]int32{}
	for t := range svc.EachTask() { // counts: order does not matter
		id := t.StartedBy
		if !hasDeployment(svc, id) {
			id = p.ID
		}
		if t.LastStatus == cluster.TaskRunning {
			running[id]++
		} else {
			pending[id]++
		}
	}
	// Most steps of a settled service change nothing here; the cluster's journal saves
	// the service only when something does.
	changed, left := p.DesiredCount != svc.DesiredCount, 0
	for _, d := range svc.Deployments {
		changed = changed || d.RunningCount != running[d.ID] || d.PendingCount != pending[d.ID]
		if d == p || running[d.ID]+pending[d.ID] > 0 {
			left++
		}
	}
	done := p.RolloutState == cluster.RolloutInProgress && left == 1 && running[p.ID] == svc.DesiredCount && pending[p.ID] == 0
	if !changed && !done && left == len(svc.Deployments) {
		return
	}
	s.c.ChangingService(svc)
	kept := svc.Deployments[:0]
	for _, d := range svc.Deployments {
		d.RunningCount, d.PendingCount = running[d.ID], pending[d.ID]
		if d == p || d.RunningCount+d.PendingCount > 0 {
			kept = append(kept, d)
		}
	}
	svc.Deployments = kept
	p.DesiredCount = svc.DesiredCount
	if done {
		p.RolloutState = cluster.RolloutCompleted
		p.RolloutStateReason = "ECS deployment " + p.ID + " completed."
		p.UpdatedAt = s.now
		s.logEvent(svc, "(service "+svc.Name+") has reached a steady state.")
	}
}

func hasDeployment(svc *cluster.Service, id string) bool {
	for _, d := range svc.Deployments {
		if d.ID == id {
			return true
		}
	}
	return false
}

func (s *Sim) isBelowMinHealthy(svc *cluster.Service) bool {
	if svc.IsDaemon() || svc.DesiredCount == 0 {
		return false
	}
	minHealthy, _ := svc.HealthyBounds()
	if from, ok := s.raisedFrom[svc]; ok {
		minHealthy = (int(from)*int(svc.MinimumHealthyPercent) + 99) / 100
	}
	return svc.RunningCount() < minHealthy
}

// checkBelowMinHealthy counts a service falling below its minimum healthy count (not
// staying below it).
func (s *Sim) checkBelowMinHealthy(svc *cluster.Service) {
	if _, ok := s.raisedFrom[svc]; ok && svc.RunningCount() >= int(svc.DesiredCount) {
		delete(s.raisedFrom, svc) // the raise is done
	}
	switch below := s.isBelowMinHealthy(svc); {
	case below && !s.below[svc]:
		s.stats.BelowMinHealthy++
		s.logEvent(svc, "fell below its minimum healthy percent")
		s.below[svc] = true
	case !below:
		delete(s.below, svc) // it holds the services below only: a checkpoint copies it
	}
}

// steady reports a REPLICA service a step would not change: one deployment, done,
// running its desired count, nothing PENDING and nothing on a DRAINING instance. A
// new simulator gives every other service a first look; at ECS's maximums nearly
// every service is steady, and stepping them all is most of a short run.
func steady(svc *cluster.Service) bool {
	if svc.IsDaemon() || svc.Status != cluster.ServiceActive || svc.PendingCount() > 0 ||
		svc.RunningCount() != int(svc.DesiredCount) || len(svc.Deployments) > 1 {
		return false
	}
	if p := svc.Primary(); p != nil && (p.RolloutState == cluster.RolloutInProgress ||
		int(p.RunningCount) != svc.RunningCount() || p.PendingCount != 0 || p.DesiredCount != svc.DesiredCount) {
		return false
	}
	for i := range svc.OnInstances() {
		if i.Status == cluster.StatusDraining {
			return false
		}
	}
	return true
}

// newDeployment makes a new PRIMARY deployment of svc, as UpdateService does.
func (s *Sim) newDeployment(svc *cluster.Service, taskDefinition string) *cluster.Deployment {
	s.c.ChangingService(svc)
	for _, d := range svc.Deployments {
		d.Status = cluster.DeploymentActive
	}
	d := &cluster.Deployment{
		ID:             "ecs-svc/" + s.digits(19),
		Status:         cluster.DeploymentPrimary,
		TaskDefinition: taskDefinition,
		DesiredCount:   svc.DesiredCount,
		RolloutState:   cluster.RolloutInProgress,
		LaunchType:     svc.LaunchType,
		CreatedAt:      s.now,
		UpdatedAt:      s.now,
	}
	svc.Deployments = append([]*cluster.Deployment{d}, svc.Deployments...)
	svc.TaskDefinition = taskDefinition
	s.logEvent(svc, "(service "+svc.Name+") has started a new deployment "+d.ID+".")
	s.schedule(svc, s.now)
	return d
}

func without(ts []*cluster.Task, t *cluster.Task) []*cluster.Task {
	for k := range ts {
		if ts[k] == t {
			return append(ts[:k], ts[k+1:]...)
		}
	}
	return ts
}

func (s *Sim) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for k := range b {
		b[k] = digits[s.rng.IntN(16)]
	}
	return string(b)
}

func (s *Sim) digits(n int) string {
	b := make([]byte, n)
	for k := range b {
		b[k] = byte('0' + s.rng.IntN(10))
	}
	return string(b)
}
