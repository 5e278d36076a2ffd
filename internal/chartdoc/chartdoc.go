package chartdoc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Value is one documented value: its dotted key, its default as JSON, and
// the description from its "# --" comment ("" when it has none).
type Value struct {
	Key, Default, Description string
}

// Values lists the leaves of values.yaml in file order: scalars, lists,
// empty maps and maps with a "# --" description; any other map is
// descended into.
func Values(valuesYAML []byte) ([]Value, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(valuesYAML, &doc); err != nil {
		return nil, fmt.Errorf("parsing values.yaml: %w", err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("values.yaml: want a mapping at the top")
	}
	var out []Value
	if err := walk(doc.Content[0], "", &out); err != nil {
		return nil, err
	}
	return out, nil
}

func walk(m *yaml.Node, prefix string, out *[]Value) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		key := prefix + k.Value
		desc := description(k.HeadComment)
		// A map with a description of its own is one value, as helm-docs
		// has it (e.g. resources); otherwise its keys are.
		if v.Kind == yaml.MappingNode && len(v.Content) > 0 && desc == "" {
			if err := walk(v, key+".", out); err != nil {
				return err
			}
			continue
		}
		var val any
		if err := v.Decode(&val); err != nil {
			return fmt.Errorf("values.yaml %s: %w", key, err)
		}
		def, err := json.Marshal(val)
		if err != nil {
			return fmt.Errorf("values.yaml %s: %w", key, err)
		}
		*out = append(*out, Value{Key: key, Default: string(def), Description: desc})
	}
	return nil
}

// description returns the "-- " comment that documents a key: from the
// line starting "# --" to the end of the comment, one line of prose.
// Comment lines above it head a group of keys and are left out.
func description(comment string) string {
	var words []string
	on := false
	for _, line := range strings.Split(comment, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#"))
		if rest, ok := strings.CutPrefix(line, "--"); ok {
			on, words = true, nil
			line = rest
		}
		if on && line != "" {
			words = append(words, strings.TrimSpace(line))
		}
	}
	return strings.Join(words, " ")
}

// header is the README above the table.
const header = `# trimtab chart

<!-- Generated from values.yaml by hack/chartreadme (go run ./hack/chartreadme); do not edit. -->

trimtab's admission webhooks and controllers: see the repository's README
for what trimtab does and docs/ for how. cert-manager must be installed.

    helm install trimtab oci://ghcr.io/trimtab-dev/charts/trimtab \
      --namespace trimtab --create-namespace

Every key below is checked by values.schema.json: a mistyped key fails the
install with its name.

## Values

| Key | Default | Description |
|-----|---------|-------------|
`

// README renders the chart README for values.yaml.
func README(valuesYAML []byte) ([]byte, error) {
	vals, err := Values(valuesYAML)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(header)
	for _, v := range vals {
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", v.Key, cell(v.Default), cell(v.Description))
	}
	return b.Bytes(), nil
}

// cell escapes what would end a table cell or read as HTML.
var cell = strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace
