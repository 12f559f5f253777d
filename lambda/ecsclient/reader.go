package ecsclient

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
)

// Read is one batched pass over a cluster (docs/operations.md, "ECS calls per decision"):
// ceil(I/100) ListContainerInstances and DescribeContainerInstances calls for I
// instances, ceil(S/100) ListServices and ceil(S/10) DescribeServices (tags included)
// for S services, ceil(T/100) ListTasks and DescribeTasks for T live tasks; every List
// is called at least once. Instances in every status but INACTIVE are read (DRAINING
// ones carry markers to sweep).
//
// The calls are not atomic: an item listed and gone before its Describe is a MISSING
// failure, and a task whose instance or service was not read is dropped. Both are
// reported in Notes, not as errors, and so is an item ECS describes in a way the model
// cannot hold: a task with a status combination ECS does not document or an unreadable
// size (its service then reads as not at steady state, so nothing touches it), a
// service or instance described twice. Such an item is left out.
// Any other per-item failure (ACCESS_DENIED, say) is an error.
func Read(ctx context.Context, api ReadAPI, clusterID string) (*cluster.Cluster, []string, error) {
	var notes []string
	var instances []types.ContainerInstance
	err := gather(&notes, "container instance", MaxDescribeInstances,
		listInstances(ctx, api, clusterID, nil, ""), describeInstances(ctx, api, clusterID), collect(&instances))
	if err != nil {
		return nil, nil, err
	}
	var services []types.Service
	err = gather(&notes, "service", MaxDescribeServices,
		listServices(ctx, api, clusterID), describeServices(ctx, api, clusterID), collect(&services))
	if err != nil {
		return nil, nil, err
	}
	c := newCluster(clusterID, instances, services)
	// An instance or service the model cannot hold (a duplicate, one without a name)
	// is noted and left out, as an odd task is below: it never fails the whole read.
	for _, ci := range instances {
		if err := c.AddInstance(InstanceFromAPI(ci)); err != nil {
			notes = append(notes, fmt.Sprintf("%v; left out", err))
		}
	}
	for _, sv := range services {
		if err := c.AddService(ServiceFromAPI(sv)); err != nil {
			notes = append(notes, fmt.Sprintf("%v; left out", err))
		}
	}

	// Tasks are the bulk (up to 50,000 at ECS's maximums): each batch goes into the
	// model as it arrives, its strings shared with the others', so the read never holds
	// every task twice.
	in := interner{}
	err = gather(&notes, "task", MaxDescribeTasks,
		listTasks(ctx, api, clusterID, ecs.ListTasksInput{}),
		describeTasks(ctx, api, clusterID),
		func(batch []types.Task) error {
			for _, tk := range keepConsistent(batch, c, &notes) {
				t, err := taskFromAPI(tk, in)
				if err == nil {
					err = c.AddTask(t)
				}
				if err != nil {
					// One odd task never makes the whole cluster unreadable.
					notes = append(notes, fmt.Sprintf("%v; left out", err))
				}
			}
			return nil
		})
	if err != nil {
		return nil, nil, err
	}
	notes = append(notes, c.DeriveUnreported()...)
	return c, notes, nil
}

// ReadInstances describes every container instance (all statuses but INACTIVE) with
// its runningTasksCount: ceil(I/100) List and Describe calls, no service or task.
func ReadInstances(ctx context.Context, api ReadAPI, clusterID string) ([]cluster.InstanceCount, error) {
	var notes []string
	var described []types.ContainerInstance
	err := gather(&notes, "container instance", MaxDescribeInstances,
		listInstances(ctx, api, clusterID, nil, ""), describeInstances(ctx, api, clusterID), collect(&described))
	if err != nil {
		return nil, err
	}
	out := make([]cluster.InstanceCount, 0, len(described))
	for _, ci := range described {
		out = append(out, cluster.InstanceCount{Instance: InstanceFromAPI(ci), Count: int(ci.RunningTasksCount)})
	}
	return out, nil
}

// ServiceARNs lists every service of the cluster: ceil(S/100) ListServices calls.
func ServiceARNs(ctx context.Context, api ReadAPI, clusterID string) ([]string, error) {
	return listAll(listServices(ctx, api, clusterID))
}

// InstanceARNs lists the container instances in one status: ceil(I/100)
// ListContainerInstances calls.
func InstanceARNs(ctx context.Context, api ReadAPI, clusterID string, status types.ContainerInstanceStatus) ([]string, error) {
	return listAll(listInstances(ctx, api, clusterID, nil, status))
}

func listServices(ctx context.Context, api ReadAPI, clusterID string) func(*string) ([]string, *string, error) {
	return func(tok *string) ([]string, *string, error) {
		out, err := api.ListServices(ctx, &ecs.ListServicesInput{Cluster: &clusterID, MaxResults: aws.Int32(MaxPageSize), NextToken: tok})
		if err != nil {
			return nil, nil, err
		}
		return out.ServiceArns, out.NextToken, nil
	}
}

// listInstances pages ListContainerInstances: every status but INACTIVE unless one is
// given, with a cluster query language filter when one is given.
func listInstances(ctx context.Context, api ReadAPI, clusterID string, filter *string, status types.ContainerInstanceStatus) func(*string) ([]string, *string, error) {
	return func(tok *string) ([]string, *string, error) {
		out, err := api.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: &clusterID, Filter: filter, Status: status, MaxResults: aws.Int32(MaxPageSize), NextToken: tok})
		if err != nil {
			return nil, nil, err
		}
		return out.ContainerInstanceArns, out.NextToken, nil
	}
}

func describeInstances(ctx context.Context, api ReadAPI, clusterID string) func([]string) ([]types.ContainerInstance, []types.Failure, error) {
	return func(batch []string) ([]types.ContainerInstance, []types.Failure, error) {
		out, err := api.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: &clusterID, ContainerInstances: batch})
		if err != nil {
			return nil, nil, err
		}
		return out.ContainerInstances, out.Failures, nil
	}
}

// describeServices describes a batch of services, tags included.
func describeServices(ctx context.Context, api ReadAPI, clusterID string) func([]string) ([]types.Service, []types.Failure, error) {
	return func(batch []string) ([]types.Service, []types.Failure, error) {
		out, err := api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: &clusterID, Services: batch, Include: []types.ServiceField{types.ServiceFieldTags}})
		if err != nil {
			return nil, nil, err
		}
		return out.Services, out.Failures, nil
	}
}

func describeTasks(ctx context.Context, api ReadAPI, clusterID string) func([]string) ([]types.Task, []types.Failure, error) {
	return func(batch []string) ([]types.Task, []types.Failure, error) {
		out, err := api.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: &clusterID, Tasks: batch})
		if err != nil {
			return nil, nil, err
		}
		return out.Tasks, out.Failures, nil
	}
}

// gather lists every identifier of a kind and describes them in batches of size,
// handing each batch to sink as it arrives (so a large read never holds every SDK
// object at once), noting MISSING items and failing on any other per-item failure.
func gather[T any](notes *[]string, kind string, size int, list func(token *string) ([]string, *string, error), describe func([]string) ([]T, []types.Failure, error), sink func([]T) error) error {
	ids, err := listAll(list)
	if err != nil {
		return fmt.Errorf("list %ss: %w", kind, err)
	}
	err = inBatches(ids, size, func(batch []string) error {
		got, fails, err := describe(batch)
		if err != nil {
			return err
		}
		if err := sink(got); err != nil {
			return err
		}
		return failures(kind, fails, notes)
	})
	if err != nil {
		return fmt.Errorf("describe %ss: %w", kind, err)
	}
	return nil
}

// collect is a gather sink that keeps every item.
func collect[T any](into *[]T) func([]T) error {
	return func(batch []T) error {
		*into = append(*into, batch...)
		return nil
	}
}

// newCluster names the model from the cluster ARN, which the caller or the items carry.
func newCluster(clusterID string, instances []types.ContainerInstance, services []types.Service) *cluster.Cluster {
	arn := clusterID
	if !strings.HasPrefix(arn, "arn:") {
		arn = ""
		for _, s := range services {
			if s.ClusterArn != nil {
				arn = *s.ClusterArn
				break
			}
		}
	}
	name := cluster.NameOf(clusterID)
	region, account, ok := cluster.ARNParts(arn)
	if !ok && len(instances) > 0 {
		region, account, _ = cluster.ARNParts(aws.ToString(instances[0].ContainerInstanceArn))
	}
	c := cluster.New(name, region, account)
	if arn != "" {
		c.ARN = arn
	}
	return c
}

// keepConsistent drops tasks the model cannot hold because the world moved between
// calls: a task stopping since ListTasks, or one on an instance or of a service that
// was not described.
func keepConsistent(tasks []types.Task, c *cluster.Cluster, notes *[]string) []types.Task {
	return slices.DeleteFunc(tasks, func(t types.Task) bool {
		arn := aws.ToString(t.TaskArn)
		switch inst, group := aws.ToString(t.ContainerInstanceArn), aws.ToString(t.Group); {
		case aws.ToString(t.DesiredStatus) != cluster.TaskRunning:
			*notes = append(*notes, "task "+arn+" is stopping; left out")
		case inst != "" && c.Instance(inst) == nil:
			*notes = append(*notes, "task "+arn+" is on container instance "+inst+", which was not read; left out")
		case strings.HasPrefix(group, "service:") && c.Service(strings.TrimPrefix(group, "service:")) == nil:
			*notes = append(*notes, "task "+arn+" belongs to "+group+", which was not read; left out")
		default:
			return false
		}
		return true
	})
}

// failures notes MISSING items (gone between List and Describe) and turns any other
// per-item failure into an error.
func failures(kind string, fs []types.Failure, notes *[]string) error {
	var bad []string
	for _, f := range fs {
		if aws.ToString(f.Reason) == FailureMissing {
			*notes = append(*notes, kind+" "+aws.ToString(f.Arn)+" is gone (MISSING)")
			continue
		}
		bad = append(bad, fmt.Sprintf("%s %s: %s %s", kind, aws.ToString(f.Arn), aws.ToString(f.Reason), aws.ToString(f.Detail)))
	}
	if len(bad) > 0 {
		return fmt.Errorf("per-item failures: %s", strings.Join(bad, "; "))
	}
	return nil
}

// listAll follows nextToken to the end.
func listAll(page func(token *string) ([]string, *string, error)) ([]string, error) {
	var all []string
	var token *string
	for {
		items, next, err := page(token)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == nil || *next == "" {
			return all, nil
		}
		token = next
	}
}

// inBatches calls fn on consecutive slices of at most size items.
func inBatches(items []string, size int, fn func([]string) error) error {
	for start := 0; start < len(items); start += size {
		if err := fn(items[start:min(start+size, len(items))]); err != nil {
			return err
		}
	}
	return nil
}

// DescribeInstance describes one container instance; nil when ECS no longer knows it.
func DescribeInstance(ctx context.Context, api ReadAPI, clusterID, instanceARN string) (*cluster.Instance, error) {
	out, err := api.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: &clusterID, ContainerInstances: []string{instanceARN}})
	if err != nil {
		return nil, fmt.Errorf("describe container instance %s: %w", instanceARN, err)
	}
	var notes []string
	if err := failures("container instance", out.Failures, &notes); err != nil {
		return nil, err
	}
	if len(out.ContainerInstances) == 0 {
		return nil, nil
	}
	return InstanceFromAPI(out.ContainerInstances[0]), nil
}

// ListMarked lists the instances carrying attribute name, in any status but INACTIVE,
// with one filtered ListContainerInstances call per 100 and their Describe calls.
func ListMarked(ctx context.Context, api ReadAPI, clusterID, name string) ([]*cluster.Instance, error) {
	filter := "attribute:" + name + " exists"
	var notes []string
	var described []types.ContainerInstance
	err := gather(&notes, "marked container instance", MaxDescribeInstances,
		listInstances(ctx, api, clusterID, &filter, ""), describeInstances(ctx, api, clusterID), collect(&described))
	if err != nil {
		return nil, err
	}
	marked := make([]*cluster.Instance, 0, len(described))
	for _, ci := range described {
		// The filter is the server's; the attribute is what the instance carries. An
		// endpoint that ignored the filter must not make an operator's drain ours.
		i := InstanceFromAPI(ci)
		if _, ok := i.Attribute(name); ok {
			marked = append(marked, i)
		}
	}
	return marked, nil
}
