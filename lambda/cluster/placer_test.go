package cluster_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
)

// placerCluster has services of every placement kind on instances of three zones,
// with a custom attribute and two capacity providers, some nearly full.
func placerCluster(t *testing.T) *cluster.Cluster {
	b := ct.New("demo")
	var is []*cluster.Instance
	for k := range 12 {
		cp := ct.CapacityProvider([]string{"cp-a", "cp-b"}[k%2])
		is = append(is, b.Instance(fmt.Sprintf("us-east-1%c", 'a'+k%3), ct.Resources(int64(600+100*(k%4)), 2048), ct.Attr("rack", fmt.Sprint(k%4)), cp))
	}
	opts := map[string][]ct.ServiceOpt{
		"default":  nil,
		"binpack":  {ct.Placement("binpack", "memory")},
		"binpcpu":  {ct.Placement("binpack", "cpu", "spread", "instanceId")},
		"random":   {ct.Placement("random", "")},
		"rack":     {ct.Placement("spread", "attribute:rack", "spread", "instanceId")},
		"instance": {ct.Placement("spread", "instanceId")},
		"distinct": {ct.Constraint("distinctInstance", "")},
		"member":   {ct.Constraint("memberOf", "attribute:rack in [1, 2] and runningTasksCount < 6")},
		"provider": {ct.CapacityProviders("cp-b")},
	}
	for _, name := range []string{"default", "binpack", "binpcpu", "random", "rack", "instance", "distinct", "member", "provider"} {
		s := b.Service(name, append(opts[name], ct.Desired(6), ct.TaskSize(50, 64))...)
		for k := range 3 {
			b.Tasks(s, is[(k*5+len(name))%len(is)], 1+k%2)
		}
	}
	return b.Cluster(t)
}

// A Placer places a wave as Place does task by task: same instances, same draws.
func TestPlacerPlacesAsPlaceDoes(t *testing.T) {
	for _, name := range []string{"default", "binpack", "binpcpu", "random", "rack", "instance", "distinct", "member", "provider"} {
		for seed := range uint64(5) {
			t.Run(fmt.Sprint(name, seed), func(t *testing.T) {
				wave := func(next func(c *cluster.Cluster, s *cluster.Service, rnd func(int) int) *cluster.Instance) []string {
					c := placerCluster(t)
					s := c.Service(name)
					rng := rand.New(rand.NewPCG(seed, 9))
					var out []string
					for k := range 14 {
						i := next(c, s, rng.IntN)
						if i == nil {
							out = append(out, "none")
							break
						}
						out = append(out, i.EC2InstanceID)
						task := &cluster.Task{ARN: fmt.Sprintf("%s/w%d", c.ARN, k), InstanceARN: i.ARN, Group: cluster.ServiceGroup(name),
							LastStatus: cluster.TaskPending, DesiredStatus: cluster.TaskRunning, Size: s.TaskSize}
						if err := c.StartTask(task); err != nil {
							t.Fatal(err)
						}
					}
					return out
				}
				want := wave(func(c *cluster.Cluster, s *cluster.Service, rnd func(int) int) *cluster.Instance {
					i, err := c.Place(s, s.TaskSize, rnd)
					if err != nil {
						t.Fatal(err)
					}
					return i
				})
				var p *cluster.Placer
				got := wave(func(c *cluster.Cluster, s *cluster.Service, rnd func(int) int) *cluster.Instance {
					if p == nil {
						var err error
						if p, err = c.NewPlacer(s, s.TaskSize); err != nil {
							t.Fatal(err)
						}
					}
					i, err := p.Next(rnd)
					if err != nil {
						t.Fatal(err)
					}
					return i
				})
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("(-Place +Placer):\n%s", diff)
				}
			})
		}
	}
}
