package cluster

import (
	"fmt"
	"slices"
	"strings"
)

// Placement strategy types.
const (
	StrategySpread  = "spread"
	StrategyBinpack = "binpack"
	StrategyRandom  = "random"

	FieldInstanceID = "instanceId"
	FieldHost       = "host"
	FieldZone       = "attribute:" + ZoneAttribute
)

// defaultPlacement is what ECS applies to service tasks with no placement strategy:
// balance across availability zones, then favour the instances with the fewest tasks of
// the service (ECS Developer Guide, "How Amazon ECS places tasks").
var defaultPlacement = []PlacementStrategy{
	{Type: StrategySpread, Field: FieldZone},
	{Type: StrategySpread, Field: FieldInstanceID},
}

// EffectivePlacement returns the service's placement strategy, or ECS's default. The
// slice is shared: read it, do not change it (placement calls this for every task).
func (s *Service) EffectivePlacement() []PlacementStrategy {
	if len(s.PlacementStrategy) == 0 {
		return defaultPlacement
	}
	return s.PlacementStrategy
}

func checkStrategy(ps PlacementStrategy) error {
	switch ps.Type {
	case StrategySpread:
		if ps.Field == FieldInstanceID || ps.Field == FieldHost || strings.HasPrefix(ps.Field, "attribute:") {
			return nil
		}
		return fmt.Errorf("spread placement on unsupported field %q", ps.Field)
	case StrategyBinpack:
		if f := strings.ToLower(ps.Field); f == "cpu" || f == "memory" {
			return nil
		}
		return fmt.Errorf("binpack placement on unsupported field %q", ps.Field)
	case StrategyRandom:
		return nil
	}
	return fmt.Errorf("unknown placement strategy type %q", ps.Type)
}

// spreadKey is the value an instance is grouped by for spread(field).
func spreadKey(i *Instance, field string) string {
	switch field {
	case FieldInstanceID, FieldHost:
		return i.ARN
	case FieldZone:
		return i.Zone
	}
	v, _ := i.Attribute(strings.TrimPrefix(field, "attribute:"))
	return v
}

func binpackValue(i *Instance, field string) int64 {
	if strings.EqualFold(field, "cpu") {
		return i.Remaining.CPU
	}
	return i.Remaining.Memory
}

// Candidates returns the instances a new task of s that reserves size may be placed on:
// ACTIVE and agent-connected, with the resources left, in the service's capacity
// providers when it uses a capacity provider strategy, and satisfying its placement
// constraints (which are binding, unlike strategies).
func (c *Cluster) Candidates(s *Service, size Resources) ([]*Instance, error) {
	return c.hosts(nil, s, size, true)
}

// Hosts returns the instances that could run the service's tasks at all: schedulable,
// in its capacity providers, meeting its memberOf constraints. Resources and
// distinctInstance are left out: they depend on what runs there now.
func (c *Cluster) Hosts(s *Service) ([]*Instance, error) {
	return c.hosts(nil, s, Resources{}, false)
}

// hosts appends the instances that may host a task of s to out.
func (c *Cluster) hosts(out []*Instance, s *Service, size Resources, distinct bool) ([]*Instance, error) {
	cons := make([]constraint, 0, len(s.PlacementConstraints))
	for _, pc := range s.PlacementConstraints {
		k, err := parseConstraint(pc)
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", s.Name, err)
		}
		if k.distinct && !distinct {
			continue
		}
		cons = append(cons, k)
	}
	var providers []string
	for _, it := range s.CapacityProviderStrategy {
		providers = append(providers, it.Provider)
	}
	for _, i := range c.instances {
		if !i.Schedulable() || !i.Remaining.Fits(size) || (distinct && !i.PortsFree(s.HostPorts)) {
			continue
		}
		if len(providers) > 0 && !slices.Contains(providers, i.CapacityProviderName) {
			continue
		}
		if satisfies(i, s, cons) {
			out = append(out, i)
		}
	}
	return out, nil
}

func satisfies(i *Instance, s *Service, cons []constraint) bool {
	for _, k := range cons {
		if k.distinct {
			for t := range i.tasks {
				if t.ServiceName() == s.Name {
					return false
				}
			}
		} else if !k.member(i) {
			return false
		}
	}
	return true
}

// Place chooses the instance for one new task of s that reserves size, applying the
// service's placement strategies in order as ECS does (each narrows the candidates the
// previous one left): spread counts the service's live tasks per value of its field,
// binpack prefers the least remaining cpu or memory, random picks with rnd. ECS does
// not document how it breaks the ties left at the end; rnd breaks them (an order-based
// rule would keep favouring the oldest instances, where load piles up). rnd(n) returns
// a number in [0, n). It returns nil when no instance can take the task.
func (c *Cluster) Place(s *Service, size Resources, rnd func(n int) int) (*Instance, error) {
	return c.PlaceInZone(s, size, "", rnd)
}

// PlaceInZone is Place among the instances in zone only (all of them for ""), as ECS's
// zone rebalancing places a task in the zone that has the fewest.
func (c *Cluster) PlaceInZone(s *Service, size Resources, zone string, rnd func(n int) int) (*Instance, error) {
	// A prediction places thousands of tasks among up to 5,000 instances: the candidate
	// list is narrowed in place in a buffer the cluster keeps for it.
	cands, err := c.hosts(c.placing[:0], s, size, true)
	c.placing = cands
	if err != nil {
		return nil, err
	}
	if zone != "" {
		cands = slices.DeleteFunc(cands, func(i *Instance) bool { return i.Zone != zone })
	}
	if len(cands) == 0 {
		return nil, nil
	}
	for _, ps := range s.EffectivePlacement() {
		if len(cands) == 1 {
			break
		}
		switch ps.Type {
		case StrategySpread:
			cands = keepMin(cands, c.spreadCount(s, ps.Field))
		case StrategyBinpack:
			cands = keepMin(cands, func(i *Instance) int64 { return binpackValue(i, ps.Field) })
		case StrategyRandom:
			return cands[rnd(len(cands))], nil
		}
	}
	return cands[rnd(len(cands))], nil
}

// keepMin keeps the candidates with the least score, in order, in cands' own array
// (one pass: out never overtakes the candidate being read).
func keepMin[T any](cands []T, score func(T) int64) []T {
	out := cands[:0]
	var best int64
	for _, i := range cands {
		switch v := score(i); {
		case len(out) == 0 || v < best:
			best, out = v, append(out[:0], i)
		case v == best:
			out = append(out, i)
		}
	}
	return out
}

// StopRule is a reading of which task ECS stops within an availability zone when a
// spread service removes one (a lowered desired count, the end of a rollout). ECS's
// documents disagree: the UpdateService API reference says the instance with the most
// of the service's tasks, the placement strategy guide says a task at random. Neither
// is known to hold, so worlds and prediction samples each take one.
type StopRule int

// The readings.
const (
	// StopOnBusiestInstance: the zone with the most of the service's tasks, then the
	// instance with the most of them (UpdateService API reference).
	StopOnBusiestInstance StopRule = iota
	// StopAtRandomInZone: the zone with the most of the service's tasks, then any of its
	// tasks there (placement strategy guide).
	StopAtRandomInZone
)

// StopRules lists every reading, for worlds and samples to take one each.
func StopRules() []StopRule { return []StopRule{StopOnBusiestInstance, StopAtRandomInZone} }

func (r StopRule) String() string {
	if r == StopAtRandomInZone {
		return "random-in-zone"
	}
	return "busiest-instance"
}

// PickToStop chooses which of the service's tasks in from ECS stops first when it
// removes one: for spread (and default) placement, a task in the zone with the most of
// the service's tasks, then, per rule, on the instance with the most of them or any;
// for binpack-first services, a task on the instance with the most of that resource
// left. rnd breaks the remaining ties. from must not be empty.
func (c *Cluster) PickToStop(s *Service, from []*Task, rule StopRule, rnd func(n int) int) *Task {
	if len(from) == 1 {
		return from[0]
	}
	strategy := s.EffectivePlacement()
	if strategy[0].Type == StrategyBinpack {
		field := strategy[0].Field
		return maxTask(from, rnd, func(t *Task) [2]int64 {
			if i := c.instIndex[t.InstanceARN]; i != nil {
				return [2]int64{binpackValue(i, field), 0}
			}
			return [2]int64{}
		})
	}
	return maxTask(from, rnd, func(t *Task) [2]int64 {
		if rule == StopAtRandomInZone {
			return [2]int64{int64(s.inZone[t.zone]), 0}
		}
		return [2]int64{int64(s.inZone[t.zone]), int64(s.onInstance[t.inst])}
	})
}

// spreadCount scores an instance for spread(field): the service's live tasks on the
// instances sharing its value of field. Zones and instances come from the counts the
// service keeps; any other attribute is counted from the per-instance counts.
func (c *Cluster) spreadCount(s *Service, field string) func(*Instance) int64 {
	switch field {
	case FieldInstanceID, FieldHost:
		counts := c.denseCounts(s)
		return func(i *Instance) int64 { return int64(counts[i.pos]) }
	case FieldZone:
		// A handful of zones, one lookup each, instead of hashing a zone per instance.
		var zones []string
		var counts []int64
		return func(i *Instance) int64 {
			for k, z := range zones {
				if z == i.Zone {
					return counts[k]
				}
			}
			n := int64(s.inZone[i.Zone])
			zones, counts = append(zones, i.Zone), append(counts, n)
			return n
		}
	}
	counts := map[string]int{}
	for i, n := range s.onInstance {
		counts[spreadKey(i, field)] += n
	}
	return func(i *Instance) int64 { return int64(counts[spreadKey(i, field)]) }
}

// denseCounts returns the service's live tasks per instance position, kept up to date
// by link until another service asks.
func (c *Cluster) denseCounts(s *Service) []int32 {
	if c.denseFor != s {
		if len(c.dense) < len(c.instances) {
			c.dense = make([]int32, len(c.instances))
		}
		clear(c.dense)
		for i, n := range s.onInstance {
			c.dense[i.pos] = int32(n)
		}
		c.denseFor = s
	}
	return c.dense
}

// maxTask returns a task with the highest score, rnd choosing among equals.
func maxTask(from []*Task, rnd func(int) int, score func(*Task) [2]int64) *Task {
	var best []*Task
	var bestScore [2]int64
	for _, t := range from {
		switch sc := score(t); {
		case best == nil || sc[0] > bestScore[0] || (sc[0] == bestScore[0] && sc[1] > bestScore[1]):
			best, bestScore = []*Task{t}, sc
		case sc == bestScore:
			best = append(best, t)
		}
	}
	return best[rnd(len(best))]
}
