// Package dockerfiles holds the static parts of the sandbox image: the
// base layer, the add-on snippets, the build helper scripts and the
// presets (data files of INSTALL_* flags). internal/imagebuild assembles
// them, with the per-tool layers generated from internal/tools, into one
// Dockerfile. See README.md here.
package dockerfiles

import "embed"

// FS is the static image material.
//
//go:embed base.Dockerfile final.Dockerfile addons/*.Dockerfile presets/*.env build/*.sh
var FS embed.FS
