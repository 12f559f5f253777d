package replay

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/event"
)

// addInstanceLike registers in c a new, empty, connected instance shaped like an
// existing one (its type, resources, attributes and zone; the drain marker left out),
// registered a minute before at, and returns its join event: "what would it do if an
// instance joined now?". like is an EC2 instance ID, a container instance ARN or ID, or
// a zone (then the zone's first ACTIVE instance is the model).
func addInstanceLike(c *cluster.Cluster, like string, at time.Time) (Event, error) {
	model := c.Instance(like)
	if model == nil {
		for _, i := range c.Instances() {
			if i.EC2InstanceID == like || (i.Zone == like && i.Status == cluster.StatusActive) {
				model = i
				break
			}
		}
	}
	if model == nil {
		var zones []string
		for _, i := range c.Instances() {
			if !slices.Contains(zones, i.Zone) {
				zones = append(zones, i.Zone)
			}
		}
		return Event{}, fmt.Errorf("-add-instance %s: no instance or zone of that name in the snapshot (zones: %s)", like, strings.Join(zones, ", "))
	}
	h := fnv.New64a()
	h.Write([]byte(model.ARN + "/what-if"))
	id := fmt.Sprintf("%016x", h.Sum64())
	n := &cluster.Instance{
		ARN:            fmt.Sprintf("arn:aws:ecs:%s:%s:container-instance/%s/%s%s", c.Region, c.Account, c.Name, id, id),
		EC2InstanceID:  "i-0" + id[:16],
		Status:         cluster.StatusActive,
		AgentConnected: true,
		RegisteredAt:   at.Add(-time.Minute),
		Registered:     model.Registered,
		Remaining:      model.Registered,
		Version:        1,

		CapacityProviderName: model.CapacityProviderName,
	}
	for _, a := range model.Attributes {
		if a.Name != cluster.MarkerAttribute {
			n.SetAttribute(a.Name, a.Value)
		}
	}
	if err := c.AddInstance(n); err != nil {
		return Event{}, fmt.Errorf("-add-instance %s: %w", like, err)
	}
	return Event{
		Path:    fmt.Sprintf("(what-if: %s joins, shaped like %s)", n.EC2InstanceID, model.EC2InstanceID),
		Raw:     event.Joined(c.Account, c.Region, c.ARN, n.ARN, n.EC2InstanceID, n.RegisteredAt, at),
		Time:    at,
		Cluster: c.Name,
	}, nil
}

// scheduleNow is the event of the schedule firing at at.
func scheduleNow(c *cluster.Cluster, at time.Time) Event {
	return Event{Path: "(what-if: the schedule fires)", Raw: event.Schedule(c.Account, c.Region, at), Time: at}
}
