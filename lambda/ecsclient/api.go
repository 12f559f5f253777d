// Package ecsclient is the project's boundary with ECS: the consumer-side interfaces
// with the exact aws-sdk-go-v2 signatures of every call the project makes, and the
// mapping between the SDK's types and the cluster model.
package ecsclient

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// ReadAPI holds the read calls (the batched reader's).
type ReadAPI interface {
	ListContainerInstances(ctx context.Context, params *ecs.ListContainerInstancesInput, optFns ...func(*ecs.Options)) (*ecs.ListContainerInstancesOutput, error)
	DescribeContainerInstances(ctx context.Context, params *ecs.DescribeContainerInstancesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeContainerInstancesOutput, error)
	ListServices(ctx context.Context, params *ecs.ListServicesInput, optFns ...func(*ecs.Options)) (*ecs.ListServicesOutput, error)
	DescribeServices(ctx context.Context, params *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	ListTasks(ctx context.Context, params *ecs.ListTasksInput, optFns ...func(*ecs.Options)) (*ecs.ListTasksOutput, error)
	DescribeTasks(ctx context.Context, params *ecs.DescribeTasksInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	// The move strategy's reads: which tasks are protected, and a cluster's tags (the
	// sweep's cheap look for a move an earlier invocation left).
	GetTaskProtection(ctx context.Context, params *ecs.GetTaskProtectionInput, optFns ...func(*ecs.Options)) (*ecs.GetTaskProtectionOutput, error)
	ListTagsForResource(ctx context.Context, params *ecs.ListTagsForResourceInput, optFns ...func(*ecs.Options)) (*ecs.ListTagsForResourceOutput, error)
}

// WriteAPI holds the mutating calls; only the actor calls them.
type WriteAPI interface {
	UpdateService(ctx context.Context, params *ecs.UpdateServiceInput, optFns ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
	UpdateContainerInstancesState(ctx context.Context, params *ecs.UpdateContainerInstancesStateInput, optFns ...func(*ecs.Options)) (*ecs.UpdateContainerInstancesStateOutput, error)
	PutAttributes(ctx context.Context, params *ecs.PutAttributesInput, optFns ...func(*ecs.Options)) (*ecs.PutAttributesOutput, error)
	DeleteAttributes(ctx context.Context, params *ecs.DeleteAttributesInput, optFns ...func(*ecs.Options)) (*ecs.DeleteAttributesOutput, error)
	TagResource(ctx context.Context, params *ecs.TagResourceInput, optFns ...func(*ecs.Options)) (*ecs.TagResourceOutput, error)
	UntagResource(ctx context.Context, params *ecs.UntagResourceInput, optFns ...func(*ecs.Options)) (*ecs.UntagResourceOutput, error)
	UpdateTaskProtection(ctx context.Context, params *ecs.UpdateTaskProtectionInput, optFns ...func(*ecs.Options)) (*ecs.UpdateTaskProtectionOutput, error)
}

// API is every ECS call the project makes.
type API interface {
	ReadAPI
	WriteAPI
}

var _ API = (*ecs.Client)(nil)

// Mutating reports whether an ECS action changes a cluster: the calls only the actor
// makes, and dry run never does.
func Mutating(action string) bool {
	switch action {
	case "UpdateService", "UpdateContainerInstancesState", "PutAttributes", "DeleteAttributes",
		"TagResource", "UntagResource", "UpdateTaskProtection":
		return true
	}
	return false
}

// Batch and page limits ECS enforces (the SDK's doc comments).
const (
	MaxDescribeServices      = 10
	MaxDescribeInstances     = 100
	MaxDescribeTasks         = 100
	MaxUpdateInstancesState  = 10
	MaxAttributesPerCall     = 10
	MaxCustomAttributes      = 10
	MaxUpdateTaskProtection  = 10
	MaxGetTaskProtection     = 100
	MaxProtectionMinutes     = 2880
	MaxPageSize              = 100
	DefaultListServicesPage  = 10
	DefaultListInstancesPage = 100
	DefaultListTasksPage     = 100
	TargetTypeInstance       = "container-instance"
	FailureMissing           = "MISSING"
)
