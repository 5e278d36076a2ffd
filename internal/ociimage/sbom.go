package ociimage

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The SBOM is an SPDX 2.3 JSON document per platform image, made like ko's
// (https://github.com/ko-build/ko/blob/main/pkg/internal/sbom/spdx.go) from
// the Go build information recorded in the binary, the same data `go
// version -m` prints: the image contains the main module, which depends on
// every module linked in, built by the Go toolchain; the image also
// contains the CA bundle's module. Everything in it is derived from the
// build, its time is the image's epoch, so it is as reproducible as the
// image.

type spdxDocument struct {
	SPDXVersion       string             `json:"spdxVersion"`
	DataLicense       string             `json:"dataLicense"`
	SPDXID            string             `json:"SPDXID"`
	Name              string             `json:"name"`
	DocumentNamespace string             `json:"documentNamespace"`
	CreationInfo      spdxCreationInfo   `json:"creationInfo"`
	DocumentDescribes []string           `json:"documentDescribes"`
	Packages          []spdxPackage      `json:"packages"`
	Relationships     []spdxRelationship `json:"relationships"`
}

type spdxCreationInfo struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

type spdxPackage struct {
	SPDXID           string            `json:"SPDXID"`
	Name             string            `json:"name"`
	VersionInfo      string            `json:"versionInfo,omitempty"`
	DownloadLocation string            `json:"downloadLocation"`
	FilesAnalyzed    bool              `json:"filesAnalyzed"`
	LicenseConcluded string            `json:"licenseConcluded"`
	LicenseDeclared  string            `json:"licenseDeclared"`
	CopyrightText    string            `json:"copyrightText"`
	PrimaryPurpose   string            `json:"primaryPackagePurpose,omitempty"`
	Comment          string            `json:"comment,omitempty"`
	Checksums        []spdxChecksum    `json:"checksums,omitempty"`
	ExternalRefs     []spdxExternalRef `json:"externalRefs,omitempty"`
}

type spdxChecksum struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"checksumValue"`
}

type spdxExternalRef struct {
	Category string `json:"referenceCategory"`
	Type     string `json:"referenceType"`
	Locator  string `json:"referenceLocator"`
}

type spdxRelationship struct {
	Element string `json:"spdxElementId"`
	Type    string `json:"relationshipType"`
	Related string `json:"relatedSpdxElement"`
}

// spdxIDChars are the characters SPDX allows in an SPDXRef- identifier.
var spdxIDChars = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

func spdxID(kind, name string) string {
	return "SPDXRef-" + kind + "-" + spdxIDChars.ReplaceAllString(name, "-")
}

// SBOM returns the SPDX JSON document of the image with digest digest,
// named repo, built for bin.Platform from bin.
func SBOM(bin *Binary, digest v1.Hash, repo string, epoch time.Time) ([]byte, error) {
	info := bin.Info
	if info == nil || info.Main.Path == "" {
		return nil, fmt.Errorf("the %s binary has no Go module build information to make an SBOM from", bin.Platform)
	}
	imageID := spdxID("Image", bin.Platform.OS+"-"+bin.Platform.Arch)
	q := url.Values{"arch": {bin.Platform.Arch}, "os": {bin.Platform.OS}, "repository_url": {repo}}
	image := spdxPackage{
		SPDXID:           imageID,
		Name:             repo,
		VersionInfo:      digest.String(),
		DownloadLocation: "NOASSERTION",
		LicenseConcluded: "NOASSERTION",
		LicenseDeclared:  "NOASSERTION",
		CopyrightText:    "NOASSERTION",
		PrimaryPurpose:   "CONTAINER",
		Checksums:        []spdxChecksum{{Algorithm: "SHA256", Value: digest.Hex}},
		ExternalRefs: []spdxExternalRef{{Category: "PACKAGE-MANAGER", Type: "purl",
			Locator: "pkg:oci/" + repo[strings.LastIndex(repo, "/")+1:] + "@" + url.PathEscape(digest.String()) + "?" + q.Encode()}},
	}
	var settings []string
	for _, s := range info.Settings {
		settings = append(settings, s.Key+"="+s.Value)
	}
	mainID := spdxID("Package", info.Main.Path)
	main := goPackage(mainID, &info.Main)
	main.PrimaryPurpose = "APPLICATION"
	main.Comment = "built with " + info.GoVersion + ": " + strings.Join(settings, " ")
	goID := spdxID("Package", "stdlib")
	toolchain := spdxPackage{SPDXID: goID, Name: "stdlib", VersionInfo: info.GoVersion,
		DownloadLocation: "https://go.dev/dl/", LicenseConcluded: "NOASSERTION", LicenseDeclared: "NOASSERTION",
		CopyrightText: "NOASSERTION", ExternalRefs: []spdxExternalRef{purl("stdlib", info.GoVersion)}}
	caID := spdxID("Package", caModule)
	ca := goPackage(caID, &debug.Module{Path: caModule, Version: caModuleVersion()})
	ca.Comment = "the image's /" + caPath

	doc := spdxDocument{
		SPDXVersion:       "SPDX-2.3",
		DataLicense:       "CC0-1.0",
		SPDXID:            "SPDXRef-DOCUMENT",
		Name:              repo + "@" + digest.String(),
		DocumentNamespace: "https://" + repo + "/spdx/" + digest.Algorithm + "-" + digest.Hex,
		CreationInfo: spdxCreationInfo{
			Created:  epoch.UTC().Format(time.RFC3339),
			Creators: []string{"Tool: trimtab-hack-image", "Organization: trimtab"},
		},
		DocumentDescribes: []string{imageID},
		Packages:          []spdxPackage{image, main, toolchain, ca},
		Relationships: []spdxRelationship{
			{"SPDXRef-DOCUMENT", "DESCRIBES", imageID},
			{imageID, "CONTAINS", mainID},
			{imageID, "CONTAINS", caID},
			{mainID, "DEPENDS_ON", goID},
		},
	}
	for _, d := range info.Deps {
		if d.Replace != nil {
			d = d.Replace
		}
		id := spdxID("Package", d.Path+"-"+d.Version)
		doc.Packages = append(doc.Packages, goPackage(id, d))
		doc.Relationships = append(doc.Relationships, spdxRelationship{mainID, "DEPENDS_ON", id})
	}
	return json.MarshalIndent(doc, "", "  ")
}

// goPackage describes a Go module. Its checksum is go.sum's h1: hash (a
// SHA-256 over the module's file list) in hex, as ko records it.
func goPackage(id string, m *debug.Module) spdxPackage {
	p := spdxPackage{
		SPDXID:           id,
		Name:             m.Path,
		VersionInfo:      m.Version,
		DownloadLocation: "https://proxy.golang.org/" + m.Path + "/@v/" + m.Version + ".zip",
		LicenseConcluded: "NOASSERTION",
		LicenseDeclared:  "NOASSERTION",
		CopyrightText:    "NOASSERTION",
		ExternalRefs:     []spdxExternalRef{purl(m.Path, m.Version)},
	}
	if m.Version == "" || m.Version == "(devel)" {
		p.DownloadLocation = "NOASSERTION"
	}
	if h, ok := strings.CutPrefix(m.Sum, "h1:"); ok {
		if b, err := base64.StdEncoding.DecodeString(h); err == nil {
			p.Checksums = []spdxChecksum{{Algorithm: "SHA256", Value: hex.EncodeToString(b)}}
		}
	}
	return p
}

func purl(path, version string) spdxExternalRef {
	l := "pkg:golang/" + path
	if version != "" {
		l += "@" + version
	}
	return spdxExternalRef{Category: "PACKAGE-MANAGER", Type: "purl", Locator: l}
}
