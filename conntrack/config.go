package conntrack

import (
	"fmt"
	"time"
)

// Config holds a table's timeouts and capacity. Start from [DefaultConfig].
type Config struct {
	// TCPEstablished is AWS's TcpEstablishedTimeout: 60 s to 432000 s.
	TCPEstablished time.Duration
	// UDP is AWS's UdpTimeout, for UDP flows seen in one direction or as a
	// single request and response: 30 s to 60 s.
	UDP time.Duration
	// UDPStream is AWS's UdpStreamTimeout, for UDP flows with more than one
	// request-response exchange: 60 s to 180 s.
	UDPStream time.Duration
	// Other is the window for protocols other than TCP, UDP and ICMP; AWS
	// documents 600 s.
	Other time.Duration

	// Our choices where AWS documents nothing (see the package doc).
	TCPHandshake time.Duration // SYN sent or SYN-ACK seen
	TCPClosing   time.Duration // one side sent FIN
	TCPClosed    time.Duration // RST seen, or both sides sent FIN
	ICMP         time.Duration // ICMP queries

	// MaxEntries bounds the entries live at once. AWS sizes this per
	// instance type and publishes no numbers.
	MaxEntries int

	// TCPPickup lets a TCP packet other than a SYN open an established
	// entry, for captures that begin mid-connection. Off by default: AWS
	// drops an untracked session whose reply rule disappears, which only
	// holds if a mid-stream packet cannot open an entry.
	TCPPickup bool
}

// DefaultMaxEntries is the default capacity of a table.
const DefaultMaxEntries = 500_000

// maxEntries bounds MaxEntries, so that the index never passes 2^32 slots,
// whose places the 32 hash bits each slot keeps are enough to find.
const maxEntries = 1 << 30

// AWS's documented ranges for the configurable timeouts.
const (
	MinTCPEstablished = 60 * time.Second
	MaxTCPEstablished = 432000 * time.Second
	MinUDP            = 30 * time.Second
	MaxUDP            = 60 * time.Second
	MinUDPStream      = 60 * time.Second
	MaxUDPStream      = 180 * time.Second
)

// DefaultConfig returns AWS's default timeouts and our documented choices.
func DefaultConfig() Config {
	return Config{
		TCPEstablished: 432000 * time.Second,
		UDP:            30 * time.Second,
		UDPStream:      180 * time.Second,
		Other:          600 * time.Second,
		TCPHandshake:   120 * time.Second,
		TCPClosing:     120 * time.Second,
		TCPClosed:      10 * time.Second,
		ICMP:           30 * time.Second,
		MaxEntries:     DefaultMaxEntries,
	}
}

// ConfigError reports a setting outside its allowed range. Field uses AWS's
// name where AWS has one.
type ConfigError struct {
	Field    string
	Value    time.Duration
	Min, Max time.Duration
}

func (e *ConfigError) Error() string {
	if e.Max == 0 {
		return fmt.Sprintf("%s: %v must be positive", e.Field, e.Value)
	}
	return fmt.Sprintf("%s: %d is outside %d-%d seconds", e.Field,
		int64(e.Value/time.Second), int64(e.Min/time.Second), int64(e.Max/time.Second))
}

// Validate reports the first setting outside its range: AWS's ranges for
// the three AWS timeouts, positive values for the rest.
func (c Config) Validate() error {
	ranged := []struct {
		name     string
		v        time.Duration
		min, max time.Duration
	}{
		{"TcpEstablishedTimeout", c.TCPEstablished, MinTCPEstablished, MaxTCPEstablished},
		{"UdpTimeout", c.UDP, MinUDP, MaxUDP},
		{"UdpStreamTimeout", c.UDPStream, MinUDPStream, MaxUDPStream},
	}
	for _, r := range ranged {
		if r.v < r.min || r.v > r.max {
			return &ConfigError{Field: r.name, Value: r.v, Min: r.min, Max: r.max}
		}
	}
	positive := []struct {
		name string
		v    time.Duration
	}{
		{"Other", c.Other}, {"TCPHandshake", c.TCPHandshake}, {"TCPClosing", c.TCPClosing},
		{"TCPClosed", c.TCPClosed}, {"ICMP", c.ICMP},
	}
	for _, p := range positive {
		if p.v <= 0 {
			return &ConfigError{Field: p.name, Value: p.v}
		}
	}
	if c.MaxEntries < 1 || c.MaxEntries > maxEntries {
		return fmt.Errorf("MaxEntries: %d must be from 1 to %d", c.MaxEntries, maxEntries)
	}
	return nil
}

// WithAWSTimeouts returns c with AWS's ConnectionTrackingSpecification
// values applied, in seconds; zero leaves a value as it is. The result is
// validated.
func (c Config) WithAWSTimeouts(tcpEstablished, udp, udpStream int) (Config, error) {
	if tcpEstablished != 0 {
		c.TCPEstablished = time.Duration(tcpEstablished) * time.Second
	}
	if udp != 0 {
		c.UDP = time.Duration(udp) * time.Second
	}
	if udpStream != 0 {
		c.UDPStream = time.Duration(udpStream) * time.Second
	}
	return c, c.Validate()
}
