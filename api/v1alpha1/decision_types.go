package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Decision is trimtab's record of what it decided for one workload and why:
// the replica target with each component behind it, the forecast it sized
// for, the capacity split new pods get, how fresh its signals are, and, in
// shadow mode beside an HPA, how the two compare. There is one per
// Deployment, StatefulSet, Job (not controlled by a CronJob) or CronJob in
// an opted-in namespace, named after it and owned by it, so it is deleted
// with it; a Job's or CronJob's carries the capacity only (trimtab does not
// scale them), and a CronJob's is shared by its Jobs' pods. trimtab's controller writes it;
// users read it with `kubectl get decisions` and `kubectl describe
// decision`.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=trimtab
// +kubebuilder:printcolumn:name="Kind",type=string,JSONPath=`.spec.workloadRef.kind`,priority=1
// +kubebuilder:printcolumn:name="Workload",type=string,JSONPath=`.spec.workloadRef.name`
// +kubebuilder:printcolumn:name="Mode",type=string,JSONPath=`.status.mode`
// +kubebuilder:printcolumn:name="Current",type=integer,JSONPath=`.status.currentReplicas`
// +kubebuilder:printcolumn:name="Desired",type=integer,JSONPath=`.status.desiredReplicas`
// +kubebuilder:printcolumn:name="HPA",type=integer,JSONPath=`.status.hpa.desiredReplicas`,description="what an HPA on the same workload wants"
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.summary`
// +kubebuilder:printcolumn:name="Capacity",type=string,JSONPath=`.status.capacity.rest`,description="where pods beyond the on-demand base go"
// +kubebuilder:printcolumn:name="Placer",type=string,JSONPath=`.status.placement.summary`,description="the placer's current move, if any"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Decision struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   DecisionSpec   `json:"spec"`
	Status DecisionStatus `json:"status,omitempty"`
}

// DecisionSpec says which workload the Decision is for.
type DecisionSpec struct {
	// WorkloadRef is the workload decided for, in the Decision's
	// namespace.
	WorkloadRef WorkloadReference `json:"workloadRef"`
}

// WorkloadReference names a workload in the same namespace.
type WorkloadReference struct {
	// APIVersion is the workload's API version, e.g. apps/v1.
	APIVersion string `json:"apiVersion"`
	// Kind is Deployment or StatefulSet (replicas and capacity), or Job or
	// CronJob (capacity only: trimtab places their pods but does not scale
	// them).
	// +kubebuilder:validation:Enum=Deployment;StatefulSet;Job;CronJob
	Kind string `json:"kind"`
	// Name is the workload's name.
	Name string `json:"name"`
}

// Mode says whether trimtab applies its decisions (enforce) or only records
// them (shadow); it mirrors the workload's trimtab.dev/mode.
// +kubebuilder:validation:Enum=enforce;shadow
type Mode string

// DecisionStatus is what trimtab decided and why.
type DecisionStatus struct {
	// Mode is the workload's mode when this was decided.
	// +optional
	Mode Mode `json:"mode,omitempty"`
	// CurrentReplicas is the workload's replica count as last seen.
	// +optional
	CurrentReplicas int32 `json:"currentReplicas"`
	// DesiredReplicas is trimtab's replica target: applied in enforce mode,
	// recorded only in shadow mode.
	// +optional
	DesiredReplicas int32 `json:"desiredReplicas"`
	// Summary is the reason in a few words, e.g. "proactive: forecast
	// 9.8k at 12:10" or "holding: signals stale".
	// +optional
	Summary string `json:"summary,omitempty"`
	// Replicas holds each component of the target and the full reason.
	// +optional
	Replicas *ReplicasStatus `json:"replicas,omitempty"`
	// Forecast is what the proactive component sized for; absent while
	// the forecaster is cold.
	// +optional
	Forecast *ForecastStatus `json:"forecast,omitempty"`
	// Capacity is the split new pods get from the mutating webhook.
	// +optional
	Capacity *CapacityStatus `json:"capacity,omitempty"`
	// HPA compares trimtab with an HPA that scales the same workload;
	// absent when there is none.
	// +optional
	HPA *HPAComparison `json:"hpa,omitempty"`
	// LastSignalTime is when the workload's signals were last read
	// successfully.
	// +optional
	LastSignalTime *metav1.Time `json:"lastSignalTime,omitempty"`
	// LastScaleTime is when trimtab last changed the workload's replicas.
	// +optional
	LastScaleTime *metav1.Time `json:"lastScaleTime,omitempty"`
	// Conditions: AbleToScale, ScalingActive and ScalingLimited mean what
	// they mean on an HPA; SignalsFresh says whether the last read of the
	// workload's signals succeeded.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Requests is the requests controller's part of the status (a
	// workload with trimtab.dev/requests: auto): each container's learned
	// requests, which the mutating webhook stamps on new pods, the
	// freshness of the usage they rest on, and the last in-place resize.
	// The requests controller writes only this field; the replica
	// controller carries it over unchanged.
	// +optional
	Requests *RequestsStatus `json:"requests,omitempty"`
	// Placement is the placer's record for the workload: the spot outlook
	// its capacity follows, the pods it is moving and the evictions that
	// count against its budget. Only the placement controller writes it;
	// it lives on the Decision so that a new leader resumes a move where
	// the old one stopped and never evicts a pod twice.
	// +optional
	Placement *PlacementStatus `json:"placement,omitempty"`
}

// ReplicasStatus is the replica target's components. A nil component had
// no answer (a cold forecast, no reactive metric).
type ReplicasStatus struct {
	// Proactive is the count the forecast's upper bound needs at the target
	// utilization.
	// +optional
	Proactive *int32 `json:"proactive,omitempty"`
	// Reactive is the HPA algorithm's count on the current load.
	// +optional
	Reactive *int32 `json:"reactive,omitempty"`
	// Floor is the policy minimum.
	Floor int32 `json:"floor"`
	// Winner names the component that set the target: proactive,
	// reactive, floor, hold or guard.
	Winner string `json:"winner"`
	// Guard is the downstream guard's verdict, e.g. "guard downstream
	// 0.31 > 0.25: scale-out blocked".
	// +optional
	Guard string `json:"guard,omitempty"`
	// Reason is every component, largest first, and what limited the
	// result.
	Reason string `json:"reason"`
}

// ForecastStatus is the forecast the proactive component sized for.
type ForecastStatus struct {
	// Time is when the forecast's binding point falls.
	Time metav1.Time `json:"time"`
	// Expected is the forecast load there (the median), in the signal's unit.
	Expected string `json:"expected"`
	// Upper is the upper bound the sizing used, at Quantile.
	Upper string `json:"upper"`
	// Quantile names the bound, e.g. "p90".
	Quantile string `json:"quantile"`
	// Method says what the forecast rests on, e.g. "recent mean" or
	// "seasonal profile x level".
	Method string `json:"method"`
}

// CapacityStatus is the split between on-demand and spot capacity that
// the mutating webhook applies to new pods.
type CapacityStatus struct {
	// OnDemandBase is how many pods run on on-demand before the rest.
	OnDemandBase int32 `json:"onDemandBase"`
	// Rest is where the pods beyond the base go: spot or on-demand.
	Rest string `json:"rest"`
	// RestRequired says Rest is required, not only preferred.
	// +optional
	RestRequired bool `json:"restRequired,omitempty"`
	// Reason says why.
	Reason string `json:"reason"`

	// Drift is how far the workload's live pods of its current revision
	// are from the split (pods admitted while trimtab was down, a lost
	// race); absent while the workload is rolling out or scaling, when
	// it would only measure the rollout. Moving pods to mend it is the
	// placer's job.
	// +optional
	Drift *CapacityDrift `json:"drift,omitempty"`
}

// CapacityDrift compares a workload's pods with its capacity split.
type CapacityDrift struct {
	// Pods is how many live pods count toward the base (a Deployment's
	// updated replicas, a StatefulSet's replicas).
	Pods int32 `json:"pods"`
	// OnDemand and Spot count those trimtab placed on each capacity type,
	// by the placement label it stamped; Unplaced those it did not place.
	OnDemand int32 `json:"onDemand"`
	Spot     int32 `json:"spot"`
	// +optional
	Unplaced int32 `json:"unplaced,omitempty"`
	// WantOnDemand is how many of Pods the split puts on on-demand.
	WantOnDemand int32 `json:"wantOnDemand"`
	// Short is how many on-demand placements are missing, Over how many
	// are beyond what the split wants.
	// +optional
	Short int32 `json:"short,omitempty"`
	// +optional
	Over int32 `json:"over,omitempty"`
	// Message says what is off, e.g. "on-demand 3 short of 3; 20 of 20
	// pods without a placement", or "none".
	Message string `json:"message"`
}

// HPAComparison sets trimtab's shadow decisions beside an HPA's over a
// trailing window: what each would run, and how often each would have left
// the load over its target.
type HPAComparison struct {
	// Name is the HorizontalPodAutoscaler's name.
	Name string `json:"name"`
	// DesiredReplicas is the HPA's own desired count (its status).
	DesiredReplicas int32 `json:"desiredReplicas"`
	// Window is the trailing window the sums below cover.
	Window metav1.Duration `json:"window"`
	// TrimtabReplicaMinutes and HPAReplicaMinutes are each one's desired
	// replicas summed over the window's minutes.
	TrimtabReplicaMinutes int64 `json:"trimtabReplicaMinutes"`
	HPAReplicaMinutes     int64 `json:"hpaReplicaMinutes"`
	// TrimtabMinutesOverTarget and HPAMinutesOverTarget count the minutes
	// whose load exceeded each one's desired replicas at the target
	// utilization.
	TrimtabMinutesOverTarget int64 `json:"trimtabMinutesOverTarget"`
	HPAMinutesOverTarget     int64 `json:"hpaMinutesOverTarget"`
}

// Condition types of a Decision.
const (
	// AbleToScale: trimtab can read and change the workload's scale (False
	// when an HPA already scales it in enforce mode, or a scale failed).
	AbleToScale = "AbleToScale"
	// ScalingActive: trimtab computes a target from its signals (False
	// while it has none to compute from).
	ScalingActive = "ScalingActive"
	// ScalingLimited: the target was held to the policy's bounds, a rate
	// limit or the guard.
	ScalingLimited = "ScalingLimited"
	// SignalsFresh: the last read of the workload's signals succeeded;
	// False holds the last decision.
	SignalsFresh = "SignalsFresh"
)

// RequestsStatus is what trimtab learned about a workload's container
// requests (docs/requests.md, "In the cluster").
type RequestsStatus struct {
	// Containers holds one recommendation per container of the pod
	// template, in VPA's terms: a target and the bounds a running
	// container's requests may stay within.
	// +optional
	// +listType=map
	// +listMapKey=name
	Containers []ContainerRecommendation `json:"containers,omitempty"`
	// LastUsageTime is the time of the newest usage sample the models
	// learned from.
	// +optional
	LastUsageTime *metav1.Time `json:"lastUsageTime,omitempty"`
	// LastResize is the last in-place resize of one of the workload's
	// pods and how it went.
	// +optional
	LastResize *ResizeRecord `json:"lastResize,omitempty"`
	// Conditions: SignalsFresh says whether the last read of the
	// containers' usage succeeded (False holds every recommendation, as
	// the replica target is held); Resizing says whether running pods are
	// resized in place.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ContainerRecommendation is one container's learned requests.
type ContainerRecommendation struct {
	// Name is the container's name in the pod template.
	Name string `json:"name"`
	// Mode is Auto (new pods get Target; a running container whose
	// requests leave the bounds is resized in place) or Off (the workload
	// pins it with trimtab.dev/requests-pinned: its requests stay as
	// written, and nothing is learned for it).
	// +kubebuilder:validation:Enum=Auto;Off
	Mode string `json:"mode"`
	// Target is the recommended cpu and memory requests.
	// +optional
	Target corev1.ResourceList `json:"target,omitempty"`
	// LowerBound and UpperBound bound the requests a running container
	// may keep: outside them it is resized.
	// +optional
	LowerBound corev1.ResourceList `json:"lowerBound,omitempty"`
	// +optional
	UpperBound corev1.ResourceList `json:"upperBound,omitempty"`
	// CPUReason and MemoryReason say why, e.g. "p99 of hourly memory
	// peaks over 8.0 days +5%", "OOM kill at 06-01 12:00: at least 1.2
	// GiB", "memory rising 40 MiB/h ...; raising to 1.5 GiB".
	// +optional
	CPUReason string `json:"cpuReason,omitempty"`
	// +optional
	MemoryReason string `json:"memoryReason,omitempty"`
	// Urgent is set when a recent OOM kill or a leak that projects an OOM
	// set the memory target: running containers below it are raised at
	// once rather than at the next change window.
	// +optional
	Urgent bool `json:"urgent,omitempty"`
	// LastOOM is the newest OOM kill counted into the model; each kill is
	// counted once.
	// +optional
	LastOOM *metav1.Time `json:"lastOOM,omitempty"`
}

// ResizeRecord is one in-place resize (the pods/resize subresource).
type ResizeRecord struct {
	// Pod is the resized pod's name.
	Pod string `json:"pod"`
	// Time is when trimtab asked for the resize.
	Time metav1.Time `json:"time"`
	// Change lists what changed per container and why.
	Change string `json:"change"`
	// Outcome is InProgress, Done, Infeasible, Deferred (the kubelet
	// deferred it too long: the next pod gets the recommendation instead),
	// Recreated (in-place-or-recreate evicted it) or Failed.
	// In shadow mode it is Shadow: the resize trimtab would have asked.
	Outcome string `json:"outcome"`
}

// Condition types of a Decision's requests part.
const (
	// Resizing: running pods are resized in place (False in shadow mode,
	// with trimtab.dev/resize: off, or while the last resize failed).
	Resizing = "Resizing"
)

// +kubebuilder:object:root=true

// DecisionList is a list of Decisions.
type DecisionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Decision `json:"items"`
}

// DecisionCheckpoint keeps a workload's learned decider state — the
// forecaster's profile and error bands, the HPA path's stabilization
// history — so a restart or a leader change resumes where it was instead
// of learning a week again. It is a companion of the Decision (same name,
// owned by it) rather than a status field: it is binary, up to tens of KiB,
// and written on its own slower period, so the Decision stays small to read
// and cheap to update.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:categories=trimtab
// +kubebuilder:printcolumn:name="Saved",type=date,JSONPath=`.spec.savedAt`
type DecisionCheckpoint struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec DecisionCheckpointSpec `json:"spec"`
}

// DecisionCheckpointSpec is the saved state.
type DecisionCheckpointSpec struct {
	// SavedAt is when the state was saved.
	SavedAt metav1.Time `json:"savedAt"`
	// Replicas is the replica decider's state, in its own versioned binary
	// form.
	// +optional
	Replicas []byte `json:"replicas,omitempty"`

	// Requests is the requests controller's learned state, saved on its
	// own period with its own field manager, so neither controller's save
	// overwrites the other's.
	// +optional
	Requests *RequestsCheckpoint `json:"requests,omitempty"`
}

// RequestsCheckpoint is each container's request model.
type RequestsCheckpoint struct {
	// SavedAt is when the models were saved.
	SavedAt metav1.Time `json:"savedAt"`
	// Containers holds one model per learned container.
	// +optional
	// +listType=map
	// +listMapKey=name
	Containers []ContainerCheckpoint `json:"containers,omitempty"`
}

// ContainerCheckpoint is one container's model.
type ContainerCheckpoint struct {
	// Name is the container's name.
	Name string `json:"name"`
	// Model is decider/requests' versioned binary checkpoint
	// (Container.MarshalBinary), at most 8 KiB.
	Model []byte `json:"model"`
	// LastOOM is the newest OOM kill counted into Model; an OOM kill no
	// newer than it is never counted again.
	// +optional
	LastOOM *metav1.Time `json:"lastOOM,omitempty"`
}

// +kubebuilder:object:root=true

// DecisionCheckpointList is a list of DecisionCheckpoints.
type DecisionCheckpointList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DecisionCheckpoint `json:"items"`
}
