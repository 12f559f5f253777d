package main

import (
	"context"
	"path/filepath"
	"testing"
)

// BenchmarkColdStart is the function's init after the runtime starts: configuration
// from the environment, validated, the SDK configuration with adaptive retry, the
// logger and the ECS client. Shared config files point nowhere, as on Lambda.
func BenchmarkColdStart(b *testing.B) {
	env := map[string]string{"CLUSTERS": "prod,staging", "STRATEGY": "auto", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}
	nowhere := filepath.Join(b.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_SESSION_TOKEN": "z",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": nowhere, "AWS_SHARED_CREDENTIALS_FILE": nowhere,
	} {
		b.Setenv(k, v)
		env[k] = v
	}
	getenv := func(k string) string { return env[k] }
	b.ReportAllocs()
	for b.Loop() {
		if _, err := setup(context.Background(), getenv); err != nil {
			b.Fatal(err)
		}
	}
}
