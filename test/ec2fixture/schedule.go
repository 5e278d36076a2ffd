package ec2fixture

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ReadScores reads a placement score schedule: CSV with the header
// "Timestamp,Region,AvailabilityZoneId,Score", one row per change, the
// timestamp in trace time (RFC 3339, on the clock of the price traces) or
// empty for "from the start", e.g.
//
//	Timestamp,Region,AvailabilityZoneId,Score
//	,us-east-1,use1-az1,9
//	2015-03-17T13:10:00Z,us-east-1,use1-az1,2
//
// A bad row is an error naming its line, the field and the value.
func ReadScores(r io.Reader) ([]Score, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 4
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("score schedule header: %w", err)
	}
	if strings.Join(head, ",") != "Timestamp,Region,AvailabilityZoneId,Score" {
		return nil, fmt.Errorf("score schedule header %q: want Timestamp,Region,AvailabilityZoneId,Score", strings.Join(head, ","))
	}
	var out []Score
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("score schedule: %w", err)
		}
		sc := Score{Region: rec[1], ZoneID: rec[2]}
		if rec[0] != "" {
			if sc.Time, err = time.Parse(time.RFC3339, rec[0]); err != nil {
				return nil, fmt.Errorf("score schedule line %d: Timestamp %q: want an RFC 3339 time or empty", line, rec[0])
			}
		}
		if sc.Region == "" || sc.ZoneID == "" {
			return nil, fmt.Errorf("score schedule line %d: Region %q, AvailabilityZoneId %q: want both, e.g. us-east-1 and use1-az1", line, rec[1], rec[2])
		}
		if sc.Score, err = strconv.Atoi(rec[3]); err != nil || sc.Score < 1 || sc.Score > 10 {
			return nil, fmt.Errorf("score schedule line %d: Score %q: want a whole number from 1 to 10", line, rec[3])
		}
		out = append(out, sc)
	}
}

// ParseZones reads "us-east-1a=use1-az1,us-east-1b=use1-az2" (zone name =
// zone ID) into the zones of region.
func ParseZones(region, s string) ([]Zone, error) {
	var out []Zone
	for _, kv := range strings.Split(s, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		name, id, ok := strings.Cut(kv, "=")
		if !ok || name == "" || id == "" {
			return nil, fmt.Errorf("zone %q: want name=ID, e.g. us-east-1a=use1-az1", kv)
		}
		out = append(out, Zone{Region: region, Name: name, ID: id})
	}
	return out, nil
}
