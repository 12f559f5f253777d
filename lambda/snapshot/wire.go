package snapshot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// The wire structs mirror the ECS API's JSON shapes (the keys DescribeContainerInstances,
// DescribeServices and DescribeTasks return), so `aws ecs describe-*` output can be
// pasted in. They hold only the fields the model uses; encoding/json ignores the rest.

type file struct {
	ClusterName        string          `json:"clusterName"`
	ClusterArn         string          `json:"clusterArn,omitempty"`
	ContainerInstances []instanceJSON  `json:"containerInstances"`
	Services           []serviceJSON   `json:"services"`
	Tasks              []taskJSON      `json:"tasks"`
	Simulation         *simulationJSON `json:"simulation,omitempty"`
}

type simulationJSON struct {
	TaskStartSeconds *int                             `json:"taskStartSeconds,omitempty"`
	Now              *Time                            `json:"now,omitempty"`
	Seed             *int64                           `json:"seed,omitempty"`
	Services         map[string]serviceSimulationJSON `json:"services,omitempty"`
}

// serviceSimulationJSON is what the operator knows of one service's task timing
// better than the estimate from its tasks.
type serviceSimulationJSON struct {
	StartSeconds               *int `json:"startSeconds,omitempty"`
	StopTimeoutSeconds         *int `json:"stopTimeoutSeconds,omitempty"`
	DeregistrationDelaySeconds *int `json:"deregistrationDelaySeconds,omitempty"`
}

type instanceJSON struct {
	ContainerInstanceArn string          `json:"containerInstanceArn"`
	Ec2InstanceId        string          `json:"ec2InstanceId,omitempty"`
	CapacityProviderName string          `json:"capacityProviderName,omitempty"`
	Version              int64           `json:"version,omitempty"`
	RemainingResources   []resourceJSON  `json:"remainingResources"`
	RegisteredResources  []resourceJSON  `json:"registeredResources"`
	Status               string          `json:"status"`
	StatusReason         string          `json:"statusReason,omitempty"`
	AgentConnected       bool            `json:"agentConnected"`
	RunningTasksCount    *int            `json:"runningTasksCount,omitempty"`
	PendingTasksCount    *int            `json:"pendingTasksCount,omitempty"`
	Attributes           []attributeJSON `json:"attributes,omitempty"`
	RegisteredAt         *Time           `json:"registeredAt,omitempty"`
}

type resourceJSON struct {
	Name           string   `json:"name"`
	Type           string   `json:"type"`
	IntegerValue   *int64   `json:"integerValue,omitempty"`
	LongValue      *int64   `json:"longValue,omitempty"`
	DoubleValue    *float64 `json:"doubleValue,omitempty"`
	StringSetValue []string `json:"stringSetValue,omitempty"`
}

type attributeJSON struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

type serviceJSON struct {
	ServiceArn                  string                    `json:"serviceArn"`
	ServiceName                 string                    `json:"serviceName"`
	ClusterArn                  string                    `json:"clusterArn,omitempty"`
	Status                      string                    `json:"status,omitempty"`
	DesiredCount                int32                     `json:"desiredCount"`
	RunningCount                *int                      `json:"runningCount,omitempty"`
	PendingCount                *int                      `json:"pendingCount,omitempty"`
	LaunchType                  string                    `json:"launchType,omitempty"`
	CapacityProviderStrategy    []capacityProviderJSON    `json:"capacityProviderStrategy,omitempty"`
	TaskDefinition              string                    `json:"taskDefinition,omitempty"`
	DeploymentConfiguration     *deploymentConfigJSON     `json:"deploymentConfiguration,omitempty"`
	Deployments                 []deploymentJSON          `json:"deployments,omitempty"`
	PlacementConstraints        []placementConstraintJSON `json:"placementConstraints,omitempty"`
	PlacementStrategy           []placementStrategyJSON   `json:"placementStrategy,omitempty"`
	SchedulingStrategy          string                    `json:"schedulingStrategy,omitempty"`
	DeploymentController        *deploymentControllerJSON `json:"deploymentController,omitempty"`
	Tags                        []tagJSON                 `json:"tags,omitempty"`
	AvailabilityZoneRebalancing string                    `json:"availabilityZoneRebalancing,omitempty"`
	CreatedAt                   *Time                     `json:"createdAt,omitempty"`
	LoadBalancers               []loadBalancerJSON        `json:"loadBalancers,omitempty"`
	HealthCheckGracePeriod      *int32                    `json:"healthCheckGracePeriodSeconds,omitempty"`
}

type loadBalancerJSON struct {
	TargetGroupArn   string `json:"targetGroupArn,omitempty"`
	LoadBalancerName string `json:"loadBalancerName,omitempty"`
	ContainerName    string `json:"containerName,omitempty"`
	ContainerPort    int32  `json:"containerPort,omitempty"`
}

type capacityProviderJSON struct {
	CapacityProvider string `json:"capacityProvider"`
	Weight           int32  `json:"weight"`
	Base             int32  `json:"base"`
}

type deploymentConfigJSON struct {
	DeploymentCircuitBreaker *circuitBreakerJSON `json:"deploymentCircuitBreaker,omitempty"`
	MaximumPercent           *int32              `json:"maximumPercent,omitempty"`
	MinimumHealthyPercent    *int32              `json:"minimumHealthyPercent,omitempty"`
	Strategy                 string              `json:"strategy,omitempty"`
}

type circuitBreakerJSON struct {
	Enable   bool `json:"enable"`
	Rollback bool `json:"rollback"`
}

type deploymentJSON struct {
	ID                 string `json:"id"`
	Status             string `json:"status"`
	TaskDefinition     string `json:"taskDefinition,omitempty"`
	DesiredCount       int32  `json:"desiredCount"`
	PendingCount       int32  `json:"pendingCount"`
	RunningCount       int32  `json:"runningCount"`
	FailedTasks        int32  `json:"failedTasks"`
	CreatedAt          *Time  `json:"createdAt,omitempty"`
	UpdatedAt          *Time  `json:"updatedAt,omitempty"`
	LaunchType         string `json:"launchType,omitempty"`
	RolloutState       string `json:"rolloutState,omitempty"`
	RolloutStateReason string `json:"rolloutStateReason,omitempty"`
}

type placementConstraintJSON struct {
	Type       string `json:"type"`
	Expression string `json:"expression,omitempty"`
}

type placementStrategyJSON struct {
	Type  string `json:"type"`
	Field string `json:"field,omitempty"`
}

type deploymentControllerJSON struct {
	Type string `json:"type"`
}

type tagJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type taskJSON struct {
	TaskArn              string `json:"taskArn"`
	ClusterArn           string `json:"clusterArn,omitempty"`
	ContainerInstanceArn string `json:"containerInstanceArn,omitempty"`
	Group                string `json:"group,omitempty"`
	LastStatus           string `json:"lastStatus"`
	DesiredStatus        string `json:"desiredStatus"`
	Cpu                  string `json:"cpu,omitempty"`
	Memory               string `json:"memory,omitempty"`
	StartedBy            string `json:"startedBy,omitempty"`
	LaunchType           string `json:"launchType,omitempty"`
	CapacityProviderName string `json:"capacityProviderName,omitempty"`
	TaskDefinitionArn    string `json:"taskDefinitionArn,omitempty"`
	AvailabilityZone     string `json:"availabilityZone,omitempty"`
	Version              int64  `json:"version,omitempty"`
	CreatedAt            *Time  `json:"createdAt,omitempty"`
	StartedAt            *Time  `json:"startedAt,omitempty"`
	// Containers carry the sizes of tasks sized per container and the host ports
	// their containers bind; Attachments an awsvpc task's interface.
	Containers  []containerJSON  `json:"containers,omitempty"`
	Attachments []attachmentJSON `json:"attachments,omitempty"`
}

type containerJSON struct {
	Name              string               `json:"name,omitempty"`
	Cpu               string               `json:"cpu,omitempty"`
	Memory            string               `json:"memory,omitempty"`
	MemoryReservation string               `json:"memoryReservation,omitempty"`
	NetworkBindings   []networkBindingJSON `json:"networkBindings,omitempty"`
}

type networkBindingJSON struct {
	HostPort      *int32 `json:"hostPort,omitempty"`
	ContainerPort *int32 `json:"containerPort,omitempty"`
	Protocol      string `json:"protocol,omitempty"`
}

type attachmentJSON struct {
	Type   string `json:"type"`
	Status string `json:"status,omitempty"`
}

// Time is a timestamp as the AWS CLI shows it. It decodes CLI v2's ISO 8601 strings
// (any offset, any fraction) and the epoch seconds the raw API and CLI v1 give, and
// encodes like CLI v2 in UTC: 2026-11-20T09:00:00.123000+00:00, without the fraction
// when it is zero.
type Time struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("timestamp %q is neither ISO 8601 nor epoch seconds", s)
		}
		t.Time = v.UTC()
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("timestamp %s is neither ISO 8601 nor epoch seconds", b)
	}
	if f < 0 || f > maxEpoch {
		return fmt.Errorf("timestamp %s is outside the years 1970-9999", b)
	}
	sec, frac := math.Modf(f)
	t.Time = time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC()
	return nil
}

// maxEpoch is 9999-12-31T23:59:59Z: later instants have no ISO 8601 form to write back.
const maxEpoch = 253402300799

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + FormatTime(t.Time) + `"`), nil
}

// FormatTime formats like the AWS CLI v2 (Python's isoformat in UTC).
func FormatTime(t time.Time) string {
	u := t.UTC()
	s := u.Format("2006-01-02T15:04:05")
	if us := u.Nanosecond() / 1e3; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s + "+00:00"
}

func timePtr(t time.Time) *Time {
	if t.IsZero() {
		return nil
	}
	return &Time{t}
}

func timeOf(t *Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time
}
