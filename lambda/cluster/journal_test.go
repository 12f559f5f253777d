package cluster

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// journalCluster builds a small cluster with the items the journal must restore: tasks
// on instances in two zones, a daemon, a standalone task, deployments.
func journalCluster(t *testing.T) *Cluster {
	t.Helper()
	c := New("j", "us-east-1", "123456789012")
	for k, zone := range []string{"a", "a", "b"} {
		i := &Instance{ARN: fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:container-instance/j/i%d", k), Status: StatusActive, AgentConnected: true,
			Registered: Resources{CPU: 4096, Memory: 8192}, Remaining: Resources{CPU: 4096, Memory: 8192},
			Attributes: []Attribute{{Name: ZoneAttribute, Value: zone}}}
		if err := c.AddInstance(i); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"web", "api"} {
		s := &Service{Name: name, ARN: "arn:aws:ecs:us-east-1:123456789012:service/j/" + name, Status: ServiceActive, SchedulingStrategy: SchedulingReplica,
			DeploymentController: ControllerECS, MinimumHealthyPercent: 100, MaximumPercent: 200, DesiredCount: 3, TaskSize: Resources{CPU: 128, Memory: 256},
			Deployments: []*Deployment{{ID: "ecs-svc/" + name, Status: DeploymentPrimary, RolloutState: RolloutCompleted, DesiredCount: 3, RunningCount: 3}}}
		if err := c.AddService(s); err != nil {
			t.Fatal(err)
		}
		for k := range 3 {
			task := &Task{ARN: fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:task/j/%s%d", name, k), InstanceARN: c.instances[k%2].ARN,
				Group: ServiceGroup(name), LastStatus: TaskRunning, DesiredStatus: TaskRunning, Size: s.TaskSize, StartedBy: "ecs-svc/" + name}
			if err := c.StartTask(task); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := c.StartTask(&Task{ARN: "arn:aws:ecs:us-east-1:123456789012:task/j/standalone", InstanceARN: c.instances[2].ARN, Group: "family:batch",
		LastStatus: TaskPending, DesiredStatus: TaskRunning, Size: Resources{CPU: 64, Memory: 64}}); err != nil {
		t.Fatal(err)
	}
	return c
}

// dump is everything a cluster holds, indexes and counters included, by name.
func dump(c *Cluster) map[string]string {
	out := map[string]string{"lists": fmt.Sprint(len(c.instances), len(c.services), len(c.tasks), len(c.instIndex), len(c.svcIndex), len(c.taskIndex))}
	arns := func(ts taskSet) []string {
		var v []string
		for t := range ts {
			v = append(v, t.ARN)
		}
		slices.Sort(v)
		return v
	}
	for _, i := range c.instances {
		v := *i
		v.tasks, v.epoch = nil, 0
		out["instance "+i.ARN] = fmt.Sprintf("%+v tasks=%v running=%d pending=%d indexed=%v", v, arns(i.tasks), i.running, i.pending, c.instIndex[i.ID()] == i)
	}
	for _, s := range c.services {
		v := *s
		v.tasks, v.onInstance, v.epoch, v.Deployments = nil, nil, 0, nil
		var deps []Deployment
		for _, d := range s.Deployments {
			deps = append(deps, *d)
		}
		on := map[string]int{}
		for i, n := range s.onInstance {
			on[i.ARN] = n
		}
		out["service "+s.Name] = fmt.Sprintf("%+v deployments=%+v tasks=%v on=%v indexed=%v", v, deps, arns(s.tasks), on, c.svcIndex[s.ARN] == s)
	}
	for _, t := range c.tasks {
		v := *t
		v.inst, v.epoch = nil, 0
		inst := ""
		if t.inst != nil {
			inst = t.inst.ARN
		}
		out["task "+t.ARN] = fmt.Sprintf("%+v inst=%s indexed=%v", v, inst, c.taskIndex[t.ID()] == t)
	}
	return out
}

// mutate changes the cluster the ways the simulator does, at random.
func mutate(c *Cluster, rnd *rand.Rand, n int) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for k := range n {
		live := slices.DeleteFunc(slices.Clone(c.tasks), func(t *Task) bool { return !t.Live() })
		switch op := rnd.IntN(7); {
		case op == 0 && len(live) > 0:
			c.StopTask(live[rnd.IntN(len(live))], now, "test")
		case op == 1:
			s := c.services[rnd.IntN(len(c.services))]
			i := c.instances[rnd.IntN(len(c.instances))]
			_ = c.StartTask(&Task{ARN: fmt.Sprintf("%s/new-%d-%d", c.ARN, k, rnd.Uint32()), InstanceARN: i.ARN, Group: ServiceGroup(s.Name),
				LastStatus: TaskPending, DesiredStatus: TaskRunning, Size: s.TaskSize})
		case op == 2 && len(live) > 0:
			c.SetRunning(live[rnd.IntN(len(live))], now)
		case op == 3:
			s := c.services[rnd.IntN(len(c.services))]
			c.ChangingService(s)
			s.DesiredCount++
			s.Deployments[len(s.Deployments)-1].RunningCount++
			s.Deployments = append([]*Deployment{{ID: fmt.Sprint("d", k), Status: DeploymentPrimary}}, s.Deployments...)
		case op == 4:
			i := c.instances[rnd.IntN(len(c.instances))]
			c.ChangingInstance(i)
			i.Status = StatusDraining
			i.SetAttribute("ecs-rebalancer.drained-at", fmt.Sprint(k))
			i.SetAttribute(ZoneAttribute, "c")
		case op == 5 && len(live) > 0:
			t := live[rnd.IntN(len(live))]
			c.ChangingTask(t)
			t.StartedBy = fmt.Sprint("other", k)
		case op == 6:
			_ = c.AddInstance(&Instance{ARN: fmt.Sprintf("%s-extra-%d", c.instances[0].ARN, k), Status: StatusActive, AgentConnected: true})
		}
	}
}

func TestRollbackRestoresEverything(t *testing.T) {
	for seed := range uint64(40) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			c := journalCluster(t)
			rnd := rand.New(rand.NewPCG(seed, 1))
			before := dump(c)
			outer := c.Checkpoint()
			mutate(c, rnd, 1+rnd.IntN(12))
			middle := dump(c)
			// A nested checkpoint, rolled back, leaves the outer changes as they were.
			inner := c.Checkpoint()
			mutate(c, rnd, 1+rnd.IntN(12))
			c.Rollback(inner)
			if diff := cmp.Diff(middle, dump(c)); diff != "" {
				t.Fatalf("inner rollback (-want +got):\n%s", diff)
			}
			mutate(c, rnd, rnd.IntN(6))
			c.Rollback(outer)
			if diff := cmp.Diff(before, dump(c)); diff != "" {
				t.Fatalf("outer rollback (-want +got):\n%s", diff)
			}
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestChangesOutsideACheckpointAreNotSaved(t *testing.T) {
	c := journalCluster(t)
	c.Rollback(c.Checkpoint())
	mutate(c, rand.New(rand.NewPCG(1, 2)), 20)
	if n := len(c.journal.instances) + len(c.journal.services) + len(c.journal.tasks); n != 0 {
		t.Errorf("%d items saved with no checkpoint open", n)
	}
}

func TestACloneHasAJournalOfItsOwn(t *testing.T) {
	c := journalCluster(t)
	m := c.Checkpoint()
	mutate(c, rand.New(rand.NewPCG(1, 2)), 20) // items carry c's epoch
	n := c.Clone()
	mark := n.Checkpoint()
	want := dump(n)
	mutate(n, rand.New(rand.NewPCG(3, 4)), 20)
	n.Rollback(mark)
	if diff := cmp.Diff(want, dump(n)); diff != "" {
		t.Errorf("clone's rollback (-want +got):\n%s", diff)
	}
	c.Rollback(m)
}
