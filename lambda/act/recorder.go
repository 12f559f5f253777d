package act

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsclient"
)

// Recorder stands in for the mutating ECS calls in dry run (README, "Safety guarantees"
// 6): it makes no call, records what would have been called, and answers success.
type Recorder struct {
	mu    sync.Mutex
	calls []RecordedCall
}

// RecordedCall is one mutating call the Recorder took instead of ECS.
type RecordedCall struct {
	Action string `json:"action"`
	Input  any    `json:"input"`
}

var _ ecsclient.WriteAPI = (*Recorder)(nil)

// Calls returns the recorded calls.
func (r *Recorder) Calls() []RecordedCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]RecordedCall(nil), r.calls...)
}

func (r *Recorder) add(action string, in any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, RecordedCall{Action: action, Input: in})
}

// UpdateService records the call.
func (r *Recorder) UpdateService(_ context.Context, in *ecs.UpdateServiceInput, _ ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	r.add("UpdateService", in)
	return &ecs.UpdateServiceOutput{Service: &types.Service{ServiceName: in.Service}}, nil
}

// UpdateContainerInstancesState records the call.
func (r *Recorder) UpdateContainerInstancesState(_ context.Context, in *ecs.UpdateContainerInstancesStateInput, _ ...func(*ecs.Options)) (*ecs.UpdateContainerInstancesStateOutput, error) {
	r.add("UpdateContainerInstancesState", in)
	return &ecs.UpdateContainerInstancesStateOutput{}, nil
}

// PutAttributes records the call.
func (r *Recorder) PutAttributes(_ context.Context, in *ecs.PutAttributesInput, _ ...func(*ecs.Options)) (*ecs.PutAttributesOutput, error) {
	r.add("PutAttributes", in)
	return &ecs.PutAttributesOutput{Attributes: in.Attributes}, nil
}

// DeleteAttributes records the call.
func (r *Recorder) DeleteAttributes(_ context.Context, in *ecs.DeleteAttributesInput, _ ...func(*ecs.Options)) (*ecs.DeleteAttributesOutput, error) {
	r.add("DeleteAttributes", in)
	return &ecs.DeleteAttributesOutput{Attributes: in.Attributes}, nil
}

// TagResource records the call.
func (r *Recorder) TagResource(_ context.Context, in *ecs.TagResourceInput, _ ...func(*ecs.Options)) (*ecs.TagResourceOutput, error) {
	r.add("TagResource", in)
	return &ecs.TagResourceOutput{}, nil
}

// UntagResource records the call.
func (r *Recorder) UntagResource(_ context.Context, in *ecs.UntagResourceInput, _ ...func(*ecs.Options)) (*ecs.UntagResourceOutput, error) {
	r.add("UntagResource", in)
	return &ecs.UntagResourceOutput{}, nil
}

// UpdateTaskProtection records the call and answers that every task is now as asked.
func (r *Recorder) UpdateTaskProtection(_ context.Context, in *ecs.UpdateTaskProtectionInput, _ ...func(*ecs.Options)) (*ecs.UpdateTaskProtectionOutput, error) {
	r.add("UpdateTaskProtection", in)
	out := &ecs.UpdateTaskProtectionOutput{}
	for _, t := range in.Tasks {
		out.ProtectedTasks = append(out.ProtectedTasks, types.ProtectedTask{TaskArn: aws.String(t), ProtectionEnabled: in.ProtectionEnabled})
	}
	return out, nil
}
