// Package progress tells a person waiting on a long computation how far it
// has got: a line on a writer (standard error, so a JSON report on standard
// output stays clean) every few seconds, and nothing at all for a
// computation that finishes sooner. It takes its clock as an argument, so
// tests step a fake one.
package progress
