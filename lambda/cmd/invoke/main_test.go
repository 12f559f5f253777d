//go:build e2e

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecslocal"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/snapshot"
)

// The README's by-hand invocation: the released binary, one event, through the local
// ECS endpoint, in dry run.
func TestInvokeByHand(t *testing.T) {
	bootstrap := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bootstrap, "../rebalancer")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOARCH="+runtime.GOARCH)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	snap, err := snapshot.Load("../../../testdata/snapshots/headline.json")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	snap.Cluster.Shift(now.Sub(snap.Simulation.Now))
	srv := ecslocal.New(sim.New(snap.Cluster, sim.Options{Now: now, TaskStart: 30 * time.Second, Seed: 1}), ecslocal.Options{})
	l, err := ecslocal.Listen("")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	// The function re-describes the joiner; the event is only a hint.
	event := "../../../testdata/events/headline-join.json"
	env := []string{"PATH=" + os.Getenv("PATH"), "DRY_RUN=true", "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=y",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_ENDPOINT_URL_ECS=http://" + l.Addr().String()}
	var out, errOut bytes.Buffer
	if code := run([]string{"-bootstrap", bootstrap, "-timeout", "60s", event}, env, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\nstderr: %s\nstdout: %s", code, errOut.String(), out.String())
	}
	if !strings.Contains(out.String(), `"decision"`) || !strings.Contains(errOut.String(), "invocation succeeded") {
		t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
	}
	if n := srv.Sim().Stats().MutatingCalls; n != 0 {
		t.Errorf("dry run made %d mutating calls", n)
	}
}
