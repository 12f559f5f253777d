package sim_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

func TestVirtualClock(t *testing.T) {
	s := newSim(t, ct.New("demo"))
	if !s.Now().Equal(ct.Epoch) {
		t.Fatalf("Now = %v, want the start time", s.Now())
	}
	realStart := time.Now()
	if err := s.Sleep(ctx, 6*time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := s.Now().Sub(ct.Epoch); got != 6*time.Hour {
		t.Errorf("virtual time moved %v, want 6h", got)
	}
	if time.Since(realStart) > 5*time.Second {
		t.Errorf("Sleep took real time")
	}

	t.Run("a virtual deadline cuts a sleep short at the deadline", func(t *testing.T) {
		start := s.Now()
		dctx, cancel := s.WithTimeout(ctx, 45*time.Second)
		defer cancel()
		if dl, ok := dctx.Deadline(); !ok || !dl.Equal(start.Add(45*time.Second)) {
			t.Errorf("Deadline = %v %v", dl, ok)
		}
		err := s.Sleep(dctx, time.Minute)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Sleep past the deadline: %v", err)
		}
		if got := s.Now().Sub(start); got != 45*time.Second {
			t.Errorf("woke after %v, want 45s", got)
		}
		select {
		case <-dctx.Done():
		default:
			t.Error("Done not closed at the deadline")
		}
	})
	t.Run("the earlier of nested deadlines wins", func(t *testing.T) {
		outer, cancel := s.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		inner, cancel2 := s.WithTimeout(outer, time.Hour)
		defer cancel2()
		if dl, _ := inner.Deadline(); !dl.Equal(s.Now().Add(10 * time.Second)) {
			t.Errorf("inner deadline %v", dl)
		}
	})
	t.Run("cancelling the parent cancels the virtual context", func(t *testing.T) {
		parent, cancel := context.WithCancel(ctx)
		dctx, cancel2 := s.WithTimeout(parent, time.Hour)
		defer cancel2()
		cancel()
		<-dctx.Done()
		if !errors.Is(dctx.Err(), context.Canceled) {
			t.Errorf("Err = %v", dctx.Err())
		}
		if err := s.Sleep(dctx, time.Second); !errors.Is(err, context.Canceled) {
			t.Errorf("Sleep on a cancelled context: %v", err)
		}
	})
	t.Run("a deadline already passed", func(t *testing.T) {
		dctx, cancel := s.WithDeadline(ctx, s.Now().Add(-time.Second))
		defer cancel()
		if !errors.Is(dctx.Err(), context.DeadlineExceeded) {
			t.Errorf("Err = %v", dctx.Err())
		}
	})
	t.Run("values pass through", func(t *testing.T) {
		type key struct{}
		dctx, cancel := s.WithTimeout(context.WithValue(ctx, key{}, "v"), time.Second)
		defer cancel()
		if dctx.Value(key{}) != "v" {
			t.Error("value lost")
		}
	})
}

func TestFaults(t *testing.T) {
	b := ct.New("demo")
	i := b.Instance("us-east-1a")
	b.Service("web", ct.Desired(1))
	s := newSim(t, b)

	s.SetFaults(func(action string, n int) sim.Fault {
		switch {
		case action == "ListServices" && n == 2:
			return sim.Fault{Err: sim.Throttling()}
		case action == "ListServices" && n == 3:
			return sim.Fault{Err: sim.ServerError()}
		case action == "DescribeContainerInstances":
			return sim.Fault{ItemFailure: "MISSING"}
		case action == "UpdateContainerInstancesState":
			return sim.Fault{ItemFailure: "INACTIVE"}
		case action == "DescribeServices":
			return sim.Fault{Delay: 20 * time.Second}
		}
		return sim.Fault{}
	})
	list := func() error {
		_, err := s.ListServices(ctx, &ecs.ListServicesInput{Cluster: str("demo")})
		return err
	}
	if err := list(); err != nil {
		t.Fatalf("first call: %v", err)
	}

	err := list()
	if code(err) != "ThrottlingException" {
		t.Fatalf("second call: %v, want ThrottlingException", err)
	}
	// The SDK's own classifiers must see it as a throttle, so adaptive retry reacts.
	if got := (retry.IsErrorThrottles(retry.DefaultThrottles)).IsErrorThrottle(err); got != aws.TrueTernary {
		t.Errorf("the SDK does not classify the injected throttle as one: %v", got)
	}
	err = list()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ServerException" || ae.ErrorFault() != smithy.FaultServer {
		t.Errorf("third call: %v, want a server-fault ServerException", err)
	}

	ci, err := s.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: str("demo"), ContainerInstances: []string{i.ARN}})
	if err != nil || len(ci.ContainerInstances) != 0 || len(ci.Failures) != 1 {
		t.Errorf("item failure on describe: %v %+v", err, ci)
	}
	up, err := s.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{Cluster: str("demo"), ContainerInstances: []string{i.ARN}, Status: types.ContainerInstanceStatusDraining})
	if err != nil || len(up.Failures) != 1 {
		t.Errorf("item failure on update: %v %+v", err, up)
	}
	s.View(func(c *cluster.Cluster) {
		if c.Instance(i.ARN).Status != cluster.StatusActive {
			t.Error("a failed item was applied")
		}
	})

	start := s.Now()
	dctx, cancel := s.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := s.DescribeServices(dctx, &ecs.DescribeServicesInput{Cluster: str("demo"), Services: []string{"web"}}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a call slower than the deadline: %v", err)
	}
	if got := s.Now().Sub(start); got != 10*time.Second {
		t.Errorf("the slow call took %v of virtual time, want 10s", got)
	}
	if _, err := s.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: str("demo"), Services: []string{"web"}}); err != nil {
		t.Errorf("a slow call without a deadline: %v", err)
	}

	// Failed calls count: ListServices has been called 3 times.
	s.SetFaults(sim.FailNth("ListServices", 5, sim.Fault{Err: sim.Throttling()}))
	if err := list(); err != nil {
		t.Errorf("FailNth failed the 4th call: %v", err)
	}
	if err := list(); code(err) != "ThrottlingException" {
		t.Errorf("FailNth: 5th call %v", err)
	}
}
