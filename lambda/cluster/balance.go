package cluster

import (
	"maps"
	"math"
	"slices"
)

// COV is the coefficient of variation of counts in percent: the sample standard
// deviation (n-1) over the mean, x100 (docs/decisions.md, "Measuring balance"). One value, or a
// mean of 0, gives 0.
func COV(counts []int) float64 {
	n := len(counts)
	if n < 2 {
		return 0
	}
	sum := 0
	for _, c := range counts {
		sum += c
	}
	if sum == 0 {
		return 0
	}
	mean := float64(sum) / float64(n)
	var ss float64
	for _, c := range counts {
		d := float64(c) - mean
		ss += d * d
	}
	return math.Sqrt(ss/float64(n-1)) / mean * 100
}

// Round2 rounds a percentage to two decimals, the precision reports use.
func Round2(v float64) float64 { return math.Round(v*100) / 100 }

// Balanced returns the balanced target for total tasks over n instances: every
// instance at floor or ceil of total/n, with exactly nCeil of them at ceil.
func Balanced(total, n int) (floor, ceil, nCeil int) {
	if n <= 0 {
		return 0, 0, 0
	}
	floor = total / n
	nCeil = total % n
	ceil = floor
	if nCeil > 0 {
		ceil++
	}
	return floor, ceil, nCeil
}

// MinMoves is the least number of single-task moves that turn counts into a balanced
// distribution (docs/decisions.md, "Measuring balance"): the physical lower bound on churn. The
// fullest instances keep the ceil slots, which minimizes the surplus that has to move.
func MinMoves(counts []int) int {
	total := 0
	for _, c := range counts {
		total += c
	}
	floor, _, nCeil := Balanced(total, len(counts))
	sorted := slices.Clone(counts)
	slices.SortFunc(sorted, func(a, b int) int { return b - a })
	moves := 0
	for k, c := range sorted {
		target := floor
		if k < nCeil {
			target++
		}
		if c > target {
			moves += c - target
		}
	}
	return moves
}

// InstanceCount is one entry of a distribution.
type InstanceCount struct {
	Instance *Instance
	Count    int
}

// Distribution is the running-task count (DescribeContainerInstances'
// runningTasksCount) of every ACTIVE, agent-connected instance, in registration order:
// the population COV is measured over.
func (c *Cluster) Distribution() []InstanceCount {
	var out []InstanceCount
	for _, i := range c.instances {
		if i.Schedulable() {
			out = append(out, InstanceCount{Instance: i, Count: i.RunningTasksCount()})
		}
	}
	return out
}

// InstanceCounts returns every instance (copied, without its tasks) with its
// running-task count: what the drain loop needs between rounds.
func (c *Cluster) InstanceCounts() []InstanceCount {
	out := make([]InstanceCount, 0, len(c.instances))
	for _, i := range c.instances {
		cp := *i
		cp.Attributes = slices.Clone(i.Attributes)
		cp.tasks = nil
		out = append(out, InstanceCount{Instance: &cp, Count: i.RunningTasksCount()})
	}
	return out
}

// Schedulable keeps the entries of ACTIVE, agent-connected instances: the population
// COV is measured over (docs/decisions.md, "Measuring balance").
func Schedulable(obs []InstanceCount) []InstanceCount {
	var out []InstanceCount
	for _, e := range obs {
		if e.Instance.Schedulable() {
			out = append(out, e)
		}
	}
	return out
}

// Counts returns just the counts of a distribution.
func Counts(d []InstanceCount) []int {
	out := make([]int, len(d))
	for k, e := range d {
		out[k] = e.Count
	}
	return out
}

// ServiceCountsByInstance counts the service's live tasks per instance ARN (a copy
// the caller may change).
func (c *Cluster) ServiceCountsByInstance(s *Service) map[string]int {
	out := make(map[string]int, len(s.onInstance))
	for i, n := range s.onInstance {
		out[i.ARN] = n
	}
	return out
}

// ServiceCountsByZone counts the service's live tasks per availability zone (the zone
// of the instance they run on; Fargate tasks are counted under their own zone), as a
// copy the caller may change.
func (c *Cluster) ServiceCountsByZone(s *Service) map[string]int { return maps.Clone(s.inZone) }
