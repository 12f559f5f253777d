package sim

import (
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
)

// Mark is a point of the simulation to come back to: the cluster, the clock, the
// random stream, the scheduler's queue and the counters. A prediction forks the
// simulated future this way instead of copying the cluster for every candidate:
// Checkpoint, run a candidate, measure, Rollback.
type Mark struct {
	cluster   cluster.Mark
	now       time.Time
	pcg       rand.PCG
	queue     stepQueue
	next      map[*cluster.Service]time.Time
	firstLook map[*cluster.Service]uint64
	stalled   map[*cluster.Service]bool
	readyAt   map[*cluster.Task]time.Time
	holds     []hold
	below     map[*cluster.Service]bool
	raised    map[*cluster.Service]int32
	deadlines []*deadlineCtx
	calls     int
	events    int
	counts    map[string]int
	stats     Stats
	faults    FaultFunc
	tags      []cluster.Tag
	zoneMoves map[*cluster.Service]*zoneMove
	zoneWait  map[*cluster.Service]string
	zones     []string
}

// Checkpoint marks the simulation's state for Rollback; checkpoints nest. Contexts made
// on the virtual clock before it do not expire until the rollback: what runs in
// between is a what-if, and whoever waits on them never sees it.
func (s *Sim) Checkpoint() Mark {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := Mark{
		cluster: s.c.Checkpoint(),
		now:     s.now,
		pcg:     *s.pcg,
		queue:   stepQueue{items: slices.Clone(s.queue.items), seq: s.queue.seq},
		next:    maps.Clone(s.next),
		// Never written, only dropped (advanceTo) or read.
		firstLook: s.firstLook,
		stalled:   maps.Clone(s.stalled),
		readyAt:   maps.Clone(s.readyAt),
		holds:     slices.Clone(s.holds),
		below:     maps.Clone(s.below),
		raised:    maps.Clone(s.raisedFrom),
		calls:     len(s.calls),
		events:    len(s.eventLog),
		counts:    maps.Clone(s.counts),
		stats:     s.stats,
		faults:    s.faults,
		tags:      s.clusterTags, // replaced, never edited in place

		deadlines: s.deadlines,
		zoneMoves: cloneMoves(s.zoneMoves),
		zoneWait:  maps.Clone(s.zoneWait),
		zones:     s.zones, // replaced, never edited in place
	}
	s.deadlines = nil
	return m
}

// Rollback returns the simulation to m, the latest checkpoint not rolled back yet.
// Contexts made since m never expire.
func (s *Sim) Rollback(m Mark) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c.Rollback(m.cluster)
	s.now = m.now
	*s.pcg = m.pcg
	s.queue = m.queue
	s.next, s.firstLook, s.stalled, s.readyAt, s.below, s.raisedFrom = m.next, m.firstLook, m.stalled, m.readyAt, m.below, m.raised
	s.holds = m.holds
	s.deadlines = m.deadlines
	clear(s.calls[m.calls:])
	s.calls = s.calls[:m.calls]
	s.eventLog = s.eventLog[:m.events]
	s.counts, s.stats, s.faults, s.clusterTags = m.counts, m.stats, m.faults, m.tags
	s.zoneMoves, s.zoneWait, s.zones = m.zoneMoves, m.zoneWait, m.zones
}

// cloneMoves copies the zone moves and what each points to: a move's task is set and
// cleared in place.
func cloneMoves(ms map[*cluster.Service]*zoneMove) map[*cluster.Service]*zoneMove {
	out := make(map[*cluster.Service]*zoneMove, len(ms))
	for svc, m := range ms {
		c := *m
		out[svc] = &c
	}
	return out
}
