// Command compare runs ecs-rebalancer's strategies and the baselines on the scenario
// family and the recorded snapshots, and writes docs/comparison.{md,json} and the chart
// (`make compare`).
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/compare"
)

func main() {
	out := flag.String("out", "docs", "directory for comparison.md, comparison.json and the chart")
	snapshots := flag.String("snapshots", "testdata/snapshots", "recorded snapshots to include")
	events := flag.String("events", "testdata/events", "their join events (<name>-join.json)")
	settings := flag.String("settings", "", "write only the settings table, to this file (make settings)")
	flag.Parse()
	if *settings != "" {
		if err := writeSettings(*settings); err != nil {
			fmt.Fprintln(os.Stderr, "compare:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*out, *snapshots, *events); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func run(out, snapshots, events string) error {
	start := time.Now()
	report, err := compare.Compare(snapshots, events)
	if err != nil {
		return err
	}
	if err := report.Write(out); err != nil {
		return err
	}
	fmt.Printf("%d scenarios x %d policies in %v; wrote %s/comparison.md, comparison.json\n",
		len(report.Scenarios), len(report.Policies), time.Since(start).Round(time.Millisecond), out)
	for _, name := range report.Policies {
		s := report.Summary[name]
		fmt.Printf("  %-22s acted %2d/%d  median churn %s  worst %s  mean COV after %6.2f%%  below-min %d  ineligible %d  foreign drains undone %d\n",
			name, s.Acted, s.Scenarios, fmtRatio(s.MedianChurnRatio), fmtRatio(s.WorstChurnRatio), s.MeanCOVAfter, s.BelowMinHealthy, s.IneligibleTouched, s.ForeignDrainReactivated)
	}
	return nil
}

func fmtRatio(v *float64) string {
	if v == nil {
		return "   -"
	}
	return fmt.Sprintf("%4.2f", *v)
}

func writeSettings(path string) error {
	start := time.Now()
	var b strings.Builder
	compare.WriteSettings(&b, compare.Settings())
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s in %v\n", path, time.Since(start).Round(time.Millisecond))
	return nil
}
