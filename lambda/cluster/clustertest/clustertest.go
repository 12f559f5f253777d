// Package clustertest builds cluster models for tests: real-shaped ARNs, sensible ECS
// defaults, and option funcs for whatever a test needs to differ.
package clustertest

import (
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/event"
)

// Defaults of every builder.
const (
	Region  = "us-east-1"
	Account = "111122223333"
)

// Epoch is when builder clusters' instances registered, unless told otherwise.
var Epoch = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// Builder accumulates a cluster. Its counters are its own, so builders in parallel tests
// never share state.
type Builder struct {
	c     *cluster.Cluster
	nInst int
	nTask int
	nDep  int
	err   error
}

// New starts a cluster with the given name.
func New(name string) *Builder {
	return &Builder{c: cluster.New(name, Region, Account)}
}

// InstanceOpt adjusts an instance before it is added.
type InstanceOpt func(*cluster.Instance)

// Resources sets registered (and initially remaining) cpu and memory.
func Resources(cpu, memory int64) InstanceOpt {
	return func(i *cluster.Instance) {
		i.Registered = cluster.Resources{CPU: cpu, Memory: memory}
		i.Remaining = i.Registered
	}
}

// Status sets the instance status.
func Status(s string) InstanceOpt { return func(i *cluster.Instance) { i.Status = s } }

// Disconnected marks the agent disconnected.
func Disconnected() InstanceOpt { return func(i *cluster.Instance) { i.AgentConnected = false } }

// RegisteredAt sets the registration time.
func RegisteredAt(t time.Time) InstanceOpt { return func(i *cluster.Instance) { i.RegisteredAt = t } }

// Attr sets a custom attribute.
func Attr(name, value string) InstanceOpt {
	return func(i *cluster.Instance) { i.SetAttribute(name, value) }
}

// CapacityProvider sets the instance's capacity provider.
func CapacityProvider(name string) InstanceOpt {
	return func(i *cluster.Instance) { i.CapacityProviderName = name }
}

// AMIPorts registers the TCP host ports the ECS-optimized AMI keeps as its own: ssh,
// the Docker daemon and the agent's introspection.
func AMIPorts() InstanceOpt { return ReservedPorts(22, 2375, 2376, 51678, 51679) }

// ReservedPorts registers TCP host ports the instance keeps for itself.
func ReservedPorts(ports ...int32) InstanceOpt {
	return func(i *cluster.Instance) {
		for _, p := range ports {
			i.ReservedPorts = append(i.ReservedPorts, cluster.HostPort{Port: p, Protocol: cluster.ProtocolTCP})
		}
	}
}

// Instance adds an ACTIVE, connected instance in zone with 2048 CPU and 4096 MiB.
func (b *Builder) Instance(zone string, opts ...InstanceOpt) *cluster.Instance {
	b.nInst++
	i := &cluster.Instance{
		ARN:            fmt.Sprintf("arn:aws:ecs:%s:%s:container-instance/%s/%s", Region, Account, b.c.Name, hexID(b.c.Name, "ci", b.nInst, 32)),
		EC2InstanceID:  "i-0" + hexID(b.c.Name, "ec2", b.nInst, 16),
		Status:         cluster.StatusActive,
		AgentConnected: true,
		RegisteredAt:   Epoch.Add(-24 * time.Hour).Add(time.Duration(b.nInst) * time.Minute),
		Registered:     cluster.Resources{CPU: 2048, Memory: 4096},
		Remaining:      cluster.Resources{CPU: 2048, Memory: 4096},
		Version:        1,
	}
	i.SetAttribute(cluster.ZoneAttribute, zone)
	i.SetAttribute("ecs.instance-type", "m7g.large")
	for _, o := range opts {
		o(i)
	}
	b.keep(b.c.AddInstance(i))
	return i
}

// ServiceOpt adjusts a service before it is added.
type ServiceOpt func(*cluster.Service)

// Desired sets the desired count.
func Desired(n int32) ServiceOpt { return func(s *cluster.Service) { s.DesiredCount = n } }

// Deploy sets minimumHealthyPercent and maximumPercent.
func Deploy(minHealthy, maxPercent int32) ServiceOpt {
	return func(s *cluster.Service) { s.MinimumHealthyPercent, s.MaximumPercent = minHealthy, maxPercent }
}

// Placement sets the placement strategy rules, e.g. Placement("spread", "instanceId");
// random takes an empty field: Placement("random", "").
func Placement(typeField ...string) ServiceOpt {
	if len(typeField)%2 != 0 {
		panic("clustertest.Placement takes type and field pairs")
	}
	return func(s *cluster.Service) {
		s.PlacementStrategy = nil
		for k := 0; k+1 < len(typeField); k += 2 {
			s.PlacementStrategy = append(s.PlacementStrategy, cluster.PlacementStrategy{Type: typeField[k], Field: typeField[k+1]})
		}
	}
}

// Constraint adds a placement constraint.
func Constraint(typ, expr string) ServiceOpt {
	return func(s *cluster.Service) {
		s.PlacementConstraints = append(s.PlacementConstraints, cluster.PlacementConstraint{Type: typ, Expression: expr})
	}
}

// Daemon makes it a DAEMON service (ECS defaults min 0 %, max 100 %).
func Daemon() ServiceOpt {
	return func(s *cluster.Service) {
		s.SchedulingStrategy = cluster.SchedulingDaemon
		s.MinimumHealthyPercent, s.MaximumPercent = 0, 100
		s.PlacementStrategy = nil
	}
}

// Fargate makes it a FARGATE service.
func Fargate() ServiceOpt { return func(s *cluster.Service) { s.LaunchType = cluster.LaunchFargate } }

// CapacityProviders replaces the launch type with a capacity provider strategy.
func CapacityProviders(names ...string) ServiceOpt {
	return func(s *cluster.Service) {
		s.LaunchType = ""
		for _, n := range names {
			s.CapacityProviderStrategy = append(s.CapacityProviderStrategy, cluster.CapacityProviderItem{Provider: n, Weight: 1})
		}
	}
}

// Controller sets the deployment controller.
func Controller(c string) ServiceOpt { return func(s *cluster.Service) { s.DeploymentController = c } }

// TaskSize sets what each task of the service reserves.
func TaskSize(cpu, memory int64) ServiceOpt {
	return func(s *cluster.Service) { s.TaskSize.CPU, s.TaskSize.Memory = cpu, memory }
}

// HostPorts gives the service's tasks static TCP host ports (bridge or host network
// mode): at most one of its tasks per instance.
func HostPorts(ports ...int32) ServiceOpt {
	return func(s *cluster.Service) {
		s.HostPorts = nil
		for _, p := range ports {
			s.HostPorts = append(s.HostPorts, cluster.HostPort{Port: p, Protocol: cluster.ProtocolTCP})
		}
	}
}

// AWSVPC puts the service in awsvpc network mode: each task takes one of its
// instance's elastic network interfaces.
func AWSVPC() ServiceOpt { return func(s *cluster.Service) { s.TaskSize.ENIs = 1 } }

// LoadBalanced registers the service's tasks with a target group, with the health
// check grace period given (zero: none set).
func LoadBalanced(grace time.Duration) ServiceOpt {
	return func(s *cluster.Service) {
		s.LoadBalancers = []cluster.LoadBalancer{{
			TargetGroupARN: fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s/0123456789abcdef", Region, Account, s.Name),
			ContainerName:  s.Name, ContainerPort: 8080,
		}}
		s.HealthCheckGracePeriod = grace
	}
}

// ZoneRebalancing sets availabilityZoneRebalancing ENABLED: ECS moves the service's
// tasks between zones by itself once it is steady.
func ZoneRebalancing() ServiceOpt {
	return func(s *cluster.Service) { s.AvailabilityZoneRebalancing = cluster.ZoneRebalancingEnabled }
}

// ClassicLB registers the service's tasks with a Classic Load Balancer.
func ClassicLB() ServiceOpt {
	return func(s *cluster.Service) {
		s.LoadBalancers = []cluster.LoadBalancer{{LoadBalancerName: s.Name, ContainerName: s.Name, ContainerPort: 8080}}
	}
}

// Tag adds a tag.
func Tag(key, value string) ServiceOpt {
	return func(s *cluster.Service) { s.Tags = append(s.Tags, cluster.Tag{Key: key, Value: value}) }
}

// Service adds a REPLICA EC2 service with a COMPLETED primary deployment, 100/200 %
// deployment configuration, 256 CPU / 512 MiB tasks and the default placement. It adds
// no tasks: use Tasks.
func (b *Builder) Service(name string, opts ...ServiceOpt) *cluster.Service {
	s := &cluster.Service{
		ARN:                   fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", Region, Account, b.c.Name, name),
		Name:                  name,
		ClusterARN:            b.c.ARN,
		Status:                cluster.ServiceActive,
		SchedulingStrategy:    cluster.SchedulingReplica,
		LaunchType:            cluster.LaunchEC2,
		DeploymentController:  cluster.ControllerECS,
		MinimumHealthyPercent: 100,
		MaximumPercent:        200,
		TaskDefinition:        fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:1", Region, Account, name),
		TaskSize:              cluster.Resources{CPU: 256, Memory: 512},
		CreatedAt:             Epoch.Add(-48 * time.Hour),
	}
	for _, o := range opts {
		o(s)
	}
	s.Deployments = []*cluster.Deployment{b.deployment(s, cluster.DeploymentPrimary, cluster.RolloutCompleted)}
	b.keep(b.c.AddService(s))
	return s
}

// InProgress gives the service a new PRIMARY deployment in progress; its existing tasks
// belong to the previous (now ACTIVE) one. Call it after adding the service's tasks.
func (b *Builder) InProgress(s *cluster.Service) *cluster.Deployment {
	for _, d := range s.Deployments {
		d.Status = cluster.DeploymentActive
	}
	d := b.deployment(s, cluster.DeploymentPrimary, cluster.RolloutInProgress)
	s.Deployments = append([]*cluster.Deployment{d}, s.Deployments...)
	return d
}

func (b *Builder) deployment(s *cluster.Service, status, rollout string) *cluster.Deployment {
	b.nDep++
	return &cluster.Deployment{
		ID:             "ecs-svc/" + decID(b.c.Name, b.nDep),
		Status:         status,
		TaskDefinition: s.TaskDefinition,
		DesiredCount:   s.DesiredCount,
		RolloutState:   rollout,
		LaunchType:     s.LaunchType,
		CreatedAt:      Epoch.Add(-48 * time.Hour),
		UpdatedAt:      Epoch.Add(-48 * time.Hour),
	}
}

// Tasks adds n RUNNING tasks of the service on the instance (nil for Fargate),
// reserving their resources. They belong to the service's oldest deployment.
func (b *Builder) Tasks(s *cluster.Service, on *cluster.Instance, n int) []*cluster.Task {
	return b.serviceTasks(s, on, n, cluster.TaskRunning)
}

// PendingTasks adds n PENDING tasks of the service: started, not yet running.
func (b *Builder) PendingTasks(s *cluster.Service, on *cluster.Instance, n int) []*cluster.Task {
	return b.serviceTasks(s, on, n, cluster.TaskPending)
}

func (b *Builder) serviceTasks(s *cluster.Service, on *cluster.Instance, n int, status string) []*cluster.Task {
	dep := s.Deployments[len(s.Deployments)-1]
	var out []*cluster.Task
	for range n {
		t := b.task(cluster.ServiceGroup(s.Name), s.TaskSize, on)
		t.LastStatus = status
		t.StartedBy = dep.ID
		t.TaskDefinitionARN = s.TaskDefinition
		t.HostPorts = slices.Clone(s.HostPorts)
		if s.OnFargate() {
			t.LaunchType = cluster.LaunchFargate
		}
		b.keep(b.c.StartTask(t))
		out = append(out, t)
		// The counts ECS reports per deployment.
		if status == cluster.TaskRunning {
			dep.RunningCount++
		} else {
			dep.PendingCount++
		}
	}
	return out
}

// Standalone adds a RUNNING task outside any service (group family:NAME).
func (b *Builder) Standalone(family string, on *cluster.Instance, size cluster.Resources) *cluster.Task {
	t := b.task("family:"+family, size, on)
	t.TaskDefinitionARN = fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:1", Region, Account, family)
	b.keep(b.c.StartTask(t))
	return t
}

func (b *Builder) task(group string, size cluster.Resources, on *cluster.Instance) *cluster.Task {
	b.nTask++
	t := &cluster.Task{
		ARN:           fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%s", Region, Account, b.c.Name, hexID(b.c.Name, "task", b.nTask, 32)),
		ClusterARN:    b.c.ARN,
		Group:         group,
		LastStatus:    cluster.TaskRunning,
		DesiredStatus: cluster.TaskRunning,
		Size:          size,
		LaunchType:    cluster.LaunchEC2,
		CreatedAt:     Epoch.Add(-time.Hour),
		StartedAt:     Epoch.Add(-time.Hour),
		Version:       3,
	}
	if on != nil {
		t.InstanceARN = on.ARN
		t.AvailabilityZone = on.Zone
	}
	return t
}

// hexID derives a real-looking, stable hex ID of n digits from the cluster name, a kind
// and a sequence number.
func hexID(name, kind string, seq, n int) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%s/%d", name, kind, seq)
	x := h.Sum64()
	var out []byte
	for len(out) < n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		out = fmt.Appendf(out, "%016x", x)
	}
	return string(out[:n])
}

// decID is a 19-digit deployment number like ECS's ecs-svc/ IDs.
func decID(name string, seq int) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/dep/%d", name, seq)
	return fmt.Sprintf("%019d", h.Sum64()%1e19)
}

func (b *Builder) keep(err error) {
	if err != nil && b.err == nil {
		b.err = err
	}
}

// Cluster returns the cluster, failing if any step failed or the result does not
// validate.
func (b *Builder) Cluster(t interface {
	Helper()
	Fatalf(string, ...any)
}) *cluster.Cluster {
	t.Helper()
	if err := errors.Join(b.err, b.c.Validate()); err != nil {
		t.Fatalf("building cluster: %v", err)
	}
	return b.c
}

// Unchecked returns the cluster without validating it, for tests of validation.
func (b *Builder) Unchecked() *cluster.Cluster { return b.c }

// JoinEvent is the EventBridge event ECS sends when instance i of c has joined, empty
// and connected, as of at.
func JoinEvent(c *cluster.Cluster, i *cluster.Instance, at time.Time) []byte {
	return event.Joined(Account, Region, c.ARN, i.ARN, i.EC2InstanceID, i.RegisteredAt, at)
}

// Loaded builds cluster "demo": one zone, one service "web", and instances running the
// given numbers of its tasks; the last instance joined a minute before Epoch.
func Loaded(t interface {
	Helper()
	Fatalf(string, ...any)
}, counts ...int) *cluster.Cluster {
	t.Helper()
	b := New("demo")
	total := 0
	for _, n := range counts {
		total += n
	}
	web := b.Service("web", Desired(int32(total)), TaskSize(16, 16))
	for k, n := range counts {
		var opts []InstanceOpt
		if k == len(counts)-1 {
			opts = append(opts, RegisteredAt(Epoch.Add(-time.Minute)))
		}
		b.Tasks(web, b.Instance("us-east-1a", opts...), n)
	}
	return b.Cluster(t)
}
