package predict

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
)

// The forked prefix search must predict what redeploying each prefix from scratch
// predicts, sample by sample: the fork is a shortcut, not a different model.
func TestForkedPrefixesMatchRunsFromScratch(t *testing.T) {
	for _, gen := range []ct.GenOptions{
		{Name: "roomy", Seed: 2, Instances: 12, Joiners: 1, Zones: 3, Services: 8, Daemons: 1, Tasks: 160, Skew: 0.7},
		{Name: "tight", Seed: 4, Instances: 10, Joiners: 2, Zones: 2, Services: 6, Tasks: 200, Skew: 0.9, Tight: true, Ineligible: true},
	} {
		t.Run(gen.Name, func(t *testing.T) {
			c := ct.Generate(gen)
			cfg := config.Default()
			cfg.PredictionSamples = 4
			eligible, _ := plan.Eligibility(c, cfg.OptOutTag)
			movable := func(s *cluster.Service) bool { return eligible[s.Name] != nil }
			in := Input{Cluster: c, Config: cfg, Now: ct.Epoch, Budget: time.Hour, TaskStart: 30 * time.Second}
			p := newPredictor(context.Background(), in, movable, 0, c.Reachable(movable))
			targets := plan.RedeployTargets(c, cfg)
			if len(targets) < 3 {
				t.Fatalf("only %d targets: the test needs prefixes to compare", len(targets))
			}
			forked := p.prefixes(targets)
			if len(forked) != len(targets) {
				t.Fatalf("%d prefixes for %d targets", len(forked), len(targets))
			}
			for j := range forked {
				for k := range p.opts {
					want := p.run(k, config.StrategyForceNewDeployment, plan.Outcome{Services: targets[:j+1]}, false)
					if diff := cmp.Diff(describe(want), describe(forked[j][k])); diff != "" {
						t.Errorf("prefix %d, sample %d (-from scratch +forked):\n%s", j+1, k, diff)
					}
				}
			}
		})
	}
}

func describe(r result) string {
	return fmt.Sprintf("cov %.6f stopped %d seconds %.1f services %v err %v", r.cov, r.stopped, r.seconds, r.outcome.Services, r.err)
}
