// Package baseline holds the approaches ecs-rebalancer is compared with, written as the
// published tools behave, so `make compare` can run them through the same simulator. It
// is never linked into the Lambda binary (a test in package compare checks).
//
// Each policy reads and acts only through the ECS API, as the tools do: what it costs
// in calls and restarts is measured by the simulator, not assumed.
package baseline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/clock"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsclient"
)

// Policy names.
const (
	RedeployAll    = "redeploy-all"
	DrainBusiest   = "drain-busiest"
	RedeployUneven = "redeploy-uneven"
)

// Policy runs once for a join on clusterID.
type Policy func(ctx context.Context, api ecsclient.API, clock clock.Clock, clusterID string) error

// ByName returns the baseline of that name, or nil.
func ByName(name string) Policy {
	switch name {
	case RedeployAll:
		return redeployAll
	case DrainBusiest:
		return drainBusiest
	case RedeployUneven:
		return redeployUneven
	}
	return nil
}

// redeployAll is the AWS sample's reaction to a join: a new deployment of every service
// in the cluster, whatever its kind.
func redeployAll(ctx context.Context, api ecsclient.API, _ clock.Clock, clusterID string) error {
	arns, err := ecsclient.ServiceARNs(ctx, api, clusterID)
	if err != nil {
		return fmt.Errorf("list services: %w", err)
	}
	return forceNewDeployments(ctx, api, clusterID, arns)
}

func forceNewDeployments(ctx context.Context, api ecsclient.API, clusterID string, services []string) error {
	var errs []error
	for _, s := range services {
		if _, err := api.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: &clusterID, Service: aws.String(s), ForceNewDeployment: true}); err != nil {
			errs = append(errs, fmt.Errorf("update service %s: %w", s, err))
		}
	}
	return errors.Join(errs...)
}

// Drain-busiest's settings, as the published script has them.
const (
	drainGate    = 25.0             // COV percent above which it acts
	drainFor     = 60 * time.Second // the longest it waits for the drained instance
	drainPolling = 5 * time.Second
)

// drainBusiest is the COV-gated script: above 25 % it drains the instance running the
// most tasks until its count is at or below the mean or 60 s pass, then sets every
// DRAINING instance ACTIVE again, whoever drained it.
func drainBusiest(ctx context.Context, api ecsclient.API, clock clock.Clock, clusterID string) error {
	all, err := ecsclient.ReadInstances(ctx, api, clusterID)
	if err != nil {
		return fmt.Errorf("read instances: %w", err)
	}
	var active []cluster.InstanceCount
	for _, ic := range all {
		if ic.Instance.Status == cluster.StatusActive {
			active = append(active, ic)
		}
	}
	counts := cluster.Counts(active)
	if cluster.COV(counts) <= drainGate {
		return nil
	}
	busiest := active[0]
	total := 0
	for _, ic := range active {
		total += ic.Count
		if ic.Count > busiest.Count {
			busiest = ic
		}
	}
	mean := float64(total) / float64(len(active))

	err = setState(ctx, api, clusterID, types.ContainerInstanceStatusDraining, []string{busiest.Instance.ARN})
	if err == nil {
		err = waitBelow(ctx, api, clock, clusterID, busiest.Instance.ARN, mean)
	}
	// The script's last step, whatever happened before it.
	return errors.Join(err, reactivateAll(ctx, api, clusterID))
}

func waitBelow(ctx context.Context, api ecsclient.API, clock clock.Clock, clusterID, arn string, mean float64) error {
	for start := clock.Now(); clock.Now().Sub(start) < drainFor; {
		if err := clock.Sleep(ctx, drainPolling); err != nil {
			return err
		}
		out, err := api.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: &clusterID, ContainerInstances: []string{arn}})
		if err != nil {
			return fmt.Errorf("describe %s: %w", arn, err)
		}
		if len(out.ContainerInstances) == 0 || float64(out.ContainerInstances[0].RunningTasksCount) <= mean {
			return nil
		}
	}
	return nil
}

func reactivateAll(ctx context.Context, api ecsclient.API, clusterID string) error {
	arns, err := ecsclient.InstanceARNs(ctx, api, clusterID, types.ContainerInstanceStatusDraining)
	if err != nil {
		return fmt.Errorf("list draining instances: %w", err)
	}
	var errs []error
	for len(arns) > 0 {
		n := min(len(arns), ecsclient.MaxUpdateInstancesState)
		errs = append(errs, setState(ctx, api, clusterID, types.ContainerInstanceStatusActive, arns[:n]))
		arns = arns[n:]
	}
	return errors.Join(errs...)
}

func setState(ctx context.Context, api ecsclient.API, clusterID string, status types.ContainerInstanceStatus, arns []string) error {
	out, err := api.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{Cluster: &clusterID, ContainerInstances: arns, Status: status})
	if err != nil {
		return fmt.Errorf("set %s: %w", status, err)
	}
	if len(out.Failures) > 0 {
		return fmt.Errorf("set %s: %s %s", status, aws.ToString(out.Failures[0].Arn), aws.ToString(out.Failures[0].Reason))
	}
	return nil
}

// redeployUneven forces a new deployment of every service whose tasks per ACTIVE
// instance differ by more than one (instances without any of its tasks count as zero).
func redeployUneven(ctx context.Context, api ecsclient.API, _ clock.Clock, clusterID string) error {
	c, _, err := ecsclient.Read(ctx, api, clusterID)
	if err != nil {
		return fmt.Errorf("read cluster: %w", err)
	}
	var uneven []string
	for _, s := range c.Services() {
		perInstance := c.ServiceCountsByInstance(s)
		lo, hi := math.MaxInt, 0
		for _, i := range c.Instances() {
			if i.Status != cluster.StatusActive {
				continue
			}
			lo, hi = min(lo, perInstance[i.ARN]), max(hi, perInstance[i.ARN])
		}
		if hi-lo > 1 {
			uneven = append(uneven, s.Name)
		}
	}
	return forceNewDeployments(ctx, api, clusterID, uneven)
}
