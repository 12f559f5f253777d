package act_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
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
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

// moveWorld: web runs 2 tasks on each of a and b (a also runs a busy filler service),
// and j joined empty. Moving one web task should start it on j and stop one on a.
type moveWorld struct {
	s       *sim.Sim
	a, b, j *cluster.Instance
	cfg     config.Config
	// watch is the fewest web tasks RUNNING seen at any call the actor made.
	fewest int
}

func newMoveWorld(t *testing.T, edit ...func(b *ct.Builder, web *cluster.Service)) *moveWorld {
	t.Helper()
	b := ct.New("demo")
	w := &moveWorld{a: b.Instance("us-east-1a"), b: b.Instance("us-east-1b"), j: b.Instance("us-east-1c"), fewest: 1 << 30}
	web := b.Service("web", ct.Desired(4))
	b.Tasks(web, w.a, 2)
	b.Tasks(web, w.b, 2)
	filler := b.Service("filler", ct.Desired(3), ct.Placement("binpack", "memory"))
	b.Tasks(filler, w.a, 3)
	for _, e := range edit {
		e(b, web)
	}
	w.cfg = config.Default()
	w.s = sim.New(b.Cluster(t), sim.Options{Now: ct.Epoch, TaskStart: 30 * time.Second, Seed: 3})
	return w
}

// watcher passes every call to the simulator and notes web's RUNNING tasks at each.
type watcher struct {
	*sim.Sim
	w      *moveWorld
	before func(action string) // runs before a mutating call reaches the simulator
	// lost, when set, answers an UpdateService it matches with success without
	// passing it on (ECS that acknowledged a change it has not made yet).
	lost func(*ecs.UpdateServiceInput) bool
}

func (x watcher) UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, o ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	if x.lost != nil && x.lost(in) {
		return &ecs.UpdateServiceOutput{}, nil
	}
	return x.Sim.UpdateService(ctx, in, o...)
}

func (x watcher) note() {
	x.w.s.View(func(c *cluster.Cluster) { x.w.fewest = min(x.w.fewest, c.Service("web").RunningCount()) })
}

func (x watcher) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, o ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	x.note()
	return x.Sim.DescribeServices(ctx, in, o...)
}

func (x watcher) DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, o ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	x.note()
	return x.Sim.DescribeTasks(ctx, in, o...)
}

func (x watcher) UpdateTaskProtection(ctx context.Context, in *ecs.UpdateTaskProtectionInput, o ...func(*ecs.Options)) (*ecs.UpdateTaskProtectionOutput, error) {
	if x.before != nil {
		x.before("UpdateTaskProtection")
	}
	return x.Sim.UpdateTaskProtection(ctx, in, o...)
}

func (w *moveWorld) actor(before func(string)) *act.Actor {
	x := watcher{Sim: w.s, w: w, before: before}
	return act.New(x, x, "demo", w.s, w.cfg, quiet)
}

func (w *moveWorld) ctx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := w.s.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func (w *moveWorld) webMove(n int) []plan.Move {
	var m []plan.Move
	w.s.View(func(c *cluster.Cluster) {
		web := c.Service("web")
		m = []plan.Move{{Service: "web", ARN: web.ARN, Count: n, Size: web.TaskSize}}
	})
	return m
}

// state is what the tests check after a move: web's layout and everything a move
// must not leave behind.
type state struct {
	Desired     int32
	Running     int
	PerInstance map[string]int
	Protected   int
	Tags        []string
	ClusterTags int
}

func (w *moveWorld) state(t *testing.T) state {
	t.Helper()
	var st state
	var clusterARN string
	now := w.s.Now()
	w.s.View(func(c *cluster.Cluster) {
		web := c.Service("web")
		st = state{Desired: web.DesiredCount, Running: web.RunningCount(), PerInstance: map[string]int{}}
		for _, tk := range web.Tasks() {
			st.PerInstance[c.Instance(tk.InstanceARN).EC2InstanceID]++
			if tk.Protected(now) {
				st.Protected++
			}
		}
		for _, tg := range web.Tags {
			st.Tags = append(st.Tags, tg.Key)
		}
		clusterARN = c.ARN
	})
	out, err := w.s.ListTagsForResource(context.Background(), &ecs.ListTagsForResourceInput{ResourceArn: &clusterARN})
	if err != nil {
		t.Fatal(err)
	}
	st.ClusterTags = len(out.Tags)
	return st
}

func moveCalls(s *sim.Sim) []string {
	var out []string
	for _, c := range s.Calls() {
		switch in := c.Input.(type) {
		case *ecs.UpdateServiceInput:
			out = append(out, "UpdateService desired "+itoa(aws.ToInt32(in.DesiredCount)))
		case *ecs.TagResourceInput:
			out = append(out, "TagResource "+aws.ToString(in.Tags[0].Key))
		case *ecs.UntagResourceInput:
			out = append(out, "UntagResource "+in.TagKeys[0])
		case *ecs.UpdateTaskProtectionInput:
			out = append(out, "UpdateTaskProtection "+map[bool]string{true: "on", false: "off"}[in.ProtectionEnabled]+" "+itoa(int32(len(in.Tasks))))
		}
	}
	return out
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

func TestMoveStartsFirstAndStopsTheChosenTask(t *testing.T) {
	w := newMoveWorld(t)
	res, err := w.actor(nil).Move(w.ctx(t, 14*time.Minute), w.webMove(1))
	if err != nil {
		t.Fatal(err)
	}
	want := state{Desired: 4, Running: 4, PerInstance: map[string]int{w.a.EC2InstanceID: 1, w.b.EC2InstanceID: 2, w.j.EC2InstanceID: 1}}
	if diff := cmp.Diff(want, w.state(t)); diff != "" {
		t.Errorf("after the move (-want +got):\n%s", diff)
	}
	if w.fewest < 4 {
		t.Errorf("web ran %d tasks at one point, below its desired 4", w.fewest)
	}
	if r := res[0]; r.Started != 1 || r.Moved != 1 || r.Returned != 0 || len(r.Stopped) != 1 || len(r.StoppedByECS) != 0 || r.Ended != "" {
		t.Errorf("result %+v", r)
	}
	wantCalls := []string{
		"TagResource ecs-rebalancer.moving", "TagResource ecs-rebalancer.surge", "UpdateService desired 5",
		"UpdateTaskProtection on 4", "UpdateService desired 4", "UpdateTaskProtection off 4",
		"UntagResource ecs-rebalancer.surge", "UntagResource ecs-rebalancer.moving",
	}
	if diff := cmp.Diff(wantCalls, moveCalls(w.s)); diff != "" {
		t.Errorf("mutating calls (-want +got):\n%s", diff)
	}
}

// ECS reports no interfaces left on an instance, and the actor's read of instances
// has no tasks to count them by: an awsvpc service's move is not refused for
// interfaces that read cannot see (the plan's full read counted them).
func TestMoveOfAnAWSVPCService(t *testing.T) {
	w := newMoveWorld(t)
	m := w.webMove(1)
	m[0].Size.ENIs = 1
	res, err := w.actor(nil).Move(w.ctx(t, 14*time.Minute), m)
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Moved != 1 {
		t.Errorf("result %+v, want one task moved", r)
	}
}

// Invariant 11: the actor checks every limit itself, whatever the plan says, and
// refuses with an error a caller can tell apart, before any mutating call.
func TestMoveRefusesWhatBreaksALimit(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(b *ct.Builder, web *cluster.Service)
		cfg   func(c *config.Config)
		moves func(w *moveWorld) []plan.Move
		time  time.Duration
		want  error
	}{
		{name: "opted out", edit: func(_ *ct.Builder, web *cluster.Service) { ct.Tag("ecs-rebalancer:skip", "true")(web) }, want: act.ErrIneligible},
		{name: "mid-deployment", edit: func(b *ct.Builder, web *cluster.Service) { b.InProgress(web) }, want: act.ErrIneligible},
		{name: "another move's marker", edit: func(_ *ct.Builder, web *cluster.Service) { ct.Tag(plan.SurgeTag, "4+1@2026-11-20T09:00:00Z")(web) }, want: act.ErrAlreadyMoving},
		{name: "maximumPercent 100", edit: func(_ *ct.Builder, web *cluster.Service) { ct.Deploy(50, 100)(web) }, want: act.ErrNoRoom},
		{name: "more than maximumPercent allows", moves: func(w *moveWorld) []plan.Move { return w.webMove(5) }, want: act.ErrNoRoom},
		{name: "MAX_MOVES_PER_RUN", cfg: func(c *config.Config) { c.MaxMovesPerRun = 1 }, moves: func(w *moveWorld) []plan.Move { return w.webMove(2) }, want: act.ErrCapReached},
		{name: "MAX_SERVICES_PER_RUN", cfg: func(c *config.Config) { c.MaxServicesPerRun = 1 }, moves: func(w *moveWorld) []plan.Move {
			m := w.webMove(1)
			return append(m, plan.Move{Service: "filler", Count: 1})
		}, want: act.ErrCapReached},
		{name: "no capacity", moves: func(w *moveWorld) []plan.Move {
			m := w.webMove(1)
			m[0].Size = cluster.Resources{CPU: 1 << 20, Memory: 1 << 20}
			return m
		}, want: act.ErrNoCapacity},
		{name: "unknown service", moves: func(*moveWorld) []plan.Move { return []plan.Move{{Service: "nope", Count: 1}} }, want: act.ErrIneligible},
		{name: "no time for the waits", time: 40 * time.Second, want: act.ErrOutOfTime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var edits []func(*ct.Builder, *cluster.Service)
			if tt.edit != nil {
				edits = append(edits, tt.edit)
			}
			w := newMoveWorld(t, edits...)
			if tt.cfg != nil {
				tt.cfg(&w.cfg)
			}
			moves := w.webMove(1)
			if tt.moves != nil {
				moves = tt.moves(w)
			}
			d := 14 * time.Minute
			if tt.time > 0 {
				d = tt.time
			}
			_, err := w.actor(nil).Move(w.ctx(t, d), moves)
			if !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
			if tt.name == "MAX_SERVICES_PER_RUN" {
				// web moved, filler refused.
				return
			}
			if got := moveCalls(w.s); len(got) != 0 {
				t.Errorf("mutating calls despite the refusal: %v", got)
			}
		})
	}
}

// Every way out undoes what it can: a failure after the raise puts the desired count
// back, removes the protections it set and both markers.
func TestMoveUndoesOnFailure(t *testing.T) {
	w := newMoveWorld(t)
	w.s.SetFaults(sim.FailNth("UpdateTaskProtection", 1, sim.Fault{Err: sim.ServerError()}))
	res, err := w.actor(nil).Move(w.ctx(t, 14*time.Minute), w.webMove(1))
	if err == nil {
		t.Fatal("no error")
	}
	w.s.Settle(time.Hour)
	st := w.state(t)
	if st.Desired != 4 || st.Running != 4 || st.Protected != 0 || len(st.Tags) != 0 || st.ClusterTags != 0 {
		t.Errorf("after a failed move: %+v", st)
	}
	if !strings.Contains(res[0].Ended, "undone") {
		t.Errorf("result %+v", res[0])
	}
}

// Chosen tasks that still run when MOVE_WAIT ends (the scale-in has not come yet)
// keep the protections of the others: cleared, they would let ECS stop any task.
func TestMoveKeepsProtectionsWhileTheScaleInIsPending(t *testing.T) {
	w := newMoveWorld(t)
	w.cfg.MoveWait = time.Minute
	x := watcher{Sim: w.s, w: w, lost: func(in *ecs.UpdateServiceInput) bool { return aws.ToInt32(in.DesiredCount) == 4 }}
	res, err := act.New(x, x, "demo", w.s, w.cfg, quiet).Move(w.ctx(t, 14*time.Minute), w.webMove(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(res[0].StillRunning) != 1 || !strings.Contains(res[0].Ended, "protections left to expire") {
		t.Errorf("result %+v", res[0])
	}
	if st := w.state(t); st.Protected != 4 || len(st.Tags) != 0 {
		t.Errorf("after the move: %d protected (want 4), tags %v", st.Protected, st.Tags)
	}
}

// An undo that puts the desired count back after the protections went on leaves them
// until they expire: ECS scales in after the call returns, and cleared at once they
// would let it stop any task, not the chosen one.
func TestMoveUndoKeepsProtectionsForTheScaleIn(t *testing.T) {
	w := newMoveWorld(t)
	w.s.SetFaults(sim.FailNth("UpdateService", 2, sim.Fault{Err: sim.ServerError()})) // the lowering
	res, err := w.actor(nil).Move(w.ctx(t, 14*time.Minute), w.webMove(1))
	if err == nil {
		t.Fatal("no error")
	}
	if st := w.state(t); st.Desired != 4 || st.Protected != 4 {
		t.Errorf("right after the undo: desired %d (want 4), %d protected (want the 4 tasks not chosen)", st.Desired, st.Protected)
	}
	w.s.Settle(time.Hour)
	st := w.state(t)
	want := state{Desired: 4, Running: 4, PerInstance: map[string]int{w.a.EC2InstanceID: 1, w.b.EC2InstanceID: 2, w.j.EC2InstanceID: 1}}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("after the undo settled (-want +got):\n%s", diff)
	}
	if !strings.Contains(res[0].Ended, "undone; protections left to expire") {
		t.Errorf("result %+v", res[0])
	}
}

// A desired count someone else set meanwhile (Service Auto Scaling, a person) is never
// overwritten, and the record says so.
func TestMoveLeavesSomeoneElsesDesiredCount(t *testing.T) {
	w := newMoveWorld(t)
	scaled := false
	res, err := w.actor(func(string) {
		if !scaled {
			scaled = true
			if _, err := w.s.UpdateService(context.Background(), &ecs.UpdateServiceInput{Cluster: aws.String("demo"), Service: aws.String("web"), DesiredCount: aws.Int32(7)}); err != nil {
				t.Error(err)
			}
		}
	}).Move(w.ctx(t, 14*time.Minute), w.webMove(1))
	if err != nil {
		t.Fatal(err)
	}
	st := w.state(t)
	if st.Desired != 7 || st.Protected != 0 || len(st.Tags) != 0 || st.ClusterTags != 0 {
		t.Errorf("after the move: %+v", st)
	}
	if !strings.Contains(res[0].Ended, "changed to 7 by someone else") {
		t.Errorf("result %+v", res[0])
	}
	for _, c := range moveCalls(w.s) {
		if c == "UpdateService desired 4" {
			t.Error("the actor overwrote the scaled desired count")
		}
	}
}

// A protection someone else set is never touched: that task is not chosen, and the
// move neither shortens nor clears its protection.
func TestMoveLeavesSomeoneElsesProtection(t *testing.T) {
	w := newMoveWorld(t)
	var theirs []string
	w.s.View(func(c *cluster.Cluster) {
		for _, tk := range c.Service("web").Tasks() {
			if tk.InstanceARN == w.a.ARN {
				theirs = append(theirs, tk.ARN)
			}
		}
	})
	if _, err := w.s.UpdateTaskProtection(context.Background(), &ecs.UpdateTaskProtectionInput{Cluster: aws.String("demo"), Tasks: theirs, ProtectionEnabled: true, ExpiresInMinutes: aws.Int32(600)}); err != nil {
		t.Fatal(err)
	}
	res, err := w.actor(nil).Move(w.ctx(t, 14*time.Minute), w.webMove(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range w.s.Calls()[1:] {
		if in, ok := c.Input.(*ecs.UpdateTaskProtectionInput); ok {
			for _, arn := range in.Tasks {
				if slices.Contains(theirs, arn) {
					t.Errorf("the move touched %s, protected by someone else", arn)
				}
			}
		}
	}
	st := w.state(t)
	if st.PerInstance[w.a.EC2InstanceID] != 2 || st.Protected != 2 || st.Desired != 4 {
		t.Errorf("after the move: %+v (result %+v)", st, res[0])
	}
}

// The sweep repairs a move a crash left: the desired count back if it still holds
// the raised value, someone else's left alone, markers gone.
func TestSweepMovesRepairsACrashedMove(t *testing.T) {
	for _, tt := range []struct {
		name        string
		desired     int32
		wantDesired int32
		wantLine    string
	}{
		{"still raised", 5, 4, "web: desired count 5 back to 4"},
		{"changed since", 6, 6, "web: desired count 6 is not the 5 a move set: left as it is"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newMoveWorld(t)
			var svcARN, clusterARN string
			w.s.View(func(c *cluster.Cluster) { svcARN, clusterARN = c.Service("web").ARN, c.ARN })
			bg := context.Background()
			for _, arn := range []string{svcARN, clusterARN} {
				key := map[bool]string{true: plan.SurgeTag, false: plan.MovingTag}[arn == svcARN]
				if _, err := w.s.TagResource(bg, &ecs.TagResourceInput{ResourceArn: &arn, Tags: []types.Tag{{Key: &key, Value: aws.String("4+1@2026-11-20T09:00:00Z")}}}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := w.s.UpdateService(bg, &ecs.UpdateServiceInput{Cluster: aws.String("demo"), Service: aws.String("web"), DesiredCount: aws.Int32(tt.desired)}); err != nil {
				t.Fatal(err)
			}
			w.s.Settle(time.Hour)
			a := act.New(w.s, w.s, clusterARN, w.s, w.cfg, quiet)
			got, err := a.SweepMoves(bg)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{tt.wantLine}, got); diff != "" {
				t.Errorf("sweep (-want +got):\n%s", diff)
			}
			w.s.Settle(time.Hour)
			if st := w.state(t); st.Desired != tt.wantDesired || len(st.Tags) != 0 || st.ClusterTags != 0 {
				t.Errorf("after the sweep: %+v", st)
			}
			// Nothing left: the next sweep is one ListTagsForResource call.
			before := len(w.s.Calls())
			if got, err := a.SweepMoves(bg); err != nil || got != nil || len(w.s.Calls()) != before+1 {
				t.Errorf("second sweep: %v %v, %d calls", got, err, len(w.s.Calls())-before)
			}
		})
	}
}

func TestDryRunMoveMakesNoMutatingCall(t *testing.T) {
	w := newMoveWorld(t)
	rec := &act.Recorder{}
	a := act.New(w.s, rec, "demo", w.s, w.cfg, quiet)
	if _, err := a.Move(w.ctx(t, 14*time.Minute), w.webMove(1)); err != nil {
		t.Fatal(err)
	}
	if st := w.s.Stats(); st.MutatingCalls != 0 {
		t.Errorf("%d mutating calls reached the simulator", st.MutatingCalls)
	}
	var got []string
	for _, c := range rec.Calls() {
		got = append(got, c.Action)
	}
	// Nothing really rose, so no new task ran and nothing needed protecting: the
	// record holds the markers and the raise it would have made.
	if diff := cmp.Diff([]string{"TagResource", "TagResource", "UpdateService", "UntagResource", "UntagResource"}, got); diff != "" {
		t.Errorf("recorded (-want +got):\n%s", diff)
	}
}

// Invariant 9: a move never makes a service's zone spread worse. Here zone a holds a
// and the joiner j, zone b holds b, which is busier: stopping there would balance the
// instances better, but unbalance web's zones.
func TestMoveKeepsZoneSpread(t *testing.T) {
	b := ct.New("demo")
	a, bb, j := b.Instance("us-east-1a"), b.Instance("us-east-1b"), b.Instance("us-east-1a")
	web := b.Service("web", ct.Desired(4))
	b.Tasks(web, a, 2)
	b.Tasks(web, bb, 2)
	filler := b.Service("filler", ct.Desired(3), ct.Placement("binpack", "memory"))
	b.Tasks(filler, bb, 3)
	w := &moveWorld{a: a, b: bb, j: j, fewest: 1 << 30, cfg: config.Default()}
	w.s = sim.New(b.Cluster(t), sim.Options{Now: ct.Epoch, TaskStart: 30 * time.Second, Seed: 3})
	if _, err := w.actor(nil).Move(w.ctx(t, 14*time.Minute), w.webMove(1)); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{a.EC2InstanceID: 1, bb.EC2InstanceID: 2, j.EC2InstanceID: 1}
	if diff := cmp.Diff(want, w.state(t).PerInstance); diff != "" {
		t.Errorf("web after the move (-want +got):\n%s", diff)
	}
}

// hiding passes every call to the simulator, but answers the first call of one action
// with a throttle after the simulator applied it: the change took, the answer was lost.
type hiding struct {
	*sim.Sim
	action string
	done   *bool
}

func (h hiding) lost(action string) bool {
	if action != h.action || *h.done {
		return false
	}
	*h.done = true
	return true
}

func (h hiding) TagResource(ctx context.Context, in *ecs.TagResourceInput, o ...func(*ecs.Options)) (*ecs.TagResourceOutput, error) {
	out, err := h.Sim.TagResource(ctx, in, o...)
	if err == nil && aws.ToString(in.Tags[0].Key) == plan.SurgeTag && h.lost("TagResource") {
		return nil, sim.Throttling()
	}
	return out, err
}

func (h hiding) UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, o ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	out, err := h.Sim.UpdateService(ctx, in, o...)
	if err == nil && h.lost("UpdateService") {
		return nil, sim.Throttling()
	}
	return out, err
}

// A throttled answer may hide a change that took: the move undoes it anyway, so no
// raised count and no marker (which would refuse every later move) is left.
func TestMoveUndoesWhatALostAnswerHid(t *testing.T) {
	for _, action := range []string{"TagResource", "UpdateService"} {
		t.Run(action, func(t *testing.T) {
			w := newMoveWorld(t)
			done := false
			x := hiding{Sim: w.s, action: action, done: &done}
			if _, err := act.New(x, x, "demo", w.s, w.cfg, quiet).Move(w.ctx(t, 14*time.Minute), w.webMove(1)); err == nil {
				t.Fatal("no error")
			}
			w.s.Settle(time.Hour)
			if st := w.state(t); st.Desired != 4 || len(st.Tags) != 0 || st.ClusterTags != 0 {
				t.Errorf("after the move: %+v", st)
			}
		})
	}
}
