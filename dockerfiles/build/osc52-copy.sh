#!/bin/sh
# osc52-copy: the image's pbcopy, xclip, xsel and wl-copy (links to this
# script). The sandbox has no X11 or Wayland display and no clipboard
# socket: a copy is sent to the terminal of the session as an OSC52
# escape sequence (ESC ] 52 ; c ; BASE64 BEL), which terminals that support
# it (iTerm2, kitty, WezTerm, Alacritty, Windows Terminal, Ghostty, Warp,
# tmux with set-clipboard on) put on the host's clipboard. It goes to
# /dev/tty when the session has a terminal, else to stderr. Reading the
# clipboard (pbpaste, xclip -o, xsel -o, wl-paste) is not possible.
name=${0##*/}
paste=0
text=
has_text=0
case "$name" in
xclip)
	for a in "$@"; do case "$a" in -o | -out) paste=1 ;; esac; done ;;
xsel)
	for a in "$@"; do case "$a" in -o | --output) paste=1 ;; esac; done ;;
wl-copy)
	# wl-copy TEXT copies its arguments; without any, stdin.
	for a in "$@"; do
		case "$a" in
		-*) ;;
		*) text="${text:+$text }$a"; has_text=1 ;;
		esac
	done ;;
pbpaste | wl-paste)
	paste=1 ;;
esac
if [ "$paste" = 1 ]; then
	echo "$name: reading the clipboard is not possible in the sandbox (OSC52 only copies)" >&2
	exit 1
fi
if [ "$has_text" = 1 ]; then
	data=$(printf '%s' "$text" | base64 | tr -d '\n')
else
	data=$(base64 | tr -d '\n')
fi
seq=$(printf '\033]52;c;%s\007' "$data")
if [ -n "$TMUX" ]; then
	# tmux passes the sequence on to the outer terminal.
	seq=$(printf '\033Ptmux;\033%s\033\\' "$seq")
fi
if ! { printf '%s' "$seq" >/dev/tty; } 2>/dev/null; then
	printf '%s' "$seq" >&2
fi
