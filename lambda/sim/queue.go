package sim

import (
	"container/heap"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
)

// stepQueue orders the services' scheduled steps by time, then daemons first, then by
// when they were scheduled, so the simulation is deterministic. Rescheduling a service earlier leaves
// a stale entry behind; entries that no longer match next[svc] are skipped.
type stepQueue struct {
	items []step
	seq   uint64
}

type step struct {
	at  time.Time
	seq uint64
	svc *cluster.Service
}

func (q *stepQueue) Len() int { return len(q.items) }
func (q *stepQueue) Less(i, j int) bool {
	a, b := q.items[i], q.items[j]
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	// "The daemon task is the first task to launch on the instances": at the same
	// instant, daemon services place before the others.
	if da, db := a.svc.IsDaemon(), b.svc.IsDaemon(); da != db {
		return da
	}
	return a.seq < b.seq
}
func (q *stepQueue) Swap(i, j int) { q.items[i], q.items[j] = q.items[j], q.items[i] }
func (q *stepQueue) Push(x any)    { q.items = append(q.items, x.(step)) }
func (q *stepQueue) Pop() any {
	last := q.items[len(q.items)-1]
	q.items = q.items[:len(q.items)-1]
	return last
}

func (q *stepQueue) push(at time.Time, svc *cluster.Service) {
	q.seq++
	heap.Push(q, step{at: at, seq: q.seq, svc: svc})
}

// peek drops stale entries and returns the time of the next live one.
func (q *stepQueue) peek(next map[*cluster.Service]time.Time) (time.Time, bool) {
	for len(q.items) > 0 {
		top := q.items[0]
		if at, ok := next[top.svc]; ok && at.Equal(top.at) {
			return top.at, true
		}
		heap.Pop(q)
	}
	return time.Time{}, false
}

// schedule asks for a step of svc at time at (or keeps an earlier one).
func (s *Sim) schedule(svc *cluster.Service, at time.Time) {
	if seq, ok := s.firstLook[svc]; ok {
		if _, queued := s.next[svc]; !queued {
			s.next[svc] = s.start
			heap.Push(&s.queue, step{at: s.start, seq: seq, svc: svc})
		}
	}
	if cur, ok := s.next[svc]; ok && !cur.After(at) {
		return
	}
	s.next[svc] = at
	s.queue.push(at, svc)
}

// advanceTo runs every step and release due up to target, in order, then sets the
// clock there. Releases at an instant come before that instant's steps, so a step sees
// the room freed.
func (s *Sim) advanceTo(target time.Time) {
	// The first looks New left out are due now, and would change nothing.
	s.firstLook = nil
	for {
		at, ok := s.nextEvent()
		if !ok || at.After(target) {
			break
		}
		if at.After(s.now) {
			s.now = at
			s.fireDeadlines()
		}
		if len(s.holds) > 0 && !s.holds[0].until.After(s.now) {
			s.releaseDue()
			continue
		}
		top := heap.Pop(&s.queue).(step)
		delete(s.next, top.svc)
		s.step(top.svc)
	}
	if target.After(s.now) {
		s.now = target
	}
	s.fireDeadlines()
}
