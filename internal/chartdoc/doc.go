// Package chartdoc writes the chart's README from its values.yaml: one row
// per value with its default and the description its "# --" comment gives
// (the helm-docs convention, https://github.com/norwoodj/helm-docs, without
// building helm-docs). hack/chartreadme is its command line; a test in
// charts/ fails when the checked-in README is not what it writes.
package chartdoc
