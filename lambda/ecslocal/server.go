// Package ecslocal serves the simulator over HTTP in ECS's own wire protocol (JSON 1.1,
// X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Action>), so the unmodified
// aws-sdk-go-v2 ECS client (AWS_ENDPOINT_URL_ECS) and the AWS CLI (--endpoint-url)
// work against a simulated cluster. It listens on the loopback address only.
package ecslocal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsjson"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

// TargetPrefix is the X-Amz-Target prefix of ECS operations.
const TargetPrefix = "AmazonEC2ContainerServiceV20141113."

// maxBody bounds a request body.
const maxBody = 1 << 20

type handler func(ctx context.Context, body []byte) (any, error)

// op adapts a simulator method to the wire: decode the input, call, return the output.
func op[In, Out any](call func(context.Context, *In, ...func(*ecs.Options)) (*Out, error)) handler {
	return func(ctx context.Context, body []byte) (any, error) {
		in := new(In)
		if len(bytes.TrimSpace(body)) == 0 {
			body = []byte("{}")
		}
		if err := ecsjson.Unmarshal(body, in, ecsjson.RejectUnknown); err != nil {
			return nil, &smithy.GenericAPIError{Code: "SerializationException", Message: err.Error(), Fault: smithy.FaultClient}
		}
		out, err := call(ctx, in)
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

// Faults are switched on per action: the first Throttle[a] calls of action a fail with
// ThrottlingException, the first ServerError[a] with ServerException, and every call
// waits Latency[a] (real time) before it is answered.
type Faults struct {
	Throttle    map[string]int
	ServerError map[string]int
	Latency     map[string]time.Duration
}

// Options configure a Server.
type Options struct {
	// Frozen keeps the simulated clock still (a capture of a cluster in the middle of
	// a deployment reads the same state from the first call to the last). By default
	// the cluster runs with the wall clock.
	Frozen bool
}

// Server serves one simulated cluster.
type Server struct {
	sim      *sim.Sim
	wall     func() time.Time
	offset   time.Duration // virtual time = wall clock + offset
	frozen   bool
	handlers map[string]handler

	mu      sync.Mutex
	latency map[string]time.Duration
	stop    chan struct{}
	closed  bool // Close was called: a Serve after it returns at once
	done    sync.WaitGroup
}

// New serves s. Unless frozen, the simulator's clock runs with the wall clock from now
// on, at the offset it has now (rebase a snapshot with cluster.Shift to run it in the
// present).
func New(s *sim.Sim, o Options) *Server {
	srv := &Server{sim: s, wall: time.Now, frozen: o.Frozen, latency: map[string]time.Duration{}}
	srv.offset = s.Now().Sub(srv.wall())
	srv.handlers = handlersFor(srv, s)
	return srv
}

// handlersFor maps each action the endpoint serves to its handler: the fifteen calls
// the rebalancer makes, and ListClusters and DescribeClusters, the first commands a
// person types.
func handlersFor(srv *Server, s *sim.Sim) map[string]handler {
	return map[string]handler{
		"ListContainerInstances":        op(s.ListContainerInstances),
		"DescribeContainerInstances":    op(s.DescribeContainerInstances),
		"ListServices":                  op(s.ListServices),
		"DescribeServices":              op(s.DescribeServices),
		"ListTasks":                     op(s.ListTasks),
		"DescribeTasks":                 op(s.DescribeTasks),
		"UpdateService":                 op(s.UpdateService),
		"UpdateContainerInstancesState": op(s.UpdateContainerInstancesState),
		"PutAttributes":                 op(s.PutAttributes),
		"DeleteAttributes":              op(s.DeleteAttributes),
		"GetTaskProtection":             op(s.GetTaskProtection),
		"UpdateTaskProtection":          op(s.UpdateTaskProtection),
		"TagResource":                   op(s.TagResource),
		"UntagResource":                 op(s.UntagResource),
		"ListTagsForResource":           op(s.ListTagsForResource),
		"ListClusters":                  op(srv.listClusters),
		"DescribeClusters":              op(srv.describeClusters),
	}
}

// Actions are the actions the endpoint serves, sorted.
func Actions() []string { return slices.Sorted(maps.Keys(handlersFor(nil, nil))) }

// listClusters answers with the one simulated cluster.
func (srv *Server) listClusters(_ context.Context, _ *ecs.ListClustersInput, _ ...func(*ecs.Options)) (*ecs.ListClustersOutput, error) {
	var arn string
	srv.sim.View(func(c *cluster.Cluster) { arn = c.ARN })
	return &ecs.ListClustersOutput{ClusterArns: []string{arn}}, nil
}

// describeClusters describes the simulated cluster by name or ARN (none named: the
// cluster "default", as ECS assumes); any other is a MISSING failure.
func (srv *Server) describeClusters(_ context.Context, in *ecs.DescribeClustersInput, _ ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error) {
	names := in.Clusters
	if len(names) == 0 {
		names = []string{"default"}
	}
	out := &ecs.DescribeClustersOutput{}
	srv.sim.View(func(c *cluster.Cluster) {
		for _, n := range names {
			if n != c.Name && n != c.ARN {
				out.Failures = append(out.Failures, types.Failure{Arn: aws.String(n), Reason: aws.String("MISSING")})
				continue
			}
			d := types.Cluster{ClusterArn: aws.String(c.ARN), ClusterName: aws.String(c.Name), Status: aws.String("ACTIVE")}
			for _, i := range c.Instances() {
				if i.Status != cluster.StatusInactive {
					d.RegisteredContainerInstancesCount++
				}
			}
			for _, t := range c.AllTasks() {
				switch t.LastStatus {
				case cluster.TaskRunning:
					d.RunningTasksCount++
				case cluster.TaskPending:
					d.PendingTasksCount++
				}
			}
			for _, sv := range c.Services() {
				if sv.Status == cluster.ServiceActive {
					d.ActiveServicesCount++
				}
			}
			out.Clusters = append(out.Clusters, d)
		}
	})
	return out, nil
}

// SetFaults replaces the faults; their counts start now.
func (srv *Server) SetFaults(f Faults) {
	srv.mu.Lock()
	srv.latency = f.Latency
	srv.mu.Unlock()
	base := srv.sim.Stats().Calls
	srv.sim.SetFaults(func(action string, n int) sim.Fault {
		n -= base[action]
		switch {
		case n <= f.Throttle[action]:
			return sim.Fault{Err: sim.Throttling()}
		case n <= f.Throttle[action]+f.ServerError[action]:
			return sim.Fault{Err: sim.ServerError()}
		}
		return sim.Fault{}
	})
}

// Sim is the simulator behind the endpoint, for assertions.
func (srv *Server) Sim() *sim.Sim { return srv.sim }

// sync runs the simulated cluster up to the wall clock.
func (srv *Server) sync() {
	if srv.frozen {
		return
	}
	if d := srv.wall().Add(srv.offset).Sub(srv.sim.Now()); d > 0 {
		srv.sim.Advance(d)
	}
}

// Listen opens a loopback listener; addr "" means 127.0.0.1 on a free port. Any other
// host is refused: the endpoint has no authentication.
func Listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("refusing to listen on %s: the endpoint serves loopback only", addr)
	}
	return net.Listen("tcp", addr)
}

// Serve serves on l until Close, advancing the cluster with the wall clock in the
// background so deployments and drains progress between requests.
func (srv *Server) Serve(l net.Listener) error {
	// The goroutine keeps its own copy of the channel: Close sets the field to nil, and
	// a receive from nil would block forever.
	stop := make(chan struct{})
	srv.mu.Lock()
	if srv.closed {
		// Closed before it started serving: nothing to serve.
		srv.mu.Unlock()
		return l.Close()
	}
	srv.stop = stop
	srv.done.Add(1)
	srv.mu.Unlock()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer srv.done.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				srv.sync()
			case <-stop:
				_ = hs.Close()
				return
			}
		}
	}()
	err := hs.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops Serve.
func (srv *Server) Close() {
	srv.mu.Lock()
	srv.closed = true
	if srv.stop != nil {
		close(srv.stop)
		srv.stop = nil
	}
	srv.mu.Unlock()
	srv.done.Wait()
}

// ServeHTTP answers one ECS request.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	action, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
	h := srv.handlers[action]
	if r.Method != http.MethodPost || !ok || h == nil {
		writeError(w, r, &smithy.GenericAPIError{Code: "UnknownOperationException", Message: "unsupported operation " + r.Header.Get("X-Amz-Target"), Fault: smithy.FaultClient})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeError(w, r, &smithy.GenericAPIError{Code: "SerializationException", Message: err.Error(), Fault: smithy.FaultClient})
		return
	}
	srv.mu.Lock()
	delay := srv.latency[action]
	srv.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	srv.sync()
	out, err := h(context.WithoutCancel(r.Context()), body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	payload, err := ecsjson.Marshal(out, ecsjson.EpochSeconds)
	writeJSON(w, http.StatusOK, payload, err)
}

// writeJSON answers with a Content-Length, as AWS does, rather than streaming chunks.
func writeJSON(w http.ResponseWriter, status int, b []byte, err error) {
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"__type":"ServerException","message":"encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError answers with ECS's error shape: {"__type": code, "message": ...}, 400 for
// a client fault and 500 for a server one.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, message, status := "ServerException", err.Error(), http.StatusInternalServerError
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code, message = ae.ErrorCode(), ae.ErrorMessage()
		if ae.ErrorFault() != smithy.FaultServer {
			status = http.StatusBadRequest
		}
	}
	w.Header().Set("X-Amzn-ErrorType", code)
	b, merr := json.Marshal(map[string]string{"__type": code, "message": message})
	writeJSON(w, status, b, merr)
}
