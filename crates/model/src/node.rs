//! The host state of one node, as the node printed it. Every table is an
//! `Option`: `None` means the file was not in the bundle (unknown), never
//! "empty".

use kdiag_parse::cni::CniConfig;
use kdiag_parse::firewall::{FirewalldStatus, SelinuxMode};
use kdiag_parse::flannel::SubnetEnv;
use kdiag_parse::iproute::{FdbEntry, Interface, Neighbor, Route};
use kdiag_parse::iptables::IptablesSave;
use kdiag_parse::ipvs::VirtualService;
use kdiag_parse::kubelet::KubeletConfig;
use kdiag_parse::lsmod::Module;
use kdiag_parse::resolv::ResolvEntry;
use kdiag_parse::sysctl::Sysctl;
use serde::Serialize;

/// A value and the bundle file it was read from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sourced<T> {
    /// Bundle path.
    pub file: String,
    /// The parsed content.
    pub value: T,
}

/// Every network table of one node.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NodeTables {
    /// `ip route`
    pub routes: Option<Sourced<Vec<Route>>>,
    /// `ip neigh`
    pub neighbors: Option<Sourced<Vec<Neighbor>>>,
    /// `bridge fdb`
    pub fdb: Option<Sourced<Vec<FdbEntry>>>,
    /// `ip addr` (interfaces with addresses)
    pub addrs: Option<Sourced<Vec<Interface>>>,
    /// `ip -d link` (interfaces with link details)
    pub links: Option<Sourced<Vec<Interface>>>,
    /// `iptables-save`
    pub iptables: Option<Sourced<IptablesSave>>,
    /// `ipvsadm -Ln`
    pub ipvs: Option<Sourced<Vec<VirtualService>>>,
    /// `sysctl -a`
    pub sysctl: Option<Sourced<Vec<Sysctl>>>,
    /// `lsmod`
    pub modules: Option<Sourced<Vec<Module>>>,
    /// the host's `resolv.conf`
    pub resolv_conf: Option<Sourced<Vec<ResolvEntry>>>,
    /// kubelet config
    pub kubelet: Option<Sourced<KubeletConfig>>,
    /// `/etc/cni/net.d/*`
    pub cni: Vec<Sourced<CniConfig>>,
    /// `/run/flannel/subnet.env`
    pub flannel_subnet: Option<Sourced<SubnetEnv>>,
    /// firewalld state
    pub firewalld: Option<Sourced<FirewalldStatus>>,
    /// SELinux mode
    pub selinux: Option<Sourced<SelinuxMode>>,
}

impl NodeTables {
    /// A sysctl value by its dotted key.
    pub fn sysctl(&self, key: &str) -> Option<(&str, &Sysctl)> {
        let s = self.sysctl.as_ref()?;
        s.value
            .iter()
            .find(|r| r.key == key)
            .map(|r| (s.file.as_str(), r))
    }

    /// An interface by name, from `ip -d link` or else `ip addr`.
    pub fn interface(&self, name: &str) -> Option<&Interface> {
        self.links
            .iter()
            .chain(self.addrs.iter())
            .flat_map(|s| s.value.iter())
            .find(|i| i.name == name)
    }

    /// Names of the tables this node has, for listings.
    pub fn present(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        let mut add = |yes: bool, name| {
            if yes {
                v.push(name);
            }
        };
        add(self.routes.is_some(), "routes");
        add(self.neighbors.is_some(), "neighbors");
        add(self.fdb.is_some(), "fdb");
        add(self.addrs.is_some(), "addrs");
        add(self.links.is_some(), "links");
        add(self.iptables.is_some(), "iptables");
        add(self.ipvs.is_some(), "ipvs");
        add(self.sysctl.is_some(), "sysctl");
        add(self.modules.is_some(), "modules");
        add(self.resolv_conf.is_some(), "resolv.conf");
        add(self.kubelet.is_some(), "kubelet");
        add(!self.cni.is_empty(), "cni");
        add(self.flannel_subnet.is_some(), "flannel-subnet");
        add(self.firewalld.is_some(), "firewalld");
        add(self.selinux.is_some(), "selinux");
        v
    }
}
