package ecsclient

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// The reads of a move and of its sweep: the services it moves, their tasks and the
// tasks' protection, each batched at ECS's limits. A MISSING item is left out (it is
// gone); any other per-item failure is an error.

// DescribeServices describes the named services, tags included: ceil(S/10) calls.
func DescribeServices(ctx context.Context, api ReadAPI, clusterID string, names []string) ([]types.Service, error) {
	return describeAll(names, "service", MaxDescribeServices, describeServices(ctx, api, clusterID))
}

// AllServices lists and describes every service of the cluster, tags included.
func AllServices(ctx context.Context, api ReadAPI, clusterID string) ([]types.Service, error) {
	var out []types.Service
	var notes []string
	return out, gather(&notes, "service", MaxDescribeServices, listServices(ctx, api, clusterID), describeServices(ctx, api, clusterID), collect(&out))
}

// InstanceTasks lists and describes the tasks on a container instance whose desired
// status is RUNNING: ceil(T/100) ListTasks and DescribeTasks calls.
func InstanceTasks(ctx context.Context, api ReadAPI, clusterID, instanceARN string) ([]types.Task, error) {
	return liveTasks(ctx, api, clusterID, ecs.ListTasksInput{ContainerInstance: &instanceARN})
}

// ServiceTasks lists and describes the service's tasks whose desired status is
// RUNNING: ceil(T/100) ListTasks and DescribeTasks calls.
func ServiceTasks(ctx context.Context, api ReadAPI, clusterID, service string) ([]types.Task, error) {
	return liveTasks(ctx, api, clusterID, ecs.ListTasksInput{ServiceName: &service})
}

// liveTasks lists the tasks filter selects (desired status RUNNING, ListTasks'
// default) and describes them.
func liveTasks(ctx context.Context, api ReadAPI, clusterID string, filter ecs.ListTasksInput) ([]types.Task, error) {
	var out []types.Task
	var notes []string
	return out, gather(&notes, "task", MaxDescribeTasks, listTasks(ctx, api, clusterID, filter), describeTasks(ctx, api, clusterID), collect(&out))
}

// listTasks pages through ListTasks with filter, 100 at a time.
func listTasks(ctx context.Context, api ReadAPI, clusterID string, filter ecs.ListTasksInput) func(*string) ([]string, *string, error) {
	return func(tok *string) ([]string, *string, error) {
		in := filter
		in.Cluster, in.MaxResults, in.NextToken = &clusterID, aws.Int32(MaxPageSize), tok
		got, err := api.ListTasks(ctx, &in)
		if err != nil {
			return nil, nil, err
		}
		return got.TaskArns, got.NextToken, nil
	}
}

// DescribeTasks describes tasks by ARN: ceil(T/100) calls.
func DescribeTasks(ctx context.Context, api ReadAPI, clusterID string, arns []string) ([]types.Task, error) {
	return describeAll(arns, "task", MaxDescribeTasks, describeTasks(ctx, api, clusterID))
}

// TaskProtection reads the scale-in protection of tasks by ARN: ceil(T/100) calls.
// Tasks gone since (MISSING) are left out.
func TaskProtection(ctx context.Context, api ReadAPI, clusterID string, arns []string) ([]types.ProtectedTask, error) {
	return describeAll(arns, "task protection", MaxGetTaskProtection, func(batch []string) ([]types.ProtectedTask, []types.Failure, error) {
		got, err := api.GetTaskProtection(ctx, &ecs.GetTaskProtectionInput{Cluster: &clusterID, Tasks: batch})
		if err != nil {
			return nil, nil, err
		}
		return got.ProtectedTasks, got.Failures, nil
	})
}

// describeAll describes ids in batches of size, leaving MISSING items out.
func describeAll[T any](ids []string, kind string, size int, describe func([]string) ([]T, []types.Failure, error)) ([]T, error) {
	var out []T
	var notes []string
	err := inBatches(ids, size, func(batch []string) error {
		got, fails, err := describe(batch)
		if err != nil {
			return err
		}
		out = append(out, got...)
		return failures(kind, fails, &notes)
	})
	if err != nil {
		return nil, fmt.Errorf("describe %ss: %w", kind, err)
	}
	return out, nil
}

// Tag returns the value of key among an SDK resource's tags.
func Tag(tags []types.Tag, key string) (string, bool) {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value), true
		}
	}
	return "", false
}
