// Package compare runs ecs-rebalancer's strategies and the baselines side by side on
// the same simulated clusters and reports what each costs and achieves (`make
// compare`). Like package baseline, it is never linked into the Lambda binary.
package compare

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/event"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/snapshot"
)

// Scenario is one cluster at the moment an instance has joined, and the join event.
type Scenario struct {
	Name        string           `json:"name"`
	Description string           `json:"description"`
	Cluster     *cluster.Cluster `json:"-"` // pristine: every policy runs on a clone
	Sim         sim.Options      `json:"-"`
	Event       []byte           `json:"-"`
	EventTime   time.Time        `json:"-"`
}

// skew is how unevenly a generated cluster's tasks sit (ct.GenOptions.Skew), named.
type skew struct {
	name  string
	value float64
}

// Generated scenarios' dimensions.
var (
	familySizes = []int{3, 5, 10, 20, 50, 100, 200, 500}
	familySkews = []skew{{"light", 0.2}, {"moderate", 0.5}, {"severe", 0.9}}
	// familyNetworkSizes are the sizes and skews of the network shapes.
	familyNetworkSizes = []struct {
		n    int
		skew skew
	}{{5, familySkews[2]}, {20, familySkews[1]}, {100, familySkews[2]}}
)

// Family generates the scenario family: every size from 3 to 500 instances at light,
// moderate and severe skew (24 clusters), and six clusters whose host ports or
// interfaces bind placement. The other features rotate across them so each
// size sees several: 1 to 3 zones, a DAEMON service or not, some ineligible services
// or not, capacity tight or roomy, an instance someone else has drained or not. Eight
// tasks per instance on average, one service per two instances, one empty joiner.
func Family() []Scenario {
	var out []Scenario
	k := 0
	for _, n := range familySizes {
		for _, skew := range familySkews {
			o := ct.GenOptions{
				Name:      fmt.Sprintf("gen-%03d-%s", n, skew.name),
				Seed:      uint64(1000 + k),
				Instances: n, Joiners: 1,
				Zones:      1 + k%3,
				Services:   max(2, n/2),
				Daemons:    k % 2,
				Tasks:      8 * n,
				Skew:       skew.value,
				Ineligible: k%4 < 2,
				Tight:      k%3 == 2,
				Drained:    boolInt(k%4 == 1 || k%4 == 2),
			}
			out = append(out, generated(o))
			k++
		}
	}
	// Network shapes: static host ports and awsvpc interfaces that bind placement, at
	// three sizes, moderate and severe skew.
	for _, network := range []string{ct.NetworkPorts, ct.NetworkAWSVPC} {
		for _, size := range familyNetworkSizes {
			o := ct.GenOptions{
				Name:      fmt.Sprintf("gen-%03d-%s-%s", size.n, size.skew.name, network),
				Seed:      uint64(1000 + k),
				Instances: size.n, Joiners: 1,
				Zones:    1 + k%3,
				Services: max(2, size.n/2),
				Daemons:  k % 2,
				Tasks:    8 * size.n,
				Skew:     size.skew.value,
				Network:  network,
			}
			out = append(out, generated(o))
			k++
		}
	}
	return out
}

func generated(o ct.GenOptions) Scenario {
	c := ct.Generate(o)
	joiner := c.Instances()[o.Instances] // after the loaded ones, before any drained one
	return Scenario{
		Name:        o.Name,
		Description: describe(o),
		Cluster:     c,
		Sim:         sim.Options{Now: ct.Epoch, TaskStart: sim.DefaultTaskStart, Seed: 1},
		Event:       ct.JoinEvent(c, joiner, ct.Epoch),
		EventTime:   ct.Epoch,
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func describe(o ct.GenOptions) string {
	parts := []string{fmt.Sprintf("%d instances + 1 joiner", o.Instances), fmt.Sprintf("%d zone(s)", o.Zones),
		fmt.Sprintf("skew %.1f", o.Skew), fmt.Sprintf("%d services", o.Services)}
	if o.Daemons > 0 {
		parts = append(parts, "a DAEMON service")
	}
	if o.Ineligible {
		parts = append(parts, "1 in 5 services ineligible")
	}
	if o.Tight {
		parts = append(parts, "tight capacity")
	}
	if o.Drained > 0 {
		parts = append(parts, "an instance drained by someone else")
	}
	switch o.Network {
	case ct.NetworkPorts:
		parts = append(parts, "every third service on a static host port")
	case ct.NetworkAWSVPC:
		parts = append(parts, "every other service in awsvpc mode, 7 interfaces per instance")
	}
	return strings.Join(parts, ", ")
}

// Snapshots loads every snapshot in dir with its join event, events/<name>-join.json
// beside it (testdata/snapshots and testdata/events).
func Snapshots(snapshots, events string) ([]Scenario, error) {
	paths, err := filepath.Glob(filepath.Join(snapshots, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []Scenario
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".json")
		snap, err := snapshot.Load(p)
		if err != nil {
			return nil, err
		}
		raw, err := os.ReadFile(filepath.Join(events, name+"-join.json"))
		if err != nil {
			return nil, fmt.Errorf("snapshot %s: its join event: %w", name, err)
		}
		ev, err := event.Decode(raw)
		if err != nil {
			return nil, fmt.Errorf("snapshot %s: its join event: %w", name, err)
		}
		at := ev.Time
		opts := snap.Simulation.Options()
		if opts.Now.IsZero() {
			opts.Now = at
		}
		out = append(out, Scenario{
			Name: "testdata/" + name,
			Description: fmt.Sprintf("the recorded %s snapshot: %d instances, %d services, %d tasks", name,
				len(snap.Cluster.Instances()), len(snap.Cluster.Services()), len(snap.Cluster.AllTasks())),
			Cluster:   snap.Cluster,
			Sim:       opts,
			Event:     raw,
			EventTime: at,
		})
	}
	return out, nil
}
