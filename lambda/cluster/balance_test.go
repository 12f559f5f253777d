package cluster_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
)

func TestCOV(t *testing.T) {
	tests := []struct {
		name   string
		counts []int
		want   float64
	}{
		{"lopsided", []int{13, 12, 4}, 51.03},
		{"near balance", []int{16, 14, 14}, 7.87},
		{"one instance", []int{7}, 0},
		{"no instances", nil, 0},
		{"mean zero", []int{0, 0, 0}, 0},
		{"perfectly even", []int{5, 5, 5, 5}, 0},
		{"one joiner among three (sqrt(3)/2)", []int{10, 10, 10, 0}, 66.67},
		{"18 instances, one an empty joiner: below the 25% gate", append(repeat(10, 17), 0), 24.96},
		{"17 instances, one an empty joiner: above it", append(repeat(10, 16), 0), 25.77},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cluster.Round2(cluster.COV(tt.counts)); got != tt.want {
				t.Errorf("COV(%v) = %v, want %v", tt.counts, got, tt.want)
			}
		})
	}
}

func repeat(v, n int) []int {
	out := make([]int, n)
	for k := range out {
		out[k] = v
	}
	return out
}

func TestBalancedAndMinMoves(t *testing.T) {
	tests := []struct {
		name               string
		counts             []int
		floor, ceil, nCeil int
		wantMoves          int
	}{
		{"headline: three loaded and a joiner", []int{13, 12, 11, 0}, 9, 9, 0, 9},
		{"remainder goes to the fullest", []int{13, 12, 4}, 9, 10, 2, 5},
		{"already balanced", []int{3, 4, 4, 3}, 3, 4, 2, 0},
		{"empty cluster", []int{0, 0}, 0, 0, 0, 0},
		{"no instances", nil, 0, 0, 0, 0},
		{"one hot instance", []int{10, 0, 0, 0, 0}, 2, 2, 0, 8},
		{"surplus split over several", []int{6, 6, 0}, 4, 4, 0, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			total := 0
			for _, c := range tt.counts {
				total += c
			}
			f, c, n := cluster.Balanced(total, len(tt.counts))
			if diff := cmp.Diff([3]int{tt.floor, tt.ceil, tt.nCeil}, [3]int{f, c, n}); diff != "" {
				t.Errorf("Balanced(%d, %d) (-want +got):\n%s", total, len(tt.counts), diff)
			}
			if got := cluster.MinMoves(tt.counts); got != tt.wantMoves {
				t.Errorf("MinMoves(%v) = %d, want %d", tt.counts, got, tt.wantMoves)
			}
		})
	}
}

func TestDistributionCountsOnlyActiveConnectedInstances(t *testing.T) {
	b := ct.New("demo")
	a := b.Instance("us-east-1a")
	dr := b.Instance("us-east-1b", ct.Status(cluster.StatusDraining))
	off := b.Instance("us-east-1c", ct.Disconnected())
	j := b.Instance("us-east-1c")
	web := b.Service("web", ct.Desired(6))
	b.Tasks(web, a, 3)
	b.Tasks(web, dr, 2)
	b.Tasks(web, off, 1)
	c := b.Cluster(t)

	got := map[string]int{}
	for _, e := range c.Distribution() {
		got[e.Instance.EC2InstanceID] = e.Count
	}
	want := map[string]int{a.EC2InstanceID: 3, j.EC2InstanceID: 0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Distribution (-want +got):\n%s", diff)
	}
}

func TestServiceCounts(t *testing.T) {
	b := ct.New("demo")
	a1 := b.Instance("us-east-1a")
	a2 := b.Instance("us-east-1a")
	bb := b.Instance("us-east-1b")
	web := b.Service("web", ct.Desired(5))
	api := b.Service("api", ct.Desired(1))
	b.Tasks(web, a1, 2)
	b.Tasks(web, a2, 1)
	b.Tasks(web, bb, 2)
	b.Tasks(api, bb, 1)
	c := b.Cluster(t)

	if diff := cmp.Diff(map[string]int{a1.ARN: 2, a2.ARN: 1, bb.ARN: 2}, c.ServiceCountsByInstance(web)); diff != "" {
		t.Errorf("by instance (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"us-east-1a": 3, "us-east-1b": 2}, c.ServiceCountsByZone(web)); diff != "" {
		t.Errorf("by zone (-want +got):\n%s", diff)
	}
	if got := web.RunningCount(); got != 5 {
		t.Errorf("web running = %d, want 5", got)
	}
	if got := bb.RunningTasksCount(); got != 3 {
		t.Errorf("instance b running = %d, want 3", got)
	}
}

func TestHealthyBoundsRounding(t *testing.T) {
	// ECS: minimum healthy = desired x min% rounded up; maximum = desired x max% rounded down.
	tests := []struct {
		name              string
		desired, min, max int32
		wantMin, wantMax  int
	}{
		{"min 75% of 2 rounds up to 2 (cannot stop a task)", 2, 75, 100, 2, 2},
		{"max 125% of 3 rounds down to 3 (cannot start one)", 3, 100, 125, 3, 3},
		{"defaults 100/200 of 4", 4, 100, 200, 4, 8},
		{"50% of 4 lets two stop", 4, 50, 200, 2, 8},
		{"daemon defaults", 3, 0, 100, 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &cluster.Service{DesiredCount: tt.desired, MinimumHealthyPercent: tt.min, MaximumPercent: tt.max}
			lo, hi := s.HealthyBounds()
			if lo != tt.wantMin || hi != tt.wantMax {
				t.Errorf("HealthyBounds = (%d, %d), want (%d, %d)", lo, hi, tt.wantMin, tt.wantMax)
			}
		})
	}
}
