package gitguard

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// gitlinkMode is the mode git records for a submodule.
const gitlinkMode = 0o160000

// Gitlinks lists the paths that a git index (.git/index, versions 2 to 4)
// records as submodules: the folders whose git dirs the user's git status
// of the project enters. hashLen is the object id length (20 for SHA-1,
// 32 for SHA-256).
func Gitlinks(index []byte, hashLen int) ([]string, error) {
	if len(index) < 12 || string(index[:4]) != "DIRC" {
		return nil, errors.New("not a git index")
	}
	version := binary.BigEndian.Uint32(index[4:8])
	if version < 2 || version > 4 {
		return nil, fmt.Errorf("git index version %d", version)
	}
	count := binary.BigEndian.Uint32(index[8:12])
	var out []string
	off := 12
	prev := []byte{}
	fixed := 40 + hashLen + 2 // stat fields, object id, flags
	for i := uint32(0); i < count; i++ {
		if off+fixed > len(index) {
			return out, errors.New("truncated git index")
		}
		e := index[off:]
		mode := binary.BigEndian.Uint32(e[24:28])
		flags := binary.BigEndian.Uint16(e[40+hashLen:])
		n := fixed
		if version >= 3 && flags&0x4000 != 0 {
			n += 2 // extended flags
		}
		var name []byte
		if version == 4 {
			strip, used := binary.Uvarint(e[n:])
			if used <= 0 || int(strip) > len(prev) {
				return out, errors.New("bad path compression in git index")
			}
			end := bytes.IndexByte(e[n+used:], 0)
			if end < 0 {
				return out, errors.New("truncated git index")
			}
			name = append(append([]byte{}, prev[:len(prev)-int(strip)]...), e[n+used:n+used+end]...)
			off += n + used + end + 1
		} else {
			end := bytes.IndexByte(e[n:], 0)
			if end < 0 {
				return out, errors.New("truncated git index")
			}
			name = e[n : n+end]
			off += (n + end + 8) &^ 7 // NUL-padded to a multiple of 8
		}
		prev = name
		if mode == gitlinkMode {
			out = append(out, string(name))
		}
	}
	return out, nil
}
