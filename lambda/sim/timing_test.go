package sim_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

func durationp(d time.Duration) *time.Duration { return &d }

// ECS and Elastic Load Balancing facts: a new task counts for its deployment once it is
// RUNNING and, behind a load balancer, healthy ("after your target is registered, it
// must pass one health check to be considered healthy", every 30 s by default). The
// time a task takes to come up is read from the service's own tasks (startedAt -
// createdAt); the health check grace period is the operator's bound on the wait for
// the first passing check.
func TestNewTaskCountsOnceRunningAndHealthy(t *testing.T) {
	tests := []struct {
		name     string
		observed time.Duration // startedAt - createdAt of the existing tasks; 0: equal timestamps
		opts     []ct.ServiceOpt
		override *cluster.TimingOverride
		want     time.Duration
	}{
		{"no timestamps, no load balancer: the simulation's default", 0, nil, nil, wave},
		{"observed start", 75 * time.Second, nil, nil, 75 * time.Second},
		{"behind a load balancer without a grace period: one health check interval more", 75 * time.Second, []ct.ServiceOpt{ct.LoadBalanced(0)}, nil, 105 * time.Second},
		{"behind a load balancer with a grace period", 75 * time.Second, []ct.ServiceOpt{ct.LoadBalanced(2 * time.Minute)}, nil, 195 * time.Second},
		{"the operator's start replaces the observed one", 75 * time.Second, []ct.ServiceOpt{ct.LoadBalanced(2 * time.Minute)}, &cluster.TimingOverride{Start: durationp(10 * time.Second)}, 130 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := ct.New("demo")
			i := b.Instance("us-east-1a")
			svc := b.Service("web", append([]ct.ServiceOpt{ct.Desired(2), ct.Deploy(50, 100)}, tt.opts...)...)
			for _, tk := range b.Tasks(svc, i, 2) {
				tk.CreatedAt = tk.StartedAt.Add(-tt.observed)
			}
			o := sim.Options{Now: ct.Epoch, TaskStart: wave, Seed: 1}
			if tt.override != nil {
				o.Timing = map[string]cluster.TimingOverride{"web": *tt.override}
			}
			s := sim.New(b.Cluster(t), o)
			if got := s.Timing()["web"].Ready(); got != tt.want {
				t.Errorf("start = %v, want %v", got, tt.want)
			}
			forceDeploy(t, s, "web") // 50/100 of 2: one task at a time
			s.Advance(tt.want - time.Second)
			if v := viewService(s, "web"); v.Pending != 1 || v.Running != 1 {
				t.Errorf("a second before the start: %+v, want the new task still PENDING", v)
			}
			s.Advance(time.Second)
			if v := viewService(s, "web"); v.Running != 1 || v.Pending != 1 {
				t.Errorf("at the start: %+v, want the new task RUNNING and the second wave started", v)
			}
			// Its timestamps show the start as ECS would: RUNNING before the health
			// check passed. A simulator built on what this one did estimates the same.
			s.Settle(time.Hour)
			var again time.Duration
			s.View(func(c *cluster.Cluster) {
				again = cluster.EstimateTiming(c.Service("web"), wave).Ready()
				if tt.override != nil {
					again = tt.override.Apply(cluster.EstimateTiming(c.Service("web"), wave)).Ready()
				}
			})
			if again != tt.want {
				t.Errorf("estimated again from the simulated tasks: %v, want %v", again, tt.want)
			}
		})
	}
}

// ECS facts ("Optimize load balancer connection draining parameters"): ECS waits for
// the target group to drain a stopped task's connections (the deregistration delay,
// 300 s by default), then sends the stop signal and kills what has not exited after
// the stop timeout (30 s by default). Until then the task's CPU and memory stay taken
// on its instance: a replacement that needs them waits.
func TestStoppedTaskHoldsItsResourcesThroughDeregistrationAndStopTimeout(t *testing.T) {
	tests := []struct {
		name     string
		opts     []ct.ServiceOpt
		override *cluster.TimingOverride
		wantHold time.Duration
	}{
		{"no load balancer: the stop timeout", nil, nil, 30 * time.Second},
		{"behind a load balancer: the deregistration delay and the stop timeout", []ct.ServiceOpt{ct.LoadBalanced(0)}, nil, 330 * time.Second},
		{"a shorter deregistration delay and a task that exits at once", []ct.ServiceOpt{ct.LoadBalanced(0)},
			&cluster.TimingOverride{DeregistrationDelay: durationp(5 * time.Second), StopTimeout: durationp(0)}, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := ct.New("demo")
			i := b.Instance("us-east-1a", ct.Resources(512, 1024)) // room for the two tasks only
			svc := b.Service("web", append([]ct.ServiceOpt{ct.Desired(2), ct.Deploy(0, 100)}, tt.opts...)...)
			b.Tasks(svc, i, 2)
			o := sim.Options{Now: ct.Epoch, TaskStart: wave, Seed: 1}
			if tt.override != nil {
				o.Timing = map[string]cluster.TimingOverride{"web": *tt.override}
			}
			s := sim.New(b.Cluster(t), o)
			forceDeploy(t, s, "web") // 0/100: both old tasks stop, then two new ones start
			s.Advance(tt.wantHold - time.Second)
			if v := viewService(s, "web"); v.Running+v.Pending != 0 {
				t.Errorf("a second before the hold ends: %+v, want no new task placed", v)
			}
			remaining := func() (r cluster.Resources) {
				s.View(func(c *cluster.Cluster) { r = c.Instance(i.ARN).Remaining })
				return r
			}
			if got := remaining(); got.CPU != 0 || got.Memory != 0 {
				t.Errorf("remaining while held = %+v, want no CPU or memory", got)
			}
			s.Advance(time.Second)
			if v := viewService(s, "web"); v.Pending != 2 {
				t.Errorf("when the hold ends: %+v, want both new tasks placed", v)
			}
			if got := s.Settle(time.Hour); !got.Idle {
				t.Errorf("Settle = %+v, want idle", got)
			}
			if got := viewService(s, "web"); got.Running != 2 || got.Rollout != cluster.RolloutCompleted {
				t.Errorf("after settling: %+v", got)
			}
		})
	}
}

// A task that crashes, or whose host is lost, holds nothing: its containers are gone.
func TestCrashedTaskFreesItsResourcesAtOnce(t *testing.T) {
	b := ct.New("demo")
	i := b.Instance("us-east-1a", ct.Resources(256, 512))
	svc := b.Service("web", ct.Desired(1), ct.LoadBalanced(0))
	tk := b.Tasks(svc, i, 1)[0]
	s := newSim(t, b)
	if err := s.KillTask(tk.ARN); err != nil {
		t.Fatal(err)
	}
	s.Advance(time.Second)
	if v := viewService(s, "web"); v.Pending != 1 {
		t.Errorf("after the crash: %+v, want the replacement placed at once", v)
	}
}

// A checkpoint takes the holds with it: a what-if that stops tasks leaves the
// instances as they were.
func TestRollbackRestoresHeldResources(t *testing.T) {
	b := ct.New("demo")
	i := b.Instance("us-east-1a", ct.Resources(512, 1024))
	svc := b.Service("web", ct.Desired(2), ct.Deploy(0, 100), ct.LoadBalanced(0))
	b.Tasks(svc, i, 2)
	s := newSim(t, b)
	view := func() (out []any) {
		s.View(func(c *cluster.Cluster) { out = []any{c.Instance(i.ARN).Remaining, c.Service("web").RunningCount()} })
		return out
	}
	before := view()
	m := s.Checkpoint()
	if _, err := s.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: str("demo"), Service: str("web"), ForceNewDeployment: true}); err != nil {
		t.Fatal(err)
	}
	s.Advance(time.Minute)
	s.Rollback(m)
	if diff := cmp.Diff(before, view()); diff != "" {
		t.Errorf("after the rollback (-before +after):\n%s", diff)
	}
	s.Settle(time.Hour) // no release left over from the what-if
	if diff := cmp.Diff(before, view()); diff != "" {
		t.Errorf("settled after the rollback (-before +after):\n%s", diff)
	}
}
