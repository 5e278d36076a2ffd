package ec2

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
)

// ZonesAPI is the part of the EC2 client ZoneIDs uses; *ec2.Client
// implements it.
type ZonesAPI interface {
	DescribeAvailabilityZones(ctx context.Context, in *awsec2.DescribeAvailabilityZonesInput, optFns ...func(*awsec2.Options)) (*awsec2.DescribeAvailabilityZonesOutput, error)
}

// ZoneIDs maps the account's availability zone names (us-east-1a) to zone
// IDs (use1-az1). EC2 maps names to physical zones per account, and
// placement scores come per zone ID, so only the account's own answer
// joins them; the name of a zone in another account may be another zone.
// It needs ec2:DescribeAvailabilityZones.
func ZoneIDs(ctx context.Context, api ZonesAPI) (map[string]string, error) {
	out, err := api.DescribeAvailabilityZones(ctx, &awsec2.DescribeAvailabilityZonesInput{})
	if err != nil {
		return nil, fmt.Errorf("DescribeAvailabilityZones: %w", err)
	}
	m := map[string]string{}
	for i, z := range out.AvailabilityZones {
		name, id := aws.ToString(z.ZoneName), aws.ToString(z.ZoneId)
		if name == "" || id == "" {
			return nil, fmt.Errorf("DescribeAvailabilityZones item %d: zone name %q, zone ID %q: want both", i+1, name, id)
		}
		m[name] = id
	}
	return m, nil
}

// Unauthorized says whether err is EC2 refusing the call for want of an
// IAM permission (UnauthorizedOperation, HTTP 403). Retrying does not help:
// someone has to grant the permission.
func Unauthorized(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "UnauthorizedOperation"
}
