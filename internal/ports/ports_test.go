package ports

import (
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	got, err := Parse("--expose", []string{"3000,4000", " 80 ", "3000"})
	if err != nil || !reflect.DeepEqual(got, []int{3000, 4000, 80, 3000}) {
		t.Fatalf("Parse = %v, %v", got, err)
	}
	for _, bad := range []string{"0", "65536", "abc", "3000-", "3000-3005", "-1", "+80", "1e3"} {
		_, err := Parse("PORT", []string{bad})
		if err == nil {
			t.Errorf("Parse(%q) gave no error", bad)
			continue
		}
		if want := `PORT "` + bad + `"`; !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q): %v, want it to name %s", bad, err, want)
		}
	}
	if got := Merge([]int{4096, 3000}, []int{3000, 80}); !reflect.DeepEqual(got, []int{80, 3000, 4096}) {
		t.Errorf("Merge = %v", got)
	}
}

func TestHostPorts(t *testing.T) {
	tests := map[string][]int{
		"":                         nil,
		"8080/tcp":                 nil,
		"127.0.0.1:4096->4096/tcp": {4096},
		"0.0.0.0:3000->3000/tcp, :::3000->3000/tcp, 127.0.0.1:5000-5002->5000-5002/tcp, 9000/tcp": {3000, 5000, 5001, 5002},
		"[::1]:8081->80/tcp": {8081},
	}
	for col, want := range tests {
		if got := HostPorts(col); !reflect.DeepEqual(got, want) {
			t.Errorf("HostPorts(%q) = %v, want %v", col, got, want)
		}
	}
}

const tcpTable = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0BB8 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 4343 1 0000000000000000 20 4 30 10 -1
   2: 00000000:1000 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999 1 0000000000000000 100 0 0 10 0
`

// Only listening sockets count: an established connection on the port
// (the original's lsof -i counted those) is no conflict.
func TestListeningInodes(t *testing.T) {
	if got := ListeningInodes([]byte(tcpTable), 3000); !reflect.DeepEqual(got, []string{"4242"}) {
		t.Errorf("port 3000: %v", got)
	}
	if got := ListeningInodes([]byte(tcpTable), 4096); !reflect.DeepEqual(got, []string{"999"}) {
		t.Errorf("port 4096: %v", got)
	}
	if Listening([]byte(tcpTable), 54321) {
		t.Errorf("port 54321 (an established peer port) counted as listening")
	}
}

func TestFromProc(t *testing.T) {
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "net"), 0o755))
	must(os.WriteFile(filepath.Join(root, "net", "tcp"), []byte(tcpTable), 0o644))
	for pid, sock := range map[string]string{"12345": "socket:[4242]", "77": "socket:[4343]"} {
		must(os.MkdirAll(filepath.Join(root, pid, "fd"), 0o755))
		must(os.Symlink("/dev/null", filepath.Join(root, pid, "fd", "0")))
		must(os.Symlink(sock, filepath.Join(root, pid, "fd", "3")))
		must(os.WriteFile(filepath.Join(root, pid, "comm"), []byte("node\n"), 0o644))
	}
	got, err := FromProc(root, 3000)
	if err != nil || !reflect.DeepEqual(got, []Listener{{PID: 12345, Command: "node"}}) {
		t.Fatalf("FromProc(3000) = %v, %v", got, err)
	}
	if got[0].String() != "node (PID 12345)" {
		t.Errorf("String() = %q", got[0])
	}
	// Listening, but by no process this user can read.
	got, err = FromProc(root, 4096)
	if err != nil || len(got) != 1 || got[0].PID != 0 || got[0].String() != "a process of another user" {
		t.Errorf("FromProc(4096) = %v, %v", got, err)
	}
	if got, err := FromProc(root, 9); err != nil || got != nil {
		t.Errorf("FromProc(9) = %v, %v", got, err)
	}
}

// A real listener on this machine is found with its PID.
func TestFromProcFindsThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/net/tcp"); err != nil {
		t.Skip("no procfs here (Linux only)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	got, err := FromProc("/proc", port)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].PID != os.Getpid() {
		t.Errorf("FromProc = %v, want this process (%d)", got, os.Getpid())
	}
	if Free("127.0.0.1", port) {
		t.Errorf("Free(%d) while this test listens on it", port)
	}
	l.Close()
	if !Free("127.0.0.1", port) {
		t.Errorf("Free(%d) is false once closed", port)
	}
}

func TestParseLsof(t *testing.T) {
	out := "p12345\ncnode\np678\ncpython3\n"
	want := []Listener{{12345, "node"}, {678, "python3"}}
	if got := ParseLsof([]byte(out)); !reflect.DeepEqual(got, want) {
		t.Errorf("ParseLsof = %v", got)
	}
	if got := LsofArgs(3000); strings.Join(got, " ") != "lsof -nP -iTCP:3000 -sTCP:LISTEN -Fpc" {
		t.Errorf("LsofArgs = %q", got)
	}
}
