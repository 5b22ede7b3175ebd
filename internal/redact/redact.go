// Package redact masks what looks like a secret in a config file before
// it is shown: values under keys named like secrets (token, api key,
// password, …) and values shaped like known credentials (sk-…, ghp_…,
// AKIA…, JWTs, private keys), in JSON, YAML, TOML, INI and KEY=value
// files. It errs on the side of masking.
package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// secretKey matches key names whose values are secrets.
var secretKey = regexp.MustCompile(`(?i)(api[_-]?key|apikey|access[_-]?key|secret|token|passw(or)?d|passphrase|credential|auth|bearer|cookie|session[_-]?key|private[_-]?key|^key$|[_-]key$|[a-z]Key$|refresh|oauth|^access$|^id_token$)`)

// notSecretKey are key names that match secretKey but hold no secret.
var notSecretKey = regexp.MustCompile(`(?i)^(keybindings?|keymap|tokenizer|max_?tokens?|token_?limit|auth_?type|authType|author|authors|authMethod|autoupdate)$`)

// secretValue matches values shaped like credentials.
var secretValue = regexp.MustCompile(`(sk-[A-Za-z0-9_-]{8,}|sk_[A-Za-z0-9]{8,}|gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{16,}|glpat-[A-Za-z0-9_-]{16,}|xox[abpr]-[A-Za-z0-9-]{8,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{30,}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}|ya29\.[A-Za-z0-9_-]{16,})`)

// privateKey is a PEM private key block.
var privateKey = regexp.MustCompile(`(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----`)

// Mask is what a secret is shown as.
func Mask(v string) string {
	if v == "" {
		return ""
	}
	return fmt.Sprintf("*** (masked, %d characters)", len(v))
}

// IsSecretKey reports whether a key's value is treated as a secret.
func IsSecretKey(k string) bool {
	return secretKey.MatchString(k) && !notSecretKey.MatchString(k)
}

// Redact returns data with secrets masked. JSON is parsed and written
// back indented (keys sorted); anything else is masked line by line.
func Redact(data []byte) []byte {
	data = privateKey.ReplaceAllFunc(data, func(m []byte) []byte { return []byte(Mask(string(m))) })
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		var v any
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		if err := dec.Decode(&v); err == nil && !dec.More() {
			out, err := json.MarshalIndent(maskJSON(v, false), "", "  ")
			if err == nil {
				return append(out, '\n')
			}
		}
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(string(data), "\n") {
		b.WriteString(maskLine(line))
	}
	return []byte(b.String())
}

func maskJSON(v any, secret bool) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out[k] = maskJSON(x[k], secret || IsSecretKey(k))
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = maskJSON(e, secret)
		}
		return out
	case string:
		if secret && x != "" {
			return Mask(x)
		}
		return maskValues(x)
	case json.Number:
		if secret {
			return Mask(x.String())
		}
		return x
	}
	return v
}

// maskValues masks credential-shaped substrings.
func maskValues(s string) string {
	return secretValue.ReplaceAllStringFunc(s, Mask)
}

// kvLine is "key = value", "key: value", "KEY=value", "export KEY=value".
var kvLine = regexp.MustCompile(`^(\s*(?:export\s+)?["']?)([A-Za-z0-9_.\-]+)(["']?\s*[:=]\s*)(.*?)(\s*,?\s*\r?\n?)$`)

func maskLine(line string) string {
	trim := strings.TrimSpace(line)
	if strings.HasPrefix(trim, "#") || strings.HasPrefix(trim, ";") || strings.HasPrefix(trim, "//") {
		return maskValues(line)
	}
	m := kvLine.FindStringSubmatch(line)
	if m == nil || !IsSecretKey(m[2]) {
		return maskValues(line)
	}
	val := m[4]
	if val == "" || val == "{" || val == "[" {
		return line
	}
	q := ""
	if len(val) >= 2 && (val[0] == '"' || val[0] == '\'') && val[len(val)-1] == val[0] {
		q, val = val[:1], val[1:len(val)-1]
	}
	return m[1] + m[2] + m[3] + q + Mask(val) + q + m[5]
}
