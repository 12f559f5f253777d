package snapshot_test

import (
	"bytes"
	"testing"

	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/snapshot"
)

// BenchmarkLoadSnapshotAtECSMaximums decodes the snapshot of the cluster the Decide
// benchmarks decide on (5,000 instances and a joiner, 5,000 services, 50,000 tasks):
// the cost of merely reading such a cluster, the yardstick for the planner's work.
func BenchmarkLoadSnapshotAtECSMaximums(b *testing.B) {
	c := ct.Generate(ct.GenOptions{Name: "max", Seed: 7, Instances: 5000, Joiners: 1, Zones: 3, Services: 5000, Tasks: 50000, Skew: 0.5})
	var buf bytes.Buffer
	if err := snapshot.Encode(&buf, c, snapshot.Simulation{TaskStartSeconds: 30, Now: ct.Epoch, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := snapshot.Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
