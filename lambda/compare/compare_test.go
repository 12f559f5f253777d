package compare

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/event"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

// The baselines and the comparison (and the plotting library) must never ship in the
// Lambda binary.
func TestNotLinkedIntoBootstrap(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../cmd/rebalancer").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed %d packages; the check would prove nothing", len(deps))
	}
	for _, d := range deps {
		if strings.HasSuffix(d, "/lambda/baseline") || strings.HasSuffix(d, "/lambda/compare") || strings.HasPrefix(d, "gonum.org/") {
			t.Errorf("bootstrap links %s", d)
		}
	}
}

// joinScenario: busy runs 8 web tasks and 2 of a binpack service; light runs 2 web
// tasks; the joiner is empty; other was drained by someone else; a DAEMON service runs
// on every ACTIVE instance.
func joinScenario(t *testing.T) Scenario {
	b := ct.New("demo")
	busy := b.Instance("us-east-1a")
	light := b.Instance("us-east-1b")
	joiner := b.Instance("us-east-1a", ct.RegisteredAt(ct.Epoch.Add(-time.Minute)))
	b.Instance("us-east-1b", ct.Status(cluster.StatusDraining))
	web := b.Service("web", ct.Desired(10), ct.TaskSize(128, 256))
	b.Tasks(web, busy, 8)
	b.Tasks(web, light, 2)
	piled := b.Service("piled", ct.Desired(2), ct.TaskSize(128, 256), ct.Placement("binpack", "memory"))
	b.Tasks(piled, busy, 2)
	agent := b.Service("agent", ct.Daemon(), ct.TaskSize(64, 128))
	for _, i := range []*cluster.Instance{busy, light, joiner} {
		b.Tasks(agent, i, 1)
	}
	c := b.Cluster(t)
	return Scenario{Name: "join", Cluster: c, Sim: sim.Options{Now: ct.Epoch, TaskStart: 30 * time.Second, Seed: 1},
		Event: ct.JoinEvent(c, joiner, ct.Epoch), EventTime: ct.Epoch}
}

// What each policy does to the things the targets count: services ecs-rebalancer must
// leave alone, and a drain someone else made.
func TestMeasureCountsWhatPoliciesMustNotTouch(t *testing.T) {
	type touched struct {
		Acted                   bool
		IneligibleTouched       int
		ForeignDrainReactivated int
	}
	tests := []struct {
		policy string
		want   touched
	}{
		{string(config.StrategyAuto), touched{Acted: true}},
		// web's surplus moves from busy to the joiner, piled and agent untouched.
		{string(config.StrategyMove), touched{Acted: true}},
		{string(config.StrategyForceNewDeployment), touched{Acted: true}},
		// busy runs the binpack service's tasks: ours will not drain it.
		{string(config.StrategyDrain), touched{}},
		// agent (DAEMON) and piled (binpack) are redeployed.
		{"redeploy-all", touched{Acted: true, IneligibleTouched: 2}},
		// Draining busy stops piled's tasks (agent's come back: not counted); the script
		// then sets every DRAINING instance ACTIVE, the foreign one too.
		{"drain-busiest", touched{Acted: true, IneligibleTouched: 1, ForeignDrainReactivated: 1}},
		// piled is 2/0/0, uneven by its count; agent is 1/1/1.
		{"redeploy-uneven", touched{Acted: true, IneligibleTouched: 1}},
	}
	policies := map[string]Policy{}
	for _, p := range Policies() {
		policies[p.Name] = p
	}
	if len(policies) != len(tests) {
		t.Fatalf("%d policies, %d cases: every policy needs one", len(policies), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			m := Measure(joinScenario(t), policies[tt.policy], nil)
			got := touched{Acted: m.Acted, IneligibleTouched: m.IneligibleTouched, ForeignDrainReactivated: m.ForeignDrainReactivated}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s\nmetrics: %+v", diff, m)
			}
			if m.BelowMinHealthy != 0 {
				t.Errorf("belowMinHealthy = %d", m.BelowMinHealthy)
			}
		})
	}
}

// A deployment already rolling when the instance joins stops its old tasks whatever
// the policy does: the idle run counts them and no policy is charged for them, neither
// as restarts nor, when a drain stops them first, as an ineligible service touched.
func TestRunChargesPoliciesOnlyForTheirOwnRestarts(t *testing.T) {
	b := ct.New("demo")
	// One zone: spread by instance decides alone where web's new tasks go.
	x, y := b.Instance("us-east-1a"), b.Instance("us-east-1a")
	joiner := b.Instance("us-east-1a", ct.RegisteredAt(ct.Epoch.Add(-time.Minute)))
	rolling := b.Service("rolling", ct.Desired(4), ct.TaskSize(128, 256))
	b.Tasks(rolling, x, 4)
	b.InProgress(rolling)
	web := b.Service("web", ct.Desired(6), ct.TaskSize(128, 256))
	b.Tasks(web, x, 5)
	b.Tasks(web, y, 1)
	c := b.Cluster(t)
	sc := Scenario{Name: "rolling", Cluster: c, Sim: sim.Options{Now: ct.Epoch, TaskStart: 30 * time.Second, Seed: 1},
		Event: ct.JoinEvent(c, joiner, ct.Epoch), EventTime: ct.Epoch}

	var picked []Policy
	for _, p := range Policies() {
		if p.Name == string(config.StrategyAuto) || p.Name == "drain-busiest" {
			picked = append(picked, p)
		}
	}
	res := Run([]Scenario{sc}, picked)[0]
	if res.Idle.TasksStopped != 4 {
		t.Errorf("idle run stopped %d tasks, want rolling's 4", res.Idle.TasksStopped)
	}
	// auto no longer redeploys web (that overshoots what the cluster reaches by
	// itself); it may move web's surplus, at most 3 tasks, and is charged those alone.
	if m := res.Policies[string(config.StrategyAuto)]; m.TasksStopped != m.TasksRestarted+4 || m.TasksRestarted > 3 {
		t.Errorf("auto: acted %v, stopped %d, restarted %d; want at most web's 3 surplus tasks charged", m.Acted, m.TasksStopped, m.TasksRestarted)
	}
	for _, p := range picked[1:] {
		m := res.Policies[p.Name]
		if !m.Acted || m.TasksStopped != m.TasksRestarted+4 || m.IneligibleTouched != 0 {
			t.Errorf("%s: acted %v, stopped %d, restarted %d, ineligible touched %d; want only its own restarts charged",
				p.Name, m.Acted, m.TasksStopped, m.TasksRestarted, m.IneligibleTouched)
		}
	}
}

func TestSummarize(t *testing.T) {
	acted := func(restarted, minMoves int, cov float64) Metrics {
		return Metrics{Acted: true, TasksRestarted: restarted, MinMoves: minMoves, COVAfter: cov}
	}
	tests := []struct {
		name string
		runs []named
		want Summary
	}{
		{
			name: "odd count: the middle ratio",
			runs: []named{{"a", acted(10, 10, 10)}, {"b", acted(30, 10, 20)}, {"c", acted(20, 10, 30)}},
			want: Summary{Scenarios: 3, Acted: 3, MedianChurnRatio: ptr(2), WorstChurnRatio: ptr(3), WorstChurnScenario: "b",
				MeanCOVAfter: 20, ReachedTarget: 2, TasksRestarted: 60},
		},
		{
			name: "even count: the mean of the middle two",
			runs: []named{{"a", acted(10, 10, 0)}, {"b", acted(20, 10, 0)}, {"c", acted(40, 10, 0)}, {"d", acted(80, 10, 0)}},
			want: Summary{Scenarios: 4, Acted: 4, MedianChurnRatio: ptr(3), WorstChurnRatio: ptr(8), WorstChurnScenario: "d",
				ReachedTarget: 4, TasksRestarted: 150},
		},
		{
			name: "runs that did not act, or needed no move, have no ratio",
			runs: []named{
				{"skipped", Metrics{COVAfter: 50, TasksRestarted: 3, MinMoves: 10}},
				{"nothing to move", acted(6, 0, 0)},
				{"moved", acted(15, 10, 10)},
			},
			want: Summary{Scenarios: 3, Acted: 2, MedianChurnRatio: ptr(1.5), WorstChurnRatio: ptr(1.5), WorstChurnScenario: "moved",
				MeanCOVAfter: 20, ReachedTarget: 2, TasksRestarted: 24},
		},
		{
			name: "never acted",
			runs: []named{{"a", Metrics{COVAfter: 40, Error: "refused"}}},
			want: Summary{Scenarios: 1, MeanCOVAfter: 40, Errors: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, summarize(tt.runs)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// The family is the same on every run and spans 3 to 500 instances, 1 to 3 zones, with
// and without DAEMON services, ineligible services, tight capacity, a foreign drain and
// static host ports or awsvpc interfaces, each with one empty joiner and its event.
func TestFamily(t *testing.T) {
	first, again := Family(), Family()
	if len(first) != 30 {
		t.Fatalf("%d scenarios, want 8 sizes x 3 skews and 2 network shapes x 3 sizes", len(first))
	}
	networks := map[string]bool{}
	type features struct{ zones, daemon, ineligible, tight, drained map[any]bool }
	seen := features{map[any]bool{}, map[any]bool{}, map[any]bool{}, map[any]bool{}, map[any]bool{}}
	sizes := map[int]bool{}
	for k, sc := range first {
		if diff := cmp.Diff(fingerprint(sc), fingerprint(again[k])); diff != "" {
			t.Fatalf("%s differs between two generations:\n%s", sc.Name, diff)
		}
		ev, err := event.Decode(sc.Event)
		if err != nil {
			t.Fatalf("%s: join event: %v", sc.Name, err)
		}
		joiner := sc.Cluster.Instance(ev.Instance.ContainerInstanceARN)
		if joiner == nil {
			t.Fatalf("%s: the event's instance is not in the cluster", sc.Name)
		}
		zones := map[string]bool{}
		active, daemon, drained := 0, false, false
		for _, i := range sc.Cluster.Instances() {
			zone, _ := i.Attribute(cluster.ZoneAttribute)
			zones[zone] = true
			switch i.Status {
			case cluster.StatusActive:
				active++
			case cluster.StatusDraining:
				drained = true
			}
		}
		for _, task := range joiner.Tasks() {
			if svc := sc.Cluster.ServiceOf(task); svc == nil || !svc.IsDaemon() {
				t.Errorf("%s: the joiner runs %s", sc.Name, task.ARN)
			}
		}
		_, skipped := plan.Eligibility(sc.Cluster, config.Default().OptOutTag)
		ineligible := false
		for _, svc := range sc.Cluster.Services() {
			daemon = daemon || svc.IsDaemon()
		}
		for _, s := range skipped {
			ineligible = ineligible || !strings.HasPrefix(s.Name, "daemon-")
		}
		for _, svc := range sc.Cluster.Services() {
			if len(svc.HostPorts) > 0 {
				networks["ports"] = true
				if svc.RunningCount() > len(sc.Cluster.Instances()) {
					t.Errorf("%s: %s runs %d tasks on a static host port, more than there are instances", sc.Name, svc.Name, svc.RunningCount())
				}
			}
			if svc.TaskSize.ENIs > 0 {
				networks["awsvpc"] = true
			}
		}
		sizes[active-1] = true
		seen.zones[len(zones)] = true
		seen.daemon[daemon] = true
		seen.ineligible[ineligible] = true
		seen.tight[strings.Contains(sc.Description, "tight")] = true
		seen.drained[drained] = true
	}
	if !sizes[3] || !sizes[500] {
		t.Errorf("sizes %v, want 3 to 500 loaded instances", sizes)
	}
	if diff := cmp.Diff(map[string]bool{"ports": true, "awsvpc": true}, networks); diff != "" {
		t.Errorf("network shapes (-want +got):\n%s", diff)
	}
	both := map[any]bool{true: true, false: true}
	if diff := cmp.Diff(features{map[any]bool{1: true, 2: true, 3: true}, both, both, both, both}, seen, cmp.AllowUnexported(features{})); diff != "" {
		t.Errorf("features covered (-want +got):\n%s", diff)
	}
}

func fingerprint(sc Scenario) []any {
	return []any{sc.Name, sc.Description, string(sc.Event), cluster.Counts(sc.Cluster.Distribution()), len(sc.Cluster.Services())}
}
