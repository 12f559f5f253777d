package cluster

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The rules both decoders (snapshot JSON and SDK types) apply, kept in one place.

// DefaultPercents are ECS's deployment configuration defaults when a service sets none:
// 100/200 % for REPLICA, 0/100 % for DAEMON (SDK types.DeploymentConfiguration).
func DefaultPercents(scheduling string) (minHealthy, maxPercent int32) {
	if scheduling == SchedulingDaemon {
		return 0, 100
	}
	return 100, 200
}

// FillServiceDefaults sets what DescribeServices leaves out when it is the default.
func FillServiceDefaults(s *Service) {
	if s.Status == "" {
		s.Status = ServiceActive
	}
	if s.SchedulingStrategy == "" {
		s.SchedulingStrategy = SchedulingReplica
	}
	if s.DeploymentController == "" {
		s.DeploymentController = ControllerECS
	}
}

// NormalizeTaskStatus maps ECS's task lifecycle onto the model's: the states on the way
// up (PROVISIONING, PENDING, ACTIVATING) are PENDING. A live task (desired RUNNING) in a
// state on the way down is reported as an error.
func NormalizeTaskStatus(last, desired string) (string, error) {
	if desired != TaskRunning {
		return "", fmt.Errorf("desiredStatus %q: only live tasks (desiredStatus RUNNING) are modelled", desired)
	}
	switch last {
	case TaskRunning:
		return TaskRunning, nil
	case "PROVISIONING", TaskPending, "ACTIVATING":
		return TaskPending, nil
	}
	return "", fmt.Errorf("lastStatus %q with desiredStatus RUNNING is not a state ECS reports", last)
}

// DeriveUnreported sets what ECS's descriptions do not carry, once every item is in:
// each service's TaskSize from its live tasks (the largest cpu, memory and ENI count
// among them: neither snapshots nor DescribeServices carry the task definition), its
// static host ports, and each instance's ENIs left. It returns notes on what it had to
// assume.
func (c *Cluster) DeriveUnreported() []string {
	for _, s := range c.services {
		var size Resources
		for t := range s.tasks {
			size.CPU = max(size.CPU, t.Size.CPU)
			size.Memory = max(size.Memory, t.Size.Memory)
			size.ENIs = max(size.ENIs, t.Size.ENIs)
		}
		s.TaskSize = size
	}
	return c.deriveNetwork()
}

// ParseCPU reads a task-level cpu value: CPU units ("256") or vCPU ("0.25 vCPU").
// Empty means the task reserves no task-level CPU.
func ParseCPU(s string) (int64, error) { return parseSize(s, "vcpu", "cpu") }

// ParseMemory reads a task-level memory value: MiB ("512") or GB ("2 GB").
func ParseMemory(s string) (int64, error) { return parseSize(s, "gb", "memory") }

func parseSize(s, unit, what string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	num, scale := s, 1.0
	if n, ok := strings.CutSuffix(strings.ToLower(s), unit); ok {
		num, scale = strings.TrimSpace(n), 1024
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) {
		return 0, fmt.Errorf("invalid %s %q", what, s)
	}
	return int64(math.Round(v * scale)), nil
}

// FormatSize writes a size the way DescribeTasks reports it ("256"); zero is "".
func FormatSize(v int64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}
