package sim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
)

// ECS's Availability Zone rebalancing (ECS Developer Guide, "Balancing an Amazon ECS
// service across Availability Zones"): once a service that enables it is steady, ECS
// looks at its tasks per zone; when they are uneven it starts a task in the zone with
// the fewest, waits for it to be RUNNING (and healthy: the simulator's RUNNING comes
// after the health checks), then stops one in the zone with the most. It does this
// within maximumPercent and the service's placement, on a best-effort basis.
//
// Not documented, so chosen here: one task moves at a time; the task stopped is the one
// the service's scale-in would stop (PickToStop, which takes the zone with the most
// first); a protected task is not stopped; among zones tied for the fewest, the first
// in name order gets the task; a task that cannot be placed waits until room frees up
// in that zone. Fargate services are not rebalanced here: the simulator gives Fargate
// tasks no zone.

// zoneMove is a rebalancing under way: the task started in the zone with the fewest,
// nil between two moves.
type zoneMove struct {
	task *cluster.Task
}

// rebalancesZones reports whether the simulator moves svc's tasks between zones.
func rebalancesZones(svc *cluster.Service) bool {
	return svc.RebalancesZones() && !svc.OnFargate()
}

// zonesOf is svc's tasks per zone over the zones that could host it.
func (s *Sim) zonesOf(svc *cluster.Service) (cluster.ZoneImbalance, error) {
	if len(svc.PlacementConstraints) > 0 || len(svc.CapacityProviderStrategy) > 0 {
		zones, err := s.c.HostZones(svc)
		if err != nil {
			return cluster.ZoneImbalance{}, err
		}
		return svc.Zones(zones), nil
	}
	return svc.Zones(s.schedulableZones()), nil
}

// schedulableZones is the zones of the schedulable instances, kept until an instance
// changes.
func (s *Sim) schedulableZones() []string {
	if s.zones == nil {
		s.zones = []string{}
		for _, i := range s.c.Instances() {
			if i.Schedulable() && i.Zone != "" && !slices.Contains(s.zones, i.Zone) {
				s.zones = append(s.zones, i.Zone)
			}
		}
		slices.Sort(s.zones)
	}
	return s.zones
}

// needsZoneMove reports whether a steady svc is uneven across zones and enables
// rebalancing: New gives such a service its first look.
func (s *Sim) needsZoneMove(svc *cluster.Service) bool {
	if !rebalancesZones(svc) {
		return false
	}
	z, err := s.zonesOf(svc)
	return err == nil && !z.Balanced()
}

// rebalanceZones starts the next zone move of a steady service, or ends its
// rebalancing when it is even.
func (s *Sim) rebalanceZones(svc *cluster.Service) {
	waited := s.zoneWait[svc] != ""
	delete(s.zoneWait, svc)
	if m, moving := s.zoneMoves[svc]; (moving && m.task != nil) || !rebalancesZones(svc) {
		return
	}
	if !steady(svc) {
		delete(s.zoneMoves, svc) // a deployment or a scale-in took over; a later steady state looks again
		return
	}
	z, err := s.zonesOf(svc)
	if err != nil {
		return // the placement error is the service's own, and its steps log it
	}
	_, moving := s.zoneMoves[svc]
	if z.Balanced() {
		if moving {
			delete(s.zoneMoves, svc)
			s.logEvent(svc, fmt.Sprintf("service (%s) is AZ balanced with %s.", svc.Name, z))
		}
		return
	}
	if _, maxTotal := svc.HealthyBounds(); svc.RunningCount()+1 > maxTotal {
		return // no room above the desired count for the task that moves
	}
	if !moving {
		s.zoneMoves[svc] = &zoneMove{}
		s.logEvent(svc, fmt.Sprintf("service (%s) is not AZ balanced with %s. AZ Rebalancing in progress.", svc.Name, z))
	}
	i, err := s.c.PlaceInZone(svc, svc.TaskSize, z.Fewest, s.rng.IntN)
	var t *cluster.Task
	if err == nil && i != nil {
		t = s.startTaskOn(svc, i)
	}
	if t == nil {
		s.zoneWait[svc] = z.Fewest
		if !waited {
			s.logEvent(svc, fmt.Sprintf("service (%s) is unable to place a task in Availability Zone %s because no container instance met all of its requirements.", svc.Name, z.Fewest))
		}
		return
	}
	s.zoneMoves[svc].task = t
	s.logEvent(svc, fmt.Sprintf("%s has started 1 tasks in Availability Zone %s to AZ Rebalance: %s.", svc.Name, z.Fewest, taskID(t.ARN)))
}

// zoneMoveTask is the task svc's zone move started, while it is live and current; a
// task superseded (a deployment, a draining instance) or gone ends the move, and the
// scheduler treats it as any other.
func (s *Sim) zoneMoveTask(svc *cluster.Service) *cluster.Task {
	m := s.zoneMoves[svc]
	if m == nil || m.task == nil {
		return nil
	}
	if !m.task.Live() || s.isOld(svc, m.task) {
		delete(s.zoneMoves, svc)
		return nil
	}
	return m.task
}

// finishZoneMove stops a task in the zone with the most once the task started in the
// zone with the fewest is RUNNING; keep are the service's current tasks but that one.
// It returns keep without the task stopped.
func (s *Sim) finishZoneMove(svc *cluster.Service, keep []*cluster.Task) []*cluster.Task {
	s.zoneMoves[svc].task = nil
	free := s.unprotected(keep, func(t *cluster.Task) bool { return t.Protected(s.now) })
	if len(free) == 0 {
		return keep // the service runs one more than it wants until a scale-in can stop one
	}
	victim := s.c.PickToStop(svc, free, s.stopRule, s.rng.IntN)
	zone := victim.AvailabilityZone
	s.stopTask(victim, "Task stopped by Availability Zone rebalancing")
	s.logEvent(svc, fmt.Sprintf("%s has stopped 1 running tasks in Availability Zone %s due to AZ rebalancing: %s.", svc.Name, zone, taskID(victim.ARN)))
	return without(keep, victim)
}

// wakeZoneWaiters gives the services waiting for room in zone another look.
func (s *Sim) wakeZoneWaiters(zone string) {
	if len(s.zoneWait) == 0 {
		return
	}
	var woken []*cluster.Service
	for svc, z := range s.zoneWait {
		if z == zone || zone == "" {
			woken = append(woken, svc)
		}
	}
	slices.SortFunc(woken, func(a, b *cluster.Service) int { return strings.Compare(a.ARN, b.ARN) })
	for _, svc := range woken {
		delete(s.zoneWait, svc)
		s.schedule(svc, s.now)
	}
}

// zonesChanged reacts to an instance change: when the zones that have schedulable
// instances change, every service that rebalances looks again (a zone came back, or
// one is gone); the services waiting for room in the instance's zone look again too.
func (s *Sim) zonesChanged(i *cluster.Instance) {
	if !s.anyRebalances {
		return
	}
	before := s.zones
	s.zones = nil
	if before != nil && !slices.Equal(before, s.schedulableZones()) {
		for _, svc := range s.c.Services() {
			if rebalancesZones(svc) {
				s.schedule(svc, s.now)
			}
		}
	}
	s.wakeZoneWaiters(i.Zone)
}

// taskID is the last part of a task ARN, as ECS's service events name tasks.
func taskID(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }
