package eni_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/eni"
)

func TestReply(t *testing.T) {
	for _, tt := range []struct {
		name     string
		req, rep *eni.Packet
	}{
		{"SYN", tcp("10.0.1.10:40000", "10.0.2.20:443", eni.SYN), tcp("10.0.2.20:443", "10.0.1.10:40000", eni.SYN|eni.ACK)},
		{"data", tcp("10.0.1.10:40000", "10.0.2.20:443", eni.ACK|eni.PSH), tcp("10.0.2.20:443", "10.0.1.10:40000", eni.ACK)},
		{"UDP", udp("10.0.1.10:40000", "10.0.2.20:53"), udp("10.0.2.20:53", "10.0.1.10:40000")},
		{"echo", icmp("10.0.1.10", "10.0.2.20", 8, 0, 7), icmp("10.0.2.20", "10.0.1.10", 0, 0, 7)},
		{"ICMPv6 echo", icmp("2001:db8::1", "2001:db8::2", 128, 0, 7), icmp("2001:db8::2", "2001:db8::1", 129, 0, 7)},
		{"no defined reply", icmp("10.0.1.10", "10.0.2.20", 13, 0, 7), icmp("10.0.2.20", "10.0.1.10", 13, 0, 7)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, *tt.rep, tt.req.Reply())
		})
	}
	gre := eni.IP(47, mustAddr("10.0.1.10"), mustAddr("10.0.2.20"))
	assert.Equal(t, eni.IP(47, mustAddr("10.0.2.20"), mustAddr("10.0.1.10")), gre.Reply())
}

// TestExchange: a connection works when its request and reply both get
// through; Err is nil for an allowed path and a RefusedError, explaining
// every stage, for a refused one.
func TestExchange(t *testing.T) {
	w := newWorld(t)
	db := w.group("db", tcpRule(5432, "10.0.2.0/24"))
	require.NoError(t, w.reg.RevokeEgress(db, allRule("0.0.0.0/0")))
	w.iface("eni-app", "subnet-app", "10.0.2.10", w.group("app"))
	w.iface("eni-db", "subnet-data", "10.0.3.10", db)

	req, rep := w.net.Exchange(tcp("10.0.2.10:40000", "10.0.3.10:5432", eni.SYN), at(0))
	require.NoError(t, req.Err())
	require.NoError(t, rep.Err(), "the reply rides the connection the request opened")
	assert.Equal(t, eni.ReasonTracked, rep.Stages()[0].Verdict.Reason)

	req, _ = w.net.Exchange(tcp("10.0.2.10:40001", "10.0.3.10:22", eni.SYN), at(1))
	err := req.Err()
	var refused *eni.RefusedError
	require.ErrorAs(t, err, &refused)
	assert.Contains(t, err.Error(), "no inbound rule of sg-db allows tcp port 22 from 10.0.2.10")
	assert.Len(t, refused.Path.Refusals(), 1)
}
