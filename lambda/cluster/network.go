package cluster

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Host ports and elastic network interfaces: the two things besides CPU and memory that
// decide whether a task fits on an instance.
//
// A task in bridge or host network mode whose container maps a static host port cannot
// share an instance with another task binding that port (ECS Developer Guide, "Task
// definition parameters", portMappings hostPort). A task in awsvpc network mode on EC2
// takes one elastic network interface, and an instance takes as many as its type allows
// minus its primary interface, more with ENI trunking (ECS Developer Guide, "Increasing
// Amazon ECS Linux container instance network interfaces").

// Protocols a host port is bound with.
const (
	ProtocolTCP = "tcp"
	ProtocolUDP = "udp"
)

// Attributes ECS sets on container instances that the ENI limit depends on.
const (
	InstanceTypeAttribute = "ecs.instance-type"
	TrunkAttribute        = "ecs.awsvpc-trunk-id" // present once ECS attached a trunk interface
)

// ENIAttachment is the attachment type DescribeTasks gives an awsvpc task's interface.
const ENIAttachment = "ElasticNetworkInterface"

// NoENILimit is the ENI count of an instance whose type the table lacks: its awsvpc
// tasks are not limited (a note says so). It is large enough never to bind, small
// enough that sums over 5,000 instances stay far from overflow.
const NoENILimit = 1 << 20

// dynamicPortStart is where Linux's default ephemeral port range begins
// (net.ipv4.ip_local_port_range, 32768-60999), from which ECS assigns dynamic host
// ports. A port a lone task binds from here up is taken to be one of those.
const dynamicPortStart = 32768

// HostPort is a port on the instance that a task's container binds.
type HostPort struct {
	Port     int32
	Protocol string // ProtocolTCP or ProtocolUDP
}

func (p HostPort) String() string { return fmt.Sprintf("%d/%s", p.Port, p.Protocol) }

// Container is what a described task says of one of its containers that the model
// uses: its sizes (strings, as DescribeTasks gives them) and its network bindings.
type Container struct {
	Name                           string
	CPU, Memory, MemoryReservation string
	Bindings                       []Binding
}

// Binding is one of a container's networkBindings.
type Binding struct {
	HostPort int32
	Protocol string // "" is tcp
}

// FromContainers fills in what the task-level fields of a described task leave out:
// cpu and memory set per container (common on EC2; the instance reserves their sum,
// each container's memoryReservation where set, else its memory) and the host ports
// its containers bind. A port outside 1-65535 or an unknown protocol is an error.
func FromContainers(t *Task, cs []Container) error {
	var sum Resources
	for _, c := range cs {
		cpu, err := ParseCPU(c.CPU)
		if err != nil {
			return fmt.Errorf("container %s: %w", c.Name, err)
		}
		mem := c.MemoryReservation
		if mem == "" || mem == "0" {
			mem = c.Memory
		}
		m, err := ParseMemory(mem)
		if err != nil {
			return fmt.Errorf("container %s: %w", c.Name, err)
		}
		sum.CPU += cpu
		sum.Memory += m
		for _, b := range c.Bindings {
			p, err := hostPort(b.HostPort, b.Protocol)
			if err != nil {
				return fmt.Errorf("container %s: %w", c.Name, err)
			}
			if !slices.Contains(t.HostPorts, p) {
				t.HostPorts = append(t.HostPorts, p)
			}
		}
	}
	if t.Size.CPU == 0 {
		t.Size.CPU = sum.CPU
	}
	if t.Size.Memory == 0 {
		t.Size.Memory = sum.Memory
	}
	return nil
}

// AttachENI reads one of a described task's attachments. An ElasticNetworkInterface
// attachment makes it an awsvpc task: it takes one interface of its container instance
// (a Fargate task's is not an instance's), and its container ports are on that
// interface, so it binds no host port. Call it after FromContainers.
func AttachENI(t *Task, attachmentType string) {
	if attachmentType != ENIAttachment {
		return
	}
	t.HostPorts = nil
	if t.InstanceARN != "" {
		t.Size.ENIs = 1
	}
}

// Resource names of a container instance's host ports.
const (
	PortsResource    = "PORTS"
	PortsUDPResource = "PORTS_UDP"
)

func hostPort(port int32, protocol string) (HostPort, error) {
	p := strings.ToLower(protocol)
	if p == "" {
		p = ProtocolTCP
	}
	if p != ProtocolTCP && p != ProtocolUDP {
		return HostPort{}, fmt.Errorf("network binding protocol %q is neither tcp nor udp", protocol)
	}
	if port < 1 || port > 65535 {
		return HostPort{}, fmt.Errorf("host port %d is outside 1-65535", port)
	}
	return HostPort{Port: port, Protocol: p}, nil
}

// ParsePorts reads a PORTS or PORTS_UDP resource's stringSetValue: the host ports the
// instance keeps for itself (22, 2375, 2376, 51678, 51679 on the ECS-optimized AMI).
// It returns every port that parses, and an error naming each one that does not.
func ParsePorts(values []string, protocol string) ([]HostPort, error) {
	var out []HostPort
	var errs []error
	for _, v := range values {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil {
			errs = append(errs, fmt.Errorf("port %q is not a number", v))
			continue
		}
		p, err := hostPort(int32(n), protocol)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, p)
	}
	return out, errors.Join(errs...)
}

// ReservedPorts reads one of an instance's registered resources: the ports it keeps
// for itself if the resource is PORTS or PORTS_UDP, nothing otherwise.
func ReservedPorts(name string, values []string) ([]HostPort, error) {
	switch name {
	case PortsResource:
		return ParsePorts(values, ProtocolTCP)
	case PortsUDPResource:
		return ParsePorts(values, ProtocolUDP)
	}
	return nil, nil
}

// FormatPorts writes the ports of one protocol as a PORTS stringSetValue, in order.
func FormatPorts(ports []HostPort, protocol string) []string {
	out := []string{}
	for _, p := range ports {
		if p.Protocol == protocol {
			out = append(out, strconv.Itoa(int(p.Port)))
		}
	}
	return out
}

// UsedPorts returns the host ports the instance cannot give a new task: those it keeps
// for itself, those its live tasks bind and those stopped tasks still hold.
func (i *Instance) UsedPorts() []HostPort {
	out := slices.Clone(i.ReservedPorts)
	for _, t := range i.Tasks() {
		out = append(out, t.HostPorts...)
	}
	out = append(out, i.heldPorts...)
	slices.SortFunc(out, func(a, b HostPort) int {
		if a.Protocol != b.Protocol {
			return strings.Compare(a.Protocol, b.Protocol)
		}
		return int(a.Port - b.Port)
	})
	return slices.Compact(out)
}

// PortsFree reports whether a task binding ports could start on i now: no port is
// kept by the instance, bound by a live task or held by a stopping one.
func (i *Instance) PortsFree(ports []HostPort) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if slices.Contains(i.ReservedPorts, p) || slices.Contains(i.heldPorts, p) {
			return false
		}
	}
	for t := range i.tasks {
		for _, p := range t.HostPorts {
			if slices.Contains(ports, p) {
				return false
			}
		}
	}
	return true
}

// ENILimit is how many awsvpc tasks the instance can run by its type (the
// ecs.instance-type attribute) and whether it has a trunk interface; known is false
// for a type the table lacks, and the limit is then NoENILimit.
func ENILimit(i *Instance) (limit int64, known bool) {
	typ, _ := i.Attribute(InstanceTypeAttribute)
	l, ok := eniTable[typ]
	if !ok {
		return NoENILimit, false
	}
	if _, trunk := i.Attribute(TrunkAttribute); trunk {
		if l.trunk == 0 {
			return int64(l.plain), true // the type does not support trunking
		}
		return int64(l.trunk), true
	}
	return int64(l.plain), true
}

// deriveNetwork sets what ECS does not report of the network: each instance's ENIs
// left (its limit less its live awsvpc tasks), and each service's static host ports
// (those every one of its tasks binds; with one task, those below the dynamic range).
// It returns notes for what it had to assume.
func (c *Cluster) deriveNetwork() []string {
	var notes []string
	awsvpc := false
	for _, s := range c.services {
		ports := map[HostPort]int{}
		n := 0
		for t := range s.tasks {
			if len(t.HostPorts) == 0 {
				continue
			}
			n++
			for _, p := range t.HostPorts {
				ports[p]++
			}
		}
		s.HostPorts = nil
		for p, k := range ports {
			if k == n && (n > 1 || p.Port < dynamicPortStart) {
				s.HostPorts = append(s.HostPorts, p)
			}
		}
		slices.SortFunc(s.HostPorts, func(a, b HostPort) int { return strings.Compare(a.String(), b.String()) })
		awsvpc = awsvpc || s.TaskSize.ENIs > 0
	}
	var unknown []string
	for _, i := range c.instances {
		var used int64
		for t := range i.tasks {
			used += t.Size.ENIs
		}
		limit, known := ENILimit(i)
		if !known {
			typ, ok := i.Attribute(InstanceTypeAttribute)
			if !ok {
				typ = "no " + InstanceTypeAttribute
			}
			unknown = append(unknown, typ)
		}
		if used > limit {
			notes = append(notes, fmt.Sprintf("container instance %s runs %d awsvpc tasks, more than the %d its type allows by the table: its limit is taken as %d", i.ARN, used, limit, used))
			limit = used
		}
		i.Registered.ENIs = limit
		i.Remaining.ENIs = limit - used
	}
	if awsvpc && len(unknown) > 0 {
		slices.Sort(unknown)
		notes = append(notes, fmt.Sprintf("%d container instance(s) of types the ENI table lacks (%s): their awsvpc tasks are not limited by interfaces", len(unknown), strings.Join(slices.Compact(unknown), ", ")))
	}
	return notes
}
