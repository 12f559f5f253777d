package cluster_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
)

func TestAddRejectsContradictions(t *testing.T) {
	tests := []struct {
		name    string
		build   func(b *ct.Builder) error
		wantErr string
	}{
		{
			name: "duplicate instance ARN",
			build: func(b *ct.Builder) error {
				i := b.Instance("us-east-1a")
				dup := *i
				return b.Unchecked().AddInstance(&dup)
			},
			wantErr: "duplicate container instance",
		},
		{
			name: "duplicate service",
			build: func(b *ct.Builder) error {
				s := b.Service("web")
				dup := *s
				return b.Unchecked().AddService(&dup)
			},
			wantErr: "duplicate service web",
		},
		{
			name: "duplicate task",
			build: func(b *ct.Builder) error {
				i := b.Instance("us-east-1a")
				s := b.Service("web", ct.Desired(1))
				tk := b.Tasks(s, i, 1)[0]
				dup := *tk
				return b.Unchecked().AddTask(&dup)
			},
			wantErr: "duplicate task",
		},
		{
			name: "task on an unknown instance",
			build: func(b *ct.Builder) error {
				return b.Unchecked().AddTask(&cluster.Task{ARN: "arn:aws:ecs:us-east-1:1:task/demo/abc", InstanceARN: "arn:aws:ecs:us-east-1:1:container-instance/demo/nope", LastStatus: "RUNNING"})
			},
			wantErr: "task arn:aws:ecs:us-east-1:1:task/demo/abc is on container instance arn:aws:ecs:us-east-1:1:container-instance/demo/nope, which is not in the cluster",
		},
		{
			name: "task of an unknown service",
			build: func(b *ct.Builder) error {
				i := b.Instance("us-east-1a")
				return b.Unchecked().AddTask(&cluster.Task{ARN: "arn:aws:ecs:us-east-1:1:task/demo/abc", InstanceARN: i.ARN, Group: "service:ghost", LastStatus: "RUNNING"})
			},
			wantErr: "belongs to service ghost",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.build(ct.New("demo"))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	b := ct.New("demo")
	neg := b.Instance("us-east-1a")
	neg.Remaining.CPU = -1
	over := b.Instance("us-east-1a")
	over.Remaining.Memory = over.Registered.Memory + 1
	full := b.Instance("us-east-1b", ct.Resources(2048, 4096))
	web := b.Service("web", ct.Desired(2))
	b.Tasks(web, full, 2)
	full.Remaining = full.Registered // tasks reserve 512 CPU that the instance does not show
	odd := b.Service("odd", ct.Placement("spread", "bogus"), ct.Constraint("memberOf", "nonsense =="))
	odd.MinimumHealthyPercent = 150
	odd.SchedulingStrategy = "SOMETIMES"

	err := b.Unchecked().Validate()
	if err == nil {
		t.Fatal("Validate accepted a contradictory cluster")
	}
	for _, want := range []string{
		neg.ARN + ": negative remaining",
		over.ARN + ": remaining resources",
		full.ARN + ": its tasks reserve cpu 512",
		"service odd: unknown schedulingStrategy",
		"service odd: minimumHealthyPercent 150",
		"service odd: spread placement on unsupported field",
		"service odd: placement constraint memberOf",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error lacks %q:\n%v", want, err)
		}
	}
}

func TestStartAndStopKeepIndexesAndResources(t *testing.T) {
	b := ct.New("demo")
	i := b.Instance("us-east-1a", ct.Resources(1024, 2048))
	s := b.Service("web", ct.Desired(2), ct.TaskSize(256, 512))
	tasks := b.Tasks(s, i, 2)
	c := b.Cluster(t)

	// The builder's m7g.large takes two awsvpc tasks; these are not awsvpc.
	if got, want := i.Remaining, (cluster.Resources{CPU: 512, Memory: 1024, ENIs: 2}); got != want {
		t.Fatalf("remaining after two tasks = %+v, want %+v", got, want)
	}
	now := ct.Epoch
	c.StopTask(tasks[0], now, "test")
	c.StopTask(tasks[0], now, "twice is a no-op")
	if got, want := i.Remaining, (cluster.Resources{CPU: 768, Memory: 1536, ENIs: 2}); got != want {
		t.Errorf("remaining after a stop = %+v, want %+v", got, want)
	}
	if i.RunningTasksCount() != 1 || s.RunningCount() != 1 || len(s.Tasks()) != 1 || len(i.Tasks()) != 1 {
		t.Errorf("counts after a stop: instance %d, service %d", i.RunningTasksCount(), s.RunningCount())
	}
	if c.Task(tasks[0].ID()) != tasks[0] || tasks[0].LastStatus != cluster.TaskStopped {
		t.Errorf("a stopped task stays describable by ID with status STOPPED")
	}

	p := &cluster.Task{ARN: c.ARN + "/new", InstanceARN: i.ARN, Group: cluster.ServiceGroup("web"), LastStatus: cluster.TaskPending, DesiredStatus: cluster.TaskRunning, Size: s.TaskSize}
	if err := c.StartTask(p); err != nil {
		t.Fatal(err)
	}
	if i.PendingTasksCount() != 1 || i.RunningTasksCount() != 2 || s.PendingCount() != 1 || s.RunningCount() != 1 {
		t.Errorf("a PENDING task counts in pendingTasksCount and (desired RUNNING) runningTasksCount: instance running %d pending %d; service running %d pending %d",
			i.RunningTasksCount(), i.PendingTasksCount(), s.RunningCount(), s.PendingCount())
	}
	c.SetRunning(p, now.Add(30*time.Second))
	if i.PendingTasksCount() != 0 || s.RunningCount() != 2 || !p.StartedAt.Equal(now.Add(30*time.Second)) {
		t.Errorf("after SetRunning: instance pending %d, service running %d", i.PendingTasksCount(), s.RunningCount())
	}
}

func TestCloneIsIndependent(t *testing.T) {
	b := ct.New("demo")
	i := b.Instance("us-east-1a")
	s := b.Service("web", ct.Desired(2), ct.Tag("team", "a"))
	tasks := b.Tasks(s, i, 2)
	c := b.Cluster(t)

	n := c.Clone()
	if diff := cmp.Diff(summary(c), summary(n)); diff != "" {
		t.Fatalf("clone differs (-orig +clone):\n%s", diff)
	}
	n.StopTask(n.Task(tasks[0].ARN), ct.Epoch, "clone only")
	n.Instance(i.ARN).SetAttribute("x", "y")
	n.Service("web").Tags[0].Value = "b"
	n.Service("web").Deployments[0].RolloutState = "IN_PROGRESS"
	if tasks[0].LastStatus != cluster.TaskRunning || i.RunningTasksCount() != 2 {
		t.Error("stopping a task in the clone changed the original")
	}
	if _, ok := i.Attribute("x"); ok {
		t.Error("attribute set on the clone appeared on the original")
	}
	if s.Tags[0].Value != "a" || s.Deployments[0].RolloutState != cluster.RolloutCompleted {
		t.Error("service edits on the clone reached the original")
	}
}

func summary(c *cluster.Cluster) map[string]any {
	out := map[string]any{}
	for _, i := range c.Instances() {
		out[i.ARN] = [3]any{i.RunningTasksCount(), i.Remaining, i.Zone}
	}
	for _, s := range c.Services() {
		out[s.Name] = [2]int{s.RunningCount(), len(s.Tasks())}
	}
	return out
}
