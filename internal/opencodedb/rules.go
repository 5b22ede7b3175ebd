package opencodedb

import (
	"fmt"
	"slices"
	"strings"
)

// How the rows of a table are assigned to project databases.
type ruleKind int

const (
	// ruleNone: not tied to a project (accounts, credentials): not copied.
	ruleNone ruleKind = iota
	// ruleSession: the session table, grouped by the planner.
	ruleSession
	// ruleProject: the project table: the projects of the sessions.
	ruleProject
	// ruleVia: rows whose Cols refer to a copied row of Parent.
	ruleVia
	// ruleWhole: the migration bookkeeping, copied whole into a new
	// database so that OpenCode does not run its migrations again.
	ruleWhole
)

type rule struct {
	kind   ruleKind
	cols   []string // ruleVia: the child's columns
	parent string   // ruleVia: the parent table
	pcols  []string // ruleVia: the parent's columns
}

// bookkeeping are the tables of OpenCode's migration runners: drizzle's
// (1.2 to 1.14, and left in place after), its own (1.18), and its code
// migrations (1.18).
var bookkeeping = []string{"__drizzle_migrations", "migration", "data_migration"}

// links are the references OpenCode keeps without a foreign key: a
// column name and the table and column it refers to.
var links = []struct{ table, col, parent, pcol string }{
	{"", "session_id", "session", "id"},
	{"event_sequence", "aggregate_id", "session", "id"},
	{"", "message_id", "message", "id"},
	{"", "project_id", "project", "id"},
}

// rules decides, from the source's own schema, how each table is
// assigned: the session table by folder, the project table by its
// sessions, every table tied to them by a foreign key (or by a known
// column) along with its parent rows, the bookkeeping whole, the rest not
// at all. So every OpenCode version's schema is handled, including
// tables this version does not know of.
func rules(s *schema) (map[string]rule, error) {
	sess := s.table("session")
	if sess == nil || sess.col("id") == nil || sess.col("directory") == nil {
		return nil, fmt.Errorf("not an OpenCode database: it has no session table with id and directory")
	}
	out := map[string]rule{"session": {kind: ruleSession}}
	if p := s.table("project"); p != nil && p.col("id") != nil {
		out["project"] = rule{kind: ruleProject}
	}
	for _, name := range bookkeeping {
		if s.table(name) != nil {
			out[name] = rule{kind: ruleWhole}
		}
	}
	tied := func(name string) bool {
		r, ok := out[name]
		return ok && (r.kind == ruleSession || r.kind == ruleProject || r.kind == ruleVia)
	}
	for changed := true; changed; {
		changed = false
		for _, t := range s.Tables {
			if _, ok := out[t.Name]; ok {
				continue
			}
			if r, ok := viaRule(s, t, out, tied); ok {
				out[t.Name] = r
				changed = true
			}
		}
	}
	for _, t := range s.Tables {
		if _, ok := out[t.Name]; !ok {
			out[t.Name] = rule{kind: ruleNone}
		}
	}
	return out, nil
}

// viaRule finds how t is tied to a table already assigned: a foreign key
// (to a table tied to sessions first), else a known column.
func viaRule(s *schema, t *table, out map[string]rule, tied func(string) bool) (rule, bool) {
	var best *fkey
	for i := range t.FKs {
		fk := &t.FKs[i]
		if fk.Parent == t.Name || !tied(fk.Parent) || len(fk.ParentCols) != len(fk.Cols) {
			continue
		}
		if best == nil || (root(out, best.Parent) != "session" && root(out, fk.Parent) == "session") {
			best = fk
		}
	}
	if best != nil {
		return rule{kind: ruleVia, cols: best.Cols, parent: best.Parent, pcols: best.ParentCols}, true
	}
	for _, l := range links {
		if (l.table != "" && l.table != t.Name) || t.col(l.col) == nil || l.parent == t.Name || !tied(l.parent) {
			continue
		}
		if p := s.table(l.parent); p == nil || p.col(l.pcol) == nil {
			continue
		}
		return rule{kind: ruleVia, cols: []string{l.col}, parent: l.parent, pcols: []string{l.pcol}}, true
	}
	return rule{}, false
}

// root is the anchor a tied table hangs from: "session" or "project".
func root(out map[string]rule, name string) string {
	for range 64 {
		r := out[name]
		switch r.kind {
		case ruleSession:
			return "session"
		case ruleProject:
			return "project"
		case ruleVia:
			name = r.parent
		default:
			return ""
		}
	}
	return ""
}

// copyOrder is the tables to copy, parents before children (by foreign
// keys and rules), otherwise in the schema's order.
func copyOrder(s *schema, rs map[string]rule) []string {
	var names []string
	for _, t := range s.Tables {
		if rs[t.Name].kind != ruleNone {
			names = append(names, t.Name)
		}
	}
	deps := map[string][]string{}
	for _, n := range names {
		t := s.table(n)
		for _, fk := range t.FKs {
			if fk.Parent != n && slices.Contains(names, fk.Parent) {
				deps[n] = append(deps[n], fk.Parent)
			}
		}
		if r := rs[n]; r.kind == ruleVia && r.parent != n {
			deps[n] = append(deps[n], r.parent)
		}
	}
	var order []string
	done := map[string]bool{}
	for len(order) < len(names) {
		progress := false
		for _, n := range names {
			if done[n] {
				continue
			}
			ready := true
			for _, d := range deps[n] {
				if !done[d] {
					ready = false
					break
				}
			}
			if ready {
				done[n] = true
				order = append(order, n)
				progress = true
			}
		}
		if !progress { // a cycle: the rest in schema order
			for _, n := range names {
				if !done[n] {
					done[n] = true
					order = append(order, n)
				}
			}
		}
	}
	return order
}

// member is the SQL condition that selects, from table name of the
// database attached as db, the rows that go to the project database whose
// sessions and projects are in temp.m_session and temp.m_project: the
// table's rule, and for each foreign key a parent row that goes too (a
// row whose parent is missing stays behind). Only identifiers from the
// schema appear in it, quoted; it takes no parameters.
func member(s *schema, rs map[string]rule, db, name string) string {
	return memberDepth(s, rs, db, name, 0)
}

func memberDepth(s *schema, rs map[string]rule, db, name string, depth int) string {
	if depth > 16 {
		return "0"
	}
	t := s.table(name)
	r := rs[name]
	var conds []string
	switch r.kind {
	case ruleSession:
		conds = append(conds, `"id" IN (SELECT id FROM temp.m_session)`)
	case ruleProject:
		conds = append(conds, `"id" IN (SELECT id FROM temp.m_project)`)
	case ruleVia:
		conds = append(conds, inParent(s, rs, db, r.cols, r.parent, r.pcols, depth))
	case ruleWhole:
		return "1"
	default:
		return "0"
	}
	for _, fk := range t.FKs {
		if fk.Parent == name || (r.kind == ruleVia && fk.Parent == r.parent && slices.Equal(fk.Cols, r.cols)) {
			continue
		}
		var nulls []string
		for _, c := range fk.Cols {
			nulls = append(nulls, quote(c)+" IS NULL")
		}
		cond := strings.Join(nulls, " OR ")
		switch pk := rs[fk.Parent].kind; {
		case s.table(fk.Parent) == nil || len(fk.ParentCols) != len(fk.Cols):
		case pk == ruleWhole:
			cond += " OR " + rowValue(fk.Cols) + " IN (SELECT " + cols(fk.ParentCols) + " FROM " + quote(db) + "." + quote(fk.Parent) + ")"
		case pk != ruleNone:
			cond += " OR " + inParent(s, rs, db, fk.Cols, fk.Parent, fk.ParentCols, depth)
		}
		conds = append(conds, "("+cond+")")
	}
	return strings.Join(conds, " AND ")
}

func inParent(s *schema, rs map[string]rule, db string, child []string, parent string, pcols []string, depth int) string {
	return rowValue(child) + " IN (SELECT " + cols(pcols) + " FROM " + quote(db) + "." + quote(parent) +
		" WHERE " + memberDepth(s, rs, db, parent, depth+1) + ")"
}

// cols is a quoted column list.
func cols(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	return strings.Join(q, ", ")
}

// rowValue is a column, or a row value of several.
func rowValue(names []string) string {
	if len(names) == 1 {
		return quote(names[0])
	}
	return "(" + cols(names) + ")"
}
