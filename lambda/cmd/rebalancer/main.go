// Command rebalancer is the Lambda entry point (it builds `bootstrap`). It only wires:
// configuration and the ECS client once per cold start, then the handler.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/clock"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsclient"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/rebalance"
)

func main() {
	debug.SetMemoryLimit(memoryLimit(os.Getenv))
	h, err := setup(context.Background(), os.Getenv)
	if err != nil {
		// Failing the init beats running half-configured: Lambda reports the init error
		// and no event is processed with a bad configuration.
		slog.New(lambdacontext.NewLogHandler()).Error("init failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

// environ is the process's environment, for the check of misspelled settings.
var environ = os.Environ

// setup builds the handler: configuration, logger, and the SDK client with adaptive
// retry (client-side rate limiting when ECS throttles).
func setup(ctx context.Context, getenv func(string) string) (*rebalance.Handler, error) {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	api, err := ecsclient.NewClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws configuration: %w", err)
	}
	log := slog.New(minLevel{Handler: lambdacontext.NewLogHandler(), level: cfg.LogLevel})
	for _, w := range config.Unknown(environ()) {
		log.Warn(w) // a misspelled setting would otherwise be ignored without a word
	}
	return rebalance.New(rebalance.Options{
		Config:  cfg,
		API:     api,
		Clock:   clock.Real{},
		Log:     log,
		Metrics: os.Stdout, // the function's log stream, where CloudWatch reads EMF
	}), nil
}

// memoryLimit is the Go runtime's soft memory limit: 80% of the function's memory, so
// the collector works harder as the heap nears it instead of letting it grow to twice
// the live data (about 80 MB at ECS's maximums: the model and a prediction's copy)
// past Lambda's hard limit. GOMEMLIMIT, when set, wins; outside Lambda nothing changes.
func memoryLimit(getenv func(string) string) int64 {
	keep := debug.SetMemoryLimit(-1)
	if getenv("GOMEMLIMIT") != "" {
		return keep
	}
	mb, err := strconv.ParseInt(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), 10, 64)
	if err != nil || mb <= 0 {
		return keep
	}
	return mb << 20 * 8 / 10
}

// minLevel drops records below LOG_LEVEL (lambdacontext follows only the Lambda
// log-level setting).
type minLevel struct {
	slog.Handler
	level slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.level && m.Handler.Enabled(ctx, l)
}

func (m minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{Handler: m.Handler.WithAttrs(as), level: m.level}
}

func (m minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: m.Handler.WithGroup(name), level: m.level}
}
