package event_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/event"
)

// Any input decodes or is ErrMalformed, and whatever decodes classifies; nothing
// panics.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("../../testdata/events/*.json")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"source":"aws.ecs","detail-type":"ECS Container Instance State Change","detail":{"clusterArn":"x","containerInstanceArn":"y","status":"ACTIVE","attributes":[{"name":1}]}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := event.Decode(raw)
		if err != nil {
			if !errors.Is(err, event.ErrMalformed) {
				t.Fatalf("an error that is not ErrMalformed: %v", err)
			}
			return
		}
		v := ev.Classify(func(string, string) bool { return true })
		if v.Kind == "" || v.Reason == "" {
			t.Fatalf("a verdict without kind or reason: %+v", v)
		}
		if v.Kind == event.Candidate && (ev.Instance == nil || ev.Instance.ContainerInstanceARN == "") {
			t.Fatalf("a candidate without an instance: %+v", ev)
		}
	})
}
