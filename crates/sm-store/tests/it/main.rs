//! The sm tables on every backend: the seed loads as a model SM can run,
//! sm-configure's changes reach it, bad configuration is refused whole,
//! and what SM records reads back as the API shows it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use starling_common::{Error, Timestamp};
use starling_db::Db;
use starling_db::testing::each_backend;
use starling_sm::group::{ServiceState, Status};
use starling_sm::model::ActionKind;
use starling_sm::node::Node;
use starling_sm::schedule::Desired;
use starling_sm_store as store;

async fn load(db: &Db) -> Result<starling_sm::model::Model, Error> {
    db.read(|c| store::load(c)).await
}

#[tokio::test]
async fn the_seed_is_a_model_sm_can_run() {
    each_backend(&[store::SCHEMA], |db| async move {
        let m = load(&db).await.expect("the seed loads");
        assert_eq!(m.domain.name, "controller");
        assert_eq!(m.domain.priority, 230);
        assert_eq!(m.domain.hello, Duration::from_millis(200));
        assert_eq!(m.domain.dead, Duration::from_millis(800));
        assert_eq!(m.domain.wait, Duration::from_secs(5));
        assert_eq!(m.throttle, 2);
        let names: Vec<&str> = m.groups.iter().map(|g| g.group.name.as_str()).collect();
        assert_eq!(names, ["controller-services", "oam-services"]);
        let ctl = m.group("controller-services").unwrap();
        assert!(ctl.fatal_error_reboot && ctl.auto_recover);
        assert_eq!(ctl.group.failure_debounce, Duration::from_secs(300));
        let api = &m.services["starling-api"];
        let enable = api.action(ActionKind::Enable).unwrap();
        assert_eq!(
            (enable.plugin.kind.as_str(), enable.plugin.name.as_str()),
            ("systemd", "starlingd.service")
        );
        assert_eq!(enable.timeout, Duration::from_secs(60));
        assert_eq!(api.max_failures, 2);
        assert_eq!(api.fail_countdown_interval, Duration::from_secs(90));
        assert!(m.domain.interfaces.iter().all(|i| !i.provisioned));
        assert_eq!(m.domain.interfaces.len(), 3);
        let results = db.read(|c| store::action_results(c)).await.unwrap();
        assert!(results.iter().any(|r| r.plugin_type == "exec"
            && r.command == "status"
            && r.exit_code == 3
            && r.state == Some(ServiceState::Disabled)));
    })
    .await;
}

#[tokio::test]
async fn sm_configure_reaches_the_model_and_refuses_the_unknown() {
    each_backend(&[store::SCHEMA], |db| async move {
        db.write(|c| {
            store::set_interface(
                c,
                "management-interface",
                &store::InterfaceConfig {
                    device: "mgmt0".into(),
                    address: "192.168.204.3".into(),
                    port: 2222,
                    peer_address: "192.168.204.4".into(),
                    peer_port: 2222,
                },
            )?;
            store::set_instance(
                c,
                "management-ip",
                &[
                    ("address".into(), "192.168.204.2/24".into()),
                    ("device".into(), "mgmt0".into()),
                ],
            )?;
            store::set_plugin(c, "starling-api", "process", "starling-api")?;
            store::set_configuration(c, "ENABLING_THROTTLE", "4")?;
            store::set_domain(c, Some(200), None, Some(600), Some(1000))
        })
        .await
        .unwrap();
        let m = load(&db).await.unwrap();
        let i = m
            .domain
            .interfaces
            .iter()
            .find(|i| i.name == "management-interface")
            .unwrap();
        assert!(i.provisioned);
        assert_eq!(
            (i.device.as_str(), i.peer_address.as_str()),
            ("mgmt0", "192.168.204.4")
        );
        assert_eq!(
            m.services["management-ip"].instance["address"],
            "192.168.204.2/24"
        );
        assert_eq!(
            m.services["starling-api"]
                .action(ActionKind::Disable)
                .unwrap()
                .plugin
                .kind,
            "process"
        );
        assert_eq!((m.throttle, m.domain.priority), (4, 200));
        // The database is the seed's too, but managed only once provisioned.
        assert!(!m.services.contains_key("postgres"));
        db.write(|c| store::set_provisioned(c, "postgres", true))
            .await
            .unwrap();
        let m = load(&db).await.unwrap();
        let pg = &m.services["postgres"];
        assert_eq!(
            pg.action(ActionKind::Enable).unwrap().plugin.kind,
            "postgres"
        );
        assert!(pg.action(ActionKind::GoStandby).is_some(), "a standby role");
        let ctl = m.group("controller-services").unwrap();
        assert!(ctl.group.members().iter().any(|x| x.service == "postgres"));
        assert_eq!(m.domain.dead, Duration::from_millis(600));
        // Unknown names are refused, and a refused transaction leaves
        // nothing behind.
        let e = db
            .write(|c| {
                store::set_instance(c, "management-ip", &[("device".into(), "eth9".into())])?;
                store::set_instance(c, "nope", &[])
            })
            .await
            .unwrap_err();
        assert_eq!(e, Error::not_found("no service nope"));
        let m = load(&db).await.unwrap();
        assert_eq!(m.services["management-ip"].instance["device"], "mgmt0");
        let e = db
            .write(|c| {
                store::set_interface(
                    c,
                    "admin-interface",
                    &store::InterfaceConfig {
                        device: "x".into(),
                        address: "a".into(),
                        port: 1,
                        peer_address: "b".into(),
                        peer_port: 1,
                    },
                )
            })
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NotFound(m) if m.contains("admin-interface")));
        // A throttle of nothing could never start anything.
        db.write(|c| store::set_configuration(c, "ENABLING_THROTTLE", "0"))
            .await
            .unwrap();
        let e = load(&db).await.unwrap_err();
        assert!(
            matches!(&e, Error::Invalid(m) if m.contains("ENABLING_THROTTLE")),
            "{e}"
        );
    })
    .await;
}

#[tokio::test]
async fn what_sm_records_reads_back() {
    each_backend(&[store::SCHEMA], |db| async move {
        let m = load(&db).await.unwrap();
        let mut node = Node::new(m);
        let t = Duration::from_secs(1);
        for r in node.tick(t) {
            node.finished(
                &r.service,
                r.action,
                Ok(Some(ServiceState::Disabled.into())),
                t,
            );
        }
        node.desire("controller-services", Desired::Active);
        node.desire("oam-services", Desired::Active);
        let runs = node.tick(t);
        assert_eq!(runs.len(), 2, "the throttle: {runs:?}");
        let groups = node.groups(t);
        let services = node.services();
        let at = Timestamp::from_micros(1_000_000);
        for _ in 0..2 {
            let (g, s) = (groups.clone(), services.clone());
            db.write(move |c| {
                store::set_node(
                    c,
                    "controller-0",
                    "unlocked",
                    "enabled",
                    "available",
                    "enabled",
                    at,
                )?;
                store::record(
                    c,
                    &store::Snapshot {
                        node: "controller-0",
                        groups: &g,
                        services: &s,
                        at,
                    },
                )
            })
            .await
            .unwrap();
        }
        let sda = db.read(|c| store::assignments(c)).await.unwrap();
        assert_eq!(
            sda.len(),
            2,
            "one row per group and node, however often recorded"
        );
        let ctl = sda
            .iter()
            .find(|a| a.group_name == "controller-services")
            .unwrap();
        assert_eq!(
            (
                ctl.node_name.as_str(),
                ctl.desired_state.as_str(),
                ctl.state.as_str()
            ),
            ("controller-0", "active", "go-active")
        );
        let again = db
            .read({
                let u = ctl.uuid.clone();
                move |c| store::assignment(c, &u)
            })
            .await
            .unwrap();
        assert_eq!(again.as_ref(), Some(ctl));
        let svcs = db.read(|c| store::services(c)).await.unwrap();
        let ip = svcs.iter().find(|s| s.name == "management-ip").unwrap();
        assert_eq!(
            (
                ip.state.as_str(),
                ip.desired_state.as_str(),
                ip.group.as_deref()
            ),
            ("enabling", "enabled-active", Some("controller-services"))
        );
        let by_id = db
            .read({
                let id = ip.id.to_string();
                move |c| store::service(c, &id)
            })
            .await
            .unwrap();
        assert_eq!(by_id.as_ref(), Some(ip));
        let nodes = db.read(|c| store::nodes(c)).await.unwrap();
        assert_eq!(nodes.len(), 1);
        assert_eq!(nodes[0].availability_status, "available");
        assert!(store::is_failed("failed") && !store::is_failed(""));
        let _ = Status::None;
    })
    .await;
}
