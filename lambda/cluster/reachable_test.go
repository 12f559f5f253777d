package cluster_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
)

// reachSummary is what the tests compare: the floor, the distance, and the target per
// instance in registration order.
type reachSummary struct {
	COVFloor float64
	Moves    int
	Target   []int
	MinMoves int
}

func summarize(c *cluster.Cluster, movable func(*cluster.Service) bool) reachSummary {
	r := c.Reachable(movable)
	out := reachSummary{COVFloor: cluster.Round2(r.COVFloor), Moves: r.Moves, MinMoves: cluster.MinMoves(cluster.Counts(c.Distribution()))}
	for _, e := range c.Distribution() {
		out.Target = append(out.Target, r.Target[e.Instance.ARN])
	}
	return out
}

func everyReplica(s *cluster.Service) bool { return !s.IsDaemon() }

// The hand-worked cases: each figure below is worked out in the comment above it.
func TestReachable(t *testing.T) {
	tests := []struct {
		name    string
		build   func(b *ct.Builder) *cluster.Cluster
		movable func(*cluster.Service) bool
		want    reachSummary
	}{
		{
			// Zones a (a1, a2), b, c; three services of 6 tasks, ECS's default placement
			// (zones first, then instances). Each service keeps 2 tasks per zone, 1 on
			// each instance of zone a: the target is [3 3 6 6], COV sd/mean =
			// sqrt(4 x 1.5^2 / 3) / 4.5 = 38.49 %, reached by moving one task of each
			// service from a1 to the joiner a2. The strategy-blind balance [5 5 4 4]
			// (minMoves 4) would break every service's zone spread.
			name: "zones of different sizes: the floor is what zone spread allows",
			build: func(b *ct.Builder) *cluster.Cluster {
				a1, a2, b1, c1 := b.Instance("us-east-1a"), b.Instance("us-east-1a"), b.Instance("us-east-1b"), b.Instance("us-east-1c")
				_ = a2
				for _, name := range []string{"api", "web", "worker"} {
					s := b.Service(name, ct.Desired(6))
					b.Tasks(s, a1, 2)
					b.Tasks(s, b1, 2)
					b.Tasks(s, c1, 2)
				}
				return b.Unchecked()
			},
			movable: everyReplica,
			want:    reachSummary{COVFloor: 38.49, Moves: 3, Target: []int{3, 3, 6, 6}, MinMoves: 4},
		},
		{
			// Only what the rebalancer may not move is uneven: a binpack-first service
			// (ineligible) piles 5 tasks on i1, a daemon runs on both, the eligible web
			// service is already 2 and 2. Nothing can get better: the floor is today's
			// COV of [8 3], sqrt(2 x 2.5^2) / 5.5 = 64.28 %, at distance 0.
			name: "only daemons and ineligible services are uneven: nothing to do",
			build: func(b *ct.Builder) *cluster.Cluster {
				i1, i2 := b.Instance("us-east-1a"), b.Instance("us-east-1a")
				batch := b.Service("batch", ct.Desired(5), ct.Placement("binpack", "memory"))
				b.Tasks(batch, i1, 5)
				logs := b.Service("logs", ct.Daemon())
				b.Tasks(logs, i1, 1)
				b.Tasks(logs, i2, 1)
				web := b.Service("web", ct.Desired(4))
				b.Tasks(web, i1, 2)
				b.Tasks(web, i2, 2)
				return b.Unchecked()
			},
			movable: func(s *cluster.Service) bool { return s.Name == "web" },
			want:    reachSummary{COVFloor: 64.28, Moves: 0, Target: []int{8, 3}, MinMoves: 2},
		},
		{
			// One zone, one service of 9 tasks on [5 4 0]: the rules allow the
			// strategy-blind balance [3 3 3], so the floor is 0 and the distance is
			// minMoves, 2 + 1.
			name: "the floor equals the strategy-blind balance",
			build: func(b *ct.Builder) *cluster.Cluster {
				i1, i2, _ := b.Instance("us-east-1a"), b.Instance("us-east-1a"), b.Instance("us-east-1a")
				web := b.Service("web", ct.Desired(9))
				b.Tasks(web, i1, 5)
				b.Tasks(web, i2, 4)
				return b.Unchecked()
			},
			movable: everyReplica,
			want:    reachSummary{COVFloor: 0, Moves: 3, Target: []int{3, 3, 3}, MinMoves: 3},
		},
		{
			// Instance-first spread ignores zones: 8 tasks over 4 instances in zones
			// a, a, a, b is 2 each, although zone b then holds a quarter.
			name: "instance-first spread balances instances, not zones",
			build: func(b *ct.Builder) *cluster.Cluster {
				a1, _, _, _ := b.Instance("us-east-1a"), b.Instance("us-east-1a"), b.Instance("us-east-1a"), b.Instance("us-east-1b")
				web := b.Service("web", ct.Desired(8), ct.Placement("spread", "instanceId"))
				b.Tasks(web, a1, 8)
				return b.Unchecked()
			},
			movable: everyReplica,
			want:    reachSummary{COVFloor: 0, Moves: 6, Target: []int{2, 2, 2, 2}, MinMoves: 6},
		},
		{
			// Zone spread alone leaves the split inside a zone free: 6 web tasks, zones
			// a (a1 running a 3-task binpack service, a2 with 3 web tasks, a3 empty)
			// and b (b1, 3 web tasks). Zone a keeps its 3, split 2 and 1 over the
			// instances without batch (a2 keeps the 2: one move), zone b its 3:
			// [3 2 1 3], mean 2.25, COV sqrt(2.75/3)/2.25 = 42.55 %. The blind
			// balance [3 2 2 2] (minMoves 2) needs 4 web tasks in zone a.
			name: "zone spread alone: any split within a zone",
			build: func(b *ct.Builder) *cluster.Cluster {
				a1, a2, _, b1 := b.Instance("us-east-1a"), b.Instance("us-east-1a"), b.Instance("us-east-1a"), b.Instance("us-east-1b")
				batch := b.Service("batch", ct.Desired(3), ct.Placement("binpack", "memory"))
				b.Tasks(batch, a1, 3)
				web := b.Service("web", ct.Desired(6), ct.Placement("spread", "attribute:ecs.availability-zone"))
				b.Tasks(web, a2, 3)
				b.Tasks(web, b1, 3)
				return b.Unchecked()
			},
			movable: func(s *cluster.Service) bool { return s.Name == "web" },
			want:    reachSummary{COVFloor: 42.55, Moves: 1, Target: []int{3, 2, 1, 3}, MinMoves: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.build(ct.New("demo"))
			if diff := cmp.Diff(tt.want, summarize(c, tt.movable)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
