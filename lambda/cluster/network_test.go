package cluster_test

import (
	"strings"
	"testing"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/google/go-cmp/cmp"
)

func tcp(p int32) cluster.HostPort { return cluster.HostPort{Port: p, Protocol: cluster.ProtocolTCP} }

// ECS reserves, for a task whose cpu and memory are set per container only, the sum
// over its containers, each container's memoryReservation where set, else its memory.
func TestContainerLevelSizesAreSummed(t *testing.T) {
	tests := []struct {
		name string
		task cluster.Resources
		cs   []cluster.Container
		want cluster.Resources
	}{
		{"per container, reservation before hard limit", cluster.Resources{}, []cluster.Container{
			{Name: "app", CPU: "256", Memory: "1024", MemoryReservation: "512"},
			{Name: "sidecar", CPU: "128", Memory: "256"},
		}, cluster.Resources{CPU: 384, Memory: 768}},
		{"the task-level size wins", cluster.Resources{CPU: 1024, Memory: 2048}, []cluster.Container{
			{Name: "app", CPU: "256", Memory: "512"},
		}, cluster.Resources{CPU: 1024, Memory: 2048}},
		{"task-level memory, container cpu", cluster.Resources{Memory: 2048}, []cluster.Container{
			{Name: "app", CPU: "256"}, {Name: "log", CPU: "0"},
		}, cluster.Resources{CPU: 256, Memory: 2048}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := &cluster.Task{Size: tt.task}
			if err := cluster.FromContainers(task, tt.cs); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, task.Size); diff != "" {
				t.Errorf("size (-want +got):\n%s", diff)
			}
		})
	}
}

func TestContainersHostPorts(t *testing.T) {
	task := &cluster.Task{}
	err := cluster.FromContainers(task, []cluster.Container{
		{Name: "app", Bindings: []cluster.Binding{{HostPort: 80}, {HostPort: 8125, Protocol: "UDP"}}},
		{Name: "admin", Bindings: []cluster.Binding{{HostPort: 80, Protocol: "tcp"}, {HostPort: 9901, Protocol: "tcp"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []cluster.HostPort{tcp(80), {Port: 8125, Protocol: cluster.ProtocolUDP}, tcp(9901)}
	if diff := cmp.Diff(want, task.HostPorts); diff != "" {
		t.Errorf("host ports (-want +got):\n%s", diff)
	}
}

// Bad input in a snapshot is an error naming the container, never a crash.
func TestBadPortOrProtocolIsAnError(t *testing.T) {
	tests := []struct {
		name string
		b    cluster.Binding
		want string
	}{
		{"negative port", cluster.Binding{HostPort: -1}, "host port -1 is outside 1-65535"},
		{"zero port", cluster.Binding{HostPort: 0, Protocol: "tcp"}, "host port 0 is outside 1-65535"},
		{"unknown protocol", cluster.Binding{HostPort: 80, Protocol: "sctp"}, `protocol "sctp" is neither tcp nor udp`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := cluster.FromContainers(&cluster.Task{}, []cluster.Container{{Name: "app", Bindings: []cluster.Binding{tt.b}}})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "container app") {
				t.Errorf("err = %v, want one naming container app and %q", err, tt.want)
			}
		})
	}
	if _, err := cluster.ParsePorts([]string{"22", "x"}, cluster.ProtocolTCP); err == nil {
		t.Error("ParsePorts accepted a port that is not a number")
	}
	got, err := cluster.ParsePorts([]string{"22", "2376"}, cluster.ProtocolTCP)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"22", "2376"}, cluster.FormatPorts(got, cluster.ProtocolTCP)); diff != "" {
		t.Errorf("ParsePorts then FormatPorts (-want +got):\n%s", diff)
	}
}

// An instance takes as many awsvpc tasks as its type has network interfaces less the
// primary one, more with ENI trunking, which burstable types do not support.
func TestENILimitByInstanceType(t *testing.T) {
	tests := []struct {
		typ       string
		trunk     bool
		want      int64
		wantKnown bool
	}{
		{"m5.large", false, 2, true},
		{"m5.large", true, 10, true},
		{"c5.4xlarge", true, 60, true},
		{"m7g.xlarge", false, 3, true},
		{"m7g.xlarge", true, 20, true},
		{"t3.large", true, 2, true}, // no trunking on t3: the plain limit
		{"x9z.huge", false, cluster.NoENILimit, false},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			i := &cluster.Instance{}
			i.SetAttribute(cluster.InstanceTypeAttribute, tt.typ)
			if tt.trunk {
				i.SetAttribute(cluster.TrunkAttribute, "eni-0123456789abcdef0")
			}
			got, known := cluster.ENILimit(i)
			if got != tt.want || known != tt.wantKnown {
				t.Errorf("ENILimit = %d, %v; want %d, %v", got, known, tt.want, tt.wantKnown)
			}
		})
	}
}

// A task with a static host port cannot share an instance with another task binding
// the same port: the placer, the candidates and the instance all say so.
func TestStaticHostPortKeepsOneTaskPerInstance(t *testing.T) {
	b := ct.New("demo")
	busy := b.Instance("us-east-1a", ct.Resources(4096, 8192))
	free := b.Instance("us-east-1b", ct.Resources(4096, 8192))
	web := b.Service("web", ct.Desired(1), ct.HostPorts(80))
	b.Tasks(web, busy, 1)
	other := b.Service("other", ct.Desired(1), ct.HostPorts(8080))
	c := b.Cluster(t)

	if busy.PortsFree(web.HostPorts) || !busy.PortsFree(other.HostPorts) || !free.PortsFree(web.HostPorts) {
		t.Errorf("PortsFree: busy for web %v, busy for other %v, free for web %v; want false, true, true",
			busy.PortsFree(web.HostPorts), busy.PortsFree(other.HostPorts), free.PortsFree(web.HostPorts))
	}
	hosts, err := c.Candidates(web, web.TaskSize)
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 1 || hosts[0] != free {
		t.Errorf("candidates for web = %v, want only the instance without port 80 bound", arns(hosts))
	}
	p, err := c.NewPlacer(web, web.TaskSize)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Next(func(int) int { return 0 })
	if err != nil || got != free {
		t.Fatalf("placer's first pick = %v, %v; want the free instance", got, err)
	}
	if got, err := p.Next(func(int) int { return 0 }); got != nil || err != nil {
		t.Errorf("placer's second pick = %v, %v; want none: both instances bind port 80 now", got, err)
	}

	busy.ReservedPorts = []cluster.HostPort{tcp(8080)}
	if busy.PortsFree(other.HostPorts) {
		t.Error("a port the instance reserves (its PORTS resource) is free")
	}
}

func arns(is []*cluster.Instance) []string {
	var out []string
	for _, i := range is {
		out = append(out, i.ARN)
	}
	return out
}

// Neither DescribeTasks nor DescribeServices says which host ports a service's new
// tasks bind or how many interfaces an instance has left: the model derives them.
func TestDeriveUnreportedNetwork(t *testing.T) {
	b := ct.New("demo")
	m5 := b.Instance("us-east-1a", ct.Resources(8192, 16384), ct.Attr(cluster.InstanceTypeAttribute, "m5.2xlarge"))
	odd := b.Instance("us-east-1b", ct.Resources(8192, 16384), ct.Attr(cluster.InstanceTypeAttribute, "x9z.huge"))
	api := b.Service("api", ct.Desired(4), ct.AWSVPC())
	b.Tasks(api, m5, 2)
	b.Tasks(api, odd, 2)
	static := b.Service("static", ct.Desired(2), ct.HostPorts(80))
	b.Tasks(static, m5, 1)
	b.Tasks(static, odd, 1)
	lone := b.Service("lone", ct.Desired(1))
	dyn := b.Tasks(lone, m5, 1)
	dyn[0].HostPorts = []cluster.HostPort{tcp(32770), tcp(443)} // one task: 443 static, 32770 dynamic
	c := b.Cluster(t)
	static.HostPorts, lone.HostPorts = nil, nil

	notes := c.DeriveUnreported()

	if diff := cmp.Diff([]cluster.HostPort{tcp(80)}, static.HostPorts); diff != "" {
		t.Errorf("static's ports (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]cluster.HostPort{tcp(443)}, lone.HostPorts); diff != "" {
		t.Errorf("lone's ports, a lone task's dynamic one left out (-want +got):\n%s", diff)
	}
	if api.TaskSize.ENIs != 1 {
		t.Errorf("api's task ENIs = %d, want 1", api.TaskSize.ENIs)
	}
	if m5.Registered.ENIs != 3 || m5.Remaining.ENIs != 1 {
		t.Errorf("m5.2xlarge ENIs registered %d remaining %d, want 3 and 1", m5.Registered.ENIs, m5.Remaining.ENIs)
	}
	if odd.Remaining.ENIs != cluster.NoENILimit-2 {
		t.Errorf("unknown type's ENIs left = %d, want unlimited less two", odd.Remaining.ENIs)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "x9z.huge") {
		t.Errorf("notes = %q, want one naming the type the table lacks", notes)
	}

	// More awsvpc tasks than the table allows: ECS ran them, so the limit is raised.
	b2 := ct.New("demo")
	small := b2.Instance("us-east-1a", ct.Resources(8192, 16384), ct.Attr(cluster.InstanceTypeAttribute, "m5.large"))
	svc := b2.Service("api", ct.Desired(3), ct.AWSVPC())
	b2.Tasks(svc, small, 3)
	notes = b2.Unchecked().DeriveUnreported()
	if small.Registered.ENIs != 3 || small.Remaining.ENIs != 0 || len(notes) != 1 || !strings.Contains(notes[0], "more than the 2") {
		t.Errorf("over the limit: registered %d remaining %d notes %q; want 3, 0 and a note", small.Registered.ENIs, small.Remaining.ENIs, notes)
	}

	// No awsvpc service: an unknown type is no news.
	b3 := ct.New("demo")
	b3.Instance("us-east-1a", ct.Attr(cluster.InstanceTypeAttribute, "x9z.huge"))
	if notes := b3.Unchecked().DeriveUnreported(); len(notes) != 0 {
		t.Errorf("notes without awsvpc = %q, want none", notes)
	}
}

// An awsvpc task needs a free interface on its instance as much as CPU and memory.
func TestAWSVPCTaskNeedsAFreeInterface(t *testing.T) {
	b := ct.New("demo")
	full := b.Instance("us-east-1a", ct.Resources(8192, 16384), ct.Attr(cluster.InstanceTypeAttribute, "m5.large"))
	roomy := b.Instance("us-east-1b", ct.Resources(8192, 16384), ct.Attr(cluster.InstanceTypeAttribute, "m5.large"))
	api := b.Service("api", ct.Desired(3), ct.AWSVPC())
	b.Tasks(api, full, 2)
	b.Tasks(api, roomy, 1)
	c := b.Cluster(t)
	hosts, err := c.Candidates(api, api.TaskSize)
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 1 || hosts[0] != roomy {
		t.Errorf("candidates = %v, want only the instance with an interface left", arns(hosts))
	}
}
