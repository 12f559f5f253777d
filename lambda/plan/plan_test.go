package plan_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/plan"
)

const optOut = "ecs-rebalancer:skip"

// Eligibility (docs/decisions.md, "Strategies"), one case per rule.
func TestIneligible(t *testing.T) {
	tests := []struct {
		name string
		opts []ct.ServiceOpt
		edit func(b *ct.Builder, s *cluster.Service)
		want string // "" eligible; else a substring of the reason
	}{
		{name: "REPLICA on EC2, default placement, 100/200", want: ""},
		{name: "spread first", opts: []ct.ServiceOpt{ct.Placement("spread", "instanceId", "binpack", "memory")}, want: ""},
		{name: "min 50/max 100 can replace", opts: []ct.ServiceOpt{ct.Deploy(50, 100)}, want: ""},
		{name: "capacity provider strategy on an ASG provider", opts: []ct.ServiceOpt{ct.CapacityProviders("demo-asg")}, want: ""},
		{name: "DAEMON", opts: []ct.ServiceOpt{ct.Daemon()}, want: "DAEMON scheduling"},
		{name: "FARGATE launch type", opts: []ct.ServiceOpt{ct.Fargate()}, want: "runs on Fargate"},
		{name: "FARGATE_SPOT capacity provider", opts: []ct.ServiceOpt{ct.CapacityProviders("FARGATE_SPOT")}, want: "runs on Fargate"},
		{name: "EXTERNAL launch type", edit: func(_ *ct.Builder, s *cluster.Service) { s.LaunchType = cluster.LaunchExternal }, want: "EXTERNAL launch type"},
		{name: "CODE_DEPLOY", opts: []ct.ServiceOpt{ct.Controller(cluster.ControllerCodeDeploy)}, want: "CODE_DEPLOY deployment controller"},
		{name: "EXTERNAL controller", opts: []ct.ServiceOpt{ct.Controller(cluster.ControllerExternal)}, want: "EXTERNAL deployment controller"},
		{name: "ECS blue/green strategy", edit: func(_ *ct.Builder, s *cluster.Service) { s.DeploymentStrategy = "BLUE_GREEN" }, want: "BLUE_GREEN deployment strategy"},
		{name: "binpack first", opts: []ct.ServiceOpt{ct.Placement("binpack", "memory", "spread", "instanceId")}, want: "binpack-first"},
		{name: "random first", opts: []ct.ServiceOpt{ct.Placement("random", "")}, want: "random-first"},
		{name: "opted out", opts: []ct.ServiceOpt{ct.Tag(optOut, "true")}, want: "opted out"},
		{name: "opt-out tag any case", opts: []ct.ServiceOpt{ct.Tag(optOut, "TRUE")}, want: "opted out"},
		{name: "opt-out tag false is not an opt-out", opts: []ct.ServiceOpt{ct.Tag(optOut, "false")}, want: ""},
		{name: "desired 1", opts: []ct.ServiceOpt{ct.Desired(1)}, want: "desired count 1"},
		{name: "two deployments", edit: func(b *ct.Builder, s *cluster.Service) { b.InProgress(s) }, want: "deployment in progress (2 deployments)"},
		{name: "rollout IN_PROGRESS", edit: func(_ *ct.Builder, s *cluster.Service) { s.Deployments[0].RolloutState = cluster.RolloutInProgress }, want: "rollout IN_PROGRESS"},
		{name: "last rollout FAILED", edit: func(_ *ct.Builder, s *cluster.Service) { s.Deployments[0].RolloutState = cluster.RolloutFailed }, want: "FAILED"},
		{name: "running below desired", edit: func(_ *ct.Builder, s *cluster.Service) { s.DesiredCount = 5 }, want: "not at steady state"},
		{name: "min=max=100%", opts: []ct.ServiceOpt{ct.Deploy(100, 100)}, want: "lets no task be replaced"},
		{name: "min 75% max 100% of 2", opts: []ct.ServiceOpt{ct.Desired(2), ct.Deploy(75, 100)}, want: "lets no task be replaced"},
		{name: "min 75% max 200% of 2 can start one", opts: []ct.ServiceOpt{ct.Desired(2), ct.Deploy(75, 200)}, want: ""},
		{name: "max 125% of 3 with min 100%", opts: []ct.ServiceOpt{ct.Desired(3), ct.Deploy(100, 125)}, want: "lets no task be replaced"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := ct.New("demo")
			i := b.Instance("us-east-1a")
			s := b.Service("svc", append([]ct.ServiceOpt{ct.Desired(4)}, tt.opts...)...)
			if !s.IsDaemon() && !s.OnFargate() {
				b.Tasks(s, i, int(s.DesiredCount))
			} else if s.OnFargate() {
				b.Tasks(s, nil, int(s.DesiredCount))
			}
			if tt.edit != nil {
				tt.edit(b, s)
			}
			got := plan.Ineligible(s, optOut)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("Ineligible = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestImbalances(t *testing.T) {
	b := ct.New("demo")
	a := b.Instance("us-east-1a")
	bb := b.Instance("us-east-1b")
	c := b.Instance("us-east-1c", ct.Attr("tier", "batch"))
	joiner := b.Instance("us-east-1a")
	_ = joiner
	big := b.Service("big", ct.Desired(9))     // 3,3,3,0: spread 3
	small := b.Service("small", ct.Desired(6)) // 2,2,2,0: spread 2
	even := b.Service("even", ct.Desired(3))   // 1,1,1,0: spread 1, balanced
	pinned := b.Service("pinned", ct.Desired(4), ct.Constraint("memberOf", "attribute:tier != batch"))
	for _, i := range []*cluster.Instance{a, bb, c} {
		b.Tasks(big, i, 3)
		b.Tasks(small, i, 2)
		b.Tasks(even, i, 1)
	}
	b.Tasks(pinned, a, 2)
	b.Tasks(pinned, bb, 2) // 2,2 on its hosts a, b, joiner: spread 2
	cl := b.Cluster(t)
	eligible, _ := plan.Eligibility(cl, optOut)
	var got []string
	for _, im := range plan.Imbalances(cl, eligible) {
		got = append(got, im.Service)
	}
	if diff := cmp.Diff([]string{"big", "small", "pinned"}, got); diff != "" {
		t.Errorf("imbalanced services, largest spread first, then larger service (-want +got):\n%s", diff)
	}
}

func TestInstanceJoined(t *testing.T) {
	now := ct.Epoch
	base := func() *cluster.Instance {
		return &cluster.Instance{Status: "ACTIVE", AgentConnected: true, RegisteredAt: now.Add(-2 * time.Minute)}
	}
	tests := []struct {
		name string
		edit func(*cluster.Instance) *cluster.Instance
		want string
	}{
		{"fresh joiner", func(i *cluster.Instance) *cluster.Instance { return i }, ""},
		{"gone", func(*cluster.Instance) *cluster.Instance { return nil }, "no longer registered"},
		{"draining", func(i *cluster.Instance) *cluster.Instance { i.Status = "DRAINING"; return i }, "DRAINING, not ACTIVE"},
		{"disconnected", func(i *cluster.Instance) *cluster.Instance { i.AgentConnected = false; return i }, "disconnected"},
		{"old instance reconnecting", func(i *cluster.Instance) *cluster.Instance { i.RegisteredAt = now.Add(-3 * time.Hour); return i }, "registered 3h0m0s ago, outside JOIN_WINDOW 10m0s"},
		{"no registeredAt", func(i *cluster.Instance) *cluster.Instance { i.RegisteredAt = time.Time{}; return i }, "no registeredAt"},
		{"our own drained instance", func(i *cluster.Instance) *cluster.Instance { i.SetAttribute(cluster.MarkerAttribute, "x"); return i }, "drain marker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := plan.InstanceJoined(tt.edit(base()), now, 10*time.Minute)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("InstanceJoined = %q, want %q", got, tt.want)
			}
		})
	}
}

// The daemon point (docs/decisions.md, "What it does with an event"): a joiner in a cluster with a
// daemon service is never at zero tasks when the handler looks; it is still a join.
func TestClusterJoined(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(b *ct.Builder, joiner *cluster.Instance)
		instances int
		want      string
		holds     string
	}{
		{name: "empty joiner", instances: 2, want: "", holds: "0 daemon task(s)"},
		{name: "joiner running only a daemon task is still a join", instances: 2, setup: func(b *ct.Builder, j *cluster.Instance) {
			d := b.Service("logs", ct.Daemon(), ct.Desired(1))
			b.Tasks(d, j, 1)
		}, want: "", holds: "1 daemon task(s)"},
		{name: "a pending daemon task counts as a daemon task", instances: 2, setup: func(b *ct.Builder, j *cluster.Instance) {
			d := b.Service("logs", ct.Daemon(), ct.Desired(1))
			b.PendingTasks(d, j, 1)
		}, want: "", holds: "1 daemon task(s)"},
		{name: "a replica task makes it busy", instances: 2, setup: func(b *ct.Builder, j *cluster.Instance) {
			web := b.Service("web", ct.Desired(1))
			b.Tasks(web, j, 1)
		}, want: "not empty: it runs 1 tasks besides daemons (web)"},
		{name: "a standalone task makes it busy", instances: 2, setup: func(b *ct.Builder, j *cluster.Instance) {
			b.Standalone("migrate", j, cluster.Resources{CPU: 10, Memory: 10})
		}, want: "family:migrate"},
		{name: "a lone instance is not a join to rebalance", instances: 1, want: "only 1 ACTIVE instance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := ct.New("demo")
			var joiner *cluster.Instance
			for k := range tt.instances {
				joiner = b.Instance("us-east-1a")
				_ = k
			}
			if tt.setup != nil {
				tt.setup(b, joiner)
			}
			why, holds := plan.ClusterJoined(b.Cluster(t), joiner.ARN)
			if (tt.want == "") != (why == "") || !strings.Contains(why, tt.want) || holds != tt.holds {
				t.Errorf("ClusterJoined = %q, %q; want %q, %q", why, holds, tt.want, tt.holds)
			}
		})
	}
}

// docs/decisions.md, "Strategies" and safety guarantee 3: most loaded first, never the joiner,
// never an instance running an ineligible service's task, never more than the others
// can absorb, at most max.
func TestDrainCandidates(t *testing.T) {
	now := ct.Epoch
	type setup struct {
		b                       *ct.Builder
		hot, warm, cold, joiner *cluster.Instance
		web                     *cluster.Service
	}
	build := func(opts ...ct.InstanceOpt) setup {
		b := ct.New("demo")
		s := setup{b: b}
		s.hot = b.Instance("us-east-1a", opts...)
		s.warm = b.Instance("us-east-1b")
		s.cold = b.Instance("us-east-1c")
		s.joiner = b.Instance("us-east-1a", ct.RegisteredAt(now.Add(-time.Minute)))
		s.web = b.Service("web", ct.Desired(12), ct.TaskSize(64, 64))
		b.Tasks(s.web, s.hot, 6)
		b.Tasks(s.web, s.warm, 5)
		b.Tasks(s.web, s.cold, 1)
		return s
	}
	tests := []struct {
		name  string
		setup func() setup
		max   int
		want  func(s setup) []*cluster.Instance
		skip  string // a reason that must be among the skipped
	}{
		{"most loaded first, above the balanced ceil only", func() setup { return build() }, 3,
			func(s setup) []*cluster.Instance { return []*cluster.Instance{s.hot, s.warm} }, "not above the balanced 3"},
		{"at most max", func() setup { return build() }, 1,
			func(s setup) []*cluster.Instance { return []*cluster.Instance{s.hot} }, ""},
		{"an ineligible service's task blocks", func() setup {
			s := build()
			batch := s.b.Service("batch", ct.Desired(2), ct.Placement("binpack", "memory"), ct.TaskSize(64, 64))
			s.b.Tasks(batch, s.hot, 2)
			return s
		}, 3, func(s setup) []*cluster.Instance { return []*cluster.Instance{s.warm} }, "runs tasks of ineligible service batch"},
		{"daemon and standalone tasks do not block", func() setup {
			s := build()
			logs := s.b.Service("logs", ct.Daemon(), ct.Desired(4), ct.TaskSize(8, 8))
			for _, i := range []*cluster.Instance{s.hot, s.warm, s.cold, s.joiner} {
				s.b.Tasks(logs, i, 1)
			}
			s.b.Standalone("cron", s.hot, cluster.Resources{CPU: 8, Memory: 8})
			return s
		}, 3, func(s setup) []*cluster.Instance { return []*cluster.Instance{s.hot, s.warm} }, ""},
		{"the others cannot absorb it", func() setup {
			b := ct.New("demo")
			s := setup{b: b}
			s.hot = b.Instance("us-east-1a", ct.Resources(4096, 4096))
			s.warm = b.Instance("us-east-1b", ct.Resources(1024, 1024))
			s.web = b.Service("web", ct.Desired(9), ct.TaskSize(400, 100))
			b.Tasks(s.web, s.hot, 8)
			b.Tasks(s.web, s.warm, 1)
			return s
		}, 3, func(s setup) []*cluster.Instance { return nil }, "uses cpu 3200"},
		{"a marked instance is not drained again", func() setup { return build(ct.Attr(cluster.MarkerAttribute, "2026-11-20T08:00:00Z")) }, 3,
			func(s setup) []*cluster.Instance { return []*cluster.Instance{s.warm} }, "carries the drain marker"},
		{"the last ACTIVE instance is never drained", func() setup {
			b := ct.New("demo")
			s := setup{b: b}
			s.hot = b.Instance("us-east-1a")
			b.Instance("us-east-1b", ct.Status(cluster.StatusDraining))
			s.web = b.Service("web", ct.Desired(3))
			b.Tasks(s.web, s.hot, 3)
			return s
		}, 3, func(s setup) []*cluster.Instance { return nil }, "nothing to drain to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.setup()
			c := s.b.Cluster(t)
			eligible, _ := plan.Eligibility(c, optOut)
			got, skipped := plan.DrainCandidates(c.InstanceCounts(), plan.Blockers(c, eligible), now, 10*time.Minute, tt.max)
			ids := func(is []*cluster.Instance) []string {
				var out []string
				for _, i := range is {
					out = append(out, i.EC2InstanceID)
				}
				return out
			}
			if diff := cmp.Diff(ids(tt.want(s)), ids(got)); diff != "" {
				t.Errorf("candidates (-want +got):\n%s", diff)
			}
			for _, i := range got {
				if s.joiner != nil && i == s.joiner {
					t.Error("the joiner was picked")
				}
			}
			if tt.skip != "" {
				found := false
				for _, sk := range skipped {
					found = found || strings.Contains(sk.Reason, tt.skip)
				}
				if !found {
					t.Errorf("no skip says %q: %+v", tt.skip, skipped)
				}
			}
		})
	}
}

// pred is a prediction whose samples all agreed: median, range and credited COV are
// cov, every sample restarted restarts.
func pred(strategy config.Strategy, cov float64, restarts int) plan.Prediction {
	return plan.Prediction{Strategy: strategy, Possible: true, COVAfter: cov, COVLow: cov, COVHigh: cov, COVCreditedHigh: cov,
		Restarts: restarts, RestartsHigh: restarts, Reaches: cov <= 25}
}

func TestChoose(t *testing.T) {
	fnd := func(cov float64, restarts int) plan.Prediction { return pred("force-new-deployment", cov, restarts) }
	drain := func(cov float64, restarts int) plan.Prediction { return pred("drain", cov, restarts) }
	impossible := plan.Prediction{Strategy: "drain", Reason: "no instance can be drained"}
	// The median reaches the goal, the pessimistic end does not.
	luckyDrain := drain(20, 8)
	luckyDrain.COVHigh, luckyDrain.Reaches = 27, false
	// The cluster would have got most of the way by itself: the strategy's own share
	// is small.
	freeRider := fnd(40, 5)
	freeRider.COVCreditedHigh = 55
	// More restarts on an unlucky sample than the other strategy's worst.
	spiky := drain(10, 6)
	spiky.RestartsHigh = 30
	tests := []struct {
		name  string
		preds []plan.Prediction
		want  string // chosen strategy, "" for none
		why   string
	}{
		{"both reach: fewer restarts wins", []plan.Prediction{fnd(10, 20), drain(20, 8)}, "drain", ""},
		{"both reach, same restarts: force-new-deployment", []plan.Prediction{fnd(10, 8), drain(5, 8)}, "force-new-deployment", ""},
		{"only one reaches", []plan.Prediction{fnd(30, 5), drain(20, 50)}, "drain", ""},
		{"reaching is read at the pessimistic end", []plan.Prediction{fnd(24, 50), luckyDrain}, "force-new-deployment", ""},
		{"restarts are read at the pessimistic end", []plan.Prediction{fnd(10, 20), spiky}, "force-new-deployment", ""},
		{"neither reaches: the larger improvement", []plan.Prediction{fnd(40, 5), drain(30, 50)}, "drain", "largest improvement"},
		{"neither improves: skip with both reasons", []plan.Prediction{fnd(60, 5), drain(61, 50)}, "", "no strategy helps enough from 58.00%: force-new-deployment: predicted COV 60.00% after 5 restarts, 60.00% of it its own doing at worst (worth acting at 49.75% or below); drain:"},
		{"an improvement too small for its restarts", []plan.Prediction{fnd(57.5, 200)}, "", "worth acting at 49.75% or below"},
		{"closing a quarter of the gap is enough", []plan.Prediction{fnd(49.75, 20)}, "force-new-deployment", "largest improvement"},
		{"what the cluster does by itself is not credited", []plan.Prediction{freeRider}, "", "55.00% of it its own doing"},
		{"impossible strategies say why", []plan.Prediction{fnd(60, 5), impossible}, "", "drain: no instance can be drained"},
		{"restarting nothing is not help", []plan.Prediction{fnd(10, 0)}, "", "restarts no task"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := plan.Choose(58, 25, tt.preds)
			name := ""
			if got != nil {
				name = string(got.Strategy)
			}
			if name != tt.want || !strings.Contains(why, tt.why) {
				t.Errorf("Choose = %q, %q; want %q, %q", name, why, tt.want, tt.why)
			}
		})
	}
}

func TestSpread(t *testing.T) {
	tests := []struct {
		name        string
		values      []float64
		med, lo, hi float64
	}{
		{"one sample is a point", []float64{30}, 30, 30, 30},
		{"equal samples are a point", []float64{30, 30, 30}, 30, 30, 30},
		// 5 samples 10..14: the mean gap is (14-10)/4 = 1 on each side.
		{"the range is widened by the mean gap", []float64{14, 10, 12, 11, 13}, 12, 9, 15},
		{"even count: the middle two's mean", []float64{1, 2, 3, 4}, 2.5, 0, 5},
		{"never below zero", []float64{0, 6}, 3, 0, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			med, lo, hi := plan.Spread(tt.values)
			if diff := cmp.Diff([]float64{tt.med, tt.lo, tt.hi}, []float64{med, lo, hi}); diff != "" {
				t.Errorf("Spread (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGoal(t *testing.T) {
	if goal, binds := plan.Goal(25, 12); goal != 25 || binds {
		t.Errorf("Goal(25, 12) = %v, %v; want the gate", goal, binds)
	}
	if goal, binds := plan.Goal(25, 38.49); goal != 38.99 || !binds {
		t.Errorf("Goal(25, 38.49) = %v, %v; want the floor plus half a point", goal, binds)
	}
}

// A drain never stacks on instances already unavailable past a third of the cluster;
// alone, one drain at a time is allowed at any size.
func TestTooManyUnavailable(t *testing.T) {
	tests := []struct {
		active, down int
		refused      bool
	}{
		{2, 0, false}, // one drain of two: the capacity check decides
		{4, 1, true},  // 2 of 5 would be unavailable
		{5, 1, false}, // 2 of 6 is a third
		{3, 1, true},  // 2 of 4
		{6, 2, true},  // 3 of 8
		{7, 2, false}, // 3 of 9
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d active, %d down", tt.active, tt.down), func(t *testing.T) {
			var obs []cluster.InstanceCount
			for k := range tt.active + tt.down {
				i := &cluster.Instance{Status: cluster.StatusActive, AgentConnected: true}
				if k >= tt.active {
					i.Status = cluster.StatusDraining
				}
				obs = append(obs, cluster.InstanceCount{Instance: i})
			}
			// INACTIVE instances are not part of the cluster.
			obs = append(obs, cluster.InstanceCount{Instance: &cluster.Instance{Status: cluster.StatusInactive}})
			if got := plan.TooManyUnavailable(obs) != ""; got != tt.refused {
				t.Errorf("refused %v, want %v (%s)", got, tt.refused, plan.TooManyUnavailable(obs))
			}
		})
	}
}
