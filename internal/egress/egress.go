// Package egress decides which addresses the service may connect to on
// someone else's behalf (webhook deliveries), so that a registered URL
// cannot make it reach its own network: private, loopback, link-local,
// cloud metadata and other special-purpose addresses are refused, both
// when a URL is registered and at every connection, where the check runs
// on the very IP being dialled (after DNS), so a name that resolves
// elsewhere later (DNS rebinding) cannot pass.
//
// The package is pure policy plus a dialer; it imports nothing of ours.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Policy says what may be reached.
type Policy struct {
	// AllowLoopback lets plain-http URLs on loopback addresses through:
	// for development and tests only (ALLIANCE_WEBHOOK_ALLOW_LOOPBACK).
	AllowLoopback bool
}

// ErrRefused wraps every refusal of an address or URL.
var ErrRefused = errors.New("refused by the egress policy")

// specialPurpose are IPv4 and IPv6 ranges that are not the public
// Internet beyond what netip's predicates name (RFC 6890 and successors).
var specialPurpose = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),          // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),      // shared address space (carrier-grade NAT)
	netip.MustParsePrefix("192.0.0.0/24"),       // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),       // TEST-NET-1
	netip.MustParsePrefix("198.18.0.0/15"),      // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"),    // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),     // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),        // reserved, and broadcast
	netip.MustParsePrefix("100.100.100.200/32"), // Alibaba Cloud metadata
	netip.MustParsePrefix("fd00:ec2::254/128"),  // AWS metadata over IPv6 (also in fc00::/7)
	netip.MustParsePrefix("2001:db8::/32"),      // documentation
	netip.MustParsePrefix("100::/64"),           // discard-only
	netip.MustParsePrefix("2001::/23"),          // IETF protocol assignments (Teredo, ORCHID, …)
}

// embedsIPv4 are IPv6 ranges that carry an IPv4 address, which must pass
// the IPv4 checks itself.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// CheckIP reports why ip may not be connected to, or nil.
func (p Policy) CheckIP(ip netip.Addr) error {
	ip = ip.Unmap()
	if ip.Is6() {
		switch {
		case nat64.Contains(ip):
			b := ip.As16()
			return p.CheckIP(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		case sixToFour.Contains(ip):
			b := ip.As16()
			return p.CheckIP(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
	}
	why := ""
	switch {
	case !ip.IsValid():
		why = "not an IP address"
	case ip.IsLoopback():
		if p.AllowLoopback {
			return nil
		}
		why = "a loopback address (allowed only with ALLIANCE_WEBHOOK_ALLOW_LOOPBACK=true, for development)"
	case ip.IsUnspecified():
		why = "an unspecified address"
	case ip == netip.MustParseAddr("169.254.169.254"):
		why = "the cloud metadata address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		why = "a link-local address"
	case ip.IsPrivate():
		why = "a private address"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		why = "a multicast address"
	default:
		for _, pre := range specialPurpose {
			if pre.Contains(ip) {
				why = "a special-purpose address (" + pre.String() + ")"
				break
			}
		}
	}
	if why == "" {
		return nil
	}
	return fmt.Errorf("%s is %s: %w", ip, why, ErrRefused)
}

// Resolver looks a host name up; net.DefaultResolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// CheckURL checks a webhook URL as it is registered: absolute https (or
// http to a loopback address where the policy allows loopback), no user
// information, a port (if any) that exists, and every address its host
// resolves to allowed. The
// message of an error says what to change.
func (p Policy) CheckURL(ctx context.Context, raw string, r Resolver) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("not an absolute URL: %w", ErrRefused)
	}
	if u.User != nil {
		return fmt.Errorf("a URL with user information is not accepted: %w", ErrRefused)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("a URL with a fragment is not accepted: %w", ErrRefused)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("the port %s is not one (1 to 65535): %w", port, ErrRefused)
		}
	}
	host := u.Hostname()
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		ips = []netip.Addr{ip}
	} else {
		if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
			ips = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
		} else {
			lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if ips, err = r.LookupNetIP(lctx, "ip", host); err != nil || len(ips) == 0 {
				return fmt.Errorf("the host %q does not resolve: %w", host, ErrRefused)
			}
		}
	}
	loopback := true
	for _, ip := range ips {
		if err := p.CheckIP(ip); err != nil {
			return err
		}
		loopback = loopback && ip.Unmap().IsLoopback()
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !(p.AllowLoopback && loopback) {
			return fmt.Errorf("the URL must use https (plain http only to loopback in development): %w", ErrRefused)
		}
	default:
		return fmt.Errorf("the URL must use https, not %q: %w", u.Scheme, ErrRefused)
	}
	return nil
}

// Control is a net.Dialer Control function that refuses, at connect
// time, every address the policy refuses: the check sees the IP the
// socket is about to connect to, whatever a name resolved to before.
func (p Policy) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, ErrRefused)
	}
	return p.CheckIP(ap.Addr())
}

// Dialer returns a dialer that applies the policy to every connection.
func (p Policy) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: p.Control}
}
