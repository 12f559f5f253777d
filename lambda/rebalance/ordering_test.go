package rebalance_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
)

// older returns the event with an earlier time and detail.version, as a retried or
// late delivery carries them.
func older(t *testing.T, raw []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["time"] = "2026-11-20T08:50:00Z"
	m["detail"].(map[string]any)["version"] = 0
	b, _ := json.Marshal(m)
	return b
}

// An older event arriving after a newer one changes nothing: the handler judges the
// instance by what ECS says now, not by the event.
func TestOutOfOrderDelivery(t *testing.T) {
	h := loadHarness(t, "headline", nil)
	first, err := h.deliver(readEvent(t, "headline-join"))
	if err != nil || first.Strategy == plan.StrategySkip {
		t.Fatalf("first: %s %v", first.Reason, err)
	}
	n := len(h.mutatingCalls())
	for _, name := range []string{"headline-join", "draining-instance", "disconnected-agent"} {
		r, err := h.deliver(older(t, readEvent(t, name)))
		if err != nil || r.Strategy != plan.StrategySkip {
			t.Errorf("older %s: %s (%s) %v", name, r.Strategy, r.Reason, err)
		}
	}
	if got := h.mutatingCalls()[n:]; len(got) != 0 {
		t.Errorf("late events caused mutating calls: %v", got)
	}
}

// Two joins in quick succession: the second event finds the first one's deployments
// in progress and does not redeploy them again; the second joiner gets its share from
// the ongoing rollout.
func TestTwoJoinsInQuickSuccession(t *testing.T) {
	h := loadHarness(t, "headline", nil)
	var second *cluster.Instance
	var c *cluster.Cluster
	h.s.View(func(m *cluster.Cluster) { c = m.Clone() })
	second = &cluster.Instance{
		ARN: "arn:aws:ecs:us-east-1:111122223333:container-instance/demo/5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e", EC2InstanceID: "i-05e5e5e5e5e5e5e5e",
		Status: cluster.StatusActive, AgentConnected: true, RegisteredAt: ct.Epoch.Add(10 * time.Second),
		Registered: cluster.Resources{CPU: 4096, Memory: 15680}, Remaining: cluster.Resources{CPU: 4096, Memory: 15680},
		Attributes: []cluster.Attribute{{Name: cluster.ZoneAttribute, Value: "us-east-1c"}},
	}
	// Both register; the first event arrives, then the second 15 seconds later, while
	// the first rollout is still going.
	if err := h.s.RegisterInstance(second); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := h.s.WithTimeout(context.Background(), h.cfg.FunctionTimeout())
	if _, err := h.h.Process(ctx, readEvent(t, "headline-join")); err != nil {
		t.Fatal(err)
	}
	cancel()
	h.s.Advance(15 * time.Second)
	r, err := h.deliver(joinEvent(c, second, ct.Epoch.Add(15*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	redeploys := map[string]int{}
	for _, call := range h.s.Calls() {
		if in, ok := call.Input.(*ecs.UpdateServiceInput); ok {
			redeploys[*in.Service]++
		}
	}
	for svc, n := range redeploys {
		if n > 1 {
			t.Errorf("%s redeployed %d times", svc, n)
		}
	}
	t.Logf("second join: %s (%s); redeployments %v", r.Strategy, r.Reason, redeploys)
	for id, st := range h.status() {
		if st != cluster.StatusActive {
			t.Errorf("%s is %s", id, st)
		}
	}
}

// A scheduled run right after an event's drain returned, while ECS is still moving
// the replaced tasks: the moving services are not at steady state, so it does not
// drain them again or touch the drained instance.
func TestScheduledRunRightAfterADrain(t *testing.T) {
	h := loadHarness(t, "lazy", func(c *config.Config) {
		// The gate at 50 %: the drain's worst sample then clears the quarter-of-the-gap bar.
		c.Strategy, c.DrainTimeout, c.Clusters, c.COVPercent = config.StrategyDrain, 20*time.Second, []string{"lazy"}, 50
	})
	// The snapshot's foreign drain ends first: with it, a drain of ours would leave
	// more than a third of the instances unavailable.
	endForeignDrains(t, h)
	ctx, cancel := h.s.WithTimeout(context.Background(), h.cfg.FunctionTimeout())
	first, err := h.h.Process(ctx, readEvent(t, "lazy-join"))
	cancel()
	if err != nil || first[0].Strategy != "drain" {
		t.Fatalf("first: %+v %v", first, err)
	}
	n := len(h.mutatingCalls())
	sched, err := h.deliver(readEvent(t, "scheduled"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range h.mutatingCalls()[n:] {
		if m == "UpdateContainerInstancesState" {
			t.Errorf("the scheduled run drained during the first one's replacements: %s (%s)", sched.Strategy, sched.Reason)
		}
	}
	t.Logf("scheduled run after the drain: %s (%s)", sched.Strategy, sched.Reason)
	drainingNow := 0
	for _, st := range h.status() {
		if st == cluster.StatusDraining {
			drainingNow++
		}
	}
	if drainingNow != 0 {
		t.Errorf("%d instances DRAINING after both runs", drainingNow)
	}
}

// A scheduled run landing while an instance is still DRAINING under the rebalancer's
// marker (the event's invocation died mid-drain): it waits out the drain's
// DRAIN_TIMEOUT, reactivates it, and only then looks at the cluster.
func TestScheduledRunDuringAnOrphanedDrain(t *testing.T) {
	h := loadHarness(t, "lazy", func(c *config.Config) { c.Clusters = []string{"lazy"} })
	var victim *cluster.Instance
	h.s.View(func(m *cluster.Cluster) { victim = m.Instances()[0] })
	_, _ = h.s.PutAttributes(context.Background(), &ecs.PutAttributesInput{Cluster: ptr("lazy"), Attributes: marker(victim.ARN, ct.Epoch.Add(-10*time.Second).Format(time.RFC3339))})
	_, _ = h.s.UpdateContainerInstancesState(context.Background(), &ecs.UpdateContainerInstancesStateInput{Cluster: ptr("lazy"), ContainerInstances: []string{victim.ARN}, Status: "DRAINING"})
	start := h.s.Now()
	r, err := h.deliver(readEvent(t, "scheduled"))
	if err != nil {
		t.Fatal(err)
	}
	var reactivatedAt time.Time
	for _, c := range h.s.Calls() {
		if in, ok := c.Input.(*ecs.UpdateContainerInstancesStateInput); ok && in.ContainerInstances[0] == victim.ARN && in.Status == "ACTIVE" {
			reactivatedAt = c.At
		}
	}
	if got := reactivatedAt.Sub(start); got != 35*time.Second {
		t.Errorf("reactivated %v after the run started, want 35 s (what was left of its 45 s DRAIN_TIMEOUT)", got)
	}
	if st := h.status()[victim.EC2InstanceID]; st != cluster.StatusActive {
		t.Errorf("orphaned drain left %s", st)
	}
	t.Logf("scheduled run: swept %v, then %s (%s)", r.Swept, r.Strategy, r.Reason)
}

// endForeignDrains sets every DRAINING instance of the harness's cluster ACTIVE, as
// their operator would once done.
func endForeignDrains(t *testing.T, h *harness) {
	t.Helper()
	var draining []string
	var name string
	h.s.View(func(c *cluster.Cluster) {
		name = c.Name
		for _, i := range c.Instances() {
			if i.Status == cluster.StatusDraining {
				draining = append(draining, i.ARN)
			}
		}
	})
	if len(draining) == 0 {
		t.Fatal("no foreign drain to end")
	}
	if _, err := h.s.UpdateContainerInstancesState(context.Background(), &ecs.UpdateContainerInstancesStateInput{
		Cluster: ptr(name), ContainerInstances: draining, Status: types.ContainerInstanceStatusActive}); err != nil {
		t.Fatal(err)
	}
}
