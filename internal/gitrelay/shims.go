package gitrelay

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// The shims run in the sandbox. They are perl, which every Debian image
// has (perl-base is essential), and use only its core modules: they
// connect to the relay's socket, send git's request as one JSON line, and
// relay stdin, stdout, stderr and the exit code as frames.

// SSHShim is git's ssh in the sandbox (core.sshCommand).
const SSHShim = "ai-sandbox-git-ssh"

// HelperShim is git's remote helper for "ai-sandbox::URL" remotes.
const HelperShim = "git-remote-ai-sandbox"

// SocketEnv names the relay's socket in the sandbox.
const SocketEnv = "AI_SANDBOX_GIT_RELAY"

const shimCommon = `use strict; use warnings;
use IO::Socket::UNIX; use IO::Select; use Cwd ();
sub js { my $x = shift; $x = '' unless defined $x; $x =~ s/(["\\])/\\$1/g;
  $x =~ s/([\x00-\x1f])/sprintf("\\u%04x", ord($1))/ge; return "\"$x\""; }
sub put { my ($fh, $d) = @_; while (length $d) { my $w = syswrite($fh, $d);
  return 0 unless defined $w; $d = substr($d, $w); } return 1; }
sub relay {
  my ($req) = @_;
  my $path = $ENV{AI_SANDBOX_GIT_RELAY} || '/run/ai-sandbox-git/relay.sock';
  my $s = IO::Socket::UNIX->new(Peer => $path);
  if (!$s) { print STDERR "ai-sandbox: this sandbox has no git access to remotes ($path: $!); on the host: ai-sandbox git status\n"; exit 128; }
  binmode $_ for (\*STDIN, \*STDOUT, \*STDERR, $s);
  $SIG{PIPE} = 'IGNORE'; # a refusal closes the socket: read its answer
  put($s, $req . "\n");
  my $sel = IO::Select->new($s, \*STDIN); my $buf = '';
  while (1) {
    for my $fh ($sel->can_read) {
      if ($fh == $s) {
        my $n = sysread($s, $buf, 65536, length $buf);
        if (!$n) { print STDERR "ai-sandbox: the git relay went away\n"; exit 128; }
        while (length($buf) >= 5) {
          my ($t, $len) = unpack('a N', $buf);
          last if length($buf) < 5 + $len;
          my $data = substr($buf, 5, $len); $buf = substr($buf, 5 + $len);
          if ($t eq 'o') { put(\*STDOUT, $data) }
          elsif ($t eq 'e') { put(\*STDERR, $data) }
          elsif ($t eq 'x') { exit unpack('N', $data) }
        }
      } else {
        my $n = sysread(STDIN, my $in, 65536);
        my $ok = $n ? put($s, pack('a N', 'i', length $in) . $in) : put($s, pack('a N', 'c', 0));
        $sel->remove(\*STDIN) if !$n || !$ok;
      }
    }
  }
}
`

// sshShim hands git's ssh request to the relay.
const sshShim = `#!/usr/bin/perl
# ai-sandbox: git's ssh goes through the host's relay; no key is in here.
` + shimCommon + `relay('{"kind":"ssh","args":[' . join(',', map { js($_) } @ARGV) . '],"protocol":' . js($ENV{GIT_PROTOCOL}) . '}');
`

// helperShim hands git's remote-helper protocol to the host's helper.
const helperShim = `#!/usr/bin/perl
# ai-sandbox: https remotes go through the host's relay; no credential is in here.
` + shimCommon + `my $dir = $ENV{GIT_DIR} || '.git';
$dir = Cwd::getcwd() . '/' . $dir unless $dir =~ m{^/};
relay('{"kind":"helper","remote":' . js($ARGV[0]) . ',"url":' . js($ARGV[1]) . ',"gitdir":' . js($dir) . ',"protocol":' . js($ENV{GIT_PROTOCOL}) . '}');
`

// Shim is one shim file: its name and its content.
type Shim struct{ Name, Body string }

// Shims returns the shims in a fixed order (by name): they become mounts
// of the sandbox's spec, which must be the same at every launch, or a
// warm sandbox would be replaced for nothing.
func Shims() []Shim {
	return []Shim{{SSHShim, sshShim}, {HelperShim, helperShim}}
}

// ShimsHash fingerprints the shims (they are mounted from a folder named
// by it, so a new version never changes a running sandbox's files).
func ShimsHash() string {
	sum := sha256.Sum256([]byte(sshShim + "\x00" + helperShim))
	return hex.EncodeToString(sum[:])[:12]
}

// Gitconfig is the sandbox's system git config (read-only there): git's
// identity from the host, ssh through the SSH shim, and the project's
// http(s) remotes through the helper shim.
func Gitconfig(name, email string, httpBases []string, shimDir string) string {
	var b strings.Builder
	b.WriteString("# Written by ai-sandbox for this sandbox: git access through the host's relay.\n")
	if name != "" || email != "" {
		b.WriteString("[user]\n")
		if name != "" {
			b.WriteString("\tname = " + quote(name) + "\n")
		}
		if email != "" {
			b.WriteString("\temail = " + quote(email) + "\n")
		}
	}
	b.WriteString("[core]\n\tsshCommand = " + shimDir + "/" + SSHShim + "\n")
	b.WriteString("[ssh]\n\tvariant = ssh\n")
	for _, base := range httpBases {
		b.WriteString("[url " + quote("ai-sandbox::"+base) + "]\n\tinsteadOf = " + quote(base) + "\n")
	}
	return b.String()
}

// quote writes a git config value in double quotes.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}
