package sim_test

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/snapshot"
)

// ECS fact (Developer Guide, rolling update): a forced deployment replaces
// every task, keeping at least ceil(desired x min%) RUNNING and at most
// floor(desired x max%) RUNNING or PENDING. min=max=100 % allows no move; min 75 % of 2
// cannot stop a task and max 125 % of 3 cannot start one, so with the other bound at
// 100 % those deployments never progress.
func TestForcedDeploymentWaves(t *testing.T) {
	tests := []struct {
		name        string
		desired     int32
		min, max    int32
		wantSeconds int // until the deployment completes; -1: it never moves
	}{
		{"defaults 100/200: start all, then stop the old", 4, 100, 200, 30},
		{"50/200: stop half and start all at once", 4, 50, 200, 30},
		{"50/100: two waves of two", 4, 50, 100, 60},
		{"0/100: stop all, start all", 4, 0, 100, 30},
		{"75/200 of 2: starts first, then stops", 2, 75, 200, 30},
		{"50/125 of 3: one task a wave", 3, 50, 125, 90},
		{"100/100 blocks every move", 4, 100, 100, -1},
		{"75/100 of 2 cannot stop a task", 2, 75, 100, -1},
		{"100/125 of 3 cannot start one", 3, 100, 125, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := ct.New("demo")
			insts := []*cluster.Instance{b.Instance("us-east-1a"), b.Instance("us-east-1b"), b.Instance("us-east-1c")}
			svc := b.Service("web", ct.Desired(tt.desired), ct.Deploy(tt.min, tt.max))
			for k := range tt.desired {
				b.Tasks(svc, insts[int(k)%3], 1)
			}
			s := newSim(t, b)
			oldDeployment := svc.Primary().ID
			forceDeploy(t, s, "web")

			minHealthy, maxTotal := svc.HealthyBounds()
			for elapsed := time.Duration(0); elapsed <= 5*wave; elapsed += wave {
				v := viewService(s, "web")
				if v.Running+v.Pending > maxTotal {
					t.Errorf("at +%v: %d running + %d pending exceed the maximum %d", elapsed, v.Running, v.Pending, maxTotal)
				}
				if v.Running < minHealthy {
					t.Errorf("at +%v: %d running, below the minimum healthy %d", elapsed, v.Running, minHealthy)
				}
				s.Advance(wave)
			}
			st := s.Stats()
			v := viewService(s, "web")
			if tt.wantSeconds < 0 {
				if st.TasksStarted != 0 || st.TasksStopped != 0 || v.Rollout != cluster.RolloutInProgress || v.Deployments != 2 {
					t.Errorf("a blocked deployment moved: started %d stopped %d rollout %s deployments %d", st.TasksStarted, st.TasksStopped, v.Rollout, v.Deployments)
				}
				if got := s.Settle(time.Hour); !got.Idle || len(got.Stalled) != 1 {
					t.Errorf("Settle = %+v, want idle with web stalled", got)
				}
				return
			}
			if st.TasksStarted != int(tt.desired) || st.TasksStopped != int(tt.desired) {
				t.Errorf("started %d stopped %d, want every one of the %d tasks replaced", st.TasksStarted, st.TasksStopped, tt.desired)
			}
			if v.Rollout != cluster.RolloutCompleted || v.Deployments != 1 || v.Running != int(tt.desired) {
				t.Errorf("after the deployment: %+v", v)
			}
			var completedAt time.Time
			s.View(func(c *cluster.Cluster) {
				completedAt = c.Service("web").Primary().UpdatedAt
				for _, tk := range c.Service("web").Tasks() {
					if tk.StartedBy == oldDeployment {
						t.Errorf("task %s of the old deployment still live", tk.ARN)
					}
				}
			})
			if got := completedAt.Sub(ct.Epoch); got != time.Duration(tt.wantSeconds)*time.Second {
				t.Errorf("completed after %v, want %ds", got, tt.wantSeconds)
			}
			if st.BelowMinHealthy != 0 {
				t.Errorf("BelowMinHealthy = %d", st.BelowMinHealthy)
			}
		})
	}
}

func TestForcedDeploymentKeepsTaskDefinitionAndNamesTheDeployment(t *testing.T) {
	b := ct.New("demo")
	i := b.Instance("us-east-1a")
	svc := b.Service("web", ct.Desired(2))
	b.Tasks(svc, i, 2)
	s := newSim(t, b)
	td := svc.TaskDefinition
	out, err := s.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: str("demo"), Service: str("web"), ForceNewDeployment: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.Service.Deployments[0].Id); !regexp.MustCompile(`^ecs-svc/\d{19}$`).MatchString(got) {
		t.Errorf("new deployment ID %q is not shaped like ECS's", got)
	}
	if got := aws.ToString(out.Service.TaskDefinition); got != td {
		t.Errorf("task definition changed to %s", got)
	}
	s.Settle(time.Hour)
	s.View(func(c *cluster.Cluster) {
		for _, tk := range c.Service("web").Tasks() {
			if tk.TaskDefinitionARN != td || tk.StartedBy != aws.ToString(out.Service.Deployments[0].Id) {
				t.Errorf("new task %s: task definition %s, startedBy %s", tk.ARN, tk.TaskDefinitionARN, tk.StartedBy)
			}
		}
	})
}

// ECS fact: the service's placement strategy places the new tasks, counting every live
// task of the service, the old deployment's included (with min 100 % they still run
// while the new ones start). Availability-zone balanced spread keeps each zone's share,
// so the zone's share goes to its emptier instance: the joiner.
func TestForcedDeploymentSpreadsByZoneThenInstance(t *testing.T) {
	b := ct.New("demo")
	roomy := ct.Resources(8192, 16384)
	a := b.Instance("us-east-1a", roomy)
	bb := b.Instance("us-east-1b", roomy)
	c := b.Instance("us-east-1c", roomy)
	joiner := b.Instance("us-east-1a", roomy)
	web := b.Service("web", ct.Desired(12), ct.Placement("spread", cluster.FieldZone, "spread", cluster.FieldInstanceID))
	api := b.Service("api", ct.Desired(9), ct.Placement("spread", cluster.FieldInstanceID))
	for _, i := range []*cluster.Instance{a, bb, c} {
		b.Tasks(web, i, 4)
		b.Tasks(api, i, 3)
	}
	s := newSim(t, b)
	forceDeploy(t, s, "web")
	forceDeploy(t, s, "api")
	if got := s.Settle(time.Hour); !got.Idle || len(got.Stalled) > 0 {
		t.Fatalf("Settle = %+v", got)
	}
	// 4 new per zone; in us-east-1a the joiner (0 tasks) beats a (4 old ones).
	if diff := cmp.Diff(map[string]int{joiner.EC2InstanceID: 4, bb.EC2InstanceID: 4, c.EC2InstanceID: 4}, viewService(s, "web").PerInstance); diff != "" {
		t.Errorf("web per instance (-want +got):\n%s", diff)
	}
	// Instance spread counts the 3 old api tasks on each loaded instance: the joiner
	// fills to 3 first, then the ties (broken at random) share the other 6 among all four.
	apiTasks := viewService(s, "api").PerInstance
	total := 0
	for id, n := range apiTasks {
		total += n
		lo, hi := 1, 2
		if id == joiner.EC2InstanceID {
			lo, hi = 4, 5
		}
		if n < lo || n > hi {
			t.Errorf("api on %s: %d tasks, want %d-%d", id, n, lo, hi)
		}
	}
	if total != 9 || len(apiTasks) != 4 {
		t.Errorf("api: %v", apiTasks)
	}
}

// The headline's loaded instances have 640 CPU free: the old tasks keep their
// reservations until their replacements run, so most of web's new tasks land on the
// joiner whatever the zones say (placement strategies are best effort; resources bind).
func TestForcedDeploymentIsBoundByFreeCapacity(t *testing.T) {
	snap, err := snapshot.Load("../../testdata/snapshots/headline.json")
	if err != nil {
		t.Fatal(err)
	}
	s := sim.New(snap.Cluster, snap.Simulation.Options())
	var ids []string
	s.View(func(c *cluster.Cluster) {
		for _, i := range c.Instances() {
			ids = append(ids, i.EC2InstanceID)
		}
	})
	forceDeploy(t, s, "web")
	s.Settle(time.Hour)
	if diff := cmp.Diff(map[string]int{ids[0]: 2, ids[1]: 2, ids[2]: 2, ids[3]: 6}, viewService(s, "web").PerInstance); diff != "" {
		t.Errorf("web per instance (-want +got):\n%s", diff)
	}
}

// A deployment that cannot place its new tasks waits (ECS reports "unable to place a
// task") and goes on once capacity appears.
func TestDeploymentWaitsForCapacity(t *testing.T) {
	b := ct.New("demo")
	i := b.Instance("us-east-1a", ct.Resources(512, 1024))
	svc := b.Service("web", ct.Desired(2), ct.TaskSize(256, 512))
	b.Tasks(svc, i, 2)
	s := newSim(t, b)
	forceDeploy(t, s, "web")
	got := s.Settle(time.Hour)
	if !got.Idle || len(got.Stalled) != 1 || got.Stalled[0] != "web" {
		t.Fatalf("Settle with a full cluster = %+v, want web stalled", got)
	}
	if st := s.Stats(); st.TasksStarted != 0 {
		t.Fatalf("started %d tasks on a full cluster", st.TasksStarted)
	}
	var events []string
	for _, e := range s.Events() {
		events = append(events, e.Message)
	}
	if !containsSub(events, "was unable to place a task") {
		t.Errorf("no placement failure event in %q", events)
	}

	registerFresh(t, s, cluster.Resources{CPU: 2048, Memory: 4096})
	if got := s.Settle(time.Hour); !got.Idle || len(got.Stalled) != 0 {
		t.Fatalf("after adding capacity: %+v", got)
	}
	if v := viewService(s, "web"); v.Rollout != cluster.RolloutCompleted || v.PerInstance["i-0fresh"] != 2 {
		t.Errorf("after adding capacity: %+v", v)
	}
}

// registerFresh registers an empty instance i-0fresh with the given capacity in
// us-east-1b.
func registerFresh(t *testing.T, s *sim.Sim, size cluster.Resources) {
	t.Helper()
	if err := s.RegisterInstance(&cluster.Instance{
		ARN: "arn:aws:ecs:us-east-1:111122223333:container-instance/demo/fresh", EC2InstanceID: "i-0fresh",
		Status: cluster.StatusActive, AgentConnected: true, RegisteredAt: ct.Epoch,
		Registered: size, Remaining: size,
		Attributes: []cluster.Attribute{{Name: cluster.ZoneAttribute, Value: "us-east-1b"}},
	}); err != nil {
		t.Fatal(err)
	}
}

func containsSub(list []string, sub string) bool {
	for _, s := range list {
		if regexp.MustCompile(regexp.QuoteMeta(sub)).MatchString(s) {
			return true
		}
	}
	return false
}

// A snapshot taken mid-deployment carries on: ECS keeps rolling it.
func TestDeploymentInProgressAtLoadCompletes(t *testing.T) {
	snap, err := snapshot.Load("../../testdata/snapshots/mixed.json")
	if err != nil {
		t.Fatal(err)
	}
	s := sim.New(snap.Cluster, snap.Simulation.Options())
	if v := viewService(s, "search"); v.Rollout != cluster.RolloutInProgress || v.Deployments != 2 {
		t.Fatalf("search at load: %+v", v)
	}
	s.Settle(time.Hour)
	if v := viewService(s, "search"); v.Rollout != cluster.RolloutCompleted || v.Deployments != 1 || v.Running != 4 {
		t.Errorf("search after settling: %+v", v)
	}
}

func TestUpdateService(t *testing.T) {
	tests := []struct {
		name    string
		svc     []ct.ServiceOpt
		in      ecs.UpdateServiceInput
		errCode string
		check   func(t *testing.T, s *sim.Sim)
	}{
		{name: "CODE_DEPLOY services take no forced deployment", svc: []ct.ServiceOpt{ct.Controller(cluster.ControllerCodeDeploy)},
			in: ecs.UpdateServiceInput{ForceNewDeployment: true}, errCode: "InvalidParameterException"},
		{name: "EXTERNAL services take no forced deployment", svc: []ct.ServiceOpt{ct.Controller(cluster.ControllerExternal)},
			in: ecs.UpdateServiceInput{ForceNewDeployment: true}, errCode: "InvalidParameterException"},
		{name: "unknown service", in: ecs.UpdateServiceInput{Service: str("ghost"), ForceNewDeployment: true}, errCode: "ServiceNotFoundException"},
		{name: "fields the simulator does not model are refused", in: ecs.UpdateServiceInput{HealthCheckGracePeriodSeconds: aws.Int32(5)}, errCode: "InvalidParameterException"},
		{name: "a daemon has no desired count", svc: []ct.ServiceOpt{ct.Daemon()}, in: ecs.UpdateServiceInput{DesiredCount: aws.Int32(3)}, errCode: "InvalidParameterException"},
		{name: "a new task definition is a new deployment with it",
			in: ecs.UpdateServiceInput{TaskDefinition: str("arn:aws:ecs:us-east-1:111122223333:task-definition/web:2")},
			check: func(t *testing.T, s *sim.Sim) {
				s.Settle(time.Hour)
				s.View(func(c *cluster.Cluster) {
					for _, tk := range c.Service("web").Tasks() {
						if tk.TaskDefinitionARN != "arn:aws:ecs:us-east-1:111122223333:task-definition/web:2" {
							t.Errorf("task %s runs %s", tk.ARN, tk.TaskDefinitionARN)
						}
					}
				})
			}},
		{name: "desired count up starts tasks without a deployment", in: ecs.UpdateServiceInput{DesiredCount: aws.Int32(4)},
			check: func(t *testing.T, s *sim.Sim) {
				s.Settle(time.Hour)
				if v := viewService(s, "web"); v.Running != 4 || v.Deployments != 1 {
					t.Errorf("after scale-out: %+v", v)
				}
			}},
		{name: "desired count down stops the surplus", in: ecs.UpdateServiceInput{DesiredCount: aws.Int32(1)},
			check: func(t *testing.T, s *sim.Sim) {
				s.Settle(time.Hour)
				if v := viewService(s, "web"); v.Running != 1 {
					t.Errorf("after scale-in: %+v", v)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := ct.New("demo")
			i := b.Instance("us-east-1a")
			svc := b.Service("web", append([]ct.ServiceOpt{ct.Desired(2)}, tt.svc...)...)
			if !svc.IsDaemon() {
				b.Tasks(svc, i, 2)
			}
			s := newSim(t, b)
			in := tt.in
			in.Cluster = str("demo")
			if in.Service == nil {
				in.Service = str("web")
			}
			_, err := s.UpdateService(ctx, &in)
			if code(err) != tt.errCode {
				t.Fatalf("UpdateService: %v, want code %q", err, tt.errCode)
			}
			if err != nil {
				if st := s.Stats(); st.TasksStarted+st.TasksStopped != 0 || viewService(s, "web").Deployments != 1 {
					t.Errorf("a refused update changed the service")
				}
				return
			}
			tt.check(t, s)
		})
	}
}

func TestFargateDeploymentNeedsNoInstance(t *testing.T) {
	b := ct.New("demo")
	b.Instance("us-east-1a", ct.Resources(128, 128)) // too small for anything
	svc := b.Service("edge", ct.Desired(3), ct.Fargate())
	b.Tasks(svc, nil, 3)
	s := newSim(t, b)
	forceDeploy(t, s, "edge")
	s.Settle(time.Hour)
	v := viewService(s, "edge")
	if v.Rollout != cluster.RolloutCompleted || v.Running != 3 || len(v.PerInstance) != 0 {
		t.Errorf("Fargate service after a forced deployment: %+v", v)
	}
}

// BelowMinHealthy counts a service falling below ceil(desired x min%), which only a
// task dying outside the scheduler's bounds causes; the scheduler then replaces it.
func TestBelowMinHealthyIsCountedWhenATaskDies(t *testing.T) {
	b := ct.New("demo")
	i := b.Instance("us-east-1a")
	svc := b.Service("web", ct.Desired(2))
	tasks := b.Tasks(svc, i, 2)
	s := newSim(t, b)
	if err := s.KillTask(tasks[0].ARN); err != nil {
		t.Fatal(err)
	}
	if err := s.KillTask(tasks[1].ARN); err != nil {
		t.Fatal(err)
	}
	s.Settle(time.Hour)
	if got := s.Stats().BelowMinHealthy; got != 1 {
		t.Errorf("BelowMinHealthy = %d, want 1 (one fall, however deep)", got)
	}
	if v := viewService(s, "web"); v.Running != 2 {
		t.Errorf("the scheduler did not replace the dead tasks: %+v", v)
	}
	if err := s.KillTask(tasks[0].ARN); err == nil {
		t.Error("killing a stopped task succeeded")
	}
}

// Services waiting for capacity are woken in a fixed order when it frees up, so the same
// simulation always places the same tasks first (a map's order once made `make compare`
// differ between runs).
func TestStalledServicesWakeInAFixedOrder(t *testing.T) {
	run := func() map[string]serviceView {
		b := ct.New("demo")
		full := b.Instance("us-east-1a", ct.Resources(2048, 4096))
		var names []string
		for k := range 8 {
			name := fmt.Sprintf("svc-%d", k)
			names = append(names, name)
			b.Tasks(b.Service(name, ct.Desired(1), ct.TaskSize(256, 512)), full, 1)
		}
		s := newSim(t, b)
		for _, name := range names {
			forceDeploy(t, s, name)
		}
		s.Settle(time.Hour)
		// Room for three of the eight replacements: which three depends on wake order.
		registerFresh(t, s, cluster.Resources{CPU: 768, Memory: 1536})
		s.Settle(time.Hour)
		views := map[string]serviceView{}
		for _, name := range names {
			views[name] = viewService(s, name)
		}
		return views
	}
	first := run()
	for range 30 {
		if diff := cmp.Diff(first, run()); diff != "" {
			t.Fatalf("the same simulation placed differently (-first +again):\n%s", diff)
		}
	}
}
