package ecsjson_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsjson"
)

var registered = time.Date(2026, 11, 18, 11, 45, 2, 5e8, time.UTC)

func TestMarshalWritesWhatECSWrites(t *testing.T) {
	ci := types.ContainerInstance{
		ContainerInstanceArn: aws.String("arn:aws:ecs:us-east-1:1:container-instance/demo/i1"),
		Status:               aws.String("ACTIVE"),
		RegisteredAt:         &registered,
		RegisteredResources:  []types.Resource{{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 2048}},
		Attributes:           []types.Attribute{{Name: aws.String("ecs.os-type")}},
	}
	tests := []struct {
		name  string
		times ecsjson.Times
		want  string
	}{
		// Unset pointers, slices and enums are left out; zero counts and false are not.
		{"wire", ecsjson.EpochSeconds, `{"agentConnected":false,"attributes":[{"name":"ecs.os-type"}],` +
			`"containerInstanceArn":"arn:aws:ecs:us-east-1:1:container-instance/demo/i1","pendingTasksCount":0,` +
			`"registeredAt":1795002302.5,"registeredResources":[{"doubleValue":0,"integerValue":2048,"longValue":0,"name":"CPU","type":"INTEGER"}],` +
			`"runningTasksCount":0,"status":"ACTIVE","version":0}`},
		{"file", ecsjson.ISO8601, `"registeredAt":"2026-11-18T11:45:02.500000+00:00"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ecsjson.Marshal(ci, tt.times)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), tt.want) {
				t.Errorf("Marshal = %s\nwant it to hold %s", b, tt.want)
			}
			if !json.Valid(b) {
				t.Errorf("not JSON: %s", b)
			}
		})
	}
}

// The SDK's own output shape carries ResultMetadata, which is not a member.
// Epoch seconds hold across the years ISO 8601 can write, not only those UnixNano can.
func TestEpochSecondsFarFromNow(t *testing.T) {
	for _, at := range []time.Time{time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)} {
		b, err := ecsjson.Marshal(types.ContainerInstance{RegisteredAt: &at}, ecsjson.EpochSeconds)
		if err != nil {
			t.Fatal(err)
		}
		var back types.ContainerInstance
		if err := ecsjson.Unmarshal(b, &back, ecsjson.RejectUnknown); err != nil || !back.RegisteredAt.Equal(at) {
			t.Errorf("%v came back as %v (%v) from %s", at, back.RegisteredAt, err, b)
		}
	}
}

func TestMarshalLeavesOutMetadata(t *testing.T) {
	b, err := ecsjson.Marshal(&ecs.ListTasksOutput{TaskArns: []string{"t1"}}, ecsjson.EpochSeconds)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(`{"taskArns":["t1"]}`, string(b)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestStringsAreEscapedLikeEncodingJSON(t *testing.T) {
	for _, s := range []string{`plain`, `quo"te`, `back\slash`, "tab\tnew\nline\r", "\x00\x1f", "zone é ✓", "bad \xff utf-8"} {
		b, err := ecsjson.Marshal(types.Tag{Key: aws.String(s)}, ecsjson.EpochSeconds)
		if err != nil {
			t.Fatal(err)
		}
		var back struct{ Key string }
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%q: %v in %s", s, err, b)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if back.Key != want {
			t.Errorf("%q came back as %q", s, back.Key)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	in := types.Service{
		ServiceArn:   aws.String("arn:aws:ecs:us-east-1:1:service/demo/web"),
		ServiceName:  aws.String("web"),
		DesiredCount: 3,
		LaunchType:   types.LaunchTypeEc2,
		CreatedAt:    &registered,
		DeploymentConfiguration: &types.DeploymentConfiguration{
			MaximumPercent:           aws.Int32(200),
			DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true},
		},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("payments")}},
	}
	for _, times := range []ecsjson.Times{ecsjson.EpochSeconds, ecsjson.ISO8601} {
		b, err := ecsjson.Marshal(in, times)
		if err != nil {
			t.Fatal(err)
		}
		var out types.Service
		if err := ecsjson.Unmarshal(b, &out, ecsjson.RejectUnknown); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(in, out, cmpopts.IgnoreUnexported(types.Service{}, types.DeploymentConfiguration{}, types.DeploymentCircuitBreaker{}, types.Tag{})); diff != "" {
			t.Errorf("times %d (-in +out):\n%s", times, diff)
		}
	}
}

func TestUnmarshal(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		unknown ecsjson.Unknown
		want    types.ContainerInstance
		wantErr string
	}{
		{name: "ISO 8601 with an offset", doc: `{"registeredAt": "2026-11-18T12:45:02.5+01:00"}`,
			want: types.ContainerInstance{RegisteredAt: &registered}},
		{name: "epoch seconds, to the microsecond", doc: `{"registeredAt": 1795002302.5000004}`,
			want: types.ContainerInstance{RegisteredAt: &registered}},
		{name: "a long keeps its 64 bits", doc: `{"version": 9007199254740993}`,
			want: types.ContainerInstance{Version: 9007199254740993}},
		{name: "null is unset", doc: `{"ec2InstanceId": null, "runningTasksCount": null}`},
		{name: "an unknown member is ignored when asked", doc: `{"newField": {"x": 1}, "status": "ACTIVE"}`, unknown: ecsjson.IgnoreUnknown,
			want: types.ContainerInstance{Status: aws.String("ACTIVE")}},
		{name: "an unknown member is rejected", doc: `{"attributes": [{"name": "a", "nmae": "b"}]}`, wantErr: "unknown member attributes[0].nmae"},
		{name: "a count too large for 32 bits", doc: `{"runningTasksCount": 4294967296}`, wantErr: "runningTasksCount: 4294967296 is not an integer of 32 bits"},
		{name: "a fraction for a count", doc: `{"runningTasksCount": 1.5}`, wantErr: "runningTasksCount: 1.5 is not an integer"},
		{name: "a number for a string", doc: `{"registeredResources": [{"name": 7}]}`, wantErr: "registeredResources[0].name: want a string, got a number"},
		{name: "a bad timestamp", doc: `{"registeredAt": "yesterday"}`, wantErr: `registeredAt: timestamp "yesterday" is neither ISO 8601 nor epoch seconds`},
		{name: "a timestamp past 9999", doc: `{"registeredAt": 1e300}`, wantErr: "registeredAt: timestamp 1e300 is outside the years 1-9999"},
		{name: "an ISO 8601 year that is 0 in UTC", doc: `{"registeredAt": "0001-01-01T00:30:00+01:00"}`, wantErr: "is outside the years 1-9999"},
		{name: "epoch seconds before 1970", doc: `{"registeredAt": -1.5}`,
			want: types.ContainerInstance{RegisteredAt: aws.Time(time.Unix(-2, 5e8).UTC())}},
		{name: "not JSON", doc: `{"status": `, wantErr: "unexpected end of JSON input"},
		{name: "two values", doc: `{} {}`, wantErr: "after top-level value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got types.ContainerInstance
			err := ecsjson.Unmarshal([]byte(tt.doc), &got, tt.unknown)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreUnexported(types.ContainerInstance{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// A map's keys are part of an error's path, even an empty one.
func TestUnmarshalMapErrors(t *testing.T) {
	var m map[string]types.Tag
	err := ecsjson.Unmarshal([]byte(`{"ok": {"key": "a"}, "": {"key": 1}}`), &m, ecsjson.RejectUnknown)
	if want := "key: want a string, got a number"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

func TestFormatTimeLikeCLIv2(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), "2026-11-20T09:00:00+00:00"},
		{time.Date(2026, 11, 20, 9, 0, 0, 123456789, time.UTC), "2026-11-20T09:00:00.123456+00:00"},
		{time.Date(2026, 11, 20, 10, 0, 0, 5e8, time.FixedZone("CET", 3600)), "2026-11-20T09:00:00.500000+00:00"},
	}
	for _, tt := range tests {
		if got := ecsjson.FormatTime(tt.in); got != tt.want {
			t.Errorf("FormatTime(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMarshalNamesTheMemberItCannotWrite(t *testing.T) {
	ci := types.ContainerInstance{RegisteredResources: []types.Resource{{}, {DoubleValue: math.NaN()}}}
	_, err := ecsjson.Marshal(ci, ecsjson.EpochSeconds)
	if want := "registeredResources[1].doubleValue: NaN has no JSON form"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}
