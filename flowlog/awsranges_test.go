package flowlog_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/flowlog"
)

// ipRanges is ip-ranges.json in AWS's shape: 52.95.0.0/16 is AMAZON's,
// and S3's too, within which 52.95.128.0/21 is EC2's as well; the IPv6
// range is CLOUDFRONT's.
const ipRanges = `{"syncToken":"1700000000","createDate":"2026-11-30-12-00-00",
 "prefixes":[
  {"ip_prefix":"52.95.0.0/16","region":"us-east-1","service":"AMAZON","network_border_group":"us-east-1"},
  {"ip_prefix":"52.95.0.0/16","region":"us-east-1","service":"S3","network_border_group":"us-east-1"},
  {"ip_prefix":"52.95.128.0/21","region":"us-east-1","service":"EC2","network_border_group":"us-east-1"},
  {"ip_prefix":"52.95.128.0/21","region":"us-east-1","service":"AMAZON","network_border_group":"us-east-1"}],
 "ipv6_prefixes":[{"ipv6_prefix":"2600:9000::/28","region":"GLOBAL","service":"CLOUDFRONT","network_border_group":"GLOBAL"}]}`

func TestParseAWSRanges(t *testing.T) {
	r, err := flowlog.ParseAWSRanges([]byte(ipRanges))
	require.NoError(t, err)
	assert.Equal(t, 3, r.Len())
	for addr, want := range map[string]string{
		"52.95.1.1":        "S3",  // not AMAZON, the superset
		"52.95.130.9":      "EC2", // the narrower range
		"2600:9000::1":     "CLOUDFRONT",
		"198.51.100.7":     "",
		"::ffff:52.95.1.1": "S3",
	} {
		assert.Equal(t, want, r.Service(netip.MustParseAddr(addr)), addr)
	}
	var none *flowlog.AWSRanges
	assert.Empty(t, none.Service(netip.MustParseAddr("52.95.1.1")))

	for _, bad := range []struct{ data, want string }{
		{`{"syncToken":"1","prefixes":[{"ip_prefix":"52.95.0.0/33","service":"S3"}]}`, `prefixes[0]: "52.95.0.0/33" is not a CIDR block`},
		{`{"syncToken":"1","prefixes":[{"ip_prefix":"52.95.0.0/16"}]}`, "prefixes[0].service: is missing"},
		{`{"syncToken":"1","ipv6_prefixes":[{"ipv6_prefix":"x","service":"S3"}]}`, `ipv6_prefixes[0]: "x" is not a CIDR block`},
		{`{"syncToken":1,"prefixes":{}}`, "not ip-ranges.json"},
	} {
		_, err := flowlog.ParseAWSRanges([]byte(bad.data))
		require.Error(t, err, bad.data)
		assert.True(t, strings.HasPrefix(err.Error(), bad.want), err.Error())
	}
}

// TestRecordAWSService: with the ranges, a record names the service of
// each end's packet address; without, "-".
func TestRecordAWSService(t *testing.T) {
	r, err := flowlog.ParseAWSRanges([]byte(ipRanges))
	require.NoError(t, err)
	f, err := flowlog.ParseFormat("${pkt-srcaddr} ${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service}")
	require.NoError(t, err)
	for _, tt := range []struct {
		ranges *flowlog.AWSRanges
		want   string
	}{{r, "10.0.1.10 52.95.1.1 - S3\n"}, {nil, "10.0.1.10 52.95.1.1 - -\n"}} {
		agg := flowlog.NewAggregator(time.Minute)
		agg.SetFormat(f)
		agg.SetAWSRanges(tt.ranges)
		agg.Add(flowlog.Packet{InterfaceID: "eni-1", Src: netip.MustParseAddr("10.0.1.10"), Dst: netip.MustParseAddr("52.95.1.1"),
			SrcPort: 40000, DstPort: 443, Protocol: 6, Bytes: 60, Time: time.Unix(1700000000, 0), Accept: true, Egress: true})
		var b strings.Builder
		require.NoError(t, agg.Write(&b))
		lines := strings.SplitAfter(b.String(), "\n")
		require.Len(t, lines, 3, b.String()) // header, record, ""
		assert.Equal(t, tt.want, lines[1])
	}
}
