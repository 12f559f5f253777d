package event_test

import (
	"testing"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/event"
)

// BenchmarkDecode is the first thing every invocation does: decode and classify a
// recorded join (schema-complete.json carries every field ECS documents, attributes
// and resources included).
func BenchmarkDecode(b *testing.B) {
	raw := load(b, "schema-complete.json")
	actsOn := func(name, _ string) bool { return name == "default" || name == "demo" || name == "my-cluster" }
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		ev, err := event.Decode(raw)
		if err != nil {
			b.Fatal(err)
		}
		if v := ev.Classify(actsOn); v.Kind != event.Candidate {
			b.Fatalf("classified %+v", v)
		}
	}
}
