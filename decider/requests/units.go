package requests

import (
	"fmt"
	"math"
)

// RoundCPU rounds cores up to a whole 5 millicores below 1 core and a whole
// 10 millicores above, so requests read like ones a person would write.
func RoundCPU(cores float64) float64 {
	step := 0.005
	if cores >= 1 {
		step = 0.01
	}
	return math.Ceil(cores/step-1e-9) * step
}

// RoundMemory rounds bytes up to a whole 4 MiB below 1 GiB and a whole
// 64 MiB above.
func RoundMemory(bytes float64) float64 {
	step := 4.0 * MiB
	if bytes >= 1024*MiB {
		step = 64 * MiB
	}
	return math.Ceil(bytes/step-1e-9) * step
}

// Round rounds both resources up to their units.
func Round(r Resources) Resources {
	return Resources{CPU: RoundCPU(r.CPU), Memory: RoundMemory(r.Memory)}
}

// FormatBytes writes bytes as MiB or GiB with at most one decimal.
func FormatBytes(b float64) string {
	if math.Abs(b) >= 1024*MiB {
		return fmt.Sprintf("%.1f GiB", b/(1024*MiB))
	}
	return fmt.Sprintf("%.0f MiB", b/MiB)
}

// FormatCPU writes cores as millicores.
func FormatCPU(cores float64) string { return fmt.Sprintf("%.0fm", cores*1000) }

func formatResource(name string, v float64) string {
	if name == "cpu" {
		return FormatCPU(v)
	}
	return FormatBytes(v)
}
