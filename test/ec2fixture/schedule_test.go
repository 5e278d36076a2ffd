package ec2fixture

import (
	"strings"
	"testing"
	"time"
)

func TestReadScores(t *testing.T) {
	got, err := ReadScores(strings.NewReader("Timestamp,Region,AvailabilityZoneId,Score\n,us-east-1,use1-az1,9\n2015-03-17T13:10:00Z,us-east-1,use1-az1,2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Score != 9 || !got[0].Time.IsZero() || got[1].Score != 2 || !got[1].Time.Equal(time.Date(2015, 3, 17, 13, 10, 0, 0, time.UTC)) || got[1].ZoneID != "use1-az1" {
		t.Errorf("ReadScores = %+v", got)
	}
	for _, tc := range []struct{ in, want string }{
		{"Time,Region,Zone,Score\n", `header "Time,Region,Zone,Score": want Timestamp,Region,AvailabilityZoneId,Score`},
		{"Timestamp,Region,AvailabilityZoneId,Score\nsoon,us-east-1,use1-az1,2\n", `line 2: Timestamp "soon": want an RFC 3339 time`},
		{"Timestamp,Region,AvailabilityZoneId,Score\n,us-east-1,,2\n", `line 2: Region "us-east-1", AvailabilityZoneId "": want both`},
		{"Timestamp,Region,AvailabilityZoneId,Score\n,us-east-1,use1-az1,0\n", `line 2: Score "0": want a whole number from 1 to 10`},
		{"Timestamp,Region,AvailabilityZoneId,Score\n,us-east-1,use1-az1\n", "wrong number of fields"},
	} {
		if _, err := ReadScores(strings.NewReader(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadScores(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestParseZones(t *testing.T) {
	got, err := ParseZones("us-east-1", "us-east-1a=use1-az4, us-east-1b=use1-az6")
	if err != nil || len(got) != 2 || got[1] != (Zone{Region: "us-east-1", Name: "us-east-1b", ID: "use1-az6"}) {
		t.Errorf("ParseZones = %+v, %v", got, err)
	}
	if _, err := ParseZones("us-east-1", "us-east-1a=,x"); err == nil || !strings.Contains(err.Error(), `zone "us-east-1a=": want name=ID`) {
		t.Errorf("ParseZones(bad) = %v", err)
	}
}
