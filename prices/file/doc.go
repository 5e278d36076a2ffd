// Package file reads recorded EC2 spot price traces into prices.History
// values. It accepts the two layouts in ../shared/data/prices, plain or
// gzip-compressed (detected from the content, not the name):
//
//   - the DescribeSpotPriceHistory export:
//     AvailabilityZone,InstanceType,ProductDescription,SpotPrice,Timestamp
//   - the 2015 research layout with the on-demand price alongside:
//     timestamp,region,availability_zone,instance_type,os,spot_price_usd_per_hour,ondemand_price_usd_per_hour
//
// Rows may come in any time order; each market's points are sorted. A bad row
// is an error naming the file, line, column and value, never skipped silently.
package file
