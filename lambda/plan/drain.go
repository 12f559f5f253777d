package plan

import (
	"fmt"
	"slices"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
)

// DrainCandidates picks the instances of one drain round (docs/decisions.md, "Strategies"; safety
// guarantee 3) from obs (every instance with its running-task count): the most loaded
// first, at most max of them, each of which
//   - runs more tasks than the balanced target's ceil (draining anything else adds churn),
//   - is ACTIVE, connected, unmarked, and not new (registered within window),
//   - is not blocked (Blockers: it runs an ineligible service's task, or no service
//     task to move),
//   - uses no more CPU and memory (registered - remaining) than the other ACTIVE
//     instances have left,
//
// and the cluster keeps at least one other ACTIVE instance. The skipped instances come
// back with their reasons.
func DrainCandidates(obs []cluster.InstanceCount, blocked map[string]string, now time.Time, window time.Duration, maxInstances int) ([]*cluster.Instance, []Skip) {
	dist := cluster.Schedulable(obs)
	if len(dist) < 2 {
		return nil, []Skip{{Name: "cluster", Reason: fmt.Sprintf("%d ACTIVE, connected instance(s): nothing to drain to", len(dist))}}
	}
	if why := TooManyUnavailable(obs); why != "" {
		return nil, []Skip{{Name: "cluster", Reason: why}}
	}
	total := 0
	var free cluster.Resources
	for _, e := range dist {
		total += e.Count
		free = free.Add(e.Instance.Remaining)
	}
	_, ceil, _ := cluster.Balanced(total, len(dist))
	slices.SortStableFunc(dist, func(a, b cluster.InstanceCount) int { return b.Count - a.Count })

	var picked []*cluster.Instance
	var skipped []Skip
	for _, e := range dist {
		i := e.Instance
		reason := ""
		switch {
		case len(picked) == maxInstances:
			reason = fmt.Sprintf("DRAIN_MAX_INSTANCES (%d) reached", maxInstances)
		case e.Count <= ceil:
			reason = fmt.Sprintf("%d tasks, not above the balanced %d", e.Count, ceil)
		case now.Sub(i.RegisteredAt) <= window:
			reason = "joined within JOIN_WINDOW"
		case i.Marked():
			reason = "carries the drain marker"
		default:
			reason = blocked[i.ARN]
		}
		if reason == "" {
			used := i.Registered.Sub(i.Remaining)
			if others := free.Sub(i.Remaining); !others.Fits(used) {
				reason = fmt.Sprintf("uses cpu %d, memory %d; the other instances have cpu %d, memory %d left", used.CPU, used.Memory, others.CPU, others.Memory)
			}
		}
		if reason != "" {
			if len(picked) < maxInstances {
				skipped = append(skipped, Skip{Name: i.EC2InstanceID, Reason: reason})
			}
			continue
		}
		picked = append(picked, i)
	}
	return picked, skipped
}

// TooManyUnavailable says why one more drain would stack on instances already not
// ACTIVE and connected (someone else's drain, a disconnected agent, a registration)
// and leave more than a third of the cluster's instances (every status but INACTIVE)
// unavailable at once; "" when it would not. With nothing else unavailable, one drain
// is allowed whatever the size: a round drains one instance at a time, and the
// capacity check already makes the others hold its tasks.
func TooManyUnavailable(obs []cluster.InstanceCount) string {
	total, down := 0, 0
	for _, e := range obs {
		if e.Instance.Status == cluster.StatusInactive {
			continue
		}
		total++
		if !e.Instance.Schedulable() {
			down++
		}
	}
	if down > 0 && 3*(down+1) > total {
		return fmt.Sprintf("%d of %d instances are not ACTIVE and connected: one more drain would leave more than a third unavailable", down, total)
	}
	return ""
}

// Blockers returns, by instance ARN, why an instance's tasks forbid draining it: a task
// of an ineligible service (never moved away), or no service task at all (nothing to
// move; DAEMON and standalone tasks do not count). Draining moves only eligible
// services' tasks, so what blocks an instance stays true between drain rounds.
//
// It walks the services, not the instances: each service is classified once and each
// task looked at once, and the ineligible service named is the first in the cluster's
// order, whatever the order of the tasks.
func Blockers(c *cluster.Cluster, eligible map[string]*cluster.Service) map[string]string {
	ineligible := map[string]string{} // instance ARN -> the first ineligible service on it
	moves := map[string]bool{}        // instances running an eligible service's task
	for _, s := range c.Services() {
		if s.IsDaemon() {
			continue
		}
		ok := eligible[s.Name] != nil
		for t := range s.EachTask() {
			switch arn := t.InstanceARN; {
			case arn == "":
			case ok:
				moves[arn] = true
			case ineligible[arn] == "":
				ineligible[arn] = s.Name
			}
		}
	}
	out := map[string]string{}
	for _, i := range c.Instances() {
		switch {
		case ineligible[i.ARN] != "":
			out[i.ARN] = "runs tasks of ineligible service " + ineligible[i.ARN]
		case !moves[i.ARN]:
			out[i.ARN] = "runs no service tasks to move"
		}
	}
	return out
}
