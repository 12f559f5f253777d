package sim_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

const wave = 30 * time.Second

func newSim(t *testing.T, b *ct.Builder) *sim.Sim {
	t.Helper()
	return sim.New(b.Cluster(t), sim.Options{Now: ct.Epoch, TaskStart: wave, Seed: 1})
}

// code is the API error code of err, or "".
func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

var ctx = context.Background()

func str(s string) *string { return aws.String(s) }

// serviceView is what tests look at of a service after the simulation moved it.
type serviceView struct {
	Running, Pending int
	Deployments      int
	Rollout          string
	PerInstance      map[string]int // EC2 instance ID -> live tasks
}

func viewService(s *sim.Sim, name string) serviceView {
	var v serviceView
	s.View(func(c *cluster.Cluster) {
		svc := c.Service(name)
		v = serviceView{Running: svc.RunningCount(), Pending: svc.PendingCount(), Deployments: len(svc.Deployments), PerInstance: map[string]int{}}
		if p := svc.Primary(); p != nil {
			v.Rollout = p.RolloutState
		}
		for arn, n := range c.ServiceCountsByInstance(svc) {
			v.PerInstance[c.Instance(arn).EC2InstanceID] = n
		}
	})
	return v
}

func forceDeploy(t *testing.T, s *sim.Sim, service string) {
	t.Helper()
	if _, err := s.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: str("demo"), Service: str(service), ForceNewDeployment: true}); err != nil {
		t.Fatalf("UpdateService(%s): %v", service, err)
	}
}

func setState(t *testing.T, s *sim.Sim, status string, instances ...*cluster.Instance) {
	t.Helper()
	var arns []string
	for _, i := range instances {
		arns = append(arns, i.ARN)
	}
	out, err := s.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{Cluster: str("demo"), ContainerInstances: arns, Status: typesStatus(status)})
	if err != nil || len(out.Failures) > 0 {
		t.Fatalf("UpdateContainerInstancesState(%s): %v %v", status, err, out)
	}
}
