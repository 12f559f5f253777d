package snapshot

import (
	"encoding/json"
	"io"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
)

// Encode writes the cluster as a snapshot: live tasks only, the counts derived from
// them, two-space indentation. A zero Simulation writes no simulation block; a zero Now
// writes no now.
func Encode(w io.Writer, c *cluster.Cluster, sim Simulation) error {
	f := file{ClusterName: c.Name, ClusterArn: c.ARN}
	for _, i := range c.Instances() {
		f.ContainerInstances = append(f.ContainerInstances, instanceToJSON(i))
	}
	for _, s := range c.Services() {
		f.Services = append(f.Services, serviceToJSON(s))
	}
	for _, t := range c.AllTasks() {
		if t.Live() {
			f.Tasks = append(f.Tasks, taskToJSON(t))
		}
	}
	if !sim.IsZero() {
		f.Simulation = &simulationJSON{TaskStartSeconds: &sim.TaskStartSeconds, Now: timePtr(sim.Now), Seed: &sim.Seed}
		if len(sim.Timing) > 0 {
			f.Simulation.Services = make(map[string]serviceSimulationJSON, len(sim.Timing))
		}
		for name, o := range sim.Timing {
			f.Simulation.Services[name] = serviceSimulationJSON{StartSeconds: secondsOf(o.Start), StopTimeoutSeconds: secondsOf(o.StopTimeout), DeregistrationDelaySeconds: secondsOf(o.DeregistrationDelay)}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(f)
}

func secondsOf(d *time.Duration) *int {
	if d == nil {
		return nil
	}
	n := int(*d / time.Second)
	return &n
}

func instanceToJSON(i *cluster.Instance) instanceJSON {
	running, pending := i.RunningTasksCount(), i.PendingTasksCount()
	j := instanceJSON{
		ContainerInstanceArn: i.ARN,
		Ec2InstanceId:        i.EC2InstanceID,
		CapacityProviderName: i.CapacityProviderName,
		Version:              i.Version,
		RegisteredResources:  resourcesToJSON(i.Registered, i.ReservedPorts),
		RemainingResources:   resourcesToJSON(i.Remaining, i.UsedPorts()),
		Status:               i.Status,
		StatusReason:         i.StatusReason,
		AgentConnected:       i.AgentConnected,
		RunningTasksCount:    &running,
		PendingTasksCount:    &pending,
		RegisteredAt:         timePtr(i.RegisteredAt),
	}
	for _, a := range i.Attributes {
		j.Attributes = append(j.Attributes, attributeJSON{Name: a.Name, Value: a.Value})
	}
	return j
}

// resourcesToJSON writes CPU and MEMORY, and PORTS and PORTS_UDP where ports are
// given (ECS lists them on every instance; leaving out empty ones keeps snapshots
// that never had them as they were). ENIs are the model's own and not written.
func resourcesToJSON(r cluster.Resources, ports []cluster.HostPort) []resourceJSON {
	cpu, mem := r.CPU, r.Memory
	out := []resourceJSON{
		{Name: "CPU", Type: "INTEGER", IntegerValue: &cpu},
		{Name: "MEMORY", Type: "INTEGER", IntegerValue: &mem},
	}
	for _, k := range []struct{ name, protocol string }{{cluster.PortsResource, cluster.ProtocolTCP}, {cluster.PortsUDPResource, cluster.ProtocolUDP}} {
		if set := cluster.FormatPorts(ports, k.protocol); len(set) > 0 {
			out = append(out, resourceJSON{Name: k.name, Type: "STRINGSET", StringSetValue: set})
		}
	}
	return out
}

func serviceToJSON(s *cluster.Service) serviceJSON {
	running, pending := s.RunningCount(), s.PendingCount()
	minH, maxP := s.MinimumHealthyPercent, s.MaximumPercent
	j := serviceJSON{
		ServiceArn:                  s.ARN,
		ServiceName:                 s.Name,
		ClusterArn:                  s.ClusterARN,
		Status:                      s.Status,
		DesiredCount:                s.DesiredCount,
		RunningCount:                &running,
		PendingCount:                &pending,
		LaunchType:                  s.LaunchType,
		TaskDefinition:              s.TaskDefinition,
		DeploymentConfiguration:     &deploymentConfigJSON{MinimumHealthyPercent: &minH, MaximumPercent: &maxP, Strategy: s.DeploymentStrategy},
		SchedulingStrategy:          s.SchedulingStrategy,
		DeploymentController:        &deploymentControllerJSON{Type: s.DeploymentController},
		AvailabilityZoneRebalancing: s.AvailabilityZoneRebalancing,
		CreatedAt:                   timePtr(s.CreatedAt),
	}
	if cb := s.CircuitBreaker; cb != nil {
		j.DeploymentConfiguration.DeploymentCircuitBreaker = &circuitBreakerJSON{Enable: cb.Enable, Rollback: cb.Rollback}
	}
	if s.HealthCheckGracePeriod > 0 {
		g := int32(s.HealthCheckGracePeriod / time.Second)
		j.HealthCheckGracePeriod = &g
	}
	for _, lb := range s.LoadBalancers {
		j.LoadBalancers = append(j.LoadBalancers, loadBalancerJSON{TargetGroupArn: lb.TargetGroupARN, LoadBalancerName: lb.LoadBalancerName, ContainerName: lb.ContainerName, ContainerPort: lb.ContainerPort})
	}
	for _, it := range s.CapacityProviderStrategy {
		j.CapacityProviderStrategy = append(j.CapacityProviderStrategy, capacityProviderJSON{CapacityProvider: it.Provider, Base: it.Base, Weight: it.Weight})
	}
	for _, d := range s.Deployments {
		j.Deployments = append(j.Deployments, deploymentJSON{
			ID: d.ID, Status: d.Status, TaskDefinition: d.TaskDefinition,
			DesiredCount: d.DesiredCount, PendingCount: d.PendingCount, RunningCount: d.RunningCount, FailedTasks: d.FailedTasks,
			CreatedAt: timePtr(d.CreatedAt), UpdatedAt: timePtr(d.UpdatedAt), LaunchType: d.LaunchType,
			RolloutState: d.RolloutState, RolloutStateReason: d.RolloutStateReason,
		})
	}
	for _, p := range s.PlacementConstraints {
		j.PlacementConstraints = append(j.PlacementConstraints, placementConstraintJSON{Type: p.Type, Expression: p.Expression})
	}
	for _, p := range s.PlacementStrategy {
		j.PlacementStrategy = append(j.PlacementStrategy, placementStrategyJSON{Type: p.Type, Field: p.Field})
	}
	for _, t := range s.Tags {
		j.Tags = append(j.Tags, tagJSON{Key: t.Key, Value: t.Value})
	}
	return j
}

func taskToJSON(t *cluster.Task) taskJSON {
	j := taskJSON{
		TaskArn:              t.ARN,
		ClusterArn:           t.ClusterARN,
		ContainerInstanceArn: t.InstanceARN,
		Group:                t.Group,
		LastStatus:           t.LastStatus,
		DesiredStatus:        t.DesiredStatus,
		Cpu:                  cluster.FormatSize(t.Size.CPU),
		Memory:               cluster.FormatSize(t.Size.Memory),
		StartedBy:            t.StartedBy,
		LaunchType:           t.LaunchType,
		CapacityProviderName: t.CapacityProviderName,
		TaskDefinitionArn:    t.TaskDefinitionARN,
		AvailabilityZone:     t.AvailabilityZone,
		Version:              t.Version,
		CreatedAt:            timePtr(t.CreatedAt),
		StartedAt:            timePtr(t.StartedAt),
	}
	if len(t.HostPorts) > 0 {
		c := containerJSON{}
		for _, p := range t.HostPorts {
			port := p.Port
			c.NetworkBindings = append(c.NetworkBindings, networkBindingJSON{HostPort: &port, Protocol: p.Protocol})
		}
		j.Containers = []containerJSON{c}
	}
	if t.Size.ENIs > 0 {
		j.Attachments = []attachmentJSON{{Type: cluster.ENIAttachment, Status: "ATTACHED"}}
	}
	return j
}
