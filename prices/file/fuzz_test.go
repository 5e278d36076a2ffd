package file

import (
	"os"
	"strings"
	"testing"
)

// FuzzRead checks that no input panics the reader and that whatever it
// accepts is a valid, time-ordered history.
func FuzzRead(f *testing.F) {
	seed, err := os.ReadFile(testdata("eu-west-3a-2020-head.csv"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(seed[:2000]))
	f.Add("timestamp,region,availability_zone,instance_type,os,spot_price_usd_per_hour,ondemand_price_usd_per_hour\n2015-03-11 16:54:38+00:00,us-east-1,us-east-1a,c3.xlarge,Linux,0.0324,0.21\n")
	f.Add("AvailabilityZone,InstanceType,ProductDescription,SpotPrice,Timestamp\neu-west-3a,m5d.large,Linux/UNIX,1e400,2020-07-31T11:00:02+00:00\n")
	f.Fuzz(func(t *testing.T, in string) {
		hs, err := Read(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, h := range hs {
			if err := h.Validate(); err != nil {
				t.Fatalf("accepted an invalid history: %v", err)
			}
		}
	})
}
