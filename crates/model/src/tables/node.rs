//! The parsed node inputs as generic tables: one record per route,
//! neighbour, FDB entry, link, address, kernel parameter, module, iptables
//! rule and chain, IPVS virtual server; one per node for resolv.conf, the
//! kubelet config, firewalld and SELinux. No verdicts: a rule decides.
//!
//! A node whose input was not collected adds that input to the table's
//! `missing` list (the rule answers *unknown* for it), never empty records.

use crate::Snapshot;
use crate::derive::{Fact, FactTable, ev, row};
use crate::node::{NodeTables, Sourced};
use ipnet::IpNet;
use kdiag_bundle::{Input, NodeInput};
use kdiag_parse::{Mac, Name};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::LazyLock;

static MAIN: LazyLock<Name> = LazyLock::new(|| Name::from("main"));
static UNICAST: LazyLock<Name> = LazyLock::new(|| Name::from("unicast"));

/// Every node the bundle knows: from Node objects and from node directories.
pub(crate) fn node_names(snap: &Snapshot) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = snap
        .objects_of("Node")
        .map(|n| n.object.name.clone())
        .collect();
    names.extend(snap.nodes.keys().cloned());
    names
}

/// One table over one node input: records for each node that has it, the
/// input's path for each node that does not.
fn per_node<T, R: crate::derive::Record + 'static>(
    snap: &Snapshot,
    only: Option<&str>,
    input: NodeInput,
    get: impl Fn(&NodeTables) -> Option<&Sourced<T>>,
    rows: impl Fn(&str, &Sourced<T>, &mut dyn FnMut(R, u32, &str)),
) -> FactTable {
    let mut table = FactTable::default();
    let names = match only {
        Some(n) => BTreeSet::from([n.to_owned()]),
        None => node_names(snap),
    };
    for node in names {
        let Some(s) = snap.nodes.get(&node).and_then(&get) else {
            table.missing.push(Input::node(&node, input));
            continue;
        };
        rows(&node, s, &mut |rec, line, text| {
            table.records.push(Fact {
                record: row(rec),
                evidence: vec![ev(&s.file, line, text)],
                first_seen: None,
            });
        });
    }
    table
}

fn opt_string(v: Option<impl ToString>) -> Option<String> {
    v.map(|x| x.to_string())
}

/// `node.routes`: one route of `ip route` (all tables collected).
#[derive(Debug, Serialize, JsonSchema)]
pub struct RouteRecord {
    /// Node that printed it.
    pub node: String,
    /// Routing table (`main` when `ip route` printed none).
    pub table: Name,
    /// Route type (`unicast`, `local`, `broadcast`, `blackhole`, ...).
    #[serde(rename = "type")]
    pub route_type: Name,
    /// Destination network, e.g. `10.244.2.0/24` (`0.0.0.0/0` for default).
    #[schemars(with = "String")]
    pub dst: IpNet,
    /// Next hop (`via`), when any.
    #[schemars(with = "Option<String>")]
    pub gateway: Option<IpAddr>,
    /// Output device.
    pub dev: Option<Name>,
    /// `proto` (`kernel`, `boot`, `bird`, ...).
    pub proto: Option<Name>,
    /// `scope` (`link`, `host`, ...).
    pub scope: Option<Name>,
    /// Preferred source address.
    #[schemars(with = "Option<String>")]
    pub src: Option<IpAddr>,
    /// Metric.
    pub metric: Option<u32>,
    /// Carries the `onlink` flag.
    pub onlink: bool,
    /// Flags such as `onlink`, `linkdown`, `dead`.
    pub flags: Vec<Name>,
    /// Multipath next hops as `via@dev`.
    pub nexthops: Vec<String>,
}

pub(crate) fn routes(snap: &Snapshot, only: Option<&str>) -> FactTable {
    per_node(
        snap,
        only,
        NodeInput::Routes,
        |t| t.routes.as_ref(),
        |node, s, push| {
            for r in &s.value {
                let more = r.more();
                push(
                    RouteRecord {
                        node: node.to_owned(),
                        table: more.table.clone().unwrap_or_else(|| MAIN.clone()),
                        route_type: more.route_type.clone().unwrap_or_else(|| UNICAST.clone()),
                        dst: r.dst,
                        gateway: r.gateway,
                        dev: r.dev.clone(),
                        proto: more.proto.clone(),
                        scope: more.scope.clone(),
                        src: more.src,
                        metric: more.metric,
                        onlink: r.onlink(),
                        flags: r.flags.iter().map(Name::from).collect(),
                        nexthops: more
                            .nexthops
                            .iter()
                            .map(|(via, dev)| {
                                format!(
                                    "{}@{}",
                                    opt_string(*via).unwrap_or_default(),
                                    dev.as_deref().unwrap_or_default()
                                )
                            })
                            .collect(),
                    },
                    r.line,
                    &r.text(),
                );
            }
        },
    )
}

/// `node.neighbors`: one entry of `ip neigh`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NeighborRecord {
    /// Node that printed it.
    pub node: String,
    /// Neighbour address.
    #[schemars(with = "String")]
    pub ip: IpAddr,
    /// Device.
    pub dev: Option<Name>,
    /// Link-layer address (MAC), lower case.
    pub lladdr: Option<Mac>,
    /// States (`PERMANENT`, `REACHABLE`, `STALE`, `FAILED`, ...).
    pub states: Vec<Name>,
    /// `router` flag.
    pub router: bool,
}

pub(crate) fn neighbors(snap: &Snapshot, only: Option<&str>) -> FactTable {
    per_node(
        snap,
        only,
        NodeInput::Neighbors,
        |t| t.neighbors.as_ref(),
        |node, s, push| {
            for n in &s.value {
                push(
                    NeighborRecord {
                        node: node.to_owned(),
                        ip: n.ip,
                        dev: n.dev.clone(),
                        lladdr: n.lladdr,
                        states: n.states.iter().map(Name::from).collect(),
                        router: n.router,
                    },
                    n.line,
                    &n.text(),
                );
            }
        },
    )
}

/// `node.fdb`: one entry of `bridge fdb`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FdbRecord {
    /// Node that printed it.
    pub node: String,
    /// MAC address, lower case.
    pub mac: Mac,
    /// Device.
    pub dev: Option<Name>,
    /// Remote (VXLAN) destination.
    #[schemars(with = "Option<String>")]
    pub dst: Option<IpAddr>,
    /// VLAN.
    pub vlan: Option<u16>,
    /// Bridge master.
    pub master: Option<Name>,
    /// Flags (`self`, `permanent`, `extern_learn`, ...).
    pub flags: Vec<Name>,
}

pub(crate) fn fdb(snap: &Snapshot, only: Option<&str>) -> FactTable {
    per_node(
        snap,
        only,
        NodeInput::Fdb,
        |t| t.fdb.as_ref(),
        |node, s, push| {
            for f in &s.value {
                push(
                    FdbRecord {
                        node: node.to_owned(),
                        mac: f.mac,
                        dev: f.dev.clone(),
                        dst: f.dst,
                        vlan: f.vlan,
                        master: f.master.clone(),
                        flags: f.flags.iter().map(Name::from).collect(),
                    },
                    f.line,
                    &f.text(),
                );
            }
        },
    )
}

/// `node.links`: one interface of `ip -d link`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LinkRecord {
    /// Node that printed it.
    pub node: String,
    /// Interface name.
    pub name: String,
    /// Interface index.
    pub index: u32,
    /// Kind from `-d` (`vxlan`, `bridge`, `veth`, ...).
    pub kind: Option<String>,
    /// Parent after `@`.
    pub parent: Option<String>,
    /// MTU.
    pub mtu: Option<u32>,
    /// Operational state (`UP`, `DOWN`, `UNKNOWN`).
    pub state: Option<String>,
    /// Bridge master.
    pub master: Option<String>,
    /// MAC address, lower case.
    pub mac: Option<String>,
    /// Flags between `<` and `>` (`UP`, `LOWER_UP`, ...).
    pub flags: Vec<String>,
    /// VXLAN id, for a VXLAN device.
    pub vxlan_id: Option<u32>,
    /// VXLAN local (underlay) address.
    pub vxlan_local: Option<String>,
    /// VXLAN underlay device.
    pub vxlan_dev: Option<String>,
    /// VXLAN UDP port.
    pub vxlan_port: Option<u16>,
}

pub(crate) fn links(snap: &Snapshot, only: Option<&str>) -> FactTable {
    per_node(
        snap,
        only,
        NodeInput::Links,
        // `ip addr` prints the link details too, where `ip -d link` is absent.
        |t| t.links.as_ref().or(t.addrs.as_ref()),
        |node, s, push| {
            for i in &s.value {
                push(
                    LinkRecord {
                        node: node.to_owned(),
                        name: i.name.clone(),
                        index: i.index,
                        kind: i.kind.clone(),
                        parent: i.parent.clone(),
                        mtu: i.mtu,
                        state: i.state.clone(),
                        master: i.master.clone(),
                        mac: i.mac.as_ref().map(|m| m.to_lowercase()),
                        flags: i.flags.clone(),
                        vxlan_id: i.vxlan.as_ref().map(|v| v.id),
                        vxlan_local: i.vxlan.as_ref().and_then(|v| opt_string(v.local)),
                        vxlan_dev: i.vxlan.as_ref().and_then(|v| v.dev.clone()),
                        vxlan_port: i.vxlan.as_ref().and_then(|v| v.dstport),
                    },
                    i.line,
                    &i.text,
                );
            }
        },
    )
}

/// `node.addresses`: one address of `ip addr`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AddressRecord {
    /// Node that printed it.
    pub node: String,
    /// Interface.
    pub dev: String,
    /// Address with its prefix, e.g. `10.244.1.1/24`.
    pub addr: String,
    /// The address alone.
    pub ip: String,
    /// The network it is in, e.g. `10.244.1.0/24`.
    pub network: String,
    /// `4` or `6`.
    pub family: u8,
    /// `scope` (`global`, `link`, `host`).
    pub scope: Option<String>,
}

pub(crate) fn addresses(snap: &Snapshot, only: Option<&str>) -> FactTable {
    per_node(
        snap,
        only,
        NodeInput::Addresses,
        |t| t.addrs.as_ref(),
        |node, s, push| {
            for i in &s.value {
                for a in &i.addrs {
                    push(
                        AddressRecord {
                            node: node.to_owned(),
                            dev: i.name.clone(),
                            addr: a.addr.to_string(),
                            ip: a.addr.addr().to_string(),
                            network: a.addr.trunc().to_string(),
                            family: if a.addr.addr().is_ipv4() { 4 } else { 6 },
                            scope: a.scope.clone(),
                        },
                        a.line,
                        &a.text,
                    );
                }
            }
        },
    )
}

/// `node.sysctl`: one kernel parameter of `sysctl -a` (every key).
#[derive(Debug, Serialize, JsonSchema)]
pub struct SysctlRecord {
    /// Node that printed it.
    pub node: String,
    /// Dotted key, as `sysctl` prints it (`net.ipv4.conf.flannel/1.rp_filter`).
    pub key: String,
    /// Value as printed (a string: `"0"`, `"1"`, `"4096 87380 6291456"`).
    pub value: String,
}

pub(crate) fn sysctl(snap: &Snapshot, only: Option<&str>) -> FactTable {
    per_node(
        snap,
        only,
        NodeInput::Sysctl,
        |t| t.sysctl.as_ref(),
        |node, s, push| {
            for r in &s.value {
                push(
                    SysctlRecord {
                        node: node.to_owned(),
                        key: r.key.clone(),
                        value: r.value.clone(),
                    },
                    r.line,
                    &r.text,
                );
            }
        },
    )
}

/// `node.modules`: one loaded kernel module of `lsmod`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ModuleRecord {
    /// Node that printed it.
    pub node: String,
    /// Module name (`br_netfilter`, `ip_vs`, `vxlan`, ...).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Use count.
    pub refs: i64,
    /// Modules that use it.
    pub used_by: Vec<String>,
}

pub(crate) fn modules(snap: &Snapshot, only: Option<&str>) -> FactTable {
    per_node(
        snap,
        only,
        NodeInput::Modules,
        |t| t.modules.as_ref(),
        |node, s, push| {
            for m in &s.value {
                push(
                    ModuleRecord {
                        node: node.to_owned(),
                        name: m.name.clone(),
                        size: m.size,
                        refs: m.refs,
                        used_by: m.used_by.clone(),
                    },
                    m.line,
                    &m.text,
                );
            }
        },
    )
}

/// One match or target option of an iptables rule, as written.
#[derive(Debug, Serialize, JsonSchema)]
pub struct IptablesOption {
    /// Option name as written (`-s`, `--dport`, `-m`, `--to-destination`).
    pub name: Name,
    /// Its arguments.
    pub values: Vec<Name>,
    /// Preceded by `!`.
    pub negated: bool,
}

/// `node.iptables`: one rule of `iptables-save`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct IptablesRecord {
    /// Node that printed it.
    pub node: String,
    /// Table (`filter`, `nat`, `mangle`, `raw`); empty when the output had no `*table` line.
    pub table: Name,
    /// Chain the rule is in.
    pub chain: Name,
    /// 1-based position of the rule in its chain.
    pub position: u32,
    /// `-p` (`tcp`, `udp`, ...).
    pub protocol: Option<Name>,
    /// `-s`.
    pub source: Option<Name>,
    /// `-d`.
    pub destination: Option<Name>,
    /// `-i`.
    pub in_interface: Option<Name>,
    /// `-o`.
    pub out_interface: Option<Name>,
    /// `--sport`, when a single port.
    pub sport: Option<u32>,
    /// `--dport`, when a single port.
    pub dport: Option<u32>,
    /// `--dports` / `--dport` values as written (ranges `a:b` and lists kept).
    pub dports: Vec<String>,
    /// Names of the fields above whose match is negated with `!` (e.g. `source`).
    pub negated: Vec<String>,
    /// Match modules loaded with `-m` (`comment`, `conntrack`, `statistic`, ...).
    pub modules: Vec<Name>,
    /// `--comment` text.
    pub comment: Option<Name>,
    /// Target (`ACCEPT`, `DROP`, `REJECT`, `DNAT`, a chain name).
    pub target: Option<Name>,
    /// `-g` (goto) rather than `-j`.
    pub goto: bool,
    /// `--to-destination` of a DNAT.
    pub to_destination: Option<Name>,
    /// Every option in order, for anything the fields above do not name.
    pub options: Vec<IptablesOption>,
}

/// Field name of the common iptables options.
fn iptables_field(option: &str) -> Option<&'static str> {
    Some(match option {
        "-p" | "--protocol" => "protocol",
        "-s" | "--source" | "--src" => "source",
        "-d" | "--destination" | "--dst" => "destination",
        "-i" | "--in-interface" => "in_interface",
        "-o" | "--out-interface" => "out_interface",
        "--sport" | "--source-port" => "sport",
        "--dport" | "--destination-port" | "--dports" => "dport",
        _ => return None,
    })
}

pub(crate) fn iptables(snap: &Snapshot, only: Option<&str>) -> FactTable {
    iptables_in(snap, only, None)
}

/// The rules of one iptables table (`filter`, `nat`, ...) on one node: what
/// `iptablesRules(NODE, TABLE)` gives a rule, without the thousands of
/// kube-proxy rules of the other tables.
pub fn iptables_of(snap: &Snapshot, node: &str, table: &str) -> FactTable {
    iptables_in(snap, Some(node), Some(table))
}

/// The chains of one iptables table on one node (`iptablesChains(NODE, TABLE)`).
pub fn iptables_chains_of(snap: &Snapshot, node: &str, table: &str) -> FactTable {
    iptables_chains_in(snap, Some(node), Some(table))
}

fn iptables_in(snap: &Snapshot, only: Option<&str>, only_table: Option<&str>) -> FactTable {
    per_node(
        snap,
        only,
        NodeInput::Iptables,
        |t| t.iptables.as_ref(),
        |node, s, push| {
            let mut positions: std::collections::HashMap<(Option<&str>, &str), u32> =
                std::collections::HashMap::new();
            for r in &s.value.rules {
                let pos = positions
                    .entry((r.table.as_deref(), r.chain.as_str()))
                    .or_insert(0);
                *pos += 1;
                if only_table.is_some_and(|t| r.table.as_deref() != Some(t)) {
                    continue;
                }
                let mut rec = IptablesRecord {
                    node: node.to_owned(),
                    table: r.table.clone().unwrap_or_default(),
                    chain: r.chain.clone(),
                    position: *pos,
                    protocol: None,
                    source: None,
                    destination: None,
                    in_interface: None,
                    out_interface: None,
                    sport: None,
                    dport: None,
                    dports: Vec::new(),
                    negated: Vec::new(),
                    modules: Vec::new(),
                    comment: r.comment.clone(),
                    target: r.target.clone(),
                    goto: r
                        .options
                        .iter()
                        .any(|o| o.name == "-g" || o.name == "--goto"),
                    to_destination: r
                        .options
                        .iter()
                        .find(|o| o.name == "--to-destination")
                        .and_then(|o| o.values.first().cloned()),
                    options: r
                        .options
                        .iter()
                        .map(|o| IptablesOption {
                            name: o.name.clone(),
                            values: o.values.clone(),
                            negated: o.negated,
                        })
                        .collect(),
                };
                for o in &r.options {
                    if o.name == "-m" || o.name == "--match" {
                        rec.modules.extend(o.values.iter().cloned());
                        continue;
                    }
                    let Some(field) = iptables_field(&o.name) else {
                        continue;
                    };
                    let value = o.values.first().cloned();
                    if o.negated && !rec.negated.iter().any(|n| n == field) {
                        rec.negated.push(field.to_owned());
                    }
                    match field {
                        "protocol" => {
                            rec.protocol = value.map(|v| {
                                if v.bytes().any(|b| b.is_ascii_uppercase()) {
                                    Name::from(v.to_lowercase())
                                } else {
                                    v
                                }
                            })
                        }
                        "source" => rec.source = value,
                        "destination" => rec.destination = value,
                        "in_interface" => rec.in_interface = value,
                        "out_interface" => rec.out_interface = value,
                        "sport" => rec.sport = value.and_then(|v| v.parse().ok()),
                        _ => {
                            rec.dports.extend(
                                o.values
                                    .iter()
                                    .flat_map(|v| v.split(','))
                                    .map(str::to_owned),
                            );
                            if rec.dports.len() == 1 {
                                rec.dport = rec.dports[0].parse().ok();
                            } else {
                                rec.dport = None;
                            }
                        }
                    }
                }
                push(rec, r.line, &r.text);
            }
        },
    )
}

/// `node.iptables-chains`: one chain declaration of `iptables-save`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct IptablesChainRecord {
    /// Node that printed it.
    pub node: String,
    /// Table.
    pub table: Name,
    /// Chain name.
    pub chain: Name,
    /// Policy of a built-in chain (`ACCEPT`, `DROP`); null for a user chain.
    pub policy: Option<Name>,
    /// How many rules the chain has.
    pub rules: u32,
}

pub(crate) fn iptables_chains(snap: &Snapshot, only: Option<&str>) -> FactTable {
    iptables_chains_in(snap, only, None)
}

fn iptables_chains_in(snap: &Snapshot, only: Option<&str>, only_table: Option<&str>) -> FactTable {
    per_node(
        snap,
        only,
        NodeInput::Iptables,
        |t| t.iptables.as_ref(),
        |node, s, push| {
            let mut counts: std::collections::HashMap<(Option<&str>, &str), usize> =
                std::collections::HashMap::new();
            for r in &s.value.rules {
                *counts
                    .entry((r.table.as_deref(), r.chain.as_str()))
                    .or_default() += 1;
            }
            for c in s
                .value
                .chains
                .iter()
                .filter(|c| only_table.is_none_or(|t| c.table.as_deref() == Some(t)))
            {
                let rules = counts
                    .get(&(c.table.as_deref(), c.name.as_str()))
                    .copied()
                    .unwrap_or(0);
                push(
                    IptablesChainRecord {
                        node: node.to_owned(),
                        table: c.table.clone().unwrap_or_default(),
                        chain: c.name.clone(),
                        policy: c.policy.clone(),
                        rules: u32::try_from(rules).unwrap_or(u32::MAX),
                    },
                    c.line,
                    &c.text,
                );
            }
        },
    )
}

/// One real server of an IPVS virtual server.
#[derive(Debug, Serialize, JsonSchema)]
pub struct IpvsReal {
    /// `ip:port`.
    pub address: String,
    /// Forwarding method (`Masq`, `Route`, `Tunnel`).
    pub forward: String,
    /// Weight.
    pub weight: i64,
    /// Active connections.
    pub active: u64,
    /// Inactive connections.
    pub inactive: u64,
}

/// `node.ipvs`: one virtual server of `ipvsadm -Ln`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct IpvsRecord {
    /// Node that printed it.
    pub node: String,
    /// `TCP`, `UDP`, `SCTP`, lower case.
    pub protocol: String,
    /// `ip:port` as printed.
    pub address: String,
    /// The address alone.
    pub ip: String,
    /// The port, when printed.
    pub port: Option<u32>,
    /// Scheduler (`rr`, `wrr`, ...).
    pub scheduler: String,
    /// Flags (`persistent 10800`, ...).
    pub flags: Vec<String>,
    /// Real servers.
    pub reals: Vec<IpvsReal>,
}

fn split_host_port(addr: &str) -> (String, Option<u32>) {
    let (host, port) = match addr.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => {
            (h, p.parse().ok())
        }
        _ => (addr, None),
    };
    (host.trim_matches(['[', ']']).to_owned(), port)
}

pub(crate) fn ipvs(snap: &Snapshot, only: Option<&str>) -> FactTable {
    per_node(
        snap,
        only,
        NodeInput::Ipvs,
        |t| t.ipvs.as_ref(),
        |node, s, push| {
            for v in &s.value {
                let (ip, port) = split_host_port(&v.addr);
                push(
                    IpvsRecord {
                        node: node.to_owned(),
                        protocol: v.proto.to_lowercase(),
                        address: v.addr.clone(),
                        ip,
                        port,
                        scheduler: v.scheduler.clone(),
                        flags: v.flags.clone(),
                        reals: v
                            .reals
                            .iter()
                            .map(|r| IpvsReal {
                                address: r.addr.clone(),
                                forward: r.forward.clone(),
                                weight: r.weight,
                                active: r.active,
                                inactive: r.inactive,
                            })
                            .collect(),
                    },
                    v.line,
                    &v.text,
                );
            }
        },
    )
}

/// `node.resolv-conf`: the node's own `/etc/resolv.conf`, one record per node.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ResolvRecord {
    /// Node.
    pub node: String,
    /// `nameserver` addresses in order.
    pub nameservers: Vec<String>,
    /// `search` domains.
    pub search: Vec<String>,
    /// `options` (`ndots:5`, ...).
    pub options: Vec<String>,
}

/// The nameservers, search domains and options of a resolv.conf, and the
/// line to cite (the first nameserver, else the first line).
pub(crate) fn resolv_fields(
    entries: &[kdiag_parse::resolv::ResolvEntry],
) -> (Vec<String>, Vec<String>, Vec<String>, u32) {
    use kdiag_parse::resolv::ResolvEntry;
    let (mut ns, mut search, mut options, mut line) = (Vec::new(), Vec::new(), Vec::new(), 0);
    for e in entries {
        match e {
            ResolvEntry::Nameserver { line: l, ip } => {
                if line == 0 {
                    line = *l;
                }
                ns.push(ip.to_string());
            }
            ResolvEntry::Search { domains, .. } => search = domains.clone(),
            ResolvEntry::Options { options: o, .. } => options.extend(o.iter().cloned()),
        }
    }
    (ns, search, options, line.max(1))
}

pub(crate) fn resolv_conf(snap: &Snapshot, only: Option<&str>) -> FactTable {
    per_node(
        snap,
        only,
        NodeInput::ResolvConf,
        |t| t.resolv_conf.as_ref(),
        |node, s, push| {
            let (nameservers, search, options, line) = resolv_fields(&s.value);
            let text = format!(
                "nameserver {}",
                nameservers.first().map_or("", String::as_str)
            );
            push(
                ResolvRecord {
                    node: node.to_owned(),
                    nameservers,
                    search,
                    options,
                },
                line,
                &text,
            );
        },
    )
}

/// `node.kubelet-config`: the kubelet's configuration, one record per node.
#[derive(Debug, Serialize, JsonSchema)]
pub struct KubeletRecord {
    /// Node.
    pub node: String,
    /// `clusterDNS` addresses.
    pub cluster_dns: Vec<String>,
    /// `clusterDomain`.
    pub cluster_domain: Option<String>,
    /// `resolvConf` path.
    pub resolv_conf: Option<String>,
    /// `cgroupDriver`.
    pub cgroup_driver: Option<String>,
    /// `podCIDR`.
    pub pod_cidr: Option<String>,
}

pub(crate) fn kubelet_config(snap: &Snapshot, only: Option<&str>) -> FactTable {
    per_node(
        snap,
        only,
        NodeInput::KubeletConfig,
        |t| t.kubelet.as_ref(),
        |node, s, push| {
            let k = &s.value;
            let line = k
                .cluster_dns
                .first()
                .map(|(l, _)| *l)
                .or(k.cluster_domain.as_ref().map(|(l, _)| *l))
                .unwrap_or(1);
            // The line as the file has it (the first clusterDNS entry).
            let text = match k.cluster_dns.first() {
                Some((_, v)) => format!("- {v}"),
                None => "clusterDNS: (not set)".to_owned(),
            };
            push(
                KubeletRecord {
                    node: node.to_owned(),
                    cluster_dns: k.cluster_dns.iter().map(|(_, v)| v.clone()).collect(),
                    cluster_domain: k.cluster_domain.as_ref().map(|(_, v)| v.clone()),
                    resolv_conf: k.resolv_conf.clone(),
                    cgroup_driver: k.cgroup_driver.clone(),
                    pod_cidr: k.pod_cidr.clone(),
                },
                line,
                &text,
            );
        },
    )
}

/// `node.firewalld`: firewalld's state on the node.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FirewalldRecord {
    /// Node.
    pub node: String,
    /// `active`, `inactive`, `unknown`, ... as `systemctl is-active` prints it.
    pub state: String,
    /// Open ports of the zone, when listed (`8472/udp`).
    pub ports: Vec<String>,
    /// Services of the zone.
    pub services: Vec<String>,
    /// Masquerading, when listed.
    pub masquerade: Option<bool>,
}

pub(crate) fn firewalld(snap: &Snapshot, only: Option<&str>) -> FactTable {
    per_node(
        snap,
        only,
        NodeInput::Firewalld,
        |t| t.firewalld.as_ref(),
        |node, s, push| {
            let f = &s.value;
            push(
                FirewalldRecord {
                    node: node.to_owned(),
                    state: f.state.clone(),
                    ports: f.ports.clone(),
                    services: f.services.clone(),
                    masquerade: f.masquerade,
                },
                f.line,
                &f.state,
            );
        },
    )
}

/// `node.selinux`: the SELinux mode of the node.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SelinuxRecord {
    /// Node.
    pub node: String,
    /// `Enforcing`, `Permissive` or `Disabled`.
    pub mode: String,
}

pub(crate) fn selinux(snap: &Snapshot, only: Option<&str>) -> FactTable {
    per_node(
        snap,
        only,
        NodeInput::Selinux,
        |t| t.selinux.as_ref(),
        |node, s, push| {
            push(
                SelinuxRecord {
                    node: node.to_owned(),
                    mode: s.value.mode.clone(),
                },
                s.value.line,
                &s.value.mode,
            );
        },
    )
}

/// `nodes`: one record per node the bundle knows (from Node objects or node
/// directories), with the inputs collected for it. Rules over a node's
/// tables start here and reach them with `node(r.node)`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NodeRecord {
    /// Node name.
    pub node: String,
    /// Whether a Node object names it.
    pub has_object: bool,
    /// Node tables collected for it (`node.routes`, `node.sysctl`, ...).
    pub collected: Vec<String>,
    /// `InternalIP` addresses from the Node object.
    pub internal_ips: Vec<String>,
    /// `spec.podCIDRs` (or `podCIDR`) from the Node object.
    pub pod_cidrs: Vec<String>,
    /// The Node's Ready condition; null when it has none.
    pub ready: Option<bool>,
    /// Pods of the bundle scheduled on it (with an IP).
    pub pods: usize,
    /// flannel's backend annotation (`vxlan`, `host-gw`); null when flannel
    /// never annotated the node.
    pub flannel_backend: Option<String>,
    /// flannel's `public-ip` annotation; null when absent.
    pub flannel_public_ip: Option<String>,
    /// Whether the node's `/run/flannel/subnet.env` was collected.
    pub flannel_subnet_env: bool,
    /// Nodes of the cluster that flannel annotated (its registered nodes).
    pub flannel_nodes: usize,
}

/// `networks`: what one component believes a network is — a setting such as
/// the controller-manager's `--cluster-cidr`, flannel's `net-conf.json`
/// `Network`, kube-proxy's `clusterCIDR`, kubeadm's `podSubnet` or
/// `serviceSubnet`, the API server's `--service-cluster-ip-range`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NetworkBeliefRecord {
    /// The component (`kube-controller-manager`, `kube-proxy`, `flannel`, `kubeadm`, `kube-apiserver`, ...).
    pub component: String,
    /// The setting, e.g. `--cluster-cidr`, `clusterCIDR`, `net-conf.json Network`.
    pub setting: String,
    /// `pod-network` or `service-network`.
    pub kind: String,
    /// The value as written.
    pub value: String,
    /// The value as a CIDR, or null when it is not one.
    pub cidr: Option<String>,
}

pub(crate) fn networks(snap: &Snapshot) -> FactTable {
    let inv = crate::inventory::NetworkInventory::cached(snap);
    let mut table = FactTable::default();
    for b in &inv.beliefs {
        table.records.push(Fact {
            record: row(NetworkBeliefRecord {
                component: b.component.clone(),
                setting: b.setting.clone(),
                kind: match b.kind {
                    crate::inventory::NetworkKind::PodNetwork => "pod-network".into(),
                    crate::inventory::NetworkKind::ServiceNetwork => "service-network".into(),
                },
                value: b.value.clone(),
                cidr: b.cidr.map(|c| c.to_string()),
            }),
            evidence: vec![b.evidence.clone()],
            first_seen: None,
        });
    }
    table
}

/// Node input table names and the input that backs each.
pub const NODE_INPUTS: &[(&str, NodeInput)] = &[
    ("node.routes", NodeInput::Routes),
    ("node.neighbors", NodeInput::Neighbors),
    ("node.fdb", NodeInput::Fdb),
    ("node.links", NodeInput::Links),
    ("node.addresses", NodeInput::Addresses),
    ("node.sysctl", NodeInput::Sysctl),
    ("node.modules", NodeInput::Modules),
    ("node.iptables", NodeInput::Iptables),
    ("node.iptables-chains", NodeInput::Iptables),
    ("node.ipvs", NodeInput::Ipvs),
    ("node.resolv-conf", NodeInput::ResolvConf),
    ("node.kubelet-config", NodeInput::KubeletConfig),
    ("node.firewalld", NodeInput::Firewalld),
    ("node.selinux", NodeInput::Selinux),
];

/// Whether a node has one input (a name of [`NODE_INPUTS`]).
pub fn collected(t: &NodeTables, input: &str) -> bool {
    match input {
        "node.routes" => t.routes.is_some(),
        "node.neighbors" => t.neighbors.is_some(),
        "node.fdb" => t.fdb.is_some(),
        "node.links" => t.links.is_some() || t.addrs.is_some(),
        "node.addresses" => t.addrs.is_some(),
        "node.sysctl" => t.sysctl.is_some(),
        "node.modules" => t.modules.is_some(),
        "node.iptables" | "node.iptables-chains" => t.iptables.is_some(),
        "node.ipvs" => t.ipvs.is_some(),
        "node.resolv-conf" => t.resolv_conf.is_some(),
        "node.kubelet-config" => t.kubelet.is_some(),
        "node.firewalld" => t.firewalld.is_some(),
        "node.selinux" => t.selinux.is_some(),
        _ => false,
    }
}

/// A node table name (`node.sysctl`) as the input it needs on one node.
pub fn input_of(node: &str, table: &str) -> Option<Input> {
    NODE_INPUTS
        .iter()
        .find(|(name, _)| *name == table)
        .map(|(_, input)| Input::node(node, *input))
}

pub(crate) fn nodes(snap: &Snapshot) -> FactTable {
    let mut table = FactTable::default();
    let inv = crate::inventory::NetworkInventory::cached(snap);
    let mut pods_on: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for p in &inv.pod_ips {
        if let Some(n) = p.node.as_deref() {
            *pods_on.entry(n).or_default() += 1;
        }
    }
    let flannel_nodes = inv
        .nodes
        .iter()
        .filter(|n| n.flannel_backend.is_some())
        .count();
    for node in node_names(snap) {
        let net = inv.nodes.iter().find(|n| n.name == node);
        let object = snap.object("Node", "", &node);
        let tables = snap.nodes.get(&node);
        let collected: Vec<String> = NODE_INPUTS
            .iter()
            .filter(|(name, _)| tables.is_some_and(|t| self::collected(t, name)))
            .map(|(name, _)| (*name).to_owned())
            .collect();
        let evidence = match object {
            Some(o) => ev(&o.file, o.object.line, format!("Node {node}")),
            // No Node object: cite the first file read for that node.
            None => {
                let file = snap
                    .files
                    .iter()
                    .find(|f| matches!(&f.role, kdiag_bundle::FileRole::Node { node: n, .. } if *n == node))
                    .map(|f| f.path.clone())
                    .unwrap_or_default();
                ev(&file, 1, format!("files of node {node} (no Node object)"))
            }
        };
        table.records.push(Fact {
            record: row(NodeRecord {
                node: node.clone(),
                has_object: object.is_some(),
                collected,
                internal_ips: net
                    .map(|n| n.internal_ips.iter().map(ToString::to_string).collect())
                    .unwrap_or_default(),
                pod_cidrs: net
                    .map(|n| n.pod_cidrs.iter().map(ToString::to_string).collect())
                    .unwrap_or_default(),
                ready: net.and_then(|n| n.ready),
                pods: pods_on.get(node.as_str()).copied().unwrap_or(0),
                flannel_backend: net.and_then(|n| n.flannel_backend.clone()),
                flannel_public_ip: net.and_then(|n| n.flannel_public_ip.map(|i| i.to_string())),
                flannel_subnet_env: snap
                    .nodes
                    .get(node.as_str())
                    .is_some_and(|t| t.flannel_subnet.is_some()),
                flannel_nodes,
            }),
            evidence: vec![evidence],
            first_seen: None,
        });
    }
    table
}

/// `probes.resolv-conf`: the `/etc/resolv.conf` a probe pod saw on a node.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProbeResolvRecord {
    /// Node the probe pod ran on.
    pub node: String,
    /// `nameserver` addresses in order.
    pub nameservers: Vec<String>,
    /// `search` domains.
    pub search: Vec<String>,
    /// `options` (`ndots:5`, ...).
    pub options: Vec<String>,
}

pub(crate) fn probe_resolv_conf(snap: &Snapshot) -> FactTable {
    let mut table = FactTable::default();
    for (node, r) in &snap.probe_resolv {
        let (nameservers, search, options, line) = resolv_fields(&r.value);
        let text = format!(
            "nameserver {}",
            nameservers.first().map_or("", String::as_str)
        );
        table.records.push(Fact {
            record: row(ProbeResolvRecord {
                node: node.clone(),
                nameservers,
                search,
                options,
            }),
            evidence: vec![ev(&r.file, line, text)],
            first_seen: None,
        });
    }
    if snap.probe_resolv.is_empty() {
        table.missing.push(Input::ProbeResolvConf);
    }
    table
}
