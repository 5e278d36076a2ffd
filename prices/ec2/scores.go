package ec2

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
)

// ScoresAPI is the part of the EC2 client PlacementScores uses;
// *ec2.Client implements it.
type ScoresAPI interface {
	GetSpotPlacementScores(ctx context.Context, in *awsec2.GetSpotPlacementScoresInput, optFns ...func(*awsec2.Options)) (*awsec2.GetSpotPlacementScoresOutput, error)
}

// PlacementScores asks EC2 how likely a spot request for target instances
// of the given types would succeed in each availability zone of region,
// on EC2's scale of 1 (unlikely) to 10 (very likely), keyed by zone ID
// (use1-az1). EC2 scores a fleet: with one or two types the score is
// always low, so ask with every spot instance type the cluster runs. It
// needs the ec2:GetSpotPlacementScores permission, and EC2 limits how many
// distinct requests an account makes a day: call it rarely (hourly).
func PlacementScores(ctx context.Context, api ScoresAPI, region string, types []string, target int32) (map[string]int, error) {
	if len(types) == 0 {
		return nil, fmt.Errorf("spot placement scores: no instance types to ask about")
	}
	if target < 1 {
		return nil, fmt.Errorf("spot placement scores: target capacity %d: want at least 1 instance", target)
	}
	types = append([]string(nil), types...)
	sort.Strings(types)
	in := &awsec2.GetSpotPlacementScoresInput{
		InstanceTypes:          types,
		TargetCapacity:         aws.Int32(target),
		SingleAvailabilityZone: aws.Bool(true),
		RegionNames:            []string{region},
		MaxResults:             aws.Int32(10),
	}
	out := map[string]int{}
	pager := awsec2.NewGetSpotPlacementScoresPaginator(api, in)
	for page := 1; pager.HasMorePages(); page++ {
		resp, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("GetSpotPlacementScores page %d: %w", page, err)
		}
		for i, sc := range resp.SpotPlacementScores {
			zone, score := aws.ToString(sc.AvailabilityZoneId), aws.ToInt32(sc.Score)
			if zone == "" || score < 1 || score > 10 {
				return nil, fmt.Errorf("GetSpotPlacementScores page %d item %d: zone %q score %d: want a zone ID and a score from 1 to 10", page, i+1, zone, score)
			}
			out[zone] = int(score)
		}
	}
	return out, nil
}
