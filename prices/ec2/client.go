package ec2

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
)

// RetryOptions bound the SDK's standard retryer (exponential backoff with
// full jitter; throttling codes such as RequestLimitExceeded are retried).
type RetryOptions struct {
	MaxAttempts int           // default 5
	MaxBackoff  time.Duration // default 20s
}

// NewClient builds the real SDK client. endpoint overrides the EC2 endpoint
// (empty uses the region's); creds come from the caller (the default chain in
// the manager, static keys in tests).
func NewClient(region, endpoint string, creds aws.CredentialsProvider, r RetryOptions) *awsec2.Client {
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = 5
	}
	if r.MaxBackoff <= 0 {
		r.MaxBackoff = 20 * time.Second
	}
	return awsec2.New(awsec2.Options{
		Region:      region,
		Credentials: creds,
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = r.MaxAttempts
			o.MaxBackoff = r.MaxBackoff
		}),
	}, func(o *awsec2.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
}
