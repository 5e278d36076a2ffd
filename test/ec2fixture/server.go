package ec2fixture

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trimtab-dev/trimtab/prices"
)

// Item is one spot price the server knows, at trace time Time. Price is the
// text served, so a test can serve garbage ("cheap", "-1").
type Item struct {
	InstanceType, Zone, Product, Price string
	Time                               time.Time
}

// Score is one spot placement score the server answers with. With a
// zero Time it holds from the start; otherwise from trace time Time (on the
// same clock as the prices: served from Time + Offset once Now has reached
// it), until the zone's next point.
type Score struct {
	Region, ZoneID string
	Score          int
	Time           time.Time
}

// Zone is one availability zone DescribeAvailabilityZones answers with:
// its name (us-east-1a) and its ID (use1-az1), which EC2 maps per account.
type Zone struct {
	Region, Name, ID string
}

// Server is the EC2-protocol fixture. Set the exported fields before
// serving; the methods are safe for concurrent use.
type Server struct {
	// Region is the SigV4 scope region accepted (default us-east-1).
	Region string
	// AccessKey, when set, is the only access key ID accepted.
	AccessKey string
	// PageSize bounds the items of one page (default 1000, and at most
	// the request's MaxResults).
	PageSize int
	// Offset is added to trace times; Now is the manager's clock (nil:
	// every point is served at once).
	Offset time.Duration
	Now    func() time.Time

	mu       sync.Mutex
	items    []Item
	scores   []Score
	zones    []Zone
	denied   map[string]bool
	failOnly map[string]bool
	throttle int
	fail     string
	calls    []url.Values
}

// Add adds items (any order).
func (s *Server) Add(items ...Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items = append(s.items, items...)
	sort.SliceStable(s.items, func(i, j int) bool { return s.items[i].Time.Before(s.items[j].Time) })
}

// AddHistories adds recorded histories (prices/file.ReadFiles).
func (s *Server) AddHistories(hs []prices.History) {
	var items []Item
	for _, h := range hs {
		for _, p := range h.Points {
			items = append(items, Item{InstanceType: h.Market.InstanceType, Zone: h.Market.Zone, Product: h.Market.Product,
				Price: strconv.FormatFloat(p.Price, 'f', -1, 64), Time: p.Time})
		}
	}
	s.Add(items...)
}

// SetScores sets the placement scores GetSpotPlacementScores answers: a
// schedule per zone ID (see Score), any order.
func (s *Server) SetScores(scores ...Score) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scores = append([]Score(nil), scores...)
	sort.SliceStable(s.scores, func(i, j int) bool { return s.scores[i].Time.Before(s.scores[j].Time) })
}

// SetZones sets the zones DescribeAvailabilityZones answers.
func (s *Server) SetZones(zones ...Zone) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.zones = append([]Zone(nil), zones...)
}

// Deny answers every call of the given actions with EC2's
// UnauthorizedOperation (HTTP 403), as for an IAM role without the
// permission; Deny() allows every action again.
func (s *Server) Deny(actions ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied = map[string]bool{}
	for _, a := range actions {
		s.denied[a] = true
	}
}

// Throttle answers the next n calls with RequestLimitExceeded (HTTP 503).
func (s *Server) Throttle(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle = n
}

// Fail makes every call fail until Fail(""): "garbage" answers truncated
// XML, "500" EC2's InternalError. With actions, only those fail.
func (s *Server) Fail(mode string, actions ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = mode
	s.failOnly = map[string]bool{}
	for _, a := range actions {
		s.failOnly[a] = true
	}
}

// Calls returns the form of every call received so far.
func (s *Server) Calls() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.calls...)
}

// ResetCalls forgets the calls received so far.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

func (s *Server) region() string {
	if s.Region == "" {
		return "us-east-1"
	}
	return s.Region
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeErr(w, 400, "MalformedQueryString", err.Error())
		return
	}
	form := r.PostForm
	auth := r.Header.Get("Authorization")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, form)
	key := s.AccessKey
	if key == "" {
		key, _, _ = strings.Cut(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 Credential="), "/")
	}
	if r.Method != http.MethodPost || key == "" || !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+key+"/") || !strings.Contains(auth, "/"+s.region()+"/ec2/aws4_request") {
		writeErr(w, 401, "AuthFailure", fmt.Sprintf("unsigned or mis-scoped request (method %s, Authorization %q; want a SigV4 signature for region %s)", r.Method, auth, s.region()))
		return
	}
	action := form.Get("Action")
	if !actions[action] || form.Get("Version") == "" {
		writeErr(w, 400, "InvalidAction", "The action "+action+" is not valid for this web service.")
		return
	}
	if s.denied[action] {
		writeErr(w, 403, "UnauthorizedOperation", "You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/trimtab/i-0 is not authorized to perform: ec2:"+action+" because no identity-based policy allows the ec2:"+action+" action")
		return
	}
	if s.throttle > 0 {
		s.throttle--
		writeErr(w, 503, "RequestLimitExceeded", "Request limit exceeded.")
		return
	}
	fail := s.fail
	if len(s.failOnly) > 0 && !s.failOnly[action] {
		fail = ""
	}
	switch fail {
	case "garbage":
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		fmt.Fprint(w, "<"+action+"Response><spotPriceHistorySet><item><spotPrice>")
		return
	case "500":
		writeErr(w, 500, "InternalError", "An internal error has occurred")
		return
	}
	switch action {
	case "GetSpotPlacementScores":
		s.scoresResponse(w, form)
	case "DescribeAvailabilityZones":
		s.zonesResponse(w)
	default:
		s.priceResponse(w, form)
	}
}

// actions are the EC2 actions served.
var actions = map[string]bool{"DescribeSpotPriceHistory": true, "GetSpotPlacementScores": true, "DescribeAvailabilityZones": true}

// indexed collects form values Name.1, Name.2, ...
func indexed(form url.Values, name string) map[string]bool {
	out := map[string]bool{}
	for i := 1; ; i++ {
		v, ok := form[name+"."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out[v[0]] = true
	}
}

func (s *Server) priceResponse(w http.ResponseWriter, form url.Values) {
	start, _ := time.Parse(time.RFC3339, form.Get("StartTime"))
	end, err := time.Parse(time.RFC3339, form.Get("EndTime"))
	if err != nil {
		end = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if s.Now != nil && s.Now().Before(end) {
		end = s.Now()
	}
	types, products := indexed(form, "InstanceType"), indexed(form, "ProductDescription")
	zones := map[string]bool{}
	for i := 1; form.Has("Filter." + strconv.Itoa(i) + ".Name"); i++ {
		if form.Get("Filter."+strconv.Itoa(i)+".Name") == "availability-zone" {
			zones = indexed(form, "Filter."+strconv.Itoa(i)+".Value")
		}
	}
	// EC2 answers the changes within [start, end] and, per market, the
	// price in force at start.
	type key struct{ typ, zone, product string }
	inForce := map[key]Item{}
	var match []Item
	for _, it := range s.items {
		if (len(types) > 0 && !types[it.InstanceType]) || (len(zones) > 0 && !zones[it.Zone]) || (len(products) > 0 && !products[it.Product]) {
			continue
		}
		it.Time = it.Time.Add(s.Offset)
		switch {
		case it.Time.After(end):
		case it.Time.Before(start):
			inForce[key{it.InstanceType, it.Zone, it.Product}] = it
		default:
			match = append(match, it)
		}
	}
	for _, it := range inForce {
		match = append(match, it)
	}
	sort.SliceStable(match, func(i, j int) bool { return match[i].Time.Before(match[j].Time) })
	page, next := s.page(form, len(match))
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<DescribeSpotPriceHistoryResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
  <spotPriceHistorySet>`)
	for _, it := range match[page[0]:page[1]] {
		fmt.Fprintf(&b, `
    <item>
      <instanceType>%s</instanceType>
      <productDescription>%s</productDescription>
      <spotPrice>%s</spotPrice>
      <timestamp>%s</timestamp>
      <availabilityZone>%s</availabilityZone>
    </item>`, it.InstanceType, it.Product, it.Price, it.Time.UTC().Format("2006-01-02T15:04:05.000Z"), it.Zone)
	}
	b.WriteString("\n  </spotPriceHistorySet>\n" + next + "</DescribeSpotPriceHistoryResponse>")
	writeXML(w, b.String())
}

// page picks the page the request's NextToken and MaxResults ask for out
// of n items, and the nextToken element to answer.
func (s *Server) page(form url.Values, n int) ([2]int, string) {
	size := s.PageSize
	if size <= 0 {
		size = 1000
	}
	if m, err := strconv.Atoi(form.Get("MaxResults")); err == nil && m > 0 && m < size {
		size = m
	}
	off := 0
	fmt.Sscanf(form.Get("NextToken"), "tok-%d", &off)
	off = min(max(off, 0), n)
	end := min(off+size, n)
	if end < n {
		return [2]int{off, end}, fmt.Sprintf("  <nextToken>tok-%d</nextToken>\n", end)
	}
	return [2]int{off, end}, "  <nextToken/>\n"
}

func (s *Server) scoresResponse(w http.ResponseWriter, form url.Values) {
	if form.Get("TargetCapacity") == "" || len(indexed(form, "InstanceType")) == 0 {
		writeErr(w, 400, "MissingParameter", "The request must contain the parameters TargetCapacity and InstanceType.")
		return
	}
	regions := indexed(form, "RegionName")
	// Each zone's score in force now: its last point not after Now.
	type key struct{ region, zone string }
	inForce := map[key]Score{}
	var order []key
	for _, sc := range s.scores {
		if len(regions) > 0 && !regions[sc.Region] {
			continue
		}
		if !sc.Time.IsZero() && s.Now != nil && sc.Time.Add(s.Offset).After(s.Now()) {
			continue
		}
		k := key{sc.Region, sc.ZoneID}
		if _, ok := inForce[k]; !ok {
			order = append(order, k)
		}
		inForce[k] = sc
	}
	var match []Score
	for _, k := range order {
		match = append(match, inForce[k])
	}
	page, next := s.page(form, len(match))
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<GetSpotPlacementScoresResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>7bd4b6a7-EXAMPLE</requestId>
  <spotPlacementScoreSet>`)
	for _, sc := range match[page[0]:page[1]] {
		fmt.Fprintf(&b, `
    <item>
      <region>%s</region>
      <availabilityZoneId>%s</availabilityZoneId>
      <score>%d</score>
    </item>`, sc.Region, sc.ZoneID, sc.Score)
	}
	b.WriteString("\n  </spotPlacementScoreSet>\n" + next + "</GetSpotPlacementScoresResponse>")
	writeXML(w, b.String())
}

func (s *Server) zonesResponse(w http.ResponseWriter) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<DescribeAvailabilityZonesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>e23c5a54-EXAMPLE</requestId>
  <availabilityZoneInfo>`)
	for _, z := range s.zones {
		if z.Region != "" && z.Region != s.region() {
			continue
		}
		fmt.Fprintf(&b, `
    <item>
      <zoneName>%s</zoneName>
      <zoneState>available</zoneState>
      <regionName>%s</regionName>
      <zoneId>%s</zoneId>
      <zoneType>availability-zone</zoneType>
    </item>`, z.Name, s.region(), z.ID)
	}
	b.WriteString("\n  </availabilityZoneInfo>\n</DescribeAvailabilityZonesResponse>")
	writeXML(w, b.String())
}

func writeXML(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	fmt.Fprint(w, body)
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>`, code, msg)
}
