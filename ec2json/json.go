package ec2json

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// flexInt accepts a JSON number or a string holding one: hand-edited and
// older exports write ports as "22".
type flexInt struct {
	set bool
	v   int64
	raw string
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return nil
	}
	f.raw = s
	if unq, err := strconv.Unquote(s); err == nil {
		s = strings.TrimSpace(unq)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%s is not a whole number", f.raw)
	}
	f.set, f.v = true, n
	return nil
}

// flexString accepts a JSON string or number: IpProtocol is "tcp", "6" or 6.
type flexString struct {
	set bool
	v   string
}

func (f *flexString) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return nil
	}
	if unq, err := strconv.Unquote(s); err == nil {
		f.set, f.v = true, unq
		return nil
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		f.set, f.v = true, s
		return nil
	}
	return fmt.Errorf("%s is neither a string nor a number", s)
}

type securityGroup struct {
	GroupID             string         `json:"GroupId"`
	GroupName           string         `json:"GroupName"`
	Description         string         `json:"Description"`
	OwnerID             string         `json:"OwnerId"`
	VpcID               string         `json:"VpcId"`
	IPPermissions       []ipPermission `json:"IpPermissions"`
	IPPermissionsEgress []ipPermission `json:"IpPermissionsEgress"`
}

type ipPermission struct {
	IPProtocol flexString `json:"IpProtocol"`
	FromPort   flexInt    `json:"FromPort"`
	ToPort     flexInt    `json:"ToPort"`
	IPRanges   []struct {
		CidrIP      string `json:"CidrIp"`
		Description string `json:"Description"`
	} `json:"IpRanges"`
	IPv6Ranges []struct {
		CidrIPv6    string `json:"CidrIpv6"`
		Description string `json:"Description"`
	} `json:"Ipv6Ranges"`
	PrefixListIDs []struct {
		PrefixListID string `json:"PrefixListId"`
		Description  string `json:"Description"`
	} `json:"PrefixListIds"`
	UserIDGroupPairs []groupPair `json:"UserIdGroupPairs"`
}

type groupPair struct {
	GroupID                string `json:"GroupId"`
	UserID                 string `json:"UserId"`
	VpcID                  string `json:"VpcId"`
	VpcPeeringConnectionID string `json:"VpcPeeringConnectionId"`
	PeeringStatus          string `json:"PeeringStatus"`
	Description            string `json:"Description"`
}

type securityGroupRule struct {
	SecurityGroupRuleID string     `json:"SecurityGroupRuleId"`
	GroupID             string     `json:"GroupId"`
	GroupOwnerID        string     `json:"GroupOwnerId"`
	IsEgress            bool       `json:"IsEgress"`
	IPProtocol          flexString `json:"IpProtocol"`
	FromPort            flexInt    `json:"FromPort"`
	ToPort              flexInt    `json:"ToPort"`
	CidrIPv4            string     `json:"CidrIpv4"`
	CidrIPv6            string     `json:"CidrIpv6"`
	PrefixListID        string     `json:"PrefixListId"`
	ReferencedGroupInfo *groupPair `json:"ReferencedGroupInfo"`
	Description         string     `json:"Description"`
}

type networkInterface struct {
	NetworkInterfaceID string       `json:"NetworkInterfaceId"`
	InterfaceType      string       `json:"InterfaceType"`
	SubnetID           string       `json:"SubnetId"`
	VpcID              string       `json:"VpcId"`
	OwnerID            string       `json:"OwnerId"`
	Description        string       `json:"Description"`
	PrivateIPAddress   string       `json:"PrivateIpAddress"`
	Association        *association `json:"Association"` // the primary private address's public one
	PrivateIPAddresses []struct {
		PrivateIPAddress string       `json:"PrivateIpAddress"`
		Primary          bool         `json:"Primary"`
		Association      *association `json:"Association"`
	} `json:"PrivateIpAddresses"`
	IPv6Addresses []struct {
		IPv6Address string `json:"Ipv6Address"`
	} `json:"Ipv6Addresses"`
	IPv4Prefixes []struct {
		IPv4Prefix string `json:"Ipv4Prefix"`
	} `json:"Ipv4Prefixes"`
	IPv6Prefixes []struct {
		IPv6Prefix string `json:"Ipv6Prefix"`
	} `json:"Ipv6Prefixes"`
	Groups []struct {
		GroupID   string `json:"GroupId"`
		GroupName string `json:"GroupName"`
	} `json:"Groups"`
	SourceDestCheck                 *bool       `json:"SourceDestCheck"`
	RequesterManaged                bool        `json:"RequesterManaged"`
	Attachment                      *attachment `json:"Attachment"`
	ConnectionTrackingConfiguration *struct {
		TCPEstablishedTimeout flexInt `json:"TcpEstablishedTimeout"`
		UDPStreamTimeout      flexInt `json:"UdpStreamTimeout"`
		UDPTimeout            flexInt `json:"UdpTimeout"`
	} `json:"ConnectionTrackingConfiguration"`
}

// attachment is an interface's attachment to an instance.
type attachment struct {
	InstanceID  string  `json:"InstanceId"`
	DeviceIndex flexInt `json:"DeviceIndex"`
}

// association is a private IPv4 address's public one.
type association struct {
	PublicIP string `json:"PublicIp"`
}

type networkACL struct {
	NetworkACLID string `json:"NetworkAclId"`
	VpcID        string `json:"VpcId"`
	IsDefault    bool   `json:"IsDefault"`
	Associations []struct {
		SubnetID string `json:"SubnetId"`
	} `json:"Associations"`
	Entries []struct {
		RuleNumber    flexInt    `json:"RuleNumber"`
		Protocol      flexString `json:"Protocol"`
		RuleAction    string     `json:"RuleAction"`
		Egress        bool       `json:"Egress"`
		CidrBlock     string     `json:"CidrBlock"`
		IPv6CidrBlock string     `json:"Ipv6CidrBlock"`
		PortRange     *struct {
			From flexInt `json:"From"`
			To   flexInt `json:"To"`
		} `json:"PortRange"`
		IcmpTypeCode *struct {
			Type flexInt `json:"Type"`
			Code flexInt `json:"Code"`
		} `json:"IcmpTypeCode"`
	} `json:"Entries"`
}

type subnet struct {
	SubnetID                    string `json:"SubnetId"`
	SubnetArn                   string `json:"SubnetArn"`
	VpcID                       string `json:"VpcId"`
	AvailabilityZoneID          string `json:"AvailabilityZoneId"`
	CidrBlock                   string `json:"CidrBlock"`
	IPv6CidrBlockAssociationSet []struct {
		IPv6CidrBlock string `json:"Ipv6CidrBlock"`
	} `json:"Ipv6CidrBlockAssociationSet"`
}

type vpc struct {
	VpcID                   string `json:"VpcId"`
	OwnerID                 string `json:"OwnerId"`
	CidrBlock               string `json:"CidrBlock"`
	CidrBlockAssociationSet []struct {
		CidrBlock      string `json:"CidrBlock"`
		CidrBlockState *struct {
			State string `json:"State"`
		} `json:"CidrBlockState"`
	} `json:"CidrBlockAssociationSet"`
	IPv6CidrBlockAssociationSet []struct {
		IPv6CidrBlock      string `json:"Ipv6CidrBlock"`
		IPv6CidrBlockState *struct {
			State string `json:"State"`
		} `json:"Ipv6CidrBlockState"`
	} `json:"Ipv6CidrBlockAssociationSet"`
}

type prefixList struct {
	PrefixListID   string  `json:"PrefixListId"`
	AddressFamily  string  `json:"AddressFamily"`
	PrefixListName string  `json:"PrefixListName"`
	OwnerID        string  `json:"OwnerId"`
	MaxEntries     flexInt `json:"MaxEntries"`
}

type prefixListEntry struct {
	Cidr        string `json:"Cidr"`
	Description string `json:"Description"`
}

// reservation is one of describe-instances' Reservations: the instances'
// types, and their network interfaces, in the shape
// describe-network-interfaces gives them (less what only it has).
type reservation struct {
	ReservationID string `json:"ReservationId"`
	Instances     []struct {
		InstanceID        string             `json:"InstanceId"`
		InstanceType      string             `json:"InstanceType"`
		NetworkInterfaces []networkInterface `json:"NetworkInterfaces"`
	} `json:"Instances"`
}

// instanceType is one of describe-instance-types' InstanceTypes.
type instanceType struct {
	InstanceType string `json:"InstanceType"`
	Hypervisor   string `json:"Hypervisor"`
	BareMetal    bool   `json:"BareMetal"`
	NetworkInfo  *struct {
		ConnectionTrackingConfiguration *struct {
			DefaultTCPEstablishedTimeout flexInt `json:"DefaultTcpEstablishedTimeout"`
			DefaultUDPStreamTimeout      flexInt `json:"DefaultUdpStreamTimeout"`
			DefaultUDPTimeout            flexInt `json:"DefaultUdpTimeout"`
		} `json:"ConnectionTrackingConfiguration"`
	} `json:"NetworkInfo"`
}

// decodeList decodes a top-level list member object by object, so an error
// names the object's index and, once known, its ID.
func decodeList[T any](file, key string, raw json.RawMessage, id func(*T) string) ([]T, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, &Error{File: file, Object: key, Msg: "is not a list of objects"}
	}
	out := make([]T, len(items))
	for k, item := range items {
		if err := json.Unmarshal(item, &out[k]); err != nil {
			obj := fmt.Sprintf("%s[%d]", key, k)
			var probe struct {
				A string `json:"GroupId"`
				B string `json:"NetworkInterfaceId"`
				C string `json:"NetworkAclId"`
				D string `json:"SubnetId"`
				E string `json:"VpcId"`
				F string `json:"PrefixListId"`
				G string `json:"SecurityGroupRuleId"`
				H string `json:"FlowLogId"`
				I string `json:"InstanceType"`
				J string `json:"ReservationId"`
				K string `json:"RouteTableId"`
				L string `json:"TrafficMirrorSessionId"`
				M string `json:"TrafficMirrorFilterId"`
				N string `json:"TrafficMirrorTargetId"`
				O string `json:"VpcPeeringConnectionId"`
			}
			_ = json.Unmarshal(item, &probe)
			for _, s := range []string{probe.O, probe.L, probe.N, probe.M, probe.K, probe.J, probe.I, probe.H, probe.G, probe.B, probe.C, probe.A, probe.D, probe.F, probe.E} {
				if s != "" {
					obj = s
					break
				}
			}
			return nil, &Error{File: file, Object: obj, Field: jsonField(err), Msg: jsonMsg(err)}
		}
		if id != nil && id(&out[k]) == "" {
			return nil, &Error{File: file, Object: fmt.Sprintf("%s[%d]", key, k), Msg: "has no ID"}
		}
	}
	return out, nil
}

func jsonField(err error) string {
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		return te.Field
	}
	return ""
}

func jsonMsg(err error) string {
	switch e := err.(type) {
	case *json.UnmarshalTypeError:
		return fmt.Sprintf("a JSON %s where %s is expected", e.Value, e.Type)
	case *json.SyntaxError:
		return "JSON syntax error: " + e.Error()
	}
	msg := err.Error()
	// Errors from our own UnmarshalJSON come wrapped with the field path.
	if k := strings.LastIndex(msg, ": "); k >= 0 && strings.HasPrefix(msg, "json: cannot unmarshal") {
		return msg[k+2:]
	}
	return msg
}

// flowLog is one entry of describe-flow-logs.
type flowLog struct {
	FlowLogID              string `json:"FlowLogId"`
	ResourceID             string `json:"ResourceId"`
	TrafficType            string `json:"TrafficType"`
	LogFormat              string `json:"LogFormat"`
	MaxAggregationInterval *int   `json:"MaxAggregationInterval"`
}

// bareList recognises a file that holds a list rather than an object, as
// aws ec2 describe-... --query 'SecurityGroups[...]' prints, by the keys
// of its first object, and returns the top-level key the list would have
// had ("" for an empty list) and the list to put under it. ok is false
// when the file is not a list.
func bareList(s Source) (key string, list json.RawMessage, ok bool, err error) {
	data := bytes.TrimLeft(s.Data, " \t\r\n")
	if len(data) == 0 || data[0] != '[' {
		return "", nil, false, nil
	}
	key, ok, err = listKind(s.Name, data)
	if key == "Instances" {
		// Reservations[].Instances[]: one reservation holds them all.
		return "Reservations", json.RawMessage(`[{"Instances":` + string(data) + `}]`), ok, err
	}
	return key, data, ok, err
}

// listKind is bareList's sniffing of a list's first object.
func listKind(name string, data []byte) (key string, ok bool, err error) {
	s := Source{Name: name}
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return "", true, &Error{File: s.Name, Msg: "not a list of objects: " + err.Error()}
	}
	if len(items) == 0 {
		return "", true, nil
	}
	var first map[string]json.RawMessage
	if err := json.Unmarshal(items[0], &first); err != nil {
		return "", true, &Error{File: s.Name, Object: "[0]", Msg: "not an object"}
	}
	has := func(keys ...string) bool {
		for _, k := range keys {
			if _, ok := first[k]; !ok {
				return false
			}
		}
		return true
	}
	switch {
	case has("VpcPeeringConnectionId", "AccepterVpcInfo") || has("VpcPeeringConnectionId", "RequesterVpcInfo"):
		return "VpcPeeringConnections", true, nil
	case has("ListenerArn"):
		return "Listeners", true, nil
	case has("TargetGroupArn"):
		return "TargetGroups", true, nil
	case has("Target", "TargetHealth") || has("Target", "HealthCheckPort"):
		return "TargetHealthDescriptions", true, nil
	case has("TrafficMirrorSessionId"):
		return "TrafficMirrorSessions", true, nil
	case has("TrafficMirrorFilterId"):
		return "TrafficMirrorFilters", true, nil
	case has("TrafficMirrorTargetId"):
		return "TrafficMirrorTargets", true, nil
	case has("SecurityGroupRuleId"):
		return "SecurityGroupRules", true, nil
	case has("GroupId", "IpPermissions") || has("GroupId", "IpPermissionsEgress"):
		return "SecurityGroups", true, nil
	case has("NetworkAclId"):
		return "NetworkAcls", true, nil
	case has("RouteTableId"):
		return "RouteTables", true, nil
	case has("FlowLogId"):
		return "FlowLogs", true, nil
	case has("ReservationId") || has("Instances"):
		return "Reservations", true, nil
	case has("InstanceId", "InstanceType"):
		return "Instances", true, nil
	case has("InstanceType"):
		return "InstanceTypes", true, nil
	case has("NetworkInterfaceId"):
		return "NetworkInterfaces", true, nil
	case has("PrefixListId"):
		return "PrefixLists", true, nil
	case has("SubnetId"):
		return "Subnets", true, nil
	case has("VpcId"):
		return "Vpcs", true, nil
	case has("Cidr"):
		return "Entries", true, nil
	}
	keys := make([]string, 0, len(first))
	for k := range first {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return "", true, &Error{File: s.Name, Msg: fmt.Sprintf("a list of objects whose kind its first one's keys do not tell (%s)", strings.Join(keys, ", "))}
}
