package flowlog

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Field is a flow log record field, named as a custom format names it
// (${vpc-id}).
type Field uint8

// The fields of flow log versions 2 to 10, in AWS's order.
const (
	FieldVersion Field = iota
	FieldAccountID
	FieldInterfaceID
	FieldSrcAddr
	FieldDstAddr
	FieldSrcPort
	FieldDstPort
	FieldProtocol
	FieldPackets
	FieldBytes
	FieldStart
	FieldEnd
	FieldAction
	FieldLogStatus
	FieldVpcID // version 3
	FieldSubnetID
	FieldInstanceID
	FieldTCPFlags
	FieldType
	FieldPktSrcAddr
	FieldPktDstAddr
	FieldRegion // version 4
	FieldAZID
	FieldSublocationType
	FieldSublocationID
	FieldPktSrcAWSService // version 5
	FieldPktDstAWSService
	FieldFlowDirection
	FieldTrafficPath
	FieldECSClusterARN // version 7
	FieldECSClusterName
	FieldECSContainerInstanceARN
	FieldECSContainerInstanceID
	FieldECSContainerID
	FieldECSSecondContainerID
	FieldECSServiceName
	FieldECSTaskDefinitionARN
	FieldECSTaskARN
	FieldECSTaskID
	FieldRejectReason     // version 8
	FieldResourceID       // version 9
	FieldEncryptionStatus // version 10
	numFields
)

var fieldInfo = [numFields]struct {
	name    string
	version int
}{
	{"version", 2}, {"account-id", 2}, {"interface-id", 2}, {"srcaddr", 2}, {"dstaddr", 2}, {"srcport", 2},
	{"dstport", 2}, {"protocol", 2}, {"packets", 2}, {"bytes", 2}, {"start", 2}, {"end", 2}, {"action", 2},
	{"log-status", 2},
	{"vpc-id", 3}, {"subnet-id", 3}, {"instance-id", 3}, {"tcp-flags", 3}, {"type", 3}, {"pkt-srcaddr", 3},
	{"pkt-dstaddr", 3},
	{"region", 4}, {"az-id", 4}, {"sublocation-type", 4}, {"sublocation-id", 4},
	{"pkt-src-aws-service", 5}, {"pkt-dst-aws-service", 5}, {"flow-direction", 5}, {"traffic-path", 5},
	{"ecs-cluster-arn", 7}, {"ecs-cluster-name", 7}, {"ecs-container-instance-arn", 7},
	{"ecs-container-instance-id", 7}, {"ecs-container-id", 7}, {"ecs-second-container-id", 7},
	{"ecs-service-name", 7}, {"ecs-task-definition-arn", 7}, {"ecs-task-arn", 7}, {"ecs-task-id", 7},
	{"reject-reason", 8}, {"resource-id", 9}, {"encryption-status", 10},
}

func (f Field) String() string {
	if f < numFields {
		return fieldInfo[f].name
	}
	return "invalid"
}

// Version is the flow log version that introduced the field.
func (f Field) Version() int {
	if f < numFields {
		return fieldInfo[f].version
	}
	return 0
}

// Format is the fields a flow log writes, in order.
type Format []Field

// DefaultFormat is AWS's default format, version 2.
var DefaultFormat = Format{FieldVersion, FieldAccountID, FieldInterfaceID, FieldSrcAddr, FieldDstAddr, FieldSrcPort,
	FieldDstPort, FieldProtocol, FieldPackets, FieldBytes, FieldStart, FieldEnd, FieldAction, FieldLogStatus}

// ParseFormat reads a custom format as create-flow-logs --log-format
// takes it: fields as ${name}, separated by spaces.
func ParseFormat(s string) (Format, error) {
	tokens := strings.Fields(s)
	if len(tokens) == 0 {
		return nil, fmt.Errorf("no fields: give them as ${name}, separated by spaces, e.g. %q", "${version} ${vpc-id} ${srcaddr}")
	}
	out := make(Format, 0, len(tokens))
	for _, tok := range tokens {
		name, ok := strings.CutPrefix(tok, "${")
		if name, ok = strings.CutSuffix(name, "}"); !ok || name == "" {
			return nil, fmt.Errorf("%q is not a field: give each as ${name}, separated by spaces", tok)
		}
		f, ok := fieldNamed(name)
		if !ok {
			return nil, fmt.Errorf("%q: no flow log field is called %q (fields: %s)", tok, name, allFieldNames())
		}
		out = append(out, f)
	}
	return out, nil
}

func fieldNamed(name string) (Field, bool) {
	for f := range numFields {
		if fieldInfo[f].name == name {
			return f, true
		}
	}
	return 0, false
}

func allFieldNames() string {
	names := make([]string, numFields)
	for f := range numFields {
		names[f] = fieldInfo[f].name
	}
	return strings.Join(names, ", ")
}

// Version is the format's version, which records carry: that of its
// newest field, as AWS numbers custom formats.
func (f Format) Version() int {
	v := 2
	for _, x := range f {
		v = max(v, x.Version())
	}
	return v
}

// Header is the field-name line AWS writes first to S3.
func (f Format) Header() string {
	names := make([]string, len(f))
	for k, x := range f {
		names[k] = x.String()
	}
	return strings.Join(names, " ")
}

// String is the format as ParseFormat reads it.
func (f Format) String() string {
	var b strings.Builder
	for k, x := range f {
		if k > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("${" + x.String() + "}")
	}
	return b.String()
}

// AppendFormat appends the record in format f, without a newline.
func (r *Record) AppendFormat(b []byte, f Format) []byte {
	version := f.Version()
	for k, x := range f {
		if k > 0 {
			b = append(b, ' ')
		}
		b = r.appendField(b, x, version)
	}
	return b
}

// appendField appends one field's value; "-" is AWS's "not applicable or
// not computed", which sgsim writes for what it does not model (AWS
// service address ranges without ip-ranges.json, routing past the VPC,
// Local Zones and Outposts, ECS, Block Public Access, encryption).
func (r *Record) appendField(b []byte, f Field, version int) []byte {
	dash := func(s string) []byte {
		if s == "" {
			return append(b, '-')
		}
		return append(b, s...)
	}
	if r.NoData {
		// A window with nothing captured has the interface's fields and
		// its times, and "-" for every field of traffic.
		switch f {
		case FieldVersion, FieldAccountID, FieldInterfaceID, FieldStart, FieldEnd, FieldVpcID, FieldSubnetID,
			FieldInstanceID, FieldRegion, FieldAZID:
		case FieldLogStatus:
			return append(b, "NODATA"...)
		default:
			return append(b, '-')
		}
	}
	switch f {
	case FieldVersion:
		return strconv.AppendInt(b, int64(version), 10)
	case FieldAccountID:
		if r.AccountID == "" {
			return append(b, "unknown"...)
		}
		return append(b, r.AccountID...)
	case FieldInterfaceID:
		return dash(r.InterfaceID)
	case FieldSrcAddr:
		return r.Src.AppendTo(b)
	case FieldDstAddr:
		return r.Dst.AppendTo(b)
	case FieldSrcPort:
		return strconv.AppendUint(b, uint64(r.SrcPort), 10)
	case FieldDstPort:
		return strconv.AppendUint(b, uint64(r.DstPort), 10)
	case FieldProtocol:
		return strconv.AppendUint(b, uint64(r.Protocol), 10)
	case FieldPackets:
		return strconv.AppendUint(b, r.Packets, 10)
	case FieldBytes:
		return strconv.AppendUint(b, r.Bytes, 10)
	case FieldStart:
		return strconv.AppendInt(b, r.Start, 10)
	case FieldEnd:
		return strconv.AppendInt(b, r.End, 10)
	case FieldAction:
		if r.Accept {
			return append(b, "ACCEPT"...)
		}
		return append(b, "REJECT"...)
	case FieldLogStatus:
		return append(b, "OK"...)
	case FieldVpcID:
		return dash(r.VpcID)
	case FieldSubnetID:
		return dash(r.SubnetID)
	case FieldInstanceID:
		return dash(r.InstanceID)
	case FieldTCPFlags:
		return strconv.AppendUint(b, uint64(r.TCPFlags), 10)
	case FieldType:
		if r.pktSrc().Is6() {
			return append(b, "IPv6"...)
		}
		return append(b, "IPv4"...)
	case FieldPktSrcAddr:
		return r.pktSrc().AppendTo(b)
	case FieldPktDstAddr:
		return r.pktDst().AppendTo(b)
	case FieldPktSrcAWSService:
		return dash(r.PktSrcAWSService)
	case FieldPktDstAWSService:
		return dash(r.PktDstAWSService)
	case FieldRegion:
		return dash(r.Region)
	case FieldAZID:
		return dash(r.AZID)
	case FieldFlowDirection:
		if r.Egress {
			return append(b, "egress"...)
		}
		return append(b, "ingress"...)
	case FieldTrafficPath:
		// Egress only: 1 for a path that stays in the VPC, else what the
		// caller worked out from the route tables.
		switch {
		case !r.Egress:
		case r.InVPC:
			return append(b, '1')
		case r.TrafficPath > 0 && r.TrafficPath <= 8:
			return append(b, '0'+r.TrafficPath)
		}
	}
	return append(b, '-')
}

// pktSrc and pktDst are the packet's own addresses, which srcaddr and
// dstaddr replace with the interface's primary address.
func (r *Record) pktSrc() netip.Addr {
	if r.PktSrc.IsValid() {
		return r.PktSrc
	}
	return r.Src
}

func (r *Record) pktDst() netip.Addr {
	if r.PktDst.IsValid() {
		return r.PktDst
	}
	return r.Dst
}

// TrafficType is what a flow log captures: create-flow-logs
// --traffic-type.
type TrafficType uint8

const (
	TrafficAll    TrafficType = iota // ALL: accepted and rejected traffic
	TrafficAccept                    // ACCEPT: accepted traffic only
	TrafficReject                    // REJECT: rejected traffic only
)

func (t TrafficType) String() string {
	switch t {
	case TrafficAccept:
		return "ACCEPT"
	case TrafficReject:
		return "REJECT"
	}
	return "ALL"
}

// ParseTrafficType reads ACCEPT, REJECT or ALL, in any case.
func ParseTrafficType(s string) (TrafficType, error) {
	switch strings.ToUpper(s) {
	case "ALL":
		return TrafficAll, nil
	case "ACCEPT":
		return TrafficAccept, nil
	case "REJECT":
		return TrafficReject, nil
	}
	return 0, fmt.Errorf("%q: use ACCEPT, REJECT or ALL", s)
}

// captures reports whether a log of this type records the action.
func (t TrafficType) captures(accept bool) bool {
	return t == TrafficAll || (t == TrafficAccept) == accept
}
