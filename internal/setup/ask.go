package setup

import (
	"os"
	"slices"

	"github.com/AlecAivazis/survey/v2"
)

// Asker asks the wizard's questions. The real one asks them on the
// terminal with survey; tests answer them from a script. An interrupt
// (Ctrl-C) is survey's terminal.InterruptErr: setup ends with exit 130.
type Asker interface {
	Select(msg string, options []string, def string, desc func(string, int) string) (string, error)
	MultiSelect(msg string, options []string, def []string, desc func(string, int) string) ([]string, error)
	Input(msg, def, help string) (string, error)
	Password(msg, help string) (string, error)
	Confirm(msg string, def bool) (bool, error)
}

type surveyAsker struct{ in, out, err *os.File }

func (a surveyAsker) opts() []survey.AskOpt {
	return []survey.AskOpt{survey.WithStdio(a.in, a.out, a.err), survey.WithShowCursor(true)}
}

func (a surveyAsker) Select(msg string, options []string, def string, desc func(string, int) string) (string, error) {
	q := &survey.Select{Message: msg, Options: options, Description: desc, PageSize: 20}
	if slices.Contains(options, def) {
		q.Default = def
	}
	var ans string
	err := survey.AskOne(q, &ans, a.opts()...)
	return ans, err
}

func (a surveyAsker) MultiSelect(msg string, options []string, def []string, desc func(string, int) string) ([]string, error) {
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

func (a surveyAsker) Input(msg, def, help string) (string, error) {
	var ans string
	err := survey.AskOne(&survey.Input{Message: msg, Default: def, Help: help}, &ans, a.opts()...)
	return ans, err
}

func (a surveyAsker) Password(msg, help string) (string, error) {
	var ans string
	err := survey.AskOne(&survey.Password{Message: msg, Help: help}, &ans, a.opts()...)
	return ans, err
}

func (a surveyAsker) Confirm(msg string, def bool) (bool, error) {
	ans := def
	err := survey.AskOne(&survey.Confirm{Message: msg, Default: def}, &ans, a.opts()...)
	return ans, err
}
