package plot

import "time"

// SpansWhere returns the stretches of a step series where held(i) is true:
// sample i holds from times[i] until times[i+1] (the last until end), and
// consecutive held samples make one stretch.
func SpansWhere(name, color string, times []time.Time, end time.Time, held func(i int) bool) Spans {
	s := Spans{Name: name, Color: color}
	open := false
	for i, t := range times {
		switch h := held(i); {
		case h && !open:
			s.From, open = append(s.From, t), true
		case !h && open:
			s.To, open = append(s.To, t), false
		}
	}
	if open {
		s.To = append(s.To, end)
	}
	return s
}
