package clustertest

import (
	"errors"
	"slices"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
)

// The scenarios behind testdata/snapshots. Each returns a fresh cluster; the snapshot
// package's golden test writes them (go test ./lambda/snapshot -update).

// m7g.xlarge as ECS registers it: 4 vCPU and the memory left after the agent's reserve.
var xlarge = []InstanceOpt{Resources(4096, 15680), Attr("ecs.instance-type", "m7g.xlarge"), CapacityProvider("demo-asg")}

// Headline is the README's scenario: the Auto Scaling group scaled in and out again.
// Three instances, one per zone, carry everything; a fourth has just joined in
// us-east-1a and holds only the log router's daemon task. Services use the two spread
// styles operators pick: availability-zone balanced (zone, then instance) and
// instance spread.
func Headline() *cluster.Cluster {
	b := New("demo")
	a := b.Instance("us-east-1a", xlarge...)
	bb := b.Instance("us-east-1b", xlarge...)
	c := b.Instance("us-east-1c", xlarge...)
	joiner := b.Instance("us-east-1a", append(xlarge, RegisteredAt(Epoch.Add(-2*time.Minute)))...)
	loaded := []*cluster.Instance{a, bb, c}

	azSpread := Placement("spread", cluster.FieldZone, "spread", cluster.FieldInstanceID)
	web := b.Service("web", Desired(12), azSpread, TaskSize(256, 512))
	api := b.Service("api", Desired(9), Placement("spread", cluster.FieldInstanceID), TaskSize(512, 1024))
	worker := b.Service("worker", Desired(6), Placement("spread", cluster.FieldInstanceID), TaskSize(256, 1024), Deploy(50, 200))
	cache := b.Service("cache", Desired(3), azSpread, TaskSize(256, 2048))
	logs := b.Service("log-router", Daemon(), Desired(4), TaskSize(128, 256))
	for _, i := range loaded {
		b.Tasks(web, i, 4)
		b.Tasks(api, i, 3)
		b.Tasks(worker, i, 2)
		b.Tasks(cache, i, 1)
	}
	for _, i := range append(loaded, joiner) {
		b.Tasks(logs, i, 1)
	}
	return must(b)
}

// Mixed holds every kind of service the rebalancer must never touch next to eligible
// ones, on four loaded instances and a joiner.
func Mixed() *cluster.Cluster {
	b := New("mixed")
	var loaded []*cluster.Instance
	for _, z := range []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1a"} {
		loaded = append(loaded, b.Instance(z, xlarge...))
	}
	joiner := b.Instance("us-east-1b", append(xlarge, RegisteredAt(Epoch.Add(-90*time.Second)))...)

	spread := Placement("spread", cluster.FieldInstanceID)
	eligible := []*cluster.Service{
		b.Service("web", Desired(8), spread),
		b.Service("api", Desired(8), Placement("spread", cluster.FieldZone, "spread", cluster.FieldInstanceID)),
		b.Service("orders", Desired(4), spread, CapacityProviders("demo-asg")),
	}
	perInstance := map[string]int{"web": 2, "api": 2, "orders": 1}
	for _, s := range eligible {
		for _, i := range loaded {
			b.Tasks(s, i, perInstance[s.Name])
		}
	}

	daemon := b.Service("log-router", Daemon(), Desired(5), TaskSize(128, 256))
	for _, i := range append(loaded, joiner) {
		b.Tasks(daemon, i, 1)
	}
	edge := b.Service("edge-proxy", Desired(3), Fargate())
	b.Tasks(edge, nil, 3)

	// One service of each ineligible kind, each with tasks on the loaded instances.
	kinds := []*cluster.Service{
		b.Service("batch", Desired(4), Placement("binpack", "memory")),
		b.Service("sampler", Desired(4), Placement("random", "")),
		b.Service("checkout", Desired(4), spread, Controller(cluster.ControllerCodeDeploy)),
		b.Service("partner-gw", Desired(4), spread, Controller(cluster.ControllerExternal)),
		b.Service("ledger", Desired(4), spread, Tag("ecs-rebalancer:skip", "true")),
		b.Service("pinned", Desired(4), spread, Deploy(100, 100)),
		b.Service("singleton", Desired(1), spread),
		b.Service("search", Desired(4), spread),
	}
	for _, s := range kinds {
		for k := range s.DesiredCount {
			b.Tasks(s, loaded[int(k)%len(loaded)], 1)
		}
	}
	// search is mid-deployment: a new deployment has started one of its four tasks.
	search := kinds[len(kinds)-1]
	dep := b.InProgress(search)
	started := b.Tasks(search, loaded[1], 1)[0]
	started.StartedBy = dep.ID
	// A standalone task (a one-off migration) never moves and does not block a drain.
	b.Standalone("db-migrate", loaded[0], cluster.Resources{CPU: 256, Memory: 512})
	return must(b)
}

// Lazy is where draining is partial: min 75 %/max 100 % services let a wave replace a
// quarter of a service, stopping first, so a drain shorter than a task start moves part
// of an instance's tasks. A fourth instance is DRAINING by someone else (the Auto
// Scaling group's managed draining, say): the rebalancer must leave it so.
func Lazy() *cluster.Cluster {
	b := New("lazy")
	var loaded []*cluster.Instance
	for _, z := range []string{"us-east-1a", "us-east-1b", "us-east-1c"} {
		loaded = append(loaded, b.Instance(z, xlarge...))
	}
	b.Instance("us-east-1a", append(xlarge, Status(cluster.StatusDraining))...)
	b.Instance("us-east-1b", append(xlarge, RegisteredAt(Epoch.Add(-time.Minute)))...)
	for _, name := range []string{"web", "api", "worker"} {
		s := b.Service(name, Desired(12), Deploy(75, 100), Placement("spread", cluster.FieldInstanceID), TaskSize(128, 256))
		for _, i := range loaded {
			b.Tasks(s, i, 4)
		}
	}
	return must(b)
}

// SlowHealth is a cluster behind load balancers whose tasks take long to count: a
// wave of a deployment or a drain lasts as long as the service's start (its tasks'
// own startedAt - createdAt, plus the health check grace period behind a load
// balancer, or one 30 s health check when it sets none), so a drain of DRAIN_TIMEOUT
// moves only the waves that fit in it. Three min 75 %/max 100 % services stop a
// quarter first, then start the replacements: web (no load balancer) counts after
// 25 s, api after 15 + 30 s, search after 30 + 120 s. cart is start first
// (100 %/200 %, 20 + 60 s): a drain shorter than its start moves none of it.
func SlowHealth() *cluster.Cluster {
	b := New("slow")
	var loaded []*cluster.Instance
	for _, z := range []string{"us-east-1a", "us-east-1b", "us-east-1c"} {
		loaded = append(loaded, b.Instance(z, xlarge...))
	}
	b.Instance("us-east-1b", append(xlarge, RegisteredAt(Epoch.Add(-time.Minute)))...)
	spread := Placement("spread", cluster.FieldInstanceID)
	services := []struct {
		svc      *cluster.Service
		perInst  int
		observed time.Duration // startedAt - createdAt of its tasks
	}{
		{b.Service("web", Desired(12), Deploy(75, 100), spread, TaskSize(128, 256)), 4, 25 * time.Second},
		{b.Service("api", Desired(12), Deploy(75, 100), spread, TaskSize(256, 512), LoadBalanced(0)), 4, 15 * time.Second},
		{b.Service("search", Desired(12), Deploy(75, 100), spread, TaskSize(256, 1024), LoadBalanced(2*time.Minute)), 4, 30 * time.Second},
		{b.Service("cart", Desired(6), spread, TaskSize(256, 512), LoadBalanced(time.Minute)), 2, 20 * time.Second},
	}
	for _, s := range services {
		for _, i := range loaded {
			for _, t := range b.Tasks(s.svc, i, s.perInst) {
				t.CreatedAt = t.StartedAt.Add(-s.observed)
			}
		}
	}
	return must(b)
}

// StaticPorts is a cluster in bridge network mode where host ports bind placement:
// web maps static host ports 80 and 443, so it runs one task per instance and a
// 100 %/200 % deployment of it can start new tasks only where no task binds them (the
// joiner, then wherever an old task has stopped); node-exporter is a daemon in host
// mode on 9100; api and worker map dynamic ports and go anywhere. Every instance keeps
// the ECS-optimized AMI's own ports.
func StaticPorts() *cluster.Cluster {
	b := New("ports")
	opts := append(slices.Clone(xlarge), AMIPorts())
	var loaded []*cluster.Instance
	for _, z := range []string{"us-east-1a", "us-east-1b", "us-east-1c"} {
		loaded = append(loaded, b.Instance(z, opts...))
	}
	joiner := b.Instance("us-east-1a", append(opts, RegisteredAt(Epoch.Add(-time.Minute)))...)
	spread := Placement("spread", cluster.FieldInstanceID)
	web := b.Service("web", Desired(3), spread, TaskSize(512, 1024), HostPorts(80, 443))
	api := b.Service("api", Desired(12), spread, TaskSize(256, 512))
	worker := b.Service("worker", Desired(6), spread, TaskSize(256, 1024), Deploy(50, 200))
	exporter := b.Service("node-exporter", Daemon(), Desired(4), TaskSize(64, 128), HostPorts(9100))
	for _, i := range loaded {
		b.Tasks(web, i, 1)
		b.Tasks(api, i, 4)
		b.Tasks(worker, i, 2)
	}
	for _, i := range append(loaded, joiner) {
		b.Tasks(exporter, i, 1)
	}
	return must(b)
}

// ENIBound is a cluster in awsvpc network mode where elastic network interfaces bind
// placement: m5.xlarge instances take three awsvpc tasks each (four interfaces less
// the primary, no trunking), and the three loaded ones run three each (api's two and
// web's one), so only the joiner has interfaces free; worker and the log router are in
// bridge mode and need none.
func ENIBound() *cluster.Cluster {
	b := New("eni")
	m5 := []InstanceOpt{Resources(4096, 15680), Attr(cluster.InstanceTypeAttribute, "m5.xlarge"), CapacityProvider("eni-asg")}
	var loaded []*cluster.Instance
	for _, z := range []string{"us-east-1a", "us-east-1b", "us-east-1c"} {
		loaded = append(loaded, b.Instance(z, m5...))
	}
	joiner := b.Instance("us-east-1b", append(m5, RegisteredAt(Epoch.Add(-time.Minute)))...)
	spread := Placement("spread", cluster.FieldInstanceID)
	azSpread := Placement("spread", cluster.FieldZone, "spread", cluster.FieldInstanceID)
	api := b.Service("api", Desired(6), azSpread, TaskSize(512, 1024), AWSVPC())
	web := b.Service("web", Desired(3), azSpread, TaskSize(256, 512), AWSVPC())
	worker := b.Service("worker", Desired(9), spread, TaskSize(256, 512))
	logs := b.Service("log-router", Daemon(), Desired(4), TaskSize(128, 256))
	for _, i := range loaded {
		b.Tasks(api, i, 2)
		b.Tasks(web, i, 1)
		b.Tasks(worker, i, 3)
	}
	for _, i := range append(loaded, joiner) {
		b.Tasks(logs, i, 1)
	}
	return must(b)
}

// LargeOptions are the options of the large generated snapshot.
var LargeOptions = GenOptions{
	Name: "large", Seed: 42, Instances: 300, Joiners: 3, Zones: 3,
	Services: 40, Daemons: 2, Tasks: 3000, Skew: 0.6, Ineligible: true,
}

// Large is the generated snapshot: hundreds of instances, dozens of services.
func Large() *cluster.Cluster { return Generate(LargeOptions) }

// must returns the built cluster; the scenarios are fixed code, so a failure is a bug.
func must(b *Builder) *cluster.Cluster {
	if err := errors.Join(b.err, b.c.Validate()); err != nil {
		panic(err)
	}
	return b.c
}
