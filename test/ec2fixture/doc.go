// Package ec2fixture is a local server speaking the EC2 Query protocol for
// the calls trimtab makes, DescribeSpotPriceHistory, GetSpotPlacementScores
// and DescribeAvailabilityZones: form-encoded POSTs signed with SigV4 (the scope's
// region and access key are checked), XML answers in the documented shapes,
// nextToken pagination and EC2's error envelope. It serves recorded price
// traces (prices/file) with trace time mapped onto the clock the manager
// reads, so the real aws-sdk-go-v2 client runs against it unchanged:
// prices/ec2's tests use it, and `go run ./test/ec2fixture/cmd/ec2fixture`
// runs it on its own on 127.0.0.1.
//
// Time: a point recorded at trace time T is served with the timestamp
// T + Offset, and only once that is not after Now(). With Now an
// internal/speedclock clock of speed S started at O, and Offset = O − the
// trace time that should play at O, an hour of the trace passes in 1/S
// hours of wall time. Placement scores follow a schedule per zone ID
// (SetScores, ReadScores) on the same trace clock, and any action can be
// answered UnauthorizedOperation (Deny), as for a role without the IAM
// permission.
package ec2fixture
