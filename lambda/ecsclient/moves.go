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
	var out []types.Service
	var notes []string
	err := inBatches(names, MaxDescribeServices, func(batch []string) error {
		got, err := api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: &clusterID, Services: batch, Include: []types.ServiceField{types.ServiceFieldTags}})
		if err != nil {
			return err
		}
		out = append(out, got.Services...)
		return failures("service", got.Failures, &notes)
	})
	if err != nil {
		return nil, fmt.Errorf("describe services: %w", err)
	}
	return out, nil
}

// AllServices lists and describes every service of the cluster, tags included.
func AllServices(ctx context.Context, api ReadAPI, clusterID string) ([]types.Service, error) {
	arns, err := ServiceARNs(ctx, api, clusterID)
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	return DescribeServices(ctx, api, clusterID, arns)
}

// ServiceTasks lists and describes the service's tasks whose desired status is
// RUNNING: ceil(T/100) ListTasks and DescribeTasks calls.
func ServiceTasks(ctx context.Context, api ReadAPI, clusterID, service string) ([]types.Task, error) {
	arns, err := listAll(func(tok *string) ([]string, *string, error) {
		out, err := api.ListTasks(ctx, &ecs.ListTasksInput{Cluster: &clusterID, ServiceName: &service, MaxResults: aws.Int32(MaxPageSize), NextToken: tok})
		if err != nil {
			return nil, nil, err
		}
		return out.TaskArns, out.NextToken, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list tasks of %s: %w", service, err)
	}
	return DescribeTasks(ctx, api, clusterID, arns)
}

// DescribeTasks describes tasks by ARN: ceil(T/100) calls.
func DescribeTasks(ctx context.Context, api ReadAPI, clusterID string, arns []string) ([]types.Task, error) {
	var out []types.Task
	var notes []string
	err := inBatches(arns, MaxDescribeTasks, func(batch []string) error {
		got, err := api.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: &clusterID, Tasks: batch})
		if err != nil {
			return err
		}
		out = append(out, got.Tasks...)
		return failures("task", got.Failures, &notes)
	})
	if err != nil {
		return nil, fmt.Errorf("describe tasks: %w", err)
	}
	return out, nil
}

// TaskProtection reads the scale-in protection of tasks by ARN: ceil(T/100) calls.
// Tasks gone since (MISSING) are left out.
func TaskProtection(ctx context.Context, api ReadAPI, clusterID string, arns []string) ([]types.ProtectedTask, error) {
	var out []types.ProtectedTask
	var notes []string
	err := inBatches(arns, MaxGetTaskProtection, func(batch []string) error {
		got, err := api.GetTaskProtection(ctx, &ecs.GetTaskProtectionInput{Cluster: &clusterID, Tasks: batch})
		if err != nil {
			return err
		}
		out = append(out, got.ProtectedTasks...)
		return failures("task protection", got.Failures, &notes)
	})
	if err != nil {
		return nil, fmt.Errorf("get task protection: %w", err)
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
