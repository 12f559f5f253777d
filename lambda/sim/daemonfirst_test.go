package sim_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
)

// ECS fact (daemon scheduling): "the daemon task is the first task to launch on the
// instances". On a joiner with room for one task, a replica service waiting for room
// and the daemon both want it: the daemon's task goes first.
func TestDaemonTaskLaunchesFirstOnAJoiner(t *testing.T) {
	for _, raiseFirst := range []bool{false, true} {
		b := ct.New("demo")
		a := b.Instance("us-east-1a", ct.Resources(384, 384))
		web := b.Service("web", ct.Desired(1), ct.TaskSize(256, 256))
		b.Tasks(web, a, 1)
		logs := b.Service("logs", ct.Daemon(), ct.Desired(1), ct.TaskSize(128, 128))
		b.Tasks(logs, a, 1)
		s := newSim(t, b)
		raise := func() {
			if _, err := s.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: str("demo"), Service: str("web"), DesiredCount: int32p(2)}); err != nil {
				t.Fatal(err)
			}
		}
		if raiseFirst {
			raise()
			s.Advance(time.Minute) // web waits for room
		}
		j := &cluster.Instance{ARN: "arn:aws:ecs:us-east-1:111122223333:container-instance/demo/ffff", EC2InstanceID: "i-0ffff", Status: cluster.StatusActive,
			AgentConnected: true, RegisteredAt: s.Now(), Registered: cluster.Resources{CPU: 256, Memory: 256}, Remaining: cluster.Resources{CPU: 256, Memory: 256}}
		j.SetAttribute(cluster.ZoneAttribute, "us-east-1a")
		if err := s.RegisterInstance(j); err != nil {
			t.Fatal(err)
		}
		if !raiseFirst {
			raise()
		}
		s.Advance(time.Minute)
		var groups []string
		s.View(func(c *cluster.Cluster) {
			for _, tk := range c.Instance(j.ARN).Tasks() {
				groups = append(groups, tk.Group)
			}
		})
		if len(groups) != 1 || groups[0] != "service:logs" {
			t.Errorf("raise first %v: the joiner runs %v, want the daemon's task", raiseFirst, groups)
		}
	}
}
