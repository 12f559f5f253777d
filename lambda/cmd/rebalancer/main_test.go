package main

import (
	"context"
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
)

func TestSetup(t *testing.T) {
	env := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_EC2_METADATA_DISABLED": "true"}
	getenv := func(k string) string { return env[k] }
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	if _, err := setup(context.Background(), getenv); err != nil {
		t.Fatalf("valid configuration: %v", err)
	}
	env["COV_PERCENT"] = "200"
	env["STRATEGY"] = "yolo"
	_, err := setup(context.Background(), getenv)
	if err == nil || !strings.Contains(err.Error(), "COV_PERCENT=200") || !strings.Contains(err.Error(), "STRATEGY=yolo") {
		t.Errorf("invalid configuration fails the init with every problem: %v", err)
	}
}

func TestMemoryLimit(t *testing.T) {
	unset := debug.SetMemoryLimit(-1)
	for _, tc := range []struct {
		name string
		env  map[string]string
		want int64
	}{
		{"lambda", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}, 128 << 20 * 8 / 10},
		{"GOMEMLIMIT wins", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "GOMEMLIMIT": "90MiB"}, unset},
		{"outside lambda", map[string]string{}, unset},
		{"nonsense", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "lots"}, unset},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := memoryLimit(func(k string) string { return tc.env[k] }); got != tc.want {
				t.Errorf("memoryLimit = %d, want %d", got, tc.want)
			}
		})
	}
}

// The function links the decision and the simulator its predictions run on, not the
// tools around it: the snapshot file format, the replay, the comparison, the
// baselines, the local endpoint, the test fixtures.
func TestTheFunctionLinksNoTool(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []string{"lambda/snapshot", "lambda/replay", "lambda/compare", "lambda/baseline", "lambda/ecslocal", "lambda/cluster/clustertest", "lambda/lambdatest"} {
		if strings.Contains(string(out), "/"+pkg+"\n") {
			t.Errorf("the function links %s", pkg)
		}
	}
}
