// Command app is the CDK app of cdk.json: `cdk synth -c clusterName=NAME` attaches
// the rebalancer to an existing cluster, `-c demo=true` provisions the demo cluster.
// The function's settings come from the same environment variables it reads
// (STRATEGY, COV_PERCENT, DRY_RUN, ...) and are validated here, at synth.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/ecs-rebalancer/ecs-rebalancer/ecsrebalancer"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/config"
)

func main() { os.Exit(run()) }

// run synthesizes the app and returns the exit status; the deferred jsii.Close runs
// before main exits (os.Exit would skip it).
func run() int {
	defer jsii.Close()
	settings, err := config.FromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "invalid rebalancer settings:\n%v\n", err)
		return 1
	}
	for _, w := range config.Unknown(os.Environ()) {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}
	app := awscdk.NewApp(nil)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	context := func(key string) string {
		if v, ok := app.Node().TryGetContext(jsii.String(key)).(string); ok {
			return v
		}
		return ""
	}
	if _, err := ecsrebalancer.BuildApp(app, ecsrebalancer.AppContext{
		ClusterName: context("clusterName"),
		Demo:        context("demo") == "true",
		Package:     context("package") == "true",
		StackOptions: ecsrebalancer.StackOptions{
			Schedule:   context("schedule"),
			AlarmEmail: context("alarmEmail"),
			Settings:   &settings,
		},
	}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	app.Synth(nil)
	return 0
}
