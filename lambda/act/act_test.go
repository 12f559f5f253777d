package act_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/act"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsclient"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type world struct {
	s         *sim.Sim
	hot, cold *cluster.Instance
	cfg       config.Config
}

// newWorld: a hot instance with 4 web tasks and a cold one.
func newWorld(t *testing.T, edit ...func(b *ct.Builder, hot, cold *cluster.Instance)) world {
	b := ct.New("demo")
	hot := b.Instance("us-east-1a")
	cold := b.Instance("us-east-1b")
	web := b.Service("web", ct.Desired(4))
	b.Tasks(web, hot, 4)
	for _, e := range edit {
		e(b, hot, cold)
	}
	cfg := config.Default()
	return world{s: sim.New(b.Cluster(t), sim.Options{Now: ct.Epoch, TaskStart: 30 * time.Second}), hot: hot, cold: cold, cfg: cfg}
}

func (w world) actor() *act.Actor { return act.New(w.s, w.s, "demo", w.s, w.cfg, quiet) }

func (w world) instance(arn string) (status string, marked bool) {
	w.s.View(func(c *cluster.Cluster) {
		i := c.Instance(arn)
		status, marked = i.Status, i.Marked()
	})
	return status, marked
}

// mutations lists the mutating calls the simulator received, as "Action target".
func mutations(s *sim.Sim) []string {
	var out []string
	for _, c := range s.Calls() {
		switch in := c.Input.(type) {
		case *ecs.UpdateServiceInput:
			out = append(out, "UpdateService "+*in.Service)
		case *ecs.UpdateContainerInstancesStateInput:
			out = append(out, "UpdateContainerInstancesState "+string(in.Status))
		case *ecs.PutAttributesInput:
			out = append(out, "PutAttributes "+*in.Attributes[0].Name)
		case *ecs.DeleteAttributesInput:
			out = append(out, "DeleteAttributes "+*in.Attributes[0].Name)
		}
	}
	return out
}

// writes are the mutating calls the simulator received.
func writes(s *sim.Sim) []sim.Call {
	var out []sim.Call
	for _, c := range s.Calls() {
		if ecsclient.Mutating(c.Action) {
			out = append(out, c)
		}
	}
	return out
}

func TestDrainSequence(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := w.s.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := w.s.Now()
	if _, err := w.actor().DrainRound(ctx, []*cluster.Instance{w.hot}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"PutAttributes " + cluster.MarkerAttribute,
		"UpdateContainerInstancesState DRAINING",
		"UpdateContainerInstancesState ACTIVE",
		"DeleteAttributes " + cluster.MarkerAttribute,
	}
	if diff := cmp.Diff(want, mutations(w.s)); diff != "" {
		t.Errorf("mutating calls (-want +got):\n%s", diff)
	}
	calls := writes(w.s)
	if got := calls[2].At.Sub(calls[1].At); got != w.cfg.DrainTimeout {
		t.Errorf("DRAINING for %v, want DRAIN_TIMEOUT %v", got, w.cfg.DrainTimeout)
	}
	if got := w.s.Now().Sub(start); got != w.cfg.DrainTimeout+w.cfg.DrainSleepTime {
		t.Errorf("round took %v, want DRAIN_TIMEOUT + DRAIN_SLEEP_TIME", got)
	}
	if status, marked := w.instance(w.hot.ARN); status != cluster.StatusActive || marked {
		t.Errorf("after the round: %s, marked %v", status, marked)
	}
	marker := calls[0].Input.(*ecs.PutAttributesInput).Attributes[0]
	if *marker.Value != "2026-11-20T09:00:00Z" || *marker.TargetId != w.hot.ARN {
		t.Errorf("marker %s on %s, want the drain time on the drained instance", *marker.Value, *marker.TargetId)
	}
}

func TestDrainRefusals(t *testing.T) {
	// set changes the cluster behind the plan's back.
	set := func(w world, arn, status string) {
		if _, err := w.s.UpdateContainerInstancesState(context.Background(), &ecs.UpdateContainerInstancesStateInput{
			Cluster: aws.String("demo"), ContainerInstances: []string{arn}, Status: types.ContainerInstanceStatus(status)}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		edit  func(b *ct.Builder, hot, cold *cluster.Instance)
		setup func(w world) ([]*cluster.Instance, context.Context)
		want  string
		is    error
	}{
		{name: "more than DRAIN_MAX_INSTANCES", setup: func(w world) ([]*cluster.Instance, context.Context) {
			return []*cluster.Instance{w.hot, w.cold, w.hot}, context.Background()
		}, want: "DRAIN_MAX_INSTANCES is 2"},
		{name: "an instance the plan read as not ACTIVE", setup: func(w world) ([]*cluster.Instance, context.Context) {
			i := *w.hot
			i.Status = cluster.StatusDraining
			return []*cluster.Instance{&i}, context.Background()
		}, want: "refusing to drain", is: act.ErrNotDrainable},
		{name: "an instance the plan read as marked", setup: func(w world) ([]*cluster.Instance, context.Context) {
			i := *w.hot
			i.Attributes = []cluster.Attribute{{Name: cluster.MarkerAttribute, Value: "x"}}
			return []*cluster.Instance{&i}, context.Background()
		}, want: "already carries the drain marker", is: act.ErrNotDrainable},
		{name: "an instance someone drained since the plan", setup: func(w world) ([]*cluster.Instance, context.Context) {
			i := *w.hot // as the plan read it
			set(w, w.hot.ARN, cluster.StatusDraining)
			return []*cluster.Instance{&i}, context.Background()
		}, want: "not ACTIVE and connected now", is: act.ErrNotDrainable},
		{name: "the last ACTIVE instance (someone else drains the other)", setup: func(w world) ([]*cluster.Instance, context.Context) {
			set(w, w.cold.ARN, cluster.StatusDraining)
			return []*cluster.Instance{w.hot}, context.Background()
		}, want: "no other ACTIVE", is: act.ErrLastInstance},
		{name: "an instance whose service went mid-deployment since the plan", setup: func(w world) ([]*cluster.Instance, context.Context) {
			if _, err := w.s.UpdateService(context.Background(), &ecs.UpdateServiceInput{Cluster: aws.String("demo"), Service: aws.String("web"), ForceNewDeployment: true}); err != nil {
				t.Fatal(err)
			}
			return []*cluster.Instance{w.hot}, context.Background()
		}, want: "it runs tasks of web now: deployment in progress", is: act.ErrIneligible},
		{name: "an instance with no service task left to move", edit: func(b *ct.Builder, _, cold *cluster.Instance) {
			b.Standalone("cron", cold, cluster.Resources{CPU: 8, Memory: 8})
		}, setup: func(w world) ([]*cluster.Instance, context.Context) {
			return []*cluster.Instance{w.cold}, context.Background()
		}, want: "no service task to move", is: act.ErrNotDrainable},
		{name: "a drain that stacks on someone else's past a third of the instances", edit: func(b *ct.Builder, _, _ *cluster.Instance) {
			b.Instance("us-east-1c", ct.Status(cluster.StatusDraining))
		}, setup: func(w world) ([]*cluster.Instance, context.Context) {
			return []*cluster.Instance{w.hot}, context.Background()
		}, want: "1 of 3 instances are not ACTIVE", is: act.ErrTooManyUnavailable},
		{name: "tasks the other instances cannot hold", edit: func(b *ct.Builder, _, cold *cluster.Instance) {
			big := b.Service("big", ct.Desired(2), ct.TaskSize(1024, 2048))
			b.Tasks(big, cold, 2)
		}, setup: func(w world) ([]*cluster.Instance, context.Context) {
			return []*cluster.Instance{w.hot}, context.Background()
		}, want: "the other instances have cpu 0, memory 0 free", is: act.ErrNoCapacity},
		{name: "a deadline that cannot cover DRAIN_TIMEOUT", setup: func(w world) ([]*cluster.Instance, context.Context) {
			ctx, _ := w.s.WithTimeout(context.Background(), w.cfg.DrainTimeout)
			return []*cluster.Instance{w.hot}, ctx
		}, want: "not enough time", is: act.ErrOutOfTime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var edits []func(*ct.Builder, *cluster.Instance, *cluster.Instance)
			if tt.edit != nil {
				edits = append(edits, tt.edit)
			}
			w := newWorld(t, edits...)
			insts, ctx := tt.setup(w)
			before := w.s.Stats().MutatingCalls
			_, err := w.actor().DrainRound(ctx, insts)
			if err == nil || !strings.Contains(err.Error(), tt.want) || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Fatalf("DrainRound = %v, want %q", err, tt.want)
			}
			if got := w.s.Stats().MutatingCalls - before; got != 0 {
				t.Errorf("a refused drain made %d mutating calls", got)
			}
		})
	}
}

// A round planned on the first read stops once one of its drains made COV worse:
// the next instance is not drained.
func TestDrainRoundStopsOnceADrainMadeCOVWorse(t *testing.T) {
	w := newWorld(t)
	// What the actor reads before each drain: 3/1 (COV 70.71 %), then 4/0 (141.42 %).
	counts := [][2]int{{3, 1}, {4, 0}}
	reads := 0
	a := w.actor().WithCountReader(func(context.Context) ([]cluster.InstanceCount, error) {
		var out []cluster.InstanceCount
		w.s.View(func(c *cluster.Cluster) {
			for k, i := range []*cluster.Instance{w.hot, w.cold} {
				cp := *c.Instance(i.ARN)
				out = append(out, cluster.InstanceCount{Instance: &cp, Count: counts[min(reads, 1)][k]})
			}
		})
		reads++
		return out, nil
	})
	ctx, cancel := w.s.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	drained, err := a.DrainRound(ctx, []*cluster.Instance{w.hot, w.cold})
	if !errors.Is(err, act.ErrDrainMadeWorse) || !strings.Contains(err.Error(), "(70.71% -> 141.42%)") {
		t.Errorf("DrainRound = %v, want %v", err, act.ErrDrainMadeWorse)
	}
	if diff := cmp.Diff([]string{w.hot.EC2InstanceID}, drained); diff != "" {
		t.Errorf("drained (-want +got): the refused instance is not reported drained\n%s", diff)
	}
	want := []string{"PutAttributes " + cluster.MarkerAttribute, "UpdateContainerInstancesState DRAINING",
		"UpdateContainerInstancesState ACTIVE", "DeleteAttributes " + cluster.MarkerAttribute}
	if diff := cmp.Diff(want, mutations(w.s)); diff != "" {
		t.Errorf("only the first instance drains (-want +got):\n%s", diff)
	}
}

// Safety guarantee 2 (README): once DRAINING, the instance is set ACTIVE again on every
// way out.
func TestDrainAlwaysReactivates(t *testing.T) {
	t.Run("context cancelled during the wait", func(t *testing.T) {
		w := newWorld(t)
		ctx, cancel := context.WithCancel(context.Background())
		w.s.SetFaults(func(action string, n int) sim.Fault {
			if action == "UpdateContainerInstancesState" && n == 1 {
				cancel() // the invocation is cancelled right after the drain starts
			}
			return sim.Fault{}
		})
		_, err := w.actor().DrainRound(ctx, []*cluster.Instance{w.hot})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("DrainRound = %v, want context.Canceled", err)
		}
		if status, marked := w.instance(w.hot.ARN); status != cluster.StatusActive || marked {
			t.Errorf("after cancellation: %s, marked %v", status, marked)
		}
	})
	t.Run("virtual deadline inside the wait", func(t *testing.T) {
		w := newWorld(t)
		w.cfg.DrainTimeout = 60 * time.Second
		ctx, cancel := w.s.WithTimeout(context.Background(), 80*time.Second) // covers 60+15, not the pause
		defer cancel()
		_, err := w.actor().DrainRound(ctx, []*cluster.Instance{w.hot})
		if !errors.Is(err, act.ErrOutOfTime) {
			t.Errorf("DrainRound = %v, want ErrOutOfTime for the pause", err)
		}
		if status, _ := w.instance(w.hot.ARN); status != cluster.StatusActive {
			t.Errorf("left %s", status)
		}
	})
	t.Run("reactivation throttled once is retried", func(t *testing.T) {
		w := newWorld(t)
		w.s.SetFaults(sim.FailNth("UpdateContainerInstancesState", 2, sim.Fault{Err: sim.Throttling()}))
		if _, err := w.actor().DrainRound(context.Background(), []*cluster.Instance{w.hot}); err != nil {
			t.Fatal(err)
		}
		if status, marked := w.instance(w.hot.ARN); status != cluster.StatusActive || marked {
			t.Errorf("after a retried reactivation: %s, marked %v", status, marked)
		}
	})
	t.Run("reactivation failing every time leaves the marker for the sweep", func(t *testing.T) {
		w := newWorld(t)
		w.s.SetFaults(func(action string, n int) sim.Fault {
			if action == "UpdateContainerInstancesState" && n > 1 {
				return sim.Fault{Err: sim.ServerError()}
			}
			return sim.Fault{}
		})
		_, err := w.actor().DrainRound(context.Background(), []*cluster.Instance{w.hot})
		if err == nil {
			t.Fatal("no error")
		}
		if status, marked := w.instance(w.hot.ARN); status != cluster.StatusDraining || !marked {
			t.Fatalf("%s, marked %v: the marker must stay so the sweep finds it", status, marked)
		}
		w.s.SetFaults(nil)
		w.s.Advance(time.Minute)
		restored, err := w.actor().Sweep(context.Background())
		if err != nil || !cmp.Equal(restored, []string{w.hot.EC2InstanceID}) {
			t.Errorf("Sweep = %v, %v", restored, err)
		}
		if status, marked := w.instance(w.hot.ARN); status != cluster.StatusActive || marked {
			t.Errorf("after the sweep: %s, marked %v", status, marked)
		}
	})
	t.Run("a throttled DRAINING call is undone the safe way", func(t *testing.T) {
		w := newWorld(t)
		w.s.SetFaults(sim.FailNth("UpdateContainerInstancesState", 1, sim.Fault{Err: sim.Throttling()}))
		_, err := w.actor().DrainRound(context.Background(), []*cluster.Instance{w.hot})
		if err == nil {
			t.Fatal("no error")
		}
		if diff := cmp.Diff([]string{"PutAttributes " + cluster.MarkerAttribute, "UpdateContainerInstancesState DRAINING",
			"UpdateContainerInstancesState ACTIVE", "DeleteAttributes " + cluster.MarkerAttribute}, mutations(w.s)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("a refused DRAINING call only removes the marker", func(t *testing.T) {
		w := newWorld(t)
		w.s.SetFaults(sim.FailNth("UpdateContainerInstancesState", 1, sim.Fault{ItemFailure: "INACTIVE"}))
		if _, err := w.actor().DrainRound(context.Background(), []*cluster.Instance{w.hot}); err == nil {
			t.Fatal("no error")
		}
		if diff := cmp.Diff([]string{"PutAttributes " + cluster.MarkerAttribute, "UpdateContainerInstancesState DRAINING",
			"DeleteAttributes " + cluster.MarkerAttribute}, mutations(w.s)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

// Safety guarantees 1 and 2 (README): the sweep reactivates only instances carrying the
// marker.
func TestSweep(t *testing.T) {
	t.Run("ECS", func(t *testing.T) { testSweep(t, func(s *sim.Sim) ecsclient.ReadAPI { return s }) })
	// An endpoint that ignores ListContainerInstances' filter lists every instance:
	// the sweep still touches only the marked ones.
	t.Run("an endpoint that ignores the filter", func(t *testing.T) {
		testSweep(t, func(s *sim.Sim) ecsclient.ReadAPI { return ignoresFilter{s} })
	})
}

type ignoresFilter struct{ *sim.Sim }

func (x ignoresFilter) ListContainerInstances(ctx context.Context, in *ecs.ListContainerInstancesInput, o ...func(*ecs.Options)) (*ecs.ListContainerInstancesOutput, error) {
	cp := *in
	cp.Filter = nil
	return x.Sim.ListContainerInstances(ctx, &cp, o...)
}

func testSweep(t *testing.T, read func(*sim.Sim) ecsclient.ReadAPI) {
	w := newWorld(t, func(b *ct.Builder, _, _ *cluster.Instance) {
		b.Instance("us-east-1c", ct.Status(cluster.StatusDraining), ct.Attr(cluster.MarkerAttribute, "2026-11-20T08:58:00Z")) // ours, stale
		b.Instance("us-east-1c", ct.Status(cluster.StatusDraining), ct.Attr(cluster.MarkerAttribute, "2026-11-20T08:59:45Z")) // ours, 15 s old
		b.Instance("us-east-1c", ct.Attr(cluster.MarkerAttribute, "2026-11-20T08:50:00Z"))                                    // ACTIVE, marker left over
		b.Instance("us-east-1c", ct.Status(cluster.StatusDraining))                                                           // someone else's
	})
	var insts []*cluster.Instance
	w.s.View(func(c *cluster.Cluster) { insts = c.Instances() })
	stale, young, leftover, foreign := insts[2], insts[3], insts[4], insts[5]

	ctx, cancel := w.s.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	restored, err := act.New(read(w.s), w.s, "demo", w.s, w.cfg, quiet).Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{stale.EC2InstanceID, young.EC2InstanceID}, restored); diff != "" {
		t.Errorf("reactivated (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		i      *cluster.Instance
		status string
		marked bool
	}{{stale, "ACTIVE", false}, {young, "ACTIVE", false}, {leftover, "ACTIVE", false}, {foreign, "DRAINING", false}} {
		if status, marked := w.instance(tt.i.ARN); status != tt.status || marked != tt.marked {
			t.Errorf("%s: %s marked %v, want %s marked %v", tt.i.EC2InstanceID, status, marked, tt.status, tt.marked)
		}
	}
	// The young drain got the rest of its DRAIN_TIMEOUT (45 s from 08:59:45).
	for _, c := range w.s.Calls() {
		if in, ok := c.Input.(*ecs.UpdateContainerInstancesStateInput); ok && in.ContainerInstances[0] == young.ARN {
			if want := time.Date(2026, 11, 20, 9, 0, 30, 0, time.UTC); !c.At.Equal(want) {
				t.Errorf("young drain reactivated at %v, want %v", c.At, want)
			}
		}
	}
}

func TestRedeploy(t *testing.T) {
	w := newWorld(t, func(b *ct.Builder, _, _ *cluster.Instance) {
		i := b.Instance("us-east-1c")
		for _, name := range []string{"a", "b", "c", "d"} {
			s := b.Service(name, ct.Desired(2), ct.TaskSize(16, 16))
			b.Tasks(s, i, 2)
		}
	})
	w.cfg.MaxServicesPerRun = 3
	// ECS fails b's call: the others go on, and a failed call does not count.
	w.s.SetFaults(sim.FailNth("UpdateService", 2, sim.Fault{Err: sim.ServerError()}))
	a := w.actor()
	err := a.Redeploy(context.Background(), []string{"a", "b", "c", "d", "web"})
	if err == nil || !strings.Contains(err.Error(), "redeploy b: operation error ECS: UpdateService") ||
		!strings.Contains(err.Error(), "redeploy web: per-run cap reached: MAX_SERVICES_PER_RUN is 3") || !errors.Is(err, act.ErrCapReached) {
		t.Errorf("errors joined per service: %v", err)
	}
	var at []time.Time
	var called []string
	for _, c := range w.s.Calls() {
		in, ok := c.Input.(*ecs.UpdateServiceInput)
		if !ok {
			continue
		}
		if !in.ForceNewDeployment || in.TaskDefinition != nil || in.DesiredCount != nil {
			t.Errorf("UpdateService %s: force %v, taskDefinition %v: only forceNewDeployment may be set", *in.Service, in.ForceNewDeployment, in.TaskDefinition)
		}
		at = append(at, c.At)
		called = append(called, *in.Service)
	}
	if diff := cmp.Diff([]string{"a", "b", "c", "d"}, called); diff != "" {
		t.Fatalf("UpdateService calls (-want +got):\n%s", diff)
	}
	for k := 1; k < len(at); k++ {
		if gap := at[k].Sub(at[k-1]); gap < config.UpdateServiceInterval {
			t.Errorf("calls %d and %d %v apart, want at least %v (ECS sustains 5 UpdateService a second)", k-1, k, gap, config.UpdateServiceInterval)
		}
	}
	if err := a.Redeploy(context.Background(), []string{"a"}); err != nil || w.s.Stats().Calls["UpdateService"] != 4 {
		t.Errorf("a service is redeployed once per invocation: %v, %d calls", err, w.s.Stats().Calls["UpdateService"])
	}
}

// The actor checks a service itself, as ECS describes it just before the call: a plan
// that names a service the rebalancer must not touch is refused with a typed error and
// no call.
func TestRedeployRefusesWhatTheRulesForbid(t *testing.T) {
	tests := []struct {
		name string
		edit func(b *ct.Builder, s *cluster.Service)
		want error
	}{
		{"CODE_DEPLOY controller", func(_ *ct.Builder, s *cluster.Service) { ct.Controller(cluster.ControllerCodeDeploy)(s) }, act.ErrIneligible},
		{"opted out", func(_ *ct.Builder, s *cluster.Service) { ct.Tag("ecs-rebalancer:skip", "true")(s) }, act.ErrIneligible},
		{"mid-deployment", func(b *ct.Builder, s *cluster.Service) { b.InProgress(s) }, act.ErrIneligible},
		{"binpack first", func(_ *ct.Builder, s *cluster.Service) { ct.Placement("binpack", "memory")(s) }, act.ErrIneligible},
		{"a move's surge tag", func(_ *ct.Builder, s *cluster.Service) { ct.Tag(plan.SurgeTag, "2+1@2026-11-20T09:00:00Z")(s) }, act.ErrAlreadyMoving},
		{"unknown service", nil, act.ErrIneligible},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "nope"
			w := newWorld(t, func(b *ct.Builder, _, _ *cluster.Instance) {
				if tt.edit == nil {
					return
				}
				name = "x"
				s := b.Service(name, ct.Desired(2), ct.TaskSize(16, 16))
				b.Tasks(s, b.Instance("us-east-1c"), 2)
				tt.edit(b, s)
			})
			err := w.actor().Redeploy(context.Background(), []string{name})
			if !errors.Is(err, tt.want) {
				t.Errorf("Redeploy = %v, want %v", err, tt.want)
			}
			if got := w.s.Stats().MutatingCalls; got != 0 {
				t.Errorf("a refused redeploy made %d mutating calls", got)
			}
		})
	}
}

func TestRecorderMakesNoCall(t *testing.T) {
	w := newWorld(t)
	rec := &act.Recorder{}
	a := act.New(w.s, rec, "demo", w.s, w.cfg, quiet)
	if err := a.Redeploy(context.Background(), []string{"web"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DrainRound(context.Background(), []*cluster.Instance{w.hot}); err != nil {
		t.Fatal(err)
	}
	if got := w.s.Stats().MutatingCalls; got != 0 {
		t.Errorf("%d mutating calls reached the cluster", got)
	}
	var got []string
	for _, c := range rec.Calls() {
		got = append(got, c.Action)
	}
	want := []string{"UpdateService", "PutAttributes", "UpdateContainerInstancesState", "UpdateContainerInstancesState", "DeleteAttributes"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recorded (-want +got):\n%s", diff)
	}
}
