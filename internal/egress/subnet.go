package egress

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"hash/fnv"
	"io"
	"net/netip"
	"strings"
)

// SubnetPool is where the sandboxes' own networks take their subnets,
// SubnetBits long each. Docker's default pools hand every network a /16
// or a /20 and run out after about thirty networks; a sandbox network
// holds three members (the sandbox, the proxy, the port forwarder), so a
// /28 from a range docker's defaults leave alone serves 4096 sandboxes.
var SubnetPool = netip.MustParsePrefix("172.16.0.0/16")

// SubnetBits is the length of a sandbox network's subnet.
const SubnetBits = 28

// SubnetCandidates is the order in which a sandbox network tries the
// pool's subnets: from a place given by its name (so a sandbox usually
// gets the same one again), skipping those that overlap a route of the
// host (a LAN in the same range), at most n of them.
func SubnetCandidates(name string, avoid []netip.Prefix, n int) []netip.Prefix {
	size := 1 << (SubnetBits - SubnetPool.Bits())
	h := fnv.New32a()
	h.Write([]byte(name))
	start := int(h.Sum32() % uint32(size))
	base := binary.BigEndian.Uint32(SubnetPool.Addr().AsSlice())
	var out []netip.Prefix
	for i := 0; i < size && len(out) < n; i++ {
		idx := (start + i) % size
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], base+uint32(idx)<<(32-SubnetBits))
		p := netip.PrefixFrom(netip.AddrFrom4(b), SubnetBits)
		if !overlapsAny(p, avoid) {
			out = append(out, p)
		}
	}
	return out
}

func overlapsAny(p netip.Prefix, list []netip.Prefix) bool {
	for _, q := range list {
		if p.Overlaps(q) {
			return true
		}
	}
	return false
}

// HostRoutes reads the IPv4 routes of a Linux host (/proc/net/route),
// less the default route and the engine's own bridges (docker0, br-*),
// whose overlaps the engine finds itself.
func HostRoutes(r io.Reader) []netip.Prefix {
	var out []netip.Prefix
	sc := bufio.NewScanner(r)
	for first := true; sc.Scan(); first = false {
		f := strings.Fields(sc.Text())
		if first || len(f) < 8 {
			continue
		}
		if f[0] == "docker0" || strings.HasPrefix(f[0], "br-") {
			continue
		}
		dst, err1 := hex.DecodeString(f[1])
		mask, err2 := hex.DecodeString(f[7])
		if err1 != nil || err2 != nil || len(dst) != 4 || len(mask) != 4 {
			continue
		}
		// The kernel prints them in host (little-endian) order.
		d := [4]byte{dst[3], dst[2], dst[1], dst[0]}
		m := uint32(mask[3])<<24 | uint32(mask[2])<<16 | uint32(mask[1])<<8 | uint32(mask[0])
		bits := 0
		for ; bits < 32 && m&(1<<(31-bits)) != 0; bits++ {
		}
		if bits == 0 {
			continue
		}
		out = append(out, netip.PrefixFrom(netip.AddrFrom4(d), bits).Masked())
	}
	return out
}
