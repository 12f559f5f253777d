package cluster_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
)

func TestRebalancesZones(t *testing.T) {
	on := ct.ZoneRebalancing()
	tests := []struct {
		name string
		opts []ct.ServiceOpt
		want bool
	}{
		{"enabled, default placement", []ct.ServiceOpt{on}, true},
		{"enabled, zone spread first", []ct.ServiceOpt{on, ct.Placement("spread", cluster.FieldZone, "binpack", "memory")}, true},
		{"enabled, target group", []ct.ServiceOpt{on, ct.LoadBalanced(0)}, true},
		{"absent", nil, false},
		{"disabled", []ct.ServiceOpt{func(s *cluster.Service) { s.AvailabilityZoneRebalancing = cluster.ZoneRebalancingDisabled }}, false},
		{"daemon", []ct.ServiceOpt{on, ct.Daemon()}, false},
		{"external", []ct.ServiceOpt{on, ct.Controller(cluster.ControllerExternal)}, false},
		{"code deploy", []ct.ServiceOpt{on, ct.Controller(cluster.ControllerCodeDeploy)}, false},
		{"maximum 100 percent", []ct.ServiceOpt{on, ct.Deploy(0, 100)}, false},
		{"classic load balancer", []ct.ServiceOpt{on, ct.ClassicLB()}, false},
		{"zone constraint", []ct.ServiceOpt{on, ct.Constraint("memberOf", "attribute:ecs.availability-zone == us-east-1a")}, false},
		{"other constraint", []ct.ServiceOpt{on, ct.Constraint("distinctInstance", "")}, true},
		{"random", []ct.ServiceOpt{on, ct.Placement("random", "")}, false},
		{"binpack first", []ct.ServiceOpt{on, ct.Placement("binpack", "cpu", "spread", cluster.FieldZone)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := ct.New("demo")
			svc := b.Service("web", tt.opts...)
			if got := svc.RebalancesZones(); got != tt.want {
				t.Errorf("RebalancesZones() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestServiceZones(t *testing.T) {
	b := ct.New("demo")
	a := b.Instance("us-east-1a")
	bb := b.Instance("us-east-1b")
	b.Instance("us-east-1c")
	web := b.Service("web", ct.Desired(5))
	b.Tasks(web, a, 3)
	b.Tasks(web, bb, 2)
	c := b.Cluster(t)
	hosts, err := c.HostZones(c.Service("web"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"us-east-1a", "us-east-1b", "us-east-1c"}, hosts); diff != "" {
		t.Fatalf("HostZones (-want +got):\n%s", diff)
	}
	tests := []struct {
		name         string
		hostZones    []string
		want         string
		fewest, most string
		balanced     bool
	}{
		{"three zones", hosts, "3 tasks in us-east-1a, 2 tasks in us-east-1b, 0 tasks in us-east-1c", "us-east-1c", "us-east-1a", false},
		{"two zones", hosts[:2], "3 tasks in us-east-1a, 2 tasks in us-east-1b", "us-east-1b", "us-east-1a", true},
		// A zone with tasks but no host left counts, and is never the one to fill.
		{"tasks outside the hosts' zones", hosts[1:2], "3 tasks in us-east-1a, 2 tasks in us-east-1b", "us-east-1b", "us-east-1a", true},
		{"no host", nil, "3 tasks in us-east-1a, 2 tasks in us-east-1b", "", "us-east-1a", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := c.Service("web").Zones(tt.hostZones)
			if got := z.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if z.Fewest != tt.fewest || z.Most != tt.most {
				t.Errorf("fewest, most = %q, %q, want %q, %q", z.Fewest, z.Most, tt.fewest, tt.most)
			}
			if got := z.Balanced(); got != tt.balanced {
				t.Errorf("Balanced() = %v, want %v", got, tt.balanced)
			}
		})
	}
}

func TestPlaceInZone(t *testing.T) {
	b := ct.New("demo")
	b.Instance("us-east-1a")
	want := b.Instance("us-east-1b")
	b.Service("web")
	c := b.Cluster(t)
	svc := c.Service("web")
	for _, zone := range []string{"us-east-1b", "us-east-1c"} {
		got, err := c.PlaceInZone(svc, svc.TaskSize, zone, first)
		if err != nil {
			t.Fatal(err)
		}
		if zone == "us-east-1c" {
			want = nil
		}
		if got != want {
			t.Errorf("PlaceInZone(%s) = %v, want %v", zone, got, want)
		}
	}
}
