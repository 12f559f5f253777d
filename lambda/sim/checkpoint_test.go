package sim_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

// trace is what a run of the simulator produced, by name.
type trace struct {
	Now    time.Time
	Stats  sim.Stats
	Events []string
	Calls  int
	Tasks  map[string]string // task ARN -> status and instance
}

func traceOf(s *sim.Sim) trace {
	tr := trace{Now: s.Now(), Stats: s.Stats(), Calls: len(s.Calls()), Tasks: map[string]string{}}
	for _, e := range s.Events() {
		tr.Events = append(tr.Events, e.At.Format(time.RFC3339)+" "+e.Service+" "+e.Message)
	}
	s.View(func(c *cluster.Cluster) {
		for _, t := range c.AllTasks() {
			tr.Tasks[t.ARN] = t.LastStatus + " " + t.InstanceARN + " " + t.StartedBy
		}
		for _, i := range c.Instances() {
			tr.Tasks[i.ARN] = fmt.Sprint(i.Status, i.RunningTasksCount(), i.Remaining, i.Attributes)
		}
		for _, svc := range c.Services() {
			tr.Tasks[svc.Name] = fmt.Sprint(svc.DesiredCount, svc.RunningCount(), len(svc.Deployments))
		}
	})
	return tr
}

// future is the run both simulators make: two forced deployments, then settle.
func future(t *testing.T, s *sim.Sim) trace {
	t.Helper()
	forceDeploy(t, s, "svc-000")
	s.Advance(time.Second)
	forceDeploy(t, s, "svc-003")
	s.Settle(time.Hour)
	return traceOf(s)
}

// A rollback leaves no trace of the what-if: the same calls then produce the same
// future, task IDs and random draws included, as on a simulator that never forked.
func TestRollbackReplaysTheSameFuture(t *testing.T) {
	c := ct.Generate(ct.GenOptions{Name: "demo", Seed: 3, Instances: 9, Joiners: 1, Zones: 3, Services: 6, Daemons: 1, Tasks: 90, Skew: 0.6})
	opts := sim.Options{Now: ct.Epoch, TaskStart: wave, Seed: 5}
	want := future(t, sim.New(c.Clone(), opts))

	s := sim.New(c.Clone(), opts)
	before := traceOf(s)
	outer := s.Checkpoint()
	forceDeploy(t, s, "svc-001")
	var first *cluster.Instance
	s.View(func(c *cluster.Cluster) { first = c.Instances()[0] })
	setState(t, s, cluster.StatusDraining, first)
	if _, err := s.PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: str("demo"), Attributes: []types.Attribute{{Name: str("x"), Value: str("y"), TargetId: str(first.ARN)}}}); err != nil {
		t.Fatal(err)
	}
	s.Advance(time.Minute)
	inner := s.Checkpoint()
	if _, err := s.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: str("demo"), Service: str("svc-002"), DesiredCount: ptr(int32(40))}); err != nil {
		t.Fatal(err)
	}
	s.Settle(time.Hour)
	s.Rollback(inner)
	s.Settle(time.Hour)
	s.Rollback(outer)
	if diff := cmp.Diff(before, traceOf(s)); diff != "" {
		t.Fatalf("rolled back to the start (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, future(t, s)); diff != "" {
		t.Errorf("the future after a rollback (-never forked +forked):\n%s", diff)
	}
}

// A context made before a checkpoint does not expire in the what-if, and does after
// the rollback.
func TestCheckpointHoldsEarlierDeadlines(t *testing.T) {
	s := sim.New(ct.Generate(ct.GenOptions{Name: "demo", Seed: 1, Instances: 3, Zones: 1, Services: 1, Tasks: 6}), sim.Options{Now: ct.Epoch, TaskStart: wave})
	dctx, cancel := s.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m := s.Checkpoint()
	s.Advance(time.Hour)
	if err := dctx.Err(); err != nil {
		t.Fatalf("the what-if expired a context made before it: %v", err)
	}
	s.Rollback(m)
	s.Advance(2 * time.Minute)
	if err := dctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("after the rollback the deadline passed: err %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// A steady service gets no first look from New, but its place in the order of the
// first steps is kept: scheduled before the clock moves, it steps where it would have.
// Here web (created first, steady) and api (missing a task) both want the one slot
// left on the only instance; web's raised desired count comes first, as it would if
// every service had a first look.
func TestSteadyServicesKeepTheirPlace(t *testing.T) {
	b := ct.New("demo")
	i := b.Instance("us-east-1a", ct.Resources(300, 300))
	web := b.Service("web", ct.Desired(1), ct.TaskSize(100, 100))
	api := b.Service("api", ct.Desired(2), ct.TaskSize(100, 100))
	b.Tasks(web, i, 1)
	b.Tasks(api, i, 1)
	s := newSim(t, b)
	if _, err := s.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: str("demo"), Service: str("web"), DesiredCount: ptr(int32(2))}); err != nil {
		t.Fatal(err)
	}
	s.Settle(time.Hour)
	if w, a := viewService(s, "web"), viewService(s, "api"); w.Running != 2 || a.Running != 1 {
		t.Errorf("web runs %d, api %d; want web to take the slot (2, 1)", w.Running, a.Running)
	}
}
