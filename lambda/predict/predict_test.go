package predict_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/predict"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/snapshot"
)

func decide(c *cluster.Cluster, cfg config.Config) plan.Decision {
	return predict.Decide(context.Background(), predict.Input{Cluster: c, Config: cfg, Now: ct.Epoch, Budget: time.Hour, TaskStart: 30 * time.Second})
}

func TestDecideGate(t *testing.T) {
	cfg := config.Default()
	// 19 instances at 10 tasks and one empty joiner: sqrt(20)/19 = 23.54% < 25%.
	counts := make([]int, 0, 20)
	for range 19 {
		counts = append(counts, 10)
	}
	d := decide(ct.Loaded(t, append(counts, 0)...), cfg)
	want := "COV 23.54% is at or below COV_PERCENT 25%; with 20 instances one empty joiner only reaches 23.54%: lower COV_PERCENT for a cluster this size"
	if d.Strategy != plan.StrategySkip || d.Reason != want || d.COVBefore != 23.54 {
		t.Errorf("Decide = %s %q (cov %v), want skip %q", d.Strategy, d.Reason, d.COVBefore, want)
	}
}

// zonesOfDifferentSizes is the reachable-target example: zones a (a1 loaded, a2 the
// joiner), b and c, three services spread zones first. The floor is 38.49 %.
func zonesOfDifferentSizes(t *testing.T) *cluster.Cluster {
	b := ct.New("demo")
	a1 := b.Instance("us-east-1a")
	b.Instance("us-east-1a", ct.RegisteredAt(ct.Epoch.Add(-time.Minute)))
	b1, c1 := b.Instance("us-east-1b"), b.Instance("us-east-1c")
	for _, name := range []string{"api", "web", "worker"} {
		s := b.Service(name, ct.Desired(6), ct.TaskSize(16, 16))
		b.Tasks(s, a1, 2)
		b.Tasks(s, b1, 2)
		b.Tasks(s, c1, 2)
	}
	return b.Cluster(t)
}

func TestDecideAimsAtTheReachableFloor(t *testing.T) {
	d := decide(zonesOfDifferentSizes(t), config.Default())
	if d.COVFloor != 38.49 || d.Goal != 38.99 || !d.FloorBinds || d.ReachableMoves != 3 {
		t.Fatalf("floor %v goal %v binds %v moves %v; want 38.49, 38.99, true, 3", d.COVFloor, d.Goal, d.FloorBinds, d.ReachableMoves)
	}
	if !strings.Contains(d.Reason, "the services' own placement allows no lower than 38.49%") {
		t.Errorf("the reason does not say the floor binds: %q", d.Reason)
	}
	for _, p := range d.Predictions {
		if p.Possible && p.Reaches != (p.COVHigh <= d.Goal) {
			t.Errorf("%s: reaches %v with pessimistic COV %v against goal %v", p.Strategy, p.Reaches, p.COVHigh, d.Goal)
		}
	}
}

func TestDecideSkipsWhatOnlyTheRulesKeepUneven(t *testing.T) {
	// Only a binpack-first service (never moved) is uneven: nothing to do, and no
	// prediction is run for it.
	b := ct.New("demo")
	i1 := b.Instance("us-east-1a")
	i2 := b.Instance("us-east-1a", ct.RegisteredAt(ct.Epoch.Add(-time.Minute)))
	batch := b.Service("batch", ct.Desired(8), ct.Placement("binpack", "memory"), ct.TaskSize(16, 16))
	b.Tasks(batch, i1, 8)
	web := b.Service("web", ct.Desired(4), ct.TaskSize(16, 16))
	b.Tasks(web, i1, 2)
	b.Tasks(web, i2, 2)
	d := decide(b.Cluster(t), config.Default())
	if d.Strategy != plan.StrategySkip || len(d.Predictions) != 0 || !strings.Contains(d.Reason, "the lowest the services' own placement allows") {
		t.Errorf("Decide = %s %q with %d predictions", d.Strategy, d.Reason, len(d.Predictions))
	}
}

func TestPredictionsAreDistributions(t *testing.T) {
	c := ct.Generate(ct.GenOptions{Name: "gen", Seed: 3, Instances: 12, Joiners: 1, Zones: 3, Services: 6, Tasks: 96, Skew: 0.5})
	cfg := config.Default()
	d := predict.Decide(context.Background(), predict.Input{Cluster: c, Config: cfg, Now: ct.Epoch.Add(time.Minute), Budget: time.Hour, TaskStart: 30 * time.Second})
	if d.Samples != cfg.PredictionSamples || len(d.Predictions) == 0 {
		t.Fatalf("%d samples, %d predictions: %s", d.Samples, len(d.Predictions), d.Reason)
	}
	for _, p := range d.Predictions {
		if !p.Possible {
			continue
		}
		if p.Samples != cfg.PredictionSamples || p.COVLow > p.COVAfter || p.COVAfter > p.COVHigh || p.Restarts > p.RestartsHigh {
			t.Errorf("%s: %d samples, COV %v in %v-%v, restarts %d (worst %d)", p.Strategy, p.Samples, p.COVAfter, p.COVLow, p.COVHigh, p.Restarts, p.RestartsHigh)
		}
	}
	again := predict.Decide(context.Background(), predict.Input{Cluster: c, Config: cfg, Now: ct.Epoch.Add(time.Minute), Budget: time.Hour, TaskStart: 30 * time.Second})
	if again.Reason != d.Reason || again.SampleSeed != d.SampleSeed {
		t.Errorf("the same input decided differently:\n%s\n%s", d.Reason, again.Reason)
	}
}

func TestSampleSeedsFollowTheInput(t *testing.T) {
	c := ct.Loaded(t, 9, 3, 0)
	a, b := predict.SampleSeeds(c, ct.Epoch, 8), predict.SampleSeeds(c, ct.Epoch, 8)
	later := predict.SampleSeeds(c, ct.Epoch.Add(time.Second), 8)
	seen := map[uint64]bool{}
	for k := range a {
		if a[k] != b[k] || a[k] == later[k] {
			t.Errorf("seed %d: %d, %d, later %d", k, a[k], b[k], later[k])
		}
		if seen[a[k]] {
			t.Errorf("seed %d repeats", a[k])
		}
		seen[a[k]] = true
	}
}

func TestOutOfComputeTime(t *testing.T) {
	// A clock that has already run past the budget: the move is not predicted, the
	// prefix search stops after its first prefix and the drain is not predicted.
	c := ct.Generate(ct.GenOptions{Name: "gen", Seed: 3, Instances: 12, Joiners: 1, Zones: 3, Services: 6, Tasks: 96, Skew: 0.9})
	cfg := config.Default()
	cfg.COVPercent = 1
	tick := ct.Epoch
	clock := func() time.Time { tick = tick.Add(time.Hour); return tick }
	d := predict.Decide(context.Background(), predict.Input{Cluster: c, Config: cfg, Now: ct.Epoch.Add(time.Minute), Budget: time.Hour,
		TaskStart: 30 * time.Second, Clock: clock, ComputeBudget: time.Minute})
	if len(d.Predictions) != 3 {
		t.Fatalf("%d predictions: %s", len(d.Predictions), d.Reason)
	}
	move, fnd, drain := d.Predictions[0], d.Predictions[1], d.Predictions[2]
	if move.Possible || !strings.Contains(move.Reason, "ran out") {
		t.Errorf("move %+v", move)
	}
	if len(fnd.Run.Services) != 1 || !strings.Contains(fnd.Reason, "ran out") {
		t.Errorf("force-new-deployment tried %v: %q", fnd.Run.Services, fnd.Reason)
	}
	if drain.Possible || !strings.Contains(drain.Reason, "ran out") {
		t.Errorf("drain %+v", drain)
	}
}

// Decide predicts on the cluster it is given and must hand it back exactly as it was:
// the actor then acts on it for real.
func TestDecideLeavesTheClusterAsItWas(t *testing.T) {
	for _, name := range []string{"headline", "large", "lazy", "mixed", "stale"} {
		t.Run(name, func(t *testing.T) {
			if name == "large" && testing.Short() {
				t.Skip("300 instances: not in the edit-test loop (-short)")
			}
			var snap *snapshot.Snapshot
			if name == "stale" {
				// Deployments whose counts lag their tasks (a read in the middle of a
				// change): the first step recounts them, and that too is rolled back.
				c := ct.Generate(ct.GenOptions{Name: "stale", Seed: 2, Instances: 8, Joiners: 1, Zones: 2, Services: 5, Tasks: 80, Skew: 0.8})
				for _, s := range c.Services() {
					s.Deployments[0].RunningCount = 0
				}
				snap = &snapshot.Snapshot{Cluster: c, Simulation: snapshot.Simulation{Now: ct.Epoch, TaskStartSeconds: 30}}
			} else {
				var err error
				if snap, err = snapshot.Load("../../testdata/snapshots/" + name + ".json"); err != nil {
					t.Fatal(err)
				}
			}
			encode := func() string {
				var b strings.Builder
				if err := snapshot.Encode(&b, snap.Cluster, snap.Simulation); err != nil {
					t.Fatal(err)
				}
				return b.String()
			}
			before := encode()
			cfg := config.Default()
			cfg.COVPercent = 1 // predict every strategy, whatever the cluster
			d := predict.Decide(context.Background(), predict.Input{Cluster: snap.Cluster, Config: cfg, Now: snap.Simulation.Now, Budget: time.Hour, TaskStart: 30 * time.Second})
			if len(d.Predictions) == 0 {
				t.Fatalf("no prediction ran: %s", d.Reason)
			}
			if diff := cmp.Diff(before, encode()); diff != "" {
				t.Errorf("the cluster changed (-before +after):\n%s", diff)
			}
			if err := snap.Cluster.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}

// ECS's own Availability Zone rebalancing counts as what the cluster does by itself: a
// service that enables it moves half its tasks to a joiner in its empty zone without
// the rebalancer, so there is nothing to do; the same service without it is moved.
func TestDecideCountsOnECSZoneRebalancing(t *testing.T) {
	for _, enabled := range []bool{true, false} {
		b := ct.New("demo")
		a := b.Instance("us-east-1a", ct.Resources(2048, 4096))
		b.Instance("us-east-1b", ct.Resources(2048, 4096), ct.RegisteredAt(ct.Epoch.Add(-time.Minute)))
		opts := []ct.ServiceOpt{ct.Desired(6), ct.TaskSize(16, 16)}
		if enabled {
			opts = append(opts, ct.ZoneRebalancing())
		}
		b.Tasks(b.Service("web", opts...), a, 6)
		d := decide(b.Cluster(t), config.Default())
		if by := strings.Contains(d.Reason, "reaches the goal") && strings.Contains(d.Reason, "by itself"); d.Strategy != plan.StrategySkip || !by {
			if enabled {
				t.Errorf("rebalancing enabled: %s %q, want a skip because ECS rebalances the zones itself", d.Strategy, d.Reason)
			}
		} else if !enabled {
			t.Errorf("rebalancing disabled: %s %q, want the rebalancer to act", d.Strategy, d.Reason)
		}
	}
}
