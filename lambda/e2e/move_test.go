//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

// The move's waits poll every 15 s of wall time; tasks that start in 5 s keep a move
// to two polls.
func quickStarts(o *sim.Options) { o.TaskStart = 5 * time.Second }

func moveConfig() config.Config {
	cfg := config.Default()
	cfg.Strategy = config.StrategyMove
	return cfg
}

// desiredCounts are the services' desired counts now.
func desiredCounts(s *sim.Sim) map[string]int32 {
	out := map[string]int32{}
	s.View(func(c *cluster.Cluster) {
		for _, sv := range c.Services() {
			out[sv.Name] = sv.DesiredCount
		}
	})
	return out
}

// leftovers lists what a move may leave behind: surge tags, the cluster's marker,
// protected tasks, and desired counts that differ from want.
func leftovers(t *testing.T, s *sim.Sim, want map[string]int32) []string {
	t.Helper()
	var out []string
	var clusterARN string
	now := s.Now()
	s.View(func(c *cluster.Cluster) {
		clusterARN = c.ARN
		for _, sv := range c.Services() {
			if v, ok := sv.Tag(plan.SurgeTag); ok {
				out = append(out, fmt.Sprintf("%s keeps the surge tag %s", sv.Name, v))
			}
			if sv.DesiredCount != want[sv.Name] {
				out = append(out, fmt.Sprintf("%s desired %d, was %d", sv.Name, sv.DesiredCount, want[sv.Name]))
			}
		}
		for _, tk := range c.AllTasks() {
			if tk.LastStatus != cluster.TaskStopped && tk.Protected(now) {
				out = append(out, fmt.Sprintf("task %s protected until %v", tk.ARN, tk.ProtectedUntil))
			}
		}
	})
	tags, err := s.ListTagsForResource(context.Background(), &ecs.ListTagsForResourceInput{ResourceArn: aws.String(clusterARN)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range tags.Tags {
		out = append(out, fmt.Sprintf("cluster keeps the tag %s", aws.ToString(tg.Key)))
	}
	return out
}

// The released binary moves single tasks start first on the headline cluster: every
// restart is a move, nothing is left behind, and no service ran below its desired count.
func TestMoveRestartsOnlyTheTasksItMoves(t *testing.T) {
	t.Parallel()
	snap := load(t, "headline")
	w := newWorld(t, snap.Cluster, snap.Simulation.Now, moveConfig(), quickStarts)
	want := desiredCounts(w.srv.Sim())
	p := w.start()
	res := w.invoke(event(t, "headline-join"), 665*time.Second)
	if res.Error != "" {
		t.Fatalf("invocation failed: %s\n%s", res.Error, p.Logs())
	}
	d := p.Lines("decision", 1)
	if len(d) != 1 || d[0]["decision"] != string(config.StrategyMove) {
		t.Fatalf("decision records: %v\n%s", d, p.Logs())
	}
	results, _ := d[0]["moveResults"].([]any)
	moved := 0
	for _, r := range results {
		r := r.(map[string]any)
		moved += int(r["moved"].(float64))
		if e, _ := r["ended"].(string); e != "" {
			t.Errorf("move of %v ended: %s", r["service"], e)
		}
	}
	cov, _, s := w.settled()
	st := s.Stats()
	t.Logf("move: %d tasks moved with %d stops, COV %v -> %v, %d calls (%d mutating), invocation %v",
		moved, st.TasksStopped, d[0]["covBefore"], cov, st.APICalls, st.MutatingCalls, res.Took.Round(time.Millisecond))
	if moved == 0 || st.TasksStopped != moved {
		t.Errorf("%d tasks moved, %d stopped: every restart must be a move", moved, st.TasksStopped)
	}
	if before := d[0]["covBefore"].(float64); cov >= before {
		t.Errorf("COV %v -> %v", before, cov)
	}
	if st.BelowMinHealthy != 0 {
		t.Errorf("%d times below minimum healthy", st.BelowMinHealthy)
	}
	for _, l := range leftovers(t, s, want) {
		t.Error(l)
	}
	ineligibleUntouched(t, s)
}

// A process lost in the middle of a move (after the raise, while it waits; no deferred
// undo runs) leaves the raised desired count and the markers; the next invocation's
// sweep puts the count back and removes them.
func TestNextInvocationRepairsACrashedMove(t *testing.T) {
	t.Parallel()
	snap := load(t, "headline")
	w := newWorld(t, snap.Cluster, snap.Simulation.Now, moveConfig(), quickStarts)
	want := desiredCounts(w.srv.Sim())
	p := w.start()
	// The first wait's poll comes after the raise was answered: kill there.
	waiting := make(chan struct{}, 1)
	raised := false
	w.srv.Sim().SetFaults(func(action string, n int) sim.Fault {
		switch {
		case action == "UpdateService":
			raised = true
		case action == "DescribeServices" && raised:
			select {
			case waiting <- struct{}{}:
			default:
			}
		}
		return sim.Fault{}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	go w.rt.Invoke(ctx, event(t, "headline-join"), 665*time.Second)
	select {
	case <-waiting:
	case <-ctx.Done():
		t.Fatalf("the function never waited on a raised service:\n%s", p.Logs())
	}
	p.Kill()
	w.srv.Sim().SetFaults(nil)
	if l := leftovers(t, w.srv.Sim(), want); len(l) == 0 {
		t.Fatal("the crash left nothing to repair: the test kills too late")
	} else {
		t.Logf("left by the crash: %s", strings.Join(l, "; "))
	}

	p2 := w.start()
	res := w.invoke(event(t, "busy-instance"), 665*time.Second)
	if res.Error != "" {
		t.Fatalf("the next invocation failed: %s\n%s", res.Error, p2.Logs())
	}
	d := p2.Lines("decision", 1)
	if len(d) != 1 || d[0]["sweptMoves"] == nil {
		t.Errorf("the record does not say what the sweep repaired: %v", d)
	}
	s := w.srv.Sim()
	s.Settle(time.Hour)
	// Protections the crashed move set (if any) expire by themselves; after the hour
	// settled, none is left either.
	for _, l := range leftovers(t, s, want) {
		t.Error(l)
	}
	if st := s.Stats(); st.BelowMinHealthy != 0 {
		t.Errorf("%d times below minimum healthy", st.BelowMinHealthy)
	}
}
