package ecsclient_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsclient"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/snapshot"
)

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// docs/operations.md, "ECS calls per decision": the read costs ceil(I/100) List and Describe calls
// for I instances, ceil(S/100) ListServices and ceil(S/10) DescribeServices,
// ceil(T/100) for T tasks.
func TestReadCallCounts(t *testing.T) {
	for _, name := range []string{"headline", "mixed", "large"} {
		t.Run(name, func(t *testing.T) {
			snap, err := snapshot.Load("../../testdata/snapshots/" + name + ".json")
			if err != nil {
				t.Fatal(err)
			}
			want := encode(t, snap.Cluster)
			I, S, T := len(snap.Cluster.Instances()), len(snap.Cluster.Services()), len(snap.Cluster.AllTasks())
			s := sim.New(snap.Cluster, snap.Simulation.Options())

			got, notes, err := ecsclient.Read(context.Background(), s, snap.Cluster.Name)
			if err != nil {
				t.Fatal(err)
			}
			if len(notes) > 0 {
				t.Errorf("notes on a still cluster: %v", notes)
			}
			if diff := cmp.Diff(want, encode(t, got)); diff != "" {
				t.Errorf("the read cluster differs from the simulated one (-sim +read):\n%s", diff)
			}
			wantCalls := map[string]int{
				"ListContainerInstances": max(1, ceilDiv(I, 100)), "DescribeContainerInstances": ceilDiv(I, 100),
				"ListServices": max(1, ceilDiv(S, 100)), "DescribeServices": ceilDiv(S, 10),
				"ListTasks": max(1, ceilDiv(T, 100)), "DescribeTasks": ceilDiv(T, 100),
			}
			if diff := cmp.Diff(wantCalls, s.Stats().Calls); diff != "" {
				t.Errorf("calls for %d instances, %d services, %d tasks (-want +got):\n%s", I, S, T, diff)
			}
		})
	}
}

func TestReadHandlesPerItemFailures(t *testing.T) {
	build := func() *sim.Sim {
		b := ct.New("demo")
		i := b.Instance("us-east-1a")
		web := b.Service("web", ct.Desired(2))
		b.Tasks(web, i, 2)
		return sim.New(b.Cluster(t), sim.Options{Now: ct.Epoch})
	}
	t.Run("an instance gone between List and Describe is noted, its tasks left out", func(t *testing.T) {
		s := build()
		s.SetFaults(sim.FailNth("DescribeContainerInstances", 1, sim.Fault{ItemFailure: "MISSING"}))
		c, notes, err := ecsclient.Read(context.Background(), s, "demo")
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Instances()) != 0 || len(c.Service("web").Tasks()) != 0 {
			t.Errorf("model holds %d instances, %d web tasks", len(c.Instances()), len(c.Service("web").Tasks()))
		}
		joined := strings.Join(notes, "\n")
		if !strings.Contains(joined, "is gone (MISSING)") || strings.Count(joined, "which was not read; left out") != 2 {
			t.Errorf("notes:\n%s", joined)
		}
	})
	// ECS documents no task STOPPING or DEACTIVATING whose desired status is RUNNING;
	// an endpoint that reports one costs that task, not the read.
	for _, last := range []string{"DEACTIVATING", "STOPPING", "NONSENSE"} {
		t.Run("a task in "+last+" with desired RUNNING is noted and left out", func(t *testing.T) {
			s := build()
			c, notes, err := ecsclient.Read(context.Background(), oddTask{Sim: s, last: last}, "demo")
			if err != nil {
				t.Fatal(err)
			}
			if n := len(c.Service("web").Tasks()); n != 1 {
				t.Errorf("web holds %d tasks, want the 1 ECS describes plainly", n)
			}
			if joined := strings.Join(notes, "\n"); len(notes) != 1 || !strings.Contains(joined, last) || !strings.Contains(joined, "left out") {
				t.Errorf("notes:\n%s", joined)
			}
		})
	}
	t.Run("a service described twice is noted once and kept once", func(t *testing.T) {
		c, notes, err := ecsclient.Read(context.Background(), twiceService{build()}, "demo")
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Services()) != 1 || len(c.Service("web").Tasks()) != 2 {
			t.Errorf("model holds %d services, web %d tasks", len(c.Services()), len(c.Service("web").Tasks()))
		}
		if joined := strings.Join(notes, "\n"); len(notes) != 1 || !strings.Contains(joined, "duplicate service web; left out") {
			t.Errorf("notes:\n%s", joined)
		}
	})
	t.Run("any other failure reason is an error", func(t *testing.T) {
		s := build()
		s.SetFaults(sim.FailNth("DescribeServices", 1, sim.Fault{ItemFailure: "ACCESS_DENIED"}))
		_, _, err := ecsclient.Read(context.Background(), s, "demo")
		if err == nil || !strings.Contains(err.Error(), "describe services: per-item failures: service") || !strings.Contains(err.Error(), "ACCESS_DENIED") {
			t.Errorf("Read = %v", err)
		}
	})
	t.Run("a failed call is an error that keeps its AWS code", func(t *testing.T) {
		s := build()
		s.SetFaults(sim.FailNth("ListTasks", 1, sim.Fault{Err: sim.Throttling()}))
		_, _, err := ecsclient.Read(context.Background(), s, "demo")
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "ThrottlingException" || !ecsclient.Retryable(err) || !strings.HasPrefix(err.Error(), "list tasks: ") {
			t.Errorf("Read = %v", err)
		}
	})
}

func TestRetryable(t *testing.T) {
	op := func(err error) error { return &smithy.OperationError{ServiceID: "ECS", OperationName: "X", Err: err} }
	malformed := op(&smithy.DeserializationError{Err: errors.New("unexpected end of JSON input")})
	tests := []struct {
		name                string
		err                 error
		retryable, unanswer bool
	}{
		{"nil", nil, false, false},
		{"throttling", op(sim.Throttling()), true, true},
		{"server error", op(sim.ServerError()), true, true},
		{"deadline", fmt.Errorf("wait: %w", context.DeadlineExceeded), true, true},
		{"no answer", op(errors.New("connection reset")), true, true},
		{"cancelled", op(context.Canceled), false, false},
		{"invalid parameter", op(&smithy.GenericAPIError{Code: "InvalidParameterException", Fault: smithy.FaultClient}), false, false},
		{"access denied", op(&smithy.GenericAPIError{Code: "AccessDeniedException", Fault: smithy.FaultClient}), false, false},
		// The call reached ECS and may have worked; a retry reads the same answer.
		{"malformed answer", malformed, false, true},
		{"malformed answer, wrapped", fmt.Errorf("list tasks: %w", malformed), false, true},
		{"request not serialized", op(&smithy.SerializationError{Err: errors.New("bad")}), false, false},
		{"parameters refused before sending", op(smithy.InvalidParamsError{Context: "ListTasksInput"}), false, false},
		{"not from AWS", errors.New("bug"), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ecsclient.Retryable(tt.err); got != tt.retryable {
				t.Errorf("Retryable = %v, want %v", got, tt.retryable)
			}
			if got := ecsclient.Unanswered(tt.err); got != tt.unanswer {
				t.Errorf("Unanswered = %v, want %v", got, tt.unanswer)
			}
		})
	}
}

// oddTask describes the first task of every DescribeTasks answer with lastStatus last.
type oddTask struct {
	*sim.Sim
	last string
}

func (o oddTask) DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, opts ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	out, err := o.Sim.DescribeTasks(ctx, in, opts...)
	if err == nil && len(out.Tasks) > 0 {
		out.Tasks[0].LastStatus = aws.String(o.last)
	}
	return out, err
}

// twiceService answers DescribeServices with every service twice.
type twiceService struct{ *sim.Sim }

func (x twiceService) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, opts ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	out, err := x.Sim.DescribeServices(ctx, in, opts...)
	if err == nil {
		out.Services = append(out.Services, out.Services...)
	}
	return out, err
}
