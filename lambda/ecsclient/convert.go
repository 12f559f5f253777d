package ecsclient

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
)

// InstanceToAPI is the container instance as DescribeContainerInstances returns it.
func InstanceToAPI(i *cluster.Instance) types.ContainerInstance {
	out := types.ContainerInstance{
		ContainerInstanceArn: aws.String(i.ARN),
		Ec2InstanceId:        nonEmpty(i.EC2InstanceID),
		Status:               aws.String(i.Status),
		StatusReason:         nonEmpty(i.StatusReason),
		AgentConnected:       i.AgentConnected,
		RegisteredAt:         timeRef(i.RegisteredAt),
		RegisteredResources:  resourcesToAPI(i.Registered, i.ReservedPorts),
		RemainingResources:   resourcesToAPI(i.Remaining, i.UsedPorts()),
		RunningTasksCount:    int32(i.RunningTasksCount()),
		PendingTasksCount:    int32(i.PendingTasksCount()),
		CapacityProviderName: nonEmpty(i.CapacityProviderName),
		Version:              i.Version,
	}
	for _, a := range i.Attributes {
		out.Attributes = append(out.Attributes, types.Attribute{Name: aws.String(a.Name), Value: nonEmpty(a.Value)})
	}
	return out
}

// InstanceFromAPI builds the model of a described container instance. Its task
// counters come from the tasks added to the cluster afterwards. ECS reports no
// interface count, so an instance read on its own is not limited by interfaces; a
// read of the whole cluster counts them from its tasks (Cluster.DeriveUnreported).
func InstanceFromAPI(ci types.ContainerInstance) *cluster.Instance {
	i := &cluster.Instance{
		ARN:                  aws.ToString(ci.ContainerInstanceArn),
		EC2InstanceID:        aws.ToString(ci.Ec2InstanceId),
		Status:               aws.ToString(ci.Status),
		StatusReason:         aws.ToString(ci.StatusReason),
		AgentConnected:       ci.AgentConnected,
		RegisteredAt:         aws.ToTime(ci.RegisteredAt),
		Registered:           resourcesFromAPI(ci.RegisteredResources),
		Remaining:            resourcesFromAPI(ci.RemainingResources),
		CapacityProviderName: aws.ToString(ci.CapacityProviderName),
		Version:              ci.Version,
	}
	i.Registered.ENIs, i.Remaining.ENIs = cluster.NoENILimit, cluster.NoENILimit
	for _, a := range ci.Attributes {
		i.SetAttribute(aws.ToString(a.Name), aws.ToString(a.Value)) // the zone too: reads that add no instance to a cluster need it
	}
	// ECS lists only valid ports; one it could not have sent is left out rather than
	// failing the read.
	i.ReservedPorts, _ = RegisteredPorts(ci)
	return i
}

// RegisteredPorts reads the host ports the instance keeps for itself (its registered
// PORTS and PORTS_UDP). A value that is not a port is left out, and the error names
// it.
func RegisteredPorts(ci types.ContainerInstance) ([]cluster.HostPort, error) {
	var out []cluster.HostPort
	var errs []error
	for _, r := range ci.RegisteredResources {
		ports, err := cluster.ReservedPorts(aws.ToString(r.Name), r.StringSetValue)
		if err != nil {
			errs = append(errs, fmt.Errorf("registered %s: %w", aws.ToString(r.Name), err))
		}
		out = append(out, ports...)
	}
	return out, errors.Join(errs...)
}

// resourcesToAPI lists CPU, MEMORY, PORTS and PORTS_UDP, as ECS does; the model's
// ENIs are its own.
func resourcesToAPI(r cluster.Resources, ports []cluster.HostPort) []types.Resource {
	return []types.Resource{
		integerResource("CPU", r.CPU),
		integerResource("MEMORY", r.Memory),
		{Name: aws.String(cluster.PortsResource), Type: aws.String("STRINGSET"), StringSetValue: cluster.FormatPorts(ports, cluster.ProtocolTCP)},
		{Name: aws.String(cluster.PortsUDPResource), Type: aws.String("STRINGSET"), StringSetValue: cluster.FormatPorts(ports, cluster.ProtocolUDP)},
	}
}

// integerResource writes a value as ECS does, in integerValue; one too large for it
// (never seen from ECS) goes to longValue, so that it reads back the same.
func integerResource(name string, v int64) types.Resource {
	r := types.Resource{Name: aws.String(name), Type: aws.String("INTEGER")}
	if v == int64(int32(v)) {
		r.IntegerValue = int32(v)
	} else {
		r.LongValue = v
	}
	return r
}

// resourcesFromAPI keeps CPU and MEMORY, from whichever of integerValue, longValue and
// doubleValue is set (ECS sends all three, the unused ones zero); GPUs are not
// modelled, and ports are read by InstanceFromAPI.
func resourcesFromAPI(rs []types.Resource) cluster.Resources {
	var out cluster.Resources
	for _, r := range rs {
		var v int64
		switch {
		case r.IntegerValue != 0:
			v = int64(r.IntegerValue)
		case r.LongValue != 0:
			v = r.LongValue
		default:
			// Clamped: a float beyond int64 has no defined conversion.
			v = int64(math.Round(min(max(r.DoubleValue, -1<<62), 1<<62)))
		}
		switch aws.ToString(r.Name) {
		case "CPU":
			out.CPU = v
		case "MEMORY":
			out.Memory = v
		}
	}
	return out
}

// ServiceToAPI is the service as DescribeServices returns it; tags only when asked for
// (include TAGS), as ECS does.
func ServiceToAPI(s *cluster.Service, withTags bool) types.Service {
	out := types.Service{
		ServiceArn:                  aws.String(s.ARN),
		ServiceName:                 aws.String(s.Name),
		ClusterArn:                  aws.String(s.ClusterARN),
		Status:                      aws.String(s.Status),
		SchedulingStrategy:          types.SchedulingStrategy(s.SchedulingStrategy),
		LaunchType:                  types.LaunchType(s.LaunchType),
		DeploymentController:        &types.DeploymentController{Type: types.DeploymentControllerType(s.DeploymentController)},
		DesiredCount:                s.DesiredCount,
		RunningCount:                int32(s.RunningCount()),
		PendingCount:                int32(s.PendingCount()),
		TaskDefinition:              nonEmpty(s.TaskDefinition),
		AvailabilityZoneRebalancing: types.AvailabilityZoneRebalancing(s.AvailabilityZoneRebalancing),
		CreatedAt:                   timeRef(s.CreatedAt),
		DeploymentConfiguration: &types.DeploymentConfiguration{
			MinimumHealthyPercent: aws.Int32(s.MinimumHealthyPercent),
			MaximumPercent:        aws.Int32(s.MaximumPercent),
			Strategy:              types.DeploymentStrategy(s.DeploymentStrategy),
		},
	}
	if s.HealthCheckGracePeriod > 0 {
		out.HealthCheckGracePeriodSeconds = aws.Int32(int32(s.HealthCheckGracePeriod / time.Second))
	}
	for _, lb := range s.LoadBalancers {
		out.LoadBalancers = append(out.LoadBalancers, types.LoadBalancer{
			TargetGroupArn: nonEmpty(lb.TargetGroupARN), LoadBalancerName: nonEmpty(lb.LoadBalancerName),
			ContainerName: nonEmpty(lb.ContainerName), ContainerPort: aws.Int32(lb.ContainerPort),
		})
	}
	if cb := s.CircuitBreaker; cb != nil {
		out.DeploymentConfiguration.DeploymentCircuitBreaker = &types.DeploymentCircuitBreaker{Enable: cb.Enable, Rollback: cb.Rollback}
	}
	for _, it := range s.CapacityProviderStrategy {
		out.CapacityProviderStrategy = append(out.CapacityProviderStrategy, types.CapacityProviderStrategyItem{CapacityProvider: aws.String(it.Provider), Base: it.Base, Weight: it.Weight})
	}
	for _, p := range s.PlacementStrategy {
		out.PlacementStrategy = append(out.PlacementStrategy, types.PlacementStrategy{Type: types.PlacementStrategyType(p.Type), Field: nonEmpty(p.Field)})
	}
	for _, p := range s.PlacementConstraints {
		out.PlacementConstraints = append(out.PlacementConstraints, types.PlacementConstraint{Type: types.PlacementConstraintType(p.Type), Expression: nonEmpty(p.Expression)})
	}
	for _, d := range s.Deployments {
		out.Deployments = append(out.Deployments, types.Deployment{
			Id: aws.String(d.ID), Status: aws.String(d.Status), TaskDefinition: nonEmpty(d.TaskDefinition),
			DesiredCount: d.DesiredCount, RunningCount: d.RunningCount, PendingCount: d.PendingCount, FailedTasks: d.FailedTasks,
			RolloutState: types.DeploymentRolloutState(d.RolloutState), RolloutStateReason: nonEmpty(d.RolloutStateReason),
			LaunchType: types.LaunchType(d.LaunchType), CreatedAt: timeRef(d.CreatedAt), UpdatedAt: timeRef(d.UpdatedAt),
		})
	}
	if withTags {
		for _, t := range s.Tags {
			out.Tags = append(out.Tags, types.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
		}
	}
	return out
}

// ServiceFromAPI builds the model of a described service, filling ECS's defaults for
// what DescribeServices leaves out.
func ServiceFromAPI(sv types.Service) *cluster.Service {
	s := &cluster.Service{
		ARN:                         aws.ToString(sv.ServiceArn),
		Name:                        aws.ToString(sv.ServiceName),
		ClusterARN:                  aws.ToString(sv.ClusterArn),
		Status:                      aws.ToString(sv.Status),
		SchedulingStrategy:          string(sv.SchedulingStrategy),
		LaunchType:                  string(sv.LaunchType),
		DesiredCount:                sv.DesiredCount,
		TaskDefinition:              aws.ToString(sv.TaskDefinition),
		AvailabilityZoneRebalancing: string(sv.AvailabilityZoneRebalancing),
		CreatedAt:                   aws.ToTime(sv.CreatedAt),
	}
	if sv.DeploymentController != nil {
		s.DeploymentController = string(sv.DeploymentController.Type)
	}
	cluster.FillServiceDefaults(s)
	s.MinimumHealthyPercent, s.MaximumPercent = cluster.DefaultPercents(s.SchedulingStrategy)
	if dc := sv.DeploymentConfiguration; dc != nil {
		if dc.MinimumHealthyPercent != nil {
			s.MinimumHealthyPercent = *dc.MinimumHealthyPercent
		}
		if dc.MaximumPercent != nil {
			s.MaximumPercent = *dc.MaximumPercent
		}
		s.DeploymentStrategy = string(dc.Strategy)
		if cb := dc.DeploymentCircuitBreaker; cb != nil {
			s.CircuitBreaker = &cluster.CircuitBreaker{Enable: cb.Enable, Rollback: cb.Rollback}
		}
	}
	if g := aws.ToInt32(sv.HealthCheckGracePeriodSeconds); g > 0 {
		s.HealthCheckGracePeriod = time.Duration(g) * time.Second
	}
	for _, lb := range sv.LoadBalancers {
		s.LoadBalancers = append(s.LoadBalancers, cluster.LoadBalancer{
			TargetGroupARN: aws.ToString(lb.TargetGroupArn), LoadBalancerName: aws.ToString(lb.LoadBalancerName),
			ContainerName: aws.ToString(lb.ContainerName), ContainerPort: aws.ToInt32(lb.ContainerPort),
		})
	}
	for _, it := range sv.CapacityProviderStrategy {
		s.CapacityProviderStrategy = append(s.CapacityProviderStrategy, cluster.CapacityProviderItem{Provider: aws.ToString(it.CapacityProvider), Base: it.Base, Weight: it.Weight})
	}
	for _, p := range sv.PlacementStrategy {
		s.PlacementStrategy = append(s.PlacementStrategy, cluster.PlacementStrategy{Type: string(p.Type), Field: aws.ToString(p.Field)})
	}
	for _, p := range sv.PlacementConstraints {
		s.PlacementConstraints = append(s.PlacementConstraints, cluster.PlacementConstraint{Type: string(p.Type), Expression: aws.ToString(p.Expression)})
	}
	for _, d := range sv.Deployments {
		s.Deployments = append(s.Deployments, &cluster.Deployment{
			ID: aws.ToString(d.Id), Status: aws.ToString(d.Status), TaskDefinition: aws.ToString(d.TaskDefinition),
			DesiredCount: d.DesiredCount, RunningCount: d.RunningCount, PendingCount: d.PendingCount, FailedTasks: d.FailedTasks,
			RolloutState: string(d.RolloutState), RolloutStateReason: aws.ToString(d.RolloutStateReason),
			LaunchType: string(d.LaunchType), CreatedAt: aws.ToTime(d.CreatedAt), UpdatedAt: aws.ToTime(d.UpdatedAt),
		})
	}
	for _, t := range sv.Tags {
		s.Tags = append(s.Tags, cluster.Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)})
	}
	return s
}

// TaskToAPI is the task as DescribeTasks returns it.
func TaskToAPI(t *cluster.Task) types.Task {
	out := types.Task{
		TaskArn:              aws.String(t.ARN),
		ClusterArn:           nonEmpty(t.ClusterARN),
		ContainerInstanceArn: nonEmpty(t.InstanceARN),
		Group:                nonEmpty(t.Group),
		LastStatus:           aws.String(t.LastStatus),
		DesiredStatus:        aws.String(t.DesiredStatus),
		Cpu:                  nonEmpty(cluster.FormatSize(t.Size.CPU)),
		Memory:               nonEmpty(cluster.FormatSize(t.Size.Memory)),
		StartedBy:            nonEmpty(t.StartedBy),
		LaunchType:           types.LaunchType(t.LaunchType),
		CapacityProviderName: nonEmpty(t.CapacityProviderName),
		TaskDefinitionArn:    nonEmpty(t.TaskDefinitionARN),
		AvailabilityZone:     nonEmpty(t.AvailabilityZone),
		CreatedAt:            timeRef(t.CreatedAt),
		StartedAt:            timeRef(t.StartedAt),
		StoppedAt:            timeRef(t.StoppedAt),
		StoppedReason:        nonEmpty(t.StoppedReason),
		StopCode:             types.TaskStopCode(t.StopCode),
		Version:              t.Version,
	}
	if len(t.HostPorts) > 0 {
		var c types.Container
		for _, p := range t.HostPorts {
			c.NetworkBindings = append(c.NetworkBindings, types.NetworkBinding{HostPort: aws.Int32(p.Port), Protocol: types.TransportProtocol(p.Protocol)})
		}
		out.Containers = []types.Container{c}
	}
	if t.Size.ENIs > 0 {
		out.Attachments = []types.Attachment{{Type: aws.String(cluster.ENIAttachment), Status: aws.String("ATTACHED")}}
	}
	return out
}

// interner shares equal strings: tens of thousands of tasks carry the same cluster,
// instance, task definition, group and deployment.
type interner map[string]string

func (in interner) of(p *string) string {
	s := aws.ToString(p)
	if v, ok := in[s]; ok {
		return v
	}
	in[s] = s
	return s
}

// TaskFromAPI builds the model of a described live task.
func TaskFromAPI(tk types.Task) (*cluster.Task, error) { return taskFromAPI(tk, interner{}) }

func taskFromAPI(tk types.Task, in interner) (*cluster.Task, error) {
	launch := string(tk.LaunchType)
	t := &cluster.Task{
		ARN:                  aws.ToString(tk.TaskArn),
		ClusterARN:           in.of(tk.ClusterArn),
		InstanceARN:          in.of(tk.ContainerInstanceArn),
		Group:                in.of(tk.Group),
		DesiredStatus:        in.of(tk.DesiredStatus),
		StartedBy:            in.of(tk.StartedBy),
		LaunchType:           in.of(&launch),
		CapacityProviderName: in.of(tk.CapacityProviderName),
		TaskDefinitionARN:    in.of(tk.TaskDefinitionArn),
		AvailabilityZone:     in.of(tk.AvailabilityZone),
		CreatedAt:            aws.ToTime(tk.CreatedAt),
		StartedAt:            aws.ToTime(tk.StartedAt),
		Version:              tk.Version,
	}
	var err error
	if t.LastStatus, err = cluster.NormalizeTaskStatus(in.of(tk.LastStatus), t.DesiredStatus); err != nil {
		return nil, fmt.Errorf("task %s: %w", t.ARN, err)
	}
	if t.Size.CPU, err = cluster.ParseCPU(aws.ToString(tk.Cpu)); err != nil {
		return nil, fmt.Errorf("task %s: %w", t.ARN, err)
	}
	if t.Size.Memory, err = cluster.ParseMemory(aws.ToString(tk.Memory)); err != nil {
		return nil, fmt.Errorf("task %s: %w", t.ARN, err)
	}
	cs := make([]cluster.Container, 0, len(tk.Containers))
	for _, c := range tk.Containers {
		mc := cluster.Container{Name: aws.ToString(c.Name), CPU: aws.ToString(c.Cpu), Memory: aws.ToString(c.Memory), MemoryReservation: aws.ToString(c.MemoryReservation)}
		for _, b := range c.NetworkBindings {
			if b.HostPort != nil { // a port range binds no port the model knows
				mc.Bindings = append(mc.Bindings, cluster.Binding{HostPort: *b.HostPort, Protocol: string(b.Protocol)})
			}
		}
		cs = append(cs, mc)
	}
	if err := cluster.FromContainers(t, cs); err != nil {
		return nil, fmt.Errorf("task %s: %w", t.ARN, err)
	}
	for _, a := range tk.Attachments {
		cluster.AttachENI(t, aws.ToString(a.Type))
	}
	return t, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func timeRef(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return aws.Time(t)
}

// BuildCluster assembles a model from described instances, services and tasks, as the
// reader gathers them. Services and tasks the cluster cannot hold (a task on an
// instance that was not described, say) are errors naming the item. The notes say what
// the model had to assume of what ECS does not report (Cluster.DeriveUnreported).
func BuildCluster(c *cluster.Cluster, instances []types.ContainerInstance, services []types.Service, tasks []types.Task) ([]string, error) {
	var errs []error
	for _, ci := range instances {
		if err := c.AddInstance(InstanceFromAPI(ci)); err != nil {
			errs = append(errs, err)
		}
	}
	for _, sv := range services {
		if err := c.AddService(ServiceFromAPI(sv)); err != nil {
			errs = append(errs, err)
		}
	}
	in := interner{}
	for _, tk := range tasks {
		t, err := taskFromAPI(tk, in)
		if err == nil {
			err = c.AddTask(t)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	notes := c.DeriveUnreported()
	return notes, errors.Join(errs...)
}
