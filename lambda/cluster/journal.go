package cluster

import "maps"

// A journal lets a cluster try something and take it back: Checkpoint marks a point,
// every change after it saves the changed item's earlier state once, and Rollback puts
// those states back in place. Predictions run every candidate on the same model this
// way: copying 50,000 tasks for each one costs more than the run, and a run changes a
// few services and the instances their tasks land on.
//
// Items are restored in place, so every pointer to an instance, service or task stays
// valid across a rollback. The cluster's own methods save what they change; code that
// edits an item's exported fields directly (the simulator) calls Changing* first.

// Mark is a point a cluster can roll back to.
type Mark struct {
	instances, services, tasks int // the cluster's lists
	savedInstances             int
	savedServices              int
	savedTasks                 int
}

type journal struct {
	open  int    // checkpoints taken and not rolled back
	epoch uint64 // items saved since the latest checkpoint or rollback carry it

	instances []savedInstance
	services  []savedService
	tasks     []savedTask
}

type savedInstance struct {
	at  *Instance
	was Instance
}

type savedService struct {
	at          *Service
	was         Service
	deployments []Deployment // the values behind was.Deployments, edited in place
}

type savedTask struct {
	at  *Task
	was Task
}

// Checkpoint marks the cluster's state for Rollback. Checkpoints nest: roll back to the
// latest first.
func (c *Cluster) Checkpoint() Mark {
	j := &c.journal
	j.open++
	j.epoch++
	return Mark{
		instances: len(c.instances), services: len(c.services), tasks: len(c.tasks),
		savedInstances: len(j.instances), savedServices: len(j.services), savedTasks: len(j.tasks),
	}
}

// Rollback restores the state at m: items changed since are put back, items added
// since are gone.
func (c *Cluster) Rollback(m Mark) {
	j := &c.journal
	for k := len(j.tasks) - 1; k >= m.savedTasks; k-- {
		*j.tasks[k].at = j.tasks[k].was
	}
	for k := len(j.instances) - 1; k >= m.savedInstances; k-- {
		*j.instances[k].at = j.instances[k].was
	}
	for k := len(j.services) - 1; k >= m.savedServices; k-- {
		e := j.services[k]
		*e.at = e.was
		for n, d := range e.deployments {
			*e.at.Deployments[n] = d
		}
	}
	clear(j.tasks[m.savedTasks:])
	clear(j.instances[m.savedInstances:])
	clear(j.services[m.savedServices:])
	j.tasks, j.instances, j.services = j.tasks[:m.savedTasks], j.instances[:m.savedInstances], j.services[:m.savedServices]

	for _, t := range c.tasks[m.tasks:] {
		delete(c.taskIndex, t.ID())
	}
	for _, i := range c.instances[m.instances:] {
		delete(c.instIndex, i.ARN)
		delete(c.instIndex, i.ID())
	}
	for _, s := range c.services[m.services:] {
		delete(c.svcIndex, s.Name)
		if s.ARN != "" {
			delete(c.svcIndex, s.ARN)
		}
	}
	clear(c.tasks[m.tasks:])
	c.tasks, c.instances, c.services = c.tasks[:m.tasks], c.instances[:m.instances], c.services[:m.services]
	c.denseFor = nil // its counts may be of a service put back
	j.open--
	j.epoch++
}

// ChangingInstance saves i before its exported fields are edited directly.
func (c *Cluster) ChangingInstance(i *Instance) {
	j := &c.journal
	if j.open == 0 || i.epoch == j.epoch {
		return
	}
	was := *i
	was.Attributes = append([]Attribute(nil), i.Attributes...)
	was.heldPorts = append([]HostPort(nil), i.heldPorts...)
	was.tasks = maps.Clone(i.tasks)
	j.instances = append(j.instances, savedInstance{at: i, was: was})
	i.epoch = j.epoch
}

// ChangingService saves s (its deployments included) before its exported fields are
// edited directly.
func (c *Cluster) ChangingService(s *Service) {
	j := &c.journal
	if j.open == 0 || s.epoch == j.epoch {
		return
	}
	was := *s
	was.Deployments = append([]*Deployment(nil), s.Deployments...)
	was.tasks = maps.Clone(s.tasks)
	was.onInstance = maps.Clone(s.onInstance)
	was.inZone = maps.Clone(s.inZone)
	e := savedService{at: s, was: was, deployments: make([]Deployment, len(s.Deployments))}
	for n, d := range s.Deployments {
		e.deployments[n] = *d
	}
	j.services = append(j.services, e)
	s.epoch = j.epoch
}

// ChangingTask saves t before its exported fields are edited directly.
func (c *Cluster) ChangingTask(t *Task) {
	j := &c.journal
	if j.open == 0 || t.epoch == j.epoch {
		return
	}
	j.tasks = append(j.tasks, savedTask{at: t, was: *t})
	t.epoch = j.epoch
}
