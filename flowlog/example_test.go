package flowlog_test

import (
	"net/netip"
	"os"
	"time"

	"github.com/sgsim/sgsim/flowlog"
)

// Records aggregate packets per interface, direction, action and window.
func ExampleAggregator() {
	agg := flowlog.NewAggregator(time.Minute)
	start := time.Unix(1418530010, 0)
	for k := 0; k < 3; k++ {
		agg.Add(flowlog.Packet{AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789",
			Src: netip.MustParseAddr("172.31.16.139"), Dst: netip.MustParseAddr("172.31.16.21"),
			SrcPort: 20641, DstPort: 22, Protocol: 6, Bytes: 1400, Time: start.Add(time.Duration(k) * 20 * time.Second), Accept: true})
	}
	agg.Write(os.Stdout)
	// Output:
	// version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
	// 2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 3 4200 1418530010 1418530050 ACCEPT OK
}

// A custom format, as create-flow-logs --log-format takes it: records
// carry the version of its newest field.
func ExampleParseFormat() {
	f, err := flowlog.ParseFormat("${version} ${vpc-id} ${interface-id} ${srcaddr} ${dstport} ${tcp-flags} ${flow-direction} ${action}")
	if err != nil {
		panic(err)
	}
	agg := flowlog.NewAggregator(time.Minute)
	agg.SetFormat(f)
	for k, flags := range []uint8{0x02, 0x10, 0x11} { // SYN, ACK, FIN-ACK
		agg.Add(flowlog.Packet{AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789", VpcID: "vpc-0abc",
			Src: netip.MustParseAddr("203.0.113.12"), Dst: netip.MustParseAddr("172.31.16.139"), SrcPort: 49152, DstPort: 22,
			Protocol: 6, TCPFlags: flags, Bytes: 60, Time: time.Unix(1418530010+int64(k), 0), Accept: true})
	}
	agg.Write(os.Stdout)
	// Output:
	// version vpc-id interface-id srcaddr dstport tcp-flags flow-direction action
	// 5 vpc-0abc eni-1235b8ca123456789 203.0.113.12 22 3 ingress ACCEPT
}

// An interface's aggregation window in which the log captured nothing is
// a NODATA record, written in its place among the others.
func ExampleAggregator_noData() {
	agg := flowlog.NewAggregator(time.Minute)
	start := time.Unix(1431280816, 0)
	for _, sec := range []int{0, 130} { // nothing from 60 s to 120 s
		agg.Add(flowlog.Packet{AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789",
			Src: netip.MustParseAddr("172.31.16.139"), Dst: netip.MustParseAddr("172.31.16.21"),
			SrcPort: 20641, DstPort: 22, Protocol: 6, Bytes: 60, Time: start.Add(time.Duration(sec) * time.Second), Accept: true})
	}
	agg.Write(os.Stdout)
	// Output:
	// version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
	// 2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 1 60 1431280816 1431280816 ACCEPT OK
	// 2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280935 - NODATA
	// 2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 1 60 1431280946 1431280946 ACCEPT OK
}

// With AWS's ip-ranges.json, records name the service of each packet
// address that falls in one of its ranges.
func ExampleAggregator_SetAWSRanges() {
	ranges, err := flowlog.ParseAWSRanges([]byte(`{"syncToken":"1700000000","createDate":"2026-11-30-12-00-00",
		"prefixes":[{"ip_prefix":"52.95.0.0/16","region":"us-east-1","service":"AMAZON"},
		 {"ip_prefix":"52.95.0.0/16","region":"us-east-1","service":"S3"}],"ipv6_prefixes":[]}`))
	if err != nil {
		panic(err)
	}
	f, err := flowlog.ParseFormat("${interface-id} ${pkt-dstaddr} ${pkt-dst-aws-service} ${action}")
	if err != nil {
		panic(err)
	}
	agg := flowlog.NewAggregator(time.Minute)
	agg.SetFormat(f)
	agg.SetAWSRanges(ranges)
	agg.Add(flowlog.Packet{InterfaceID: "eni-1235b8ca123456789", Src: netip.MustParseAddr("172.31.16.139"),
		Dst: netip.MustParseAddr("52.95.1.10"), SrcPort: 40000, DstPort: 443, Protocol: 6, Bytes: 60,
		Time: time.Unix(1418530010, 0), Accept: true, Egress: true})
	agg.Write(os.Stdout)
	// Output:
	// interface-id pkt-dstaddr pkt-dst-aws-service action
	// eni-1235b8ca123456789 52.95.1.10 S3 ACCEPT
}
