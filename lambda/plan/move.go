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

// MoveTargets are the moves of the move strategy. Each eligible service with tasks
// above its share of the reachable target (reach.Surplus) moves as many of them as
// its new tasks will surely land where they help: ECS places a new task by the
// service's own rules and breaks ties between equally good instances its own way (not
// documented), so a new task counts only while every instance it could land on runs
// fewer tasks than the cluster's average; a service whose first new task could land
// anywhere else is left out. Within that, maximumPercent must let it start the tasks
// first, the free CPU and memory of the instances it can run on must hold them, and
// the run stays within MAX_MOVES_PER_RUN tasks and MAX_SERVICES_PER_RUN services,
// largest surplus first. The services left out come back with their reasons.
func MoveTargets(c *cluster.Cluster, reach cluster.Reach, eligible map[string]*cluster.Service, cfg config.Config) ([]Move, []Skip) {
	dist := c.Distribution()
	total := 0
	free := map[string]cluster.Resources{} // by instance ARN, less what earlier moves take
	for _, e := range dist {
		total += e.Count
		free[e.Instance.ARN] = e.Instance.Remaining
	}
	mean := float64(total) / float64(max(1, len(dist)))
	var names []string
	for name := range reach.Surplus {
		if eligible[name] != nil {
			names = append(names, name)
		}
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(reach.Surplus[b]-reach.Surplus[a], strings.Compare(a, b)) })
	delta := map[string]int{} // by instance ARN: what the moves chosen so far add and stop
	var moves []Move
	var skipped []Skip
	left := cfg.MaxMovesPerRun
	for _, name := range names {
		s := eligible[name]
		_, maxTotal := s.HealthyBounds()
		room := maxTotal - int(s.DesiredCount)
		hosts, err := c.Hosts(s)
		switch {
		case len(moves) == cfg.MaxServicesPerRun:
			skipped = append(skipped, Skip{Name: name, Reason: fmt.Sprintf("MAX_SERVICES_PER_RUN (%d) reached", cfg.MaxServicesPerRun)})
			continue
		case left == 0:
			skipped = append(skipped, Skip{Name: name, Reason: fmt.Sprintf("MAX_MOVES_PER_RUN (%d) reached", cfg.MaxMovesPerRun)})
			continue
		case room < 1:
			skipped = append(skipped, Skip{Name: name, Reason: fmt.Sprintf("maximumPercent %d%% of %d leaves no room to start a task first", s.MaximumPercent, s.DesiredCount)})
			continue
		case err != nil:
			skipped = append(skipped, Skip{Name: name, Reason: err.Error()})
			continue
		}
		landed := sureLandings(c, s, min(reach.Surplus[name], room, left), mean, delta, free)
		if len(landed) == 0 {
			skipped = append(skipped, Skip{Name: name, Reason: "its new task could land on an instance at or above the average load (ECS breaks the tie)"})
			continue
		}
		k, stops := stopsThatMove(c, s, hosts, landed, delta)
		if k == 0 {
			skipped = append(skipped, Skip{Name: name, Reason: "no task of it can stop where it helps without making its zone or instance spread worse"})
			continue
		}
		hostARNs := make([]string, len(hosts))
		for n, h := range hosts {
			hostARNs[n] = h.ARN
		}
		if k = Reserve(free, hostARNs, s.TaskSize, k); k == 0 {
			skipped = append(skipped, Skip{Name: name, Reason: "no instance it can run on has the CPU and memory for one more task"})
			continue
		}
		for n, i := range landed[:k] {
			delta[i.ARN]++
			delta[stops[n]]--
		}
		m := Move{Service: name, ARN: s.ARN, Count: k, Size: s.TaskSize}
		if len(s.PlacementConstraints) > 0 || len(s.CapacityProviderStrategy) > 0 {
			m.Hosts = hostARNs
		}
		moves = append(moves, m)
		left -= k
	}
	return moves, skipped
}

// sureLandings places up to n new tasks of s one after another by its placement
// strategy (spread over an attribute or over instances, in order; ECS's default
// otherwise) and returns where they land, stopping at the first whose tied instances
// are not all below mean (counting delta, what earlier moves add and stop). Random
// and binpack rules are not predicted: nothing is sure.
func sureLandings(c *cluster.Cluster, s *cluster.Service, n int, mean float64, delta map[string]int, free map[string]cluster.Resources) []*cluster.Instance {
	hosts, err := c.Candidates(s, s.TaskSize)
	if err != nil || len(hosts) == 0 {
		return nil
	}
	mine := map[*cluster.Instance]int{} // the new tasks of s placed so far
	var out []*cluster.Instance
	for range n {
		tied := slices.Clone(hosts)
		for _, ps := range s.EffectivePlacement() {
			if ps.Type != cluster.StrategySpread {
				return out
			}
			key := func(i *cluster.Instance) int {
				if ps.Field == cluster.FieldInstanceID || ps.Field == cluster.FieldHost {
					return s.CountOn(i) + mine[i]
				}
				if ps.Field != cluster.FieldZone {
					return -1
				}
				k := s.CountIn(i.Zone)
				for j, m := range mine {
					if j.Zone == i.Zone {
						k += m
					}
				}
				return k
			}
			if key(hosts[0]) < 0 {
				return out // spread over another attribute: not predicted
			}
			low := key(tied[0])
			for _, i := range tied[1:] {
				low = min(low, key(i))
			}
			tied = slices.DeleteFunc(tied, func(i *cluster.Instance) bool { return key(i) != low })
		}
		if len(s.HostPorts) > 0 {
			// Its static host ports allow one task per instance: one landed here
			// already binds them.
			tied = slices.DeleteFunc(tied, func(i *cluster.Instance) bool { return mine[i] > 0 })
			if len(tied) == 0 {
				return out
			}
		}
		for _, i := range tied {
			if float64(i.RunningTasksCount()+delta[i.ARN]+mine[i]) >= mean || !free[i.ARN].Fits(s.TaskSize) {
				return out
			}
		}
		mine[tied[0]]++
		out = append(out, tied[0])
	}
	return out
}

// stopsThatMove is the most of the new tasks landed (in order) for which
// ChooseStops, run on the model as it would be with them (and with delta, what earlier
// moves add and stop), stops only old tasks: every restart a move. A stop on an
// instance no busier than where the new task landed gives the new task back instead,
// so this also keeps a move from overshooting. It returns that count and the instances
// (ARNs) of the stops. The actor chooses again from what ECS really did.
func stopsThatMove(c *cluster.Cluster, s *cluster.Service, hosts, landed []*cluster.Instance, delta map[string]int) (int, []string) {
	zoneOf := make(map[string]string, len(hosts))
	for _, h := range hosts {
		zoneOf[h.ARN] = h.Zone
	}
	var old []MoveTask
	where := map[string]string{}
	for _, t := range s.Tasks() {
		if t.LastStatus == cluster.TaskRunning {
			old = append(old, MoveTask{ARN: t.ARN, Instance: t.InstanceARN})
			where[t.ARN] = t.InstanceARN
		}
	}
	base := map[string]int{}
	for _, e := range c.Distribution() {
		base[e.Instance.ARN] = e.Count + delta[e.Instance.ARN]
	}
	for k := len(landed); k > 0; k-- {
		load := maps.Clone(base)
		tasks := slices.Clone(old)
		for n, i := range landed[:k] {
			tasks = append(tasks, MoveTask{ARN: fmt.Sprintf("new-%d", n), Instance: i.ARN, New: true})
			load[i.ARN]++
		}
		var stops []string
		for _, arn := range ChooseStops(tasks, k, load, zoneOf) {
			if !strings.HasPrefix(arn, "new-") {
				stops = append(stops, where[arn])
			}
		}
		if len(stops) == k {
			return k, stops
		}
	}
	return 0, nil
}

// Reserve takes up to k tasks of size from the free resources (by instance ARN) of
// hosts (nil: every instance in free), each where the most memory, then CPU, is left,
// and returns how many fit. The planner sizes a move with it and the actor checks the
// move against what it reads with it.
func Reserve(free map[string]cluster.Resources, hosts []string, size cluster.Resources, k int) int {
	if hosts == nil {
		hosts = slices.Sorted(maps.Keys(free))
	}
	for n := range k {
		best := ""
		for _, h := range hosts {
			r, ok := free[h]
			if !ok || !r.Fits(size) {
				continue
			}
			if b := free[best]; best == "" || r.Memory > b.Memory || (r.Memory == b.Memory && r.CPU > b.CPU) {
				best = h
			}
		}
		if best == "" {
			return n
		}
		free[best] = free[best].Sub(size)
	}
	return k
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
// less the smallest count over them), a new task before an old one on instances
// equally busy (the old one's stop would be a restart that moves nothing). Where no
// task may stop by that rule, a new task stops (stopping them all undoes the move). It
// returns the ARNs to stop.
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

// better orders stop candidates: the busier instance, then a new task (stopping an
// old task on an instance no busier than a new one's only swaps the two: a restart
// that moves nothing), then by instance and task ARN (a repeatable choice).
func better(a, b MoveTask, load map[string]int) bool {
	if la, lb := load[a.Instance], load[b.Instance]; la != lb {
		return la > lb
	}
	if a.New != b.New {
		return a.New
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
