package eni_test

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/conntrack"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/sg"
)

func TestInterfaceErrors(t *testing.T) {
	w := newWorld(t)
	var groups []string
	for k := 0; k < 7; k++ {
		groups = append(groups, w.group(fmt.Sprintf("g%d", k)))
	}
	w.iface("eni-1", "subnet-public", "10.0.1.10", groups[0])

	_, err := w.reg.CreateGroup(sg.GroupSpec{ID: "sg-elsewhere", Name: "elsewhere", VpcID: "vpc-2"})
	require.NoError(t, err)

	tests := []struct {
		name  string
		err   error
		code  *eni.Code
		parts []string
	}{
		{"edge 33: a sixth group", w.net.SetGroups("eni-1", groups[:6]...), eni.ErrTooManyGroups, []string{"eni-1", "Groups", "5"}},
		{"edge 34: no groups", w.net.SetGroups("eni-1"), eni.ErrNoGroups, []string{"eni-1"}},
		{"detach the last group", w.net.DetachGroup("eni-1", groups[0]), eni.ErrNoGroups, []string{"last group"}},
		{"detach a group not attached", w.net.DetachGroup("eni-1", groups[3]), eni.ErrNotAttached, []string{groups[3]}},
		{"unknown group", w.net.AttachGroup("eni-1", "sg-nope"), eni.ErrGroupNotFound, []string{"sg-nope", "Groups[1]"}},
		{"group of another VPC", w.net.AttachGroup("eni-1", "sg-elsewhere"), eni.ErrGroupVPC, []string{"vpc-2"}},
		{"unknown interface", w.net.AttachGroup("eni-nope", groups[1]), eni.ErrInterfaceNotFound, []string{"eni-nope"}},
		{"address outside the subnet", w.net.AssignAddresses("eni-1", mustAddr("10.0.2.5")), eni.ErrAddressRange, []string{"10.0.2.5", "subnet-public"}},
		{"reserved address", w.net.AssignAddresses("eni-1", mustAddr("10.0.1.3")), eni.ErrAddressRange, []string{"reserve"}},
		{"broadcast address", w.net.AssignAddresses("eni-1", mustAddr("10.0.1.255")), eni.ErrAddressRange, []string{"reserve"}},
		{"primary cannot go", w.net.UnassignAddresses("eni-1", mustAddr("10.0.1.10")), eni.ErrAddressRange, []string{"primary"}},
		{"bad subnet", func() error {
			_, err := w.net.AddInterface(eni.InterfaceSpec{ID: "eni-2", SubnetID: "subnet-x", Groups: groups[:1]})
			return err
		}(), eni.ErrSubnetNotFound, []string{"eni-2", "SubnetId", "subnet-x"}},
		{"subnet outside the VPC", func() error {
			_, err := w.net.AddSubnet(eni.SubnetSpec{ID: "subnet-bad", VpcID: "vpc-1", CIDR: netip.MustParsePrefix("192.168.0.0/24")})
			return err
		}(), eni.ErrSubnetRange, []string{"subnet-bad", "CidrBlock", "192.168.0.0/24"}},
		{"edge 37: TcpEstablishedTimeout 59", func() error {
			cfg, _ := conntrack.DefaultConfig().WithAWSTimeouts(59, 0, 0)
			return w.net.Interface("eni-1").SetConnTrackConfig(cfg)
		}(), eni.ErrConnTrack, []string{"TcpEstablishedTimeout", "59"}},
	}
	for _, tt := range tests {
		require.Error(t, tt.err, tt.name)
		assert.ErrorIs(t, tt.err, tt.code, tt.name)
		for _, p := range tt.parts {
			assert.Contains(t, tt.err.Error(), p, tt.name)
		}
	}

	require.NoError(t, w.net.SetGroups("eni-1", groups[1]), "edge 34: a one-group set replaces the old set")
	assert.Equal(t, []string{groups[1]}, w.net.Interface("eni-1").Groups())
	require.NoError(t, w.reg.SetQuotas(sg.Quotas{RulesPerGroup: 60, GroupsPerInterface: 16, GroupsPerRegion: 2500}))
	assert.NoError(t, w.net.SetGroups("eni-1", groups...), "quota raised to 16")

	err = w.reg.DeleteGroup(groups[1])
	assert.ErrorIs(t, err, sg.ErrDependencyViolation, "a group attached to an interface cannot be deleted")
	assert.Contains(t, err.Error(), "eni-1")
	assert.ErrorIs(t, w.reg.DeleteGroup(w.def), sg.ErrCannotDelete)
}

func TestRuleHitCounters(t *testing.T) {
	w := newWorld(t)
	id := w.group("web", tcpRule(443, "203.0.113.0/24"), tcpRule(22, "203.0.113.0/24"))
	w.iface("eni-1", "subnet-public", "10.0.1.10", id)
	i := w.net.Interface("eni-1")
	for k := 0; k < 3; k++ {
		src := fmt.Sprintf("203.0.113.1:%d", 5000+k)
		i.Evaluate(in, tcp(src, "10.0.1.10:443", eni.SYN), t0)
		i.Evaluate(out, tcp("10.0.1.10:443", src, eni.SYN|eni.ACK), t0)
	}
	g, _ := w.reg.Group(id)
	assert.Equal(t, uint64(3), g.Ingress[0].Packets, "443 rule")
	assert.Equal(t, uint64(3), g.Ingress[0].Connections)
	assert.Zero(t, g.Ingress[1].Packets, "22 rule never used")
	assert.Zero(t, g.Egress[0].Packets, "replies ride the tracked connections, not the egress rule")
	st := i.Stats()
	assert.Equal(t, uint64(3), st.Allowed[in])
	assert.Equal(t, uint64(3), st.Allowed[out])
	assert.Equal(t, uint64(3), st.ByReason[eni.ReasonTracked])
	assert.Equal(t, 3, st.Tracking.Entries)
}

func TestVerdictText(t *testing.T) {
	w := newWorld(t)
	id := w.group("web", sg.Rule{Protocol: sg.TCP, FromPort: 443, ToPort: 443, Peer: peer("203.0.113.0/24"), Description: "office"})
	w.iface("eni-1", "subnet-public", "10.0.1.10", id)
	i := w.net.Interface("eni-1")
	v := i.Evaluate(in, tcp("203.0.113.1:5000", "10.0.1.10:443", eni.SYN), t0)
	assert.Equal(t, "ALLOW inbound eni-1 tcp 203.0.113.1:5000 → 10.0.1.10:443 [SYN]: allowed by sg-web rule "+
		"sgr-00000000000000005 (tcp 443 from 203.0.113.0/24, office); new tracked connection", v.String())
	require.NoError(t, w.reg.RevokeIngress(id, tcpRule(443, "203.0.113.0/24")))
	v = i.Evaluate(out, tcp("10.0.1.10:443", "203.0.113.1:5000", eni.SYN|eni.ACK), at(1.5))
	assert.Equal(t, "ALLOW outbound eni-1 tcp 10.0.1.10:443 → 203.0.113.1:5000 [SYN,ACK]: tracked connection "+
		"(tcp-syn-received, opened inbound 1.5s ago by sg-web rule sgr-00000000000000005 (tcp 443 from 203.0.113.0/24, office) [since revoked])", v.String())
	v = i.Evaluate(in, tcp("198.51.100.1:5000", "10.0.1.10:8443", eni.SYN), t0)
	assert.Equal(t, "DENY inbound eni-1 tcp 198.51.100.1:5000 → 10.0.1.10:8443 [SYN]: ENI_SG_RULES_MISMATCH: "+
		"no inbound rule of sg-web allows tcp port 8443 from 198.51.100.1", v.String())
}

// TestConcurrentEvaluation evaluates from several goroutines while rules,
// attachments and addresses change; run with -race.
func TestConcurrentEvaluation(t *testing.T) {
	w := newWorld(t)
	app := w.group("app")
	db := w.group("db", tcpRule(5432, app))
	w.iface("eni-app", "subnet-app", "10.0.2.10", app)
	w.iface("eni-db", "subnet-data", "10.0.3.10", db)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			d := w.net.Interface("eni-db")
			a := w.net.Interface("eni-app")
			for k := 0; k < 500; k++ {
				src := fmt.Sprintf("10.0.2.10:%d", 10000+g*1000+k)
				d.Evaluate(in, tcp(src, "10.0.3.10:5432", eni.SYN), at(float64(k)))
				a.Evaluate(out, tcp(src, "10.0.3.10:5432", eni.SYN), at(float64(k)))
				_ = d.Stats()
			}
		}(g)
	}
	for k := 0; k < 100; k++ {
		_, _ = w.reg.AuthorizeIngress(db, tcpRule(int32(6000+k), app))
		require.NoError(t, w.net.AttachGroup("eni-app", w.def))
		require.NoError(t, w.net.AssignAddresses("eni-app", netip.AddrFrom4([4]byte{10, 0, 2, byte(20 + k)})))
		require.NoError(t, w.net.DetachGroup("eni-app", w.def))
		_ = w.reg.Rules()
	}
	wg.Wait()
	assert.NotZero(t, w.net.Interface("eni-db").Stats().Allowed[in])
}
