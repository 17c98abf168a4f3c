//! `ip -j [-d]` output: the same records as the text parsers, read from
//! iproute2's JSON. Records get the line where their array element starts
//! (1 for the usual one-line output).

use crate::iproute::{
    FdbEntry, FdbFlags, IfAddr, Interface, Neighbor, NudStates, Route, RouteFlags, RouteMore,
    VxlanInfo,
};
use crate::{Diagnostic, Mac, Name, Parsed};
use ipnet::IpNet;
use serde::Deserialize;
use serde_json::Value;
use std::net::IpAddr;

fn elements<T: for<'de> Deserialize<'de>>(
    text: &str,
    what: &str,
) -> (Vec<(u32, T, String)>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            diags.push(Diagnostic::at(
                u32::try_from(e.line()).unwrap_or(1),
                format!("not valid JSON: {e}"),
            ));
            return (Vec::new(), diags);
        }
    };
    let Value::Array(items) = value else {
        diags.push(Diagnostic::whole(format!(
            "expected a JSON array of {what}"
        )));
        return (Vec::new(), diags);
    };
    let lines = crate::kube::array_element_lines(text);
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(1);
        let text = item.to_string();
        match T::deserialize(item) {
            Ok(t) => out.push((line, t, text)),
            Err(e) => diags.push(Diagnostic::at(line, format!("{what} {i}: {e}"))),
        }
    }
    (out, diags)
}

#[derive(Deserialize)]
struct JRoute {
    #[serde(default)]
    r#type: Option<Name>,
    dst: String,
    #[serde(default)]
    gateway: Option<IpAddr>,
    #[serde(default)]
    dev: Option<Name>,
    #[serde(default)]
    protocol: Option<Name>,
    #[serde(default)]
    scope: Option<Name>,
    #[serde(default)]
    prefsrc: Option<IpAddr>,
    #[serde(default)]
    metric: Option<u32>,
    #[serde(default)]
    table: Option<Name>,
    #[serde(default)]
    flags: Vec<Name>,
}

/// Parses `ip -j route show`.
pub fn parse_routes_json(text: &str) -> Parsed<Route> {
    let (items, diagnostics) = elements::<JRoute>(text, "route");
    let mut out = Parsed {
        records: Vec::new(),
        diagnostics,
    };
    for (line, r, raw) in items {
        let dst = if r.dst == "default" {
            Some(IpNet::V4(Default::default()))
        } else if r.dst.contains('/') {
            r.dst.parse().ok()
        } else {
            r.dst.parse::<IpAddr>().ok().map(IpNet::from)
        };
        let Some(dst) = dst else {
            out.problem(
                line,
                format!("route destination '{}' not recognised", r.dst),
            );
            continue;
        };
        let mut flags = RouteFlags::default();
        for f in &r.flags {
            if !flags.insert(f) {
                out.problem(
                    line,
                    format!("route flag '{f}' not recognised; it is left out"),
                );
            }
        }
        let more = RouteMore {
            route_type: r.r#type.filter(|t| t != "unicast"),
            proto: r.protocol,
            scope: r.scope,
            src: r.prefsrc,
            metric: r.metric,
            table: r.table,
            nexthops: Vec::new(),
        };
        out.push(Route {
            line,
            dst,
            gateway: r.gateway,
            dev: r.dev,
            flags,
            spaced: false,
            verbatim: Some(raw.into()),
            extra: (more != RouteMore::default()).then(|| Box::new(more)),
        });
    }
    out
}

#[derive(Deserialize)]
struct JNeigh {
    dst: IpAddr,
    #[serde(default)]
    dev: Option<Name>,
    #[serde(default)]
    lladdr: Option<Mac>,
    #[serde(default)]
    state: Vec<Name>,
    #[serde(default)]
    router: Option<Value>,
}

/// Parses `ip -j neigh show`.
pub fn parse_neighbors_json(text: &str) -> Parsed<Neighbor> {
    let (items, diagnostics) = elements::<JNeigh>(text, "neighbour");
    let mut out = Parsed {
        records: Vec::new(),
        diagnostics,
    };
    for (line, n, raw) in items {
        let mut states = NudStates::default();
        for s in &n.state {
            if !states.insert(s) {
                out.problem(
                    line,
                    format!("neighbour state '{s}' not recognised; it is left out"),
                );
            }
        }
        out.push(Neighbor {
            line,
            ip: n.dst,
            dev: n.dev,
            lladdr: n.lladdr,
            states,
            router: n.router.is_some(),
            verbatim: Some(raw.into()),
            spaced: false,
        });
    }
    out
}

#[derive(Deserialize)]
struct JFdb {
    mac: Mac,
    #[serde(default, rename = "ifname")]
    dev: Option<Name>,
    #[serde(default)]
    dst: Option<IpAddr>,
    #[serde(default)]
    vlan: Option<u16>,
    #[serde(default)]
    master: Option<Name>,
    #[serde(default)]
    flags: Vec<Name>,
    #[serde(default)]
    state: Option<Name>,
}

/// Parses `bridge -j fdb show`.
pub fn parse_fdb_json(text: &str) -> Parsed<FdbEntry> {
    let (items, diagnostics) = elements::<JFdb>(text, "fdb entry");
    let records = items
        .into_iter()
        .map(|(line, f, raw)| {
            let mut flags = FdbFlags::default();
            for x in f
                .flags
                .iter()
                .chain(f.state.iter().filter(|s| !s.is_empty()))
            {
                flags.push(x);
            }
            FdbEntry {
                line,
                mac: f.mac,
                dev: f.dev,
                dst: f.dst,
                vlan: f.vlan,
                master: f.master,
                flags,
                verbatim: Some(raw.into()),
                spaced: false,
            }
        })
        .collect();
    Parsed {
        records,
        diagnostics,
    }
}

#[derive(Deserialize)]
struct JLink {
    ifindex: u32,
    ifname: String,
    #[serde(default)]
    link: Option<String>,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    mtu: Option<u32>,
    #[serde(default)]
    operstate: Option<String>,
    #[serde(default)]
    master: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    linkinfo: Option<JLinkInfo>,
    #[serde(default)]
    addr_info: Vec<JAddr>,
}

#[derive(Deserialize)]
struct JLinkInfo {
    #[serde(default)]
    info_kind: Option<String>,
    #[serde(default)]
    info_data: Option<Value>,
}

#[derive(Deserialize)]
struct JAddr {
    local: IpAddr,
    #[serde(default)]
    prefixlen: Option<u8>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    label: Option<String>,
}

/// Parses `ip -j [-d] addr show` or `ip -j [-d] link show`.
pub fn parse_links_json(text: &str) -> Parsed<Interface> {
    let (items, diagnostics) = elements::<JLink>(text, "interface");
    let mut out = Parsed {
        records: Vec::new(),
        diagnostics,
    };
    for (line, l, raw) in items {
        let kind = l.linkinfo.as_ref().and_then(|i| i.info_kind.clone());
        let vxlan = match (
            &kind,
            l.linkinfo.as_ref().and_then(|i| i.info_data.as_ref()),
        ) {
            (Some(k), Some(d)) if k == "vxlan" => Some(VxlanInfo {
                line,
                id: d
                    .get("id")
                    .and_then(Value::as_u64)
                    .and_then(|v| u32::try_from(v).ok())
                    .unwrap_or(0),
                local: d
                    .get("local")
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse().ok()),
                dev: d.get("link").and_then(Value::as_str).map(str::to_owned),
                dstport: d
                    .get("port")
                    .and_then(Value::as_u64)
                    .and_then(|v| u16::try_from(v).ok()),
                learning: d.get("learning").and_then(Value::as_bool).unwrap_or(true),
            }),
            _ => None,
        };
        let mut addrs = Vec::new();
        for a in &l.addr_info {
            let prefix = a
                .prefixlen
                .unwrap_or(if a.local.is_ipv4() { 32 } else { 128 });
            match IpNet::new(a.local, prefix) {
                Ok(addr) => addrs.push(IfAddr {
                    line,
                    addr,
                    scope: a.scope.clone(),
                    label: a.label.clone(),
                    text: format!("{}/{prefix}", a.local),
                }),
                Err(_) => out.problem(
                    line,
                    format!("{}: prefix length {prefix} is invalid", l.ifname),
                ),
            }
        }
        out.push(Interface {
            line,
            index: l.ifindex,
            name: l.ifname,
            parent: l.link,
            flags: l.flags,
            mtu: l.mtu,
            state: l.operstate,
            master: l.master,
            mac: l.address.map(|m| m.to_ascii_lowercase()),
            kind,
            vxlan,
            addrs,
            text: raw,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_routes_neighbours_links() {
        let r = parse_routes_json(
            r#"[{"dst":"default","gateway":"10.0.0.1","dev":"eth0","flags":[]},{"dst":"10.244.1.0/24","gateway":"10.244.1.0","dev":"flannel.1","flags":["onlink"]}]"#,
        );
        assert!(r.diagnostics.is_empty());
        assert!(r.records[1].onlink());
        let n = parse_neighbors_json(
            r#"[{"dst":"10.244.1.0","dev":"flannel.1","lladdr":"AA:BB:CC:DD:EE:FF","state":["PERMANENT"]}]"#,
        );
        assert!(n.records[0].permanent());
        assert_eq!(
            n.records[0].lladdr.map(|m| m.to_string()).as_deref(),
            Some("aa:bb:cc:dd:ee:ff")
        );
        let l = parse_links_json(
            r#"[{"ifindex":4,"ifname":"flannel.1","flags":["UP"],"mtu":1450,"linkinfo":{"info_kind":"vxlan","info_data":{"id":1,"local":"192.168.1.10","link":"eth0","port":8472,"learning":false}},"addr_info":[{"family":"inet","local":"10.244.0.0","prefixlen":32,"scope":"global","label":"flannel.1"}]}]"#,
        );
        assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
        let v = l.records[0].vxlan.as_ref().unwrap();
        assert_eq!((v.id, v.dstport, v.learning), (1, Some(8472), false));
        assert_eq!(l.records[0].addrs[0].addr.to_string(), "10.244.0.0/32");
    }

    #[test]
    fn pretty_arrays_give_element_lines() {
        assert_eq!(
            crate::kube::array_element_lines("[\n  {\"a\": [1,2]},\n  {\"b\": \"]\"}\n]"),
            vec![2, 3]
        );
        assert!(parse_routes_json("{}").diagnostics.len() == 1);
    }
}
