package sim_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
)

// An instance that ends (Spot, a scale-in) takes its tasks with it; the service
// replaces them on the instances left, and the instance is no longer listed.
func TestTerminateInstance(t *testing.T) {
	b := ct.New("demo")
	a, other := b.Instance("us-east-1a"), b.Instance("us-east-1b")
	web := b.Service("web", ct.Desired(4))
	b.Tasks(web, a, 2)
	b.Tasks(web, other, 2)
	s := newSim(t, b)
	if err := s.TerminateInstance(a.ARN); err != nil {
		t.Fatal(err)
	}
	s.Settle(time.Hour)
	s.View(func(c *cluster.Cluster) {
		if n := c.ServiceCountsByInstance(c.Service("web"))[other.ARN]; n != 4 {
			t.Errorf("%d web tasks on the instance left, want 4", n)
		}
		if st := c.Instance(a.ARN).Status; st != cluster.StatusInactive {
			t.Errorf("terminated instance is %s", st)
		}
	})
	out, err := s.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: str("demo")})
	if err != nil || len(out.ContainerInstanceArns) != 1 {
		t.Errorf("listed %v (%v), want only the instance left", out.ContainerInstanceArns, err)
	}
	if err := s.TerminateInstance(a.ARN); err == nil {
		t.Error("an INACTIVE instance terminated twice")
	}
}

// A disconnected agent takes no new task; its tasks keep running, and once it is back
// it takes tasks again.
func TestAgentDisconnect(t *testing.T) {
	b := ct.New("demo")
	a, j := b.Instance("us-east-1a"), b.Instance("us-east-1a")
	web := b.Service("web", ct.Desired(2), ct.Placement("spread", "instanceId"))
	b.Tasks(web, a, 2)
	s := newSim(t, b)
	if err := s.SetAgentConnected(j.ARN, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: str("demo"), Service: str("web"), DesiredCount: int32p(3)}); err != nil {
		t.Fatal(err)
	}
	s.Settle(time.Hour)
	counts := func() map[string]int {
		var out map[string]int
		s.View(func(c *cluster.Cluster) { out = c.ServiceCountsByInstance(c.Service("web")) })
		return out
	}
	if got := counts(); got[j.ARN] != 0 || got[a.ARN] != 3 {
		t.Errorf("with j disconnected: %v, want all 3 on a", got)
	}
	if err := s.SetAgentConnected(j.ARN, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: str("demo"), Service: str("web"), DesiredCount: int32p(4)}); err != nil {
		t.Fatal(err)
	}
	s.Settle(time.Hour)
	if got := counts(); got[j.ARN] != 1 {
		t.Errorf("with j back: %v, want the new task on j", got)
	}
}

func int32p(n int32) *int32 { return &n }
