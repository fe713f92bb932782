package ec2json_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/sgsim/sgsim/ec2json"
	"github.com/sgsim/sgsim/eni"
)

// Load what aws ec2 describe-security-groups and describe-network-interfaces
// printed, and ask the network about a packet.
func ExampleLoad() {
	sgs := `{"SecurityGroups": [{"GroupId": "sg-0abc", "GroupName": "web", "VpcId": "vpc-1",
	  "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
	  "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}]}`
	enis := `{"NetworkInterfaces": [{"NetworkInterfaceId": "eni-0abc", "SubnetId": "subnet-1", "VpcId": "vpc-1",
	  "PrivateIpAddress": "10.0.1.10", "Groups": [{"GroupId": "sg-0abc"}]}]}`
	res, err := ec2json.Load(ec2json.Source{Name: "sgs.json", Data: []byte(sgs)}, ec2json.Source{Name: "enis.json", Data: []byte(enis)})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range res.Warnings {
		fmt.Println("warning:", w)
	}
	p := eni.TCP(netip.MustParseAddrPort("198.51.100.1:40000"), netip.MustParseAddrPort("10.0.1.10:22"), eni.SYN)
	path := res.Network.Judge(&p, time.Now())
	fmt.Println(path.Action, path.Refusals()[0].Verdict.Reason)
	// Output:
	// warning: no describe-subnets output: subnet-1 taken to be 10.0.1.0/24 (the block around its interfaces' addresses)
	// warning: no describe-vpcs output: vpc-1 taken to span 10.0.0.0/16
	// warning: no describe-network-acls output: every subnet is taken to use an allow-all default ACL
	// DENY ENI_SG_RULES_MISMATCH
}

// With describe-flow-logs among the files, each flow log comes resolved to
// the interfaces it logs, with its format, traffic type and interval.
func ExampleFlowLog() {
	enis := `{"NetworkInterfaces": [{"NetworkInterfaceId": "eni-0abc", "SubnetId": "subnet-1", "VpcId": "vpc-1",
	  "PrivateIpAddress": "10.0.1.10", "Groups": []}]}`
	logs := `{"FlowLogs": [{"FlowLogId": "fl-0abc", "ResourceId": "subnet-1", "TrafficType": "REJECT",
	  "LogFormat": "${version} ${interface-id} ${srcaddr} ${dstport} ${action}", "MaxAggregationInterval": 60}]}`
	res, err := ec2json.Load(ec2json.Source{Name: "enis.json", Data: []byte(enis)}, ec2json.Source{Name: "flow-logs.json", Data: []byte(logs)})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, fl := range res.FlowLogs {
		fmt.Println(fl.ID, fl.ResourceID, fl.Traffic, fl.Window, fl.Format)
		for _, i := range fl.Interfaces {
			fmt.Println(" ", i.ID())
		}
	}
	// Output:
	// fl-0abc subnet-1 REJECT 1m0s ${version} ${interface-id} ${srcaddr} ${dstport} ${action}
	//   eni-0abc
}
