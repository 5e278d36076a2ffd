package ociimage

// NonRoot is the user and group the image runs as: distroless' "nonroot",
// the runAsUser and runAsGroup of the chart's Deployment.
const NonRoot = 65532

// caPath is where the bundle lands in the image, the path Go's crypto/x509
// tries first on Linux; SSL_CERT_FILE names it too.
const caPath = "etc/ssl/certs/ca-certificates.crt"

// passwd and group hold the three users distroless' static image has, so
// that a process running as 65532 has a name and a home, and nothing has a
// login shell (there is none in the image).
const (
	passwd = "root:x:0:0:root:/root:/sbin/nologin\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
		"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	group = "root:x:0:\n" +
		"nobody:x:65534:\n" +
		"nonroot:x:65532:\n"
	// nsswitch.conf makes Go's resolver consult /etc/hosts before DNS, as
	// glibc-based images do.
	nsswitch = "hosts: files dns\n"
)

// BaseFiles is the image's base layer, made here rather than pulled: the
// directory tree, passwd and group with the nonroot user, and the PEM CA
// bundle ca (see CABundle). /tmp is world-writable as usual, though the
// chart mounts the root read-only.
func BaseFiles(ca []byte) []File {
	dir := func(name string, mode int64, id int) File {
		return File{Name: name, Mode: mode, UID: id, GID: id, Dir: true}
	}
	file := func(name string, body []byte) File { return File{Name: name, Mode: 0o644, Body: body} }
	return []File{
		dir("etc", 0o755, 0),
		dir("etc/ssl", 0o755, 0),
		dir("etc/ssl/certs", 0o755, 0),
		dir("home", 0o755, 0),
		dir("home/nonroot", 0o700, NonRoot),
		dir("root", 0o700, 0),
		dir("tmp", 0o1777, 0),
		file("etc/passwd", []byte(passwd)),
		file("etc/group", []byte(group)),
		file("etc/nsswitch.conf", []byte(nsswitch)),
		file(caPath, ca),
	}
}

// binaryPath is where the trimtab binary sits in the image: its entrypoint.
const binaryPath = "usr/local/bin/trimtab"

// BinaryFiles is the image's second layer: the binary at /usr/local/bin/trimtab.
func BinaryFiles(binary []byte) []File {
	return []File{
		{Name: "usr", Mode: 0o755, Dir: true},
		{Name: "usr/local", Mode: 0o755, Dir: true},
		{Name: "usr/local/bin", Mode: 0o755, Dir: true},
		{Name: binaryPath, Mode: 0o755, Body: binary},
	}
}
