package sim

import (
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
)

// Task timing: a started task counts after its service's start time, and a stopped
// one keeps its CPU and memory on its instance for its service's hold (cluster.TaskTiming).

// timingOf is svc's task timing. New estimates every service's from its tasks as
// they are before anything runs, with the options' override; the map is never
// written again, so a checkpoint need not copy it. The simulator adds no service, but
// one it did not know would be estimated as it is now rather than played with no time.
func (s *Sim) timingOf(svc *cluster.Service) cluster.TaskTiming {
	if t, ok := s.timing[svc]; ok {
		return t
	}
	return s.estimateTiming(svc)
}

// estimateTiming is svc's timing as New fixes it.
func (s *Sim) estimateTiming(svc *cluster.Service) cluster.TaskTiming {
	t := cluster.EstimateTiming(svc, s.taskStart)
	if o, ok := s.overrides[svc.Name]; ok {
		t = o.Apply(t)
	}
	return t
}

// startOf is how long a new task of svc (nil: a standalone task) stays PENDING: until
// it counts for its deployment.
func (s *Sim) startOf(svc *cluster.Service) time.Duration {
	if svc == nil {
		return s.taskStart
	}
	return s.timingOf(svc).Ready()
}

// startedAt is the startedAt a task of svc that counts from now shows: when it went
// RUNNING, before its health check passed, as ECS reports it. So an estimate read from
// the simulator's own tasks does not count the health check twice.
func (s *Sim) startedAt(svc *cluster.Service, t *cluster.Task) time.Time {
	if svc == nil {
		return s.now
	}
	at := s.now.Add(-s.timingOf(svc).Healthy)
	if at.Before(t.CreatedAt) {
		return t.CreatedAt
	}
	return at
}

// Timing returns the task timing the simulator plays for each service, by name.
func (s *Sim) Timing() map[string]cluster.TaskTiming {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]cluster.TaskTiming, len(s.timing))
	for svc, t := range s.timing {
		out[svc.Name] = t
	}
	return out
}

// hold is what a stopped task keeps on its instance until a time.
type hold struct {
	inst  *cluster.Instance
	size  cluster.Resources
	ports []cluster.HostPort
	until time.Time
}

// addHold keeps s.holds ordered by release time, equal times in the order they came.
func (s *Sim) addHold(h hold) {
	k := len(s.holds)
	for k > 0 && s.holds[k-1].until.After(h.until) {
		k--
	}
	s.holds = append(s.holds, hold{})
	copy(s.holds[k+1:], s.holds[k:])
	s.holds[k] = h
}

// releaseDue frees the holds whose time has come (at or before now) and wakes the
// services stalled for room.
func (s *Sim) releaseDue() {
	n := 0
	for n < len(s.holds) && !s.holds[n].until.After(s.now) {
		h := &s.holds[n]
		s.c.ReleaseResources(h.inst, h.size, h.ports)
		s.wakeZoneWaiters(h.inst.Zone)
		n++
	}
	if n == 0 {
		return
	}
	s.holds = s.holds[n:]
	s.wakeStalled()
}

// nextEvent is the time of the next scheduled step or release.
func (s *Sim) nextEvent() (time.Time, bool) {
	at, ok := s.queue.peek(s.next)
	if len(s.holds) > 0 && (!ok || s.holds[0].until.Before(at)) {
		return s.holds[0].until, true
	}
	return at, ok
}
