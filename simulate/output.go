package simulate

import "github.com/trimtab-dev/trimtab/internal/version"

// SchemaVersion is the version of the JSON document every `trimtab simulate
// ... --format json` writes. It is bumped when a field is removed or
// renamed, or changes meaning, unit or type (a number that becomes null in
// cases it was not before counts: a reader must handle it). Adding a field
// does not bump it: readers ignore fields they do not know.
//
// 1: the first versioned document: schema_version, trimtab_version,
// trimtab_commit and inputs on top; every strategy has the same fields,
// null where a figure does not apply.
//
// 2: replicas: comparison.replica_hours_saved_vs_hpa_matched is null when
// the hpa-matched search found no target overloading as little as
// trimtab (it was the saving against the lowest target tried), and
// comparison.hpa_matched_reason says why ("" when the search succeeded).
const SchemaVersion = 2

// Header opens every replay's JSON document: which schema and which build
// wrote it.
type Header struct {
	SchemaVersion  int    `json:"schema_version"`
	TrimtabVersion string `json:"trimtab_version"`
	TrimtabCommit  string `json:"trimtab_commit"`
}

// NewHeader is the header of this build's documents.
func NewHeader() Header {
	v, c := version.Get()
	return Header{SchemaVersion: SchemaVersion, TrimtabVersion: v, TrimtabCommit: c}
}
