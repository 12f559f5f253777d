package cluster

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Cluster is one ECS cluster's state. Build it with New and the Add methods; Validate
// checks it as a whole.
type Cluster struct {
	Name    string
	ARN     string
	Region  string
	Account string

	instances []*Instance
	instIndex map[string]*Instance // by ARN and by ID
	services  []*Service
	svcIndex  map[string]*Service // by name and by ARN
	tasks     []*Task             // every task ever added, in order (stopped ones stay)
	taskIndex map[string]*Task    // by ID (the ARN's last segment): one entry a task, half the work of a copy

	placing []*Instance // Place's scratch buffer; never shared with a clone
	// The live tasks of one service per instance position, for placement's spread over
	// instances: a wave places its tasks one after another, and a lookup in the
	// service's map for every instance is most of a placement among thousands.
	denseFor *Service
	dense    []int32
	// The Placer's candidate list, kept between waves.
	candidates []candidate
	journal    journal // what changed since the open checkpoints (journal.go)
}

// New returns an empty cluster. region and account are used for the ARNs the cluster
// mints (the simulator's new tasks); the cluster ARN is derived from them.
func New(name, region, account string) *Cluster {
	return &Cluster{
		Name:      name,
		ARN:       ClusterARNFor(region, account, name),
		Region:    region,
		Account:   account,
		instIndex: map[string]*Instance{},
		svcIndex:  map[string]*Service{},
		taskIndex: map[string]*Task{},
	}
}

// Instances returns the container instances in registration order (do not modify the
// slice).
func (c *Cluster) Instances() []*Instance { return c.instances }

// Services returns the services in creation order (do not modify the slice).
func (c *Cluster) Services() []*Service { return c.services }

// AllTasks returns every task the cluster knows, stopped ones included, in the order
// they were added (do not modify the slice).
func (c *Cluster) AllTasks() []*Task { return c.tasks }

// Instance finds a container instance by ARN or ID.
func (c *Cluster) Instance(id string) *Instance { return c.instIndex[id] }

// Service finds a service by name or ARN.
func (c *Cluster) Service(id string) *Service { return c.svcIndex[id] }

// Task finds a task by ARN or ID.
func (c *Cluster) Task(id string) *Task {
	t := c.taskIndex[lastSegment(id)]
	if t != nil && id != t.ID() && id != t.ARN {
		return nil // an ARN whose last segment matches another task's ID
	}
	return t
}

// ServiceOf returns the service a task belongs to through its group, or nil.
func (c *Cluster) ServiceOf(t *Task) *Service {
	if name := t.ServiceName(); name != "" {
		return c.svcIndex[name]
	}
	return nil
}

// AddInstance registers a container instance. Its Remaining resources are taken as
// given: they already account for the tasks added to it afterwards.
func (c *Cluster) AddInstance(i *Instance) error {
	if i.ARN == "" {
		return errors.New("container instance without containerInstanceArn")
	}
	if c.instIndex[i.ARN] != nil || c.instIndex[i.ID()] != nil {
		return fmt.Errorf("duplicate container instance %s", i.ARN)
	}
	if v, ok := i.Attribute(ZoneAttribute); ok {
		i.Zone = v
	}
	if i.Registered.ENIs == 0 {
		// ECS reports no interface count: a new instance has its type's all free.
		i.Registered.ENIs, _ = ENILimit(i)
		i.Remaining.ENIs = i.Registered.ENIs
	}
	i.tasks = taskSet{}
	i.running, i.pending = 0, 0
	i.pos = len(c.instances)
	c.denseFor = nil
	c.instances = append(c.instances, i)
	c.instIndex[i.ARN] = i
	c.instIndex[i.ID()] = i
	return nil
}

// AddService adds a service.
func (c *Cluster) AddService(s *Service) error {
	if s.Name == "" {
		return fmt.Errorf("service %q without serviceName", s.ARN)
	}
	if c.svcIndex[s.Name] != nil || (s.ARN != "" && c.svcIndex[s.ARN] != nil) {
		return fmt.Errorf("duplicate service %s", s.Name)
	}
	s.tasks = taskSet{}
	s.running, s.pending = 0, 0
	s.onInstance, s.inZone = map[*Instance]int{}, map[string]int{}
	c.services = append(c.services, s)
	c.svcIndex[s.Name] = s
	if s.ARN != "" {
		c.svcIndex[s.ARN] = s
	}
	return nil
}

// AddTask adds an existing task without touching the instance's Remaining resources
// (a described instance already accounts for its tasks). Use StartTask for a task the
// scheduler places now.
func (c *Cluster) AddTask(t *Task) error {
	if t.ARN == "" {
		return errors.New("task without taskArn")
	}
	if c.taskIndex[t.ID()] != nil {
		return fmt.Errorf("duplicate task %s", t.ARN)
	}
	if t.InstanceARN != "" && c.instIndex[t.InstanceARN] == nil {
		return fmt.Errorf("task %s is on container instance %s, which is not in the cluster", t.ARN, t.InstanceARN)
	}
	if name := t.ServiceName(); name != "" && c.svcIndex[name] == nil {
		return fmt.Errorf("task %s belongs to service %s, which is not in the cluster", t.ARN, name)
	}
	t.seq = len(c.tasks)
	t.epoch = c.journal.epoch // new since the checkpoint: a rollback drops it, nothing to save
	c.tasks = append(c.tasks, t)
	c.taskIndex[t.ID()] = t
	if t.Live() {
		c.link(t, +1)
	}
	return nil
}

// StartTask adds a task the scheduler has just placed: it reserves its resources on its
// instance.
func (c *Cluster) StartTask(t *Task) error {
	if err := c.AddTask(t); err != nil {
		return err
	}
	if i := c.instIndex[t.InstanceARN]; i != nil && t.Live() {
		c.ChangingInstance(i)
		i.Remaining = i.Remaining.Sub(t.Size)
		i.Version++
	}
	return nil
}

// SetRunning moves a PENDING task to RUNNING.
func (c *Cluster) SetRunning(t *Task, at time.Time) {
	if t.LastStatus != TaskPending {
		return
	}
	c.ChangingTask(t)
	c.link(t, -1)
	t.LastStatus = TaskRunning
	t.StartedAt = at
	t.Version++
	c.link(t, +1)
	if i := c.instIndex[t.InstanceARN]; i != nil {
		i.Version++
	}
}

// StopTask stops a live task and releases its resources.
func (c *Cluster) StopTask(t *Task, at time.Time, reason string) {
	if !t.Live() {
		return
	}
	c.ChangingTask(t)
	c.link(t, -1)
	t.LastStatus = TaskStopped
	t.DesiredStatus = TaskStopped
	t.StoppedAt = at
	t.StoppedReason = reason
	t.StopCode = "ServiceSchedulerInitiated"
	t.Version++
	if i := c.instIndex[t.InstanceARN]; i != nil {
		c.ChangingInstance(i)
		i.Remaining = i.Remaining.Add(t.Size)
		i.Version++
	}
}

// link adds (+1) or removes (-1) a live task from the per-instance and per-service
// indexes and counters.
func (c *Cluster) link(t *Task, d int) {
	pending := 0
	if t.LastStatus == TaskPending {
		pending = 1
	}
	running := 0
	if t.LastStatus == TaskRunning {
		running = 1
	}
	desiredRunning := 0
	if t.DesiredStatus == TaskRunning {
		desiredRunning = 1
	}
	c.ChangingTask(t)
	i := c.instIndex[t.InstanceARN]
	if i != nil {
		c.ChangingInstance(i)
		if d > 0 {
			i.tasks[t] = struct{}{}
		} else {
			delete(i.tasks, t)
		}
		i.running += d * desiredRunning
		i.pending += d * pending
	}
	if s := c.ServiceOf(t); s != nil {
		c.ChangingService(s)
		if d > 0 {
			s.tasks[t] = struct{}{}
		} else {
			delete(s.tasks, t)
		}
		s.running += d * running
		s.pending += d * pending
		if d > 0 {
			// The zone the task is counted in is kept with it, so it leaves the same
			// count it joined even if the instance's zone attribute changes meanwhile.
			t.zone, t.inst = t.AvailabilityZone, i
			if i != nil {
				t.zone = i.Zone
			}
		}
		if i != nil {
			bump(s.onInstance, i, d)
			if s == c.denseFor {
				c.dense[i.pos] += int32(d)
			}
		}
		if t.zone != "" {
			bump(s.inZone, t.zone, d)
		}
	}
}

// bump adds d to m[k], deleting the key at zero so the map only holds live counts.
func bump[K comparable](m map[K]int, k K, d int) {
	if n := m[k] + d; n != 0 {
		m[k] = n
	} else {
		delete(m, k)
	}
}

// Validate checks the cluster for contradictions a real ECS cluster cannot have and
// returns every problem it finds, each naming the item.
func (c *Cluster) Validate() error {
	var errs []error
	for _, i := range c.instances {
		if i.Remaining.CPU < 0 || i.Remaining.Memory < 0 {
			errs = append(errs, fmt.Errorf("container instance %s: negative remaining resources (cpu %d, memory %d)", i.ARN, i.Remaining.CPU, i.Remaining.Memory))
		}
		if i.Remaining.CPU > i.Registered.CPU || i.Remaining.Memory > i.Registered.Memory {
			errs = append(errs, fmt.Errorf("container instance %s: remaining resources (cpu %d, memory %d) exceed registered (cpu %d, memory %d)", i.ARN, i.Remaining.CPU, i.Remaining.Memory, i.Registered.CPU, i.Registered.Memory))
		}
		var used Resources
		for t := range i.tasks {
			used = used.Add(t.Size)
		}
		if reserved := i.Registered.Sub(i.Remaining); !reserved.Fits(used) {
			errs = append(errs, fmt.Errorf("container instance %s: its tasks reserve cpu %d, memory %d but registered minus remaining is only cpu %d, memory %d", i.ARN, used.CPU, used.Memory, reserved.CPU, reserved.Memory))
		}
		if !slices.Contains(instanceStatuses, i.Status) {
			errs = append(errs, fmt.Errorf("container instance %s: unknown status %q", i.ARN, i.Status))
		}
	}
	for _, s := range c.services {
		errs = append(errs, validateService(s)...)
	}
	for _, t := range c.tasks {
		if t.Live() && t.InstanceARN == "" && t.LaunchType != LaunchFargate {
			if s := c.ServiceOf(t); s == nil || !s.OnFargate() {
				errs = append(errs, fmt.Errorf("task %s: no containerInstanceArn but not a Fargate task", t.ARN))
			}
		}
		if t.Size.CPU < 0 || t.Size.Memory < 0 {
			errs = append(errs, fmt.Errorf("task %s: negative cpu or memory", t.ARN))
		}
	}
	return errors.Join(errs...)
}

var instanceStatuses = []string{StatusActive, StatusDraining, StatusRegistering, StatusDeregistering, StatusRegistrationFailed, StatusInactive}

func validateService(s *Service) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("service %s: "+format, append([]any{s.Name}, args...)...))
	}
	switch s.SchedulingStrategy {
	case SchedulingReplica, SchedulingDaemon:
	default:
		bad("unknown schedulingStrategy %q", s.SchedulingStrategy)
	}
	switch s.DeploymentController {
	case ControllerECS, ControllerCodeDeploy, ControllerExternal:
	default:
		bad("unknown deploymentController %q", s.DeploymentController)
	}
	if s.DesiredCount < 0 {
		bad("negative desiredCount %d", s.DesiredCount)
	}
	if s.MinimumHealthyPercent < 0 || s.MinimumHealthyPercent > 100 {
		bad("minimumHealthyPercent %d outside 0-100", s.MinimumHealthyPercent)
	}
	if s.MaximumPercent < 0 {
		bad("negative maximumPercent %d", s.MaximumPercent)
	}
	primaries := 0
	ids := map[string]bool{}
	for _, d := range s.Deployments {
		if d.Status == DeploymentPrimary {
			primaries++
		}
		if ids[d.ID] {
			bad("duplicate deployment %s", d.ID)
		}
		ids[d.ID] = true
	}
	if len(s.Deployments) > 0 && primaries != 1 {
		bad("%d PRIMARY deployments, want exactly one", primaries)
	}
	for _, ps := range s.PlacementStrategy {
		if err := checkStrategy(ps); err != nil {
			bad("%v", err)
		}
	}
	for _, pc := range s.PlacementConstraints {
		if _, err := parseConstraint(pc); err != nil {
			bad("%v", err)
		}
	}
	return errs
}

// Clone returns a deep copy: a simulated world that must not touch the original (the
// comparison, tests).
func (c *Cluster) Clone() *Cluster {
	// A copy can hold 50,000 tasks (ECS's maximums): sizing the
	// indexes up front saves their rehashing.
	n := New(c.Name, c.Region, c.Account)
	n.ARN = c.ARN
	n.instances, n.instIndex = make([]*Instance, 0, len(c.instances)), make(map[string]*Instance, len(c.instIndex))
	n.services, n.svcIndex = make([]*Service, 0, len(c.services)), make(map[string]*Service, len(c.svcIndex))
	n.tasks, n.taskIndex = make([]*Task, 0, len(c.tasks)), make(map[string]*Task, len(c.taskIndex))
	for _, i := range c.instances {
		ci := *i
		ci.epoch = 0
		ci.Attributes = slices.Clone(i.Attributes)
		ci.ReservedPorts = slices.Clone(i.ReservedPorts)
		ci.heldPorts = slices.Clone(i.heldPorts)
		_ = n.AddInstance(&ci) // cannot fail: the source had no duplicates
		ci.Remaining = i.Remaining
		ci.tasks = make(taskSet, len(i.tasks))
	}
	for _, s := range c.services {
		cs := *s
		cs.epoch = 0
		cs.CapacityProviderStrategy = slices.Clone(s.CapacityProviderStrategy)
		cs.PlacementStrategy = slices.Clone(s.PlacementStrategy)
		cs.PlacementConstraints = slices.Clone(s.PlacementConstraints)
		cs.Tags = slices.Clone(s.Tags)
		cs.LoadBalancers = slices.Clone(s.LoadBalancers)
		cs.HostPorts = slices.Clone(s.HostPorts)
		if s.CircuitBreaker != nil {
			cb := *s.CircuitBreaker
			cs.CircuitBreaker = &cb
		}
		cs.Deployments = make([]*Deployment, len(s.Deployments))
		for k, d := range s.Deployments {
			cd := *d
			cs.Deployments[k] = &cd
		}
		_ = n.AddService(&cs)
		cs.tasks = make(taskSet, len(s.tasks))
		cs.onInstance = make(map[*Instance]int, len(s.onInstance))
	}
	// The tasks go into one allocation, and skip AddTask's checks: the source already
	// passed them. Linking points live tasks at the copy's instances.
	tasks := make([]Task, len(c.tasks))
	for k, t := range c.tasks {
		tasks[k] = *t
		ct := &tasks[k]
		ct.inst, ct.epoch = nil, 0
		n.tasks = append(n.tasks, ct)
		n.taskIndex[ct.ID()] = ct
		if ct.Live() {
			n.link(ct, +1)
		}
	}
	return n
}

// Shift moves every timestamp of the cluster by d, so a snapshot recorded in the past
// can run in the present (instance registration, service and deployment times, task
// times).
func (c *Cluster) Shift(d time.Duration) {
	shift := func(t *time.Time) {
		if !t.IsZero() {
			*t = t.Add(d)
		}
	}
	for _, i := range c.instances {
		shift(&i.RegisteredAt)
	}
	for _, s := range c.services {
		shift(&s.CreatedAt)
		for _, dep := range s.Deployments {
			shift(&dep.CreatedAt)
			shift(&dep.UpdatedAt)
		}
	}
	for _, t := range c.tasks {
		shift(&t.CreatedAt)
		shift(&t.StartedAt)
		shift(&t.StoppedAt)
	}
}
