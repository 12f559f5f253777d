package snapshot

import (
	"bytes"
	"encoding/json"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsclient"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsjson"
)

// Encode writes the cluster as a snapshot: live tasks only, the counts derived from
// them, timestamps as the AWS CLI v2 shows them, two-space indentation. A zero
// Simulation writes no simulation block; a zero Now writes no now.
func Encode(w io.Writer, c *cluster.Cluster, sim Simulation) error {
	f := file{ClusterName: c.Name, ClusterArn: c.ARN}
	// The counts are stated: the API's values, which the wrappers' own members shadow.
	for _, i := range c.Instances() {
		ci := ecsclient.InstanceToAPI(i)
		f.ContainerInstances = append(f.ContainerInstances, instanceItem{ContainerInstance: ci,
			RunningTasksCount: aws.Int32(ci.RunningTasksCount), PendingTasksCount: aws.Int32(ci.PendingTasksCount)})
	}
	for _, s := range c.Services() {
		sv := ecsclient.ServiceToAPI(s, true)
		f.Services = append(f.Services, serviceItem{Service: sv, RunningCount: aws.Int32(sv.RunningCount), PendingCount: aws.Int32(sv.PendingCount)})
	}
	for _, t := range c.AllTasks() {
		if t.Live() {
			f.Tasks = append(f.Tasks, ecsclient.TaskToAPI(t))
		}
	}
	if !sim.IsZero() {
		f.Simulation = &simulationJSON{TaskStartSeconds: &sim.TaskStartSeconds, Seed: &sim.Seed}
		if !sim.Now.IsZero() {
			f.Simulation.Now = &sim.Now
		}
		if len(sim.Timing) > 0 {
			f.Simulation.Services = make(map[string]serviceSimulationJSON, len(sim.Timing))
		}
		for name, o := range sim.Timing {
			f.Simulation.Services[name] = serviceSimulationJSON{StartSeconds: secondsOf(o.Start), StopTimeoutSeconds: secondsOf(o.StopTimeout), DeregistrationDelaySeconds: secondsOf(o.DeregistrationDelay)}
		}
	}
	compact, err := ecsjson.Marshal(f, ecsjson.ISO8601)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	out.Grow(len(compact) * 2)
	if err := json.Indent(&out, compact, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = out.WriteTo(w)
	return err
}

func secondsOf(d *time.Duration) *int {
	if d == nil {
		return nil
	}
	n := int(*d / time.Second)
	return &n
}
