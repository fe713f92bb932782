package main

import (
	"encoding/json"
	"io"

	"github.com/sgsim/sgsim/audit"
	"github.com/sgsim/sgsim/ec2json"
)

// SARIF 2.1.0, as much of it as code-scanning tools read: the tool and
// its rules, and results located in the configuration file that defined
// the object (and, logically, the object itself).
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	Help                 sarifText      `json:"help"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
	Kind               string `json:"kind"`
}

// sarifLevel maps severities to SARIF levels; security-severity carries
// the finer grade code-scanning tools sort by.
func sarifLevel(s audit.Severity) (level, securitySeverity string) {
	switch s {
	case audit.Critical:
		return "error", "9.5"
	case audit.High:
		return "error", "8.0"
	case audit.Medium:
		return "warning", "5.5"
	case audit.Low:
		return "note", "3.0"
	}
	return "note", "0.0"
}

func writeSARIF(w io.Writer, res *ec2json.Result, fs []audit.Finding) error {
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: "sgsim", InformationURI: "https://github.com/sgsim/sgsim"}},
		Results: []sarifResult{}}
	index := map[string]int{}
	for k, c := range audit.Checks {
		level, sev := sarifLevel(c.Severity)
		index[c.ID] = k
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{ID: c.ID, Name: c.ID, ShortDescription: sarifText{c.Title},
			Help: sarifText{c.Fix}, DefaultConfiguration: sarifConfig{level},
			Properties: map[string]any{"security-severity": sev, "tags": []string{"security", "aws", "vpc"}}})
	}
	for _, f := range fs {
		level, _ := sarifLevel(f.Severity)
		r := sarifResult{RuleID: f.ID, RuleIndex: index[f.ID], Level: level, Message: sarifText{f.Message + " Fix: " + f.Fix}}
		object, kind := f.GroupID, "resource"
		if f.ACLID != "" {
			object = f.ACLID
		}
		loc := sarifLocation{LogicalLocations: []sarifLogical{{Name: object, FullyQualifiedName: f.Resource, Kind: kind}}}
		if file, line, ok := res.Origin(object); ok {
			loc.PhysicalLocation = &sarifPhysical{ArtifactLocation: sarifArtifact{URI: file}, Region: sarifRegion{StartLine: line}}
		}
		r.Locations = []sarifLocation{loc}
		run.Results = append(run.Results, r)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}
