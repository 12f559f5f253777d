// Package snapshot reads and writes cluster snapshots (docs/simulator.md, "Snapshots"): JSON in
// the ECS API's own shapes, so a user can capture a real cluster with the AWS CLI and
// replay events against it.
package snapshot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

// Defaults of the simulation block.
const (
	DefaultTaskStartSeconds = int(sim.DefaultTaskStart / time.Second)
	DefaultSeed             = 1
	defaultRegion           = "us-east-1"
	defaultAccount          = "000000000000"
)

// Simulation holds the snapshot's simulation settings with defaults applied. Now is
// zero when the snapshot does not set it (the replay then starts at the first event).
type Simulation struct {
	TaskStartSeconds int
	Now              time.Time
	Seed             int64
	// Timing overrides the estimated task timing of the services it names
	// (simulation.services).
	Timing map[string]cluster.TimingOverride
}

// IsZero reports a Simulation with nothing set.
func (s Simulation) IsZero() bool {
	return s.TaskStartSeconds == 0 && s.Now.IsZero() && s.Seed == 0 && len(s.Timing) == 0
}

// TaskStart is the time one wave of task starts takes.
func (s Simulation) TaskStart() time.Duration { return time.Duration(s.TaskStartSeconds) * time.Second }

// Options are the simulator options the block sets.
func (s Simulation) Options() sim.Options {
	return sim.Options{Now: s.Now, TaskStart: s.TaskStart(), Seed: uint64(s.Seed), Timing: s.Timing}
}

// Snapshot is a loaded snapshot.
type Snapshot struct {
	Cluster    *cluster.Cluster
	Simulation Simulation
	// Notes say what the model had to assume of what the file does not carry (an
	// instance type with no known ENI limit, say).
	Notes []string
}

// Load reads a snapshot file; errors name the file.
func Load(path string) (*Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Decode reads a snapshot. Unknown keys are ignored; a snapshot that contradicts itself
// is rejected with every problem found, each naming the item.
func Decode(r io.Reader) (*Snapshot, error) {
	var f file
	dec := json.NewDecoder(r)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("invalid snapshot JSON: %w", err)
	}
	if f.ClusterName == "" {
		return nil, errors.New("snapshot has no clusterName")
	}
	region, account := regionAccount(&f)
	c := cluster.New(f.ClusterName, region, account)
	if f.ClusterArn != "" {
		c.ARN = f.ClusterArn
	}

	var errs []error
	for k := range f.ContainerInstances {
		i, err := instanceFromJSON(&f.ContainerInstances[k])
		if err == nil {
			err = c.AddInstance(i)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	for k := range f.Services {
		if err := c.AddService(serviceFromJSON(&f.Services[k], c.ARN)); err != nil {
			errs = append(errs, err)
		}
	}
	for k := range f.Tasks {
		t, err := taskFromJSON(&f.Tasks[k])
		if err == nil {
			err = c.AddTask(t)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	notes := c.DeriveUnreported()
	errs = append(errs, checkCounts(&f, c)...)
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	sim, err := simulationFromJSON(f.Simulation)
	if err != nil {
		errs = append(errs, err)
	}
	for name := range sim.Timing {
		if c.Service(name) == nil {
			errs = append(errs, fmt.Errorf("simulation.services.%s: no such service in the snapshot", name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Snapshot{Cluster: c, Simulation: sim, Notes: notes}, nil
}

func regionAccount(f *file) (string, string) {
	arns := []string{f.ClusterArn}
	for _, s := range f.Services {
		arns = append(arns, s.ClusterArn, s.ServiceArn)
	}
	for _, i := range f.ContainerInstances {
		arns = append(arns, i.ContainerInstanceArn)
	}
	for _, t := range f.Tasks {
		arns = append(arns, t.TaskArn)
	}
	for _, a := range arns {
		if r, acct, ok := cluster.ARNParts(a); ok {
			return r, acct
		}
	}
	return defaultRegion, defaultAccount
}

func simulationFromJSON(s *simulationJSON) (Simulation, error) {
	out := Simulation{TaskStartSeconds: DefaultTaskStartSeconds, Seed: DefaultSeed}
	if s == nil {
		return out, nil
	}
	if s.TaskStartSeconds != nil {
		if *s.TaskStartSeconds < 1 || *s.TaskStartSeconds > 3600 {
			return out, fmt.Errorf("simulation.taskStartSeconds %d outside 1-3600", *s.TaskStartSeconds)
		}
		out.TaskStartSeconds = *s.TaskStartSeconds
	}
	out.Now = timeOf(s.Now)
	if s.Seed != nil {
		out.Seed = *s.Seed
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(s.Services)) {
		j := s.Services[name]
		var o cluster.TimingOverride
		seconds := func(key string, v *int, least int) *time.Duration {
			if v == nil {
				return nil
			}
			if *v < least || *v > maxTimingSeconds {
				errs = append(errs, fmt.Errorf("simulation.services.%s.%s %d outside %d-%d", name, key, *v, least, maxTimingSeconds))
				return nil
			}
			d := time.Duration(*v) * time.Second
			return &d
		}
		o.Start = seconds("startSeconds", j.StartSeconds, 1)
		o.StopTimeout = seconds("stopTimeoutSeconds", j.StopTimeoutSeconds, 0)
		o.DeregistrationDelay = seconds("deregistrationDelaySeconds", j.DeregistrationDelaySeconds, 0)
		if out.Timing == nil {
			out.Timing = map[string]cluster.TimingOverride{}
		}
		out.Timing[name] = o
	}
	return out, errors.Join(errs...)
}

// maxTimingSeconds bounds every timing knob: an hour is longer than any start or stop
// ECS lets run (the stop timeout's own maximum is 120 s, a deregistration delay's 3600).
const maxTimingSeconds = 3600

func instanceFromJSON(j *instanceJSON) (*cluster.Instance, error) {
	i := &cluster.Instance{
		ARN:                  j.ContainerInstanceArn,
		EC2InstanceID:        j.Ec2InstanceId,
		Status:               j.Status,
		StatusReason:         j.StatusReason,
		AgentConnected:       j.AgentConnected,
		RegisteredAt:         timeOf(j.RegisteredAt),
		Registered:           resourcesFromJSON(j.RegisteredResources),
		Remaining:            resourcesFromJSON(j.RemainingResources),
		CapacityProviderName: j.CapacityProviderName,
		Version:              j.Version,
	}
	for _, a := range j.Attributes {
		i.Attributes = append(i.Attributes, cluster.Attribute{Name: a.Name, Value: a.Value})
	}
	// The registered ports are those the instance keeps for itself; the remaining ones
	// add what its tasks bind, which the model takes from the tasks.
	for _, r := range j.RegisteredResources {
		ports, err := cluster.ReservedPorts(r.Name, r.StringSetValue)
		if err != nil {
			return nil, fmt.Errorf("container instance %s: registered %s: %w", i.ARN, r.Name, err)
		}
		i.ReservedPorts = append(i.ReservedPorts, ports...)
	}
	return i, nil
}

// resourcesFromJSON keeps CPU and MEMORY; GPUs are not modelled, and ports are read
// by instanceFromJSON.
func resourcesFromJSON(rs []resourceJSON) cluster.Resources {
	var out cluster.Resources
	for _, r := range rs {
		var v int64
		switch {
		case r.IntegerValue != nil:
			v = *r.IntegerValue
		case r.LongValue != nil:
			v = *r.LongValue
		case r.DoubleValue != nil:
			v = int64(math.Round(*r.DoubleValue))
		}
		switch r.Name {
		case "CPU":
			out.CPU = v
		case "MEMORY":
			out.Memory = v
		}
	}
	return out
}

func serviceFromJSON(j *serviceJSON, clusterARN string) *cluster.Service {
	s := &cluster.Service{
		ARN:                         j.ServiceArn,
		Name:                        j.ServiceName,
		ClusterARN:                  j.ClusterArn,
		Status:                      j.Status,
		SchedulingStrategy:          j.SchedulingStrategy,
		LaunchType:                  j.LaunchType,
		DesiredCount:                j.DesiredCount,
		TaskDefinition:              j.TaskDefinition,
		AvailabilityZoneRebalancing: j.AvailabilityZoneRebalancing,
		CreatedAt:                   timeOf(j.CreatedAt),
	}
	if s.ClusterARN == "" {
		s.ClusterARN = clusterARN
	}
	if j.DeploymentController != nil {
		s.DeploymentController = j.DeploymentController.Type
	}
	cluster.FillServiceDefaults(s)
	s.MinimumHealthyPercent, s.MaximumPercent = cluster.DefaultPercents(s.SchedulingStrategy)
	if dc := j.DeploymentConfiguration; dc != nil {
		if dc.MinimumHealthyPercent != nil {
			s.MinimumHealthyPercent = *dc.MinimumHealthyPercent
		}
		if dc.MaximumPercent != nil {
			s.MaximumPercent = *dc.MaximumPercent
		}
		s.DeploymentStrategy = dc.Strategy
		if cb := dc.DeploymentCircuitBreaker; cb != nil {
			s.CircuitBreaker = &cluster.CircuitBreaker{Enable: cb.Enable, Rollback: cb.Rollback}
		}
	}
	if j.HealthCheckGracePeriod != nil && *j.HealthCheckGracePeriod > 0 {
		s.HealthCheckGracePeriod = time.Duration(*j.HealthCheckGracePeriod) * time.Second
	}
	for _, lb := range j.LoadBalancers {
		s.LoadBalancers = append(s.LoadBalancers, cluster.LoadBalancer{TargetGroupARN: lb.TargetGroupArn, LoadBalancerName: lb.LoadBalancerName, ContainerName: lb.ContainerName, ContainerPort: lb.ContainerPort})
	}
	for _, it := range j.CapacityProviderStrategy {
		s.CapacityProviderStrategy = append(s.CapacityProviderStrategy, cluster.CapacityProviderItem{Provider: it.CapacityProvider, Base: it.Base, Weight: it.Weight})
	}
	for _, p := range j.PlacementStrategy {
		s.PlacementStrategy = append(s.PlacementStrategy, cluster.PlacementStrategy{Type: p.Type, Field: p.Field})
	}
	for _, p := range j.PlacementConstraints {
		s.PlacementConstraints = append(s.PlacementConstraints, cluster.PlacementConstraint{Type: p.Type, Expression: p.Expression})
	}
	for _, d := range j.Deployments {
		s.Deployments = append(s.Deployments, &cluster.Deployment{
			ID: d.ID, Status: d.Status, TaskDefinition: d.TaskDefinition,
			DesiredCount: d.DesiredCount, RunningCount: d.RunningCount, PendingCount: d.PendingCount, FailedTasks: d.FailedTasks,
			RolloutState: d.RolloutState, RolloutStateReason: d.RolloutStateReason, LaunchType: d.LaunchType,
			CreatedAt: timeOf(d.CreatedAt), UpdatedAt: timeOf(d.UpdatedAt),
		})
	}
	for _, t := range j.Tags {
		s.Tags = append(s.Tags, cluster.Tag{Key: t.Key, Value: t.Value})
	}
	return s
}

func taskFromJSON(j *taskJSON) (*cluster.Task, error) {
	t := &cluster.Task{
		ARN:                  j.TaskArn,
		ClusterARN:           j.ClusterArn,
		InstanceARN:          j.ContainerInstanceArn,
		Group:                j.Group,
		LastStatus:           j.LastStatus,
		DesiredStatus:        j.DesiredStatus,
		StartedBy:            j.StartedBy,
		LaunchType:           j.LaunchType,
		CapacityProviderName: j.CapacityProviderName,
		TaskDefinitionARN:    j.TaskDefinitionArn,
		AvailabilityZone:     j.AvailabilityZone,
		Version:              j.Version,
		CreatedAt:            timeOf(j.CreatedAt),
		StartedAt:            timeOf(j.StartedAt),
	}
	var err error
	if t.Size.CPU, err = cluster.ParseCPU(j.Cpu); err != nil {
		return nil, fmt.Errorf("task %s: %w", t.ARN, err)
	}
	if t.Size.Memory, err = cluster.ParseMemory(j.Memory); err != nil {
		return nil, fmt.Errorf("task %s: %w", t.ARN, err)
	}
	if t.LastStatus, err = cluster.NormalizeTaskStatus(j.LastStatus, j.DesiredStatus); err != nil {
		return nil, fmt.Errorf("task %s: %w", t.ARN, err)
	}
	cs := make([]cluster.Container, 0, len(j.Containers))
	for _, c := range j.Containers {
		mc := cluster.Container{Name: c.Name, CPU: c.Cpu, Memory: c.Memory, MemoryReservation: c.MemoryReservation}
		for _, b := range c.NetworkBindings {
			if b.HostPort != nil {
				mc.Bindings = append(mc.Bindings, cluster.Binding{HostPort: *b.HostPort, Protocol: b.Protocol})
			}
		}
		cs = append(cs, mc)
	}
	if err := cluster.FromContainers(t, cs); err != nil {
		return nil, fmt.Errorf("task %s: %w", t.ARN, err)
	}
	for _, a := range j.Attachments {
		cluster.AttachENI(t, a.Type)
	}
	return t, nil
}

// checkCounts compares the counts a snapshot states with the tasks it lists.
func checkCounts(f *file, c *cluster.Cluster) []error {
	var errs []error
	mismatch := func(item, field string, stated *int, actual int) {
		if stated != nil && *stated != actual {
			errs = append(errs, fmt.Errorf("%s: %s is %d but the snapshot lists %d such tasks", item, field, *stated, actual))
		}
	}
	for _, j := range f.ContainerInstances {
		i := c.Instance(j.ContainerInstanceArn)
		mismatch("container instance "+i.ARN, "runningTasksCount", j.RunningTasksCount, i.RunningTasksCount())
		mismatch("container instance "+i.ARN, "pendingTasksCount", j.PendingTasksCount, i.PendingTasksCount())
	}
	for _, j := range f.Services {
		s := c.Service(j.ServiceName)
		mismatch("service "+s.Name, "runningCount", j.RunningCount, s.RunningCount())
		mismatch("service "+s.Name, "pendingCount", j.PendingCount, s.PendingCount())
	}
	return errs
}
