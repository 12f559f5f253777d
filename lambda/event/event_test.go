package event_test

import (
	"errors"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/event"
)

func load(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every recorded event in testdata/events, classified with CLUSTERS=demo,my-cluster,default.
func TestClassifyRecordedEvents(t *testing.T) {
	actsOn := func(name, arn string) bool {
		return name == "demo" || name == "my-cluster" || name == "default" || name == "mixed"
	}
	tests := []struct {
		file       string
		want       event.Verdict
		wantCounts []int // runningTasksCount, pendingTasksCount when the event carries them
	}{
		{"aws-sample.json", event.Verdict{Kind: event.Candidate, Reason: "ACTIVE, agent connected"}, nil},
		{"schema-complete.json", event.Verdict{Kind: event.Candidate, Reason: "ACTIVE, agent connected"}, []int{0, 0}},
		{"headline-join.json", event.Verdict{Kind: event.Candidate, Reason: "ACTIVE, agent connected"}, []int{0, 0}},
		{"mixed-join.json", event.Verdict{Kind: event.Candidate, Reason: "ACTIVE, agent connected"}, []int{0, 0}},
		// A busy instance passes the event-only checks; the re-describe rejects it.
		{"busy-instance.json", event.Verdict{Kind: event.Candidate, Reason: "ACTIVE, agent connected"}, []int{11, 0}},
		{"draining-instance.json", event.Verdict{Kind: event.Ignored, Reason: "instance status is DRAINING, not ACTIVE"}, []int{0, 0}},
		{"disconnected-agent.json", event.Verdict{Kind: event.Ignored, Reason: "instance agent is disconnected"}, []int{0, 0}},
		{"other-cluster.json", event.Verdict{Kind: event.Ignored, Reason: "cluster staging is not configured (CLUSTERS)"}, []int{0, 0}},
		{"task-state-change.json", event.Verdict{Kind: event.Ignored, Reason: `not a container instance state change: "ECS Task State Change" from "aws.ecs"`}, nil},
		{"service-action.json", event.Verdict{Kind: event.Ignored, Reason: `not a container instance state change: "ECS Service Action" from "aws.ecs"`}, nil},
		{"deployment-state-change.json", event.Verdict{Kind: event.Ignored, Reason: `not a container instance state change: "ECS Deployment State Change" from "aws.ecs"`}, nil},
		{"scheduled.json", event.Verdict{Kind: event.Scheduled, Reason: "scheduled run"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			e, err := event.Decode(load(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, e.Classify(actsOn)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if e.Instance == nil {
				return
			}
			var counts []int
			if e.Instance.RunningTasksCount != nil {
				counts = []int{*e.Instance.RunningTasksCount, *e.Instance.PendingTasksCount}
			}
			if diff := cmp.Diff(tt.wantCounts, counts); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeKeepsWhatAWSLambdaGoLacks(t *testing.T) {
	e, err := event.Decode(load(t, "headline-join.json"))
	if err != nil {
		t.Fatal(err)
	}
	d := e.Instance
	if d.RegisteredAt == nil || d.RegisteredAt.Format("15:04:05") != "08:58:00" {
		t.Errorf("registeredAt = %v", d.RegisteredAt)
	}
	if d.Attributes[1] != (event.Attribute{Name: "ecs.availability-zone", Value: "us-east-1a"}) {
		t.Errorf("attribute values lost: %+v", d.Attributes)
	}
	if d.ContainerInstanceARN == "" || d.EC2InstanceID != "i-07be041293f8ad5de" || d.Version != 1 || e.Time.IsZero() {
		t.Errorf("aws-lambda-go fields: %+v", d.ECSContainerInstanceEventDetailType)
	}
}

func TestDecodeMalformed(t *testing.T) {
	tests := map[string]string{
		"recorded truncated file": string(load(t, "malformed.json")),
		"empty":                   ``,
		"null":                    `null`,
		"an array":                `[1, 2]`,
		"no source":               `{"detail-type": "ECS Container Instance State Change", "detail": {}}`,
		"detail is a string":      `{"source": "aws.ecs", "detail-type": "ECS Container Instance State Change", "detail": "x"}`,
		"version is not a number": `{"source": "aws.ecs", "detail-type": "ECS Container Instance State Change", "detail": {"version": "x"}}`,
		"no instance or cluster":  `{"source": "aws.ecs", "detail-type": "ECS Container Instance State Change", "detail": {"status": "ACTIVE"}}`,
		"time is not a timestamp": `{"source": "aws.ecs", "detail-type": "x", "time": 5, "detail": {}}`,
	}
	for name, raw := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := event.Decode([]byte(raw))
			if !errors.Is(err, event.ErrMalformed) {
				t.Errorf("Decode = %v, want ErrMalformed", err)
			}
		})
	}
	_, err := event.Decode([]byte(tests["no instance or cluster"]))
	if want := "malformed event: detail lacks clusterArn, containerInstanceArn"; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestClusterNameOfAnEventsARN(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:ecs:us-east-1:111122223333:cluster/demo": "demo",
		"demo": "demo",
	} {
		if got := cluster.NameOf(in); got != want {
			t.Errorf("ClusterName(%q) = %q", in, got)
		}
	}
}
