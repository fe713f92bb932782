module github.com/sgsim/sgsim

go 1.24.0

require (
	github.com/gaissmai/bart v0.30.0
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/google/gopacket v1.1.19 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
