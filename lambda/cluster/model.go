// Package cluster is the model of one ECS cluster: container instances, services and
// tasks, with the measures the rebalancer decides on (COV, balanced targets, minMoves,
// per-service counts) and ECS's task placement. The planner reads it, the simulator
// mutates it, and snapshots serialize it.
//
// A Cluster keeps indexes (tasks per instance and per service, reserved resources), so
// tasks are added, started and stopped through its methods, never by editing slices.
package cluster

import (
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"time"
)

// Container instance statuses as ECS reports them.
const (
	StatusActive             = "ACTIVE"
	StatusDraining           = "DRAINING"
	StatusRegistering        = "REGISTERING"
	StatusDeregistering      = "DEREGISTERING"
	StatusRegistrationFailed = "REGISTRATION_FAILED"
	StatusInactive           = "INACTIVE"
)

// Task statuses used by the model (ECS has more transitional ones; see docs/simulator.md).
const (
	TaskPending = "PENDING"
	TaskRunning = "RUNNING"
	TaskStopped = "STOPPED"
)

// Service scheduling strategies, launch types and deployment controllers.
const (
	SchedulingReplica = "REPLICA"
	SchedulingDaemon  = "DAEMON"

	LaunchEC2      = "EC2"
	LaunchFargate  = "FARGATE"
	LaunchExternal = "EXTERNAL"

	ControllerECS        = "ECS"
	ControllerCodeDeploy = "CODE_DEPLOY"
	ControllerExternal   = "EXTERNAL"
)

// Deployment statuses and rollout states.
const (
	DeploymentPrimary  = "PRIMARY"
	DeploymentActive   = "ACTIVE"
	RolloutInProgress  = "IN_PROGRESS"
	RolloutCompleted   = "COMPLETED"
	RolloutFailed      = "FAILED"
	ServiceActive      = "ACTIVE"
	ZoneAttribute      = "ecs.availability-zone"
	serviceGroupPrefix = "service:"
)

// Resources are the CPU units and MiB of memory ECS accounts for on an instance, and
// the elastic network interfaces for awsvpc tasks. ECS reports no ENI count: the model
// derives it (network.go), and the codecs never write it.
type Resources struct {
	CPU    int64
	Memory int64
	ENIs   int64
}

// Fits reports whether need fits into r.
func (r Resources) Fits(need Resources) bool {
	return need.CPU <= r.CPU && need.Memory <= r.Memory && need.ENIs <= r.ENIs
}

// Add returns r + o.
func (r Resources) Add(o Resources) Resources {
	return Resources{CPU: r.CPU + o.CPU, Memory: r.Memory + o.Memory, ENIs: r.ENIs + o.ENIs}
}

// Sub returns r - o.
func (r Resources) Sub(o Resources) Resources {
	return Resources{CPU: r.CPU - o.CPU, Memory: r.Memory - o.Memory, ENIs: r.ENIs - o.ENIs}
}

// Attribute is a container instance attribute; Value is empty for name-only attributes
// (ECS never stores an empty value: values are 1-128 characters).
type Attribute struct {
	Name  string
	Value string
}

// Tag is a resource tag.
type Tag struct {
	Key   string
	Value string
}

// Instance is a container instance.
type Instance struct {
	ARN                  string
	EC2InstanceID        string
	Zone                 string // from the ecs.availability-zone attribute
	Status               string
	StatusReason         string
	AgentConnected       bool
	RegisteredAt         time.Time
	Registered           Resources
	Remaining            Resources // kept in step with task starts and stops
	Attributes           []Attribute
	CapacityProviderName string
	Version              int64
	// ReservedPorts are the host ports the instance keeps for itself (its registered
	// PORTS and PORTS_UDP resources).
	ReservedPorts []HostPort

	heldPorts []HostPort // ports stopped tasks still hold (HoldResources)
	tasks     taskSet    // live (not STOPPED) tasks on the instance
	running   int        // tasks whose desired status is RUNNING
	pending   int        // tasks whose last status is PENDING
	epoch     uint64     // the journal's epoch when it last saved the instance
	pos       int        // its index in the cluster's instances
}

// ID is the last segment of the ARN, which ECS accepts wherever it takes an ARN.
func (i *Instance) ID() string { return lastSegment(i.ARN) }

// RunningTasksCount is DescribeContainerInstances' runningTasksCount: tasks on the
// instance whose desired status is RUNNING (pending ones included, as ECS documents it).
func (i *Instance) RunningTasksCount() int { return i.running }

// PendingTasksCount is DescribeContainerInstances' pendingTasksCount.
func (i *Instance) PendingTasksCount() int { return i.pending }

// MarkerAttribute is the container instance attribute the rebalancer writes before it
// drains an instance (value: the time); only instances carrying it are ever set ACTIVE
// by the rebalancer (README, "Safety guarantees" 1).
const MarkerAttribute = "ecs-rebalancer.drained-at"

// Marked reports whether the instance carries the rebalancer's drain marker.
func (i *Instance) Marked() bool {
	_, ok := i.Attribute(MarkerAttribute)
	return ok
}

// Schedulable reports whether ECS may place new tasks on the instance.
func (i *Instance) Schedulable() bool { return i.Status == StatusActive && i.AgentConnected }

// Attribute returns the value of the named attribute and whether it is present.
func (i *Instance) Attribute(name string) (string, bool) {
	for _, a := range i.Attributes {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// SetAttribute adds or replaces an attribute, keeping Zone in step.
func (i *Instance) SetAttribute(name, value string) {
	if name == ZoneAttribute {
		i.Zone = value
	}
	for k := range i.Attributes {
		if i.Attributes[k].Name == name {
			i.Attributes[k].Value = value
			return
		}
	}
	i.Attributes = append(i.Attributes, Attribute{Name: name, Value: value})
}

// DeleteAttribute removes an attribute; it reports whether it was present.
func (i *Instance) DeleteAttribute(name string) bool {
	for k := range i.Attributes {
		if i.Attributes[k].Name == name {
			i.Attributes = append(i.Attributes[:k], i.Attributes[k+1:]...)
			if name == ZoneAttribute {
				i.Zone = ""
			}
			return true
		}
	}
	return false
}

// Tasks returns the live tasks on the instance in the order they were added.
func (i *Instance) Tasks() []*Task { return ordered(i.tasks) }

// CapacityProviderItem is one entry of a capacity provider strategy.
type CapacityProviderItem struct {
	Provider string
	Base     int32
	Weight   int32
}

// PlacementStrategy is a task placement strategy rule (type spread|binpack|random).
type PlacementStrategy struct {
	Type  string
	Field string
}

// PlacementConstraint is a task placement constraint (distinctInstance|memberOf).
type PlacementConstraint struct {
	Type       string
	Expression string
}

// CircuitBreaker is the deployment circuit breaker setting (kept, not simulated).
type CircuitBreaker struct {
	Enable   bool
	Rollback bool
}

// Deployment is one entry of a service's deployments.
type Deployment struct {
	ID                 string
	Status             string // PRIMARY or ACTIVE
	TaskDefinition     string
	DesiredCount       int32
	RunningCount       int32
	PendingCount       int32
	FailedTasks        int32
	RolloutState       string
	RolloutStateReason string
	LaunchType         string
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Service is an ECS service.
type Service struct {
	ARN                         string
	Name                        string
	ClusterARN                  string
	Status                      string
	SchedulingStrategy          string
	LaunchType                  string
	CapacityProviderStrategy    []CapacityProviderItem
	PlacementStrategy           []PlacementStrategy
	PlacementConstraints        []PlacementConstraint
	DeploymentController        string
	DeploymentStrategy          string // deploymentConfiguration.strategy (ROLLING, BLUE_GREEN, ...); empty = rolling
	MinimumHealthyPercent       int32
	MaximumPercent              int32
	CircuitBreaker              *CircuitBreaker
	DesiredCount                int32
	TaskDefinition              string
	Deployments                 []*Deployment
	Tags                        []Tag
	AvailabilityZoneRebalancing string
	CreatedAt                   time.Time
	// LoadBalancers are the target groups (or Classic Load Balancers) the service's
	// tasks register with: a new task counts once the load balancer finds it healthy,
	// and a stopped one first drains its connections.
	LoadBalancers []LoadBalancer
	// HealthCheckGracePeriod is how long the scheduler ignores a new task's load
	// balancer health checks (healthCheckGracePeriodSeconds).
	HealthCheckGracePeriod time.Duration
	// TaskSize is what one task of the service reserves; the simulator gives new tasks
	// this size. Snapshots do not carry task definitions, so it comes from the
	// service's existing tasks.
	TaskSize Resources
	// HostPorts are the static host ports the service's tasks bind, which its new tasks
	// bind too; derived from its tasks, like TaskSize.
	HostPorts []HostPort

	tasks   taskSet // live tasks of the service
	running int     // last status RUNNING
	pending int     // last status PENDING
	// Live tasks per instance ARN and per zone, kept up to date by the cluster's task
	// methods: placement and the stop choice read them once per task, and rebuilding
	// them each time is quadratic in the service's size.
	onInstance map[*Instance]int
	inZone     map[string]int
	epoch      uint64 // the journal's epoch when it last saved the service
}

// CountOn is the number of the service's live tasks on the instance.
func (s *Service) CountOn(i *Instance) int { return s.onInstance[i] }

// OnInstances yields each instance running live tasks of the service, with their
// number, in no particular order.
func (s *Service) OnInstances() iter.Seq2[*Instance, int] { return maps.All(s.onInstance) }

// CountIn is the number of the service's live tasks in the availability zone.
func (s *Service) CountIn(zone string) int { return s.inZone[zone] }

// RunningCount is DescribeServices' runningCount (tasks in the RUNNING state).
func (s *Service) RunningCount() int { return s.running }

// PendingCount is DescribeServices' pendingCount (tasks in the PENDING state).
func (s *Service) PendingCount() int { return s.pending }

// Tasks returns the live tasks of the service in the order they were added.
func (s *Service) Tasks() []*Task { return ordered(s.tasks) }

// EachTask yields the live tasks of the service in no particular order: for counts and
// checks that do not depend on it, without Tasks' sorted copy.
func (s *Service) EachTask() iter.Seq[*Task] { return maps.Keys(s.tasks) }

// taskSet holds live tasks, keyed by pointer: cheaper to hash than their ARNs, and
// every copy of a cluster rebuilds them.
type taskSet map[*Task]struct{}

func ordered(m taskSet) []*Task {
	out := make([]*Task, 0, len(m))
	for t := range m {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *Task) int { return a.seq - b.seq })
	return out
}

// Primary returns the PRIMARY deployment, or nil.
func (s *Service) Primary() *Deployment {
	for _, d := range s.Deployments {
		if d.Status == DeploymentPrimary {
			return d
		}
	}
	return nil
}

// Tag returns the value of the tag key and whether it is present.
func (s *Service) Tag(key string) (string, bool) {
	for _, t := range s.Tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// IsDaemon reports whether the service uses the DAEMON scheduler.
func (s *Service) IsDaemon() bool { return s.SchedulingStrategy == SchedulingDaemon }

// OnFargate reports whether the service's tasks run on Fargate (launch type FARGATE,
// or a capacity provider strategy naming FARGATE or FARGATE_SPOT).
func (s *Service) OnFargate() bool {
	if s.LaunchType == LaunchFargate {
		return true
	}
	for _, it := range s.CapacityProviderStrategy {
		if it.Provider == "FARGATE" || it.Provider == "FARGATE_SPOT" {
			return true
		}
	}
	return false
}

// HealthyBounds returns the task counts a rolling deployment must stay within: at least
// ceil(desired x min%) RUNNING and at most floor(desired x max%) RUNNING or PENDING, the
// rounding ECS documents for minimumHealthyPercent and maximumPercent.
func (s *Service) HealthyBounds() (minHealthy, maxTotal int) {
	d := int(s.DesiredCount)
	minHealthy = (d*int(s.MinimumHealthyPercent) + 99) / 100
	maxTotal = d * int(s.MaximumPercent) / 100
	return minHealthy, maxTotal
}

// LoadBalancer is one of a service's loadBalancers entries.
type LoadBalancer struct {
	TargetGroupARN   string
	LoadBalancerName string // a Classic Load Balancer
	ContainerName    string
	ContainerPort    int32
}

// Task is an ECS task.
type Task struct {
	ARN                  string
	ClusterARN           string
	InstanceARN          string // empty on Fargate
	Group                string // service:NAME for service tasks
	LastStatus           string
	DesiredStatus        string
	Size                 Resources  // cpu and memory (task-level, else its containers'), and its ENI
	HostPorts            []HostPort // the host ports its containers bind
	StartedBy            string     // the deployment ID for service tasks
	LaunchType           string
	CapacityProviderName string
	TaskDefinitionARN    string
	AvailabilityZone     string
	CreatedAt            time.Time
	StartedAt            time.Time
	StoppedAt            time.Time
	StoppedReason        string
	StopCode             string
	Version              int64
	// ProtectedUntil is when the task's scale-in protection expires (zero: not
	// protected). ECS keeps it apart from DescribeTasks (GetTaskProtection), so a
	// snapshot never carries it.
	ProtectedUntil time.Time

	seq   int       // order of addition, for deterministic iteration
	zone  string    // the zone its service counts it in (Service.CountIn)
	inst  *Instance // the instance it runs on, once linked (nil on Fargate)
	epoch uint64    // the journal's epoch when it last saved the task
}

// ID is the last segment of the task ARN.
func (t *Task) ID() string { return lastSegment(t.ARN) }

// ServiceName is the service the task belongs to through its group, or "".
func (t *Task) ServiceName() string {
	if name, ok := strings.CutPrefix(t.Group, serviceGroupPrefix); ok {
		return name
	}
	return ""
}

// Protected reports whether the task's scale-in protection holds at now: scale-in and
// deployments leave it running.
func (t *Task) Protected(now time.Time) bool { return now.Before(t.ProtectedUntil) }

// Live reports whether the task has not stopped.
func (t *Task) Live() bool { return t.LastStatus != TaskStopped }

// ServiceGroup is the task group of a service's tasks.
func ServiceGroup(name string) string { return serviceGroupPrefix + name }

func lastSegment(arn string) string {
	if k := strings.LastIndexByte(arn, '/'); k >= 0 {
		return arn[k+1:]
	}
	return arn
}

// ARNParts extracts the region and account of an ECS ARN.
func ARNParts(arn string) (region, account string, ok bool) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[2] != "ecs" {
		return "", "", false
	}
	return p[3], p[4], true
}

// NameOf is the name in a cluster ARN (arn:aws:ecs:REGION:ACCOUNT:cluster/NAME), or id
// itself when it is a name: the one parser of cluster identifiers.
func NameOf(id string) string {
	if k := strings.LastIndex(id, ":cluster/"); k >= 0 {
		return id[k+len(":cluster/"):]
	}
	return id
}

// ClusterARNFor builds a cluster ARN.
func ClusterARNFor(region, account, name string) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", region, account, name)
}
