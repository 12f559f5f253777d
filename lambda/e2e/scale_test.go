//go:build e2e

package e2e

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
)

// A decision on a cluster at ECS's per-cluster maximums (5,000 instances, 5,000
// services, 50,000 tasks), by the released binary: it stays within the README's call
// bounds and within the function's 128 MB. auto in dry run: both predictions run,
// nothing waits in real time.
func TestDecisionAtECSMaximums(t *testing.T) {
	c := ct.Generate(ct.GenOptions{Name: "max", Seed: 7, Instances: 5000, Joiners: 1, Zones: 3, Services: 5000, Tasks: 50000, Skew: 0.5})
	I, S, T := len(c.Instances()), len(c.Services()), len(c.AllTasks())
	joiner := c.Instances()[I-1]
	cfg := config.Default()
	cfg.DryRun = true
	w := newWorld(t, c, ct.Epoch, cfg)
	p := w.start()

	res := w.invoke(joinEvent(c, joiner), 665*time.Second)
	if res.Error != "" {
		t.Fatalf("invocation failed: %s", res.Error)
	}
	peak := peakRSS(t, p)
	d := p.Lines("decision", 1)
	if len(d) != 1 {
		t.Fatalf("no decision record:\n%s", p.Logs())
	}
	calls := w.srv.Sim().Stats().Calls
	ceil := func(a, b int) int { return (a + b - 1) / b }
	bounds := map[string]int{
		// the sweep's filtered list, then one batched pass
		"ListContainerInstances":     1 + ceil(I, 100),
		"DescribeContainerInstances": 1 + ceil(I, 100), // plus the trigger's describe
		"ListServices":               ceil(S, 100),
		"DescribeServices":           ceil(S, 10),
		"ListTasks":                  ceil(T, 100),
		"DescribeTasks":              ceil(T, 100),
	}
	for action, max := range bounds {
		if calls[action] > max {
			t.Errorf("%s: %d calls, the README allows %d", action, calls[action], max)
		}
	}
	if w.srv.Sim().Stats().MutatingCalls != 0 {
		t.Error("dry run made mutating calls")
	}
	t.Logf("%d instances, %d services, %d tasks: %s (%v); invocation %v; %d ECS calls %v; bootstrap peak RSS %d MiB",
		I, S, T, d[0]["decision"], d[0]["reason"], res.Took.Round(time.Millisecond), w.srv.Sim().Stats().APICalls, calls, peak>>20)
	if peak > 128<<20 {
		t.Errorf("the function's peak RSS is %d MiB, above its 128 MB", peak>>20)
	}
}

// peakRSS reads the process's high-water resident set (VmHWM) in bytes.
func peakRSS(t *testing.T, p interface{ Pid() int }) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.Pid()) + "/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}
