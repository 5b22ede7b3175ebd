//go:build linux || darwin

package ui

import (
	"golang.org/x/sys/unix"
)

// echoOff turns the terminal's echo off (keeping line editing and
// signals) and returns what puts it back. It is called before the prompt
// is printed, so that nothing typed or pasted right after the prompt
// appears, which term.ReadPassword cannot promise: it switches echo off
// only when it starts reading.
func echoOff(fd int) (restore func(), err error) {
	old, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return nil, err
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	quiet.Iflag |= unix.ICRNL
	if err := unix.IoctlSetTermios(fd, ioctlSetTermios, &quiet); err != nil {
		return nil, err
	}
	return func() { _ = unix.IoctlSetTermios(fd, ioctlSetTermios, old) }, nil
}
