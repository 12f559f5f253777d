package rebalance_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/event"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/snapshot"
)

// sweepCase is a scenario and strategy whose every ECS call the sweep fails in turn.
type sweepCase struct {
	snapshot, event, strategy string
	edit                      func(*config.Config)
	// prepare changes the snapshot's cluster before the run; acts is the mutating
	// call the unfaulted run must make, so the case covers what it claims.
	prepare func(*cluster.Cluster)
	acts    string
}

var sweepCases = []sweepCase{
	{"headline", "headline-join", "auto", nil, nil, "UpdateService"},
	{"headline", "headline-join", "drain", nil, nil, ""}, // predicted not to help: a skip
	{"mixed", "mixed-join", "auto", nil, nil, "UpdateService"},
	// Without the snapshot's foreign drain: with it, a drain of ours would leave 2 of
	// its 5 instances unavailable, and none starts.
	{"lazy", "lazy-join", "drain", func(c *config.Config) { c.DrainTimeout = 20 * time.Second }, endDrains, "UpdateContainerInstancesState"},
	{"lazy", "lazy-join", "force-new-deployment", nil, nil, "UpdateService"},
	{"headline", "headline-join", "move", nil, nil, "UpdateTaskProtection"},
}

// endDrains sets every DRAINING instance ACTIVE, as their operator would once done.
func endDrains(c *cluster.Cluster) {
	for _, i := range c.Instances() {
		if i.Status == cluster.StatusDraining {
			i.Status = cluster.StatusActive
		}
	}
}

// faultModes are what can happen at a call: it fails (throttled past the SDK's
// retries, a server error, per-item failures), or the invocation ends right there
// (its context cancelled, its deadline hit, its process gone: nothing after runs).
var faultModes = []string{"throttled", "server-error", "item-failure", "cancelled", "deadline", "process-gone"}

var batchActions = map[string]bool{"DescribeContainerInstances": true, "DescribeServices": true, "DescribeTasks": true, "UpdateContainerInstancesState": true}

type call struct {
	action string
	n      int // the action's n-th call
}

// callsOf runs the case without faults and returns its ECS calls in order.
func callsOf(t *testing.T, c sweepCase, snap *snapshot.Snapshot) []call {
	h := sweepHarness(t, c, snap)
	if _, err := h.deliver(readEvent(t, c.event)); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	var out []call
	for _, cl := range h.s.Calls() {
		seen[cl.Action]++
		out = append(out, call{cl.Action, seen[cl.Action]})
	}
	if c.acts != "" && seen[c.acts] == 0 {
		t.Fatalf("%s/%s makes no %s call without faults: the case covers nothing", c.snapshot, c.strategy, c.acts)
	}
	return out
}

func sweepHarness(t *testing.T, c sweepCase, snap *snapshot.Snapshot) *harness {
	c0 := snap.Cluster.Clone()
	if c.prepare != nil {
		c.prepare(c0)
	}
	return newHarness(t, c0, snap.Simulation.Now, func(cfg *config.Config) {
		cfg.Strategy = config.Strategy(c.strategy)
		if c.edit != nil {
			c.edit(cfg)
		}
	})
}

// TestFaultPointSweep fails every ECS call of every case in every mode (with -soak;
// else every call in one mode, the modes taking turns; with -short every other call),
// then runs
// Lambda's retry a minute later, and checks the safety guarantees every time: no
// instance left DRAINING, no foreign drain undone, no marker left, no service below its
// minimum healthy count, no second action for the same join, and a record of what
// happened. The table comes from recording the calls, so new calls are covered as they
// appear.
func TestFaultPointSweep(t *testing.T) {
	total := map[string]int{}
	for _, c := range sweepCases {
		snap, err := snapshot.Load("../../testdata/snapshots/" + c.snapshot + ".json")
		if err != nil {
			t.Fatal(err)
		}
		calls := callsOf(t, c, snap)
		for pos, at := range calls {
			// The edit-test loop (-short) faults every other call, the modes still
			// taking turns.
			turn := pos
			if testing.Short() && !*soak {
				if pos%2 == 1 {
					continue
				}
				turn = pos / 2
			}
			for k, mode := range faultModes {
				if mode == "item-failure" && !batchActions[at.action] {
					continue
				}
				// The quick loop faults every call once, the modes taking turns; make
				// test (-soak) faults every call in every mode.
				if !*soak && k != turn%len(faultModes) {
					continue
				}
				name := fmt.Sprintf("%s/%s/%02d-%s#%d/%s", c.snapshot, c.strategy, pos, at.action, at.n, mode)
				total[c.strategy]++
				t.Run(name, func(t *testing.T) { runFaultPoint(t, c, snap, at, mode) })
			}
		}
	}
	t.Logf("fault points run per strategy: %v", total)
}

func runFaultPoint(t *testing.T, c sweepCase, snap *snapshot.Snapshot, at call, mode string) {
	h := sweepHarness(t, c, snap)
	var foreign []string // instances DRAINING before anything ran: someone else's
	desired := map[string]int32{}
	h.s.View(func(m *cluster.Cluster) {
		for _, i := range m.Instances() {
			if i.Status == cluster.StatusDraining {
				foreign = append(foreign, i.ARN)
			}
		}
		for _, svc := range m.Services() {
			desired[svc.Name] = svc.DesiredCount
		}
	})
	raw := readEvent(t, c.event)

	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	gone := false
	h.s.SetFaults(func(action string, n int) sim.Fault {
		if gone {
			return sim.Fault{Err: errors.New("the process is gone")}
		}
		if action != at.action || n != at.n {
			return sim.Fault{}
		}
		switch mode {
		case "throttled":
			return sim.Fault{Err: sim.Throttling()}
		case "server-error":
			return sim.Fault{Err: sim.ServerError()}
		case "item-failure":
			return sim.Fault{ItemFailure: "INACTIVE"}
		case "cancelled":
			cancel()
			return sim.Fault{Err: context.Canceled}
		case "deadline":
			cancel()
			return sim.Fault{Err: context.DeadlineExceeded}
		}
		gone = true
		return sim.Fault{Err: errors.New("the process is gone")}
	})
	ctx, stop := h.s.WithTimeout(parent, h.cfg.FunctionTimeout())
	_, _ = h.h.Process(ctx, raw)
	stop()
	firstLog := h.logs.String()
	firstMutations := successfulMutations(h.s.Calls())
	h.s.SetFaults(nil)

	// Lambda retries a failed invocation after a minute (and a crash is a failure).
	h.s.Advance(time.Minute)
	// A move that left tasks on the joiner used the join: the retry must not move again.
	moved := false
	if ev, err := event.Decode(raw); err == nil && ev.Instance != nil {
		h.s.View(func(m *cluster.Cluster) {
			for _, tk := range m.Instance(ev.Instance.ContainerInstanceARN).Tasks() {
				if svc := m.ServiceOf(tk); svc != nil && !svc.IsDaemon() {
					moved = true
				}
			}
		})
	}
	h.logs.Reset()
	if _, err := h.deliver(raw); err != nil {
		t.Errorf("the retry failed: %v", err)
	}
	secondMutations := successfulMutations(h.s.Calls())[len(firstMutations):]

	foreignSet := map[string]bool{}
	for _, f := range foreign {
		foreignSet[f] = true
	}
	h.s.View(func(m *cluster.Cluster) {
		for _, i := range m.Instances() {
			switch {
			case foreignSet[i.ARN] && i.Status != cluster.StatusDraining:
				t.Errorf("someone else's drain of %s was undone: %s", i.EC2InstanceID, i.Status)
			case !foreignSet[i.ARN] && i.Status == cluster.StatusDraining:
				t.Errorf("%s left DRAINING", i.EC2InstanceID)
			}
			if i.Marked() {
				t.Errorf("%s still carries the drain marker", i.EC2InstanceID)
			}
		}
	})
	if n := h.s.Stats().BelowMinHealthy; n != 0 {
		t.Errorf("a service fell below its minimum healthy count %d times", n)
	}
	// No surge or move marker left, and every desired count back where it was (nothing
	// else changes one here).
	var clusterARN string
	h.s.View(func(m *cluster.Cluster) {
		clusterARN = m.ARN
		for _, svc := range m.Services() {
			if _, ok := svc.Tag(plan.SurgeTag); ok {
				t.Errorf("%s still carries the surge marker", svc.Name)
			}
			if svc.DesiredCount != desired[svc.Name] && !svc.IsDaemon() {
				t.Errorf("%s runs desired %d, was %d", svc.Name, svc.DesiredCount, desired[svc.Name])
			}
		}
	})
	if out, err := h.s.ListTagsForResource(context.Background(), &ecs.ListTagsForResourceInput{ResourceArn: &clusterARN}); err != nil || len(out.Tags) != 0 {
		t.Errorf("the cluster's tags after the retry: %v %v", out, err)
	}

	// No second action for the same join: what the first run did is not done again.
	redeployed := map[string]bool{}
	drained := false
	for _, m := range firstMutations {
		if svc, ok := strings.CutPrefix(m, "redeploy "); ok {
			redeployed[svc] = true
		}
		drained = drained || strings.HasPrefix(m, "drain ")
	}
	for _, m := range secondMutations {
		if svc, ok := strings.CutPrefix(m, "redeploy "); ok && redeployed[svc] {
			t.Errorf("the retry redeployed %s again", svc)
		}
		if strings.HasPrefix(m, "drain ") && drained {
			t.Errorf("the retry drained again (%s) after the first run had drained", m)
		}
		if strings.HasPrefix(m, "desired ") && moved && config.Strategy(c.strategy) == config.StrategyMove && !strings.Contains(h.logs.String(), "sweptMoves") {
			t.Errorf("the retry moved again (%s) after the first run had moved", m)
		}
	}

	// A record says what happened: the first run's, unless its process was gone, and
	// the retry's.
	if mode != "process-gone" && strings.Count(firstLog, `"msg":"decision"`) != 1 {
		t.Errorf("the faulted run wrote %d decision records:\n%s", strings.Count(firstLog, `"msg":"decision"`), firstLog)
	}
	if strings.Count(h.logs.String(), `"msg":"decision"`) != 1 {
		t.Errorf("the retry wrote %d decision records", strings.Count(h.logs.String(), `"msg":"decision"`))
	}
}

// successfulMutations lists the mutating calls that went through, as "redeploy SVC",
// "drain ARN", "reactivate ARN", "mark ARN", "unmark ARN".
func successfulMutations(calls []sim.Call) []string {
	var out []string
	for _, c := range calls {
		if c.Err != nil {
			continue
		}
		switch in := c.Input.(type) {
		case *ecs.UpdateServiceInput:
			if in.DesiredCount != nil {
				// A move raises, lowers or restores; the sweep restores.
				out = append(out, "desired "+*in.Service)
				continue
			}
			out = append(out, "redeploy "+*in.Service)
		case *ecs.UpdateContainerInstancesStateInput:
			if out := c.Output.(*ecs.UpdateContainerInstancesStateOutput); len(out.Failures) > 0 {
				continue // refused per item: nothing changed
			}
			kind := "reactivate "
			if in.Status == "DRAINING" {
				kind = "drain "
			}
			out = append(out, kind+in.ContainerInstances[0])
		case *ecs.PutAttributesInput:
			out = append(out, "mark "+*in.Attributes[0].TargetId)
		case *ecs.DeleteAttributesInput:
			out = append(out, "unmark "+*in.Attributes[0].TargetId)
		}
	}
	return out
}
