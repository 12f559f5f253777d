package plan

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
)

// InstanceJoined checks the re-described instance of an event (docs/decisions.md, "What it
// does with an event"): ACTIVE, agent connected, registered within the join window, no drain
// marker. It returns "" or the reason it is not a join.
func InstanceJoined(i *cluster.Instance, now time.Time, window time.Duration) string {
	switch {
	case i == nil:
		return "instance is no longer registered"
	case i.Status != cluster.StatusActive:
		return "instance status is " + i.Status + ", not ACTIVE"
	case !i.AgentConnected:
		return "instance agent is disconnected"
	case i.RegisteredAt.IsZero():
		return "instance has no registeredAt"
	case now.Sub(i.RegisteredAt) > window:
		return fmt.Sprintf("instance registered %s ago, outside JOIN_WINDOW %s", round(now.Sub(i.RegisteredAt)), window)
	case i.Marked():
		return "instance carries the rebalancer's drain marker"
	}
	return ""
}

func round(d time.Duration) time.Duration { return d.Round(time.Second) }

// ClusterJoined checks the joiner against the whole cluster (docs/decisions.md, "What it does
// with an event"): at least two ACTIVE instances, and the joiner runs or awaits no task
// except DAEMON services' (a daemon places its task on a new instance within seconds,
// so "no tasks at all" would never hold in a cluster with a daemon). It returns "" or
// the reason, and a description of what the joiner runs.
func ClusterJoined(c *cluster.Cluster, instanceARN string) (reason, holds string) {
	i := c.Instance(instanceARN)
	if i == nil {
		return "instance is not in the cluster read", ""
	}
	active := 0
	for _, in := range c.Instances() {
		if in.Status == cluster.StatusActive {
			active++
		}
	}
	if active < 2 {
		return fmt.Sprintf("only %d ACTIVE instance in the cluster", active), ""
	}
	var others []string
	daemons := 0
	for _, t := range i.Tasks() {
		if s := c.ServiceOf(t); s != nil && s.IsDaemon() {
			daemons++
			continue
		}
		others = append(others, groupName(t))
	}
	if len(others) > 0 {
		slices.Sort(others)
		return fmt.Sprintf("instance is not empty: it runs %d tasks besides daemons (%s)", len(others), strings.Join(slices.Compact(others), ", ")), ""
	}
	return "", fmt.Sprintf("%d daemon task(s)", daemons)
}

func groupName(t *cluster.Task) string {
	if name := t.ServiceName(); name != "" {
		return name
	}
	return t.Group
}
