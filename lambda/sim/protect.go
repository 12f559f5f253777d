package sim

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsclient"
)

// Task scale-in protection and resource tags, as the move strategy uses them.

// defaultProtectionMinutes is ECS's expiry when UpdateTaskProtection names none.
const defaultProtectionMinutes = 120

// Per-item failure reasons of the task protection calls.
const (
	FailureTaskNotValid = "TASK_NOT_VALID"
)

// UpdateTaskProtection sets or clears scale-in protection on up to 10 tasks. The
// expiry (1-2,880 minutes, 120 when omitted) runs on the virtual clock; calling it
// again resets it. A standalone or stopped task is a TASK_NOT_VALID failure, an unknown
// one MISSING. Clearing or ending a protection lets the service's scheduler look again.
func (s *Sim) UpdateTaskProtection(ctx context.Context, in *ecs.UpdateTaskProtectionInput, _ ...func(*ecs.Options)) (*ecs.UpdateTaskProtectionOutput, error) {
	return serve(ctx, s, "UpdateTaskProtection", in, func(f Fault) (*ecs.UpdateTaskProtectionOutput, error) {
		if err := s.checkBatch(in.Cluster, len(in.Tasks), ecsclient.MaxUpdateTaskProtection, "tasks"); err != nil {
			return nil, err
		}
		if len(in.Tasks) == 0 {
			return nil, invalidParameter("Tasks cannot be empty.")
		}
		minutes := int32(defaultProtectionMinutes)
		if in.ExpiresInMinutes != nil {
			minutes = *in.ExpiresInMinutes
			if minutes < 1 || minutes > ecsclient.MaxProtectionMinutes {
				return nil, invalidParameter("expiresInMinutes must be between 1 and %d.", ecsclient.MaxProtectionMinutes)
			}
		}
		out := &ecs.UpdateTaskProtectionOutput{ProtectedTasks: []types.ProtectedTask{}, Failures: []types.Failure{}}
		for _, id := range in.Tasks {
			t := s.task(id)
			switch {
			case f.ItemFailure != "":
				out.Failures = append(out.Failures, failure(s.missingARN("task", id), f.ItemFailure))
				continue
			case t == nil:
				out.Failures = append(out.Failures, failure(s.missingARN("task", id), ecsclient.FailureMissing))
				continue
			case t.ServiceName() == "" || !t.Live():
				out.Failures = append(out.Failures, failure(t.ARN, FailureTaskNotValid))
				continue
			}
			s.c.ChangingTask(t)
			if in.ProtectionEnabled {
				t.ProtectedUntil = s.now.Add(time.Duration(minutes) * time.Minute)
			} else {
				t.ProtectedUntil = time.Time{}
			}
			out.ProtectedTasks = append(out.ProtectedTasks, protectedTask(t, s.now))
			if svc := s.c.ServiceOf(t); svc != nil {
				// A step now sees what the change unblocks, and asks for another when a
				// protection that holds work ends.
				s.schedule(svc, s.now)
			}
		}
		return out, nil
	})
}

// GetTaskProtection reads the protection of up to 100 tasks.
func (s *Sim) GetTaskProtection(ctx context.Context, in *ecs.GetTaskProtectionInput, _ ...func(*ecs.Options)) (*ecs.GetTaskProtectionOutput, error) {
	return serve(ctx, s, "GetTaskProtection", in, func(f Fault) (*ecs.GetTaskProtectionOutput, error) {
		if err := s.checkBatch(in.Cluster, len(in.Tasks), ecsclient.MaxGetTaskProtection, "tasks"); err != nil {
			return nil, err
		}
		out := &ecs.GetTaskProtectionOutput{ProtectedTasks: []types.ProtectedTask{}, Failures: []types.Failure{}}
		for _, id := range in.Tasks {
			t := s.task(id)
			switch {
			case f.ItemFailure != "":
				out.Failures = append(out.Failures, failure(s.missingARN("task", id), f.ItemFailure))
			case t == nil:
				out.Failures = append(out.Failures, failure(s.missingARN("task", id), ecsclient.FailureMissing))
			case t.ServiceName() == "":
				out.Failures = append(out.Failures, failure(t.ARN, FailureTaskNotValid))
			default:
				out.ProtectedTasks = append(out.ProtectedTasks, protectedTask(t, s.now))
			}
		}
		return out, nil
	})
}

func protectedTask(t *cluster.Task, now time.Time) types.ProtectedTask {
	p := types.ProtectedTask{TaskArn: aws.String(t.ARN), ProtectionEnabled: t.Protected(now)}
	if p.ProtectionEnabled {
		p.ExpirationDate = aws.Time(t.ProtectedUntil)
	}
	return p
}

// Tag limits ECS documents for every resource: at most 50 tags, keys of 1-128
// characters and values of up to 256; the aws: prefix is reserved.
const (
	maxTags        = 50
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

// tagged resolves a resource ARN the tag calls take: the cluster, or one of its
// services in the long ARN format (ECS refuses tags on a service whose ARN has no
// cluster segment, the format of services created before 2021 unless the account
// opted in). set replaces the resource's tags.
func (s *Sim) tagged(arn string) (tags []cluster.Tag, set func([]cluster.Tag), err error) {
	if arn == s.c.ARN {
		return s.clusterTags, func(t []cluster.Tag) { s.clusterTags = t }, nil
	}
	svc := s.c.Service(arn)
	if svc == nil || svc.ARN != arn {
		return nil, nil, &types.ResourceNotFoundException{Message: aws.String("The specified resource could not be found.")}
	}
	if !strings.Contains(svc.ARN, ":service/"+s.c.Name+"/") {
		return nil, nil, invalidParameter("Long arn format must be used for tagging operations")
	}
	return svc.Tags, func(t []cluster.Tag) {
		s.c.ChangingService(svc)
		svc.Tags = t
	}, nil
}

// TagResource adds or replaces tags on the cluster or a service.
func (s *Sim) TagResource(ctx context.Context, in *ecs.TagResourceInput, _ ...func(*ecs.Options)) (*ecs.TagResourceOutput, error) {
	return serve(ctx, s, "TagResource", in, func(_ Fault) (*ecs.TagResourceOutput, error) {
		tags, set, err := s.tagged(aws.ToString(in.ResourceArn))
		if err != nil {
			return nil, err
		}
		if len(in.Tags) == 0 {
			return nil, invalidParameter("Tags cannot be empty.")
		}
		out := slices.Clone(tags)
		for _, t := range in.Tags {
			k, v := aws.ToString(t.Key), aws.ToString(t.Value)
			switch {
			case len(k) < 1 || len(k) > maxTagKeyLen || len(v) > maxTagValueLen:
				return nil, invalidParameter("Tag %q is invalid: keys are 1-%d characters, values up to %d.", k, maxTagKeyLen, maxTagValueLen)
			case strings.HasPrefix(strings.ToLower(k), "aws:"):
				return nil, invalidParameter("Tag keys cannot start with aws:.")
			}
			if n := slices.IndexFunc(out, func(have cluster.Tag) bool { return have.Key == k }); n >= 0 {
				out[n].Value = v
			} else {
				out = append(out, cluster.Tag{Key: k, Value: v})
			}
		}
		if len(out) > maxTags {
			return nil, invalidParameter("A resource can have at most %d tags.", maxTags)
		}
		set(out)
		return &ecs.TagResourceOutput{}, nil
	})
}

// UntagResource removes tag keys from the cluster or a service; absent keys are not an
// error.
func (s *Sim) UntagResource(ctx context.Context, in *ecs.UntagResourceInput, _ ...func(*ecs.Options)) (*ecs.UntagResourceOutput, error) {
	return serve(ctx, s, "UntagResource", in, func(_ Fault) (*ecs.UntagResourceOutput, error) {
		tags, set, err := s.tagged(aws.ToString(in.ResourceArn))
		if err != nil {
			return nil, err
		}
		set(slices.DeleteFunc(slices.Clone(tags), func(t cluster.Tag) bool { return slices.Contains(in.TagKeys, t.Key) }))
		return &ecs.UntagResourceOutput{}, nil
	})
}

// ListTagsForResource lists the tags of the cluster or a service.
func (s *Sim) ListTagsForResource(ctx context.Context, in *ecs.ListTagsForResourceInput, _ ...func(*ecs.Options)) (*ecs.ListTagsForResourceOutput, error) {
	return serve(ctx, s, "ListTagsForResource", in, func(_ Fault) (*ecs.ListTagsForResourceOutput, error) {
		tags, _, err := s.tagged(aws.ToString(in.ResourceArn))
		if err != nil {
			return nil, err
		}
		out := &ecs.ListTagsForResourceOutput{Tags: []types.Tag{}}
		for _, t := range tags {
			out.Tags = append(out.Tags, types.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
		}
		return out, nil
	})
}
