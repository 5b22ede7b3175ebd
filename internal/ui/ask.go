package ui

import (
	"errors"
	"os"
	"slices"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/terminal"
)

// Asker asks questions on a terminal. The real one asks them with survey;
// tests answer them from a script. An interrupt (Ctrl-C) is an error
// for which Interrupted is true.
type Asker interface {
	Select(msg string, options []string, def string, desc func(string, int) string) (string, error)
	MultiSelect(msg string, options []string, def []string, desc func(string, int) string) ([]string, error)
	Input(msg, def, help string) (string, error)
	Password(msg, help string) (string, error)
	Confirm(msg string, def bool) (bool, error)
}

// Interrupted reports whether err is a question interrupted with Ctrl-C.
func Interrupted(err error) bool { return errors.Is(err, terminal.InterruptErr) }

// NewAsker asks on the streams' files.
func (s Streams) NewAsker() Asker {
	return SurveyAsker{In: s.InFile, Out: s.OutFile, Err: s.ErrFile}
}

// SurveyAsker asks with survey on a terminal's files.
type SurveyAsker struct{ In, Out, Err *os.File }

func (a SurveyAsker) opts() []survey.AskOpt {
	return []survey.AskOpt{survey.WithStdio(a.In, a.Out, a.Err), survey.WithShowCursor(true)}
}

func (a SurveyAsker) Select(msg string, options []string, def string, desc func(string, int) string) (string, error) {
	q := &survey.Select{Message: msg, Options: options, Description: desc, PageSize: 20}
	if slices.Contains(options, def) {
		q.Default = def
	}
	var ans string
	err := survey.AskOne(q, &ans, a.opts()...)
	return ans, err
}

func (a SurveyAsker) MultiSelect(msg string, options []string, def []string, desc func(string, int) string) ([]string, error) {
	q := &survey.MultiSelect{Message: msg, Options: options, Description: desc, PageSize: 20}
	var d []string
	for _, v := range def {
		if slices.Contains(options, v) {
			d = append(d, v)
		}
	}
	if len(d) > 0 {
		q.Default = d
	}
	var ans []string
	err := survey.AskOne(q, &ans, a.opts()...)
	return ans, err
}

func (a SurveyAsker) Input(msg, def, help string) (string, error) {
	var ans string
	err := survey.AskOne(&survey.Input{Message: msg, Default: def, Help: help}, &ans, a.opts()...)
	return ans, err
}

func (a SurveyAsker) Password(msg, help string) (string, error) {
	var ans string
	err := survey.AskOne(&survey.Password{Message: msg, Help: help}, &ans, a.opts()...)
	return ans, err
}

func (a SurveyAsker) Confirm(msg string, def bool) (bool, error) {
	ans := def
	err := survey.AskOne(&survey.Confirm{Message: msg, Default: def}, &ans, a.opts()...)
	return ans, err
}
