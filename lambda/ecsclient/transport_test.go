package ecsclient_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	ct "github.com/ecs-rebalancer/ecs-rebalancer/lambda/cluster/clustertest"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecsclient"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/ecslocal"
	"github.com/ecs-rebalancer/ecs-rebalancer/lambda/sim"
)

// Sequential calls through the real SDK client share one connection and are each
// served once. Without KeepConnections the SDK tears down about every third
// connection on a fast endpoint, and now and then retries a call already served.
func TestKeepConnections(t *testing.T) {
	c := ct.Headline()
	srv := ecslocal.New(sim.New(c, sim.Options{Now: ct.Epoch}), ecslocal.Options{Frozen: true})
	var conns atomic.Int32
	hs := httptest.NewUnstartedServer(srv)
	hs.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	hs.Start()
	t.Cleanup(hs.Close)

	api := ecs.New(ecs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(hs.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	}, ecsclient.KeepConnections)
	const calls = 300
	names := []string{c.Services()[0].Name}
	for range calls {
		if _, err := api.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String(c.Name), Services: names}); err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.Sim().Stats().Calls["DescribeServices"]; got != calls {
		t.Errorf("the endpoint served %d calls for %d made", got, calls)
	}
	if got := conns.Load(); got != 1 {
		t.Errorf("%d calls opened %d connections, want 1", calls, got)
	}
}
