package ec2json

import (
	"fmt"
	"maps"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sgsim/sgsim/eni"
)

// targetGroup is one object of aws elbv2 describe-target-groups.
type targetGroup struct {
	TargetGroupArn   string   `json:"TargetGroupArn"`
	TargetGroupName  string   `json:"TargetGroupName"`
	Protocol         string   `json:"Protocol"`
	VpcID            string   `json:"VpcId"`
	TargetType       string   `json:"TargetType"`
	LoadBalancerArns []string `json:"LoadBalancerArns"`
}

// targetHealth is one object of aws elbv2 describe-target-health.
type targetHealth struct {
	Target struct {
		ID   string  `json:"Id"`
		Port flexInt `json:"Port"`
	} `json:"Target"`
}

// healthFile is a describe-target-health file and the target group it is
// of: tied by the argument ARN=FILE, or else found by the group's ID in
// the file's name.
type healthFile struct {
	file, group string
	targets     []targetHealth
}

// attrFile is a describe-target-group-attributes file, tied to its group
// as a healthFile is, or a describe-listener-attributes file, tied to its
// listener the same way.
type attrFile struct {
	file, group, listener string
	attrs                 []struct {
		Key   string `json:"Key"`
		Value string `json:"Value"`
	}
}

// listener is one object of aws elbv2 describe-listeners: which target
// groups it forwards to.
type listener struct {
	ListenerArn     string `json:"ListenerArn"`
	LoadBalancerArn string `json:"LoadBalancerArn"`
	Protocol        string `json:"Protocol"`
	DefaultActions  []struct {
		TargetGroupArn string `json:"TargetGroupArn"`
		ForwardConfig  struct {
			TargetGroups []struct {
				TargetGroupArn string `json:"TargetGroupArn"`
			} `json:"TargetGroups"`
		} `json:"ForwardConfig"`
	} `json:"DefaultActions"`
}

// groups returns the target groups the listener forwards to.
func (x *listener) groups() []string {
	var out []string
	for _, a := range x.DefaultActions {
		if a.TargetGroupArn != "" {
			out = append(out, a.TargetGroupArn)
		}
		for _, g := range a.ForwardConfig.TargetGroups {
			if g.TargetGroupArn != "" {
				out = append(out, g.TargetGroupArn)
			}
		}
	}
	return out
}

// tcpIdleKey is the attribute of a TCP listener that says how long the
// balancer keeps an idle flow.
const tcpIdleKey = "tcp.idle_timeout.seconds"

// listenerArg reports whether the id of an argument ID=FILE is a
// listener's ARN, which ties a describe-listener-attributes file to it.
func listenerArg(id string) bool {
	return strings.HasPrefix(id, "arn:") && strings.Contains(id, ":listener/")
}

// listenerFile reports whether an attributes file not tied by its
// argument is a listener's: it has the key only a listener has, or its
// name holds a listener's ID and no target group's.
func (f *attrFile) listenerFile(listeners map[string]located[listener], groups map[string]located[targetGroup]) bool {
	for _, a := range f.attrs {
		if a.Key == tcpIdleKey {
			return true
		}
	}
	return nameHolds(f.file, listeners) && !nameHolds(f.file, groups)
}

// nameHolds reports whether a file's base name holds the ID (the last
// part of the ARN) of one of arns.
func nameHolds[T any](file string, arns map[string]located[T]) bool {
	base := filepath.Base(file)
	for arn := range arns {
		if id := groupID(arn); id != "" && strings.Contains(base, id) {
			return true
		}
	}
	return false
}

// tcpIdleTimeouts returns, by target group, the idle timeout of the TCP
// listeners that forward to it, as describe-listener-attributes says: the
// longest, when several do (a capture cannot tell which listener a flow
// came by). Groups of listeners without the attribute are left out.
func (l *loader) tcpIdleTimeouts(files []attrFile, groups map[string]located[targetGroup]) (map[string]time.Duration, error) {
	listeners := map[string]located[listener]{}
	for _, x := range l.listeners {
		listeners[x.v.ListenerArn] = x
	}
	out := map[string]time.Duration{}
	for _, f := range files {
		arn, err := tied(f.file, f.listener, "Attributes", "describe-listener-attributes", "the attributes", "listener", "describe-listeners", listeners)
		if err != nil {
			return nil, err
		}
		x := listeners[arn]
		if !strings.EqualFold(x.v.Protocol, "TCP") {
			continue // only a TCP listener's timeout can be set
		}
		for k, a := range f.attrs {
			if a.Key != tcpIdleKey {
				continue
			}
			secs, err := strconv.Atoi(a.Value)
			d := time.Duration(secs) * time.Second
			if err != nil || d < eni.MinBalancerTCPIdleTimeout || d > eni.MaxBalancerTCPIdleTimeout {
				return nil, &Error{File: f.file, Object: arn, Field: fmt.Sprintf("Attributes[%d].Value", k),
					Msg: fmt.Sprintf("%q is not 60-6000 seconds", a.Value)}
			}
			for _, g := range x.v.groups() {
				if _, ok := groups[g]; ok {
					out[g] = max(out[g], d)
				}
			}
		}
	}
	return out, nil
}

// targetGroupArg reports whether the id of an argument ID=FILE is a target
// group's ARN, which ties a describe-target-health file to its group.
func targetGroupArg(id string) bool {
	return strings.HasPrefix(id, "arn:") && strings.Contains(id, ":targetgroup/")
}

// balancerOf returns the load balancer an ARN names as the descriptions
// of its interfaces do ("net/web/50dc6c495c0c9188"), or "".
func balancerOf(arn string) string {
	_, name, ok := strings.Cut(arn, ":loadbalancer/")
	if !ok {
		return ""
	}
	return name
}

// groupID returns the last part of a target group's ARN, its ID.
func groupID(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

// buildTargetGroups adds the target groups whose targets an internet
// client reaches with its own address: of a Network Load Balancer whose
// interfaces (in describe-network-interfaces) have public addresses,
// taking TCP, TLS, UDP or TCP_UDP, whose targets keep the client's
// address: as describe-target-group-attributes says
// (preserve_client_ip.enabled), or else by default (instance targets do;
// IP targets do for UDP and TCP_UDP only). Others change nothing sgsim
// judges: their targets see the balancer's address, or clients inside the
// VPC.
func (l *loader) buildTargetGroups() error {
	arns := map[string]located[targetGroup]{}
	for _, g := range l.targetGroups {
		arns[g.v.TargetGroupArn] = g
	}
	listeners := map[string]located[listener]{}
	for _, x := range l.listeners {
		listeners[x.v.ListenerArn] = x
	}
	var groupFiles, listenerFiles []attrFile
	for _, f := range l.groupAttrs {
		if f.listener != "" || (f.group == "" && f.listenerFile(listeners, arns)) {
			listenerFiles = append(listenerFiles, f)
		} else {
			groupFiles = append(groupFiles, f)
		}
	}
	idle, err := l.tcpIdleTimeouts(listenerFiles, arns)
	if err != nil {
		return err
	}
	preserve := map[string]bool{} // by group, as describe-target-group-attributes says
	for _, f := range groupFiles {
		group, err := tiedGroup(f.file, f.group, "Attributes", "describe-target-group-attributes", "the attributes", arns)
		if err != nil {
			return err
		}
		for k, a := range f.attrs {
			if a.Key != "preserve_client_ip.enabled" {
				continue
			}
			if a.Value != "true" && a.Value != "false" {
				return &Error{File: f.file, Object: group, Field: fmt.Sprintf("Attributes[%d].Value", k), Msg: fmt.Sprintf("%q is not true or false", a.Value)}
			}
			preserve[group] = a.Value == "true"
		}
	}
	targets := map[string][]netip.AddrPort{}
	for _, h := range l.health {
		group, err := tiedGroup(h.file, h.group, "TargetHealthDescriptions", "describe-target-health", "the health", arns)
		if err != nil {
			return err
		}
		g := arns[group]
		if _, ok := targets[group]; ok {
			return &Error{File: h.file, Object: group, Msg: "target health given twice"}
		}
		list := []netip.AddrPort{}
		for k, t := range h.targets {
			field := fmt.Sprintf("TargetHealthDescriptions[%d].Target", k)
			port := t.Target.Port.v
			if !t.Target.Port.set || port < 1 || port > 65535 {
				return &Error{File: h.file, Object: group, Field: field + ".Port", Msg: fmt.Sprintf("%d is not a port", port)}
			}
			var addr netip.Addr
			switch id := t.Target.ID; {
			case strings.HasPrefix(id, "i-"):
				i := l.primaryOf(id)
				if !i.IsValid() {
					l.warn("%s: %s: %s.Id: instance %s has no interface in the files: its target is left out", h.file, group, field, id)
					continue
				}
				addr = i
			case g.v.TargetType == "alb" || strings.HasPrefix(id, "arn:"):
				continue // an Application Load Balancer: it sees the client's address itself, not its targets
			default:
				a, err := parseAddr(h.file, group, field+".Id", id)
				if err != nil {
					return err
				}
				addr = a
			}
			list = append(list, netip.AddrPortFrom(addr, uint16(port)))
		}
		targets[group] = list
	}
	for _, arn := range slices.Sorted(maps.Keys(arns)) {
		g := arns[arn]
		var proto uint8
		switch strings.ToUpper(g.v.Protocol) {
		case "TCP", "TLS":
			proto = 6
		case "UDP":
			proto = 17
		case "TCP_UDP":
		default:
			continue // an Application or Gateway Load Balancer's group
		}
		// Client IP preservation is on by default but for IP targets over
		// TCP and TLS; the group's attribute says otherwise.
		on, set := preserve[arn]
		if !set {
			on = g.v.TargetType != "ip" || proto != 6
		}
		if !on {
			continue // the targets see the balancer's address: its interface's
		}
		for _, lb := range g.v.LoadBalancerArns {
			name := balancerOf(lb)
			if !strings.HasPrefix(name, "net/") {
				continue
			}
			facing, known := l.internetFacing(name)
			if !known {
				l.warn("%s: %s: LoadBalancerArns: no interface of %s in the files (describe-network-interfaces): "+
					"whether it faces the internet is unknown, and its targets are judged by their routes", g.file, arn, name)
			}
			if !facing {
				continue
			}
			if _, ok := targets[arn]; !ok {
				l.warn("%s: %s: no describe-target-health output: its targets are judged by their routes", g.file, arn)
				continue
			}
			spec := eni.TargetGroupSpec{ID: arn, Balancer: name, Protocol: proto, Targets: targets[arn], TCPIdleTimeout: idle[arn]}
			if err := l.net.AddTargetGroup(spec); err != nil {
				return wrap(g.file, arn, "", err)
			}
			break // a Network Load Balancer's group is attached to one balancer
		}
	}
	return nil
}

// tiedGroup returns the target group a file of one group's (what: its
// health or attributes, under key, as command printed it) is of: the one
// its argument ARN=FILE named, or the one whose ID its name holds.
func tiedGroup(file, explicit, key, command, what string, arns map[string]located[targetGroup]) (string, error) {
	return tied(file, explicit, key, command, what, "target group", "describe-target-groups", arns)
}

// tied returns the object (a noun, as defines prints it) a file of one
// object's is of, as tiedGroup does for target groups.
func tied[T any](file, explicit, key, command, what, noun, defines string, arns map[string]located[T]) (string, error) {
	obj := explicit
	if obj == "" {
		base := filepath.Base(file)
		for arn := range arns {
			if id := groupID(arn); id != "" && strings.Contains(base, id) && (obj == "" || arn < obj) {
				obj = arn
			}
		}
		if obj == "" {
			return "", &Error{File: file, Object: key,
				Msg: fmt.Sprintf("%s output names no %s: pass it as ARN=FILE, or put the %s's ID in the file name", command, noun, noun)}
		}
	}
	if _, ok := arns[obj]; !ok {
		return "", &Error{File: file, Object: obj, Msg: fmt.Sprintf("%s of a %s that no %s file defines", what, noun, defines)}
	}
	return obj, nil
}

// internetFacing reports whether the load balancer's interfaces in the
// files have public addresses, and whether the files have any of them.
func (l *loader) internetFacing(name string) (facing, known bool) {
	for _, i := range l.net.Interfaces() {
		s := i.Spec()
		if s.Type != eni.TypeNetworkLoadBalancer || strings.TrimPrefix(s.Description, "ELB ") != name {
			continue
		}
		known = true
		if len(s.PublicIPv4) > 0 {
			return true, true
		}
	}
	return false, known
}

// primaryOf returns the primary private address of an instance's primary
// interface (device index 0), or the zero Addr.
func (l *loader) primaryOf(instance string) netip.Addr {
	for _, i := range l.net.Interfaces() {
		if s := i.Spec(); s.InstanceID == instance && s.DeviceIndex == 0 && len(s.PrivateIPv4) > 0 {
			return s.PrivateIPv4[0]
		}
	}
	return netip.Addr{}
}
