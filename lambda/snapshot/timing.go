package snapshot

import (
	"fmt"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

// TimingNotes says, per service, the task timing the simulator will assume and where
// each part comes from: what ECS's reads showed, and which defaults it took for what
// they do not (the target group's own delay needs Elastic Load Balancing permissions).
func TimingNotes(c *cluster.Cluster) []string {
	var out []string
	for _, svc := range c.Services() {
		t := cluster.EstimateTiming(svc, sim.DefaultTaskStart)
		note := fmt.Sprintf("service %s: counts %s after placement: start %s from its tasks' median startedAt - createdAt", svc.Name, t.Ready(), t.Start)
		if _, ok := cluster.ObservedStart(svc); !ok {
			note = fmt.Sprintf("service %s: counts %s after placement: start %s, the default (its tasks show none)", svc.Name, t.Ready(), t.Start)
		}
		if len(svc.LoadBalancers) > 0 {
			source := "its health check grace period"
			if svc.HealthCheckGracePeriod == 0 {
				source = "one default health check interval"
			}
			note += fmt.Sprintf(", then %s to pass its first health check (%s)", t.Healthy, source)
		}
		note += fmt.Sprintf("; a stop holds its room %s: stop timeout %s (the agent's default)", t.Hold(), t.StopTimeout)
		if t.DeregistrationDelay > 0 {
			note += fmt.Sprintf(" after a deregistration delay of %s (the target group default)", t.DeregistrationDelay)
		}
		out = append(out, note+"; simulation.services."+svc.Name+" corrects them")
	}
	return out
}
