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
	ContainerInstances []types.ContainerInstance
	Services           []types.Service
	Tasks              []types.Task
	Simulation         *simulationJSON
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
