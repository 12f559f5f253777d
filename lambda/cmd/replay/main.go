// Command replay runs the rebalancer's handler against a cluster snapshot, offline:
//
//	go run ./lambda/cmd/replay -cluster SNAPSHOT.json [-json] EVENT.json...
package main

import (
	"fmt"
	"os"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/replay"
)

func main() {
	for _, w := range config.Unknown(os.Environ()) {
		fmt.Fprintln(os.Stderr, "replay: warning:", w)
	}
	os.Exit(replay.Main(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}
