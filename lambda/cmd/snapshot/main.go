// Command snapshot writes a snapshot (docs/simulator.md, "Snapshots") of a live cluster, read with
// the same batched reader the Lambda uses and the standard AWS credential chain:
//
//	go run ./lambda/cmd/snapshot -cluster NAME > cluster.json
//
// AWS_ENDPOINT_URL_ECS points it at another endpoint (ecslocal, for instance).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsclient"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/snapshot"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("snapshot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("cluster", "", "cluster name or ARN")
	out := fs.String("o", "", "write to this file instead of standard output")
	if err := fs.Parse(args); err != nil || *name == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: snapshot -cluster NAME [-o FILE]")
		return 2
	}
	api, err := ecsclient.NewClient(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "snapshot: aws configuration: %v\n", err)
		return 1
	}
	c, notes, err := ecsclient.Read(ctx, api, *name)
	if err != nil {
		fmt.Fprintf(stderr, "snapshot: %v\n", err)
		return 1
	}
	for _, n := range notes {
		fmt.Fprintf(stderr, "snapshot: note: %s\n", n)
	}
	for _, n := range snapshot.TimingNotes(c) {
		fmt.Fprintf(stderr, "snapshot: timing: %s\n", n)
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintf(stderr, "snapshot: %v\n", err)
			return 1
		}
		defer f.Close()
		w = f
	}
	sim := snapshot.Simulation{TaskStartSeconds: snapshot.DefaultTaskStartSeconds, Now: time.Now().UTC().Truncate(time.Second), Seed: snapshot.DefaultSeed}
	if err := snapshot.Encode(w, c, sim); err != nil {
		fmt.Fprintf(stderr, "snapshot: %v\n", err)
		return 1
	}
	return 0
}
