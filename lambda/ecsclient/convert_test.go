package ecsclient_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsclient"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/snapshot"
)

// The model survives a trip through the SDK's types: what the simulator answers is
// what the reader rebuilds.
func TestModelToAPIAndBack(t *testing.T) {
	for name, c := range map[string]*cluster.Cluster{"headline": ct.Headline(), "mixed": ct.Mixed(), "ports": ct.StaticPorts(), "eni": ct.ENIBound()} {
		t.Run(name, func(t *testing.T) {
			web := c.Services()[0]
			web.LoadBalancers = []cluster.LoadBalancer{{TargetGroupARN: "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/web/0123456789abcdef", ContainerName: "web", ContainerPort: 8080}}
			web.HealthCheckGracePeriod = 90 * time.Second
			var cis []types.ContainerInstance
			for _, i := range c.Instances() {
				cis = append(cis, ecsclient.InstanceToAPI(i))
			}
			var svcs []types.Service
			for _, s := range c.Services() {
				svcs = append(svcs, ecsclient.ServiceToAPI(s, true))
			}
			var tasks []types.Task
			for _, tk := range c.AllTasks() {
				tasks = append(tasks, ecsclient.TaskToAPI(tk))
			}
			back := cluster.New(c.Name, c.Region, c.Account)
			if _, err := ecsclient.BuildCluster(back, cis, svcs, tasks); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(encode(t, c), encode(t, back)); diff != "" {
				t.Errorf("round trip (-model +rebuilt):\n%s", diff)
			}
		})
	}
}

func encode(t *testing.T, c *cluster.Cluster) string {
	t.Helper()
	var b bytes.Buffer
	if err := snapshot.Encode(&b, c, snapshot.Simulation{}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestServiceFromAPIDefaults(t *testing.T) {
	tests := []struct {
		name      string
		in        types.Service
		wantMin   int32
		wantMax   int32
		wantCtl   string
		wantSched string
	}{
		{"bare replica service", types.Service{ServiceName: aws.String("a")}, 100, 200, "ECS", "REPLICA"},
		{"bare daemon service", types.Service{ServiceName: aws.String("d"), SchedulingStrategy: types.SchedulingStrategyDaemon}, 0, 100, "ECS", "DAEMON"},
		{"explicit values win", types.Service{ServiceName: aws.String("e"),
			DeploymentConfiguration: &types.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(50)},
			DeploymentController:    &types.DeploymentController{Type: types.DeploymentControllerTypeCodeDeploy}}, 50, 200, "CODE_DEPLOY", "REPLICA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ecsclient.ServiceFromAPI(tt.in)
			got := []any{s.MinimumHealthyPercent, s.MaximumPercent, s.DeploymentController, s.SchedulingStrategy, s.Status}
			want := []any{tt.wantMin, tt.wantMax, tt.wantCtl, tt.wantSched, "ACTIVE"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestTaskFromAPIRejectsWhatTheModelCannotHold(t *testing.T) {
	for _, tk := range []types.Task{
		{TaskArn: aws.String("t1"), LastStatus: aws.String("RUNNING"), DesiredStatus: aws.String("STOPPED")},
		{TaskArn: aws.String("t2"), LastStatus: aws.String("RUNNING"), DesiredStatus: aws.String("RUNNING"), Cpu: aws.String("many")},
	} {
		if _, err := ecsclient.TaskFromAPI(tk); err == nil {
			t.Errorf("TaskFromAPI(%s) accepted", aws.ToString(tk.TaskArn))
		}
	}
}

// A task sized per container (no task-level cpu or memory, common on EC2) reserves the
// sum of its containers: cpu units, and each container's memoryReservation where set,
// else its hard memory limit. A task-level value wins where there is one.
func TestTaskSizedPerContainer(t *testing.T) {
	running := func(cpu, mem *string, cs ...types.Container) types.Task {
		return types.Task{TaskArn: aws.String("t"), LastStatus: aws.String("RUNNING"), DesiredStatus: aws.String("RUNNING"), Cpu: cpu, Memory: mem, Containers: cs}
	}
	app := types.Container{Name: aws.String("app"), Cpu: aws.String("128"), Memory: aws.String("256")}
	sidecar := types.Container{Name: aws.String("sidecar"), Cpu: aws.String("64"), Memory: aws.String("512"), MemoryReservation: aws.String("128")}
	tests := []struct {
		name string
		task types.Task
		want cluster.Resources
	}{
		{"per container", running(nil, nil, app, sidecar), cluster.Resources{CPU: 192, Memory: 384}},
		{"task-level memory wins", running(nil, aws.String("1024"), app, sidecar), cluster.Resources{CPU: 192, Memory: 1024}},
		{"task-level both", running(aws.String("512"), aws.String("1024"), app), cluster.Resources{CPU: 512, Memory: 1024}},
		{"no size anywhere", running(nil, nil, types.Container{Name: aws.String("x")}), cluster.Resources{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ecsclient.TaskFromAPI(tt.task)
			if err != nil {
				t.Fatal(err)
			}
			if got.Size != tt.want {
				t.Errorf("size %+v, want %+v", got.Size, tt.want)
			}
		})
	}
}

// A bridge or host task binds the host ports in its containers' networkBindings; an
// awsvpc task on an instance takes one of its interfaces and binds none (its ports
// are on that interface); a Fargate one takes none of an instance's.
func TestTaskNetworkFromAPI(t *testing.T) {
	bound := types.Container{Name: aws.String("app"), NetworkBindings: []types.NetworkBinding{
		{HostPort: aws.Int32(80), ContainerPort: aws.Int32(8080), Protocol: types.TransportProtocolTcp},
		{HostPortRange: aws.String("9000-9010"), ContainerPortRange: aws.String("9000-9010")},
	}}
	eni := types.Attachment{Type: aws.String(cluster.ENIAttachment), Status: aws.String("ATTACHED")}
	task := func(instance string, as ...types.Attachment) types.Task {
		return types.Task{TaskArn: aws.String("t"), LastStatus: aws.String("RUNNING"), DesiredStatus: aws.String("RUNNING"),
			Cpu: aws.String("256"), Memory: aws.String("512"), ContainerInstanceArn: nonEmpty(instance), Containers: []types.Container{bound}, Attachments: as}
	}
	type network struct {
		ENIs  int64
		Ports []cluster.HostPort
	}
	tests := []struct {
		name string
		task types.Task
		want network
	}{
		{"bridge", task("ci-1"), network{0, []cluster.HostPort{{Port: 80, Protocol: cluster.ProtocolTCP}}}},
		{"awsvpc on an instance", task("ci-1", eni), network{1, nil}},
		{"awsvpc on Fargate", task("", eni), network{0, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ecsclient.TaskFromAPI(tt.task)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, network{got.Size.ENIs, got.HostPorts}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	bad := task("ci-1")
	bad.Containers = []types.Container{{Name: aws.String("app"), NetworkBindings: []types.NetworkBinding{{HostPort: aws.Int32(-80)}}}}
	if _, err := ecsclient.TaskFromAPI(bad); err == nil || !strings.Contains(err.Error(), "host port -80") {
		t.Errorf("a negative host port gave %v, want an error naming it", err)
	}
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// ECS sends integerValue, longValue and doubleValue on every resource, the unused ones
// zero; whichever is set is the value.
func TestInstanceResourcesFromAPI(t *testing.T) {
	tests := []struct {
		name string
		in   types.Resource
		want int64
	}{
		{"integerValue", types.Resource{Name: aws.String("CPU"), IntegerValue: 2048}, 2048},
		{"longValue", types.Resource{Name: aws.String("CPU"), LongValue: 4096}, 4096},
		{"doubleValue", types.Resource{Name: aws.String("CPU"), DoubleValue: 1023.6}, 1024},
		{"none", types.Resource{Name: aws.String("CPU")}, 0},
		{"a double beyond int64", types.Resource{Name: aws.String("CPU"), DoubleValue: 1e300}, 1 << 62},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := ecsclient.InstanceFromAPI(types.ContainerInstance{ContainerInstanceArn: aws.String("i1"), RegisteredResources: []types.Resource{tt.in}})
			if i.Registered.CPU != tt.want {
				t.Errorf("CPU = %d, want %d", i.Registered.CPU, tt.want)
			}
		})
	}
	// A value too large for integerValue (never seen from ECS) still reads back.
	big := &cluster.Instance{ARN: "i1", Registered: cluster.Resources{CPU: 1 << 40}}
	if got := ecsclient.InstanceFromAPI(ecsclient.InstanceToAPI(big)).Registered.CPU; got != 1<<40 {
		t.Errorf("CPU 2^40 read back as %d", got)
	}
}
