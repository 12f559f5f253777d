// Command invoke runs the real `bootstrap` once, by hand, the way Lambda does: it
// serves the Lambda Runtime API, starts the binary with the function's environment,
// hands it one event and prints the response (or the error) and the function's logs.
//
//	make build-local && AWS_ENDPOINT_URL_ECS=http://127.0.0.1:PORT \
//	  go run ./lambda/cmd/invoke -bootstrap build/local/bootstrap testdata/events/headline-join.json
//
// The function's environment is this process's: its settings (STRATEGY, DRY_RUN, ...),
// AWS_REGION, credentials and AWS_ENDPOINT_URL_ECS (the local ECS endpoint, say).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/lambdatest"
)

func main() { os.Exit(run(os.Args[1:], os.Environ(), os.Stdout, os.Stderr)) }

func run(args, environ []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bootstrap := fs.String("bootstrap", "build/local/bootstrap", "the function binary, built for this machine")
	timeout := fs.Duration("timeout", 665*time.Second, "the invocation's deadline (the function's timeout)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: invoke [-bootstrap PATH] [-timeout 665s] EVENT.json")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	event, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "invoke: %v\n", err)
		return 2
	}
	rt, err := lambdatest.Start()
	if err != nil {
		fmt.Fprintf(stderr, "invoke: %v\n", err)
		return 1
	}
	defer rt.Close()
	env := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME": "ecs-rebalancer", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
		"AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_LOG_FORMAT": "JSON", "_HANDLER": "bootstrap",
	}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	p, err := rt.Run(*bootstrap, env)
	if err != nil {
		fmt.Fprintf(stderr, "invoke: %v\n", err)
		return 1
	}
	defer p.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout+30*time.Second)
	defer cancel()
	res, err := rt.Invoke(ctx, event, *timeout)
	// The output is copied asynchronously: let the record and its metric line arrive.
	p.Lines("decision", 1)
	p.WaitFor(`"_aws"`)
	fmt.Fprint(stdout, p.Logs())
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "invoke: %v\n", err)
		if e := rt.InitError(); e != "" {
			fmt.Fprintf(stderr, "init error: %s\n", e)
		}
		return 1
	case res.Error != "":
		fmt.Fprintf(stderr, "invocation failed after %v: %s\n", res.Took.Round(time.Millisecond), res.Error)
		return 1
	}
	fmt.Fprintf(stderr, "invocation succeeded in %v\n", res.Took.Round(time.Millisecond))
	return 0
}
