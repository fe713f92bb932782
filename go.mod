module github.com/sgsim/sgsim

go 1.24.0

require (
	github.com/gaissmai/bart v0.30.0
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/google/gopacket v1.1.19 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/net v0.0.0-20190620200207-3b0461eec859 // indirect
	golang.org/x/sys v0.0.0-20190412213103-97732733099d // indirect
)
