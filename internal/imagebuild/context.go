package imagebuild

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/dockerfiles"
	"github.com/ai-sandbox/ai-sandbox/internal/docker"
)

// ReadCACert reads a CA file and checks that it holds at least one PEM
// certificate and nothing that is not one (a private key given by mistake
// must never be copied into an image).
func ReadCACert(file string) ([]byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	rest := data
	n := 0
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("CA certificate %s: holds a %s block; only CERTIFICATE blocks are accepted", file, blk.Type)
		}
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("CA certificate %s: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)", file)
	}
	return data, nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// CAContextNames gives each CA file its name inside the build context's
// ca/ folder: numbered to keep them apart and in order, .crt so that
// update-ca-certificates takes them.
func CAContextNames(files []string) []string {
	out := make([]string, len(files))
	for i, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		base = strings.Trim(unsafeName.ReplaceAllString(base, "-"), "-.")
		if base == "" {
			base = "ca"
		}
		out[i] = fmt.Sprintf("%02d-%s.crt", i, base)
	}
	return out
}

// WriteContext writes the build context into dir (which must exist): the
// Dockerfile, the build helper scripts and the CA files. caFiles are host
// paths, in the order of spec.CACerts (see CAContextNames).
func WriteContext(dir string, s Spec, caFiles []string) error {
	if len(caFiles) != len(s.CACerts) {
		return errors.New("imagebuild: CA files and their context names differ in number")
	}
	text, err := Dockerfile(s)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(text), 0o644); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "build"), 0o755); err != nil {
		return err
	}
	entries, err := fs.ReadDir(dockerfiles.FS, "build")
	if err != nil {
		return err
	}
	for _, e := range entries {
		b, err := fs.ReadFile(dockerfiles.FS, path.Join("build", e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "build", e.Name()), b, 0o755); err != nil {
			return err
		}
	}
	if len(caFiles) > 0 {
		if err := os.MkdirAll(filepath.Join(dir, "ca"), 0o755); err != nil {
			return err
		}
		for i, f := range caFiles {
			data, err := ReadCACert(f)
			if err != nil {
				return err
			}
			if !bytes.HasSuffix(data, []byte("\n")) {
				data = append(data, '\n')
			}
			if err := os.WriteFile(filepath.Join(dir, "ca", s.CACerts[i]), data, 0o644); err != nil {
				return err
			}
		}
	}
	// A .dockerignore keeps anything else that lands in the folder out.
	return os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("*\n!Dockerfile\n!build/\n!ca/\n"), 0o644)
}

// RuntimeCABundle is where the extra CA bundle is mounted in a sandbox.
const RuntimeCABundle = "/etc/ai-sandbox/ca-bundle.pem"

// RuntimeCA is the run-time half of --ca-cert: the bundle written by
// CABundle, mounted read-only, and the variables that make node/npm,
// Python (requests, pip, OpenSSL) and git trust it. bundle is a host
// path; "" gives nothing. The env values are paths, never secrets.
func RuntimeCA(bundle string) ([]docker.Mount, map[string]string) {
	if bundle == "" {
		return nil, nil
	}
	mounts := []docker.Mount{{Source: bundle, Target: RuntimeCABundle, ReadOnly: true}}
	env := map[string]string{
		// Node adds these to its built-in roots.
		"NODE_EXTRA_CA_CERTS": RuntimeCABundle,
		// These replace the default store, which is why the bundle holds
		// the public roots too (see CABundle).
		"SSL_CERT_FILE":      RuntimeCABundle,
		"REQUESTS_CA_BUNDLE": RuntimeCABundle,
		"GIT_SSL_CAINFO":     RuntimeCABundle,
	}
	return mounts, env
}

// hostBundles are the system CA bundles looked for on the host (Debian and
// Ubuntu, Fedora and RHEL, openSUSE, Alpine, macOS).
var hostBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/ca-bundle.pem",
	"/etc/ssl/cert.pem",
}

// CABundle is the PEM bundle for RuntimeCA: the host's own system bundle,
// when one is found, followed by the extra CA files. Variables such as
// SSL_CERT_FILE replace a program's whole trust store, so the public
// roots must be in the file too.
func CABundle(caFiles []string) ([]byte, error) {
	var b bytes.Buffer
	for _, h := range hostBundles {
		if data, err := os.ReadFile(h); err == nil && bytes.Contains(data, []byte("BEGIN CERTIFICATE")) {
			b.Write(data)
			if !bytes.HasSuffix(data, []byte("\n")) {
				b.WriteByte('\n')
			}
			break
		}
	}
	for _, f := range caFiles {
		data, err := ReadCACert(f)
		if err != nil {
			return nil, err
		}
		b.Write(data)
		if !bytes.HasSuffix(data, []byte("\n")) {
			b.WriteByte('\n')
		}
	}
	return b.Bytes(), nil
}
