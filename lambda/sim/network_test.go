package sim_test

import (
	"testing"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

// ECS fact (task definition parameters, portMappings hostPort): a task that maps a
// static host port cannot be placed on an instance where another task binds that
// port. A 100 %/200 % deployment needs an instance with the port free for each new
// task before it stops an old one: with none, it stalls.
func TestStaticHostPortStallsAStartFirstDeployment(t *testing.T) {
	for _, spare := range []bool{false, true} {
		name := map[bool]string{false: "every instance binds the port: stalls", true: "one instance free: one task at a time"}[spare]
		t.Run(name, func(t *testing.T) {
			b := ct.New("demo")
			a := b.Instance("us-east-1a", ct.Resources(4096, 8192))
			c := b.Instance("us-east-1b", ct.Resources(4096, 8192))
			if spare {
				b.Instance("us-east-1c", ct.Resources(4096, 8192))
			}
			web := b.Service("web", ct.Desired(2), ct.Deploy(100, 200), ct.HostPorts(80))
			b.Tasks(web, a, 1)
			b.Tasks(web, c, 1)
			s := sim.New(b.Cluster(t), sim.Options{Now: ct.Epoch, TaskStart: wave, Seed: 1})
			forceDeploy(t, s, "web")
			s.Settle(time.Hour)
			v := viewService(s, "web")
			for id, n := range v.PerInstance {
				if n > 1 {
					t.Errorf("%d tasks binding port 80 on %s", n, id)
				}
			}
			want := cluster.RolloutInProgress
			if spare {
				want = cluster.RolloutCompleted
			}
			if v.Rollout != want || v.Running != 2 {
				t.Errorf("after an hour: %+v, want rollout %s with 2 running", v, want)
			}
		})
	}
}

// A stopping task keeps its host port until it has stopped (the stop timeout here,
// 30 s by default): a replacement that binds the same port waits for it, though
// the instance has the CPU and memory.
func TestStoppingTaskHoldsItsHostPort(t *testing.T) {
	b := ct.New("demo")
	i := b.Instance("us-east-1a", ct.Resources(4096, 8192))
	web := b.Service("web", ct.Desired(1), ct.Deploy(0, 100), ct.HostPorts(80))
	b.Tasks(web, i, 1)
	s := sim.New(b.Cluster(t), sim.Options{Now: ct.Epoch, TaskStart: wave, Seed: 1})
	forceDeploy(t, s, "web")
	s.Advance(cluster.DefaultStopTimeout - time.Second)
	if v := viewService(s, "web"); v.Running+v.Pending != 0 {
		t.Errorf("a second before the old task has stopped: %+v, want nothing placed", v)
	}
	s.Advance(time.Second)
	if v := viewService(s, "web"); v.Pending != 1 {
		t.Errorf("once the old task has stopped: %+v, want the new task placed", v)
	}
}

// ECS fact ("Amazon ECS task networking options for EC2", awsvpc): each awsvpc task
// takes an elastic network interface, and an instance takes as many as its type
// allows less its primary one. An m5.large with room for many more tasks by CPU and
// memory takes two.
func TestAWSVPCInterfaceLimitBinds(t *testing.T) {
	b := ct.New("demo")
	i := b.Instance("us-east-1a", ct.Resources(8192, 32768), ct.Attr(cluster.InstanceTypeAttribute, "m5.large"))
	api := b.Service("api", ct.Desired(4), ct.AWSVPC())
	b.Tasks(api, i, 1)
	s := sim.New(b.Cluster(t), sim.Options{Now: ct.Epoch, TaskStart: wave, Seed: 1})
	s.Settle(time.Hour)
	if v := viewService(s, "api"); v.Running != 2 || v.Pending != 0 {
		t.Errorf("after an hour: %+v, want 2 running: the instance's two interfaces", v)
	}

	// With ENI trunking the same type takes ten.
	b = ct.New("demo")
	i = b.Instance("us-east-1a", ct.Resources(8192, 32768), ct.Attr(cluster.InstanceTypeAttribute, "m5.large"), ct.Attr(cluster.TrunkAttribute, "eni-0123456789abcdef0"))
	api = b.Service("api", ct.Desired(12), ct.AWSVPC())
	b.Tasks(api, i, 1)
	s = sim.New(b.Cluster(t), sim.Options{Now: ct.Epoch, TaskStart: wave, Seed: 1})
	s.Settle(time.Hour)
	if v := viewService(s, "api"); v.Running != 10 {
		t.Errorf("trunked, after an hour: %+v, want 10 running", v)
	}
}
