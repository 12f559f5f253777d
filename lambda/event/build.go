package event

import (
	"encoding/json"
	"time"
)

// Joined is the EventBridge event ECS sends when a container instance has joined its
// cluster, empty and connected, as of at (what the replay's what-if and the tests
// deliver).
func Joined(account, region, clusterARN, instanceARN, ec2ID string, registeredAt, at time.Time) []byte {
	return marshal(map[string]any{
		"version": "0", "id": "join-" + ec2ID, "detail-type": DetailInstanceStateChange, "source": SourceECS,
		"account": account, "time": at.UTC().Format(time.RFC3339), "region": region, "resources": []string{instanceARN},
		"detail": map[string]any{
			"agentConnected": true, "clusterArn": clusterARN, "containerInstanceArn": instanceARN, "ec2InstanceId": ec2ID,
			"status": "ACTIVE", "version": 1, "runningTasksCount": 0, "pendingTasksCount": 0, "registeredAt": registeredAt.UTC().Format(time.RFC3339),
			"registeredResources": []any{}, "remainingResources": []any{}, "versionInfo": map[string]any{}, "updatedAt": at.UTC().Format(time.RFC3339),
		},
	})
}

// Schedule is the event of an EventBridge schedule rule firing at at.
func Schedule(account, region string, at time.Time) []byte {
	return marshal(map[string]any{
		"version": "0", "id": "schedule-" + at.UTC().Format("20060102T150405Z"), "detail-type": DetailScheduled, "source": SourceSchedule,
		"account": account, "time": at.UTC().Format(time.RFC3339), "region": region,
		"resources": []string{"arn:aws:events:" + region + ":" + account + ":rule/ecs-rebalancer-schedule"}, "detail": map[string]any{},
	})
}

func marshal(v map[string]any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of strings, numbers and times as strings
	}
	return b
}
