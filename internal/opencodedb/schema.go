package opencodedb

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// column is one column of a table, as PRAGMA table_info tells it.
type column struct {
	Name       string
	NotNull    bool
	HasDefault bool
	PK         int // position in the primary key, 0 = not in it
	Type       string
}

// fkey is a foreign key: Cols of the child refer to ParentCols of Parent
// (its primary key when the schema names none).
type fkey struct {
	Cols       []string
	Parent     string
	ParentCols []string
}

// table is a table of a database's own schema.
type table struct {
	Name string
	SQL  string // its CREATE TABLE statement, as SQLite keeps it
	Cols []column
	FKs  []fkey
}

func (t *table) col(name string) *column {
	for i := range t.Cols {
		if t.Cols[i].Name == name {
			return &t.Cols[i]
		}
	}
	return nil
}

// pk is the table's primary key columns, in order (none for a table
// without one).
func (t *table) pk() []string {
	var cols []column
	for _, c := range t.Cols {
		if c.PK > 0 {
			cols = append(cols, c)
		}
	}
	sort.Slice(cols, func(i, j int) bool { return cols[i].PK < cols[j].PK })
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

// rowidAlias reports whether col is the table's INTEGER PRIMARY KEY.
func (t *table) rowidAlias(col string) bool {
	pk := t.pk()
	c := t.col(col)
	return len(pk) == 1 && pk[0] == col && c != nil && strings.EqualFold(c.Type, "INTEGER")
}

// schema is what a database holds: its tables (in the order SQLite keeps
// them), the CREATE INDEX statements, and what is not copied (triggers,
// views).
type schema struct {
	Tables  []*table
	Indexes []string // CREATE INDEX statements of user tables
	Other   []string // "trigger NAME", "view NAME": not recreated
	byName  map[string]*table
}

func (s *schema) table(name string) *table { return s.byName[name] }

// readSchema reads the schema of the database attached as db ("main",
// "src").
func readSchema(ctx context.Context, c *sql.Conn, db string) (*schema, error) {
	s := &schema{byName: map[string]*table{}}
	rows, err := c.QueryContext(ctx, "SELECT type, name, tbl_name, coalesce(sql, '') FROM "+quote(db)+".sqlite_master ORDER BY rowid")
	if err != nil {
		return nil, fmt.Errorf("read the schema: %w", err)
	}
	type entry struct{ typ, name, tbl, sql string }
	var entries []entry
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.typ, &e.name, &e.tbl, &e.sql); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read the schema: %w", err)
		}
		entries = append(entries, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the schema: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.name, "sqlite_") || strings.HasPrefix(e.tbl, "sqlite_") {
			continue // SQLite's own (sqlite_sequence, sqlite_stat1, autoindexes)
		}
		switch e.typ {
		case "table":
			if !singleStatement(e.sql, "CREATE TABLE") {
				return nil, fmt.Errorf("read the schema: the statement of table %s is not a plain CREATE TABLE", e.name)
			}
			t := &table{Name: e.name, SQL: e.sql}
			if err := readTable(ctx, c, db, t); err != nil {
				return nil, err
			}
			s.Tables = append(s.Tables, t)
			s.byName[t.Name] = t
		case "index":
			if e.sql == "" {
				continue
			}
			if !singleStatement(e.sql, "CREATE INDEX") && !singleStatement(e.sql, "CREATE UNIQUE INDEX") {
				return nil, fmt.Errorf("read the schema: the statement of index %s is not a plain CREATE INDEX", e.name)
			}
			s.Indexes = append(s.Indexes, e.sql)
		default:
			s.Other = append(s.Other, e.typ+" "+e.name)
		}
	}
	// A foreign key that names no parent columns refers to the parent's
	// primary key.
	for _, t := range s.Tables {
		for i, fk := range t.FKs {
			if len(fk.ParentCols) == 0 {
				if p := s.table(fk.Parent); p != nil {
					t.FKs[i].ParentCols = p.pk()
				}
			}
		}
	}
	return s, nil
}

func readTable(ctx context.Context, c *sql.Conn, db string, t *table) error {
	rows, err := c.QueryContext(ctx, `SELECT name, type, "notnull", dflt_value IS NOT NULL, pk FROM pragma_table_info(?, ?) ORDER BY cid`, t.Name, db)
	if err != nil {
		return fmt.Errorf("read the columns of %s: %w", t.Name, err)
	}
	for rows.Next() {
		var col column
		if err := rows.Scan(&col.Name, &col.Type, &col.NotNull, &col.HasDefault, &col.PK); err != nil {
			rows.Close()
			return fmt.Errorf("read the columns of %s: %w", t.Name, err)
		}
		t.Cols = append(t.Cols, col)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the columns of %s: %w", t.Name, err)
	}
	rows, err = c.QueryContext(ctx, `SELECT id, "table", "from", coalesce("to", '') FROM pragma_foreign_key_list(?, ?) ORDER BY id, seq`, t.Name, db)
	if err != nil {
		return fmt.Errorf("read the foreign keys of %s: %w", t.Name, err)
	}
	defer rows.Close()
	last := -1
	for rows.Next() {
		var id int
		var parent, from, to string
		if err := rows.Scan(&id, &parent, &from, &to); err != nil {
			return fmt.Errorf("read the foreign keys of %s: %w", t.Name, err)
		}
		if id != last {
			t.FKs = append(t.FKs, fkey{Parent: parent})
			last = id
		}
		fk := &t.FKs[len(t.FKs)-1]
		fk.Cols = append(fk.Cols, from)
		if to != "" {
			fk.ParentCols = append(fk.ParentCols, to)
		}
	}
	return rows.Err()
}

// singleStatement reports whether text is one statement starting with
// prefix (case and spacing aside): no ';' outside quotes and comments
// except trailing blanks. Schema text is executed only when it passes.
func singleStatement(text, prefix string) bool {
	if !strings.EqualFold(strings.Join(strings.Fields(firstWords(text, len(strings.Fields(prefix)))), " "), prefix) {
		return false
	}
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '\'', '"', '`':
			j := i + 1
			for ; j < len(text); j++ {
				if text[j] == c {
					if j+1 < len(text) && text[j+1] == c {
						j++
						continue
					}
					break
				}
			}
			if j >= len(text) {
				return false
			}
			i = j
		case '[':
			j := strings.IndexByte(text[i:], ']')
			if j < 0 {
				return false
			}
			i += j
		case '-':
			if i+1 < len(text) && text[i+1] == '-' {
				j := strings.IndexByte(text[i:], '\n')
				if j < 0 {
					return true
				}
				i += j
			}
		case '/':
			if i+1 < len(text) && text[i+1] == '*' {
				j := strings.Index(text[i+2:], "*/")
				if j < 0 {
					return false
				}
				i += j + 3
			}
		case ';':
			return strings.TrimSpace(text[i+1:]) == ""
		}
	}
	return true
}

// firstWords is the first n blank-separated words of s.
func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) > n {
		f = f[:n]
	}
	return strings.Join(f, " ")
}
