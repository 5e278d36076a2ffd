package manager

import (
	"fmt"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/controllers/placement"
)

// addPlacer adds the placement controller. It reads the apiserver
// directly, not the manager's cache: the cache holds only the pods the
// webhook placed, and the plan simulates every pod on every node.
func addPlacer(mgr ctrl.Manager, o Options) error {
	ps := config.DefaultPlacerSettings()
	if o.PlacerSettings != nil {
		ps = *o.PlacerSettings
	}
	if err := ps.Validate(); err != nil {
		return err
	}
	direct, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()})
	if err != nil {
		return fmt.Errorf("creating the placer's client: %w", err)
	}
	c := &placement.Controller{
		Client:   direct,
		Recorder: mgr.GetEventRecorder("trimtab-placer"),
		Settings: o.Settings,
		Placer:   ps,
		Period:   o.PlacerPeriod,
		Clock:    o.Clock,
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	if err := mgr.Add(c); err != nil {
		return fmt.Errorf("adding the placement controller: %w", err)
	}
	return nil
}
