//! SNMPv2c traps for fault management, with WRS-ALARM-MIB's OIDs and varbinds,
//! delivered from the durable outbox the FM rules write in each transaction.
//!
//! Architecture invariant: an outbox entry is removed only after its trap was
//! handed to the network for every destination; a failure keeps it for a retry
//! (at-least-once). Trap selection (suppression, unchanged re-sets) was decided
//! by the rules when the entry was written; this crate only encodes and sends.

pub mod ber;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ber::{Oid, Val};
use starling_common::Timestamp;
use starling_db::Db;
use starling_fm::notify::Notification;
use starling_fm::repo::FaultRepo;
use starling_fm::{alarm_type_code, probable_cause_code};
use starling_fm_store::FmRepo;
use tokio::net::UdpSocket;
use tokio::sync::Notify;

/// wrsTrapPrefix: wrsAlarmObjects.0.
pub const TRAP_PREFIX: &str = "1.3.6.1.4.1.731.1.1.1.1.0";
/// wrsAlarmActiveEntry (columns 1..12).
pub const ACTIVE_ENTRY: &str = "1.3.6.1.4.1.731.1.1.1.1.1.1";
/// wrsEventEntry (columns 1..13).
pub const EVENT_ENTRY: &str = "1.3.6.1.4.1.731.1.1.1.1.4.1";
/// SNMPv2-MIB::warmStart.
pub const WARM_START: &str = "1.3.6.1.6.3.1.1.5.2";
const SYS_UPTIME: &str = "1.3.6.1.2.1.1.3.0";
const SNMP_TRAP_OID: &str = "1.3.6.1.6.3.1.1.4.1.0";

/// Where traps go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    /// Receiver address (UDP).
    pub addr: SocketAddr,
    /// SNMPv2c community.
    pub community: String,
}

impl Destination {
    /// Parses `HOST:PORT[/COMMUNITY]` (community `public` when absent) where HOST
    /// is an IP address (`[v6]:port` for IPv6).
    pub fn parse(s: &str) -> Result<Destination, String> {
        let (addr, community) = match s.rsplit_once('/') {
            Some((a, c)) if !c.is_empty() => (a, c),
            Some(_) => return Err(format!("trap destination '{s}': empty community")),
            None => (s, "public"),
        };
        let addr: SocketAddr = addr.parse().map_err(|_| {
            format!(
                "trap destination '{s}': expected IP:PORT[/COMMUNITY], e.g. 192.0.2.10:162/public"
            )
        })?;
        Ok(Destination {
            addr,
            community: community.to_string(),
        })
    }
}

/// Trap settings.
#[derive(Clone, Debug)]
pub struct TrapConfig {
    /// Receivers.
    pub destinations: Vec<Destination>,
    /// Prefixes entity ids with `system=<name>.` when set.
    pub system_name: Option<String>,
    /// Prefixes entity ids with `region=<name>.` when set (before the system).
    pub region_name: Option<String>,
    /// Least time between two warmStart traps (StarlingX: 30 s).
    pub warm_start_interval: Duration,
}

fn oid(s: &str) -> Oid {
    // Constants of this module only; they are valid.
    Oid::parse(s).unwrap_or(Oid(vec![0, 0]))
}

fn text(s: &str) -> Val {
    Val::Octets(s.as_bytes().to_vec())
}

/// DateAndTime (RFC 2579), 11 octets, UTC.
fn date_and_time(us: i64) -> Val {
    let (y, mo, d, h, mi, s, ds) = Timestamp::from_micros(us).calendar();
    let y = u16::try_from(y).unwrap_or(0).to_be_bytes();
    Val::Octets(vec![y[0], y[1], mo, d, h, mi, s, ds, b'+', 0, 0])
}

fn flag(b: bool) -> Val {
    Val::Int(i64::from(b))
}

impl TrapConfig {
    fn eid(&self, eid: &str) -> String {
        let mut p = String::new();
        if let Some(r) = &self.region_name {
            p.push_str(&format!("region={r}."));
        }
        if let Some(s) = &self.system_name {
            p.push_str(&format!("system={s}."));
        }
        format!("{p}{eid}")
    }

    /// The trap OID and varbinds (after sysUpTime and snmpTrapOID) of a notification.
    pub fn varbinds(&self, n: &Notification) -> (Oid, Vec<(Oid, Val)>) {
        let prefix = oid(TRAP_PREFIX);
        let a = |col: u32| oid(ACTIVE_ENTRY).child(&[col]);
        let e = |col: u32| oid(EVENT_ENTRY).child(&[col]);
        match n {
            Notification::Set {
                uuid,
                alarm_id,
                entity_instance_id,
                timestamp,
                severity,
                reason_text,
                alarm_type,
                probable_cause,
                proposed_repair_action,
                service_affecting,
                suppression,
            } => {
                // critical .1, major .2, minor .3, warning .4
                let which = match severity {
                    4 => 1,
                    3 => 2,
                    2 => 3,
                    _ => 4,
                };
                (
                    prefix.child(&[which]),
                    vec![
                        (a(2), text(uuid)),
                        (a(3), text(alarm_id)),
                        (a(4), text(&self.eid(entity_instance_id))),
                        (a(5), date_and_time(*timestamp)),
                        (a(6), Val::Int(i64::from(*severity))),
                        (a(7), text(reason_text)),
                        (a(8), Val::Int(i64::from(alarm_type_code(alarm_type)))),
                        (
                            a(9),
                            Val::Int(i64::from(probable_cause_code(probable_cause))),
                        ),
                        (a(10), text(proposed_repair_action)),
                        (a(11), flag(*service_affecting)),
                        (a(12), flag(*suppression)),
                    ],
                )
            }
            Notification::Clear {
                uuid,
                alarm_id,
                entity_instance_id,
                timestamp,
                reason_text,
            } => (
                prefix.child(&[9]),
                vec![
                    (a(2), text(uuid)),
                    (a(3), text(alarm_id)),
                    (a(4), text(&self.eid(entity_instance_id))),
                    (a(5), date_and_time(*timestamp)),
                    (a(7), text(reason_text)),
                ],
            ),
            Notification::HierarchicalClear {
                uuid,
                entity_instance_id,
                timestamp,
            } => (
                prefix.child(&[99]),
                vec![
                    (a(2), text(uuid)),
                    (a(4), text(&self.eid(entity_instance_id))),
                    (a(5), date_and_time(*timestamp)),
                    (a(7), text(starling_fm::ops::HIERARCHICAL_CLEAR_REASON)),
                ],
            ),
            Notification::Message {
                uuid,
                event_id,
                entity_instance_id,
                timestamp,
                severity,
                reason_text,
                event_type,
                probable_cause,
                service_affecting,
            } => (
                prefix.child(&[5]),
                vec![
                    (e(2), text(uuid)),
                    (e(3), text(event_id)),
                    (e(5), text(&self.eid(entity_instance_id))),
                    (e(6), date_and_time(*timestamp)),
                    (e(7), Val::Int(i64::from(*severity))),
                    (e(8), text(reason_text)),
                    (e(9), Val::Int(i64::from(alarm_type_code(event_type)))),
                    (
                        e(10),
                        Val::Int(i64::from(probable_cause_code(probable_cause))),
                    ),
                    (e(11), text("N/A")),
                    (e(12), flag(*service_affecting)),
                    (e(13), Val::Int(0)),
                ],
            ),
            Notification::WarmStart => (oid(WARM_START), Vec::new()),
        }
    }

    /// The complete trap message for one destination.
    pub fn encode(
        &self,
        n: &Notification,
        uptime_ticks: u32,
        request_id: i32,
        community: &str,
    ) -> Vec<u8> {
        let (trap, rest) = self.varbinds(n);
        let mut vbs = vec![
            (oid(SYS_UPTIME), Val::Ticks(uptime_ticks)),
            (oid(SNMP_TRAP_OID), Val::Oid(trap)),
        ];
        vbs.extend(rest);
        ber::trap_message(community, request_id, &vbs)
    }
}

/// Delivers the outbox: reads entries in order, sends each to every destination,
/// removes what was sent, retries the rest with backoff. Runs until `shutdown`.
pub struct Deliverer {
    db: Db,
    cfg: TrapConfig,
    wake: Arc<Notify>,
    started: Instant,
    request_id: i32,
    last_warm: Option<Instant>,
    warm_pending: bool,
}

impl Deliverer {
    /// A deliverer over `db`; `wake` is notified after FM writes.
    pub fn new(db: Db, cfg: TrapConfig, wake: Arc<Notify>) -> Self {
        Deliverer {
            db,
            cfg,
            wake,
            started: Instant::now(),
            request_id: 0,
            last_warm: None,
            warm_pending: false,
        }
    }

    fn uptime(&self) -> u32 {
        u32::try_from(self.started.elapsed().as_millis() / 10).unwrap_or(u32::MAX)
    }

    async fn send(&mut self, sockets: &Sockets, n: &Notification) -> std::io::Result<()> {
        for d in &self.cfg.destinations {
            self.request_id = self.request_id.wrapping_add(1) & 0x7fff_ffff;
            let bytes = self
                .cfg
                .encode(n, self.uptime(), self.request_id, &d.community);
            sockets.for_addr(&d.addr).send_to(&bytes, d.addr).await?;
        }
        Ok(())
    }

    /// Sends what is due; returns whether everything read was handled.
    async fn pass(&mut self, sockets: &Sockets) -> Result<bool, String> {
        let batch = self
            .db
            .read(|c| FmRepo::new(c).outbox(256))
            .await
            .map_err(|e| e.to_string())?;
        let mut done = Vec::with_capacity(batch.len());
        let mut ok = true;
        for (id, n) in &batch {
            if *n == Notification::WarmStart {
                // One warmStart per interval: later ones fold into a pending one.
                done.push(*id);
                self.warm_pending = true;
                continue;
            }
            match self.send(sockets, n).await {
                Ok(()) => done.push(*id),
                Err(e) => {
                    tracing::warn!(error = %e, "trap send failed; will retry");
                    ok = false;
                    break;
                }
            }
        }
        if self.warm_pending
            && self
                .last_warm
                .is_none_or(|t| t.elapsed() >= self.cfg.warm_start_interval)
        {
            match self.send(sockets, &Notification::WarmStart).await {
                Ok(()) => {
                    self.warm_pending = false;
                    self.last_warm = Some(Instant::now());
                }
                Err(e) => tracing::warn!(error = %e, "warmStart send failed; will retry"),
            }
        }
        if !done.is_empty() {
            self.db
                .write(move |c| FmRepo::new(c).outbox_done(&done))
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(ok && batch.len() < 256)
    }

    /// Runs until `shutdown` resolves.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        let sockets = match Sockets::bind().await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot open a UDP socket for traps");
                return;
            }
        };
        tokio::pin!(shutdown);
        let mut backoff = Duration::from_millis(200);
        loop {
            let idle = match self.pass(&sockets).await {
                Ok(true) => {
                    backoff = Duration::from_millis(200);
                    true
                }
                Ok(false) => false,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox read failed; will retry");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                    continue;
                }
            };
            let wait = if self.warm_pending {
                let since = self.last_warm.map_or(Duration::ZERO, |t| t.elapsed());
                self.cfg.warm_start_interval.saturating_sub(since)
            } else if idle {
                Duration::from_secs(5)
            } else {
                Duration::ZERO
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = self.wake.notified() => {},
                () = tokio::time::sleep(wait) => {},
            }
        }
    }
}

/// One socket per address family.
struct Sockets {
    v4: UdpSocket,
    v6: Option<UdpSocket>,
}

impl Sockets {
    async fn bind() -> std::io::Result<Sockets> {
        Ok(Sockets {
            v4: UdpSocket::bind("0.0.0.0:0").await?,
            v6: UdpSocket::bind("[::]:0").await.ok(),
        })
    }
    fn for_addr(&self, a: &SocketAddr) -> &UdpSocket {
        match (a, &self.v6) {
            (SocketAddr::V6(_), Some(s)) => s,
            _ => &self.v4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_parse() {
        let d = Destination::parse("192.0.2.1:162/private").unwrap();
        assert_eq!(d.community, "private");
        assert_eq!(
            Destination::parse("[::1]:1162").unwrap().community,
            "public"
        );
        assert!(Destination::parse("nohost").is_err());
        assert!(Destination::parse("1.2.3.4:162/").is_err());
    }

    #[test]
    fn set_trap_is_chosen_by_severity_and_prefixes_the_entity() {
        let cfg = TrapConfig {
            destinations: vec![],
            system_name: Some("edge1".into()),
            region_name: Some("r1".into()),
            warm_start_interval: Duration::from_secs(30),
        };
        let n = Notification::Set {
            uuid: "u".into(),
            alarm_id: "100.101".into(),
            entity_instance_id: "host=c0".into(),
            timestamp: 0,
            severity: 3,
            reason_text: "r".into(),
            alarm_type: "operational-violation".into(),
            probable_cause: "threshold-crossed".into(),
            proposed_repair_action: "x".into(),
            service_affecting: true,
            suppression: false,
        };
        let (trap, vbs) = cfg.varbinds(&n);
        assert_eq!(trap, oid("1.3.6.1.4.1.731.1.1.1.1.0.2"));
        assert_eq!(vbs[2].1, text("region=r1.system=edge1.host=c0"));
        assert_eq!(vbs[6].1, Val::Int(7));
        assert_eq!(vbs[7].1, Val::Int(50));
        assert_eq!(
            vbs[3].1,
            Val::Octets(vec![0x07, 0xb2, 1, 1, 0, 0, 0, 0, b'+', 0, 0])
        );
        let msg = cfg.encode(&n, 100, 1, "public");
        assert_eq!(msg[0], 0x30);
    }
}
