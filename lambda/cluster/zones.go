package cluster

import (
	"fmt"
	"slices"
	"strings"
)

// Values of a service's availabilityZoneRebalancing.
const (
	ZoneRebalancingEnabled  = "ENABLED"
	ZoneRebalancingDisabled = "DISABLED"
)

// RebalancesZones reports whether ECS moves the service's tasks between Availability
// Zones by itself once it is steady (ECS Developer Guide, "Balancing an Amazon ECS
// service across Availability Zones"): availabilityZoneRebalancing is ENABLED (absent
// is DISABLED: ECS treats a service that never set it so), and the service is one ECS
// rebalances: REPLICA, not EXTERNAL, a maximumPercent above 100, no Classic Load
// Balancer, no placement constraint on the zone, and spread across zones as its first
// placement strategy (or none: ECS's default spreads across zones first).
//
// CODE_DEPLOY services are left out too: their tasks belong to task sets, which the
// page does not cover.
func (s *Service) RebalancesZones() bool {
	if s.AvailabilityZoneRebalancing != ZoneRebalancingEnabled || s.IsDaemon() ||
		s.DeploymentController != ControllerECS || s.MaximumPercent <= 100 {
		return false
	}
	for _, lb := range s.LoadBalancers {
		if lb.TargetGroupARN == "" && lb.LoadBalancerName != "" {
			return false
		}
	}
	for _, pc := range s.PlacementConstraints {
		if strings.Contains(pc.Expression, ZoneAttribute) {
			return false
		}
	}
	first := s.EffectivePlacement()[0]
	return first.Type == StrategySpread && first.Field == FieldZone
}

// ZoneCount is one Availability Zone's share of a service.
type ZoneCount struct {
	Zone  string
	Tasks int
}

// ZoneImbalance is what ECS's zone rebalancing sees of a service: its live tasks per
// zone, over the zones of the instances that could host it and the zones its tasks are
// in, in zone order.
type ZoneImbalance struct {
	Counts []ZoneCount
	// Fewest is the zone that could host the service with the fewest of its tasks (the
	// first in zone order among equals); Most the zone with the most.
	Fewest, Most string
}

// Balanced reports whether no zone has two tasks more than another: 2, 2, 1 is as even
// as five tasks in three zones can be.
func (z ZoneImbalance) Balanced() bool {
	return z.Fewest == "" || z.Most == "" || z.count(z.Most)-z.count(z.Fewest) <= 1
}

func (z ZoneImbalance) count(zone string) int {
	for _, c := range z.Counts {
		if c.Zone == zone {
			return c.Tasks
		}
	}
	return 0
}

// String lists the counts as ECS's service event does: "3 tasks in us-east-1a, 1 tasks
// in us-east-1b".
func (z ZoneImbalance) String() string {
	parts := make([]string, len(z.Counts))
	for k, c := range z.Counts {
		parts[k] = fmt.Sprintf("%d tasks in %s", c.Tasks, c.Zone)
	}
	return strings.Join(parts, ", ")
}

// Zones returns the service's zone counts over hostZones (the zones that could host
// it: HostZones) and the zones its live tasks are in.
func (s *Service) Zones(hostZones []string) ZoneImbalance {
	var z ZoneImbalance
	for _, zone := range hostZones {
		z.Counts = append(z.Counts, ZoneCount{Zone: zone, Tasks: s.inZone[zone]})
	}
	for zone, n := range s.inZone { // sorted below
		if !slices.Contains(hostZones, zone) {
			z.Counts = append(z.Counts, ZoneCount{Zone: zone, Tasks: n})
		}
	}
	slices.SortFunc(z.Counts, func(a, b ZoneCount) int { return strings.Compare(a.Zone, b.Zone) })
	fewest, most := -1, -1
	for _, c := range z.Counts {
		if slices.Contains(hostZones, c.Zone) && (fewest < 0 || c.Tasks < fewest) {
			z.Fewest, fewest = c.Zone, c.Tasks
		}
		if c.Tasks > most {
			z.Most, most = c.Zone, c.Tasks
		}
	}
	return z
}

// HostZones returns, in order, the zones of the instances that could run the
// service's tasks at all (Hosts).
func (c *Cluster) HostZones(s *Service) ([]string, error) {
	hosts, err := c.Hosts(s)
	if err != nil {
		return nil, err
	}
	var zones []string
	for _, i := range hosts {
		if i.Zone != "" && !slices.Contains(zones, i.Zone) {
			zones = append(zones, i.Zone)
		}
	}
	slices.Sort(zones)
	return zones, nil
}
