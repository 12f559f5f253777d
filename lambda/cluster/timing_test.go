package cluster_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
)

// The start estimate is the median of the service's observed starts; timestamps that
// cannot be a real start (under a second, over an hour, a PENDING task) say nothing.
func TestEstimateTiming(t *testing.T) {
	const fallback = 30 * time.Second
	tests := []struct {
		name    string
		starts  []time.Duration
		pending int
		opts    []ct.ServiceOpt
		want    cluster.TaskTiming
	}{
		{"nothing observed", nil, 0, nil, cluster.TaskTiming{Start: fallback, StopTimeout: 30 * time.Second}},
		{"median of three", []time.Duration{10 * time.Second, 40 * time.Second, 2 * time.Minute}, 0, nil, cluster.TaskTiming{Start: 40 * time.Second, StopTimeout: 30 * time.Second}},
		{"implausible starts are left out", []time.Duration{0, 500 * time.Millisecond, 2 * time.Hour, 20 * time.Second}, 0, nil, cluster.TaskTiming{Start: 20 * time.Second, StopTimeout: 30 * time.Second}},
		{"pending tasks are left out", nil, 2, nil, cluster.TaskTiming{Start: fallback, StopTimeout: 30 * time.Second}},
		{"load balanced", []time.Duration{20 * time.Second}, 0, []ct.ServiceOpt{ct.LoadBalanced(90 * time.Second)},
			cluster.TaskTiming{Start: 20 * time.Second, Healthy: 90 * time.Second, StopTimeout: 30 * time.Second, DeregistrationDelay: 300 * time.Second}},
		{"load balanced without a grace period", nil, 0, []ct.ServiceOpt{ct.LoadBalanced(0)},
			cluster.TaskTiming{Start: fallback, Healthy: 30 * time.Second, StopTimeout: 30 * time.Second, DeregistrationDelay: 300 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := ct.New("demo")
			i := b.Instance("us-east-1a", ct.Resources(8192, 16384))
			svc := b.Service("web", append([]ct.ServiceOpt{ct.Desired(int32(len(tt.starts) + tt.pending))}, tt.opts...)...)
			for k, tk := range b.Tasks(svc, i, len(tt.starts)) {
				tk.CreatedAt = tk.StartedAt.Add(-tt.starts[k])
			}
			for _, tk := range b.PendingTasks(svc, i, tt.pending) {
				tk.CreatedAt = tk.StartedAt.Add(-time.Minute)
			}
			c := b.Cluster(t)
			if diff := cmp.Diff(tt.want, cluster.EstimateTiming(c.Service("web"), fallback)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
