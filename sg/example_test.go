package sg_test

import (
	"fmt"
	"net/netip"

	"github.com/sgsim/sgsim/sg"
)

// A database group admits PostgreSQL from members of the app group only.
func ExampleRegistry_Compile() {
	reg := sg.NewRegistry()
	app, _ := reg.CreateGroup(sg.GroupSpec{ID: "sg-app", Name: "app", VpcID: "vpc-1"})
	db, _ := reg.CreateGroup(sg.GroupSpec{ID: "sg-db", Name: "db", VpcID: "vpc-1"})
	_, err := reg.AuthorizeIngress(db, sg.Rule{Protocol: sg.TCP, FromPort: 5432, ToPort: 5432, Peer: sg.GroupPeer(app)})
	if err != nil {
		panic(err)
	}

	// Group references resolve to the addresses (and delegated prefixes)
	// of the interfaces that carry the group; the caller says who they are.
	members := func(group string) []netip.Prefix {
		if group == app {
			return []netip.Prefix{sg.HostPrefix(netip.MustParseAddr("10.0.2.10"))}
		}
		return nil
	}
	rs := reg.Compile([]string{db}, members)
	for _, src := range []string{"10.0.2.10", "10.0.1.10"} {
		m := rs.Lookup(sg.Ingress, 6, sg.Key(6, 5432, 0, 0), netip.MustParseAddr(src))
		if ri, ok := reg.Rule(rs.Ref(m)); ok {
			fmt.Println(src, "allowed by", ri)
		} else {
			fmt.Println(src, "refused")
		}
	}
	// Output:
	// 10.0.2.10 allowed by sg-db sgr-00000000000000003 ingress tcp 5432 from sg-app
	// 10.0.1.10 refused
}

// Errors carry AWS's error codes and name the group and the value.
func ExampleError() {
	reg := sg.NewRegistry()
	web, _ := reg.CreateGroup(sg.GroupSpec{ID: "sg-web", Name: "web", VpcID: "vpc-1"})
	_, err := reg.AuthorizeIngress(web, sg.Rule{Protocol: sg.TCP, FromPort: 443, ToPort: 80, Peer: sg.MustParsePeer("0.0.0.0/0")})
	fmt.Println(err)
	// Output:
	// InvalidParameterValue: sg-web: "443-80": tcp rules need 0 <= FromPort <= ToPort <= 65535
}
