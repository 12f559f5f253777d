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
		start := "its tasks' median startedAt - createdAt"
		if t.Start == sim.DefaultTaskStart && len(svc.LoadBalancers) == 0 {
			start = "the default (its tasks show none)"
		}
		if len(svc.LoadBalancers) > 0 {
			start += ", plus the health check grace period (or one 30 s health check)"
		}
		stop := fmt.Sprintf("stop timeout %s (the agent's default)", t.StopTimeout)
		if t.DeregistrationDelay > 0 {
			stop += fmt.Sprintf(", deregistration delay %s (the target group default)", t.DeregistrationDelay)
		}
		out = append(out, fmt.Sprintf("service %s: start %s from %s; %s; set simulation.services.%s to correct them", svc.Name, t.Start, start, stop, svc.Name))
	}
	return out
}
