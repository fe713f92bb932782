package ec2json

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/sgsim/sgsim/eni"
)

// routeTableJSON is one of describe-route-tables' RouteTables.
type routeTableJSON struct {
	RouteTableID string `json:"RouteTableId"`
	VpcID        string `json:"VpcId"`
	Associations []struct {
		Main             bool   `json:"Main"`
		SubnetID         string `json:"SubnetId"`
		GatewayID        string `json:"GatewayId"`
		AssociationState *struct {
			State string `json:"State"`
		} `json:"AssociationState"`
	} `json:"Associations"`
	Routes []routeJSON `json:"Routes"`
}

type routeJSON struct {
	DestinationCidrBlock        string `json:"DestinationCidrBlock"`
	DestinationIpv6CidrBlock    string `json:"DestinationIpv6CidrBlock"`
	DestinationPrefixListID     string `json:"DestinationPrefixListId"`
	GatewayID                   string `json:"GatewayId"`
	NetworkInterfaceID          string `json:"NetworkInterfaceId"`
	InstanceID                  string `json:"InstanceId"`
	NatGatewayID                string `json:"NatGatewayId"`
	TransitGatewayID            string `json:"TransitGatewayId"`
	VpcPeeringConnectionID      string `json:"VpcPeeringConnectionId"`
	EgressOnlyInternetGatewayID string `json:"EgressOnlyInternetGatewayId"`
	LocalGatewayID              string `json:"LocalGatewayId"`
	CarrierGatewayID            string `json:"CarrierGatewayId"`
	CoreNetworkArn              string `json:"CoreNetworkArn"`
	State                       string `json:"State"`
}

// target names a route's target other than an interface.
func (r *routeJSON) target() string {
	for _, t := range []string{r.GatewayID, r.NatGatewayID, r.TransitGatewayID, r.VpcPeeringConnectionID,
		r.EgressOnlyInternetGatewayID, r.LocalGatewayID, r.CarrierGatewayID, r.CoreNetworkArn, r.InstanceID} {
		if t != "" {
			return t
		}
	}
	return "-"
}

// buildRouteTables adds the route tables. Routes to network interfaces
// change a verdict (packets go through the appliance), and so do routes
// whose target is gone (blackhole: AWS drops their traffic) and the lack
// of a route (AWS drops that too); the others are kept for what they say.
func (l *loader) buildRouteTables() error {
	// A Gateway Load Balancer endpoint's route names the endpoint
	// (vpce-...), and its interface's description names it in turn
	// ("VPC Endpoint Interface vpce-..."); so for a NAT gateway's
	// ("Interface for NAT Gateway nat-...").
	endpoints, nats := map[string]string{}, map[string]string{}
	for _, i := range l.net.Interfaces() {
		d := i.Spec().Description
		if id := vpceIn.FindString(d); id != "" {
			endpoints[id] = i.ID()
		}
		if m := natIn.FindStringSubmatch(d); m != nil && i.Spec().Type == eni.TypeNATGateway {
			nats[m[1]] = i.ID()
		}
	}
	natWarned := map[string]bool{}
	for _, lt := range l.routeTables {
		x, file := lt.v, lt.file
		obj := x.RouteTableID
		spec := eni.RouteTableSpec{ID: obj, VpcID: x.VpcID}
		if _, ok := l.net.VPC(x.VpcID); !ok {
			return &Error{File: file, Object: obj, Field: "VpcId", Msg: fmt.Sprintf("%s is not defined in any --config file", x.VpcID)}
		}
		var subnetFields []string
		for k, a := range x.Associations {
			if a.AssociationState != nil && a.AssociationState.State != "" && !strings.EqualFold(a.AssociationState.State, "associated") {
				continue
			}
			switch {
			case a.Main:
				spec.Main = true
			case a.SubnetID != "":
				field := fmt.Sprintf("Associations[%d].SubnetId", k)
				if _, ok := l.net.Subnet(a.SubnetID); !ok {
					return &Error{File: file, Object: obj, Field: field, Msg: fmt.Sprintf("%s is not defined in any --config file", a.SubnetID)}
				}
				spec.Subnets, subnetFields = append(spec.Subnets, a.SubnetID), append(subnetFields, field)
			case strings.HasPrefix(a.GatewayID, "igw-"):
				spec.Gateway = a.GatewayID
			case a.GatewayID != "":
				l.warn("%s: %s: the edge association with %s is not modelled: traffic from it is judged as if it went straight on", file, obj, a.GatewayID)
			}
		}
		var routeFields []string
		for k, r := range x.Routes {
			field := fmt.Sprintf("Routes[%d]", k)
			var dests []netip.Prefix
			dynamoDB := false // a route to a DynamoDB gateway endpoint
			switch {
			case r.DestinationCidrBlock != "":
				p, err := parsePrefix(file, obj, field+".DestinationCidrBlock", r.DestinationCidrBlock, false)
				if err != nil {
					return err
				}
				dests = append(dests, p)
			case r.DestinationIpv6CidrBlock != "":
				p, err := parsePrefix(file, obj, field+".DestinationIpv6CidrBlock", r.DestinationIpv6CidrBlock, true)
				if err != nil {
					return err
				}
				dests = append(dests, p)
			case r.DestinationPrefixListID != "":
				pl, ok := l.net.Groups().PrefixList(r.DestinationPrefixListID)
				if !ok {
					if r.NetworkInterfaceID != "" {
						return &Error{File: file, Object: obj, Field: field + ".DestinationPrefixListId",
							Msg: fmt.Sprintf("%s is not defined in any --config file", r.DestinationPrefixListID)}
					}
					// Another target, but which destinations it covers the
					// files do not say: the table may route anything.
					spec.Unresolved = append(spec.Unresolved, r.DestinationPrefixListID)
					l.warn("%s: %s: %s.DestinationPrefixListId: %s is in no --config file, so packets this table has no other route for "+
						"are judged as if they went on (add describe-managed-prefix-lists and get-managed-prefix-list-entries for it)",
						file, obj, field, r.DestinationPrefixListID)
					continue
				}
				for _, e := range pl.Entries {
					dests = append(dests, e.CIDR)
				}
				// AWS tracks every flow through a DynamoDB gateway endpoint,
				// two entries each (reference §2.3); its route names the
				// service's list.
				dynamoDB = strings.HasPrefix(r.GatewayID, "vpce-") && strings.HasPrefix(pl.Name, "com.amazonaws.") &&
					strings.HasSuffix(pl.Name, ".dynamodb")
			default:
				return &Error{File: file, Object: obj, Field: field, Msg: "has no destination"}
			}
			blackhole := strings.EqualFold(r.State, "blackhole")
			iface := r.NetworkInterfaceID
			if !blackhole && iface == "" && strings.HasPrefix(r.GatewayID, "vpce-") && r.DestinationPrefixListID == "" {
				// A CIDR block routed to an endpoint: a Gateway Load Balancer
				// or firewall endpoint, an appliance on the path (a gateway
				// endpoint's routes name prefix lists).
				if iface = endpoints[r.GatewayID]; iface == "" {
					l.warn("%s: %s: %s: no interface in the files is the endpoint %s (its description names it): traffic is judged as if it went straight on",
						file, obj, field, r.GatewayID)
				}
			}
			if !blackhole && iface == "" && r.NatGatewayID != "" {
				// Through the NAT gateway's interface, its subnet's ACL in
				// and out, both ways.
				if iface = nats[r.NatGatewayID]; iface == "" && !natWarned[r.NatGatewayID] {
					natWarned[r.NatGatewayID] = true
					l.warn("%s: %s: %s: no interface of type natGateway in the files is the NAT gateway %s (its description names it): "+
						"traffic is judged as if it went straight on", file, obj, field, r.NatGatewayID)
				}
			}
			if !blackhole && iface != "" && l.net.Interface(iface) == nil {
				return &Error{File: file, Object: obj, Field: field + ".NetworkInterfaceId", Msg: fmt.Sprintf("%s is not defined in any --config file", iface)}
			}
			targetField := field + ".NetworkInterfaceId"
			if r.NetworkInterfaceID == "" {
				targetField = field + ".GatewayId"
			}
			for _, d := range dests {
				spec.Routes = append(spec.Routes, eni.Route{Dest: d, Interface: iface, Target: r.target(), Blackhole: blackhole, DynamoDB: dynamoDB})
				routeFields = append(routeFields, targetField)
			}
		}
		if err := l.net.AddRouteTable(spec); err != nil {
			field := ""
			var ee *eni.Error
			var k int
			if errors.As(err, &ee) {
				switch {
				case scan(ee.Field, "Subnets[%d]", &k) && k < len(subnetFields):
					field = subnetFields[k]
				case scan(ee.Field, "Routes[%d].Interface", &k) && k < len(routeFields):
					field = routeFields[k]
				case ee.Field == "Main":
					field = "Associations"
				}
			}
			return wrap(file, obj, field, err)
		}
	}
	return nil
}

var (
	vpceIn = regexp.MustCompile(`\bvpce-[0-9a-f]+\b`)
	natIn  = regexp.MustCompile(`^Interface for NAT Gateway (nat-[0-9a-f]+)\b`)
)

// scan reads a field name's index, as fmt.Sscanf does, reporting whether
// it matched.
func scan(field, format string, k *int) bool {
	_, err := fmt.Sscanf(field, format, k)
	return err == nil && *k >= 0
}
