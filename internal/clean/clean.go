// Package clean finds what ai-sandbox keeps on disk and in docker, sorted
// into categories a user can choose from (caches, the agents' homes,
// logins, per-project databases, relay sockets, logs, the original
// wrapper's leftovers, stopped sandbox containers, sandbox images, the
// configuration), and removes the chosen items.
//
// Finding is reading only: the state folder (~/.ai-sandbox) is walked
// with hostfs, which never follows a symbolic link, so a link an agent
// planted in its home is measured and removed as a link, never as what
// it points to. What a running sandbox uses (its project's homes,
// database, relay) is listed as in use and never removed.
package clean

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
)

// Category is a kind of thing that can be cleaned.
type Category string

const (
	Caches     Category = "cache"
	Homes      Category = "homes"
	Logins     Category = "logins"
	Databases  Category = "databases"
	Relays     Category = "relays"
	Logs       Category = "logs"
	Legacy     Category = "legacy"
	Generated  Category = "generated"
	Containers Category = "containers"
	Images     Category = "images"
	// Config is config.json and the env file: removed only when named.
	Config Category = "config"
)

// CategoryInfo describes a category for menus and help.
type CategoryInfo struct {
	Category Category
	Title    string
	// Warning is said before anything of the category is removed.
	Warning string
}

// Categories lists the categories in menu order.
func Categories() []CategoryInfo {
	return []CategoryInfo{
		{Caches, "package caches in the sandbox homes and the shared ones (npm, pip, bun, go, …)", ""},
		{Homes, "agents' homes per project (their settings, history, sessions)", "the agents forget what they kept for those projects (their settings, history and sessions)"},
		{Databases, "per-project databases of OpenCode and Kilo", "the sessions kept in those databases are lost"},
		{Containers, "stopped sandbox containers", ""},
		{Images, "sandbox images", "a sandbox cannot start until an image is built or pulled again"},
		{Relays, "git relay folders (sockets, their logs)", ""},
		{Logs, "logs and exit reports", "'ai-sandbox report' forgets the last reports"},
		{Logins, "agents' logins shared by every project", "you will have to log in to those agents again"},
		{Legacy, "the original wrapper's leftovers (shared/git with copied keys, its shared homes, browser profiles)", ""},
		{Generated, "files ai-sandbox makes again at each launch (passwd, seccomp profile, git shims, CA bundle)", ""},
		{Config, "config.json and env (workspaces, git modes, networks, settings, API keys)", "your whitelisted workspaces, git modes, networks, settings and API KEYS are deleted"},
	}
}

// Info returns the description of c.
func Info(c Category) CategoryInfo {
	for _, i := range Categories() {
		if i.Category == c {
			return i
		}
	}
	return CategoryInfo{Category: c, Title: string(c)}
}

// Item is one thing that can be removed: folders and files below the
// state folder (Rels), or a container or an image (ID).
type Item struct {
	Category Category `json:"category"`
	// Label says what it is, for people.
	Label string   `json:"label"`
	Rels  []string `json:"paths,omitempty"` // below the state folder
	ID    string   `json:"id,omitempty"`    // container or image id
	// Names are an image's names (each tag is removed).
	Names []string `json:"names,omitempty"`
	Bytes int64    `json:"bytes"`
	// Project is the project folder it belongs to, when it does.
	Project string `json:"project,omitempty"`
	// Note adds what the user should know ("the folder is gone").
	Note string `json:"note,omitempty"`
	// InUse items belong to a running sandbox: listed, never removed.
	InUse bool `json:"inUse,omitempty"`
	// CacheType is the cache's type (npm, pip, …) for Caches.
	CacheType string `json:"cacheType,omitempty"`
}

// Container is a sandbox container as docker lists it.
type Container struct {
	ID, Name, Tool, Path, State string
	Image                       string // as docker ps shows it: a name or an id
	// SharedCaches says it mounts the package caches shared by every
	// project (label ai-sandbox.caches=shared).
	SharedCaches bool
}

// Image is a sandbox image as docker lists it.
type Image struct {
	ID    string
	Names []string
	Bytes int64
}

// Facts are what Inventory needs besides the state folder.
type Facts struct {
	Root string // the state folder, trusted
	// Running are the project folders with a running sandbox.
	Running []string
	// Containers are the user's sandbox containers, any state.
	Containers []Container
	// Images are the sandbox images.
	Images []Image
	// Exists reports whether a host folder exists (a project's).
	Exists func(string) bool
	// Key is the project key of a folder (project.Key).
	Key func(string) string
	// DBRoots are the per-project database folders, relative to Root
	// (opencode-dbs, kilo-dbs).
	DBRoots []string
}

// cacheType is one kind of package cache, by where it lives in a home,
// (for the original's shared caches) in the state's cache folder, and
// (when the user shares them across projects) below cache/shared.
type cacheType struct {
	name   string
	inHome []string
	legacy string   // below cache/, as the original kept it
	shared []string // below cache/shared (sandbox.CacheKinds)
}

func cacheTypes() []cacheType {
	return []cacheType{
		{"npm", []string{".npm"}, "npm", []string{"npm"}},
		{"pnpm", []string{".local/share/pnpm/store", ".cache/pnpm"}, "", []string{"pnpm"}},
		{"pip", []string{".cache/pip"}, "pip", nil},
		{"bun", []string{".bun/install/cache"}, "bun", []string{"bun"}},
		{"playwright", []string{".cache/ms-playwright"}, "playwright-browsers", nil},
		{"node-gyp", []string{".cache/node-gyp"}, "", nil},
		{"uv", []string{".cache/uv"}, "", []string{"uv"}},
		{"go", []string{".cache/go-build", "go/pkg/mod"}, "", []string{"go-build", "go-mod"}},
	}
}

// SharedCacheDir is the folder of the caches shared across projects,
// below the state folder.
const SharedCacheDir = "cache/shared"

// CacheTypes lists the cache types, for `clean cache TYPE`.
func CacheTypes() []string {
	var out []string
	for _, c := range cacheTypes() {
		out = append(out, c.name)
	}
	return out
}

// NormalizeCacheType accepts a cache type's name (or the original's
// playwright-browsers).
func NormalizeCacheType(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "playwright-browsers" {
		s = "playwright"
	}
	return s, slices.Contains(CacheTypes(), s)
}

// generatedCache are the entries of cache/ that ai-sandbox writes at each
// launch (by prefix).
var generatedCache = []string{"passwd", "seccomp-", "ca-bundle", "git-shims", "nano-brain"}

// home is one agent home found below the state folder.
type home struct {
	rel, label, project string
	gone, inUse         bool
}

// Inventory lists everything that can be cleaned, by category.
func Inventory(f Facts) ([]Item, error) {
	r := hostfs.New(f.Root)
	if _, err := r.Lstat("."); errors.Is(err, fs.ErrNotExist) {
		return dockerItems(f), nil
	} else if err != nil {
		return nil, err
	}
	running := map[string]bool{}
	for _, p := range f.Running {
		running[p] = true
	}
	sharedInUse := ""
	for _, c := range f.Containers {
		if c.SharedCaches && (c.State == "running" || c.State == "restarting" || c.State == "paused") {
			sharedInUse = c.Name
		}
	}
	var items []Item
	add := func(it Item, rels ...string) {
		it.Rels = rels
		for _, rel := range rels {
			u, err := r.Usage(rel)
			if err == nil {
				it.Bytes += u.Bytes
			}
		}
		items = append(items, it)
	}
	top, err := readDir(r, ".")
	if err != nil {
		return nil, err
	}

	// The agents' homes, per project, and the state of projects gone.
	var homes []home
	projects, _ := readDir(r, "projects")
	for _, e := range projects {
		rel := filepath.Join("projects", e.Name())
		path := projectPath(r, rel)
		gone := path != "" && f.Exists != nil && !f.Exists(path)
		inUse := path != "" && running[path]
		if path == "" && f.Key != nil {
			for p := range running {
				if f.Key(p) == e.Name() {
					inUse, path = true, p
				}
			}
		}
		if gone && !inUse {
			add(Item{Category: Homes, Label: "state of " + orUnknown(path) + " (the folder is gone)", Project: path,
				Note: "its homes, its record and its relay"}, rel)
			continue
		}
		tools, _ := readDir(r, filepath.Join(rel, "homes"))
		for _, t := range tools {
			hrel := filepath.Join(rel, "homes", t.Name())
			homes = append(homes, home{rel: hrel, label: t.Name() + "'s home in " + orUnknown(path), project: path, inUse: inUse})
			add(Item{Category: Homes, Label: t.Name() + "'s home in " + orUnknown(path), Project: path, InUse: inUse}, hrel)
		}
		if _, err := r.Lstat(filepath.Join(rel, "git")); err == nil {
			add(Item{Category: Relays, Label: "git relay of " + orUnknown(path), Project: path, InUse: inUse}, filepath.Join(rel, "git"))
		}
	}

	// Logins and the shared homes of the original (and earlier versions).
	toolDirs, _ := readDir(r, "tools")
	for _, t := range toolDirs {
		rel := filepath.Join("tools", t.Name())
		if _, err := r.Lstat(filepath.Join(rel, "login")); err == nil {
			add(Item{Category: Logins, Label: t.Name() + "'s login"}, filepath.Join(rel, "login"))
		}
		if _, err := r.Lstat(filepath.Join(rel, "home")); err == nil {
			homes = append(homes, home{rel: filepath.Join(rel, "home"), label: "the original's shared home of " + t.Name()})
			add(Item{Category: Homes, Label: "the original's shared home of " + t.Name(), Note: "read once to take over its login"}, filepath.Join(rel, "home"))
		}
	}
	if isDir(r, "home") {
		homes = append(homes, home{rel: "home", label: "the original's unified home"})
	}

	// Package caches: in every home, and the original's shared ones.
	for _, ct := range cacheTypes() {
		for _, h := range homes {
			for _, in := range ct.inHome {
				rel := filepath.Join(h.rel, in)
				if _, err := r.Lstat(rel); err != nil {
					continue
				}
				add(Item{Category: Caches, CacheType: ct.name, Label: ct.name + " cache in " + h.label, Project: h.project, InUse: h.inUse}, rel)
			}
		}
		for _, kind := range ct.shared {
			rel := filepath.Join(SharedCacheDir, kind)
			if _, err := r.Lstat(rel); err != nil {
				continue
			}
			it := Item{Category: Caches, CacheType: ct.name, Label: kind + " cache shared by every project (" + SharedCacheDir + "/" + kind + ")"}
			if sharedInUse != "" {
				it.InUse, it.Note = true, "used by "+sharedInUse
			}
			add(it, rel)
		}
		if ct.legacy != "" {
			rel := filepath.Join("cache", ct.legacy)
			if _, err := r.Lstat(rel); err == nil {
				add(Item{Category: Caches, CacheType: ct.name, Label: ct.name + " cache of the original (cache/" + ct.legacy + ")"}, rel)
			}
		}
	}
	cache, _ := readDir(r, "cache")
	for _, e := range cache {
		for _, g := range generatedCache {
			if strings.HasPrefix(e.Name(), g) {
				add(Item{Category: Generated, Label: "cache/" + e.Name()}, filepath.Join("cache", e.Name()))
				break
			}
		}
	}

	// Per-project databases, with the folder each belongs to.
	for _, root := range f.DBRoots {
		dbs, _ := readDir(r, root)
		for _, e := range dbs {
			if e.Name() == ".owners" {
				continue
			}
			rel := filepath.Join(root, e.Name())
			owner := readLine(r, filepath.Join(root, ".owners", e.Name()))
			it := Item{Category: Databases, Label: root + "/" + e.Name(), Project: owner, InUse: owner != "" && running[owner]}
			switch {
			case owner == "":
				it.Note = "no folder recorded (made by the original)"
			case f.Exists != nil && !f.Exists(owner):
				it.Note = "the folder is gone"
			}
			rels := []string{rel}
			if owner != "" {
				rels = append(rels, filepath.Join(root, ".owners", e.Name()))
			}
			add(it, rels...)
		}
	}

	// Logs and exit reports.
	logs, _ := readDir(r, "logs")
	for _, e := range logs {
		label := "logs/" + e.Name()
		if e.Name() == "reports" {
			label = "exit reports (logs/reports)"
		}
		add(Item{Category: Logs, Label: label}, filepath.Join("logs", e.Name()))
	}
	// The egress proxy's refusal log (its config, which the running
	// sandboxes' proxy serves, stays).
	egressLogs, _ := readDir(r, filepath.Join("egress", "log"))
	for _, e := range egressLogs {
		add(Item{Category: Logs, Label: "egress/log/" + e.Name() + " (what the egress proxy refused)"}, filepath.Join("egress", "log", e.Name()))
	}

	// The original's leftovers and whatever else lies at the top.
	known := map[string]bool{"projects": true, "tools": true, "cache": true, "logs": true, "config.json": true, "env": true, "egress": true,
		".config.lock": true, ".config.lock.holder": true, "workspaces": true}
	for _, root := range f.DBRoots {
		known[root] = true
	}
	for _, e := range top {
		name := e.Name()
		switch {
		case known[name]:
		case name == "shared":
			add(Item{Category: Legacy, Label: "shared/ (the original's git credentials: copied SSH keys and .gitconfig)"}, name)
		case name == "home":
			add(Item{Category: Legacy, Label: "home/ (the original's unified home)"}, name)
		case strings.HasPrefix(name, "chrome-profile"):
			add(Item{Category: Legacy, Label: name + " (a browser profile of the original)"}, name)
		case name == "git-allowed" || name == "git-keys" || strings.HasPrefix(name, ".migrated"):
			add(Item{Category: Legacy, Label: name + " (the original's)"}, name)
		case strings.HasSuffix(name, "-dbs"):
			// Another tool's databases (listed above when known).
		default:
			add(Item{Category: Generated, Label: name}, name)
		}
	}

	// The configuration: only ever removed when named.
	for _, name := range []string{"config.json", "env", "workspaces"} {
		if _, err := r.Lstat(name); err == nil {
			label := map[string]string{"config.json": "config.json (workspaces, git modes, networks, settings)",
				"env": "env (your API keys)", "workspaces": "workspaces (the legacy whitelist file)"}[name]
			add(Item{Category: Config, Label: label}, name)
		}
	}

	items = append(items, dockerItems(f)...)
	sort.SliceStable(items, func(i, j int) bool { return catIndex(items[i].Category) < catIndex(items[j].Category) })
	return items, nil
}

func dockerItems(f Facts) []Item {
	var items []Item
	for _, c := range f.Containers {
		it := Item{Category: Containers, ID: c.ID, Label: c.Name + " (" + c.State + ", " + orUnknown(c.Path) + ")", Project: c.Path}
		if c.State == "running" || c.State == "restarting" || c.State == "paused" {
			it.InUse = true
			it.Note = "running: 'ai-sandbox stop' it first"
		}
		items = append(items, it)
	}
	for _, im := range f.Images {
		name := strings.Join(im.Names, ", ")
		if name == "" {
			name = shortID(im.ID) + " (untagged)"
		}
		it := Item{Category: Images, ID: im.ID, Names: im.Names, Label: name, Bytes: im.Bytes}
		for _, c := range f.Containers {
			if c.Image != "" && (slices.Contains(im.Names, c.Image) || slices.Contains(im.Names, c.Image+":latest") ||
				strings.HasPrefix(strings.TrimPrefix(im.ID, "sha256:"), strings.TrimPrefix(c.Image, "sha256:"))) {
				it.InUse = true
				it.Note = "used by " + c.Name
			}
		}
		items = append(items, it)
	}
	return items
}

func catIndex(c Category) int {
	for i, info := range Categories() {
		if info.Category == c {
			return i
		}
	}
	return len(Categories())
}

// Select keeps the items of the categories given (cache types narrow
// Caches); in-use items stay listed.
func Select(items []Item, cats []Category, cacheTypes []string) []Item {
	var out []Item
	for _, it := range items {
		if !slices.Contains(cats, it.Category) {
			continue
		}
		if it.Category == Caches && len(cacheTypes) > 0 && !slices.Contains(cacheTypes, it.CacheType) {
			continue
		}
		out = append(out, it)
	}
	return out
}

// Removable drops the items in use.
func Removable(items []Item) (keep, inUse []Item) {
	for _, it := range items {
		if it.InUse {
			inUse = append(inUse, it)
		} else {
			keep = append(keep, it)
		}
	}
	return keep, inUse
}

// Total is the bytes of items.
func Total(items []Item) int64 {
	var n int64
	for _, it := range items {
		n += it.Bytes
	}
	return n
}

// RemovePaths removes an item's folders and files below the state folder,
// never following a link.
func RemovePaths(root string, it Item) error {
	r := hostfs.New(root)
	for _, rel := range it.Rels {
		if err := r.RemoveAll(rel); err != nil {
			return err
		}
	}
	return nil
}

// HasConfig reports whether items include config.json or the env file.
func HasConfig(items []Item) []string {
	var out []string
	for _, it := range items {
		if it.Category == Config {
			out = append(out, it.Rels...)
		}
	}
	return out
}

// Human formats a byte count: "0 B", "12 KiB", "3.4 MiB", "1.2 GiB".
func Human(b int64) string {
	const k = 1024
	switch {
	case b < k:
		return fmt.Sprintf("%d B", b)
	case b < k*k:
		return fmt.Sprintf("%d KiB", (b+k/2)/k)
	case b < k*k*k:
		return fmt.Sprintf("%.1f MiB", float64(b)/(k*k))
	default:
		return fmt.Sprintf("%.1f GiB", float64(b)/(k*k*k))
	}
}

func readDir(r hostfs.Root, rel string) ([]fs.DirEntry, error) {
	entries, err := r.ReadDir(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return entries, err
}

func isDir(r hostfs.Root, rel string) bool {
	fi, err := r.Lstat(rel)
	return err == nil && fi.IsDir()
}

// projectPath reads the folder a project's state belongs to
// (project.json's "path"), "" when unknown.
func projectPath(r hostfs.Root, rel string) string {
	data, err := r.ReadFile(filepath.Join(rel, "project.json"), 1<<16)
	if err != nil {
		return ""
	}
	var rec struct {
		Path string `json:"path"`
	}
	if json.Unmarshal(data, &rec) != nil {
		return ""
	}
	return rec.Path
}

func readLine(r hostfs.Root, rel string) string {
	data, err := r.ReadFile(rel, 1<<16)
	if err != nil {
		return ""
	}
	s, _, _ := strings.Cut(string(data), "\n")
	return strings.TrimSpace(s)
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown project"
	}
	return s
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
