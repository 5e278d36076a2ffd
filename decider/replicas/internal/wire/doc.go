// Package wire is the little-endian binary encoding the replica decider's
// checkpoints share (the forecaster's, the HPA state's and the decider
// state's). A Writer and a Reader each remember their first error, so an
// encoder or a decoder reads as the plain list of its fields, and a
// truncated or out-of-range input is reported once, by the name of the
// field where it went wrong. Nothing here reads a clock or does I/O.
package wire
