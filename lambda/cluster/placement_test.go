package cluster_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
)

// first breaks ties towards the earliest candidate, so expectations are exact.
func first(int) int { return 0 }

// Each case builds a small cluster; the instance names are the EC2 IDs' order (i1...).
func TestPlace(t *testing.T) {
	tests := []struct {
		name string
		// setup returns the service to place and the instance the fact says ECS picks (nil: none).
		setup func(b *ct.Builder) (*cluster.Service, *cluster.Instance)
		rnd   func(int) int
	}{
		{
			name: "default placement balances zones first: the empty zone wins over a less loaded instance",
			setup: func(b *ct.Builder) (*cluster.Service, *cluster.Instance) {
				a1 := b.Instance("us-east-1a")
				a2 := b.Instance("us-east-1a")
				c1 := b.Instance("us-east-1b")
				s := b.Service("web", ct.Desired(3))
				b.Tasks(s, a1, 2)
				b.Tasks(s, c1, 1)
				_ = a2
				zc := b.Instance("us-east-1c")
				return s, zc
			},
		},
		{
			name: "default placement then favours the instance with the fewest tasks of the service",
			setup: func(b *ct.Builder) (*cluster.Service, *cluster.Instance) {
				a1 := b.Instance("us-east-1a")
				a2 := b.Instance("us-east-1a")
				other := b.Service("other", ct.Desired(3))
				b.Tasks(other, a2, 3) // other services' tasks do not count
				s := b.Service("web", ct.Desired(1))
				b.Tasks(s, a1, 1)
				return s, a2
			},
		},
		{
			name: "spread by instanceId alone ignores zones",
			setup: func(b *ct.Builder) (*cluster.Service, *cluster.Instance) {
				a1 := b.Instance("us-east-1a")
				a2 := b.Instance("us-east-1a")
				c1 := b.Instance("us-east-1b")
				s := b.Service("web", ct.Desired(3), ct.Placement("spread", "instanceId"))
				b.Tasks(s, a1, 1)
				b.Tasks(s, c1, 2)
				return s, a2
			},
		},
		{
			name: "binpack on memory picks the least remaining memory that fits",
			setup: func(b *ct.Builder) (*cluster.Service, *cluster.Instance) {
				roomy := b.Instance("us-east-1a", ct.Resources(2048, 8192))
				tight := b.Instance("us-east-1a", ct.Resources(2048, 1024))
				full := b.Instance("us-east-1a", ct.Resources(2048, 256))
				_, _ = roomy, full
				s := b.Service("batch", ct.Desired(1), ct.Placement("binpack", "memory"), ct.TaskSize(128, 512))
				return s, tight
			},
		},
		{
			name: "binpack on cpu picks the least remaining cpu",
			setup: func(b *ct.Builder) (*cluster.Service, *cluster.Instance) {
				b.Instance("us-east-1a", ct.Resources(4096, 4096))
				small := b.Instance("us-east-1a", ct.Resources(1024, 8192))
				s := b.Service("batch", ct.Desired(1), ct.Placement("binpack", "cpu"))
				return s, small
			},
		},
		{
			name: "random uses the injected source",
			setup: func(b *ct.Builder) (*cluster.Service, *cluster.Instance) {
				b.Instance("us-east-1a")
				b.Instance("us-east-1a")
				third := b.Instance("us-east-1b")
				s := b.Service("r", ct.Desired(1), ct.Placement("random", ""))
				return s, third
			},
			rnd: func(n int) int { return n - 1 },
		},
		{
			name: "resources must fit: a full instance is skipped even when spread prefers it",
			setup: func(b *ct.Builder) (*cluster.Service, *cluster.Instance) {
				b.Instance("us-east-1a", ct.Resources(128, 4096))
				ok := b.Instance("us-east-1b")
				s := b.Service("web", ct.Desired(2))
				b.Tasks(s, ok, 1)
				return s, ok
			},
		},
		{
			name: "DRAINING and disconnected instances take no tasks",
			setup: func(b *ct.Builder) (*cluster.Service, *cluster.Instance) {
				b.Instance("us-east-1a", ct.Status(cluster.StatusDraining))
				b.Instance("us-east-1b", ct.Disconnected())
				b.Instance("us-east-1c", ct.Status(cluster.StatusRegistering))
				ok := b.Instance("us-east-1c")
				s := b.Service("web", ct.Desired(1))
				b.Tasks(s, ok, 3)
				return s, ok
			},
		},
		{
			name: "nothing fits: no instance",
			setup: func(b *ct.Builder) (*cluster.Service, *cluster.Instance) {
				b.Instance("us-east-1a", ct.Resources(100, 100))
				return b.Service("web", ct.Desired(1)), nil
			},
		},
		{
			name: "distinctInstance excludes instances already running the service",
			setup: func(b *ct.Builder) (*cluster.Service, *cluster.Instance) {
				a := b.Instance("us-east-1a")
				bb := b.Instance("us-east-1b")
				s := b.Service("web", ct.Desired(2), ct.Placement("binpack", "memory"), ct.Constraint("distinctInstance", ""))
				b.Tasks(s, a, 1)
				return s, bb
			},
		},
		{
			name: "memberOf restricts to matching instances",
			setup: func(b *ct.Builder) (*cluster.Service, *cluster.Instance) {
				b.Instance("us-east-1a")
				gpu := b.Instance("us-east-1b", ct.Attr("ecs.instance-type", "g5.xlarge"))
				s := b.Service("ml", ct.Desired(1), ct.Constraint("memberOf", "attribute:ecs.instance-type =~ g5.*"))
				return s, gpu
			},
		},
		{
			name: "capacity provider strategy places only on that provider's instances",
			setup: func(b *ct.Builder) (*cluster.Service, *cluster.Instance) {
				b.Instance("us-east-1a", ct.CapacityProvider("spot"))
				od := b.Instance("us-east-1a", ct.CapacityProvider("on-demand"))
				s := b.Service("web", ct.Desired(1), ct.CapacityProviders("on-demand"))
				return s, od
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := ct.New("demo")
			s, want := tt.setup(b)
			c := b.Cluster(t)
			rnd := tt.rnd
			if rnd == nil {
				rnd = first
			}
			got, err := c.Place(s, s.TaskSize, rnd)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(arnOf(want), arnOf(got)); diff != "" {
				t.Errorf("placed on (-want +got):\n%s", diff)
			}
		})
	}
}

func arnOf(i *cluster.Instance) string {
	if i == nil {
		return "<none>"
	}
	return i.EC2InstanceID
}

func TestPickToStop(t *testing.T) {
	// Zone a: a1 with 1 web task, a2 with 2; zone b: c1 with 2 (as many as a2, but its
	// zone holds fewer). The candidates are one task of each instance.
	zones := func(t *testing.T) (c *cluster.Cluster, s *cluster.Service, onA1, onA2, onC1 *cluster.Task) {
		b := ct.New("demo")
		a1, a2, c1 := b.Instance("us-east-1a"), b.Instance("us-east-1a"), b.Instance("us-east-1b")
		s = b.Service("web", ct.Desired(5))
		onA1, onA2, onC1 = b.Tasks(s, a1, 1)[0], b.Tasks(s, a2, 2)[0], b.Tasks(s, c1, 2)[0]
		return b.Cluster(t), s, onA1, onA2, onC1
	}
	t.Run("spread: the zone with most of the service's tasks, then the fullest instance", func(t *testing.T) {
		c, s, onA1, onA2, onC1 := zones(t)
		from := []*cluster.Task{onC1, onA1, onA2}
		if got := c.PickToStop(s, from, cluster.StopOnBusiestInstance, first); got != onA2 {
			t.Errorf("PickToStop = task on %s, want the task on a2 (zone a has 3, a2 has 2)", got.InstanceARN)
		}
	})
	t.Run("spread, random within the zone: any task of the fullest zone", func(t *testing.T) {
		c, s, onA1, onA2, onC1 := zones(t)
		from := []*cluster.Task{onC1, onA1, onA2}
		// first picks the first of the tied: a1's task, which the other reading never stops.
		if got := c.PickToStop(s, from, cluster.StopAtRandomInZone, first); got != onA1 {
			t.Errorf("PickToStop = task on %s, want the task on a1 (every task of zone a ties)", got.InstanceARN)
		}
		if got := c.PickToStop(s, from, cluster.StopAtRandomInZone, func(n int) int { return n - 1 }); got != onA2 {
			t.Errorf("PickToStop = task on %s, want the task on a2 (the last of zone a's)", got.InstanceARN)
		}
	})
	t.Run("binpack: the instance with the most of the resource left", func(t *testing.T) {
		b := ct.New("demo")
		small := b.Instance("us-east-1a", ct.Resources(2048, 1024))
		big := b.Instance("us-east-1a", ct.Resources(2048, 8192))
		s := b.Service("batch", ct.Desired(2), ct.Placement("binpack", "memory"))
		ts := b.Tasks(s, small, 1)
		tb := b.Tasks(s, big, 1)
		c := b.Cluster(t)
		if got := c.PickToStop(s, []*cluster.Task{ts[0], tb[0]}, cluster.StopAtRandomInZone, first); got != tb[0] {
			t.Errorf("PickToStop picked the task on the small instance")
		}
	})
}

func TestParseQuery(t *testing.T) {
	b := ct.New("demo")
	i := b.Instance("us-east-1a", ct.Attr("team", "payments"))
	web := b.Service("web", ct.Desired(2))
	b.Tasks(web, i, 2)
	b.Cluster(t)

	tests := []struct {
		expr    string
		want    bool
		wantErr string
	}{
		{expr: "attribute:ecs.availability-zone == us-east-1a", want: true},
		{expr: "attribute:ecs.availability-zone != us-east-1a", want: false},
		{expr: "attribute:ecs.availability-zone in [us-east-1b, us-east-1a]", want: true},
		{expr: "attribute:ecs.availability-zone !in [us-east-1b, us-east-1c]", want: true},
		{expr: "attribute:team exists", want: true},
		{expr: "attribute:nope !exists", want: true},
		{expr: "attribute:nope == x", want: false},
		{expr: "attribute:nope != x", want: true},
		{expr: "attribute:nope !in [x]", want: true},
		{expr: "attribute:nope in [x]", want: false},
		{expr: "attribute:ecs.instance-type =~ m7g.*", want: true},
		{expr: "attribute:ecs.instance-type !~ m7g.*", want: false},
		{expr: "runningTasksCount >= 2", want: true},
		{expr: "runningTasksCount < 2", want: false},
		{expr: "agentConnected == true", want: true},
		{expr: "ec2InstanceId == " + i.EC2InstanceID, want: true},
		{expr: "attribute:team == payments and runningTasksCount == 0", want: false},
		{expr: "attribute:team == other or runningTasksCount == 2", want: true},
		{expr: "attribute:team == 'payments'", want: true},
		{expr: "task:group == service:web", wantErr: "not supported"},
		{expr: "attribute:team", wantErr: "incomplete"},
		{expr: "attribute:team ==", wantErr: "without a value"},
		{expr: "attribute:team == a xor b", wantErr: "expected and/or"},
		{expr: "attribute:team == a and", wantErr: "ends with an operator"},
		{expr: "attribute:team in [a", wantErr: "unclosed"},
		{expr: "attribute:team in a", wantErr: "needs a list"},
		{expr: "attribute:team > 3", wantErr: "not supported"},
		{expr: "runningTasksCount > x", wantErr: "needs a number"},
		{expr: "", wantErr: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			p, err := cluster.ParseQuery(tt.expr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseQuery error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p(i); got != tt.want {
				t.Errorf("%q on the instance = %v, want %v", tt.expr, got, tt.want)
			}
		})
	}
}
