package snapshot

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// file is a snapshot as it is stored: the cluster's name and the items as
// DescribeContainerInstances, DescribeServices and DescribeTasks return them (the SDK's
// types, through the one ECS codec), and the simulation block, which is the project's
// own.
type file struct {
	ClusterName        string
	ClusterArn         string
	ContainerInstances []instanceItem
	Services           []serviceItem
	Tasks              []types.Task
	Simulation         *simulationJSON
}

// instanceItem is a container instance with the counts the file states: the SDK's type
// reads an absent count as zero, and a count the file leaves out is not checked
// against its tasks.
type instanceItem struct {
	types.ContainerInstance
	RunningTasksCount *int32
	PendingTasksCount *int32
}

// serviceItem is a service with the counts the file states.
type serviceItem struct {
	types.Service
	RunningCount *int32
	PendingCount *int32
}

type simulationJSON struct {
	TaskStartSeconds *int
	Now              *time.Time
	Seed             *int64
	Services         map[string]serviceSimulationJSON
}

// serviceSimulationJSON is what the operator knows of one service's task timing
// better than the estimate from its tasks.
type serviceSimulationJSON struct {
	StartSeconds               *int
	StopTimeoutSeconds         *int
	DeregistrationDelaySeconds *int
}
