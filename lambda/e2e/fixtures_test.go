//go:build e2e

package e2e

import (
	"testing"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
)

// lazyCluster is where a short drain moves part of the tasks (min 75 %, max 100 %: a
// wave stops a quarter of a service first), recorded at 2026-11-20T09:00:00Z with a
// joiner a minute old.
func lazyCluster(t *testing.T) (*cluster.Cluster, *cluster.Instance) {
	b := ct.New("demo")
	var loaded []*cluster.Instance
	for _, z := range []string{"us-east-1a", "us-east-1b", "us-east-1c"} {
		loaded = append(loaded, b.Instance(z))
	}
	joiner := b.Instance("us-east-1b", ct.RegisteredAt(ct.Epoch.Add(-time.Minute)))
	for _, name := range []string{"web", "api", "worker"} {
		s := b.Service(name, ct.Desired(12), ct.Deploy(75, 100), ct.Placement("spread", "instanceId"), ct.TaskSize(32, 32))
		for _, i := range loaded {
			b.Tasks(s, i, 4)
		}
	}
	return b.Cluster(t), joiner
}

func joinEvent(c *cluster.Cluster, i *cluster.Instance) []byte { return ct.JoinEvent(c, i, time.Now()) }
