package rebalance_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsclient"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/rebalance"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

// soak runs the fault-point sweep in every mode and the other-actors property test on
// many more clusters (make test, make soak); without it they are the quick loop's size.
var soak = flag.Bool("soak", false, "run the fault sweep and the property tests at length")

// What someone else does to the cluster while the rebalancer runs.
var outsideKinds = []string{"scale-out", "scale-in", "deploy", "foreign-drain", "task-dies", "protect", "spot", "agent-flaps"}

// outsider is the rest of the world: at the at-th wait the rebalancer makes (0: before
// the invocation), it does one thing of its kind to the cluster, through the same ECS
// API, and remembers what, so the checks can tell its calls from the rebalancer's.
type outsider struct {
	s     *sim.Sim
	kind  string
	at    int
	rng   *rand.Rand
	waits int
	did   string
	mine  map[any]bool // the outsider's call inputs
	// What it changed: the desired count it set, the instance it drained, the task it
	// protected.
	desired   map[string]int32
	drained   string
	protected string
	// gone is the instance a Spot interruption ended; flapping the one whose agent
	// disconnected, until the wait after.
	gone, flapping string
}

func (o *outsider) Now() time.Time { return o.s.Now() }

func (o *outsider) clusterARN() string {
	var arn string
	o.s.View(func(c *cluster.Cluster) { arn = c.ARN })
	return arn
}

func (o *outsider) Sleep(ctx context.Context, d time.Duration) error {
	o.waits++
	switch {
	case o.waits == o.at:
		o.act()
	case o.waits == o.at+1:
		o.finish()
	}
	return o.s.Sleep(ctx, d)
}

// finish ends what act started: the interrupted instance goes, the agent comes back.
func (o *outsider) finish() {
	if o.kind == "spot" && o.drained != "" && o.gone == "" {
		if o.s.TerminateInstance(o.drained) == nil {
			o.gone = o.drained
		}
	}
	if o.flapping != "" {
		_ = o.s.SetAgentConnected(o.flapping, true)
		o.flapping = ""
	}
}

func (o *outsider) act() {
	bg := context.Background()
	var services []*cluster.Service
	var instances []*cluster.Instance
	var tasks []*cluster.Task
	o.s.View(func(c *cluster.Cluster) {
		for _, sv := range c.Services() {
			if !sv.IsDaemon() && sv.Status == cluster.ServiceActive {
				services = append(services, sv)
			}
		}
		for _, i := range c.Instances() {
			if i.Schedulable() && !i.Marked() {
				instances = append(instances, i)
			}
		}
		for _, sv := range services {
			for _, tk := range sv.Tasks() {
				if tk.LastStatus == cluster.TaskRunning {
					tasks = append(tasks, tk)
				}
			}
		}
	})
	pick := func(n int) int { return o.rng.IntN(max(1, n)) }
	switch o.kind {
	case "scale-out", "scale-in":
		if len(services) == 0 {
			return
		}
		sv := services[pick(len(services))]
		n := sv.DesiredCount + 1
		if o.kind == "scale-in" {
			n = max(1, sv.DesiredCount-1)
		}
		in := &ecs.UpdateServiceInput{Cluster: aws.String(sv.ClusterARN), Service: aws.String(sv.Name), DesiredCount: aws.Int32(n)}
		o.mine[in] = true
		if _, err := o.s.UpdateService(bg, in); err == nil {
			o.desired[sv.Name] = n
			o.did = fmt.Sprintf("%s set %s desired %d", o.kind, sv.Name, n)
		}
	case "deploy":
		var ecsControlled []*cluster.Service
		for _, sv := range services {
			if sv.DeploymentController == cluster.ControllerECS {
				ecsControlled = append(ecsControlled, sv)
			}
		}
		if len(ecsControlled) == 0 {
			return
		}
		sv := ecsControlled[pick(len(ecsControlled))]
		in := &ecs.UpdateServiceInput{Cluster: aws.String(sv.ClusterARN), Service: aws.String(sv.Name), ForceNewDeployment: true}
		o.mine[in] = true
		if _, err := o.s.UpdateService(bg, in); err == nil {
			o.did = "a deployment of " + sv.Name
		}
	case "foreign-drain", "spot":
		// A Spot interruption starts as ECS's own drain of the instance; the
		// instance ends at the next wait.
		if len(instances) == 0 {
			return
		}
		i := instances[pick(len(instances))]
		in := &ecs.UpdateContainerInstancesStateInput{Cluster: aws.String(o.clusterARN()), ContainerInstances: []string{i.ARN}, Status: types.ContainerInstanceStatusDraining}
		o.mine[in] = true
		if out, err := o.s.UpdateContainerInstancesState(bg, in); err == nil && len(out.Failures) == 0 {
			o.drained = i.ARN
			o.did = "a drain of " + i.EC2InstanceID
		}
	case "agent-flaps":
		if len(instances) == 0 {
			return
		}
		i := instances[pick(len(instances))]
		if o.s.SetAgentConnected(i.ARN, false) == nil {
			o.flapping = i.ARN
			o.did = "the agent of " + i.EC2InstanceID + " disconnected"
		}
	case "task-dies":
		if len(tasks) == 0 {
			return
		}
		tk := tasks[pick(len(tasks))]
		if o.s.KillTask(tk.ARN) == nil {
			o.did = "task " + tk.ARN + " died"
		}
	case "protect":
		if len(tasks) == 0 {
			return
		}
		tk := tasks[pick(len(tasks))]
		in := &ecs.UpdateTaskProtectionInput{Cluster: aws.String(tk.ClusterARN), Tasks: []string{tk.ARN}, ProtectionEnabled: true, ExpiresInMinutes: aws.Int32(60)}
		o.mine[in] = true
		if _, err := o.s.UpdateTaskProtection(bg, in); err == nil {
			o.protected = tk.ARN
			o.did = "a protection of " + tk.ARN
		}
	}
}

// TestOtherActorsDuringARun runs every strategy on generated clusters while someone
// else acts on the cluster at one of the rebalancer's waits (or before it starts):
// Service Auto Scaling changing a desired count, a user's deployment, a foreign drain,
// a Spot interruption (ECS drains the instance, which is gone at the next wait), an
// agent disconnecting until the next wait, a task dying, someone protecting a task. After
// the run and the next invocation, nothing the rebalancer drained is left DRAINING, no
// marker, surge tag or move marker of its own is left, the foreign drain stands, no
// desired count someone else set was overwritten, no protection someone else set was
// touched, and no benign outside change ended below minimum healthy.
func TestOtherActorsDuringARun(t *testing.T) {
	clusters, positions := 4, []int{0, 1, 3, 5}
	switch {
	case *soak:
		clusters, positions = 40, []int{0, 1, 2, 3, 5, 8}
	case testing.Short():
		clusters = 2 // the edit-test loop
	}
	runs, acted, outsideActed := 0, map[config.Strategy]int{}, 0
	for k := range clusters {
		n := 3 + k%6
		o := ct.GenOptions{
			Name: fmt.Sprintf("others-%02d", k), Seed: uint64(7000 + k),
			Instances: n, Joiners: 1, Zones: 1 + k%3, Services: max(2, n/2), Daemons: k % 2,
			Tasks: 8 * n, Skew: 0.9, Ineligible: k%3 == 0, Drained: boolInt(k%4 == 3),
		}
		base := ct.Generate(o)
		joiner := base.Instances()[n]
		for _, strategy := range []config.Strategy{config.StrategyForceNewDeployment, config.StrategyDrain, config.StrategyMove} {
			for _, kind := range outsideKinds {
				for _, at := range positions {
					name := fmt.Sprintf("%s/%s/%s@%d", o.Name, strategy, kind, at)
					r, out := runWithOutsider(t, name, base, joiner, strategy, kind, at, uint64(k))
					runs++
					if r.Strategy != plan.StrategySkip {
						acted[strategy]++
					}
					if out.did != "" {
						outsideActed++
					}
				}
			}
		}
	}
	t.Logf("%d runs (%d clusters x 3 strategies x %d outside kinds x %d interleavings); acted: %v; the outsider acted in %d",
		runs, clusters, len(outsideKinds), len(positions), acted, outsideActed)
	for _, s := range []config.Strategy{config.StrategyForceNewDeployment, config.StrategyDrain, config.StrategyMove} {
		if acted[s] == 0 {
			t.Errorf("%s never acted: the test covers nothing of it", s)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func runWithOutsider(t *testing.T, name string, base *cluster.Cluster, joiner *cluster.Instance, strategy config.Strategy, kind string, at int, seed uint64) (rebalance.Report, *outsider) {
	t.Helper()
	cfg := config.Default()
	cfg.Strategy, cfg.PredictionSamples = strategy, 2
	s := sim.New(base.Clone(), sim.Options{Now: ct.Epoch, TaskStart: 30 * time.Second, Seed: 1})
	out := &outsider{s: s, kind: kind, at: at, rng: rand.New(rand.NewPCG(seed, uint64(at))), mine: map[any]bool{}, desired: map[string]int32{}}
	original := map[string]int32{}
	var foreign []string
	s.View(func(c *cluster.Cluster) {
		for _, sv := range c.Services() {
			original[sv.Name] = sv.DesiredCount
		}
		for _, i := range c.Instances() {
			if i.Status == cluster.StatusDraining {
				foreign = append(foreign, i.ARN)
			}
		}
	})
	if at == 0 {
		out.act()
	}
	var logs bytes.Buffer
	h := rebalance.New(rebalance.Options{Config: cfg, API: s, Clock: out, Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	event := ct.JoinEvent(base, joiner, ct.Epoch)
	deliver := func() rebalance.Report {
		ctx, cancel := s.WithTimeout(context.Background(), cfg.FunctionTimeout())
		defer cancel()
		reps, err := h.Process(ctx, event)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if len(reps) != 1 {
			t.Fatalf("%s: %d reports", name, len(reps))
		}
		return reps[0]
	}
	r := deliver()
	out.finish() // whatever the run left no wait to end
	s.Advance(time.Minute)
	deliver() // Lambda's retry, or the next event
	s.Settle(time.Hour)

	if out.drained != "" {
		foreign = append(foreign, out.drained)
	}
	fail := func(format string, args ...any) {
		t.Errorf("%s (%s; %s: %s): %s", name, out.did, r.Strategy, r.Reason, fmt.Sprintf(format, args...))
	}
	var clusterARN string
	s.View(func(c *cluster.Cluster) {
		clusterARN = c.ARN
		for _, i := range c.Instances() {
			if i.ARN == out.gone {
				continue
			}
			switch isForeign := slices.Contains(foreign, i.ARN); {
			case isForeign && i.Status != cluster.StatusDraining:
				fail("someone else's drain of %s was undone: %s", i.EC2InstanceID, i.Status)
			case !isForeign && i.Status == cluster.StatusDraining:
				fail("%s left DRAINING", i.EC2InstanceID)
			}
			if i.Marked() {
				fail("%s keeps the drain marker", i.EC2InstanceID)
			}
		}
		for _, sv := range c.Services() {
			if _, ok := sv.Tag(plan.SurgeTag); ok {
				fail("%s keeps the surge tag", sv.Name)
			}
			want, set := out.desired[sv.Name]
			if !set {
				want = original[sv.Name]
			}
			if !sv.IsDaemon() && sv.DesiredCount != want {
				fail("%s desired %d, want %d (original %d, set by someone else: %v)", sv.Name, sv.DesiredCount, want, original[sv.Name], set)
			}
		}
	})
	tags, err := s.ListTagsForResource(context.Background(), &ecs.ListTagsForResourceInput{ResourceArn: aws.String(clusterARN)})
	if err == nil && len(tags.Tags) > 0 {
		fail("the cluster keeps %d tags", len(tags.Tags))
	}
	// The rebalancer's calls after the outsider's: what it did to someone else's state
	// once that state existed (before, the instance or task was not theirs yet).
	after := false
	for _, c := range s.Calls() {
		if out.mine[c.Input] {
			after = true
			continue
		}
		if c.Err != nil || !ecsclient.Mutating(c.Action) {
			continue
		}
		switch in := c.Input.(type) {
		case *ecs.UpdateTaskProtectionInput:
			if after && out.protected != "" && slices.Contains(in.Tasks, out.protected) {
				fail("the rebalancer changed someone else's protection of %s", out.protected)
			}
		case *ecs.UpdateContainerInstancesStateInput:
			for _, arn := range in.ContainerInstances {
				theirs := slices.Contains(foreign, arn) && (arn != out.drained || after)
				if theirs && in.Status == types.ContainerInstanceStatusActive {
					fail("the rebalancer set someone else's drained %s ACTIVE", arn)
				}
			}
		}
	}
	if benign := kind == "scale-out" || kind == "protect" || kind == "deploy"; benign {
		if n := s.Stats().BelowMinHealthy; n != 0 {
			fail("a service fell below its minimum healthy count %d times", n)
		}
	}
	return r, out
}
