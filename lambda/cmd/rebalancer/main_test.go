package main

import (
	"context"
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
