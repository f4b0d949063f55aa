package egress_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/alliance-project/alliance/internal/egress"
)

func TestCheckIP(t *testing.T) {
	tests := []struct {
		ip       string
		loopback bool // allowed with AllowLoopback
		ok       bool
	}{
		{"93.184.215.14", false, true},
		{"2606:2800:21f:cb07:6820:80da:af6b:8b2c", false, true},
		{"127.0.0.1", true, false},
		{"127.8.9.10", true, false},
		{"::1", true, false},
		{"::ffff:127.0.0.1", true, false},
		{"10.0.0.1", false, false},
		{"172.31.255.255", false, false},
		{"192.168.0.1", false, false},
		{"fc00::1", false, false},
		{"fd00:ec2::254", false, false},
		{"169.254.169.254", false, false},
		{"169.254.1.1", false, false},
		{"fe80::1", false, false},
		{"0.0.0.0", false, false},
		{"::", false, false},
		{"224.0.0.1", false, false},
		{"ff02::1", false, false},
		{"100.64.0.1", false, false},
		{"100.100.100.200", false, false},
		{"198.18.0.1", false, false},
		{"240.0.0.1", false, false},
		{"255.255.255.255", false, false},
		{"64:ff9b::a9fe:a9fe", false, false}, // NAT64 of the metadata address
		{"64:ff9b::5db8:d70e", false, true},  // NAT64 of a public address
		{"2002:a9fe:a9fe::1", false, false},  // 6to4 of the metadata address
		{"2001:db8::1", false, false},
	}
	for _, tt := range tests {
		ip := netip.MustParseAddr(tt.ip)
		if err := (egress.Policy{}).CheckIP(ip); (err == nil) != tt.ok {
			t.Errorf("CheckIP(%s) = %v, want allowed %v", tt.ip, err, tt.ok)
		} else if err != nil && !errors.Is(err, egress.ErrRefused) {
			t.Errorf("CheckIP(%s) = %v, not ErrRefused", tt.ip, err)
		}
		if err := (egress.Policy{AllowLoopback: true}).CheckIP(ip); (err == nil) != (tt.ok || tt.loopback) {
			t.Errorf("CheckIP(%s) with loopback allowed = %v", tt.ip, err)
		}
	}
}

// resolver answers from a table.
type resolver map[string][]netip.Addr

func (r resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if ips, ok := r[host]; ok {
		return ips, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestCheckURL(t *testing.T) {
	r := resolver{
		"hooks.example.org": {netip.MustParseAddr("93.184.215.14")},
		// One public and one private address: a name is as safe as its
		// worst address.
		"mixed.example.org": {netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("10.0.0.7")},
		"dev.example.org":   {netip.MustParseAddr("127.0.0.1")},
	}
	tests := []struct {
		url      string
		ok       bool
		loopback bool
	}{
		{"https://hooks.example.org/alliance", true, true},
		{"https://hooks.example.org:8443/a?b=c", true, true},
		{"https://hooks.example.org:65535/a", true, true},
		{"https://93.184.215.14:99999/", false, false}, // no such port
		{"https://hooks.example.org:0/a", false, false},
		{"https://93.184.215.14/h", true, true},
		{"http://hooks.example.org/alliance", false, false},
		{"https://mixed.example.org/h", false, false},
		{"https://unknown.example.org/h", false, false},
		{"https://user:pw@hooks.example.org/h", false, false},
		{"https://hooks.example.org/h#frag", false, false},
		{"ftp://hooks.example.org/h", false, false},
		{"/relative", false, false},
		{"https://169.254.169.254/latest", false, false},
		{"http://127.0.0.1:8080/h", false, true},
		{"http://localhost:8080/h", false, true},
		{"http://dev.example.org/h", false, true},
		{"http://[::1]:8080/h", false, true},
	}
	for _, tt := range tests {
		err := egress.Policy{}.CheckURL(context.Background(), tt.url, r)
		if (err == nil) != tt.ok {
			t.Errorf("CheckURL(%q) = %v, want allowed %v", tt.url, err, tt.ok)
		}
		err = egress.Policy{AllowLoopback: true}.CheckURL(context.Background(), tt.url, r)
		if (err == nil) != tt.loopback {
			t.Errorf("CheckURL(%q) with loopback allowed = %v, want allowed %v", tt.url, err, tt.loopback)
		}
	}
}

// TestDialerRefusesAtConnect: the dialer's check sees the address being
// connected to, whatever the URL said.
func TestDialerRefusesAtConnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, err = egress.Policy{}.Dialer(0).DialContext(context.Background(), "tcp", ln.Addr().String())
	if !errors.Is(err, egress.ErrRefused) {
		t.Errorf("dialling loopback = %v, want ErrRefused", err)
	}
	c, err := egress.Policy{AllowLoopback: true}.Dialer(0).DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dialling loopback when allowed = %v", err)
	}
	c.Close()
}
