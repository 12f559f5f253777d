// Package event decodes the EventBridge events the function receives and classifies
// them before any ECS call (docs/decisions.md, "What it does with an event"). Decoding is
// tolerant: unknown fields are ignored, as ECS asks ("prepared to handle unknown
// properties"), and nothing panics.
package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Sources and detail types the function knows.
const (
	SourceECS                 = "aws.ecs"
	DetailInstanceStateChange = "ECS Container Instance State Change"
	SourceSchedule            = "aws.events"
	DetailScheduled           = "Scheduled Event"
)

// ErrMalformed marks input that is not an event the function can read.
var ErrMalformed = errors.New("malformed event")

// Attribute is a container instance attribute; aws-lambda-go's type keeps only the
// name, but the drain marker needs the value.
type Attribute struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

// InstanceDetail is the detail of "ECS Container Instance State Change": what
// aws-lambda-go decodes, plus the fields its type lacks (the ECS event reference). The
// counts are optional in the event schema and absent from AWS's own sample, so they are
// pointers; the handler never trusts them over DescribeContainerInstances.
type InstanceDetail struct {
	events.ECSContainerInstanceEventDetailType
	Attributes        []Attribute `json:"attributes"` // shadows the name-only field
	RunningTasksCount *int        `json:"runningTasksCount,omitempty"`
	PendingTasksCount *int        `json:"pendingTasksCount,omitempty"`
	RegisteredAt      *time.Time  `json:"registeredAt,omitempty"`
	AgentUpdateStatus string      `json:"agentUpdateStatus,omitempty"`
	StatusReason      string      `json:"statusReason,omitempty"`
}

// Event is a decoded EventBridge event.
type Event struct {
	ID         string
	Source     string
	DetailType string
	Account    string
	Region     string
	Time       time.Time
	Resources  []string
	// Instance is set for container instance state changes.
	Instance *InstanceDetail
}

// Decode reads an EventBridge event. Input that is not JSON, not an object, or a
// container instance event without the fields every such event carries is
// ErrMalformed, with the reason.
func Decode(raw []byte) (Event, error) {
	var env events.CloudWatchEvent
	if err := json.Unmarshal(raw, &env); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	e := Event{
		ID: env.ID, Source: env.Source, DetailType: env.DetailType, Account: env.AccountID,
		Region: env.Region, Time: env.Time, Resources: env.Resources,
	}
	if e.Source == "" || e.DetailType == "" {
		return e, fmt.Errorf("%w: no source or detail-type", ErrMalformed)
	}
	if e.Source != SourceECS || e.DetailType != DetailInstanceStateChange {
		return e, nil
	}
	var d InstanceDetail
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return e, fmt.Errorf("%w: detail: %v", ErrMalformed, err)
	}
	var missing []string
	for field, v := range map[string]string{"clusterArn": d.ClusterARN, "containerInstanceArn": d.ContainerInstanceARN, "status": d.Status} {
		if v == "" {
			missing = append(missing, field)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return e, fmt.Errorf("%w: detail lacks %s", ErrMalformed, strings.Join(missing, ", "))
	}
	e.Instance = &d
	return e, nil
}

// Kind is what the function does with an event.
type Kind string

// Kinds of event.
const (
	// Candidate: a container instance event that may be a join; the handler re-describes
	// the instance before anything else.
	Candidate Kind = "candidate"
	// Scheduled: a scheduled run over the configured clusters.
	Scheduled Kind = "scheduled"
	// Ignored: nothing to do; Reason says why.
	Ignored Kind = "ignored"
)

// Verdict is the classification of an event from its content alone.
type Verdict struct {
	Kind   Kind
	Reason string
}

// Classify applies the pre-checks that need no ECS call: the detail type, the
// cluster (actsOn decides, given the cluster name and ARN), status ACTIVE and a
// connected agent. The event's task counts are not checked: the rule already filters
// on them, and DescribeContainerInstances is the truth.
func (e Event) Classify(actsOn func(name, arn string) bool) Verdict {
	switch {
	case e.Source == SourceSchedule && e.DetailType == DetailScheduled:
		return Verdict{Kind: Scheduled, Reason: "scheduled run"}
	case e.Instance == nil:
		return Verdict{Kind: Ignored, Reason: fmt.Sprintf("not a container instance state change: %q from %q", e.DetailType, e.Source)}
	}
	d := e.Instance
	switch name := cluster.NameOf(d.ClusterARN); {
	case !actsOn(name, d.ClusterARN):
		return Verdict{Kind: Ignored, Reason: "cluster " + name + " is not configured (CLUSTERS)"}
	case d.Status != "ACTIVE":
		return Verdict{Kind: Ignored, Reason: "instance status is " + d.Status + ", not ACTIVE"}
	case !d.AgentConnected:
		return Verdict{Kind: Ignored, Reason: "instance agent is disconnected"}
	}
	return Verdict{Kind: Candidate, Reason: "ACTIVE, agent connected"}
}
