// Package ec2 is the production prices.Source: it reads spot price history
// with DescribeSpotPriceHistory through aws-sdk-go-v2 for the instance types
// and zones the cluster's nodes use.
//
// The SDK client is reached through EC2API, which lists only the one call
// used, so tests and the simulator can fake it; the package's own tests run
// the real SDK client (signing, retries, XML decoding) against a loopback
// server that speaks the EC2 Query protocol.
//
// Refreshes are incremental (from the newest timestamp seen), paginated, and
// retried with the SDK's standard jittered backoff. When a refresh fails the
// source keeps the last known prices, reports the error and the time of the
// last good refresh, and merges nothing from the failed refresh — a consumer
// never acts on half a page or a garbled price.
package ec2
