// Package snapshot reads and writes cluster snapshots (docs/simulator.md, "Snapshots"): JSON in
// the ECS API's own shapes, so a user can capture a real cluster with the AWS CLI and
// replay events against it.
package snapshot

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsclient"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsjson"
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
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var f file
	if err := ecsjson.Unmarshal(data, &f, ecsjson.IgnoreUnknown); err != nil {
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
	instances := make([]types.ContainerInstance, len(f.ContainerInstances))
	for k, it := range f.ContainerInstances {
		// ECS never lists a port that is not one: a snapshot that does was edited
		// by hand and is rejected, where a live read leaves such a port out.
		if _, err := ecsclient.RegisteredPorts(it.ContainerInstance); err != nil {
			errs = append(errs, fmt.Errorf("container instance %s: %w", aws.ToString(it.ContainerInstanceArn), err))
		}
		instances[k] = it.ContainerInstance
	}
	services := make([]types.Service, len(f.Services))
	for k, it := range f.Services {
		services[k] = it.Service
		if services[k].ClusterArn == nil {
			services[k].ClusterArn = &c.ARN
		}
	}
	notes, err := ecsclient.BuildCluster(c, instances, services, f.Tasks)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
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
		arns = append(arns, aws.ToString(s.ClusterArn), aws.ToString(s.ServiceArn))
	}
	for _, i := range f.ContainerInstances {
		arns = append(arns, aws.ToString(i.ContainerInstanceArn))
	}
	for _, t := range f.Tasks {
		arns = append(arns, aws.ToString(t.TaskArn))
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
	if s.Now != nil {
		out.Now = *s.Now
	}
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

// checkCounts compares the counts a snapshot states with the tasks it lists.
func checkCounts(f *file, c *cluster.Cluster) []error {
	var errs []error
	mismatch := func(item, field string, stated *int32, actual int) {
		if stated != nil && int(*stated) != actual {
			errs = append(errs, fmt.Errorf("%s: %s is %d but the snapshot lists %d such tasks", item, field, *stated, actual))
		}
	}
	for _, it := range f.ContainerInstances {
		i := c.Instance(aws.ToString(it.ContainerInstanceArn))
		mismatch("container instance "+i.ARN, "runningTasksCount", it.RunningTasksCount, i.RunningTasksCount())
		mismatch("container instance "+i.ARN, "pendingTasksCount", it.PendingTasksCount, i.PendingTasksCount())
	}
	for _, it := range f.Services {
		s := c.Service(aws.ToString(it.ServiceName))
		mismatch("service "+s.Name, "runningCount", it.RunningCount, s.RunningCount())
		mismatch("service "+s.Name, "pendingCount", it.PendingCount, s.PendingCount())
	}
	return errs
}
