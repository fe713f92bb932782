package replay_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/sgsim/sgsim/capture"
	"github.com/sgsim/sgsim/ec2json"
	"github.com/sgsim/sgsim/internal/sample"
	"github.com/sgsim/sgsim/replay"
)

// Replay a capture through a VPC loaded from what aws ec2 describe-*
// printed, and list the frames refused. The sample's files stand in for
// yours: ec2json.Load takes each file's name and bytes, and
// capture.NewReader any io.Reader, such as an opened pcap or pcapng file.
func ExampleReplayer_Run() {
	res, err := ec2json.Load(sample.Configs()...)
	if err != nil {
		log.Fatal(err)
	}
	rd, err := capture.NewReader(bytes.NewReader(sample.Capture()))
	if err != nil {
		log.Fatal(err)
	}
	rp := replay.New(res.Network, replay.Options{})
	first := true
	err = rp.Run(rd, func(r *replay.Result) error {
		// r is reused: keep what you need of it, not r.
		if r.Verdict == replay.Reject && first {
			first = false
			fmt.Printf("frame %d: %s\n  %s\n", r.Frame.Number, r.Path.Packet, r.Path.Refusals()[0].Explain())
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	s := rp.Summary()
	fmt.Printf("%d frames: %d accepted, %d rejected, %d skipped\n", s.Frames, s.Accepted, s.Rejected, s.Skipped)
	for _, f := range s.RejectedFlows() {
		fmt.Printf("%d× %s\n", f.Frames, f.Stage.Explain())
	}
	// Output:
	// frame 110: tcp 10.20.3.10:5432 → 10.20.2.11:40100 [SYN,ACK]
	//   SUBNET_ACL_RESTRICTION: acl-0a1b2c3d4e5f60002 (subnet-0a1b2c3d4e5f60003) outbound: entry * deny all traffic to 0.0.0.0/0
	// 348 frames: 314 accepted, 34 rejected, 0 skipped
	// 6× eni-0a1b2c3d4e5f60001 inbound: ENI_SG_RULES_MISMATCH: no inbound rule of sg-0a1b2c3d4e5f60001 allows tcp port 22 from 192.0.2.66
	// 6× eni-0a1b2c3d4e5f60001 inbound: ENI_SG_RULES_MISMATCH: no inbound rule of sg-0a1b2c3d4e5f60001 allows tcp port 3306 from 192.0.2.66
	// 6× eni-0a1b2c3d4e5f60004 outbound: ENI_SG_RULES_MISMATCH: no outbound rule of sg-0a1b2c3d4e5f60003 allows tcp port 443 to 151.101.0.223
	// 6× SUBNET_ACL_RESTRICTION: acl-0a1b2c3d4e5f60002 (subnet-0a1b2c3d4e5f60003) inbound: entry 90 deny tcp 22 from 10.20.0.0/16
	// 4× eni-0a1b2c3d4e5f60001 inbound: ENI_SG_RULES_MISMATCH: no inbound rule of sg-0a1b2c3d4e5f60001 allows icmp type 8 code 0 from 192.0.2.66
	// 3× SUBNET_ACL_RESTRICTION: acl-0a1b2c3d4e5f60002 (subnet-0a1b2c3d4e5f60003) outbound: entry * deny all traffic to 0.0.0.0/0
	// 3× SUBNET_ACL_RESTRICTION: acl-0a1b2c3d4e5f60002 (subnet-0a1b2c3d4e5f60003) outbound: entry * deny all traffic to 0.0.0.0/0
}
