//! Where a request came from and where links point: forwarding headers
//! (`Forwarded`, `X-Forwarded-*`) are believed only from configured proxies,
//! and a configured public base URL wins over anything a request says.

use std::net::{IpAddr, SocketAddr};

use actix_web::http::header;
use actix_web::HttpRequest;
use ipnet::IpNet;

/// How links and client addresses are derived; app data, one per server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forwarding {
    /// `PUBLIC_BASE_URL` without its trailing slash: every link starts with it.
    pub public_base_url: Option<String>,
    /// `TRUSTED_PROXIES`: peers whose forwarding headers are believed.
    pub trusted_proxies: Vec<IpNetwork>,
    /// The address the server listens on: the host of links for a client
    /// that names none (HTTP/1.0 without `Host`).
    pub listen_address: Option<SocketAddr>,
}

/// An address or a CIDR block (`10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNetwork(IpNet);

impl IpNetwork {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let network = match text.parse::<IpNet>() {
            Ok(network) => network,
            // A bare address is the block of that one address.
            Err(_) => text
                .parse::<IpAddr>()
                .map(IpNet::from)
                .map_err(|_| format!("{text:?} is not an IP address or CIDR block"))?,
        };
        Ok(Self(network))
    }

    /// Whether `ip` is in the block; an IPv4-mapped IPv6 address counts as its IPv4 one.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.0.contains(&ip)
    }
}

impl Forwarding {
    /// `PUBLIC_BASE_URL` (an absolute http(s) URL) and `TRUSTED_PROXIES` (comma-separated).
    pub fn parse(
        public_base_url: Option<&str>,
        trusted_proxies: Option<&str>,
    ) -> Result<Self, String> {
        let public_base_url = public_base_url
            .map(|text| {
                let url = url::Url::parse(text.trim())
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
                    .filter(|u| u.query().is_none() && u.fragment().is_none())
                    .ok_or_else(|| {
                        format!("PUBLIC_BASE_URL must be an absolute http(s) URL such as https://reports.example.com, got {text:?}")
                    })?;
                Ok::<_, String>(url.as_str().trim_end_matches('/').to_owned())
            })
            .transpose()?;
        let trusted_proxies = trusted_proxies
            .map(|list| {
                list.split(',')
                    .filter(|item| !item.trim().is_empty())
                    .map(IpNetwork::parse)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("TRUSTED_PROXIES: {e}"))
            })
            .transpose()?
            .unwrap_or_default();
        Ok(Self {
            public_base_url,
            trusted_proxies,
            listen_address: None,
        })
    }

    /// The same, with the address the server listens on.
    pub fn listening_on(self, address: SocketAddr) -> Self {
        Self {
            listen_address: Some(address),
            ..self
        }
    }

    fn of(request: &HttpRequest) -> Self {
        request.app_data::<Self>().cloned().unwrap_or_default()
    }

    fn trusts(&self, peer: Option<IpAddr>) -> bool {
        peer.is_some_and(|ip| self.trusted_proxies.iter().any(|net| net.contains(ip)))
    }
}

/// `scheme://host[/prefix]` that links in answers to `request` begin with.
pub fn origin(request: &HttpRequest) -> String {
    let forwarding = Forwarding::of(request);
    if let Some(base) = forwarding.public_base_url {
        return base;
    }
    let peer = request.peer_addr().map(|a| a.ip());
    if forwarding.trusts(peer) {
        let info = request.connection_info();
        return format!("{}://{}", info.scheme(), info.host());
    }
    // Plain HTTP is all this server speaks; the host is the one the client asked for.
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty())
        .map(str::to_owned)
        .or_else(|| forwarding.listen_address.map(|a| a.to_string()))
        .unwrap_or_else(|| request.app_config().host().to_owned());
    format!("http://{host}")
}

/// The address a request came from: the peer, or the client a trusted proxy
/// names (the last address in `X-Forwarded-For` that is not itself a trusted proxy).
pub fn client_address(request: &HttpRequest) -> Option<IpAddr> {
    let peer = request.peer_addr().map(|a| a.ip());
    let forwarding = Forwarding::of(request);
    if !forwarding.trusts(peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = request
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !forwarding.trusts(Some(*ip)))
        .or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_match_their_addresses_only() {
        let net = IpNetwork::parse("10.1.0.0/16").unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        let one = IpNetwork::parse("127.0.0.1").unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        assert!(IpNetwork::parse("::/0")
            .unwrap()
            .contains("::1".parse().unwrap()));
        assert!(IpNetwork::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        for bad in ["10.0.0.0/33", "example.com", "10.0.0/8", "::1/129"] {
            assert!(IpNetwork::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_are_checked() {
        let f = Forwarding::parse(
            Some("https://r.example.com/usage/"),
            Some("10.0.0.0/8, ::1"),
        )
        .unwrap();
        assert_eq!(
            f.public_base_url.as_deref(),
            Some("https://r.example.com/usage")
        );
        assert_eq!(f.trusted_proxies.len(), 2);
        assert!(Forwarding::parse(Some("r.example.com"), None).is_err());
        assert!(Forwarding::parse(Some("ftp://r.example.com"), None).is_err());
        assert!(Forwarding::parse(None, Some("10.0.0.0/8,nope")).is_err());
        assert_eq!(
            Forwarding::parse(None, None).unwrap(),
            Forwarding::default()
        );
    }
}
