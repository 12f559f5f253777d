package snapshot_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/snapshot"
)

// Any input is a snapshot or an error; a snapshot that loads re-encodes into one that
// loads again, identically. Nothing panics.
func FuzzDecode(f *testing.F) {
	for _, p := range []string{"../../testdata/snapshots/headline.json", "../../testdata/snapshots/mixed.json", "../../testdata/snapshots/lazy.json", "testdata/cli-shaped.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"clusterName":"x","containerInstances":[{"containerInstanceArn":"a","status":"ACTIVE","registeredAt":1e300}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := snapshot.Decode(bytes.NewReader(raw))
		if err != nil {
			return
		}
		var first bytes.Buffer
		if err := snapshot.Encode(&first, s.Cluster, s.Simulation); err != nil {
			t.Fatalf("a loaded snapshot does not encode: %v", err)
		}
		again, err := snapshot.Decode(bytes.NewReader(first.Bytes()))
		if err != nil {
			t.Fatalf("an encoded snapshot does not load: %v\n%s", err, first.String())
		}
		var second bytes.Buffer
		if err := snapshot.Encode(&second, again.Cluster, again.Simulation); err != nil || second.String() != first.String() {
			t.Fatalf("encode(decode(encode(x))) differs (%v)", err)
		}
	})
}
