package cluster_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
)

// The level index is a faster way to the same target: on generated clusters of every
// shape, the target with it equals the target by scanning.
func TestLevelIndexChangesNoTarget(t *testing.T) {
	for seed := range uint64(24) {
		o := ct.GenOptions{Name: fmt.Sprint("gen", seed), Seed: seed, Instances: 6 + int(seed*7)%60, Joiners: 1 + int(seed)%3, Zones: 1 + int(seed)%4,
			Services: 3 + int(seed*5)%40, Daemons: int(seed) % 2, Tasks: 40 + int(seed*37)%900, Skew: float64(seed%5) / 4, Ineligible: seed%3 == 0, Tight: seed%4 == 1}
		t.Run(o.Name, func(t *testing.T) {
			c := ct.Generate(o)
			movable := func(s *cluster.Service) bool { return !s.IsDaemon() }
			want := cluster.ReachableByScan(c, movable)
			if diff := cmp.Diff(want, c.Reachable(movable)); diff != "" {
				t.Errorf("with the level index (-scan +index):\n%s", diff)
			}
		})
	}
}
