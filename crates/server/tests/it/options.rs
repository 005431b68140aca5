//! `starlingd`'s options: each service's accepted only where it runs, a
//! subset of the services run with `--services`, the configuration file
//! beneath the variables and flags, `config show`, and the settings a
//! later start may not change.

use super::*;

/// Runs starlingd to its end with `args` and `env`: (exit code, stdout,
/// stderr).
fn run_to_end(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = starlingd_command(args, env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_flag_of_a_service_that_does_not_run_is_refused() {
    let dir = tmpdir();
    let db = format!("sqlite://{}/x.db", dir.display());
    let cases: [(&[&str], &str); 7] = [
        (
            &["--services", "identity,fm", "--inventory-port", "1"],
            "--inventory-port does not apply here: it is an option of inventory, which this starlingd does not run (it runs fm, identity)",
        ),
        (
            &[
                "inventory",
                "--database-url",
                &db,
                "--trap-dest",
                "127.0.0.1:162",
            ],
            "--trap-dest does not apply here: it is an option of fm, which this starlingd does not run (it runs inventory)",
        ),
        (
            &["fm", "--database-url", &db, "--system-mode", "duplex"],
            "--system-mode does not apply here: it is an option of inventory",
        ),
        (
            &["agent", "--fm-port", "1"],
            "--fm-port does not apply here: it is an option of fm",
        ),
        (
            &[
                "--services",
                "fm,identity",
                "--fm-url",
                "http://127.0.0.1:1",
            ],
            "--fm-url does not apply here: fm runs in this process",
        ),
        (
            &["--auth-url", "http://127.0.0.1:1/v3"],
            "--auth-url does not apply here: identity runs in this process",
        ),
        (
            &["--services", "fm,dashboard"],
            "unknown service 'dashboard' in --services: use fm, identity, inventory, mtce",
        ),
    ];
    for (args, want) in cases {
        let (code, _, err) = run_to_end(args, &[]);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    // The same setting in the environment is only logged: one environment
    // file may serve several units.
    let (code, out, err) = run_to_end(
        &["--services", "identity", "config", "show"],
        &[("STARLING_TRAP_DEST", "127.0.0.1:162")],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("STARLING_TRAP_DEST is set but does not apply here"),
        "{err}"
    );
    assert!(!out.contains("trap_dest"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_subset_of_the_services_runs_with_its_own_catalog() {
    let dir = tmpdir();
    let (fm, id) = (free_port(), free_port());
    let (fm_s, id_s) = (fm.to_string(), id.to_string());
    let d = dir.display().to_string();
    let args = [
        "--services",
        "identity,fm",
        "--data-dir",
        &d,
        "--fm-port",
        &fm_s,
        "--identity-port",
        &id_s,
    ];
    let identity = format!("http://127.0.0.1:{id}");
    let fm_url = format!("http://127.0.0.1:{fm}");
    let _d = starlingd(
        &args,
        &[("STARLING_ADMIN_PASSWORD", "Adm1n!pass")],
        dir,
        &format!("{identity}/health"),
        None,
    );
    wait_ready(&format!("{fm_url}/health"), None, None);
    let t = login(&identity, "admin", "Adm1n!pass").unwrap();
    let (st, _) = get(&format!("{fm_url}/v1/alarms"), Some(&t));
    assert_eq!(st, 200);
    // Inventory does not run: the catalog names only what runs.
    let (st, cat) = get(&format!("{identity}/v3/auth/catalog"), Some(&t));
    assert_eq!(st, 200, "{cat}");
    let mut types: Vec<&str> = cat["catalog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    types.sort();
    assert_eq!(types, ["faultmanagement", "identity"], "{cat}");
}

#[test]
fn the_configuration_file_sits_under_variables_and_flags() {
    let dir = tmpdir();
    let (fm, id, inv) = (free_port(), free_port(), free_port());
    let file = dir.join("starling.toml");
    let data = dir.join("data");
    std::fs::write(
        &file,
        format!(
            "# an operator's file\n\
             data-dir = '{}'\n\
             database_url = 'postgres://starling:s3cret@db.example:5432/starling'\n\
             log = 'info'\n\
             [fm]\n\
             port = {fm}\n\
             event_log_max_rows = 50\n\
             trap_dest = ['127.0.0.1:1162/privatecommunity']\n\
             [identity]\n\
             port = {id}\n\
             [inventory]\n\
             port = {inv}\n\
             system_mode = 'duplex'\n\
             [agent]\n\
             no_local_agent = true\n",
            data.display()
        ),
    )
    .unwrap();
    let f = file.to_str().unwrap();
    // Origins: file, then a variable over it, then a flag over both.
    let (code, out, err) = run_to_end(
        &["--config", f, "--max-page", "77", "config", "show"],
        &[
            ("STARLING_EVENT_LOG_MAX_ROWS", "60"),
            ("STARLING_MAX_PAGE", "88"),
        ],
    );
    assert_eq!(code, 0, "{err}");
    for want in [
        format!("# file: {f}\n"),
        format!("port = {fm}   # file\n"),
        "event_log_max_rows = 60   # STARLING_EVENT_LOG_MAX_ROWS\n".into(),
        "max_page = 77   # flag\n".into(),
        "system_mode = \"duplex\"   # file\n".into(),
        "no_local_agent = true   # file\n".into(),
        "bind = \"127.0.0.1\"   # default\n".into(),
        // Secrets masked.
        "database_url = \"postgres://starling:***@db.example:5432/starling\"   # file\n".into(),
        "trap_dest = [\"127.0.0.1:1162/****\"]   # file\n".into(),
    ] {
        assert!(out.contains(&want), "missing {want:?} in:\n{out}");
    }
    assert!(
        !out.contains("s3cret") && !out.contains("privatecommunity"),
        "{out}"
    );
    // What `config show` prints is a file that reads back the same.
    let shown = dir.join("shown.toml");
    std::fs::write(&shown, &out).unwrap();
    let (code, again, err) = run_to_end(
        &["--config", shown.to_str().unwrap(), "config", "show"],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let values = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split("   #").next().unwrap().to_string())
            .collect()
    };
    // (The masked secrets read back as the masks.)
    assert_eq!(values(&again), values(&out));

    // A daemon started from the file alone listens where it says.
    std::fs::write(
        &file,
        format!(
            "data_dir = '{}'\n[fm]\nport = {fm}\n[identity]\nport = {id}\n\
             [inventory]\nport = {inv}\n[mtce]\nport = {}\n[agent]\nno_local_agent = true\n",
            data.display(),
            free_port()
        ),
    )
    .unwrap();
    let _d = starlingd(
        &["--config", f],
        &[],
        data.clone(),
        &format!("http://127.0.0.1:{inv}/health"),
        None,
    );
    wait_ready(&format!("http://127.0.0.1:{fm}/health"), None, None);
    wait_ready(&format!("http://127.0.0.1:{id}/health"), None, None);
    assert!(data.join("starling.db").exists());

    // Mistakes in the file are named, with the file.
    let bad: [(&str, &str); 5] = [
        ("[fm]\nbogus = 1\n", "unknown setting fm.bogus"),
        (
            "[fm]\nsystem_mode = 'duplex'\n",
            "unknown setting fm.system_mode",
        ),
        ("[dashboard]\nport = 1\n", "unknown section [dashboard]"),
        (
            "[fm]\nport = 'eighty'\n",
            "invalid value 'eighty' for '--fm-port",
        ),
        ("bind = [", "starling.toml"),
    ];
    for (text, want) in bad {
        std::fs::write(&file, text).unwrap();
        let (code, _, err) = run_to_end(&["--config", f, "config", "show"], &[]);
        assert_eq!(code, 2, "{text}: {err}");
        assert!(err.contains(want) && err.contains(f), "{text}: {err}");
    }
    // A file that is named must exist.
    let (code, _, err) = run_to_end(
        &["config", "show"],
        &[("STARLING_CONFIG", "/nonexistent.toml")],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot read /nonexistent.toml"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_first_start_setting_that_a_later_start_changes_is_refused() {
    let dir = tmpdir();
    let data = dir.join("data");
    let d = data.to_str().unwrap();
    let start = |mode: Option<&str>| {
        let (fm, id, inv) = (free_port(), free_port(), free_port());
        let (fm, id, inv) = (fm.to_string(), id.to_string(), inv.to_string());
        let mtce = free_port().to_string();
        let mut args = vec![
            "--data-dir",
            d,
            "--no-local-agent",
            "--mtce-port",
            &mtce,
            "--fm-port",
            &fm,
            "--identity-port",
            &id,
            "--inventory-port",
            &inv,
        ];
        if let Some(m) = mode {
            args.extend(["--system-mode", m]);
        }
        let mut child = starlingd_command(&args, &[])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{inv}/health");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                let out = child.wait_with_output().unwrap();
                return Err(String::from_utf8_lossy(&out.stderr).into_owned());
            }
            if http()
                .get(&url)
                .send()
                .is_ok_and(|r| r.status().is_success())
            {
                let _ = child.kill();
                let _ = child.wait();
                return Ok(());
            }
            assert!(Instant::now() < deadline, "never ready");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    start(Some("duplex")).unwrap();
    // The same value, or none, starts; another is refused with the reason.
    start(Some("duplex")).unwrap();
    start(None).unwrap();
    let err = start(Some("simplex")).unwrap_err();
    assert!(
        err.contains(
            "--system-mode simplex applies at the first start only: this system is already duplex"
        ),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn logs_are_plain_off_a_terminal_json_on_request_and_an_error_is_said_once() {
    // A bare word is not a filter (tracing would read it as a target and
    // log nothing else).
    let (code, _, err) = run_to_end(&["--log", "json", "config", "show"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("invalid log filter 'json'"), "{err}");
    let dir = tmpdir();
    let failing = |format: &str| {
        // A fresh data directory each time: its migrations are logged.
        let d = dir.join(format).display().to_string();
        let (fm, id, inv) = (
            free_port().to_string(),
            free_port().to_string(),
            free_port().to_string(),
        );
        let mtce = free_port().to_string();
        run_to_end(
            &[
                "--data-dir",
                &d,
                "--no-local-agent",
                "--mtce-port",
                &mtce,
                "--fm-port",
                &fm,
                "--identity-port",
                &id,
                "--inventory-port",
                &inv,
                "--catalogue",
                "/nonexistent/events.yaml",
                "--log-format",
                format,
            ],
            &[],
        )
    };
    let (code, _, err) = failing("text");
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("applying migration"),
        "the log is on stderr: {err}"
    );
    assert!(
        !err.contains('\u{1b}'),
        "no ANSI escapes off a terminal: {err:?}"
    );
    assert_eq!(
        err.matches("cannot read catalogue /nonexistent/events.yaml")
            .count(),
        1,
        "{err}"
    );
    let (code, _, err) = failing("json");
    assert_eq!(code, 1, "{err}");
    let lines: Vec<&str> = err.lines().collect();
    let (last, log) = lines.split_last().unwrap();
    assert!(
        last.starts_with("starlingd: cannot read catalogue"),
        "{err}"
    );
    assert!(!log.is_empty(), "{err}");
    for l in log {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"));
        assert!(v["level"].is_string() && v["timestamp"].is_string(), "{l}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
