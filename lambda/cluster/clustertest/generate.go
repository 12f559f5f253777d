package clustertest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
)

// GenOptions describes a generated cluster. The same options always give the same
// cluster.
type GenOptions struct {
	Name      string
	Seed      uint64
	Instances int // loaded instances (joiners come on top)
	Joiners   int // empty instances registered a minute before Epoch
	Zones     int // 1-6
	Services  int // REPLICA services (daemons come on top)
	Daemons   int // DAEMON services: one task on every ACTIVE instance, joiners included
	Tasks     int // service tasks over all REPLICA services, roughly
	// Skew in [0,1]: 0 spreads tasks evenly, 1 piles them on the oldest instances (what
	// a scale-in followed by a scale-out leaves behind).
	Skew float64
	// Ineligible turns every fifth service into a kind the rebalancer must not touch
	// (binpack-first, opted out, CODE_DEPLOY, min=max=100 %, mid-deployment).
	Ineligible bool
	// Tight gives instances about a quarter more than their share of the load instead
	// of double, so capacity limits bite.
	Tight bool
	// Drained adds empty instances that someone else has set DRAINING (maintenance):
	// a rebalancer must leave them so.
	Drained int
	// Network puts some services in a network mode that binds placement (NetworkPorts,
	// NetworkAWSVPC); empty, none.
	Network string
}

// Network shapes of a generated cluster.
const (
	// NetworkPorts gives every third service a static host port (bridge mode): at most
	// one of its tasks per instance, and at most two thirds as many as instances.
	NetworkPorts = "ports"
	// NetworkAWSVPC puts every other service in awsvpc mode on m5.4xlarge instances,
	// seven interfaces each without trunking: the skewed instances run out of them.
	NetworkAWSVPC = "awsvpc"
)

// Generate builds the cluster GenOptions describes.
func Generate(o GenOptions) *cluster.Cluster {
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	b := New(o.Name)
	zones := make([]string, max(1, min(o.Zones, 6)))
	for k := range zones {
		zones[k] = fmt.Sprintf("us-east-1%c", 'a'+k)
	}

	// Services first: their sizes fix the capacity instances need.
	type plan struct {
		svc        *cluster.Service
		want       int
		inProgress bool
	}
	var plans []plan
	remaining := o.Tasks
	for k := range o.Services {
		share := remaining / (o.Services - k)
		desired := max(2, share/2+rng.IntN(share+1))
		if k == o.Services-1 {
			desired = max(2, remaining)
		}
		ported := o.Network == NetworkPorts && k%3 == 0
		if ported {
			desired = min(desired, max(1, o.Instances*2/3))
		}
		remaining -= desired
		cpu := int64(128 << rng.IntN(3))
		opts := []ServiceOpt{Desired(int32(desired)), TaskSize(cpu, cpu*2)}
		if k%3 == 1 || ported {
			opts = append(opts, Placement("spread", "instanceId"))
		}
		switch {
		case ported:
			opts = append(opts, HostPorts(int32(8000+k)))
		case o.Network == NetworkAWSVPC && k%2 == 0:
			opts = append(opts, AWSVPC())
		}
		kind := -1
		if o.Ineligible && k%5 == 4 {
			kind = (k / 5) % 5
			opts = append(opts, ineligible(kind)...)
		}
		plans = append(plans, plan{svc: b.Service(fmt.Sprintf("svc-%03d", k), opts...), want: desired, inProgress: kind == 4})
	}
	var daemons []*cluster.Service
	for k := range o.Daemons {
		daemons = append(daemons, b.Service(fmt.Sprintf("daemon-%02d", k), Daemon(), Desired(int32(o.Instances+o.Joiners)), TaskSize(64, 128)))
	}

	var demand cluster.Resources
	for _, p := range plans {
		demand = demand.Add(cluster.Resources{CPU: p.svc.TaskSize.CPU * int64(p.want), Memory: p.svc.TaskSize.Memory * int64(p.want)})
	}
	headroom := 2.0
	if o.Tight {
		headroom = 1.25
	}
	n := max(1, o.Instances)
	// The most loaded instance carries up to (1+2*skew) times the mean; size every
	// instance for that, plus the daemons.
	perCPU := int64(math.Ceil(float64(demand.CPU)/float64(n)*headroom*(1+2*o.Skew))) + 64*int64(o.Daemons)
	size := cluster.Resources{CPU: roundUp(max(perCPU, 1024), 1024), Memory: roundUp(max(perCPU*2, 2048), 1024)}

	shape := []InstanceOpt{Resources(size.CPU, size.Memory)}
	if o.Network == NetworkAWSVPC {
		shape = append(shape, Attr(cluster.InstanceTypeAttribute, "m5.4xlarge"))
	}
	var loaded []*cluster.Instance
	for k := range o.Instances {
		loaded = append(loaded, b.Instance(zones[k%len(zones)], shape...))
	}
	var joiners []*cluster.Instance
	for k := range o.Joiners {
		joiners = append(joiners, b.Instance(zones[(o.Instances+k)%len(zones)], append(shape, RegisteredAt(Epoch.Add(-time.Minute)))...))
	}

	// Weighted choice: weight falls off with the instance's age rank as skew grows.
	cum := make([]float64, len(loaded))
	total := 0.0
	for k := range loaded {
		total += math.Exp(-3 * o.Skew * float64(k) / float64(max(1, len(loaded)-1)))
		cum[k] = total
	}
	// Room for the daemons' tasks stays free: they are placed last.
	daemonRoom := cluster.Resources{CPU: 64 * int64(o.Daemons), Memory: 128 * int64(o.Daemons)}
	for _, p := range plans {
		placed := 0
		for range p.want {
			k := sort.SearchFloat64s(cum, rng.Float64()*total)
			for probe := range len(loaded) {
				i := loaded[(k+probe)%len(loaded)]
				if i.Remaining.Fits(p.svc.TaskSize.Add(daemonRoom)) && i.PortsFree(p.svc.HostPorts) {
					b.Tasks(p.svc, i, 1)
					placed++
					break
				}
			}
		}
		p.svc.DesiredCount = int32(placed)
		for _, d := range p.svc.Deployments {
			d.DesiredCount = int32(placed)
		}
	}
	for _, p := range plans {
		if p.inProgress {
			b.InProgress(p.svc)
		}
	}
	for _, d := range daemons {
		for _, i := range slices.Concat(loaded, joiners) {
			b.Tasks(d, i, 1)
		}
	}
	for k := range o.Drained {
		b.Instance(zones[k%len(zones)], append(shape, Status(cluster.StatusDraining))...)
	}
	return must(b)
}

// ineligible returns the options of an ineligible kind; kind 4 (mid-deployment) gets
// its second deployment once its tasks exist.
func ineligible(kind int) []ServiceOpt {
	switch kind {
	case 0:
		return []ServiceOpt{Placement("binpack", "memory")}
	case 1:
		return []ServiceOpt{Tag("ecs-rebalancer:skip", "true")}
	case 2:
		return []ServiceOpt{Controller(cluster.ControllerCodeDeploy)}
	case 3:
		return []ServiceOpt{Deploy(100, 100)}
	}
	return nil
}

func roundUp(v, to int64) int64 { return (v + to - 1) / to * to }
