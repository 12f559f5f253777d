package sim_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

// drainCluster: a hot instance with 4 web tasks (and a daemon task and a standalone
// task), two quiet ones, and a daemon on all three.
type drainCluster struct {
	s           *sim.Sim
	hot, q1, q2 *cluster.Instance
	standalone  *cluster.Task
}

func newDrainCluster(t *testing.T, opts ...ct.ServiceOpt) drainCluster {
	b := ct.New("demo")
	hot := b.Instance("us-east-1a")
	q1 := b.Instance("us-east-1b")
	q2 := b.Instance("us-east-1c")
	web := b.Service("web", append([]ct.ServiceOpt{ct.Desired(4), ct.Placement("spread", cluster.FieldInstanceID)}, opts...)...)
	b.Tasks(web, hot, 4)
	logs := b.Service("logs", ct.Daemon(), ct.Desired(3), ct.TaskSize(64, 64))
	for _, i := range []*cluster.Instance{hot, q1, q2} {
		b.Tasks(logs, i, 1)
	}
	job := b.Standalone("report", hot, cluster.Resources{CPU: 128, Memory: 128})
	return drainCluster{s: newSim(t, b), hot: hot, q1: q1, q2: q2, standalone: job}
}

func (d drainCluster) onHot() map[string]int {
	out := map[string]int{}
	d.s.View(func(c *cluster.Cluster) {
		for _, t := range c.Instance(d.hot.ARN).Tasks() {
			out[t.Group]++
		}
	})
	return out
}

// ECS fact (container-instance-draining): a DRAINING instance's service tasks are
// replaced on other instances within minimumHealthyPercent/maximumPercent; standalone
// tasks stay (the instance stays DRAINING); the daemon scheduler stops daemon tasks on a
// DRAINING instance, and its task is the last to stop.
func TestDrainReplacesServiceTasksAndKeepsStandalone(t *testing.T) {
	d := newDrainCluster(t)
	setState(t, d.s, cluster.StatusDraining, d.hot)

	// Wave 1 (min 100 %, max 200 %): replacements start; nothing stops yet.
	d.s.Advance(wave - time.Second)
	if diff := cmp.Diff(map[string]int{"service:web": 4, "service:logs": 1, "family:report": 1}, d.onHot()); diff != "" {
		t.Errorf("before the replacements run (-want +got):\n%s", diff)
	}
	if v := viewService(d.s, "web"); v.Pending != 4 {
		t.Errorf("replacements pending = %d, want 4", v.Pending)
	}
	// Wave 2: they run, the old ones stop, then the daemon task (last) stops.
	d.s.Advance(time.Second)
	if diff := cmp.Diff(map[string]int{"family:report": 1}, d.onHot()); diff != "" {
		t.Errorf("after the drain (-want +got):\n%s", diff)
	}
	if got := d.s.Settle(time.Hour); !got.Idle || len(got.Stalled) > 0 {
		t.Errorf("Settle = %+v", got)
	}
	v := viewService(d.s, "web")
	if diff := cmp.Diff(map[string]int{d.q1.EC2InstanceID: 2, d.q2.EC2InstanceID: 2}, v.PerInstance); diff != "" {
		t.Errorf("web after the drain (-want +got):\n%s", diff)
	}
	if v.Rollout != cluster.RolloutCompleted || v.Deployments != 1 {
		t.Errorf("a drain is not a deployment: %+v", v)
	}
	if st := d.s.Stats(); st.BelowMinHealthy != 0 {
		t.Errorf("BelowMinHealthy = %d", st.BelowMinHealthy)
	}
}

// A short drain moves only part of the tasks: with min 50 % the first wave stops two and
// starts two; setting the instance ACTIVE again before the second wave stops further
// replacement, and nothing moves back.
func TestShortDrainMovesPartOfTheTasks(t *testing.T) {
	d := newDrainCluster(t, ct.Deploy(50, 100))
	setState(t, d.s, cluster.StatusDraining, d.hot)
	d.s.Advance(wave / 2)
	setState(t, d.s, cluster.StatusActive, d.hot)
	d.s.Settle(time.Hour)

	if diff := cmp.Diff(map[string]int{"service:web": 2, "service:logs": 1, "family:report": 1}, d.onHot()); diff != "" {
		t.Errorf("hot instance after a half-wave drain (-want +got):\n%s", diff)
	}
	if v := viewService(d.s, "web"); v.Running != 4 || v.PerInstance[d.q1.EC2InstanceID]+v.PerInstance[d.q2.EC2InstanceID] != 2 {
		t.Errorf("web: %+v", v)
	}
	st := d.s.Stats()
	if st.TasksStopped != 2 || st.TasksStarted != 2 {
		t.Errorf("stopped %d started %d, want 2 and 2", st.TasksStopped, st.TasksStarted)
	}
}

// ECS fact: min=max=100 % prevents draining; min 75 % of 2 with max 100 % cannot stop a
// task either.
func TestDrainBlockedByDeploymentConfiguration(t *testing.T) {
	for _, tt := range []struct {
		name    string
		desired int32
		min     int32
	}{{"min=max=100%", 4, 100}, {"min 75% of 2, max 100%", 2, 75}} {
		t.Run(tt.name, func(t *testing.T) {
			b := ct.New("demo")
			hot := b.Instance("us-east-1a")
			b.Instance("us-east-1b")
			web := b.Service("web", ct.Desired(tt.desired), ct.Deploy(tt.min, 100))
			b.Tasks(web, hot, int(tt.desired))
			s := newSim(t, b)
			setState(t, s, cluster.StatusDraining, hot)
			got := s.Settle(time.Hour)
			if st := s.Stats(); st.TasksStarted+st.TasksStopped != 0 {
				t.Errorf("the drain moved tasks: %+v", st)
			}
			if len(got.Stalled) != 1 || got.Stalled[0] != "web" {
				t.Errorf("Settle = %+v, want web stalled", got)
			}
		})
	}
}

// ECS fact (SDK, DeploymentConfiguration): blue/green (CODE_DEPLOY) and EXTERNAL services
// with tasks on EC2 use the default percents while instances drain, whatever their own:
// min=max=100 % would block a rolling service's drain; theirs starts the replacements
// first and never runs below the desired count.
func TestBlueGreenServicesDrainWithTheDefaultPercents(t *testing.T) {
	for _, controller := range []string{cluster.ControllerCodeDeploy, cluster.ControllerExternal} {
		t.Run(controller, func(t *testing.T) {
			b := ct.New("demo")
			hot := b.Instance("us-east-1a")
			b.Instance("us-east-1b")
			web := b.Service("web", ct.Desired(4), ct.Deploy(100, 100), ct.Controller(controller))
			b.Tasks(web, hot, 4)
			s := newSim(t, b)
			setState(t, s, cluster.StatusDraining, hot)
			got := s.Settle(time.Hour)
			st := s.Stats()
			if st.TasksStarted != 4 || st.TasksStopped != 4 || st.BelowMinHealthy != 0 || len(got.Stalled) != 0 {
				t.Errorf("stats %+v, settled %+v: want 4 replaced, start first", st, got)
			}
		})
	}
}

// ECS fact: service tasks PENDING on an instance set to DRAINING stop at once.
func TestDrainStopsPendingServiceTasksAtOnce(t *testing.T) {
	b := ct.New("demo")
	hot := b.Instance("us-east-1a")
	b.Instance("us-east-1b")
	web := b.Service("web", ct.Desired(2), ct.Deploy(100, 200))
	tasks := append(b.Tasks(web, hot, 1), b.PendingTasks(web, hot, 1)...) // one coming up when the drain starts
	s := newSim(t, b)
	s.Advance(0)
	setState(t, s, cluster.StatusDraining, hot)
	s.Advance(0)
	s.View(func(c *cluster.Cluster) {
		if c.Task(tasks[1].ARN).LastStatus != cluster.TaskStopped {
			t.Errorf("the PENDING task on the draining instance is %s", c.Task(tasks[1].ARN).LastStatus)
		}
		if c.Task(tasks[0].ARN).LastStatus != cluster.TaskRunning {
			t.Errorf("the RUNNING task stopped before its replacement ran")
		}
	})
}

// ECS fact (UpdateContainerInstancesState): only ACTIVE and DRAINING are targets, and
// only instances in those states can change.
func TestUpdateContainerInstancesStateRules(t *testing.T) {
	b := ct.New("demo")
	active := b.Instance("us-east-1a")
	registering := b.Instance("us-east-1b", ct.Status(cluster.StatusRegistering))
	s := newSim(t, b)
	tests := []struct {
		name      string
		ids       []string
		status    types.ContainerInstanceStatus
		errCode   string
		wantFails int
		wantState string
	}{
		{"to REGISTERING is refused", []string{active.ARN}, "REGISTERING", "InvalidParameterException", 0, cluster.StatusActive},
		{"a REGISTERING instance cannot be drained", []string{active.ARN, registering.ARN}, "DRAINING", "InvalidParameterException", 0, cluster.StatusActive},
		{"unknown instance is a MISSING failure", []string{active.ID(), "ghost"}, "DRAINING", "", 1, cluster.StatusDraining},
		{"DRAINING again is a no-op", []string{active.ARN}, "DRAINING", "", 0, cluster.StatusDraining},
		{"back to ACTIVE", []string{active.ARN}, "ACTIVE", "", 0, cluster.StatusActive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := s.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{Cluster: str("demo"), ContainerInstances: tt.ids, Status: tt.status})
			if code(err) != tt.errCode {
				t.Fatalf("error %v, want %q", err, tt.errCode)
			}
			if err == nil && len(out.Failures) != tt.wantFails {
				t.Errorf("failures %+v, want %d", out.Failures, tt.wantFails)
			}
			s.View(func(c *cluster.Cluster) {
				if got := c.Instance(active.ARN).Status; got != tt.wantState {
					t.Errorf("instance is %s, want %s", got, tt.wantState)
				}
			})
		})
	}
}

// ECS fact (daemon scheduling): one task on every ACTIVE instance, placed on a new one at
// once; stopped on a DRAINING instance; back when it is ACTIVE again.
func TestDaemonFollowsInstances(t *testing.T) {
	b := ct.New("demo")
	i1 := b.Instance("us-east-1a")
	i2 := b.Instance("us-east-1b")
	logs := b.Service("logs", ct.Daemon(), ct.Desired(2), ct.TaskSize(64, 64))
	b.Tasks(logs, i1, 1)
	b.Tasks(logs, i2, 1)
	s := newSim(t, b)

	joiner := &cluster.Instance{
		ARN: "arn:aws:ecs:us-east-1:111122223333:container-instance/demo/joiner", EC2InstanceID: "i-0joiner",
		Status: cluster.StatusActive, AgentConnected: true, RegisteredAt: ct.Epoch,
		Registered: cluster.Resources{CPU: 2048, Memory: 4096}, Remaining: cluster.Resources{CPU: 2048, Memory: 4096},
	}
	if err := s.RegisterInstance(joiner); err != nil {
		t.Fatal(err)
	}
	s.Advance(0)
	v := viewService(s, "logs")
	if v.PerInstance["i-0joiner"] != 1 || v.Pending != 1 {
		t.Fatalf("daemon on the joiner right after it registered: %+v", v)
	}
	s.View(func(c *cluster.Cluster) {
		if ji := c.Instance(joiner.ARN); ji.RunningTasksCount() != 1 || ji.PendingTasksCount() != 1 {
			t.Errorf("joiner counts running %d pending %d: a PENDING task counts in both", ji.RunningTasksCount(), ji.PendingTasksCount())
		}
	})
	s.Advance(wave)
	if v := viewService(s, "logs"); v.Running != 3 {
		t.Errorf("daemon running on %d instances, want 3", v.Running)
	}

	setState(t, s, cluster.StatusDraining, i1)
	s.Advance(0)
	if v := viewService(s, "logs"); v.PerInstance[i1.EC2InstanceID] != 0 {
		t.Errorf("daemon task still on the DRAINING instance: %+v", v)
	}
	setState(t, s, cluster.StatusActive, i1)
	s.Settle(time.Hour)
	if v := viewService(s, "logs"); v.PerInstance[i1.EC2InstanceID] != 1 || v.Running != 3 {
		t.Errorf("daemon after reactivation: %+v", v)
	}
	s.View(func(c *cluster.Cluster) {
		if got := c.Service("logs").DesiredCount; got != 3 {
			t.Errorf("daemon desiredCount = %d, want 3 (one per ACTIVE instance)", got)
		}
	})
}

// New tasks never land on DRAINING or agent-disconnected instances.
func TestNoPlacementOnUnschedulableInstances(t *testing.T) {
	b := ct.New("demo")
	ok := b.Instance("us-east-1a")
	off := b.Instance("us-east-1b", ct.Disconnected())
	dr := b.Instance("us-east-1c", ct.Status(cluster.StatusDraining))
	web := b.Service("web", ct.Desired(6), ct.Placement("spread", cluster.FieldInstanceID))
	b.Tasks(web, ok, 6)
	s := newSim(t, b)
	forceDeploy(t, s, "web")
	s.Settle(time.Hour)
	if diff := cmp.Diff(map[string]int{ok.EC2InstanceID: 6}, viewService(s, "web").PerInstance); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	_, _ = off, dr
}
