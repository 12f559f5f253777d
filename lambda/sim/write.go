package sim

import (
	"context"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsclient"
)

// UpdateService supports what the rebalancer and the baselines use: forceNewDeployment
// (a new deployment with the same task definition), taskDefinition (a new deployment
// with that one, recorded so tests can prove it never happens) and desiredCount. Any
// other field is an InvalidParameterException naming it, so a test never believes the
// simulator applied something it ignored. Services with a CODE_DEPLOY or EXTERNAL
// deployment controller reject new deployments through UpdateService, as ECS does.
func (s *Sim) UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, _ ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	return serve(ctx, s, "UpdateService", in, func(_ Fault) (*ecs.UpdateServiceOutput, error) {
		if err := s.checkCluster(in.Cluster); err != nil {
			return nil, err
		}
		if aws.ToString(in.Service) == "" {
			return nil, invalidParameter("Service cannot be empty.")
		}
		if field := unsupportedUpdate(in); field != "" {
			return nil, invalidParameter("The simulator does not support changing %s.", field)
		}
		svc := s.c.Service(*in.Service)
		if svc == nil {
			return nil, serviceNotFound()
		}
		if svc.Status != cluster.ServiceActive {
			return nil, serviceNotActive()
		}
		redeploy := in.ForceNewDeployment || (in.TaskDefinition != nil && *in.TaskDefinition != svc.TaskDefinition)
		if redeploy && svc.DeploymentController != cluster.ControllerECS {
			return nil, invalidParameter("Unable to start a new deployment on services with a %s deployment controller. Use AWS CodeDeploy or a task set to trigger a new deployment.", svc.DeploymentController)
		}
		if in.DesiredCount != nil {
			if *in.DesiredCount < 0 {
				return nil, invalidParameter("desiredCount cannot be negative.")
			}
			if svc.IsDaemon() {
				return nil, invalidParameter("The daemon scheduling strategy does not support a desired count for services.")
			}
			if from, ok := s.raisedFrom[svc]; *in.DesiredCount > svc.DesiredCount && !ok {
				s.raisedFrom[svc] = svc.DesiredCount
			} else if ok && *in.DesiredCount <= from {
				delete(s.raisedFrom, svc)
			}
			s.c.ChangingService(svc)
			svc.DesiredCount = *in.DesiredCount
			s.schedule(svc, s.now)
		}
		if redeploy {
			td := svc.TaskDefinition
			if in.TaskDefinition != nil {
				td = *in.TaskDefinition
			}
			s.attributeUnknownTasks(svc)
			s.newDeployment(svc, td)
		}
		return &ecs.UpdateServiceOutput{Service: ptr(ecsclient.ServiceToAPI(svc, false))}, nil
	})
}

func ptr[T any](v T) *T { return &v }

// attributeUnknownTasks gives tasks whose startedBy names no listed deployment to the
// current primary, so the next deployment replaces them too.
func (s *Sim) attributeUnknownTasks(svc *cluster.Service) {
	p := svc.Primary()
	if p == nil {
		return
	}
	for _, t := range svc.Tasks() {
		if !hasDeployment(svc, t.StartedBy) {
			s.c.ChangingTask(t)
			t.StartedBy = p.ID
		}
	}
}

func unsupportedUpdate(in *ecs.UpdateServiceInput) string {
	switch {
	case in.AvailabilityZoneRebalancing != "":
		return "availabilityZoneRebalancing"
	case in.CapacityProviderStrategy != nil:
		return "capacityProviderStrategy"
	case in.DeploymentConfiguration != nil:
		return "deploymentConfiguration"
	case in.DeploymentController != nil:
		return "deploymentController"
	case in.EnableECSManagedTags != nil, in.EnableExecuteCommand != nil, in.PropagateTags != "":
		return "tagging or execute-command settings"
	case in.HealthCheckGracePeriodSeconds != nil:
		return "healthCheckGracePeriodSeconds"
	case in.LoadBalancers != nil, in.ServiceRegistries != nil, in.ServiceConnectConfiguration != nil, in.VpcLatticeConfigurations != nil, in.GatewayConnectors != nil:
		return "networking integrations"
	case in.NetworkConfiguration != nil, in.PlatformVersion != nil:
		return "networkConfiguration or platformVersion"
	case in.PlacementConstraints != nil, in.PlacementStrategy != nil:
		return "placement"
	case in.VolumeConfigurations != nil, in.Monitoring != nil:
		return "volumes or monitoring"
	}
	return ""
}

// UpdateContainerInstancesState sets up to 10 instances ACTIVE or DRAINING. Only
// ACTIVE and DRAINING instances can change: the API reference says any other status
// gets an error, which the simulator returns for the whole call (InvalidParameter)
// before changing anything. Unknown instances are MISSING failures.
func (s *Sim) UpdateContainerInstancesState(ctx context.Context, in *ecs.UpdateContainerInstancesStateInput, _ ...func(*ecs.Options)) (*ecs.UpdateContainerInstancesStateOutput, error) {
	return serve(ctx, s, "UpdateContainerInstancesState", in, func(f Fault) (*ecs.UpdateContainerInstancesStateOutput, error) {
		if err := s.checkBatch(in.Cluster, len(in.ContainerInstances), ecsclient.MaxUpdateInstancesState, "containerInstances"); err != nil {
			return nil, err
		}
		to := string(in.Status)
		if to != cluster.StatusActive && to != cluster.StatusDraining {
			return nil, invalidParameter("Container instances can only be updated to ACTIVE or DRAINING, not %q.", to)
		}
		for _, id := range in.ContainerInstances {
			if i := s.instance(id); i != nil && i.Status != cluster.StatusActive && i.Status != cluster.StatusDraining {
				return nil, invalidParameter("Container instance %s is in %s status; only ACTIVE or DRAINING instances can be updated.", i.ARN, i.Status)
			}
		}
		out := &ecs.UpdateContainerInstancesStateOutput{}
		out.ContainerInstances, out.Failures = describe(s, f, "container-instance", in.ContainerInstances, s.instance,
			func(i *cluster.Instance) types.ContainerInstance {
				if i.Status != to {
					s.c.ChangingInstance(i)
					i.Status = to
					s.instanceChanged(i)
				}
				return ecsclient.InstanceToAPI(i)
			})
		return out, nil
	})
}

// Attribute rules (ECS Developer Guide, "Attributes"): names 1-128 characters of
// letters, digits, hyphens, underscores, forward slashes and periods; values 1-128 of
// letters, digits, hyphens, underscores, periods, at signs, slashes, back slashes,
// colons and spaces, without leading or trailing whitespace.
var (
	attrName  = regexp.MustCompile(`^[A-Za-z0-9_./-]{1,128}$`)
	attrValue = regexp.MustCompile(`^[A-Za-z0-9_.@/\\: -]{1,128}$`)
)

// builtIn reports an agent-managed attribute, which the custom-attribute limit does not
// count.
func builtIn(name string) bool {
	return strings.HasPrefix(name, "ecs.") || strings.HasPrefix(name, "com.amazonaws.ecs.")
}

// PutAttributes creates or updates up to 10 attributes on container instances, all or
// nothing: a bad name or value is InvalidParameterException, an unknown target
// TargetNotFoundException, more than 10 custom attributes on one instance
// AttributeLimitExceededException.
func (s *Sim) PutAttributes(ctx context.Context, in *ecs.PutAttributesInput, _ ...func(*ecs.Options)) (*ecs.PutAttributesOutput, error) {
	return serve(ctx, s, "PutAttributes", in, func(_ Fault) (*ecs.PutAttributesOutput, error) {
		targets, err := s.checkAttributes(in.Cluster, in.Attributes, true)
		if err != nil {
			return nil, err
		}
		// The limit is checked on the result, before anything changes.
		custom := map[*cluster.Instance]map[string]bool{}
		for k, a := range in.Attributes {
			i := targets[k]
			if custom[i] == nil {
				custom[i] = map[string]bool{}
				for _, have := range i.Attributes {
					if !builtIn(have.Name) {
						custom[i][have.Name] = true
					}
				}
			}
			if !builtIn(*a.Name) {
				custom[i][*a.Name] = true
			}
			if len(custom[i]) > ecsclient.MaxCustomAttributes {
				return nil, attributeLimit(i.ARN)
			}
		}
		for k, a := range in.Attributes {
			s.c.ChangingInstance(targets[k])
			targets[k].SetAttribute(*a.Name, aws.ToString(a.Value))
			targets[k].Version++
		}
		return &ecs.PutAttributesOutput{Attributes: in.Attributes}, nil
	})
}

// DeleteAttributes removes up to 10 attributes; deleting an absent one is not an error.
func (s *Sim) DeleteAttributes(ctx context.Context, in *ecs.DeleteAttributesInput, _ ...func(*ecs.Options)) (*ecs.DeleteAttributesOutput, error) {
	return serve(ctx, s, "DeleteAttributes", in, func(_ Fault) (*ecs.DeleteAttributesOutput, error) {
		targets, err := s.checkAttributes(in.Cluster, in.Attributes, false)
		if err != nil {
			return nil, err
		}
		for k, a := range in.Attributes {
			s.c.ChangingInstance(targets[k])
			if targets[k].DeleteAttribute(*a.Name) {
				targets[k].Version++
			}
		}
		return &ecs.DeleteAttributesOutput{Attributes: in.Attributes}, nil
	})
}

// checkAttributes validates a PutAttributes or DeleteAttributes request and resolves
// each attribute's target instance.
func (s *Sim) checkAttributes(clusterName *string, attrs []types.Attribute, checkValue bool) ([]*cluster.Instance, error) {
	if err := s.checkBatch(clusterName, len(attrs), ecsclient.MaxAttributesPerCall, "attributes"); err != nil {
		return nil, err
	}
	targets := make([]*cluster.Instance, len(attrs))
	for k, a := range attrs {
		name := aws.ToString(a.Name)
		if !attrName.MatchString(name) {
			return nil, invalidParameter("Attribute name %q is invalid.", name)
		}
		if v := aws.ToString(a.Value); checkValue && a.Value != nil && (!attrValue.MatchString(v) || strings.TrimSpace(v) != v) {
			return nil, invalidParameter("Attribute value %q of %s is invalid.", v, name)
		}
		if a.TargetType != "" && string(a.TargetType) != ecsclient.TargetTypeInstance {
			return nil, invalidParameter("targetType %q is not supported.", a.TargetType)
		}
		id := aws.ToString(a.TargetId)
		if id == "" {
			return nil, invalidParameter("targetId is required for attribute %s.", name)
		}
		if targets[k] = s.instance(id); targets[k] == nil {
			return nil, targetNotFound(id)
		}
	}
	return targets, nil
}
