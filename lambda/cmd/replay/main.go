// Command replay runs the rebalancer's handler against a cluster snapshot, offline:
//
//	go run ./lambda/cmd/replay -cluster SNAPSHOT.json [-json] EVENT.json...
package main

import (
	"os"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/replay"
)

func main() {
	os.Exit(replay.Main(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}
