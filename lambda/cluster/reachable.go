package cluster

import (
	"cmp"
	"container/heap"
	"slices"
)

// Reach is the reachable target of a cluster: the most even distribution the services'
// own placement rules allow, with the tasks the rebalancer may not move left where they
// are. Per-instance floor/ceil (MinMoves) ignores those rules: with every service spread
// across zones first and zones of different sizes, no placement ECS would make balances
// the instances, and chasing it only restarts tasks.
type Reach struct {
	// COVFloor is the COV of the target distribution: the lowest the rules allow (found
	// by a deterministic heuristic, not proven optimal).
	COVFloor float64
	// Moves is the distance: the task moves from the current distribution to the
	// target (each service's surplus over its target share, summed per instance).
	Moves int
	// Target is the running-task count of each ACTIVE, connected instance (by ARN) at
	// the target.
	Target map[string]int
	// Surplus is, per service with tasks out of place, how many of its tasks sit above
	// its share on their instance (its part of Moves).
	Surplus map[string]int
}

// refinePasses is how often every service's share is placed again once all the others
// are known: the first pass places each service seeing only the ones before it.
const refinePasses = 1

// Reachable computes the reachable target. movable reports the services whose tasks the
// rebalancer may move (the eligible ones); every other task (ineligible services,
// daemons, standalone tasks) stays where it is. Each movable service keeps the balance
// its placement strategy asks for: spread over a zone (or another attribute) first
// means floor/ceil of its tasks over the groups that can host it, then, when instance
// spread follows (ECS's default placement does), floor/ceil over each group's
// instances, else any split within the group; spread over instances first means
// floor/ceil over the instances that can host it. Among those, it looks for the one
// with the lowest cluster COV greedily: each service's extra tasks go to the least
// loaded groups and instances, ties to where the service already runs (fewer moves).
// Resources are not checked: the target is a bound, not a plan.
func (c *Cluster) Reachable(movable func(*Service) bool) Reach {
	var insts []*Instance
	pos := map[string]int{}
	for _, i := range c.instances {
		if i.Schedulable() {
			pos[i.ARN] = len(insts)
			insts = append(insts, i)
		}
	}
	load := make([]int, len(insts))
	for k, i := range insts {
		load[k] = i.RunningTasksCount()
	}
	shares := []*share{}
	groupCache := map[string]*grouping{}
	for _, s := range c.services {
		if s.IsDaemon() || !movable(s) {
			continue
		}
		sh := &share{name: s.Name, cur: map[int]int{}}
		for i, n := range s.onInstance {
			if k, ok := pos[i.ARN]; ok {
				sh.cur[k] = n
				sh.n += n
				load[k] -= n
			}
		}
		if sh.n == 0 {
			continue
		}
		sh.grouping, sh.inner = c.shareGroups(s, pos, groupCache)
		if sh.grouping == nil {
			// Nowhere it may go: it stays as it is.
			for k, n := range sh.cur {
				load[k] += n
			}
			continue
		}
		shares = append(shares, sh)
	}
	for k := range load {
		load[k] = max(load[k], 0)
	}
	// The groupings most services share get a level index (levels.go), kept up to date
	// with every change of load below.
	var indexed []*levels
	if indexLevels {
		for _, g := range groupCache {
			g.levels = newLevels(g.groups, len(insts), load)
			indexed = append(indexed, g.levels)
		}
	}
	addLoad := func(k, d int) {
		for _, x := range indexed {
			x.move(k, load[k], load[k]+d)
		}
		load[k] += d
	}
	// Larger services first: they have the least freedom left once smaller ones sit.
	slices.SortStableFunc(shares, func(a, b *share) int {
		return cmp.Or(b.n-a.n, cmp.Compare(a.name, b.name))
	})
	scratch := &placeScratch{at: make([]int, len(insts)), cur: make([]int, len(insts))}
	for pass := 0; pass <= refinePasses; pass++ {
		for _, sh := range shares {
			for k, n := range sh.at {
				addLoad(k, -n)
			}
			sh.at = sh.place(load, scratch)
			for k, n := range sh.at {
				addLoad(k, n)
			}
		}
	}
	r := Reach{COVFloor: COV(load), Target: make(map[string]int, len(insts))}
	for k, i := range insts {
		r.Target[i.ARN] = load[k]
	}
	for _, sh := range shares {
		surplus := 0
		for k, n := range sh.cur {
			surplus += max(0, n-sh.at[k])
		}
		if surplus > 0 {
			if r.Surplus == nil {
				r.Surplus = map[string]int{}
			}
			r.Surplus[sh.name] = surplus
			r.Moves += surplus
		}
	}
	return r
}

// share is one movable service's tasks: where they are and where the target puts them.
type share struct {
	name string
	n    int
	cur  map[int]int // instance position -> tasks now
	at   map[int]int // instance position -> tasks at the target
	*grouping
	inner bool // floor/ceil over each group's instances (else any split)
}

// grouping is the groups of instance positions a service balances over (one group: no
// grouping), shared by the services without constraints that group the same way.
type grouping struct {
	groups [][]int
	levels *levels // nil: not indexed
}

// indexLevels turns the level index on; the tests turn it off to check it changes no
// target.
var indexLevels = true

// shareGroups returns the groups of instance positions the service balances over, and
// whether it balances instances within each group; nil when no schedulable instance can
// host it.
func (c *Cluster) shareGroups(s *Service, pos map[string]int, cache map[string]*grouping) (*grouping, bool) {
	strategy := s.EffectivePlacement()
	field, inner := FieldInstanceID, true
	if first := strategy[0]; first.Type == StrategySpread && first.Field != FieldInstanceID && first.Field != FieldHost {
		field = first.Field
		inner = len(strategy) > 1 && strategy[1].Type == StrategySpread && (strategy[1].Field == FieldInstanceID || strategy[1].Field == FieldHost)
	} else if first.Type != StrategySpread {
		field, inner = "", false // any split over its hosts
	}
	unconstrained := len(s.PlacementConstraints) == 0 && len(s.CapacityProviderStrategy) == 0
	if g, ok := cache[field]; ok && unconstrained {
		return g, inner
	}
	hosts, err := c.Hosts(s)
	if err != nil || len(hosts) == 0 {
		return nil, false
	}
	var groups [][]int
	if field == FieldInstanceID || field == "" {
		one := make([]int, 0, len(hosts))
		for _, h := range hosts {
			one = append(one, pos[h.ARN])
		}
		groups = [][]int{one}
	} else {
		index := map[string]int{}
		for _, h := range hosts {
			key := spreadKey(h, field)
			g, ok := index[key]
			if !ok {
				g = len(groups)
				index[key] = g
				groups = append(groups, nil)
			}
			groups[g] = append(groups[g], pos[h.ARN])
		}
	}
	g := &grouping{groups: groups}
	if unconstrained {
		cache[field] = g
	}
	return g, inner
}

// placeScratch holds dense per-instance arrays that place fills and clears again, so
// its comparisons index slices instead of maps.
type placeScratch struct {
	at, cur []int
	touched []int
}

// place splits the share's tasks over its groups and instances given the load of
// everything else, and returns the tasks per instance position.
func (sh *share) place(load []int, sc *placeScratch) map[int]int {
	at, cur := sc.at, sc.cur
	for k, n := range sh.cur {
		cur[k] = n
	}
	sc.touched = sc.touched[:0]
	add := func(k, n int) {
		if at[k] == 0 {
			sc.touched = append(sc.touched, k)
		}
		at[k] += n
	}
	// better orders instance positions: less loaded first, then where more of the
	// service's tasks run now, then registration order.
	better := func(a, b int) int {
		return cmp.Or(cmp.Compare(load[a]+at[a], load[b]+at[b]), cur[b]-cur[a], a-b)
	}
	quotas := make([]int, len(sh.groups))
	if len(sh.groups) == 1 {
		quotas[0] = sh.n
	} else {
		base, extra := sh.n/len(sh.groups), sh.n%len(sh.groups)
		order := make([]int, len(sh.groups))
		score := make([]float64, len(sh.groups))
		held := make([]int, len(sh.groups))
		for g, members := range sh.groups {
			order[g] = g
			if sh.levels != nil {
				continue
			}
			sum := 0
			for _, k := range members {
				sum += load[k]
				held[g] += cur[k]
			}
			// The mean load its instances would have with this service's base share.
			score[g] = float64(sum+base) / float64(len(members))
		}
		if x := sh.levels; x != nil {
			for k, n := range sh.cur {
				if g := x.group[k]; g >= 0 {
					held[g] += n
				}
			}
			for g, members := range sh.groups {
				score[g] = float64(x.sum[g]+base) / float64(len(members))
			}
		}
		slices.SortStableFunc(order, func(a, b int) int {
			return cmp.Or(cmp.Compare(score[a], score[b]), held[b]-held[a])
		})
		for k, g := range order {
			quotas[g] = base
			if k < extra {
				quotas[g]++
			}
		}
	}
	for g, members := range sh.groups {
		m := quotas[g]
		if m == 0 {
			continue
		}
		if sh.inner {
			base, extra := m/len(members), m%len(members)
			if base > 0 {
				for _, k := range members {
					add(k, base)
				}
			}
			var picked []int
			if sh.levels != nil {
				// Every member holds base more: the order is the order of load alone.
				picked = sh.levels.lowest(g, extra, sh.cur)
			} else {
				picked = lowest(members, extra, load, at, cur, better)
			}
			for _, k := range picked {
				add(k, 1)
			}
			continue
		}
		fill(members, m, add, better)
	}
	out := make(map[int]int, len(sc.touched))
	for _, k := range sc.touched {
		out[k] = at[k]
		at[k] = 0
	}
	for k := range sh.cur {
		cur[k] = 0
	}
	return out
}

// lowest returns the r first of members by better, without sorting them all when r is
// small: a member whose load (load + at) is above the r-th best so far, or equal to it
// without tasks of the service (members come in position order, so it would lose the
// tie), is passed over without a comparison.
func lowest(members []int, r int, load, at, cur []int, better func(a, b int) int) []int {
	if r <= 0 {
		return nil
	}
	if r >= len(members) {
		return members
	}
	if r*8 >= len(members) {
		sorted := slices.Clone(members)
		slices.SortFunc(sorted, better)
		return sorted[:r]
	}
	out := make([]int, 0, r+1)
	worst := 0 // load of out[r-1] once out is full
	for _, k := range members {
		if len(out) == r {
			if l := load[k] + at[k]; l > worst || (l == worst && cur[k] == 0) || better(k, out[r-1]) >= 0 {
				continue
			}
		}
		i, _ := slices.BinarySearchFunc(out, k, better)
		out = slices.Insert(out, i, k)
		if len(out) > r {
			out = out[:r]
		}
		if len(out) == r {
			last := out[r-1]
			worst = load[last] + at[last]
		}
	}
	return out
}

// fill gives m tasks one at a time to the least loaded member (water filling).
func fill(members []int, m int, add func(k, n int), better func(a, b int) int) {
	h := &posHeap{items: slices.Clone(members), better: better}
	heap.Init(h)
	for range m {
		add(h.items[0], 1)
		heap.Fix(h, 0)
	}
}

type posHeap struct {
	items  []int
	better func(a, b int) int
}

func (h *posHeap) Len() int           { return len(h.items) }
func (h *posHeap) Less(i, j int) bool { return h.better(h.items[i], h.items[j]) < 0 }
func (h *posHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *posHeap) Push(x any)         { h.items = append(h.items, x.(int)) }
func (h *posHeap) Pop() any {
	last := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return last
}
