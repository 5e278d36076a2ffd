package prometheus

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
)

// bearerFile adds "Authorization: Bearer <token>" from a file that may be
// replaced at any time. The kubelet rotates a projected service-account
// token by swapping a symlink to a new file, so the file is stat'ed on every
// request (one syscall) and re-read when its identity, size or modification
// time changed; client-go's cached token source re-reads on a timer
// instead, which leaves a window where the old token is sent.
type bearerFile struct {
	path string
	next http.RoundTripper

	mu   sync.Mutex
	info os.FileInfo
	tok  string
}

func (b *bearerFile) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := b.token()
	if err != nil {
		return nil, err
	}
	req = req.Clone(req.Context()) // a RoundTripper must not modify its request
	req.Header.Set("Authorization", "Bearer "+tok)
	return b.next.RoundTrip(req)
}

// token returns the file's token, re-reading it when the file changed. A
// file that cannot be read now keeps the last token (a rotation in
// progress), and is an error only when no token was ever read.
func (b *bearerFile) token() (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	fi, err := os.Stat(b.path)
	if err == nil && b.info != nil && os.SameFile(fi, b.info) && fi.Size() == b.info.Size() && fi.ModTime().Equal(b.info.ModTime()) {
		return b.tok, nil
	}
	if err == nil {
		var raw []byte
		if raw, err = os.ReadFile(b.path); err == nil {
			if tok := strings.TrimSpace(string(raw)); tok != "" {
				b.info, b.tok = fi, tok
				return tok, nil
			}
			err = fmt.Errorf("is empty")
		}
	}
	if b.tok != "" {
		return b.tok, nil
	}
	return "", fmt.Errorf("reading prometheus bearer token %s: %w", b.path, err)
}
