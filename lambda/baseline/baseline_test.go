package baseline_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/baseline"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

const taskStart = 30 * time.Second

func newSim(t *testing.T, b *ct.Builder) *sim.Sim {
	t.Helper()
	return sim.New(b.Cluster(t), sim.Options{Now: ct.Epoch, TaskStart: taskStart, Seed: 1})
}

func run(t *testing.T, policy string, s *sim.Sim) error {
	t.Helper()
	ctx, cancel := s.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	return baseline.ByName(policy)(ctx, s, s, "demo")
}

// mutation is a successful mutating call: UpdateService of a service, or a state
// (DRAINING, ACTIVE) for instances by EC2 ID, in the order given, at virtual time At.
type mutation struct {
	Call   string
	Target []string
	At     time.Duration
}

func mutations(s *sim.Sim, ec2 map[string]string) []mutation {
	var out []mutation
	for _, c := range s.Calls() {
		if c.Err != nil {
			continue
		}
		switch in := c.Input.(type) {
		case *ecs.UpdateServiceInput:
			out = append(out, mutation{Call: "UpdateService", Target: []string{lastPart(aws.ToString(in.Service))}, At: c.At.Sub(ct.Epoch)})
		case *ecs.UpdateContainerInstancesStateInput:
			var ids []string
			for _, arn := range in.ContainerInstances {
				ids = append(ids, ec2[arn])
			}
			out = append(out, mutation{Call: string(in.Status), Target: ids, At: c.At.Sub(ct.Epoch)})
		}
	}
	return out
}

func ec2IDs(instances ...*cluster.Instance) map[string]string {
	m := map[string]string{}
	for _, i := range instances {
		m[i.ARN] = i.EC2InstanceID
	}
	return m
}

// The AWS sample redeploys every service, whatever its kind; ECS refuses the
// CODE_DEPLOY one and the rest go ahead.
func TestRedeployAllRedeploysEveryService(t *testing.T) {
	b := ct.New("demo")
	a, c := b.Instance("us-east-1a"), b.Instance("us-east-1b")
	b.Instance("us-east-1a") // the joiner
	web := b.Service("web", ct.Desired(4))
	b.Tasks(web, a, 3)
	b.Tasks(web, c, 1)
	agent := b.Service("agent", ct.Daemon())
	b.Tasks(agent, a, 1)
	b.Tasks(agent, c, 1)
	blue := b.Service("blue", ct.Desired(2), ct.Controller(cluster.ControllerCodeDeploy))
	b.Tasks(blue, a, 2)
	s := newSim(t, b)

	err := run(t, baseline.RedeployAll, s)
	if err == nil || !strings.Contains(err.Error(), "blue") {
		t.Errorf("error = %v, want ECS refusing the CODE_DEPLOY service", err)
	}
	// Attempts, refused or not: ECS refuses blue, so it is not among the mutations.
	var got []string
	for _, c := range s.Calls() {
		if in, ok := c.Input.(*ecs.UpdateServiceInput); ok {
			got = append(got, lastPart(aws.ToString(in.Service)))
		}
	}
	slices.Sort(got)
	if diff := cmp.Diff([]string{"agent", "blue", "web"}, got); diff != "" {
		t.Errorf("UpdateService calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"agent", "web"}, redeployed(s)); diff != "" {
		t.Errorf("redeployed (-want +got):\n%s", diff)
	}
}

func lastPart(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// Uneven means tasks per ACTIVE instance (none counts as zero) differing by more than
// one: the joiner makes a 1/1 service look even (1,1,0) and a 3/1 one uneven.
func TestRedeployUnevenPicksServicesWhoseCountsDifferByMoreThanOne(t *testing.T) {
	b := ct.New("demo")
	a, c := b.Instance("us-east-1a"), b.Instance("us-east-1b")
	b.Instance("us-east-1a") // the joiner
	even := b.Service("even", ct.Desired(2))
	b.Tasks(even, a, 1)
	b.Tasks(even, c, 1)
	uneven := b.Service("uneven", ct.Desired(4))
	b.Tasks(uneven, a, 3)
	b.Tasks(uneven, c, 1)
	piled := b.Service("piled", ct.Desired(2), ct.Placement("binpack", "memory"))
	b.Tasks(piled, a, 2)
	s := newSim(t, b)

	if err := run(t, baseline.RedeployUneven, s); err != nil {
		t.Fatal(err)
	}
	// Whatever its kind: the binpack service's 2/0/0 is uneven too.
	if diff := cmp.Diff([]string{"piled", "uneven"}, redeployed(s)); diff != "" {
		t.Errorf("redeployed (-want +got):\n%s", diff)
	}
}

// redeployed names the services given a new deployment, sorted.
func redeployed(s *sim.Sim) []string {
	var out []string
	for _, m := range mutations(s, nil) {
		if m.Call == "UpdateService" {
			out = append(out, m.Target...)
		}
	}
	slices.Sort(out)
	return out
}

func TestDrainBusiest(t *testing.T) {
	type cluster3 struct {
		b                          *ct.Builder
		busy, light, joiner, other *cluster.Instance
	}
	// busy runs 8 tasks, light 2 (and is full), the joiner none and has room for
	// room CPU; other was drained by someone else.
	build := func(room int64) cluster3 {
		b := ct.New("demo")
		k := cluster3{b: b}
		k.busy = b.Instance("us-east-1a")
		k.light = b.Instance("us-east-1b", ct.Resources(256, 512)) // full
		k.joiner = b.Instance("us-east-1a", ct.Resources(room, 2*room))
		k.other = b.Instance("us-east-1b", ct.Status(cluster.StatusDraining))
		web := b.Service("web", ct.Desired(10), ct.TaskSize(128, 256))
		b.Tasks(web, k.busy, 8)
		b.Tasks(web, k.light, 2)
		return k
	}
	t.Run("below the gate it does nothing", func(t *testing.T) {
		b := ct.New("demo")
		x, y := b.Instance("us-east-1a"), b.Instance("us-east-1b")
		web := b.Service("web", ct.Desired(8))
		b.Tasks(web, x, 4)
		b.Tasks(web, y, 4)
		s := newSim(t, b)
		if err := run(t, baseline.DrainBusiest, s); err != nil {
			t.Fatal(err)
		}
		if got := s.Stats().MutatingCalls; got != 0 {
			t.Errorf("%d mutating calls at COV 0", got)
		}
	})
	t.Run("drains the busiest until at the mean, then reactivates every DRAINING instance", func(t *testing.T) {
		k := build(2048)
		s := newSim(t, k.b)
		if err := run(t, baseline.DrainBusiest, s); err != nil {
			t.Fatal(err)
		}
		ids := ec2IDs(k.busy, k.light, k.joiner, k.other)
		got := mutations(s, ids)
		// Replacements start at once and run after taskStart; the old tasks stop then,
		// and the next 5 s poll sees the instance empty.
		want := []mutation{
			{Call: "DRAINING", Target: []string{k.busy.EC2InstanceID}},
			{Call: "ACTIVE", Target: []string{k.busy.EC2InstanceID, k.other.EC2InstanceID}, At: 30 * time.Second},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("mutating calls (-want +got):\n%s", diff)
		}
		s.View(func(c *cluster.Cluster) {
			if st := c.Instance(k.other.ARN).Status; st != cluster.StatusActive {
				t.Errorf("the foreign drain is %s, want ACTIVE: the script undoes it", st)
			}
		})
	})
	t.Run("gives up after 60 s when the tasks cannot move", func(t *testing.T) {
		k := build(64) // no room anywhere for a 128-CPU task
		s := newSim(t, k.b)
		if err := run(t, baseline.DrainBusiest, s); err != nil {
			t.Fatal(err)
		}
		got := mutations(s, ec2IDs(k.busy, k.light, k.joiner, k.other))
		if len(got) != 2 || got[1].Call != "ACTIVE" || got[1].At != 60*time.Second {
			t.Errorf("mutating calls = %+v, want DRAINING then ACTIVE at 60 s", got)
		}
	})
}
