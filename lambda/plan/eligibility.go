// Package plan holds the rebalancer's decisions (docs/decisions.md, "What it does with an event"):
// the join check, eligibility, the imbalance of each service, the candidates of a drain
// round, and the choice between strategies from their predictions. Everything here is a
// function of the cluster model; acting is the actor's job (package act).
package plan

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
)

// Skip names something the rebalancer leaves alone, and why.
type Skip struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Ineligible returns why the rebalancer must not touch a service, or "" when it may
// (docs/decisions.md, "Strategies"; safety guarantee 4): a REPLICA service on EC2 capacity,
// spread-first or unplaced, at steady state, with at least two tasks, the rolling (ECS)
// deployment controller, a deployment configuration that lets a task be replaced, and
// without the opt-out tag.
func Ineligible(s *cluster.Service, optOutTag string) string {
	return IneligibleCounting(s, s.RunningCount(), s.PendingCount(), optOutTag)
}

// IneligibleCounting is Ineligible for a service whose tasks were not read: its
// running and pending counts are DescribeServices' (the actor checks a service this
// way just before it acts on it).
func IneligibleCounting(s *cluster.Service, running, pending int, optOutTag string) string {
	minHealthy, maxTotal := s.HealthyBounds()
	switch {
	case s.Status != cluster.ServiceActive:
		return "service status " + s.Status
	case s.IsDaemon():
		return "DAEMON scheduling"
	case s.OnFargate():
		return "runs on Fargate"
	case s.LaunchType == cluster.LaunchExternal:
		return "EXTERNAL launch type"
	case s.DeploymentController != cluster.ControllerECS:
		return s.DeploymentController + " deployment controller"
	case s.DeploymentStrategy != "" && s.DeploymentStrategy != "ROLLING":
		return s.DeploymentStrategy + " deployment strategy (only rolling deployments are touched)"
	case len(s.PlacementStrategy) > 0 && s.PlacementStrategy[0].Type == cluster.StrategyBinpack:
		return "binpack-first placement"
	case len(s.PlacementStrategy) > 0 && s.PlacementStrategy[0].Type == cluster.StrategyRandom:
		return "random-first placement"
	case optedOut(s, optOutTag):
		return "opted out (tag " + optOutTag + "=true)"
	case s.DesiredCount < 2:
		return fmt.Sprintf("desired count %d (below 2)", s.DesiredCount)
	case len(s.Deployments) > 1:
		return fmt.Sprintf("deployment in progress (%d deployments)", len(s.Deployments))
	case s.Primary() != nil && s.Primary().RolloutState == cluster.RolloutInProgress:
		return "deployment in progress (rollout IN_PROGRESS)"
	case s.Primary() != nil && s.Primary().RolloutState == cluster.RolloutFailed:
		return "last rollout FAILED"
	case running != int(s.DesiredCount) || pending > 0:
		return fmt.Sprintf("not at steady state (running %d, pending %d, desired %d)", running, pending, s.DesiredCount)
	case int(s.DesiredCount)-minHealthy < 1 && maxTotal-int(s.DesiredCount) < 1:
		return fmt.Sprintf("deployment configuration lets no task be replaced (minimum healthy %d%%, maximum %d%% of %d)",
			s.MinimumHealthyPercent, s.MaximumPercent, s.DesiredCount)
	}
	return ""
}

func optedOut(s *cluster.Service, key string) bool {
	v, ok := s.Tag(key)
	return ok && strings.EqualFold(strings.TrimSpace(v), "true")
}

// Eligibility splits the cluster's services into the eligible ones (by name) and the
// skipped ones with their reasons, in the cluster's order.
func Eligibility(c *cluster.Cluster, optOutTag string) (map[string]*cluster.Service, []Skip) {
	eligible := map[string]*cluster.Service{}
	var skipped []Skip
	for _, s := range c.Services() {
		if reason := Ineligible(s, optOutTag); reason != "" {
			skipped = append(skipped, Skip{Name: s.Name, Reason: reason})
			continue
		}
		eligible[s.Name] = s
	}
	return eligible, skipped
}

// Imbalance is how unevenly a service is spread: the largest and smallest number of
// its tasks on the instances that could host it.
type Imbalance struct {
	Service string `json:"service"`
	Max     int    `json:"max"`
	Min     int    `json:"min"`
	Desired int    `json:"desired"`
	Spread  int    `json:"spread"` // Max - Min
}

// Imbalances returns the eligible services whose counts across their possible hosts
// differ by more than one (docs/decisions.md, "Measuring balance"), largest spread first, then the
// larger service, then by name.
func Imbalances(c *cluster.Cluster, eligible map[string]*cluster.Service) []Imbalance {
	schedulable := 0
	for _, i := range c.Instances() {
		if i.Schedulable() {
			schedulable++
		}
	}
	var out []Imbalance
	for _, s := range eligible {
		counts := c.ServiceCountsByInstance(s)
		im := Imbalance{Service: s.Name, Desired: int(s.DesiredCount)}
		if len(s.PlacementConstraints) == 0 && len(s.CapacityProviderStrategy) == 0 {
			// Every schedulable instance can host it: the spread follows from its own
			// tasks, without a pass over the instances.
			if schedulable < 2 {
				continue
			}
			hosting := 0
			im.Min = math.MaxInt
			for arn, n := range counts {
				if i := c.Instance(arn); i != nil && i.Schedulable() {
					hosting++
					im.Max, im.Min = max(im.Max, n), min(im.Min, n)
				}
			}
			if hosting < schedulable {
				im.Min = 0
			}
		} else {
			hosts, err := c.Hosts(s)
			if err != nil || len(hosts) < 2 {
				continue
			}
			im.Min = counts[hosts[0].ARN]
			for _, h := range hosts {
				im.Max, im.Min = max(im.Max, counts[h.ARN]), min(im.Min, counts[h.ARN])
			}
		}
		if im.Spread = im.Max - im.Min; im.Spread > 1 {
			out = append(out, im)
		}
	}
	slices.SortFunc(out, func(a, b Imbalance) int {
		if a.Spread != b.Spread {
			return b.Spread - a.Spread
		}
		if a.Desired != b.Desired {
			return b.Desired - a.Desired
		}
		return strings.Compare(a.Service, b.Service)
	})
	return out
}
