package web

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// ParseTrustedProxies parses FISCAL_TRUSTED_PROXIES: comma-separated CIDR
// prefixes or single addresses ("10.0.0.0/8, 127.0.0.1").
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("%q is not an address or a CIDR prefix", f)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or a CIDR prefix", f)
		}
		out = append(out, netip.PrefixFrom(p.Addr().Unmap(), p.Bits()).Masked())
	}
	return out, nil
}

// trusted reports whether a is one of the trusted proxies.
func (s *Server) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP is the address every per-address limit counts: the peer's,
// unless the peer is a trusted proxy (Config.TrustedProxies). Then it is
// the right-most address of X-Forwarded-For that is not a trusted proxy
// (each proxy appends the address it received the request from, so what a
// client wrote itself lies to the left of it and cannot choose the
// address); the left-most one when every hop is trusted; the last trusted
// hop when a trusted proxy forwarded something that is not an address.
func (s *Server) ClientIP(c *fiber.Ctx) string {
	if len(s.cfg.TrustedProxies) == 0 {
		return c.IP()
	}
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok || !s.trusted(peer) {
		return c.IP()
	}
	client := peer.Unmap()
	values := c.Request().Header.PeekAll(fiber.HeaderXForwardedFor)
	for i := len(values) - 1; i >= 0; i-- {
		v := values[i]
		for len(v) > 0 {
			j := bytes.LastIndexByte(v, ',')
			hop := bytes.TrimSpace(v[j+1:])
			if j < 0 {
				v = nil
			} else {
				v = v[:j]
			}
			if len(hop) == 0 {
				continue
			}
			a, ok := parseHop(string(hop))
			if !ok {
				return client.String()
			}
			client = a
			if !s.trusted(a) {
				return a.String()
			}
		}
	}
	return client.String()
}

// parseHop parses one X-Forwarded-For element: an address, optionally with
// a port ("1.2.3.4:5678", "[2001:db8::1]:443").
func parseHop(h string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap(), true
	}
	if host, _, err := net.SplitHostPort(h); err == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}
