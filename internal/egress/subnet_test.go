package egress

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestSubnetCandidates(t *testing.T) {
	a := SubnetCandidates("ai-shell-p-1234", nil, 3)
	if len(a) != 3 {
		t.Fatalf("got %v", a)
	}
	for _, p := range a {
		if p.Bits() != SubnetBits || !SubnetPool.Contains(p.Addr()) || p.Masked() != p {
			t.Errorf("%v is not a /%d of %v", p, SubnetBits, SubnetPool)
		}
	}
	if b := SubnetCandidates("ai-shell-p-1234", nil, 3); !slices.Equal(a, b) {
		t.Errorf("not stable: %v then %v", a, b)
	}
	if b := SubnetCandidates("ai-shell-q-5678", nil, 1); b[0] == a[0] {
		t.Errorf("two names start at the same subnet %v", b[0])
	}
	// A route of the host over the first candidate makes it skipped.
	avoid := []netip.Prefix{netip.PrefixFrom(a[0].Addr(), 24).Masked()}
	c := SubnetCandidates("ai-shell-p-1234", avoid, 2)
	for _, p := range c {
		if p.Overlaps(avoid[0]) {
			t.Errorf("%v overlaps the host's route %v", p, avoid[0])
		}
	}
	// A LAN over the whole pool leaves none.
	if got := SubnetCandidates("x", []netip.Prefix{netip.MustParsePrefix("172.16.0.0/12")}, 5); len(got) != 0 {
		t.Errorf("got %v inside a host route", got)
	}
}

func TestHostRoutes(t *testing.T) {
	table := `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	0101A8C0	0003	0	0	0	00000000	0	0	0
eth0	0001A8C0	00000000	0001	0	0	0	00FFFFFF	0	0	0
docker0	000011AC	00000000	0001	0	0	0	0000FFFF	0	0	0
br-0123abcd	000012AC	00000000	0001	0	0	0	0000FFFF	0	0	0
wg0	000010AC	00000000	0001	0	0	0	0000FFFF	0	0	0
`
	got := HostRoutes(strings.NewReader(table))
	want := []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24"), netip.MustParsePrefix("172.16.0.0/16")}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
