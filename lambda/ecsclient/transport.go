package ecsclient

import (
	"context"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// NewClient is the ECS client every command uses: the default AWS configuration
// (environment, profile, role), adaptive retry (the SDK slows down on its own when ECS
// throttles) and KeepConnections.
func NewClient(ctx context.Context) (*ecs.Client, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRetryer(func() aws.Retryer { return retry.NewAdaptiveMode() }))
	if err != nil {
		return nil, err
	}
	return ecs.NewFromConfig(cfg, KeepConnections), nil
}

// KeepConnections is an ecs.Options function that keeps the SDK's connections alive
// between calls.
//
// Why: smithy-go (v1.28.8) hands net/http a request body whose WriteTo returns io.EOF
// once the SDK has closed it, and the SDK closes it as soon as the response headers
// arrive. When the endpoint answers before net/http's writer has taken its final, empty
// read of the body, that EOF surfaces as a write error: the connection is torn down
// and, now and then, the response is lost and the SDK retries a call ECS already
// served. Against the local endpoint this happened on about every third call and pushed
// a read at ECS's maximums over the call bounds in the README; against ECS the window
// is narrow but real. Hiding WriteTo makes net/http read the body with Read, whose
// io.EOF after close means "done", which is what it is.
func KeepConnections(o *ecs.Options) {
	if o.HTTPClient != nil {
		o.HTTPClient = bodyReader{next: o.HTTPClient}
	}
}

// bodyReader passes each request on with its body reduced to Read and Close.
type bodyReader struct{ next ecs.HTTPClient }

func (c bodyReader) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r = r.WithContext(r.Context()) // a shallow copy: the SDK still closes its own body
		r.Body = readCloser{r.Body}
	}
	return c.next.Do(r)
}

// readCloser has only the methods it names, whatever the value inside has.
type readCloser struct{ rc io.ReadCloser }

func (b readCloser) Read(p []byte) (int, error) { return b.rc.Read(p) }
func (b readCloser) Close() error               { return b.rc.Close() }
