package cluster

import (
	"fmt"
	"slices"
	"strings"
)

// Placer places a wave of one service's tasks, one after another, exactly as Place
// would if called for each: it reads the instances once, into a compact list, and
// updates that list for each task it places. Placing a thousand-task wave among two
// thousand instances with Place reads every instance for every task.
//
// It assumes each instance Next returns gets the task (StartTask) before the next
// call, and that nothing else changes the cluster meanwhile: a scheduler wave.
type Placer struct {
	c        *Cluster
	s        *Service
	size     Resources
	fallback bool // memberOf constraints can read what placing changes: Place each time
	distinct bool
	strategy []PlacementStrategy
	cands    []candidate
	keys     [][]int // per strategy: the service's tasks per key (spread over an attribute)
	pick     []int   // scratch: indexes into cands
}

type candidate struct {
	inst  *Instance
	rem   Resources
	count int                  // the service's live tasks on it
	key   [maxStrategies]int32 // per strategy: its key's index in keys (spread over an attribute)
}

// maxStrategies is ECS's limit of placement strategy rules per service.
const maxStrategies = 5

// NewPlacer prepares the placement of tasks of s that reserve size each. The cluster
// holds one Placer's list at a time: a new Placer ends the one before.
func (c *Cluster) NewPlacer(s *Service, size Resources) (*Placer, error) {
	p := &Placer{c: c, s: s, size: size, strategy: s.EffectivePlacement()}
	for _, pc := range s.PlacementConstraints {
		k, err := parseConstraint(pc)
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", s.Name, err) // as Place says it
		}
		if k.distinct {
			p.distinct = true
		} else {
			p.fallback = true
		}
	}
	// Its tasks all bind the same static host ports: one per instance, as if
	// distinctInstance, and only where no other task binds them.
	p.distinct = p.distinct || len(s.HostPorts) > 0
	if p.fallback || len(p.strategy) > maxStrategies {
		p.fallback = true
		return p, nil
	}
	var providers []string
	for _, it := range s.CapacityProviderStrategy {
		providers = append(providers, it.Provider)
	}
	counts := c.denseCounts(s)
	// The cluster keeps the list between waves: one wave at a time.
	p.cands = c.candidates[:0]
	defer func() { c.candidates = p.cands }()
	for _, i := range c.instances {
		if !i.Schedulable() || (len(providers) > 0 && !slices.Contains(providers, i.CapacityProviderName)) || !i.PortsFree(s.HostPorts) {
			continue
		}
		p.cands = append(p.cands, candidate{inst: i, rem: i.Remaining, count: int(counts[i.pos])})
	}
	p.keys = make([][]int, len(p.strategy))
	for k, ps := range p.strategy {
		if ps.Type != StrategySpread || ps.Field == FieldInstanceID || ps.Field == FieldHost {
			continue
		}
		var byKey map[string]int
		if ps.Field != FieldZone {
			byKey = map[string]int{}
			for i, n := range s.onInstance {
				byKey[spreadKey(i, ps.Field)] += n
			}
		}
		index := map[string]int{}
		for n := range p.cands {
			key := spreadKey(p.cands[n].inst, ps.Field)
			at, ok := index[key]
			if !ok {
				at = len(p.keys[k])
				index[key] = at
				if ps.Field == FieldZone {
					p.keys[k] = append(p.keys[k], s.inZone[key])
				} else {
					p.keys[k] = append(p.keys[k], byKey[key])
				}
			}
			p.cands[n].key[k] = int32(at)
		}
	}
	return p, nil
}

// Next chooses the instance for the next task, as Place does, and counts the task on
// it; nil when no instance can take it.
func (p *Placer) Next(rnd func(n int) int) (*Instance, error) {
	if p.fallback {
		return p.c.Place(p.s, p.size, rnd)
	}
	pick := p.pick[:0]
	for n := range p.cands {
		if e := &p.cands[n]; e.rem.Fits(p.size) && (!p.distinct || e.count == 0) {
			pick = append(pick, n)
		}
	}
	p.pick = pick
	if len(pick) == 0 {
		return nil, nil
	}
	chosen := -1
	for k, ps := range p.strategy {
		if len(pick) == 1 {
			break
		}
		switch ps.Type {
		case StrategySpread:
			pick = keepMin(pick, func(n int) int64 {
				e := &p.cands[n]
				if ps.Field == FieldInstanceID || ps.Field == FieldHost {
					return int64(e.count)
				}
				return int64(p.keys[k][e.key[k]])
			})
		case StrategyBinpack:
			cpu := strings.EqualFold(ps.Field, "cpu")
			pick = keepMin(pick, func(n int) int64 {
				if cpu {
					return p.cands[n].rem.CPU
				}
				return p.cands[n].rem.Memory
			})
		case StrategyRandom:
			chosen = pick[rnd(len(pick))]
		}
		if chosen >= 0 {
			break
		}
	}
	if chosen < 0 {
		chosen = pick[rnd(len(pick))]
	}
	e := &p.cands[chosen]
	e.rem = e.rem.Sub(p.size)
	e.count++
	for k := range p.strategy {
		if p.keys[k] != nil {
			p.keys[k][e.key[k]]++
		}
	}
	return e.inst, nil
}
