package ec2json

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sgsim/sgsim/conntrack"
	"github.com/sgsim/sgsim/eni"
)

// instanceIndex is what describe-instances and describe-instance-types
// tell about the instances the interfaces are attached to: an instance's
// type says whether it is built on the Nitro System (flow logs aggregate
// over 60 s at most there) and the idle timeouts its interfaces start
// with (350 s for established TCP on Nitro v6 types).
type instanceIndex struct {
	typeOf     map[string]string // instance ID → its type
	instanceOf map[string]string // interface ID → instance, from the instances' NetworkInterfaces
	types      map[string]typeInfo

	unlisted    []string // instances attached to that no describe-instances file lists
	typeMissing []string // instance types that no describe-instance-types file describes
}

type typeInfo struct {
	nitro bool
	// conntrack holds the type's default idle timeouts, or is nil when
	// describe-instance-types gives none (AWS's defaults then).
	conntrack *conntrack.Config
}

// instanceInterfaces adds the network interfaces of describe-instances
// that no describe-network-interfaces file gives, so that the instances'
// output alone describes their interfaces. Where both give one, that of
// describe-network-interfaces, which also lists services' interfaces and
// their owners, is used.
func (l *loader) instanceInterfaces() error {
	for _, r := range l.reservations {
		for _, in := range r.v.Instances {
			for k, ni := range in.NetworkInterfaces {
				id := ni.NetworkInterfaceID
				if id == "" {
					return &Error{File: r.file, Object: in.InstanceID, Field: fmt.Sprintf("NetworkInterfaces[%d].NetworkInterfaceId", k), Msg: "is missing"}
				}
				if _, ok := l.seen[id]; ok {
					continue
				}
				if err := l.define(r.file, id); err != nil {
					return err
				}
				if ni.Attachment == nil {
					ni.Attachment = &attachment{}
				}
				ni.Attachment.InstanceID = in.InstanceID
				if ni.InterfaceType == "" {
					ni.InterfaceType = "interface"
				}
				l.enis = append(l.enis, located[networkInterface]{r.file, ni})
			}
		}
	}
	return nil
}

// buildInstances indexes the instances and their types.
func (l *loader) buildInstances() error {
	x := &l.instances
	x.typeOf, x.instanceOf, x.types = map[string]string{}, map[string]string{}, map[string]typeInfo{}
	for _, r := range l.reservations {
		file := r.file
		for k, in := range r.v.Instances {
			obj := in.InstanceID
			if obj == "" {
				return &Error{File: file, Object: fmt.Sprintf("Reservations[%s].Instances[%d]", r.v.ReservationID, k), Field: "InstanceId", Msg: "is missing"}
			}
			if err := l.define(file, obj); err != nil {
				return err
			}
			if in.InstanceType == "" {
				return &Error{File: file, Object: obj, Field: "InstanceType", Msg: "is missing"}
			}
			x.typeOf[obj] = in.InstanceType
			for _, n := range in.NetworkInterfaces {
				if n.NetworkInterfaceID != "" {
					x.instanceOf[n.NetworkInterfaceID] = obj
				}
			}
		}
	}
	for _, t := range l.types {
		file, obj := t.file, t.v.InstanceType
		var info typeInfo
		switch h := strings.ToLower(t.v.Hypervisor); h {
		case "nitro":
			info.nitro = true
		case "xen", "":
			// Every bare-metal type is built on the Nitro System; such a
			// type has no hypervisor to name.
			info.nitro = t.v.BareMetal
		default:
			return &Error{File: file, Object: obj, Field: "Hypervisor", Msg: fmt.Sprintf("%q is not nitro or xen", t.v.Hypervisor)}
		}
		if ni := t.v.NetworkInfo; ni != nil && ni.ConnectionTrackingConfiguration != nil {
			c := ni.ConnectionTrackingConfiguration
			cfg, err := withTimeouts(conntrack.DefaultConfig(), file, obj, "NetworkInfo.ConnectionTrackingConfiguration.", "Default",
				c.DefaultTCPEstablishedTimeout, c.DefaultUDPTimeout, c.DefaultUDPStreamTimeout)
			if err != nil {
				return err
			}
			info.conntrack = &cfg
		}
		x.types[obj] = info
	}
	return nil
}

// applyInstance gives an interface what its instance's type decides: its
// type, whether it is built on Nitro, and the idle timeouts the
// interface's own ConnectionTrackingConfiguration does not set.
func (x *instanceIndex) applyInstance(spec *eni.InterfaceSpec, hasReservations bool) {
	if spec.InstanceID == "" {
		spec.InstanceID = x.instanceOf[spec.ID]
	}
	if spec.InstanceID == "" {
		return
	}
	typ, ok := x.typeOf[spec.InstanceID]
	if !ok {
		if hasReservations && !slices.Contains(x.unlisted, spec.InstanceID) {
			x.unlisted = append(x.unlisted, spec.InstanceID)
		}
		return
	}
	spec.InstanceType = typ
	info, ok := x.types[typ]
	if !ok {
		if !slices.Contains(x.typeMissing, typ) {
			x.typeMissing = append(x.typeMissing, typ)
		}
		return
	}
	spec.Nitro = info.nitro
	if info.conntrack != nil {
		cfg := *info.conntrack
		spec.ConnTrack = &cfg
	}
}

// warnInstances reports the instances and types the files leave out.
func (l *loader) warnInstances() {
	x := &l.instances
	if len(x.unlisted) > 0 {
		l.warn("instances attached to interfaces but in no describe-instances file: %s; their types are unknown, "+
			"so their interfaces keep AWS's default idle timeouts and the flow logs' interval", few(x.unlisted))
	}
	if len(x.typeMissing) > 0 {
		slices.Sort(x.typeMissing)
		l.warn("instance types in no describe-instance-types file: %s; their instances' interfaces keep AWS's default idle timeouts "+
			"and the flow logs' interval (aws ec2 describe-instance-types --instance-types %s)", few(x.typeMissing), strings.Join(x.typeMissing, " "))
	}
}

// few lists the first few IDs and counts the rest.
func few(ids []string) string {
	const most = 5
	if len(ids) <= most {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:most], ", "), len(ids)-most)
}

// TypeUnknown reports whether the interface is attached to an instance
// whose type the files do not describe (describe-instances, then
// describe-instance-types): whether it is built on the Nitro System, and
// its default idle timeouts, are then unknown.
func (r *Result) TypeUnknown(i *eni.Interface) bool {
	return r.instances.typeUnknown(i)
}

func (x *instanceIndex) typeUnknown(i *eni.Interface) bool {
	s := i.Spec()
	if s.InstanceID == "" {
		return false
	}
	_, ok := x.types[s.InstanceType]
	return !ok
}
