package egress

import (
	"net/netip"
)

// Guard decides which resolved addresses a sandbox may never reach unless
// an explicit rule names the host: loopback, private (RFC 1918, RFC 6598
// shared space, IPv6 ULA), link-local (the cloud metadata service at
// 169.254.169.254 among them), unspecified, multicast and broadcast, the
// docker bridges and the host's own addresses.
type Guard struct {
	// Extra ranges refused as well: the engine's bridges (read from the
	// engine at start) and the host's own addresses, which may be public.
	Extra []netip.Prefix
}

var reserved = []struct {
	p      netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "a reserved address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a private address (shared address space)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "a reserved address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a reserved address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a reserved address"},
	{netip.MustParsePrefix("100::/64"), "a reserved address"},
}

// Refuses returns why the address is refused, or "" when it may be
// reached by an allowlisted name.
func (g Guard) Refuses(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return "an invalid address"
	case a.IsLoopback():
		return "a loopback address"
	case a.IsLinkLocalUnicast():
		return "a link-local address (the cloud metadata service lives there)"
	case a.IsPrivate():
		return "a private address"
	case a.IsUnspecified():
		return "an unspecified address"
	case a.IsMulticast() || a.IsInterfaceLocalMulticast() || a.IsLinkLocalMulticast():
		return "a multicast address"
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "the broadcast address"
	}
	if a.Is6() {
		// IPv4 inside IPv6 forms that some stacks route to the v4 address.
		if b := a.As16(); b[0] == 0x20 && b[1] == 0x02 { // 6to4: 2002:V4ADDR::/48
			if r := g.Refuses(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})); r != "" {
				return r + " (in a 6to4 address)"
			}
		}
		if pre := netip.MustParsePrefix("64:ff9b::/96"); pre.Contains(a) { // NAT64
			b := a.As16()
			if r := g.Refuses(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})); r != "" {
				return r + " (in a NAT64 address)"
			}
		}
	}
	for _, r := range reserved {
		if r.p.Contains(a) {
			return r.reason
		}
	}
	for _, p := range g.Extra {
		if p.Contains(a) {
			return "an address of this machine or of its docker networks"
		}
	}
	return ""
}
