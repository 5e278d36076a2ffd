package chartdoc

import (
	"reflect"
	"strings"
	"testing"
)

func TestValues(t *testing.T) {
	in := `# A file comment.

# A group of keys.
image:
  # -- The repository.
  # Second line.
  repository: ghcr.io/x
  tag: ""
# -- Pull secrets | with a pipe.
imagePullSecrets: []
manager:
  # Heading, not a description.
  # -- Labels.
  podLabels: {}
  nested:
    # -- Deep.
    n: 3
  # -- Described as a whole, <not> descended into.
  resources:
    limits: {memory: 1Gi}
`
	got, err := Values([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Value{
		{"image.repository", `"ghcr.io/x"`, "The repository. Second line."},
		{"image.tag", `""`, ""},
		{"imagePullSecrets", `[]`, "Pull secrets | with a pipe."},
		{"manager.podLabels", `{}`, "Labels."},
		{"manager.nested.n", `3`, "Deep."},
		{"manager.resources", `{"limits":{"memory":"1Gi"}}`, "Described as a whole, <not> descended into."},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Values:\n got %q\nwant %q", got, want)
	}
	readme, err := README([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "| `imagePullSecrets` | `[]` | Pull secrets \\| with a pipe. |\n") {
		t.Errorf("README row not escaped:\n%s", readme)
	}
	if !strings.Contains(string(readme), "&lt;not&gt;") {
		t.Errorf("README passes <not> through as HTML:\n%s", readme)
	}
}

func TestValuesRejectsBadYAML(t *testing.T) {
	for _, in := range []string{"- a list\n", "a: [\n"} {
		if _, err := Values([]byte(in)); err == nil {
			t.Errorf("Values(%q) succeeded", in)
		}
	}
}
