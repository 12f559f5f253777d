package ecsjson_test

import (
	"bytes"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsjson"
)

// Any input is a value or an error, in either mode; a value read back from what it
// writes writes the same again. Nothing panics.
func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte(`{"tasks":[{"taskArn":"t1","cpu":"256","createdAt":1795002302.5,"containers":[{"networkBindings":[{"hostPort":80}]}]}]}`))
	f.Add([]byte(`{"tasks":[{"startedAt":"2026-11-18T12:45:02.5+01:00","version":9007199254740993,"attachments":[{"details":[{"name":"x"}]}]}],"failures":[]}`))
	f.Add([]byte(`{"tasks":[{"group":"s\u00e9rvice:\"web\"","tags":[{"key":"a\\b"}]}], "nextToken": null}`))
	f.Add([]byte(`{"tasks":[{"overrides":{"containerOverrides":[{"environment":[{"name":"A","value":"1"}]}]}}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, unknown := range []ecsjson.Unknown{ecsjson.RejectUnknown, ecsjson.IgnoreUnknown} {
			var out ecs.DescribeTasksOutput
			if err := ecsjson.Unmarshal(raw, &out, unknown); err != nil {
				continue
			}
			for _, times := range []ecsjson.Times{ecsjson.EpochSeconds, ecsjson.ISO8601} {
				first, err := ecsjson.Marshal(&out, times)
				if err != nil {
					continue // a NaN cannot come from JSON, so this is a bug
				}
				var again ecs.DescribeTasksOutput
				if err := ecsjson.Unmarshal(first, &again, ecsjson.RejectUnknown); err != nil {
					t.Fatalf("what Marshal wrote does not read back: %v\n%s", err, first)
				}
				second, err := ecsjson.Marshal(&again, times)
				if err != nil || (times == ecsjson.ISO8601 && !bytes.Equal(first, second)) {
					t.Fatalf("marshal(unmarshal(marshal(x))) differs (%v):\n%s\n%s", err, first, second)
				}
			}
		}
	})
}
