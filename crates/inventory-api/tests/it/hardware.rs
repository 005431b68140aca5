//! Hardware through the API: an agent registers and reports; every
//! collection answers with the attributes cgtsclient prints; labels; bad
//! reports and requests are named and change nothing.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{app, refused};

/// A two-node host as an agent reports it.
pub fn report() -> Value {
    let cpu = |n: u32, core: u32, node: u32| {
        json!({"cpu": n, "core": core, "thread": 0, "numa_node": node,
               "cpu_family": "6", "cpu_model": "Intel(R) Xeon(R) Gold 6230"})
    };
    let mem = |node: u32| {
        json!({"numa_node": node, "memtotal_mib": 30000, "memavail_mib": 28000,
               "platform_reserved_mib": 2000, "node_memtotal_mib": 32768,
               "vm_hugepages_nr_2M": 512, "vm_hugepages_avail_2M": 500,
               "vm_hugepages_use_1G": true, "vm_hugepages_possible_2M": 14000})
    };
    let port = |name: &str, mac: &str, pci: &str| {
        json!({"name": name, "pciaddr": pci, "pclass": "Ethernet controller",
               "pvendor": "Intel Corporation", "pdevice": "Ethernet Controller XXV710",
               "numa_node": 0, "driver": "i40e", "mac": mac, "mtu": 1500, "speed": 25000,
               "autoneg": "Yes", "bootp": name == "eno1"})
    };
    json!({
        "inodes": [{"numa_node": 0}, {"numa_node": 1}],
        "icpus": [cpu(0, 0, 0), cpu(1, 1, 0), cpu(2, 0, 1), cpu(3, 1, 1)],
        "imemorys": [mem(0), mem(1)],
        "idisks": [{"device_node": "/dev/sda", "device_num": 2048, "device_type": "SSD",
                    "device_path": "/dev/disk/by-path/pci-0000:00:17.0-ata-1.0",
                    "size_mib": 457862, "available_mib": 100000, "rpm": "N/A",
                    "serial_id": "S4XXNF0M", "capabilities": {"model_num": "Samsung SSD 860"}},
                   {"device_node": "/dev/nvme0n1", "device_num": 66304, "device_type": "NVME",
                    "device_path": "/dev/disk/by-path/pci-0000:5e:00.0-nvme-1",
                    "size_mib": 915715, "available_mib": 915715, "rpm": "N/A"}],
        "partitions": [{"device_node": "/dev/sda1",
                        "device_path": "/dev/disk/by-path/pci-0000:00:17.0-ata-1.0-part1",
                        "disk_path": "/dev/disk/by-path/pci-0000:00:17.0-ata-1.0",
                        "start_mib": 1, "end_mib": 512, "size_mib": 511, "status": 1,
                        "type_guid": "c12a7328-f81f-11d2-ba4b-00a0c93ec93b",
                        "type_name": "EFI system"}],
        "ports": [port("eno1", "3c:fd:fe:00:00:01", "0000:3b:00.0"),
                  port("eno2", "3c:fd:fe:00:00:02", "0000:3b:00.1")],
        "pci_devices": [{"name": "pci_0000_b1_00_0", "pciaddr": "0000:b1:00.0",
                         "pclass_id": "120000", "pvendor_id": "8086", "pdevice_id": "0d5c",
                         "pclass": "Processing accelerators", "pvendor": "Intel Corporation",
                         "pdevice": "Device 0d5c", "numa_node": 1, "enabled": true}],
        "lldp_agents": [{"port_name": "eno1", "status": "rx=enabled,tx=enabled",
                         "chassis_id": "3c:fd:fe:00:00:01", "system_name": "compute-0"}],
        "lldp_neighbours": [{"port_name": "eno1", "msap": "aa:bb:cc:00:00:01,Ethernet1/1",
                             "chassis_id": "aa:bb:cc:00:00:01", "port_identifier": "Ethernet1/1",
                             "system_name": "tor-1", "management_address": "10.0.0.254"}],
        "uptime": 321,
    })
}

#[tokio::test]
async fn an_agent_registers_reports_and_every_collection_answers() {
    let t = app().await;
    let reg = json!({"hostname": "localhost", "mgmt_mac": "3C:FD:FE:00:00:01"}).to_string();
    let (s, h) = t.call("POST", "/v1/agent/register", Some(&reg)).await;
    assert_eq!(s, StatusCode::CREATED, "{h}");
    assert_eq!(
        h["hostname"],
        Value::Null,
        "discovered hosts are unprovisioned"
    );
    assert_eq!(h["invprovision"], "unprovisioned");
    let uuid = h["uuid"].as_str().unwrap().to_string();
    let (s, again) = t.call("POST", "/v1/agent/register", Some(&reg)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again["uuid"], uuid.as_str());

    // The operator provisions it in place; the agent reports in full.
    t.added("compute-0", "worker", "3c:fd:fe:00:00:01").await;
    let (s, out) = t
        .call(
            "PUT",
            "/v1/agent/compute-0/report",
            Some(&report().to_string()),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{out}");
    assert_eq!(out["ihost_uuid"], uuid.as_str());
    assert_eq!(out["inv_state"], "inventoried");
    assert_eq!(out["availability"], "online");
    assert_eq!(out["changes"]["icpus"]["added"], 4);

    let nodes = t.get(&format!("/v1/ihosts/{uuid}/inodes")).await;
    let node1 = nodes["inodes"][1]["uuid"].as_str().unwrap().to_string();
    let cpus = t.get("/v1/ihosts/compute-0/icpus").await["icpus"].clone();
    let cpus = cpus.as_array().unwrap();
    assert_eq!(cpus.len(), 4);
    for f in [
        "uuid",
        "cpu",
        "numa_node",
        "core",
        "thread",
        "cpu_model",
        "cpu_family",
        "allocated_function",
        "capabilities",
        "ihost_uuid",
        "inode_uuid",
        "created_at",
        "updated_at",
        "links",
    ] {
        assert!(cpus[0].get(f).is_some(), "icpu lacks {f}: {}", cpus[0]);
    }
    assert_eq!(cpus[0]["allocated_function"], "Platform");
    assert_eq!(cpus[3]["allocated_function"], "Application");
    assert_eq!(cpus[2]["inode_uuid"], node1.as_str());
    let one = cpus[2]["uuid"].as_str().unwrap();
    assert_eq!(t.get(&format!("/v1/icpus/{one}")).await["cpu"], 2);
    // A uuid of another kind is not found in this collection.
    refused(
        t.call("GET", &format!("/v1/idisks/{one}"), None).await,
        StatusCode::NOT_FOUND,
        "could not be found",
    );

    let mem = t.get("/v1/ihosts/compute-0/imemorys").await;
    let m0 = &mem["imemorys"][0];
    for f in [
        "memtotal_mib",
        "platform_reserved_mib",
        "memavail_mib",
        "hugepages_configured",
        "vswitch_hugepages_size_mib",
        "vswitch_hugepages_nr",
        "vswitch_hugepages_avail",
        "vswitch_hugepages_reqd",
        "vm_hugepages_nr_4K",
        "vm_pending_as_percentage",
        "vm_hugepages_nr_2M",
        "vm_hugepages_avail_2M",
        "vm_hugepages_nr_2M_pending",
        "vm_hugepages_nr_1G",
        "vm_hugepages_avail_1G",
        "vm_hugepages_nr_1G_pending",
        "vm_hugepages_use_1G",
        "inode_uuid",
    ] {
        assert!(m0.get(f).is_some(), "imemory lacks {f}: {m0}");
    }
    assert_eq!(m0["vm_hugepages_avail_2M"], 500);

    let disks = t.get("/v1/ihosts/compute-0/idisks").await["idisks"].clone();
    assert_eq!(disks.as_array().unwrap().len(), 2);
    let sda = disks
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device_node"] == "/dev/sda")
        .unwrap();
    for f in [
        "device_node",
        "device_num",
        "device_type",
        "size_mib",
        "available_mib",
        "rpm",
        "serial_id",
        "device_path",
        "device_id",
        "device_wwn",
        "capabilities",
    ] {
        assert!(sda.get(f).is_some(), "idisk lacks {f}: {sda}");
    }
    let sda_uuid = sda["uuid"].as_str().unwrap();
    let parts = t.get("/v1/ihosts/compute-0/partitions").await;
    assert_eq!(parts["partitions"][0]["idisk_uuid"], sda_uuid);
    assert_eq!(parts["partitions"][0]["status_text"], "In-Use");
    // Listed by device node: nvme0n1 before sda.
    assert_eq!(disks[0]["device_node"], "/dev/nvme0n1");
    let nvme = disks[0]["uuid"].as_str().unwrap();
    let only_sda = t
        .get(&format!(
            "/v1/ihosts/compute-0/partitions?disk_uuid={sda_uuid}"
        ))
        .await;
    assert_eq!(only_sda["partitions"].as_array().unwrap().len(), 1);
    let none = t
        .get(&format!("/v1/ihosts/compute-0/partitions?disk_uuid={nvme}"))
        .await;
    assert_eq!(none["partitions"], json!([]));

    let ports = t.get("/v1/ihosts/compute-0/ports").await;
    assert_eq!(ports["ports"][0]["type"], "ethernet");
    assert_eq!(ports["ports"][0]["namedisplay"], "eno1");
    let eth = t.get("/v1/ihosts/compute-0/ethernet_ports").await;
    let e0 = &eth["ethernet_ports"][0];
    for f in [
        "name",
        "mac",
        "pciaddr",
        "numa_node",
        "autoneg",
        "pdevice",
        "bootp",
        "speed",
        "mtu",
    ] {
        assert!(e0.get(f).is_some(), "ethernet port lacks {f}: {e0}");
    }
    let eno1 = e0["uuid"].as_str().unwrap();
    assert_eq!(
        t.get(&format!("/v1/ethernet_ports/{eno1}")).await["mac"],
        "3c:fd:fe:00:00:01"
    );
    let dev = t.get("/v1/ihosts/compute-0/pci_devices").await;
    assert_eq!(dev["pci_devices"][0]["pclass_id"], "120000");
    let agents = t.get("/v1/ihosts/compute-0/lldp_agents").await;
    assert_eq!(agents["lldp_agents"][0]["port_uuid"], eno1);
    let nb = t.get("/v1/ihosts/compute-0/lldp_neighbours").await;
    assert_eq!(nb["lldp_neighbours"][0]["system_name"], "tor-1");
    assert_eq!(nb["lldp_neighbours"][0]["port_identifier"], "Ethernet1/1");

    // Paging: two CPUs a page, `next` on a full page only.
    let p1 = t.get("/v1/ihosts/compute-0/icpus?limit=3").await;
    let next = p1["next"].as_str().unwrap();
    let rel = next.split_once("6385").unwrap().1;
    let p2 = t.get(rel).await;
    assert_eq!(p2["icpus"].as_array().unwrap().len(), 1);
    assert_eq!(p2["icpus"][0]["cpu"], 3);
    assert!(p2.get("next").is_none());
    let desc = t
        .get("/v1/ihosts/compute-0/icpus?sort_dir=desc&limit=1")
        .await;
    assert_eq!(desc["icpus"][0]["cpu"], 3);

    // The host can be unlocked now that its agent reported.
    let (s, h) = t.action("compute-0", "unlock").await;
    assert_eq!(s, StatusCode::OK, "{h}");
    assert_eq!(h["availability"], "available");
}

#[tokio::test]
async fn bad_reports_are_named_and_keep_the_previous_inventory() {
    let t = app().await;
    t.added("compute-1", "worker", "3c:fd:fe:00:01:01").await;
    let t = &t;
    let send = |body: String| async move {
        t.call("PUT", "/v1/agent/compute-1/report", Some(&body))
            .await
    };
    let (s, _) = send(report().to_string()).await;
    assert_eq!(s, StatusCode::OK);
    let before = t.get("/v1/ihosts/compute-1/icpus").await;

    let mut r = report();
    r["icpus"][0]["colour"] = json!("red");
    refused(send(r.to_string()).await, StatusCode::BAD_REQUEST, "colour");
    let mut r = report();
    r["icpus"][1]["numa_node"] = json!(7);
    r["idisks"][0]["size_mib"] = json!(1);
    refused(
        send(r.to_string()).await,
        StatusCode::BAD_REQUEST,
        "exceeds size_mib",
    );
    let mut r = report();
    r["icpus"][1]["numa_node"] = json!(7);
    refused(
        send(r.to_string()).await,
        StatusCode::BAD_REQUEST,
        "NUMA node 7",
    );
    let mut r = report();
    r["ports"][1]["mac"] = json!("3c:fd:fe:00:00:01");
    refused(
        send(r.to_string()).await,
        StatusCode::BAD_REQUEST,
        "both report MAC",
    );
    let mut r = report();
    r["lldp_neighbours"][0]["port_name"] = json!("eno9");
    refused(
        send(r.to_string()).await,
        StatusCode::BAD_REQUEST,
        "port 'eno9'",
    );
    let mut r = report();
    r["idisks"][0]["device_type"] = json!("Tape");
    refused(
        send(r.to_string()).await,
        StatusCode::BAD_REQUEST,
        "unknown device_type 'Tape'",
    );
    refused(
        send("{\"icpus\": 5}".into()).await,
        StatusCode::BAD_REQUEST,
        "",
    );
    refused(send("not json".into()).await, StatusCode::BAD_REQUEST, "");
    refused(
        t.call("PUT", "/v1/agent/nobody/report", Some("{}")).await,
        StatusCode::NOT_FOUND,
        "nobody",
    );
    assert_eq!(t.get("/v1/ihosts/compute-1/icpus").await, before);
    assert_eq!(
        t.get("/v1/ihosts/compute-1").await["inv_state"],
        "inventoried"
    );

    // Registration: a bad MAC; a known hostname with another MAC.
    refused(
        t.call(
            "POST",
            "/v1/agent/register",
            Some(&json!({"hostname": "x", "mgmt_mac": "01:00:5e:00:00:01"}).to_string()),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "not a unicast address",
    );
    refused(
        t.call(
            "POST",
            "/v1/agent/register",
            Some(&json!({"hostname": "compute-1", "mgmt_mac": "3c:fd:fe:00:09:09"}).to_string()),
        )
        .await,
        StatusCode::CONFLICT,
        "provisioned with management MAC 3c:fd:fe:00:01:01",
    );

    // List parameters.
    refused(
        t.call("GET", "/v1/ihosts/compute-1/icpus?sort_key=core", None)
            .await,
        StatusCode::BAD_REQUEST,
        "natural order",
    );
    refused(
        t.call(
            "GET",
            "/v1/ihosts/compute-1/icpus?marker=0b9c6a5e-8a4e-4d64-8f55-3a2f1d6f0c11",
            None,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "no such record",
    );
    refused(
        t.call("GET", "/v1/ihosts/compute-1/icpus?colour=red", None)
            .await,
        StatusCode::BAD_REQUEST,
        "colour",
    );
    refused(
        t.call("GET", "/v1/ihosts/compute-9/icpus", None).await,
        StatusCode::NOT_FOUND,
        "compute-9",
    );
}

#[tokio::test]
async fn labels_assign_list_show_remove() {
    let t = app().await;
    t.added("compute-2", "worker", "3c:fd:fe:00:02:01").await;
    let (s, v) = t
        .call(
            "POST",
            "/v1/labels/compute-2?overwrite=False",
            Some(&json!({"zone": "a", "rack": 7}).to_string()),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let labels = v["labels"].as_array().unwrap();
    assert_eq!(labels.len(), 2);
    let zone = labels.iter().find(|l| l["label_key"] == "zone").unwrap();
    let zu = zone["uuid"].as_str().unwrap();
    let host = t.get("/v1/ihosts/compute-2").await;
    assert_eq!(zone["host_uuid"], host["uuid"]);
    let shown = t.get(&format!("/v1/labels/{zu}")).await;
    assert_eq!(shown["label_value"], "a");
    let list = t.get("/v1/ihosts/compute-2/labels").await;
    assert_eq!(list["labels"].as_array().unwrap().len(), 2);

    refused(
        t.call(
            "POST",
            "/v1/labels/compute-2",
            Some(&json!({"zone": "b"}).to_string()),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "already exists",
    );
    refused(
        t.call(
            "POST",
            "/v1/labels/compute-2?overwrite=True",
            Some(&json!({"kube-cpu-mgr-policy": "dynamic"}).to_string()),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "expected one of none, static",
    );
    refused(
        t.call(
            "POST",
            "/v1/labels/compute-2",
            Some(&json!({"x": {"a": 1}}).to_string()),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "a string is expected",
    );
    refused(
        t.call("POST", "/v1/labels/compute-2", Some("{}")).await,
        StatusCode::BAD_REQUEST,
        "No labels",
    );
    // Control characters in a key or a value are named, and nothing of the
    // request is kept (PostgreSQL answered 500 to a NUL).
    for (body, field) in [
        (json!({"ok": "1", "bad\u{0}key": "v"}), "label_key"),
        (json!({"ok": "1", "k": "tab\there"}), "label_value"),
        (json!({"ok": "1", "k": "new\nline"}), "label_value"),
    ] {
        refused(
            t.call("POST", "/v1/labels/compute-2", Some(&body.to_string()))
                .await,
            StatusCode::BAD_REQUEST,
            &format!("Invalid {field}: control characters"),
        );
    }
    let (s, v) = t
        .call(
            "POST",
            "/v1/labels/compute-2?overwrite=True",
            Some(&json!({"zone": "b"}).to_string()),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["labels"][0]["uuid"], zu, "overwrite keeps the label");
    let (s, _) = t.call("DELETE", &format!("/v1/labels/{zu}"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    refused(
        t.call("DELETE", &format!("/v1/labels/{zu}"), None).await,
        StatusCode::NOT_FOUND,
        "could not be found",
    );
    assert_eq!(
        t.get("/v1/ihosts/compute-2/labels").await["labels"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
