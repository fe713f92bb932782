package ec2json

import (
	"fmt"
	"strings"
	"time"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/flowlog"
)

// FlowLog is a flow log of describe-flow-logs, on an interface, a subnet
// or a VPC, as a replay writes it.
type FlowLog struct {
	ID         string
	ResourceID string           // the interface, subnet or VPC it is on
	Interfaces []*eni.Interface // the interfaces it logs: the resource's, in the network's order
	Format     flowlog.Format   // LogFormat; AWS's default format when it has none
	Traffic    flowlog.TrafficType
	// Window is MaxAggregationInterval: 600 s unless 60 s was chosen. AWS
	// aggregates over 60 s at most at interfaces of instances built on
	// the Nitro System, whatever the flow log says: describe-instances and
	// describe-instance-types tell which those are
	// ([eni.InterfaceSpec.Nitro]).
	Window time.Duration
}

// buildFlowLogs resolves each flow log to the interfaces it logs.
// Transit gateway flow logs are not about interfaces: they are left out
// with a warning.
func (l *loader) buildFlowLogs() error {
	ifaces := l.net.Interfaces()
	for _, f := range l.flowLogs {
		fl, file := f.v, f.file
		obj := fl.FlowLogID
		out := FlowLog{ID: fl.FlowLogID, ResourceID: fl.ResourceID, Format: flowlog.DefaultFormat, Window: 10 * time.Minute}
		var covers func(*eni.Interface) bool
		defined := true
		switch id := fl.ResourceID; {
		case id == "":
			return &Error{File: file, Object: obj, Field: "ResourceId", Msg: "is missing"}
		case strings.HasPrefix(id, "tgw-"):
			l.warn("%s: %s: flow logs of transit gateways (%s) are not modelled; left out", file, obj, id)
			continue
		case strings.HasPrefix(id, "eni-"):
			defined = l.net.Interface(id) != nil
			covers = func(i *eni.Interface) bool { return i.ID() == id }
		case strings.HasPrefix(id, "subnet-"):
			_, defined = l.net.Subnet(id)
			covers = func(i *eni.Interface) bool { return i.Spec().SubnetID == id }
		case strings.HasPrefix(id, "vpc-"):
			_, defined = l.net.VPC(id)
			covers = func(i *eni.Interface) bool { return i.VpcID() == id }
		default:
			return &Error{File: file, Object: obj, Field: "ResourceId",
				Msg: fmt.Sprintf("%q is not a network interface, subnet, VPC or transit gateway", id)}
		}
		if !defined {
			return &Error{File: file, Object: obj, Field: "ResourceId", Msg: fmt.Sprintf("%s is not defined in any --config file", fl.ResourceID)}
		}
		var err error
		if out.Traffic, err = flowlog.ParseTrafficType(fl.TrafficType); err != nil {
			return &Error{File: file, Object: obj, Field: "TrafficType", Msg: fmt.Sprintf("%q is not ACCEPT, REJECT or ALL", fl.TrafficType)}
		}
		if fl.LogFormat != "" {
			if out.Format, err = flowlog.ParseFormat(fl.LogFormat); err != nil {
				return &Error{File: file, Object: obj, Field: "LogFormat", Msg: err.Error()}
			}
		}
		if m := fl.MaxAggregationInterval; m != nil {
			if *m != 60 && *m != 600 {
				return &Error{File: file, Object: obj, Field: "MaxAggregationInterval", Msg: fmt.Sprintf("%d is not 60 or 600", *m)}
			}
			out.Window = time.Duration(*m) * time.Second
		}
		unknown := 0
		for _, i := range ifaces {
			if covers(i) {
				out.Interfaces = append(out.Interfaces, i)
				if l.instances.typeUnknown(i) {
					unknown++
				}
			}
		}
		if out.Window > time.Minute && unknown > 0 {
			l.warn("%s: %s: records of interfaces at instances of unknown type (%d) cover up to %d s, but AWS aggregates over 60 s at most "+
				"at Nitro instances: give describe-instances and describe-instance-types output to tell which those are",
				file, obj, unknown, int(out.Window.Seconds()))
		}
		l.flowLogOut = append(l.flowLogOut, out)
	}
	return nil
}
