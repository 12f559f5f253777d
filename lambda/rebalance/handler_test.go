package rebalance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/act"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsclient"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/rebalance"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/snapshot"
)

// harness is one simulated cluster with the real handler in front of it.
type harness struct {
	t       *testing.T
	s       *sim.Sim
	h       *rebalance.Handler
	cfg     config.Config
	logs    *bytes.Buffer
	metrics *bytes.Buffer
}

func newHarness(t *testing.T, c *cluster.Cluster, now time.Time, edit func(*config.Config)) *harness {
	t.Helper()
	cfg := config.Default()
	if edit != nil {
		edit(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s := sim.New(c, sim.Options{Now: now, TaskStart: 30 * time.Second, Seed: 1})
	var logs, metrics bytes.Buffer
	h := rebalance.New(rebalance.Options{Config: cfg, API: s, Clock: s, Log: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: &metrics})
	return &harness{t: t, s: s, h: h, cfg: cfg, logs: &logs, metrics: &metrics}
}

func loadHarness(t *testing.T, name string, edit func(*config.Config)) *harness {
	t.Helper()
	snap, err := snapshot.Load("../../testdata/snapshots/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	return newHarness(t, snap.Cluster, snap.Simulation.Now, edit)
}

func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/events/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// deliver runs one invocation with the Lambda timeout the stack would set, then lets
// the cluster settle.
func (h *harness) deliver(raw []byte) (rebalance.Report, error) {
	h.t.Helper()
	ctx, cancel := h.s.WithTimeout(context.Background(), h.cfg.FunctionTimeout())
	defer cancel()
	reps, err := h.h.Process(ctx, raw)
	h.s.Settle(time.Hour)
	if len(reps) != 1 {
		h.t.Fatalf("%d reports", len(reps))
	}
	return reps[0], err
}

func (h *harness) mutatingCalls() []string {
	var out []string
	for _, c := range h.s.Calls() {
		if ecsclient.Mutating(c.Action) {
			out = append(out, c.Action)
		}
	}
	return out
}

func (h *harness) status() map[string]string {
	out := map[string]string{}
	h.s.View(func(c *cluster.Cluster) {
		for _, i := range c.Instances() {
			out[i.EC2InstanceID] = i.Status
		}
	})
	return out
}

// joinEvent makes an event for an instance of the harness's cluster.
func joinEvent(c *cluster.Cluster, i *cluster.Instance, at time.Time) []byte {
	return ct.JoinEvent(c, i, at)
}

func TestHeadlineJoin(t *testing.T) {
	for _, strategy := range []config.Strategy{config.StrategyAuto, config.StrategyForceNewDeployment} {
		t.Run(string(strategy), func(t *testing.T) {
			h := loadHarness(t, "headline", func(c *config.Config) { c.Strategy = strategy })
			r, err := h.deliver(readEvent(t, "headline-join"))
			if err != nil {
				t.Fatal(err)
			}
			if r.Strategy != "force-new-deployment" || !cmp.Equal(r.Run.Services, []string{"web"}) {
				t.Fatalf("decision %s %v: %s", r.Strategy, r.Run.Services, r.Reason)
			}
			if !strings.Contains(r.Trigger, "holds 1 daemon task(s)") {
				t.Errorf("trigger %q: the joiner runs the log router's daemon task and is still a join", r.Trigger)
			}
			var cov float64
			h.s.View(func(c *cluster.Cluster) { cov = cluster.Round2(cluster.COV(cluster.Counts(c.Distribution()))) })
			if cov != r.COVPredicted || cov > 25 {
				t.Errorf("COV after %v, predicted %v", cov, r.COVPredicted)
			}
		})
	}
}

// lazyCluster is where a short drain moves part of the tasks: min 75 % / max 100 % let
// a wave replace a quarter of a service, and DRAIN_TIMEOUT 20 s ends before a second
// wave. A fourth instance is DRAINING by someone else (say, the Auto Scaling group).
func lazyCluster(t *testing.T) (c *cluster.Cluster, joiner, foreign *cluster.Instance) {
	b := ct.New("demo")
	var loaded []*cluster.Instance
	for _, z := range []string{"us-east-1a", "us-east-1b", "us-east-1c"} {
		loaded = append(loaded, b.Instance(z))
	}
	foreign = b.Instance("us-east-1a", ct.Status(cluster.StatusDraining))
	joiner = b.Instance("us-east-1b", ct.RegisteredAt(ct.Epoch.Add(-time.Minute)))
	for _, name := range []string{"web", "api", "worker"} {
		s := b.Service(name, ct.Desired(12), ct.Deploy(75, 100), ct.Placement("spread", "instanceId"), ct.TaskSize(32, 32))
		for _, i := range loaded {
			b.Tasks(s, i, 4)
		}
	}
	return b.Cluster(t), joiner, foreign
}

// lazyConfig drains briefly; the gate at 50 % lets a drain whose worst sample barely
// helps still clear the quarter-of-the-gap bar, so the tests see one run.
func lazyConfig(cfg *config.Config) { cfg.DrainTimeout, cfg.COVPercent = 20*time.Second, 50 }

// Safety guarantee 1 (README): an instance someone else drained stays DRAINING,
// whatever the strategy.
func TestNeverReactivatesAForeignDrain(t *testing.T) {
	c, joiner, foreign := lazyCluster(t)
	for _, strategy := range []config.Strategy{config.StrategyDrain, config.StrategyForceNewDeployment, config.StrategyAuto} {
		t.Run(string(strategy), func(t *testing.T) {
			h := newHarness(t, c.Clone(), ct.Epoch, func(cfg *config.Config) { lazyConfig(cfg); cfg.Strategy = strategy })
			r, err := h.deliver(joinEvent(c, joiner, ct.Epoch))
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case strategy == "drain":
				// 1 of 5 instances is someone else's drain: one of ours would leave 2 of
				// 5 unavailable, more than a third.
				if r.Strategy != plan.StrategySkip || !strings.Contains(r.Reason, "more than a third unavailable") {
					t.Fatalf("decision %s: %s; want a skip: drains never stack on someone else's", r.Strategy, r.Reason)
				}
			case r.Strategy != strategy && strategy != "auto" || r.Strategy == plan.StrategySkip:
				t.Fatalf("decision %s: %s", r.Strategy, r.Reason)
			}
			if got := h.status()[foreign.EC2InstanceID]; got != cluster.StatusDraining {
				t.Errorf("someone else's DRAINING instance is now %s", got)
			}
			for _, call := range h.s.Calls() {
				if in, ok := call.Input.(*ecs.UpdateContainerInstancesStateInput); ok && in.ContainerInstances[0] == foreign.ARN {
					t.Errorf("the foreign drain was touched: %s %s", call.Action, in.Status)
				}
			}
			t.Logf("%s: %s; drained %v", r.Strategy, r.Reason, r.Run.Instances)
		})
	}
}

// Safety guarantee 2 (README): a crash in the middle of a drain leaves no instance
// DRAINING after the next invocation, whatever event it is.
func TestNextInvocationRepairsACrashedDrain(t *testing.T) {
	for _, next := range []string{"busy-instance", "headline-join"} {
		t.Run(next, func(t *testing.T) {
			h := loadHarness(t, "headline", nil)
			// The previous invocation marked and drained the first instance, then its
			// process was gone.
			var victim *cluster.Instance
			h.s.View(func(c *cluster.Cluster) { victim = c.Instances()[0] })
			_, _ = h.s.PutAttributes(context.Background(), &ecs.PutAttributesInput{Cluster: ptr("demo"), Attributes: marker(victim.ARN, "2026-11-20T08:59:00Z")})
			_, _ = h.s.UpdateContainerInstancesState(context.Background(), &ecs.UpdateContainerInstancesStateInput{Cluster: ptr("demo"), ContainerInstances: []string{victim.ARN}, Status: "DRAINING"})
			h.s.Advance(10 * time.Second)

			r, _ := h.deliver(readEvent(t, next))
			if got := h.status()[victim.EC2InstanceID]; got != cluster.StatusActive {
				t.Errorf("the crashed drain's instance is %s after the next invocation", got)
			}
			if !cmp.Equal(r.Swept, []string{victim.EC2InstanceID}) {
				t.Errorf("report swept %v", r.Swept)
			}
			h.s.View(func(c *cluster.Cluster) {
				if c.Instance(victim.ARN).Marked() {
					t.Error("marker left behind")
				}
			})
		})
	}
}

// Safety guarantee 4 (README): ineligible services are never redeployed and never
// drained away, by any strategy.
func TestIneligibleServicesAreNeverTouched(t *testing.T) {
	for _, strategy := range []config.Strategy{config.StrategyAuto, config.StrategyForceNewDeployment, config.StrategyDrain} {
		t.Run(string(strategy), func(t *testing.T) {
			h := loadHarness(t, "mixed", func(c *config.Config) { c.Strategy = strategy })
			var ineligible map[string]bool
			h.s.View(func(c *cluster.Cluster) {
				ineligible = map[string]bool{}
				_, skipped := plan.Eligibility(c, h.cfg.OptOutTag)
				for _, s := range skipped {
					ineligible[s.Name] = true
				}
			})
			if len(ineligible) < 10 {
				t.Fatalf("the mixed snapshot holds %d ineligible services", len(ineligible))
			}
			before := tasksOf(h, ineligible)
			if _, err := h.deliver(readEvent(t, "mixed-join")); err != nil {
				t.Fatal(err)
			}
			for _, call := range h.s.Calls() {
				if in, ok := call.Input.(*ecs.UpdateServiceInput); ok && ineligible[*in.Service] {
					t.Errorf("ineligible service %s redeployed", *in.Service)
				}
			}
			after := tasksOf(h, ineligible)
			// search finishes its own deployment in the background; the rest stay put.
			delete(before, "search")
			delete(after, "search")
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("ineligible services' tasks moved (-before +after):\n%s", diff)
			}
		})
	}
}

func tasksOf(h *harness, services map[string]bool) map[string][]string {
	out := map[string][]string{}
	h.s.View(func(c *cluster.Cluster) {
		for name := range services {
			for _, t := range c.Service(name).Tasks() {
				out[name] = append(out[name], t.ARN)
			}
		}
	})
	return out
}

// Safety guarantee 5 (README): no task definition revision, ever: UpdateService carries
// only forceNewDeployment, on every scenario where the rebalancer redeploys.
func TestNeverChangesTaskDefinitions(t *testing.T) {
	lazy, lazyJoiner, _ := lazyCluster(t)
	cases := map[string]func() (*harness, []byte){
		"headline": func() (*harness, []byte) { return loadHarness(t, "headline", nil), readEvent(t, "headline-join") },
		"mixed":    func() (*harness, []byte) { return loadHarness(t, "mixed", nil), readEvent(t, "mixed-join") },
		"lazy": func() (*harness, []byte) {
			return newHarness(t, lazy.Clone(), ct.Epoch, lazyConfig), joinEvent(lazy, lazyJoiner, ct.Epoch)
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			h, raw := setup()
			if _, err := h.deliver(raw); err != nil {
				t.Fatal(err)
			}
			updates := 0
			for _, call := range h.s.Calls() {
				if in, ok := call.Input.(*ecs.UpdateServiceInput); ok {
					updates++
					if in.TaskDefinition != nil || !in.ForceNewDeployment || in.DesiredCount != nil {
						t.Errorf("UpdateService %s: taskDefinition %v, desiredCount %v", *in.Service, in.TaskDefinition, in.DesiredCount)
					}
				}
			}
			if updates == 0 {
				t.Fatal("no UpdateService call: the case does not exercise the guarantee")
			}
			h.s.View(func(c *cluster.Cluster) {
				for _, s := range c.Services() {
					for _, tk := range s.Tasks() {
						if tk.TaskDefinitionARN != s.TaskDefinition {
							t.Errorf("task %s runs %s, service %s", tk.ARN, tk.TaskDefinitionARN, s.TaskDefinition)
						}
					}
				}
			})
		})
	}
}

// Safety guarantee 6 (README): dry run makes zero mutating calls on a case that would
// act, and says what it would do.
func TestDryRunMakesNoMutatingCall(t *testing.T) {
	h := loadHarness(t, "headline", func(c *config.Config) { c.DryRun = true })
	var victim *cluster.Instance
	h.s.View(func(c *cluster.Cluster) { victim = c.Instances()[0] })
	// A stale marker: a live run would sweep it; a dry run only says so.
	_, _ = h.s.PutAttributes(context.Background(), &ecs.PutAttributesInput{Cluster: ptr("demo"), Attributes: marker(victim.ARN, "2026-11-20T08:00:00Z")})
	callsBefore := len(h.mutatingCalls())

	r, err := h.deliver(readEvent(t, "headline-join"))
	if err != nil {
		t.Fatal(err)
	}
	if got := h.mutatingCalls()[callsBefore:]; len(got) != 0 {
		t.Errorf("dry run made mutating calls: %v", got)
	}
	if !r.DryRun || r.Strategy != "force-new-deployment" || !cmp.Equal(r.Run.Services, []string{"web"}) {
		t.Errorf("dry run report: %s %v dryRun=%v", r.Strategy, r.Run.Services, r.DryRun)
	}
	if len(r.Steps) == 0 || r.Steps[0].Kind != "unmark" {
		t.Errorf("the sweep it would do is not reported: %+v", r.Steps)
	}
	if !strings.Contains(h.logs.String(), `"dryRun":true`) {
		t.Error("the decision record does not say dryRun")
	}
}

// Safety guarantee 7 (README): the same event delivered again, or late, causes no
// second action.
func TestDuplicateDeliveryActsOnce(t *testing.T) {
	for _, tt := range []struct {
		name  string
		after time.Duration // between the deliveries, on top of the first run's settling
	}{{"duplicate right after", 0}, {"late retry two minutes later", 2 * time.Minute}} {
		t.Run(tt.name, func(t *testing.T) {
			h := loadHarness(t, "headline", nil)
			raw := readEvent(t, "headline-join")
			first, err := h.deliver(raw)
			if err != nil || first.Strategy == plan.StrategySkip {
				t.Fatalf("first delivery: %s %s %v", first.Strategy, first.Reason, err)
			}
			n := len(h.mutatingCalls())
			h.s.Advance(tt.after)
			second, err := h.deliver(raw)
			if err != nil {
				t.Fatal(err)
			}
			if got := h.mutatingCalls()[n:]; len(got) != 0 || second.Strategy != plan.StrategySkip {
				t.Errorf("second delivery: %s (%s), mutating calls %v", second.Strategy, second.Reason, got)
			}
			t.Logf("second delivery skipped: %s", second.Reason)
		})
	}
}

func TestPoisonEventsReturnNilWithOneLogLine(t *testing.T) {
	for _, name := range []string{"malformed", "task-state-change", "service-action", "deployment-state-change", "other-cluster", "draining-instance", "disconnected-agent"} {
		t.Run(name, func(t *testing.T) {
			h := loadHarness(t, "headline", func(c *config.Config) { c.Clusters = []string{"demo"} })
			err := h.h.Handle(context.Background(), readEvent(t, name))
			if err != nil {
				t.Errorf("Handle = %v, want nil", err)
			}
			if lines := strings.Count(strings.TrimSpace(h.logs.String()), "\n") + 1; lines != 1 {
				t.Errorf("%d log lines:\n%s", lines, h.logs)
			}
			if st := h.s.Stats(); st.APICalls != 0 {
				t.Errorf("%d ECS calls for a poison event", st.APICalls)
			}
		})
	}
}

func TestRetryableFailuresReturnAnError(t *testing.T) {
	tests := []struct {
		name    string
		fault   sim.FaultFunc
		wantErr bool
	}{
		{"throttled past the SDK's retries", sim.FailNth("ListTasks", 1, sim.Fault{Err: sim.Throttling()}), true},
		{"server error", sim.FailNth("DescribeServices", 1, sim.Fault{Err: sim.ServerError()}), true},
		{"access denied is not worth a retry", sim.FailNth("ListServices", 1, sim.Fault{Err: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not allowed", Fault: smithy.FaultClient}}), false},
		// Every retry would read the same answer: recorded, not dead-lettered.
		{"an answer the SDK cannot read", sim.FailNth("DescribeTasks", 1, sim.Fault{Err: &smithy.DeserializationError{Err: errors.New("unexpected end of JSON input")}}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := loadHarness(t, "headline", nil)
			h.s.SetFaults(tt.fault)
			r, err := h.deliver(readEvent(t, "headline-join"))
			if (err != nil) != tt.wantErr {
				t.Errorf("error = %v, want error %v", err, tt.wantErr)
			}
			if r.Error == "" || r.Strategy != plan.StrategySkip || len(h.mutatingCalls()) != 0 {
				t.Errorf("report %+v", r)
			}
			if !strings.Contains(h.logs.String(), `"level":"ERROR"`) {
				t.Error("no error record")
			}
		})
	}
}

// One structured record per decision, with the keys of docs/operations.md, "Observability", and its
// metrics in the embedded metric format.
func TestDecisionRecordAndMetrics(t *testing.T) {
	h := loadHarness(t, "headline", nil)
	if _, err := h.deliver(readEvent(t, "headline-join")); err != nil {
		t.Fatal(err)
	}
	// One JSON line per action as it happens, then the decision record.
	var rec map[string]any
	var steps []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %v\n%s", err, line)
		}
		switch m["msg"] {
		case "decision":
			if rec != nil {
				t.Fatal("two decision records")
			}
			rec = m
		case act.LogStep:
			if rec != nil {
				t.Error("a step logged after the decision record")
			}
			steps = append(steps, m)
		}
	}
	if rec == nil {
		t.Fatalf("no decision record:\n%s", h.logs)
	}
	if len(steps) != 1 || steps[0][act.LogKind] != "redeploy" || steps[0][act.LogTarget] != "web" {
		t.Errorf("step lines: %v", steps)
	}
	for _, k := range []string{"cluster", "containerInstanceArn", "ec2InstanceId", "decision", "reason", "covBefore", "covPredicted", "services", "instances", "dryRun",
		"covPredictedLow", "covPredictedHigh", "covFloor", "reachableMoves", "goal", "samples"} {
		if _, ok := rec[k]; !ok {
			t.Errorf("decision record lacks %q", k)
		}
	}
	var emf struct {
		AWS struct {
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Cluster, Decision string
		Decisions         int
		TasksRestarted    int
		COV               float64
	}
	if err := json.Unmarshal(h.metrics.Bytes(), &emf); err != nil {
		t.Fatalf("metrics line: %v\n%s", err, h.metrics)
	}
	if emf.Cluster != "demo" || emf.Decision != "force-new-deployment" || emf.Decisions != 1 || emf.TasksRestarted != 12 ||
		len(emf.AWS.CloudWatchMetrics) != 1 || emf.AWS.CloudWatchMetrics[0].Namespace != rebalance.MetricsNamespace {
		t.Errorf("metrics line: %+v", emf)
	}
}

func TestScheduledRun(t *testing.T) {
	t.Run("checks every configured cluster", func(t *testing.T) {
		h := loadHarness(t, "headline", func(c *config.Config) { c.Clusters = []string{"demo"} })
		r, err := h.deliver(readEvent(t, "scheduled"))
		if err != nil || r.Trigger != "scheduled check" || r.Strategy != "force-new-deployment" {
			t.Errorf("scheduled run: %s %s %v", r.Strategy, r.Reason, err)
		}
	})
	t.Run("without CLUSTERS there is nothing to check", func(t *testing.T) {
		h := loadHarness(t, "headline", nil)
		r, err := h.deliver(readEvent(t, "scheduled"))
		if err != nil || r.Strategy != plan.StrategySkip || !strings.Contains(r.Reason, "CLUSTERS") || h.s.Stats().APICalls != 0 {
			t.Errorf("scheduled run without CLUSTERS: %s %v", r.Reason, err)
		}
	})
}

func ptr(s string) *string { return &s }

func marker(arn, at string) []types.Attribute {
	return []types.Attribute{{Name: ptr(cluster.MarkerAttribute), Value: ptr(at), TargetId: ptr(arn)}}
}

// A move's markers left by a crashed invocation: the next invocation, whatever its
// event, puts the desired count back and removes them before anything else.
func TestNextInvocationRepairsACrashedMove(t *testing.T) {
	for _, next := range []string{"busy-instance", "headline-join"} {
		t.Run(next, func(t *testing.T) {
			h := loadHarness(t, "headline", nil)
			var svcARN, clusterARN string
			var desired int32
			h.s.View(func(c *cluster.Cluster) {
				svcARN, clusterARN, desired = c.Service("web").ARN, c.ARN, c.Service("web").DesiredCount
			})
			bg := context.Background()
			surge := plan.Surge{From: desired, By: 2, At: time.Date(2026, 11, 20, 8, 59, 0, 0, time.UTC)}
			for arn, key := range map[string]string{svcARN: plan.SurgeTag, clusterARN: plan.MovingTag} {
				if _, err := h.s.TagResource(bg, &ecs.TagResourceInput{ResourceArn: ptr(arn), Tags: []types.Tag{{Key: ptr(key), Value: ptr(surge.String())}}}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := h.s.UpdateService(bg, &ecs.UpdateServiceInput{Cluster: ptr("demo"), Service: ptr("web"), DesiredCount: aws.Int32(surge.Raised())}); err != nil {
				t.Fatal(err)
			}
			h.s.Settle(time.Hour)
			r, _ := h.deliver(readEvent(t, next))
			if len(r.SweptMoves) != 1 || !strings.Contains(r.SweptMoves[0], "back to") {
				t.Errorf("report sweptMoves %v", r.SweptMoves)
			}
			h.s.View(func(c *cluster.Cluster) {
				web := c.Service("web")
				if _, tagged := web.Tag(plan.SurgeTag); tagged || web.DesiredCount != desired {
					t.Errorf("web after the sweep: desired %d (want %d), surge tag %v", web.DesiredCount, desired, tagged)
				}
			})
			out, _ := h.s.ListTagsForResource(bg, &ecs.ListTagsForResourceInput{ResourceArn: &clusterARN})
			if len(out.Tags) != 0 {
				t.Errorf("cluster tags left: %v", out.Tags)
			}
		})
	}
}

// Dry run with the move strategy: no mutating call at all (tags and protections
// included), and the record says what it would move.
func TestDryRunMoveMakesNoMutatingCall(t *testing.T) {
	h := loadHarness(t, "headline", func(c *config.Config) { c.DryRun, c.Strategy = true, config.StrategyMove })
	r, err := h.deliver(readEvent(t, "headline-join"))
	if err != nil {
		t.Fatal(err)
	}
	if got := h.mutatingCalls(); len(got) != 0 {
		t.Errorf("dry run made mutating calls: %v", got)
	}
	if r.Strategy != config.StrategyMove || len(r.Run.Planned) == 0 || len(r.Run.Results) == 0 {
		t.Errorf("dry run report: %s planned %v results %v", r.Strategy, r.Run.Planned, r.Run.Results)
	}
	if !strings.Contains(h.logs.String(), `"planned":[`) {
		t.Error("the decision record does not say what it would move")
	}
}
