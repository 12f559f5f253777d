// Command ecslocal serves a cluster snapshot as an ECS endpoint on the loopback
// address, for the real Lambda binary, the SDK (AWS_ENDPOINT_URL_ECS) or the AWS CLI
// (--endpoint-url):
//
//	go run ./lambda/cmd/ecslocal -cluster testdata/snapshots/headline.json
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecslocal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(ecslocal.Main(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
