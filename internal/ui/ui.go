// Package ui owns the terminal side of the program: the standard streams,
// whether they are terminals, colour, and the wording of messages
// (DESIGN.md §7: "ai-sandbox: error: …" on stderr, lower case, no period).
package ui

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/fatih/color"
	"github.com/mattn/go-isatty"
)

// Streams are the three standard streams and what is known about them.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer

	// InFile and OutFile are the real files behind In and Out, when there
	// are any; docker needs them to own the terminal.
	InFile  *os.File
	OutFile *os.File
	ErrFile *os.File

	InTTY  bool
	OutTTY bool
	ErrTTY bool
	// Color is true when messages may use colour (stderr is a terminal
	// and NO_COLOR is unset).
	Color bool
}

// StdStreams describes the process's own stdio.
func StdStreams(getenv func(string) string) Streams {
	s := Streams{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		InFile: os.Stdin, OutFile: os.Stdout, ErrFile: os.Stderr,
		InTTY:  isTerminal(os.Stdin),
		OutTTY: isTerminal(os.Stdout),
		ErrTTY: isTerminal(os.Stderr),
	}
	s.Color = s.ErrTTY && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
	return s
}

func isTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	fd := f.Fd()
	return isatty.IsTerminal(fd) || isatty.IsCygwinTerminal(fd)
}

// Interactive reports whether a question may be asked: both stdin and
// stdout must be terminals.
func (s Streams) Interactive() bool { return s.InTTY && s.OutTTY }

func (s Streams) label(kind string, attr color.Attribute) string {
	if !s.Color {
		return kind
	}
	c := color.New(attr, color.Bold)
	c.EnableColor()
	return c.Sprint(kind)
}

// Errorf prints "ai-sandbox: error: …".
func (s Streams) Errorf(format string, a ...any) {
	fmt.Fprintf(s.Err, "ai-sandbox: %s: %s\n", s.label("error", color.FgRed), fmt.Sprintf(format, a...))
}

// Warnf prints "ai-sandbox: warning: …".
func (s Streams) Warnf(format string, a ...any) {
	fmt.Fprintf(s.Err, "ai-sandbox: %s: %s\n", s.label("warning", color.FgYellow), fmt.Sprintf(format, a...))
}

// Hintf prints "ai-sandbox: hint: …".
func (s Streams) Hintf(format string, a ...any) {
	fmt.Fprintf(s.Err, "ai-sandbox: %s: %s\n", s.label("hint", color.FgCyan), fmt.Sprintf(format, a...))
}

// Infof prints "ai-sandbox: …" on stderr: progress and notes, not data.
func (s Streams) Infof(format string, a ...any) {
	fmt.Fprintf(s.Err, "ai-sandbox: %s\n", fmt.Sprintf(format, a...))
}

// Choose asks a question with numbered answers on the terminal and reads
// a number; an empty answer is def (1-based). It returns the answer's
// index (0-based).
func (s Streams) Choose(question string, answers []string, def int) (int, error) {
	fmt.Fprintln(s.Err, question)
	for i, a := range answers {
		fmt.Fprintf(s.Err, "  %d) %s\n", i+1, a)
	}
	for {
		fmt.Fprintf(s.Err, "Choose 1-%d [%d]: ", len(answers), def)
		line, err := s.readLine()
		if err != nil && line == "" {
			return 0, err
		}
		line = strings.TrimSpace(line)
		if line == "" {
			return def - 1, nil
		}
		var n int
		if _, err := fmt.Sscan(line, &n); err == nil && n >= 1 && n <= len(answers) {
			return n - 1, nil
		}
		fmt.Fprintf(s.Err, "%q is not one of the answers\n", line)
	}
}

// readLine reads one line from the terminal, byte by byte (so nothing
// after it is consumed).
func (s Streams) readLine() (string, error) {
	var line []byte
	buf := make([]byte, 1)
	for {
		n, err := s.In.Read(buf)
		if n == 1 {
			if buf[0] == '\n' || buf[0] == '\r' {
				return string(line), nil
			}
			line = append(line, buf[0])
			continue
		}
		if err != nil {
			return string(line), err
		}
	}
}

// Confirm asks a yes/no question on the terminal, "QUESTION [y/N] ", and
// reads one line: only y or yes (any case) is a yes.
func (s Streams) Confirm(question string) (bool, error) {
	fmt.Fprintf(s.Err, "%s [y/N] ", question)
	line, err := s.readLine()
	if err != nil && line == "" {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// ReadSecret asks for a secret on the terminal without echoing it (when
// stdin is a terminal) and reads one line.
// Echo goes off before the prompt is printed, so that a password typed
// or pasted at once is never shown.
func (s Streams) ReadSecret(prompt string) (string, error) {
	if s.InTTY && s.InFile != nil {
		restore, err := echoOff(int(s.InFile.Fd()))
		if err != nil {
			return "", fmt.Errorf("terminal: %w", err)
		}
		fmt.Fprint(s.Err, prompt)
		line, err := s.readLine()
		restore()
		fmt.Fprintln(s.Err)
		if err != nil && line == "" {
			return "", err
		}
		return line, nil
	}
	fmt.Fprint(s.Err, prompt)
	line, err := s.readLine()
	if err != nil && line == "" {
		return "", err
	}
	return line, nil
}

// Ask prints a prompt on the terminal and reads one line.
func (s Streams) Ask(prompt string) (string, error) {
	fmt.Fprint(s.Err, prompt)
	line, err := s.readLine()
	if err != nil && line == "" {
		return "", err
	}
	return strings.TrimSpace(line), nil
}
