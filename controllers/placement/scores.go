package placement

import (
	"context"
	"encoding/json"
	"fmt"
	"math/bits"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/placer"
	"github.com/trimtab-dev/trimtab/prices"
	"github.com/trimtab-dev/trimtab/prices/ec2"
)

// ScoresAPI is the part of the EC2 client the score side calls;
// *ec2.Client implements it.
type ScoresAPI interface {
	ec2.ScoresAPI
	ec2.ZonesAPI
}

// DefaultScorePeriod is how often placement scores are read. EC2 limits
// new request configurations per account per 24 hours, not repeats of one
// already made, and the request stays the same while the cluster's spot
// instance types and its rounded node count do; every 15 minutes is 96
// identical calls a day, and a capacity signal older than that is of
// little use for pods admitted now.
const DefaultScorePeriod = 15 * time.Minute

// unauthorizedRetry is how long a missing permission turns the signal off
// before it is asked again: someone has to grant it, and asking sooner
// only fills the CloudTrail log with denials.
const unauthorizedRetry = 6 * time.Hour

// minScoreTypes: with fewer instance types EC2's score is always low
// (GetSpotPlacementScores: "If you specify one or two instance types ...
// the returned placement score will always be low"), which would send
// every batch pod to on-demand for nothing.
const minScoreTypes = 3

// Scores is the placer's capacity signal: EC2 spot placement scores
// (GetSpotPlacementScores, one per availability zone for the fleet of the
// spot nodes' instance types) read every Period on the price side's round,
// mapped to each spot market by its zone's ID, and judged by Rule
// (placer.ScoreRule) into each market's capacity risk.
//
// Zone IDs come from the nodes' topology.k8s.aws/zone-id label (EKS and
// Karpenter set it) or, for a zone no node labels, from
// DescribeAvailabilityZones, asked once and cached: the name-to-ID mapping
// is the account's own and does not change.
//
// Failures hold: a failed read keeps the last readings, which the rule
// holds once older than its MaxAge (no move on stale scores). A missing
// permission (UnauthorizedOperation) or fewer than three instance types to
// ask about turns the signal off: every market's risk is dropped, the
// placer runs on prices alone, and it is said once — a log line, a Warning
// Event PlacementScoresOff on the forecaster's ConfigMap, the metric
// trimtab_placer_placement_scores_enabled at 0 and each batch Decision's
// PlacementScores condition — and the permission is asked again only
// every 6 hours.
type Scores struct {
	// API is the EC2 client; Region the region scored.
	API    ScoresAPI
	Region string
	// Period is how often scores are read (0: DefaultScorePeriod).
	Period time.Duration
	// Rule judges the scores (zero: placer.DefaultScoreRule).
	Rule placer.ScoreRule
	// InstanceTypes are asked about beside the spot nodes' own (the node
	// provisioner's other spot types): EC2 scores a fleet, and needs at
	// least three types for a meaningful score.
	InstanceTypes []string
	// Target is the target capacity asked for, in instances (0: the
	// number of spot nodes, rounded up to a power of two).
	Target int32

	zoneIDs  map[string]string // DescribeAvailabilityZones, by zone name
	readings map[string]placer.ScoreReading
	states   map[prices.Market]placer.ScoreState
	lastRead time.Time
	off      error
	retryAt  time.Time
	lastErr  error
	reported bool // the on/off state was reported at least once
}

// ScoreReport is the score side's round.
type ScoreReport struct {
	// States is each spot market's capacity risk (nil while off).
	States map[prices.Market]placer.ScoreState
	// Off says why the signal is off (nil: on).
	Off error
	// Err is the last read's error (nil after a success).
	Err error
	// Read says scores were asked for this round.
	Read bool
}

func (s *Scores) rule() placer.ScoreRule {
	if s.Rule == (placer.ScoreRule{}) {
		return placer.DefaultScoreRule()
	}
	return s.Rule
}

// target is the capacity asked for: the spot nodes, rounded up to a power
// of two so the request configuration changes rarely as nodes come and go
// (EC2 limits new configurations a day).
func (s *Scores) target(spotNodes int) int32 {
	if s.Target > 0 {
		return s.Target
	}
	if spotNodes <= 1 {
		return 1
	}
	return int32(1) << bits.Len(uint(spotNodes-1))
}

// round reads the scores when due and judges every market at now. cm is
// where Events go.
func (s *Scores) round(ctx context.Context, c client.Client, rec events.EventRecorder, cm client.ObjectKey, now time.Time, infos map[string]*placer.NodeInfo, markets []prices.Market) ScoreReport {
	s.init()
	rep := ScoreReport{}
	if len(markets) == 0 {
		return rep
	}
	period := or(s.Period, DefaultScorePeriod)
	labelled, spotNodes := zoneIDsFromLabels(infos)
	due := s.lastRead.IsZero() || now.Sub(s.lastRead) >= period
	if s.off != nil && now.Before(s.retryAt) {
		due = false
	}
	if due {
		s.lastRead, rep.Read = now, true
		wasOff := s.off
		s.off = nil
		s.read(ctx, now, markets, labelled, spotNodes)
		s.report(ctx, c, rec, cm, wasOff)
	}
	rep.Off, rep.Err = s.off, s.lastErr
	if s.off != nil {
		for m := range s.states {
			marketRisky.WithLabelValues(m.InstanceType, m.Zone).Set(0)
		}
		s.states = map[prices.Market]placer.ScoreState{}
		scoresEnabled.Set(0)
		return rep
	}
	scoresEnabled.Set(1)
	r := s.rule()
	rep.States = map[prices.Market]placer.ScoreState{}
	for _, m := range markets {
		id := labelled[m.Zone]
		if id == "" {
			id = s.zoneIDs[m.Zone]
		}
		prev, ok := s.states[m]
		if !ok {
			prev = placer.ScoreState{Market: m}
		}
		st := r.Step(prev, s.readings[id], now)
		if st.Last.ZoneID == "" {
			st.Last.ZoneID = id
		}
		s.states[m] = st
		rep.States[m] = st
		risky := 0.0
		if st.Risky {
			risky = 1
		}
		marketRisky.WithLabelValues(m.InstanceType, m.Zone).Set(risky)
		if !st.Last.At.IsZero() {
			marketScore.WithLabelValues(m.InstanceType, m.Zone).Set(float64(st.Last.Score))
			scoreAge.WithLabelValues(m.InstanceType, m.Zone).Set(now.Sub(st.Last.At).Seconds())
		}
	}
	for m := range s.states {
		if _, ok := rep.States[m]; !ok {
			delete(s.states, m) // a market the cluster left
			marketRisky.DeleteLabelValues(m.InstanceType, m.Zone)
			marketScore.DeleteLabelValues(m.InstanceType, m.Zone)
			scoreAge.DeleteLabelValues(m.InstanceType, m.Zone)
		}
	}
	return rep
}

func (s *Scores) init() {
	if s.readings == nil {
		s.readings = map[string]placer.ScoreReading{}
	}
	if s.states == nil {
		s.states = map[prices.Market]placer.ScoreState{}
	}
	if s.zoneIDs == nil {
		s.zoneIDs = map[string]string{}
	}
}

// ScoresKey is the key of the score side's state in the checkpoint
// ConfigMap, beside the forecaster's.
const ScoresKey = "scores.json"

// scoreCheckpoint is what a restart needs to keep the rule's hysteresis: a
// market risky since 09:10 whose scores read 5 stays risky after a restart
// (a fresh start would take the 5 as not risky), and one recovering keeps
// the time its good scores began.
type scoreCheckpoint struct {
	States   []placer.ScoreState   `json:"states"`
	Readings []placer.ScoreReading `json:"readings"`
}

func (s *Scores) marshal() ([]byte, error) {
	var cp scoreCheckpoint
	for _, st := range s.states {
		cp.States = append(cp.States, st)
	}
	for _, r := range s.readings {
		cp.Readings = append(cp.Readings, r)
	}
	sort.Slice(cp.States, func(i, j int) bool { return cp.States[i].Market.String() < cp.States[j].Market.String() })
	sort.Slice(cp.Readings, func(i, j int) bool { return cp.Readings[i].ZoneID < cp.Readings[j].ZoneID })
	return json.Marshal(cp)
}

// restore loads a checkpoint written by marshal; on error nothing changes.
func (s *Scores) restore(b []byte) error {
	var cp scoreCheckpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return fmt.Errorf("%s: %w", ScoresKey, err)
	}
	s.init()
	for _, st := range cp.States {
		s.states[st.Market] = st
	}
	for _, r := range cp.Readings {
		s.readings[r.ZoneID] = r
	}
	return nil
}

// read asks EC2 for the scores of the markets' zones.
func (s *Scores) read(ctx context.Context, now time.Time, markets []prices.Market, labelled map[string]string, spotNodes int) {
	types := map[string]bool{}
	for _, m := range markets {
		types[m.InstanceType] = true
	}
	for _, t := range s.InstanceTypes {
		types[t] = true
	}
	list := make([]string, 0, len(types))
	for t := range types {
		list = append(list, t)
	}
	sort.Strings(list)
	if len(list) < minScoreTypes {
		s.off = fmt.Errorf("only %d spot instance type(s) to ask about (%s): EC2 scores fewer than %d types always low; add the node provisioner's other spot types to placer.ec2.scoreInstanceTypes (--score-instance-types)", len(list), strings.Join(list, ", "), minScoreTypes)
		return
	}
	for _, m := range markets {
		if labelled[m.Zone] != "" || s.zoneIDs[m.Zone] != "" {
			continue
		}
		ids, err := ec2.ZoneIDs(ctx, s.API)
		if err != nil {
			s.fail(ctx, now, fmt.Errorf("mapping zone %s to its zone ID: %w", m.Zone, err))
			return
		}
		s.zoneIDs = ids
		break
	}
	got, err := ec2.PlacementScores(ctx, s.API, s.Region, list, s.target(spotNodes))
	if err != nil {
		s.fail(ctx, now, err)
		return
	}
	s.lastErr = nil
	for id, sc := range got {
		s.readings[id] = placer.ScoreReading{ZoneID: id, Score: sc, At: now}
	}
}

// fail records a failed read: a missing permission turns the signal off
// until retryAt; anything else holds the last readings.
func (s *Scores) fail(ctx context.Context, now time.Time, err error) {
	s.lastErr = err
	if ec2.Unauthorized(err) {
		s.off = fmt.Errorf("the IAM role lacks a permission (grant ec2:GetSpotPlacementScores and ec2:DescribeAvailabilityZones); asked again at %s: %w", now.Add(unauthorizedRetry).UTC().Format(time.RFC3339), err)
		s.retryAt = now.Add(unauthorizedRetry)
		return
	}
	scoreErrors.Inc()
	log.FromContext(ctx).Error(err, "reading spot placement scores; the last readings hold")
}

// report says the signal turned off or on: a log line and an Event on the
// forecaster's ConfigMap, once per change.
func (s *Scores) report(ctx context.Context, c client.Client, rec events.EventRecorder, cm client.ObjectKey, wasOff error) {
	if s.reported && (s.off != nil) == (wasOff != nil) {
		return
	}
	s.reported = true
	if s.off != nil {
		log.FromContext(ctx).Info("spot placement scores off: the placer decides on prices alone", "reason", s.off.Error())
	} else {
		log.FromContext(ctx).Info("spot placement scores on", "region", s.Region)
	}
	if rec == nil {
		return
	}
	var obj corev1.ConfigMap
	if err := c.Get(ctx, cm, &obj); err != nil {
		// Not saved yet (the first rounds): the log line says it.
		return
	}
	if s.off != nil {
		rec.Eventf(&obj, nil, corev1.EventTypeWarning, "PlacementScoresOff", "Disable", "spot placement scores off, prices alone decide: %v", s.off)
		return
	}
	rec.Eventf(&obj, nil, corev1.EventTypeNormal, "PlacementScoresOn", "Enable", "spot placement scores read for %s", s.Region)
}

// zoneIDsFromLabels maps zone names to IDs from the nodes'
// topology.k8s.aws/zone-id labels, and counts the spot nodes.
func zoneIDsFromLabels(infos map[string]*placer.NodeInfo) (map[string]string, int) {
	out := map[string]string{}
	spot := 0
	for _, ni := range infos {
		if ni.Capacity == capacity.Spot && ni.Priced {
			spot++
		}
		z, id := ni.Node.Labels[placer.LabelZone], ni.Node.Labels[placer.LabelZoneID]
		if z != "" && id != "" {
			out[z] = id
		}
	}
	return out, spot
}

var (
	scoresEnabled = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "trimtab_placer_placement_scores_enabled",
		Help: "1 while the placer reads EC2 spot placement scores; 0 while the signal is off (permission missing, too few instance types) and prices alone decide.",
	})
	scoreErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "trimtab_placer_placement_score_errors_total",
		Help: "Spot placement score reads that failed (the last readings held).",
	})
	marketScore = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "trimtab_placer_placement_score",
		Help: "The last spot placement score (1-10) of a spot market's zone.",
	}, []string{"instance_type", "zone"})
	scoreAge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "trimtab_placer_placement_score_age_seconds",
		Help: "Age of a spot market's last placement score; past the rule's max age (1h) it holds.",
	}, []string{"instance_type", "zone"})
	marketRisky = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "trimtab_placer_market_capacity_risky",
		Help: "1 while a spot market's placement score has it capacity-risky (new batch pods of workloads with only risky markets go to on-demand).",
	}, []string{"instance_type", "zone"})
)

func init() {
	metrics.Registry.MustRegister(scoresEnabled, scoreErrors, marketScore, scoreAge, marketRisky)
}

// scoreCondition is a workload's PlacementScores condition: True with each
// of its markets' scores while they are read and fresh, False saying why
// the signal is off or which readings are too old.
func (c *Controller) scoreCondition(k placer.Key, now time.Time) metav1.Condition {
	cond := metav1.Condition{Type: v1alpha1.PlacementScores, Status: metav1.ConditionTrue, Reason: "Read", LastTransitionTime: metav1.NewTime(now)}
	rule := c.Prices.Scores.rule()
	var read, stale []string
	for _, m := range c.exposed[k] {
		st, ok := c.scores.States[m]
		switch {
		case !ok || st.Last.At.IsZero():
			stale = append(stale, fmt.Sprintf("%s: no spot placement score yet", m))
		case !st.Fresh:
			stale = append(stale, rule.Reason(st))
		default:
			read = append(read, rule.Reason(st))
		}
	}
	switch {
	case c.scores.Off != nil:
		cond.Status, cond.Reason = metav1.ConditionFalse, "Off"
		cond.Message = clip("prices alone decide: " + c.scores.Off.Error())
	case len(stale) > 0:
		cond.Status, cond.Reason = metav1.ConditionFalse, "Stale"
		msg := "holding what the scores last said: " + strings.Join(stale, "; ")
		if c.scores.Err != nil {
			msg += "; last read: " + c.scores.Err.Error()
		}
		cond.Message = clip(msg)
	case len(read) == 0:
		cond.Message = "no spot market its pods may use to score"
	default:
		cond.Message = clip(fmt.Sprintf("capacity-risky at a score ≤ %d: %s", rule.Risky, strings.Join(read, "; ")))
	}
	return cond
}
