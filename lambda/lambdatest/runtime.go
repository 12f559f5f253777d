// Package lambdatest serves the AWS Lambda Runtime API (2018-06-01) to a real
// `bootstrap` process, so tests run the released binary the way Lambda does: next
// invocation (with the deadline header), response, error, and init error.
package lambdatest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

const prefix = "/2018-06-01/runtime/"

// Result is how an invocation ended.
type Result struct {
	RequestID string
	Response  []byte // the handler's response, when it succeeded
	Error     string // errorType: errorMessage, when it failed
	Took      time.Duration
}

type invocation struct {
	id       string
	event    []byte
	deadline time.Time
	sent     time.Time
	done     chan Result
}

// Runtime is a Runtime API endpoint on the loopback address.
type Runtime struct {
	l    net.Listener
	srv  *http.Server
	next chan *invocation

	mu        sync.Mutex
	inflight  map[string]*invocation
	seq       int
	initError string
	firstNext time.Time
}

// Start serves the Runtime API on 127.0.0.1 and a free port.
func Start() (*Runtime, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Runtime{l: l, next: make(chan *invocation), inflight: map[string]*invocation{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix+"invocation/next", r.handleNext)
	mux.HandleFunc("POST "+prefix+"invocation/{id}/response", r.handleResult(false))
	mux.HandleFunc("POST "+prefix+"invocation/{id}/error", r.handleResult(true))
	mux.HandleFunc("POST "+prefix+"init/error", func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.initError = errorText(body)
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go r.srv.Serve(l)
	return r, nil
}

// Addr is the value of AWS_LAMBDA_RUNTIME_API.
func (r *Runtime) Addr() string { return r.l.Addr().String() }

// Close stops serving.
func (r *Runtime) Close() { _ = r.srv.Close() }

// InitError is what the function reported through init/error, if anything.
func (r *Runtime) InitError() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.initError
}

// Invoke hands event to the function with a deadline timeout from now and waits for its
// response or error, or ctx.
func (r *Runtime) Invoke(ctx context.Context, event []byte, timeout time.Duration) (Result, error) {
	r.mu.Lock()
	r.seq++
	inv := &invocation{id: fmt.Sprintf("request-%04d", r.seq), event: event, deadline: time.Now().Add(timeout), done: make(chan Result, 1)}
	r.inflight[inv.id] = inv
	r.mu.Unlock()
	select {
	case r.next <- inv:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("the function never asked for the invocation: %w", ctx.Err())
	}
	select {
	case res := <-inv.done:
		return res, nil
	case <-ctx.Done():
		return Result{}, fmt.Errorf("no response from the function: %w", ctx.Err())
	}
}

// FirstNext is when the function first asked for an invocation: the end of its init.
func (r *Runtime) FirstNext() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.firstNext
}

func (r *Runtime) handleNext(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	if r.firstNext.IsZero() {
		r.firstNext = time.Now()
	}
	r.mu.Unlock()
	select {
	case inv := <-r.next:
		inv.sent = time.Now()
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:111122223333:function:ecs-rebalancer")
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(inv.event)
	case <-req.Context().Done():
	}
}

func (r *Runtime) handleResult(failed bool) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		id := req.PathValue("id")
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		inv := r.inflight[id]
		delete(r.inflight, id)
		r.mu.Unlock()
		if inv == nil {
			http.Error(w, "unknown request id", http.StatusBadRequest)
			return
		}
		res := Result{RequestID: id, Took: time.Since(inv.sent)}
		if failed {
			res.Error = errorText(body)
		} else {
			res.Response = body
		}
		inv.done <- res
		w.WriteHeader(http.StatusAccepted)
	}
}

func errorText(body []byte) string {
	var e struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal(body, &e) != nil {
		return string(body)
	}
	return e.ErrorType + ": " + e.ErrorMessage
}

// Process is a running bootstrap.
type Process struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan error
}

// Run starts the binary with env (plus AWS_LAMBDA_RUNTIME_API) and nothing inherited
// but PATH, as Lambda starts it.
func (r *Runtime) Run(binary string, env map[string]string) (*Process, error) {
	cmd := exec.Command(binary)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "AWS_LAMBDA_RUNTIME_API=" + r.Addr()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, logs: logs, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	return p, nil
}

// Kill ends the process the way a timeout or a lost host does: no cleanup runs.
func (p *Process) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
	p.done <- errors.New("killed")
}

// Exited waits up to d for the process to exit and returns its error.
func (p *Process) Exited(d time.Duration) (error, bool) {
	select {
	case err := <-p.done:
		p.done <- err
		return err, true
	case <-time.After(d):
		return nil, false
	}
}

// Pid is the process's ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Logs returns what the process wrote.
func (p *Process) Logs() string { return p.logs.String() }

// Lines returns its JSON log lines whose "msg"/"message" is msg, waiting up to a
// second for at least want of them (the process's output is copied asynchronously).
func (p *Process) Lines(msg string, want int) []map[string]any {
	deadline := time.Now().Add(time.Second)
	for {
		if got := p.lines(msg); len(got) >= want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitFor reports whether the process's output holds s, waiting up to a second for it.
func (p *Process) WaitFor(s string) bool {
	deadline := time.Now().Add(time.Second)
	for !strings.Contains(p.Logs(), s) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

func (p *Process) lines(msg string) []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(p.Logs(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && (m["msg"] == msg || m["message"] == msg) {
			out = append(out, m)
		}
	}
	return out
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
