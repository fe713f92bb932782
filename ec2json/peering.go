package ec2json

// vpcPeeringConnection is one of describe-vpc-peering-connections'.
type vpcPeeringConnection struct {
	VpcPeeringConnectionID string       `json:"VpcPeeringConnectionId"`
	AccepterVpcInfo        *peeringSide `json:"AccepterVpcInfo"`
	RequesterVpcInfo       *peeringSide `json:"RequesterVpcInfo"`
	Status                 *struct {
		Code string `json:"Code"`
	} `json:"Status"`
}

type peeringSide struct {
	VpcID   string `json:"VpcId"`
	OwnerID string `json:"OwnerId"`
	Region  string `json:"Region"`
}

// Peering is a VPC peering connection: the two VPCs, their Regions and
// owners, and its status (active, deleted, ...).
type Peering struct {
	ID                            string
	RequesterVPC, AccepterVPC     string
	RequesterRegion               string
	AccepterRegion                string
	RequesterOwner, AccepterOwner string
	Status                        string
}

// InterRegion reports whether the peering connects VPCs of two Regions;
// ok is false when the file does not give both.
func (p Peering) InterRegion() (inter, ok bool) {
	if p.RequesterRegion == "" || p.AccepterRegion == "" {
		return false, false
	}
	return p.RequesterRegion != p.AccepterRegion, true
}

// buildPeerings reads the peering connections: each must name both VPCs.
func (l *loader) buildPeerings() error {
	for _, x := range l.peerings {
		p, file := x.v, x.file
		out := Peering{ID: p.VpcPeeringConnectionID}
		for _, side := range []struct {
			name               string
			v                  *peeringSide
			vpc, region, owner *string
		}{{"RequesterVpcInfo", p.RequesterVpcInfo, &out.RequesterVPC, &out.RequesterRegion, &out.RequesterOwner},
			{"AccepterVpcInfo", p.AccepterVpcInfo, &out.AccepterVPC, &out.AccepterRegion, &out.AccepterOwner}} {
			if side.v == nil || side.v.VpcID == "" {
				return &Error{File: file, Object: out.ID, Field: side.name + ".VpcId", Msg: "is missing"}
			}
			*side.vpc, *side.region, *side.owner = side.v.VpcID, side.v.Region, side.v.OwnerID
		}
		if p.Status != nil {
			out.Status = p.Status.Code
		}
		if l.peeringOut == nil {
			l.peeringOut = map[string]Peering{}
		}
		l.peeringOut[out.ID] = out
	}
	return nil
}

// Peering returns a VPC peering connection of describe-vpc-peering-connections.
func (r *Result) Peering(id string) (Peering, bool) {
	p, ok := r.peerings[id]
	return p, ok
}
