package sim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

// perZone is a service's live tasks per zone.
func perZone(s *sim.Sim, name string) map[string]int {
	out := map[string]int{}
	s.View(func(c *cluster.Cluster) {
		for _, t := range c.Service(name).Tasks() {
			out[t.AvailabilityZone]++
		}
	})
	return out
}

// skewed is a cluster with web's four tasks in us-east-1a and an empty instance in
// us-east-1b, web shaped by opts.
func skewed(opts ...ct.ServiceOpt) *ct.Builder {
	b := ct.New("demo")
	a := b.Instance("us-east-1a", ct.Resources(2048, 4096))
	b.Instance("us-east-1b", ct.Resources(2048, 4096))
	web := b.Service("web", append([]ct.ServiceOpt{ct.Desired(4)}, opts...)...)
	b.Tasks(web, a, 4)
	return b
}

// ECS fact (Availability Zone rebalancing): a steady service that enables it and is
// uneven across zones gets a task started in the zone with the fewest, then, once that
// one is RUNNING, a task stopped in the zone with the most; never fewer RUNNING than
// desired, never more than one above.
func TestZoneRebalancingMovesTasksStartFirst(t *testing.T) {
	s := newSim(t, skewed(ct.ZoneRebalancing()))
	for range 40 {
		s.Advance(5 * time.Second)
		v := viewService(s, "web")
		if v.Running < 4 || v.Running+v.Pending > 5 {
			t.Fatalf("at %s web runs %d with %d pending, want 4 or 5 live and never fewer than 4 RUNNING", s.Now().Sub(ct.Epoch), v.Running, v.Pending)
		}
	}
	if diff := cmp.Diff(map[string]int{"us-east-1a": 2, "us-east-1b": 2}, perZone(s, "web")); diff != "" {
		t.Errorf("web per zone (-want +got):\n%s", diff)
	}
	var msgs []string
	for _, e := range s.Events() {
		if strings.Contains(e.Message, "AZ") {
			msgs = append(msgs, e.Message[:strings.IndexAny(e.Message, ":.")])
		}
	}
	want := []string{
		"service (web) is not AZ balanced with 4 tasks in us-east-1a, 0 tasks in us-east-1b",
		"web has started 1 tasks in Availability Zone us-east-1b to AZ Rebalance",
		"web has stopped 1 running tasks in Availability Zone us-east-1a due to AZ rebalancing",
		"web has started 1 tasks in Availability Zone us-east-1b to AZ Rebalance",
		"web has stopped 1 running tasks in Availability Zone us-east-1a due to AZ rebalancing",
		"service (web) is AZ balanced with 2 tasks in us-east-1a, 2 tasks in us-east-1b",
	}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("service events (-want +got):\n%s", diff)
	}
	if st := s.Settle(time.Hour); !st.Idle {
		t.Errorf("a balanced service keeps the simulator busy: %+v", st)
	}
}

// ECS fact (Availability Zone rebalancing): only services that turn it on, and that ECS
// can rebalance, move by themselves.
func TestZoneRebalancingLeavesOtherServicesAlone(t *testing.T) {
	tests := []struct {
		name string
		opts []ct.ServiceOpt
	}{
		{"absent", nil},
		{"disabled", []ct.ServiceOpt{func(s *cluster.Service) { s.AvailabilityZoneRebalancing = cluster.ZoneRebalancingDisabled }}},
		{"maximum 100 percent", []ct.ServiceOpt{ct.ZoneRebalancing(), ct.Deploy(50, 100)}},
		{"external controller", []ct.ServiceOpt{ct.ZoneRebalancing(), ct.Controller(cluster.ControllerExternal)}},
		{"binpack first", []ct.ServiceOpt{ct.ZoneRebalancing(), ct.Placement("binpack", "memory")}},
		{"spread on instances first", []ct.ServiceOpt{ct.ZoneRebalancing(), ct.Placement("spread", "instanceId", "spread", cluster.FieldZone)}},
		{"zone constraint", []ct.ServiceOpt{ct.ZoneRebalancing(), ct.Constraint("memberOf", "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]")}},
		{"classic load balancer", []ct.ServiceOpt{ct.ZoneRebalancing(), ct.ClassicLB()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, skewed(tt.opts...))
			s.Settle(time.Hour)
			if diff := cmp.Diff(map[string]int{"us-east-1a": 4}, perZone(s, "web")); diff != "" {
				t.Errorf("web per zone (-want +got):\n%s", diff)
			}
			if got := s.Stats().TasksStarted; got != 0 {
				t.Errorf("%d tasks started, want none", got)
			}
		})
	}
}

// ECS fact (Availability Zone rebalancing is best effort): with no room in the zone
// with the fewest, nothing moves, and the task starts there once room appears.
func TestZoneRebalancingWaitsForRoomInTheZone(t *testing.T) {
	b := ct.New("demo")
	a := b.Instance("us-east-1a", ct.Resources(2048, 4096))
	full := b.Instance("us-east-1b", ct.Resources(256, 512))
	other := b.Service("other", ct.Desired(1))
	b.Tasks(other, full, 1)
	web := b.Service("web", ct.Desired(4), ct.ZoneRebalancing())
	b.Tasks(web, a, 4)
	s := newSim(t, b)
	s.Advance(10 * time.Minute)
	if diff := cmp.Diff(map[string]int{"us-east-1a": 4}, perZone(s, "web")); diff != "" {
		t.Fatalf("web per zone with no room in us-east-1b (-want +got):\n%s", diff)
	}
	j := &cluster.Instance{ARN: "arn:aws:ecs:us-east-1:111122223333:container-instance/demo/ffff", EC2InstanceID: "i-0ffff", Status: cluster.StatusActive,
		AgentConnected: true, RegisteredAt: s.Now(), Registered: cluster.Resources{CPU: 2048, Memory: 4096}, Remaining: cluster.Resources{CPU: 2048, Memory: 4096}}
	j.SetAttribute(cluster.ZoneAttribute, "us-east-1b")
	if err := s.RegisterInstance(j); err != nil {
		t.Fatal(err)
	}
	s.Settle(time.Hour)
	if diff := cmp.Diff(map[string]int{"us-east-1a": 2, "us-east-1b": 2}, perZone(s, "web")); diff != "" {
		t.Errorf("web per zone after a joiner in us-east-1b (-want +got):\n%s", diff)
	}
	if v := viewService(s, "web"); v.PerInstance["i-0ffff"] != 2 {
		t.Errorf("web per instance %v, want both moved tasks on the joiner", v.PerInstance)
	}
}

// ECS fact (Availability Zone rebalancing runs on a steady service): a deployment that
// starts during a move takes over; the service ends at its desired count, and
// rebalances again once the deployment is done.
func TestZoneRebalancingGivesWayToADeployment(t *testing.T) {
	s := newSim(t, skewed(ct.ZoneRebalancing(), ct.Placement("spread", cluster.FieldZone, "spread", "instanceId")))
	s.Advance(time.Second) // the first move's task is PENDING
	if v := viewService(s, "web"); v.Pending != 1 {
		t.Fatalf("web has %d pending, want the move's task", v.Pending)
	}
	forceDeploy(t, s, "web")
	s.Settle(time.Hour)
	v := viewService(s, "web")
	if v.Running != 4 || v.Pending != 0 || v.Deployments != 1 {
		t.Errorf("web after the deployment: %+v, want 4 RUNNING and one deployment", v)
	}
	if diff := cmp.Diff(map[string]int{"us-east-1a": 2, "us-east-1b": 2}, perZone(s, "web")); diff != "" {
		t.Errorf("web per zone (-want +got):\n%s", diff)
	}
}

// A rollback in the middle of a zone move restores it: the same future follows.
func TestRollbackRestoresAZoneMove(t *testing.T) {
	s := newSim(t, skewed(ct.ZoneRebalancing()))
	s.Advance(10 * time.Second)
	m := s.Checkpoint()
	s.Settle(time.Hour)
	want := traceOf(s)
	s.Rollback(m)
	s.Settle(time.Hour)
	if diff := cmp.Diff(want, traceOf(s)); diff != "" {
		t.Errorf("after a rollback mid-move (-first +second):\n%s", diff)
	}
}
