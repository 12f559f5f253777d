// Command rebalancer is the Lambda entry point that builds `bootstrap`. It only wires
// configuration, clients and the handler together; the handler arrives with the
// rebalancer issue.
package main

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

func main() {
	logger := lambdacontext.NewLogger()
	lambda.Start(func(ctx context.Context, event json.RawMessage) error {
		logger.InfoContext(ctx, "event received; no handler is wired yet", slog.Int("bytes", len(event)))
		return nil
	})
}
