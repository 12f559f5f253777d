package replay_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/replay"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/snapshot"
)

// Predictions must not see the world's seed: worlds that differ only in their seed get
// the same decision and the same predictions, and their outcomes differ (ties fall
// differently), which a prediction that replayed the world's own future would hide.
func TestPredictionsCannotSeeTheWorldsSeed(t *testing.T) {
	c := ct.Generate(ct.GenOptions{Name: "gen", Seed: 3, Instances: 12, Joiners: 1, Zones: 3, Services: 6, Tasks: 96, Skew: 0.5})
	joiner := c.Instances()[12]
	ev := replay.Event{Path: "join", Raw: ct.JoinEvent(c, joiner, ct.Epoch), Time: ct.Epoch}
	cfg := config.Default()
	cfg.Clusters = []string{c.Name}
	world := func(seed int64) replay.Result {
		snap := &snapshot.Snapshot{Cluster: c.Clone(), Simulation: snapshot.Simulation{TaskStartSeconds: 30, Now: ct.Epoch, Seed: seed}}
		return replay.Run(cfg, snap, []replay.Event{ev})[0]
	}
	first := world(1)
	if first.Decision == "skip" {
		t.Fatalf("no decision to compare: %s", first.Reason)
	}
	outcomes := map[float64]bool{first.COVAfter: true}
	for seed := int64(2); seed <= 6; seed++ {
		r := world(seed)
		if r.Decision != first.Decision || r.Reason != first.Reason {
			t.Errorf("seed %d decided %s (%s), seed 1 %s (%s)", seed, r.Decision, r.Reason, first.Decision, first.Reason)
		}
		if diff := cmp.Diff(first.Predictions, r.Predictions); diff != "" {
			t.Errorf("seed %d changed the predictions (-seed 1 +seed %d):\n%s", seed, seed, diff)
		}
		outcomes[r.COVAfter] = true
	}
	if len(outcomes) < 2 {
		t.Errorf("six worlds all ended at COV %v: the seed decides nothing here, so this test shows nothing", first.COVAfter)
	}
}
