package plan

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
)

// The move strategy's markers. A move tags the service it raises with SurgeTag (the
// original desired count, the raise and the time) and the cluster with MovingTag, so
// that the next invocation's sweep finds a move a crash left with one cheap call (the
// cluster's tags) and repairs it from the service's tag.
const (
	SurgeTag  = "ecs-rebalancer.surge"
	MovingTag = "ecs-rebalancer.moving"
)

// Surge is what SurgeTag records: the service ran From tasks and the move raised its
// desired count by By at At.
type Surge struct {
	From int32
	By   int32
	At   time.Time
}

// Raised is the desired count the move set.
func (s Surge) Raised() int32 { return s.From + s.By }

// String is the tag value, "3+2@2026-11-20T09:00:00Z" (tag values allow + and @, not
// > or ,).
func (s Surge) String() string {
	return fmt.Sprintf("%d+%d@%s", s.From, s.By, s.At.UTC().Format(time.RFC3339))
}

// ParseSurge reads a SurgeTag value.
func ParseSurge(v string) (Surge, error) {
	counts, at, ok := strings.Cut(v, "@")
	from, by, ok2 := strings.Cut(counts, "+")
	if !ok || !ok2 {
		return Surge{}, fmt.Errorf("surge tag %q: want FROM+BY@TIME", v)
	}
	f, err1 := strconv.ParseInt(from, 10, 32)
	b, err2 := strconv.ParseInt(by, 10, 32)
	t, err3 := time.Parse(time.RFC3339, at)
	if err1 != nil || err2 != nil || err3 != nil || f < 0 || b < 1 {
		return Surge{}, fmt.Errorf("surge tag %q: want FROM+BY@TIME", v)
	}
	return Surge{From: int32(f), By: int32(b), At: t}, nil
}

// Move is one service's part of a move: start Count more tasks, then stop Count chosen
// ones.
type Move struct {
	Service string `json:"service"`
	ARN     string `json:"-"`
	Count   int    `json:"tasks"`
	// Hosts are the instances (ARNs) the service can run on, when its constraints or
	// capacity providers limit them; nil: every ACTIVE, connected instance.
	Hosts []string `json:"-"`
	// Size is what one of its tasks reserves.
	Size cluster.Resources `json:"-"`
}

// MoveResult is what a move did to one service.
type MoveResult struct {
	Service string `json:"service"`
	// Started is how many new tasks ran; Stopped the tasks (IDs) chosen that stopped,
	// Returned how many of them were new ones given back (no move), Moved the rest.
	Started  int      `json:"started"`
	Stopped  []string `json:"stopped,omitempty"`
	Returned int      `json:"returned,omitempty"`
	Moved    int      `json:"moved"`
	// StillRunning are chosen tasks that had not stopped when the move gave up;
	// StoppedByECS tasks ECS stopped that were not chosen.
	StillRunning []string `json:"stillRunning,omitempty"`
	StoppedByECS []string `json:"stoppedByECS,omitempty"`
	Ended        string   `json:"ended,omitempty"`
}

// MoveTargets are the moves of the move strategy: each eligible service with tasks
// above its share of the reachable target (reach.Surplus) moves that many, as far as
// its maximumPercent lets it start tasks first and the free CPU and memory of the
// instances it can run on hold them, within MAX_MOVES_PER_RUN tasks and
// MAX_SERVICES_PER_RUN services. Services whose new task can only land on instances
// below the average load come first (ECS places it among tied instances, the planner
// cannot steer it), then the larger surplus. The services left out come back with
// their reasons.
func MoveTargets(c *cluster.Cluster, reach cluster.Reach, eligible map[string]*cluster.Service, cfg config.Config) ([]Move, []Skip) {
	type cand struct {
		svc  *cluster.Service
		n    int
		sure bool
	}
	dist := c.Distribution()
	total := 0
	for _, e := range dist {
		total += e.Count
	}
	mean := float64(total) / float64(max(1, len(dist)))
	var cands []cand
	for name, n := range reach.Surplus {
		if s := eligible[name]; s != nil {
			cands = append(cands, cand{svc: s, n: n, sure: landsLow(c, s, mean)})
		}
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if a.sure != b.sure {
			if a.sure {
				return -1
			}
			return 1
		}
		return cmp.Or(b.n-a.n, strings.Compare(a.svc.Name, b.svc.Name))
	})
	free := map[*cluster.Instance]cluster.Resources{}
	for _, e := range dist {
		free[e.Instance] = e.Instance.Remaining
	}
	var moves []Move
	var skipped []Skip
	left := cfg.MaxMovesPerRun
	for _, cd := range cands {
		s := cd.svc
		_, maxTotal := s.HealthyBounds()
		room := maxTotal - int(s.DesiredCount)
		hosts, err := c.Hosts(s)
		k := min(cd.n, room, left)
		switch {
		case len(moves) == cfg.MaxServicesPerRun:
			skipped = append(skipped, Skip{Name: s.Name, Reason: fmt.Sprintf("MAX_SERVICES_PER_RUN (%d) reached", cfg.MaxServicesPerRun)})
			continue
		case left == 0:
			skipped = append(skipped, Skip{Name: s.Name, Reason: fmt.Sprintf("MAX_MOVES_PER_RUN (%d) reached", cfg.MaxMovesPerRun)})
			continue
		case room < 1:
			skipped = append(skipped, Skip{Name: s.Name, Reason: fmt.Sprintf("maximumPercent %d%% of %d leaves no room to start a task first", s.MaximumPercent, s.DesiredCount)})
			continue
		case err != nil:
			skipped = append(skipped, Skip{Name: s.Name, Reason: err.Error()})
			continue
		}
		if k = reserve(free, hosts, s.TaskSize, k); k == 0 {
			skipped = append(skipped, Skip{Name: s.Name, Reason: "no instance it can run on has the CPU and memory for one more task"})
			continue
		}
		m := Move{Service: s.Name, ARN: s.ARN, Count: k, Size: s.TaskSize}
		if len(s.PlacementConstraints) > 0 || len(s.CapacityProviderStrategy) > 0 {
			m.Hosts = make([]string, 0, len(hosts))
			for _, h := range hosts {
				m.Hosts = append(m.Hosts, h.ARN)
			}
		}
		moves = append(moves, m)
		left -= k
	}
	return moves, skipped
}

// reserve takes up to k tasks of size from the free resources of hosts, each where
// the most is left, and returns how many fit.
func reserve(free map[*cluster.Instance]cluster.Resources, hosts []*cluster.Instance, size cluster.Resources, k int) int {
	for n := range k {
		var best *cluster.Instance
		for _, h := range hosts {
			r, ok := free[h]
			if !ok || !r.Fits(size) {
				continue
			}
			if best == nil || r.Memory > free[best].Memory || (r.Memory == free[best].Memory && r.CPU > free[best].CPU) {
				best = h
			}
		}
		if best == nil {
			return n
		}
		free[best] = free[best].Sub(size)
	}
	return k
}

// landsLow reports whether every instance a new task of s could land on (the hosts
// that fit it in the zones with the fewest of its tasks, and there the fewest of its
// tasks: ECS's default and spread placement) runs fewer tasks than mean.
func landsLow(c *cluster.Cluster, s *cluster.Service, mean float64) bool {
	hosts, err := c.Candidates(s, s.TaskSize)
	if err != nil || len(hosts) == 0 {
		return false
	}
	fewestZone := -1
	for _, h := range hosts {
		if n := s.CountIn(h.Zone); fewestZone < 0 || n < fewestZone {
			fewestZone = n
		}
	}
	fewest := -1
	for _, h := range hosts {
		if s.CountIn(h.Zone) == fewestZone {
			if n := s.CountOn(h); fewest < 0 || n < fewest {
				fewest = n
			}
		}
	}
	for _, h := range hosts {
		if s.CountIn(h.Zone) == fewestZone && s.CountOn(h) == fewest && float64(h.RunningTasksCount()) >= mean {
			return false
		}
	}
	return true
}

// MoveTask is one live task of a service being moved, as the actor read it.
type MoveTask struct {
	ARN      string
	Instance string // container instance ARN
	// New marks the tasks the move started.
	New bool
	// Held marks a task someone else protected: it is never chosen, and its protection
	// is never touched.
	Held bool
}

// ChooseStops picks k of the service's tasks to stop once its k new ones run: one at
// a time, the task on the instance running the most tasks (load) among those whose
// stop leaves the service's instance and zone spread no worse than before the move
// (zoneOf maps the instances it can run on to their zone; the spread is the largest
// less the smallest count over them), an old task before a new one on the same
// instance. Where no task may stop by that rule, a new task stops (stopping them all
// undoes the move). It returns the ARNs to stop.
func ChooseStops(tasks []MoveTask, k int, load map[string]int, zoneOf map[string]string) []string {
	inst, zone := newTally(), newTally()
	for arn, z := range zoneOf {
		inst.counts[arn] += 0
		zone.counts[z] += 0
	}
	for _, t := range tasks {
		if z, ok := zoneOf[t.Instance]; ok && !t.New {
			inst.counts[t.Instance]++
			zone.counts[z]++
		}
	}
	inst.refresh()
	zone.refresh()
	instLimit, zoneLimit := inst.hi-inst.lo, zone.hi-zone.lo
	for _, t := range tasks {
		if z, ok := zoneOf[t.Instance]; ok && t.New {
			inst.counts[t.Instance]++
			zone.counts[z]++
		}
	}
	inst.refresh()
	zone.refresh()
	load = maps.Clone(load)
	chosen := map[string]bool{}
	var out []string
	for len(out) < k {
		best, fallback := -1, -1
		for n, t := range tasks {
			if chosen[t.ARN] || t.Held {
				continue
			}
			if t.New && (fallback < 0 || better(t, tasks[fallback], load)) {
				fallback = n
			}
			if z, ok := zoneOf[t.Instance]; ok && (inst.spreadLess(t.Instance) > instLimit || zone.spreadLess(z) > zoneLimit) {
				continue
			}
			if best < 0 || better(t, tasks[best], load) {
				best = n
			}
		}
		if best < 0 {
			best = fallback
		}
		if best < 0 {
			break
		}
		t := tasks[best]
		chosen[t.ARN] = true
		out = append(out, t.ARN)
		load[t.Instance]--
		if z, ok := zoneOf[t.Instance]; ok {
			inst.counts[t.Instance]--
			zone.counts[z]--
			inst.refresh()
			zone.refresh()
		}
	}
	return out
}

// better orders stop candidates: the busier instance, then an old task, then by
// instance and task ARN (a repeatable choice).
func better(a, b MoveTask, load map[string]int) bool {
	if la, lb := load[a.Instance], load[b.Instance]; la != lb {
		return la > lb
	}
	if a.New != b.New {
		return !a.New
	}
	if a.Instance != b.Instance {
		return a.Instance < b.Instance
	}
	return a.ARN < b.ARN
}

// tally counts a service's tasks per instance or per zone and knows its spread (the
// largest count less the smallest), and the spread after one task less somewhere, in
// constant time: choosing stops is a pass over the tasks per stop, not over the
// instances per task.
type tally struct {
	counts     map[string]int
	lo, hi     int
	atLo, atHi int // how many keys hold lo and hi
}

func newTally() *tally { return &tally{counts: map[string]int{}} }

func (t *tally) refresh() {
	first := true
	for _, n := range t.counts {
		switch {
		case first:
			t.lo, t.hi, t.atLo, t.atHi, first = n, n, 1, 1, false
			continue
		case n < t.lo:
			t.lo, t.atLo = n, 1
		case n == t.lo:
			t.atLo++
		}
		switch {
		case n > t.hi:
			t.hi, t.atHi = n, 1
		case n == t.hi:
			t.atHi++
		}
	}
}

// spreadLess is the spread once key holds one task less.
func (t *tally) spreadLess(key string) int {
	n := t.counts[key]
	lo, hi := min(t.lo, n-1), t.hi
	if n == t.hi && t.atHi == 1 {
		hi = n - 1 // the others hold at most hi-1... or the new lo is below it anyway
	}
	if t.lo == t.hi && len(t.counts) == 1 {
		lo, hi = n-1, n-1
	}
	return max(hi, lo) - lo
}
