// Package prices holds the plain values trimtab's price path passes around: a
// spot market (instance type × zone × product), a price point, a market's
// history, the Source interface every price backend implements, and the
// on-demand price table the project ships.
//
// Backends live in sub-packages: prices/ec2 (DescribeSpotPriceHistory through
// aws-sdk-go-v2), prices/file (recorded traces). The spike forecaster is
// decider/spot and the offline replay simulate/pricesim.
package prices
