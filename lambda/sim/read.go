package sim

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsclient"
)

// checkCluster accepts the cluster's name or ARN; no cluster means "default", as in
// every ECS call.
func (s *Sim) checkCluster(name *string) error {
	n := aws.ToString(name)
	if n == "" {
		n = "default"
	}
	if n != s.c.Name && n != s.c.ARN {
		return clusterNotFound()
	}
	return nil
}

// instance resolves a container instance ID, or an ARN in the long or the legacy
// (no cluster segment) format.
func (s *Sim) instance(id string) *cluster.Instance {
	if i := s.c.Instance(id); i != nil {
		return i
	}
	if strings.HasPrefix(id, "arn:") && strings.Contains(id, ":container-instance/") {
		return s.c.Instance(id[strings.LastIndexByte(id, '/')+1:])
	}
	return nil
}

func (s *Sim) task(id string) *cluster.Task {
	if t := s.c.Task(id); t != nil {
		return t
	}
	if strings.HasPrefix(id, "arn:") && strings.Contains(id, ":task/") {
		return s.c.Task(id[strings.LastIndexByte(id, '/')+1:])
	}
	return nil
}

// missingARN is the ARN ECS names in a MISSING failure: the caller's ARN, or the long
// form built from an ID.
func (s *Sim) missingARN(kind, id string) string {
	if strings.HasPrefix(id, "arn:") {
		return id
	}
	return fmt.Sprintf("arn:aws:ecs:%s:%s:%s/%s/%s", s.c.Region, s.c.Account, kind, s.c.Name, id)
}

func failure(arn, reason string) types.Failure {
	return types.Failure{Arn: aws.String(arn), Reason: aws.String(reason)}
}

// describe answers a batch of identifiers: each one's item, or a failure (the injected
// one, else MISSING for an identifier lookup does not know).
func describe[T, A any](s *Sim, f Fault, kind string, ids []string, lookup func(string) *T, answer func(*T) A) ([]A, []types.Failure) {
	items, failures := []A{}, []types.Failure{}
	for _, id := range ids {
		v := lookup(id)
		switch {
		case f.ItemFailure != "":
			failures = append(failures, failure(s.missingARN(kind, id), f.ItemFailure))
		case v == nil:
			failures = append(failures, failure(s.missingARN(kind, id), ecsclient.FailureMissing))
		default:
			items = append(items, answer(v))
		}
	}
	return items, failures
}

// pageSize validates maxResults (1-100) and applies the action's default.
func pageSize(max *int32, def int) (int, error) {
	if max == nil {
		return def, nil
	}
	if *max < 1 || *max > ecsclient.MaxPageSize {
		return 0, invalidParameter("maxResults must be between 1 and %d.", ecsclient.MaxPageSize)
	}
	return int(*max), nil
}

// page returns up to size items from the position the token names, and a token for the
// rest (nil when no matching item is left). Tokens are opaque to callers and tied to the
// action that issued them.
func page[T any](action string, items []T, match func(T) bool, token *string, size int) ([]T, *string, error) {
	start := 0
	if token != nil {
		raw, err := base64.RawURLEncoding.DecodeString(*token)
		prefix := action + ":"
		pos, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), prefix))
		if err != nil || err2 != nil || !strings.HasPrefix(string(raw), prefix) || pos < 0 || pos > len(items) {
			return nil, nil, invalidParameter("Invalid token %s", *token)
		}
		start = pos
	}
	var out []T
	k := start
	for ; k < len(items) && len(out) < size; k++ {
		if match(items[k]) {
			out = append(out, items[k])
		}
	}
	for rest := k; rest < len(items); rest++ {
		if match(items[rest]) {
			next := base64.RawURLEncoding.EncodeToString([]byte(action + ":" + strconv.Itoa(k)))
			return out, &next, nil
		}
	}
	return out, nil, nil
}

// ListContainerInstances lists instances in every status but INACTIVE unless status
// is given (ECS: "the default is to include container instances set to all states
// other than INACTIVE", so DRAINING ones are included). filter takes the cluster query
// language subset cluster.ParseQuery supports.
func (s *Sim) ListContainerInstances(ctx context.Context, in *ecs.ListContainerInstancesInput, _ ...func(*ecs.Options)) (*ecs.ListContainerInstancesOutput, error) {
	return serve(ctx, s, "ListContainerInstances", in, func(_ Fault) (*ecs.ListContainerInstancesOutput, error) {
		if err := s.checkCluster(in.Cluster); err != nil {
			return nil, err
		}
		size, err := pageSize(in.MaxResults, ecsclient.DefaultListInstancesPage)
		if err != nil {
			return nil, err
		}
		match := func(i *cluster.Instance) bool { return i.Status != cluster.StatusInactive }
		if in.Status != "" {
			match = func(i *cluster.Instance) bool { return i.Status == string(in.Status) }
		}
		if in.Filter != nil {
			q, err := cluster.ParseQuery(*in.Filter)
			if err != nil {
				return nil, invalidParameter("Invalid filter: %v", err)
			}
			byStatus := match
			match = func(i *cluster.Instance) bool { return byStatus(i) && q(i) }
		}
		items, next, err := page("ListContainerInstances", s.c.Instances(), match, in.NextToken, size)
		if err != nil {
			return nil, err
		}
		out := &ecs.ListContainerInstancesOutput{NextToken: next, ContainerInstanceArns: []string{}}
		for _, i := range items {
			out.ContainerInstanceArns = append(out.ContainerInstanceArns, i.ARN)
		}
		return out, nil
	})
}

// DescribeContainerInstances describes up to 100 instances; unknown ones come back as
// MISSING failures, not as an error.
func (s *Sim) DescribeContainerInstances(ctx context.Context, in *ecs.DescribeContainerInstancesInput, _ ...func(*ecs.Options)) (*ecs.DescribeContainerInstancesOutput, error) {
	return serve(ctx, s, "DescribeContainerInstances", in, func(f Fault) (*ecs.DescribeContainerInstancesOutput, error) {
		if err := s.checkBatch(in.Cluster, len(in.ContainerInstances), ecsclient.MaxDescribeInstances, "containerInstances"); err != nil {
			return nil, err
		}
		out := &ecs.DescribeContainerInstancesOutput{}
		out.ContainerInstances, out.Failures = describe(s, f, "container-instance", in.ContainerInstances, s.instance, ecsclient.InstanceToAPI)
		return out, nil
	})
}

// checkBatch validates the cluster and a batch size of 1..limit.
func (s *Sim) checkBatch(clusterName *string, n, limit int, what string) error {
	if err := s.checkCluster(clusterName); err != nil {
		return err
	}
	if n == 0 {
		return invalidParameter("%s can not be empty.", what)
	}
	if n > limit {
		return invalidParameter("%s cannot have more than %d entries.", what, limit)
	}
	return nil
}

// ListServices lists ACTIVE services, 10 a page unless maxResults says otherwise.
func (s *Sim) ListServices(ctx context.Context, in *ecs.ListServicesInput, _ ...func(*ecs.Options)) (*ecs.ListServicesOutput, error) {
	return serve(ctx, s, "ListServices", in, func(_ Fault) (*ecs.ListServicesOutput, error) {
		if err := s.checkCluster(in.Cluster); err != nil {
			return nil, err
		}
		size, err := pageSize(in.MaxResults, ecsclient.DefaultListServicesPage)
		if err != nil {
			return nil, err
		}
		match := func(svc *cluster.Service) bool {
			return svc.Status == cluster.ServiceActive &&
				(in.LaunchType == "" || string(in.LaunchType) == svc.LaunchType) &&
				(in.SchedulingStrategy == "" || string(in.SchedulingStrategy) == svc.SchedulingStrategy)
		}
		items, next, err := page("ListServices", s.c.Services(), match, in.NextToken, size)
		if err != nil {
			return nil, err
		}
		out := &ecs.ListServicesOutput{NextToken: next, ServiceArns: []string{}}
		for _, svc := range items {
			out.ServiceArns = append(out.ServiceArns, svc.ARN)
		}
		return out, nil
	})
}

// DescribeServices describes up to 10 services by name or ARN; tags only with include
// TAGS; unknown ones are MISSING failures.
func (s *Sim) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	return serve(ctx, s, "DescribeServices", in, func(f Fault) (*ecs.DescribeServicesOutput, error) {
		if err := s.checkBatch(in.Cluster, len(in.Services), ecsclient.MaxDescribeServices, "services"); err != nil {
			return nil, err
		}
		withTags := slices.Contains(in.Include, types.ServiceFieldTags)
		out := &ecs.DescribeServicesOutput{}
		out.Services, out.Failures = describe(s, f, "service", in.Services, s.c.Service,
			func(svc *cluster.Service) types.Service { return ecsclient.ServiceToAPI(svc, withTags) })
		return out, nil
	})
}

// ListTasks lists tasks by desired status (RUNNING unless told; PENDING is accepted and
// matches nothing, as ECS documents), filtered by instance, service, family, launch
// type or startedBy (which must be the only filter).
func (s *Sim) ListTasks(ctx context.Context, in *ecs.ListTasksInput, _ ...func(*ecs.Options)) (*ecs.ListTasksOutput, error) {
	return serve(ctx, s, "ListTasks", in, func(_ Fault) (*ecs.ListTasksOutput, error) {
		if err := s.checkCluster(in.Cluster); err != nil {
			return nil, err
		}
		size, err := pageSize(in.MaxResults, ecsclient.DefaultListTasksPage)
		if err != nil {
			return nil, err
		}
		if in.StartedBy != nil && (in.ContainerInstance != nil || in.ServiceName != nil || in.Family != nil || in.LaunchType != "" || in.DaemonName != nil) {
			return nil, invalidParameter("startedBy must be the only filter.")
		}
		desired := string(in.DesiredStatus)
		if desired == "" {
			desired = cluster.TaskRunning
		}
		var inst *cluster.Instance
		if in.ContainerInstance != nil {
			if inst = s.instance(*in.ContainerInstance); inst == nil {
				return nil, invalidParameter("The referenced container instance %s was not found.", *in.ContainerInstance)
			}
		}
		if in.ServiceName != nil && s.c.Service(*in.ServiceName) == nil {
			return nil, serviceNotFound()
		}
		var group string
		if in.ServiceName != nil {
			group = cluster.ServiceGroup(s.c.Service(*in.ServiceName).Name)
		}
		match := func(t *cluster.Task) bool {
			return t.DesiredStatus == desired &&
				(inst == nil || t.InstanceARN == inst.ARN) &&
				(group == "" || t.Group == group) &&
				(in.Family == nil || family(t.TaskDefinitionARN) == *in.Family) &&
				(in.LaunchType == "" || string(in.LaunchType) == t.LaunchType) &&
				(in.StartedBy == nil || t.StartedBy == *in.StartedBy)
		}
		items, next, err := page("ListTasks", s.c.AllTasks(), match, in.NextToken, size)
		if err != nil {
			return nil, err
		}
		out := &ecs.ListTasksOutput{NextToken: next, TaskArns: []string{}}
		for _, t := range items {
			out.TaskArns = append(out.TaskArns, t.ARN)
		}
		return out, nil
	})
}

// family is the task definition family of a task definition ARN.
func family(taskDefARN string) string {
	name := taskDefARN[strings.LastIndexByte(taskDefARN, '/')+1:]
	if k := strings.LastIndexByte(name, ':'); k >= 0 {
		name = name[:k]
	}
	return name
}

// DescribeTasks describes up to 100 tasks, stopped ones included; unknown ones are
// MISSING failures.
func (s *Sim) DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, _ ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	return serve(ctx, s, "DescribeTasks", in, func(f Fault) (*ecs.DescribeTasksOutput, error) {
		if err := s.checkBatch(in.Cluster, len(in.Tasks), ecsclient.MaxDescribeTasks, "tasks"); err != nil {
			return nil, err
		}
		out := &ecs.DescribeTasksOutput{}
		out.Tasks, out.Failures = describe(s, f, "task", in.Tasks, s.task, ecsclient.TaskToAPI)
		return out, nil
	})
}
