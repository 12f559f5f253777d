package sim_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

// placements redeploys web on a fresh copy with opts and returns where its tasks
// landed and the new deployment's ID: what the random stream decides.
func placements(t *testing.T, opts sim.Options) (map[string]int, string) {
	b := ct.New("demo")
	var is []*cluster.Instance
	for range 6 {
		is = append(is, b.Instance("us-east-1a"))
	}
	web := b.Service("web", ct.Desired(4), ct.Placement("random", ""))
	b.Tasks(web, is[0], 4)
	s := sim.New(b.Cluster(t), opts)
	forceDeploy(t, s, "web")
	s.Settle(wave * 10)
	var dep string
	s.View(func(c *cluster.Cluster) { dep = c.Service("web").Primary().ID })
	return viewService(s, "web").PerInstance, dep
}

// A prediction sample with the same seed as a world must not replay the world's
// draws: the two streams are apart whatever the numbers.
func TestSampleStreamIsNotTheWorlds(t *testing.T) {
	opts := sim.Options{Now: ct.Epoch, TaskStart: wave, Seed: 1}
	world, worldDep := placements(t, opts)
	again, againDep := placements(t, opts)
	if diff := cmp.Diff(world, again); diff != "" || worldDep != againDep {
		t.Fatalf("the same world differs from itself: %s", diff)
	}
	opts.Sample = true
	_, sampleDep := placements(t, opts)
	if sampleDep == worldDep {
		t.Errorf("a sample with the world's seed drew the world's deployment ID %s", worldDep)
	}
}

// Each world takes one reading of which task stops within a zone from its seed, and
// an explicit one overrides it.
func TestStopRuleFromSeed(t *testing.T) {
	// Zone a: a1 holds 3 web tasks, a2 1; zone b: b1 holds 2. Scaling in by one stops a
	// task of zone a: on a1 under the busiest-instance reading, anywhere in zone a
	// under the other.
	scaleIn := func(opts sim.Options) map[string]int {
		b := ct.New("demo")
		a1, a2, b1 := b.Instance("us-east-1a"), b.Instance("us-east-1a"), b.Instance("us-east-1b")
		web := b.Service("web", ct.Desired(6))
		b.Tasks(web, a1, 3)
		b.Tasks(web, a2, 1)
		b.Tasks(web, b1, 2)
		c := b.Cluster(t)
		c.Service("web").DesiredCount = 5
		s := sim.New(c, opts)
		s.Settle(wave)
		return viewService(s, "web").PerInstance
	}
	busiest := cluster.StopOnBusiestInstance
	for seed := range uint64(20) {
		got := scaleIn(sim.Options{Now: ct.Epoch, TaskStart: wave, Seed: seed, StopRule: &busiest})
		if n := len(got); n != 3 || got[firstID(t)] != 2 {
			t.Fatalf("seed %d, busiest-instance reading: %v, want a1 down to 2", seed, got)
		}
	}
	stoppedOnA2 := false
	for seed := range uint64(40) {
		got := scaleIn(sim.Options{Now: ct.Epoch, TaskStart: wave, Seed: seed})
		if len(got) == 2 {
			stoppedOnA2 = true // a2 lost its only task: only the random-in-zone reading does that
		}
	}
	if !stoppedOnA2 {
		t.Error("no seed took the random-in-zone reading")
	}
}

// firstID is the EC2 ID the builder gives the first instance of cluster "demo".
func firstID(t *testing.T) string {
	b := ct.New("demo")
	return b.Instance("us-east-1a").EC2InstanceID
}
