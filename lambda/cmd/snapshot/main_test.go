package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecslocal"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/snapshot"
)

// A capture of a served snapshot equals the snapshot, item for item.
func TestCaptureOfALoadedSnapshotEqualsIt(t *testing.T) {
	for _, name := range []string{"headline", "mixed", "large"} {
		t.Run(name, func(t *testing.T) {
			path := "../../../testdata/snapshots/" + name + ".json"
			served, err := snapshot.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := snapshot.Load(path)
			srv := ecslocal.New(sim.New(served.Cluster, served.Simulation.Options()), ecslocal.Options{Frozen: true})
			l, err := ecslocal.Listen("")
			if err != nil {
				t.Fatal(err)
			}
			go srv.Serve(l)
			defer srv.Close()
			t.Setenv("AWS_ENDPOINT_URL_ECS", "http://"+l.Addr().String())
			t.Setenv("AWS_REGION", "us-east-1")
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
			t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			t.Setenv("AWS_CONFIG_FILE", "/dev/null")
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")

			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			var out, errOut bytes.Buffer
			if code := run(ctx, []string{"-cluster", want.Cluster.Name}, &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			got, err := snapshot.Decode(&out)
			if err != nil {
				t.Fatalf("the capture does not load: %v", err)
			}
			if got.Simulation.Now.IsZero() {
				t.Error("the capture has no simulation.now")
			}
			var a, b bytes.Buffer
			snapshot.Encode(&a, want.Cluster, snapshot.Simulation{})
			snapshot.Encode(&b, got.Cluster, snapshot.Simulation{})
			if diff := cmp.Diff(a.String(), b.String()); diff != "" {
				t.Errorf("capture (-snapshot +capture):\n%s", diff)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), nil, &out, &errOut); code != 2 || errOut.Len() == 0 {
		t.Errorf("no -cluster: exit %d", code)
	}
}
