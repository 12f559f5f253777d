package sim_test

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/snapshot"
)

// maxCluster is a cluster at ECS's per-cluster maximums: 5,000 instances, 5,000
// services, 50,000 tasks, as snapshot bytes.
func maxCluster(b *testing.B) []byte {
	b.Helper()
	c := ct.Generate(ct.GenOptions{Name: "max", Seed: 7, Instances: 5000, Zones: 3, Services: 5000, Tasks: 50000, Skew: 0.5})
	var buf bytes.Buffer
	if err := snapshot.Encode(&buf, c, snapshot.Simulation{TaskStartSeconds: 30, Now: ct.Epoch, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkLoadAndDeployAtECSMaximums: decode the snapshot, build the simulator, force a
// new deployment of one service and run it to completion.
func BenchmarkLoadAndDeployAtECSMaximums(b *testing.B) {
	data := maxCluster(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		snap, err := snapshot.Decode(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		s := sim.New(snap.Cluster, snap.Simulation.Options())
		deployToCompletion(b, s)
	}
}

// BenchmarkDeployAtECSMaximums is the deployment alone, on a loaded cluster.
func BenchmarkDeployAtECSMaximums(b *testing.B) {
	snap, err := snapshot.Decode(bytes.NewReader(maxCluster(b)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		s := sim.New(snap.Cluster.Clone(), snap.Simulation.Options())
		s.Settle(time.Hour) // the first look at every service, not the deployment's cost
		b.StartTimer()
		deployToCompletion(b, s)
	}
}

func deployToCompletion(b *testing.B, s *sim.Sim) {
	if _, err := s.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: str("max"), Service: str("svc-000"), ForceNewDeployment: true}); err != nil {
		b.Fatal(err)
	}
	if got := s.Settle(time.Hour); !got.Idle {
		b.Fatalf("not settled: %+v", got)
	}
	s.View(func(c *cluster.Cluster) {
		if p := c.Service("svc-000").Primary(); p.RolloutState != cluster.RolloutCompleted {
			b.Fatalf("deployment %s", p.RolloutState)
		}
	})
}

// The simulator serves concurrent callers (the local endpoint does); run with -race.
func TestConcurrentUse(t *testing.T) {
	s := newSim(t, func() *ct.Builder {
		b := ct.New("demo")
		i := b.Instance("us-east-1a")
		b.Instance("us-east-1b")
		web := b.Service("web", ct.Desired(4))
		b.Tasks(web, i, 4)
		return b
	}())
	var wg sync.WaitGroup
	for k := range 8 {
		wg.Go(func() {
			for range 20 {
				switch k % 4 {
				case 0:
					_, _ = s.ListServices(ctx, &ecs.ListServicesInput{Cluster: str("demo")})
				case 1:
					_, _ = s.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: str("demo"), Service: str("web"), ForceNewDeployment: true})
				case 2:
					s.Advance(wave)
				default:
					_ = s.Stats()
					_ = s.Calls()
				}
			}
		})
	}
	wg.Wait()
	s.Settle(time.Hour)
	if v := viewService(s, "web"); v.Running != 4 || v.Rollout != cluster.RolloutCompleted {
		t.Errorf("after concurrent use: %+v", v)
	}
}
