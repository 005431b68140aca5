//! `fm`: the fault-management CLI, with StarlingX's commands, options and columns.

use std::time::Duration;

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use starling_cli::auth::AuthArgs;
use starling_cli::{
    Client, Format, Out, Table, confirm, field, page_out, parse_query, query_string,
};
use starling_fm_types as wire;

#[derive(Parser, Debug)]
#[command(
    name = "fm",
    version,
    about = "Starling fault management client (StarlingX-compatible)"
)]
struct Cli {
    /// FM API endpoint, e.g. http://127.0.0.1:18002 (no /v1); found in the
    /// service catalog (type faultmanagement) when not given.
    #[arg(long = "fm-url", env = "FM_URL", global = true)]
    fm_url: Option<String>,
    #[command(flatten)]
    auth: AuthArgs,
    /// Request timeout in seconds.
    #[arg(long, default_value_t = 600, global = true)]
    timeout: u64,
    #[command(subcommand)]
    cmd: Cmd,
}

/// Options of event-suppress and event-unsuppress.
#[derive(clap::Args, Debug)]
struct StatusArgs {
    /// Comma-separated alarm ids.
    #[arg(long = "alarm_id", required = true)]
    alarm_id: String,
    /// Show the UUID column.
    #[arg(long)]
    uuid: bool,
    /// Print everything at once.
    #[arg(long)]
    nopaging: bool,
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    out: Out,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Print a shell completion script (e.g. `. <(fm completion bash)`).
    Completion {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// List active alarms.
    #[command(name = "alarm-list")]
    AlarmList {
        /// Filters: field=value;field=value (fields: uuid, alarm_id, entity_type_id,
        /// entity_instance_id, severity, alarm_type).
        #[arg(short = 'q', long = "query")]
        query: Option<String>,
        /// Show the UUID column.
        #[arg(long)]
        uuid: bool,
        /// Include suppressed alarms (shown as S(id)).
        #[arg(long = "include_suppress")]
        include_suppress: bool,
        /// Show the Management Affecting column.
        #[arg(long = "mgmt_affecting")]
        mgmt_affecting: bool,
        /// Show the Degrade Affecting column.
        #[arg(long = "degrade_affecting")]
        degrade_affecting: bool,
        #[command(flatten)]
        out: Out,
    },
    /// Show an active alarm.
    #[command(name = "alarm-show")]
    AlarmShow {
        /// Alarm uuid.
        uuid: String,
        #[command(flatten)]
        out: Out,
    },
    /// Delete (clear) active alarms by uuid.
    #[command(name = "alarm-delete")]
    AlarmDelete {
        /// Alarm uuids.
        #[arg(required = true)]
        uuids: Vec<String>,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Counts of active alarms by severity.
    #[command(name = "alarm-summary")]
    AlarmSummary {
        /// Include suppressed alarms.
        #[arg(long = "include_suppress")]
        include_suppress: bool,
        #[command(flatten)]
        out: Out,
    },
    /// List the event log (alarm history and logs), newest first.
    #[command(name = "event-list")]
    EventList {
        /// Filters: event_log_id, entity_type_id, entity_instance_id, severity,
        /// start, end (e.g. "start=20160131 10:23:45;end=20171225").
        #[arg(short = 'q', long = "query")]
        query: Option<String>,
        /// At most this many records.
        #[arg(short = 'l', long = "limit")]
        limit: Option<u32>,
        /// Only alarm set/clear records.
        #[arg(long)]
        alarms: bool,
        /// Only log records.
        #[arg(long)]
        logs: bool,
        /// Show the UUID column.
        #[arg(long)]
        uuid: bool,
        /// Include records of suppressed alarm ids.
        #[arg(long = "include_suppress")]
        include_suppress: bool,
        /// Print everything at once.
        #[arg(long)]
        nopaging: bool,
        #[command(flatten)]
        out: Out,
    },
    /// Show an event-log record.
    #[command(name = "event-show")]
    EventShow {
        /// Record uuid.
        uuid: String,
        #[command(flatten)]
        out: Out,
    },
    /// Suppress alarm ids.
    #[command(name = "event-suppress")]
    EventSuppress(StatusArgs),
    /// Unsuppress alarm ids.
    #[command(name = "event-unsuppress")]
    EventUnsuppress(StatusArgs),
    /// Unsuppress every suppressed alarm id.
    #[command(name = "event-unsuppress-all")]
    EventUnsuppressAll {
        /// Show the UUID column.
        #[arg(long)]
        uuid: bool,
        /// Print everything at once.
        #[arg(long)]
        nopaging: bool,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        out: Out,
    },
    /// List suppressed alarm ids.
    #[command(name = "event-suppress-list")]
    EventSuppressList {
        /// Also list unsuppressed ids.
        #[arg(long = "include-unsuppressed")]
        include_unsuppressed: bool,
        /// Show the UUID column.
        #[arg(long)]
        uuid: bool,
        /// Print everything at once.
        #[arg(long)]
        nopaging: bool,
        #[command(flatten)]
        out: Out,
    },
}

fn main() {
    let cli = Cli::parse();
    starling_cli::finish("fm", run(cli))
}

fn client(cli: &Cli) -> Result<Client> {
    cli.auth.client(
        "FM",
        "faultmanagement",
        cli.fm_url.as_deref(),
        "FM_URL (or --fm-url)",
        &cli.auth.transport(Duration::from_secs(cli.timeout.max(1))),
    )
}

fn emit(s: String) -> Result<()> {
    starling_cli::out(&s)
}

fn run(cli: Cli) -> Result<()> {
    if let Cmd::Completion { shell } = cli.cmd {
        return starling_cli::completion(&mut <Cli as clap::CommandFactory>::command(), shell);
    }
    let c = client(&cli)?;
    match cli.cmd {
        // Answered before the client was made.
        Cmd::Completion { .. } => {}
        Cmd::AlarmList {
            query,
            uuid,
            include_suppress,
            mgmt_affecting,
            degrade_affecting,
            out,
        } => {
            let terms = parse_query(query.as_deref().unwrap_or(""))?;
            let mut extra = Vec::new();
            if include_suppress {
                extra.push(("include_suppress", "True".to_string()));
            }
            let mut alarms: Vec<wire::AlarmBrief<'static>> = c.get_all_as(
                &format!("/v1/alarms?{}", query_string(&terms, &extra)),
                "alarms",
            )?;
            alarms.sort_by_key(|a| std::cmp::Reverse(a.timestamp));
            let mut cols = vec![];
            if uuid {
                cols.push("UUID");
            }
            cols.extend(["Alarm ID", "Reason Text", "Entity ID", "Severity"]);
            if mgmt_affecting {
                cols.push("Management Affecting");
            }
            if degrade_affecting {
                cols.push("Degrade Affecting");
            }
            cols.push("Time Stamp");
            let mut t = Table::new(&cols);
            for a in &alarms {
                let mut r = vec![];
                if uuid {
                    r.push(a.uuid.to_string());
                }
                r.push(suppressed_id(&a.alarm_id, &a.suppression_status));
                r.push(a.reason_text.to_string());
                r.push(a.entity_instance_id.to_string());
                r.push(a.severity.to_string());
                if mgmt_affecting {
                    r.push(a.mgmt_affecting.to_string());
                }
                if degrade_affecting {
                    r.push(a.degrade_affecting.to_string());
                }
                r.push(a.timestamp.to_naive_iso());
                t.rows.push(r.into_iter().map(Value::String).collect());
            }
            emit(t.render(&out)?)?;
        }
        Cmd::AlarmShow { uuid, out } => {
            let a: wire::Alarm<'static> = c
                .get_as(&format!("/v1/alarms/{}", path_id(&uuid)?))
                .map_err(|e| not_found("Alarm", &uuid, e))?;
            let a = serde_json::to_value(&a)?;
            let keys = [
                "uuid",
                "alarm_id",
                "alarm_state",
                "entity_type_id",
                "entity_instance_id",
                "timestamp",
                "severity",
                "reason_text",
                "alarm_type",
                "probable_cause",
                "proposed_repair_action",
                "service_affecting",
                "suppression",
                "suppression_status",
                "mgmt_affecting",
                "degrade_affecting",
            ];
            let fields: Vec<(&str, Value)> = keys.iter().map(|k| (*k, field(&a, k))).collect();
            emit(Table::render_record(&fields, &out)?)?;
        }
        Cmd::AlarmDelete { uuids, yes } => {
            confirm("alarm-delete", yes)?;
            let mut failed = 0;
            for u in &uuids {
                match path_id(u).and_then(|p| c.delete(&format!("/v1/alarms/{p}"))) {
                    Ok(()) => starling_cli::outln(format!("Alarm {u} deleted."))?,
                    Err(e) => {
                        eprintln!("fm: {}", not_found("Alarm", u, e));
                        failed += 1;
                    }
                }
            }
            if failed > 0 {
                bail!("{failed} of {} alarm(s) could not be deleted", uuids.len());
            }
        }
        Cmd::AlarmSummary {
            include_suppress,
            out,
        } => {
            let path = if include_suppress {
                "/v1/alarms/summary?include_suppress=True"
            } else {
                "/v1/alarms/summary"
            };
            let v = c.get(path)?;
            // StarlingX answers an object or a list of one.
            let one = match v {
                Value::Array(a) => a.into_iter().next().unwrap_or(Value::Null),
                other => other,
            };
            let s: wire::Summary = serde_json::from_value(one)
                .map_err(|e| anyhow::anyhow!("unexpected answer from {path}: {e}"))?;
            let mut t = Table::new(&[
                "Critical Alarms",
                "Major Alarms",
                "Minor Alarms",
                "Warnings",
            ]);
            t.rows.push(vec![
                json!(s.critical),
                json!(s.major),
                json!(s.minor),
                json!(s.warnings),
            ]);
            emit(t.render(&out)?)?;
        }
        Cmd::EventList {
            query,
            limit,
            alarms,
            logs,
            uuid,
            include_suppress,
            nopaging,
            out,
        } => {
            let terms = parse_query(query.as_deref().unwrap_or(""))?;
            let mut extra = Vec::new();
            if let Some(l) = limit {
                if l == 0 {
                    bail!("--limit must be at least 1");
                }
                extra.push(("limit", l.to_string()));
            }
            if alarms {
                extra.push(("alarms", "True".to_string()));
            }
            if logs {
                extra.push(("logs", "True".to_string()));
            }
            if include_suppress {
                extra.push(("include_suppress", "True".to_string()));
            }
            let path = format!("/v1/event_log?{}", query_string(&terms, &extra));
            let events: Vec<wire::Event<'static>> = match limit {
                // The user asked for N: one page of N.
                Some(_) => c.get_as::<wire::EventList<'static>>(&path)?.event_log,
                None => c.get_all_as(&path, "event_log")?,
            };
            let mut cols = vec![];
            if uuid {
                cols.push("UUID");
            }
            cols.extend([
                "Time Stamp",
                "State",
                "Event Log ID",
                "Reason Text",
                "Entity Instance ID",
                "Severity",
            ]);
            let mut t = Table::new(&cols);
            for e in &events {
                let e = e.brief();
                let mut r = vec![];
                if uuid {
                    r.push(e.uuid.to_string());
                }
                r.push(e.timestamp.to_naive_iso());
                r.push(e.state.to_string());
                r.push(suppressed_id(&e.event_log_id, &e.suppression_status));
                r.push(e.reason_text.to_string());
                r.push(e.entity_instance_id.to_string());
                r.push(e.severity.to_string());
                t.rows.push(r.into_iter().map(Value::String).collect());
            }
            page_out(
                &t.render(&out)?,
                3,
                !nopaging && out.format == Format::Table,
            )?;
        }
        Cmd::EventShow { uuid, out } => {
            let e: wire::Event<'static> = c
                .get_as(&format!("/v1/event_log/{}", path_id(&uuid)?))
                .map_err(|e| not_found("Event log", &uuid, e))?;
            let e = serde_json::to_value(&e)?;
            let keys = [
                "uuid",
                "event_log_id",
                "state",
                "entity_type_id",
                "entity_instance_id",
                "timestamp",
                "severity",
                "reason_text",
                "event_log_type",
                "probable_cause",
                "proposed_repair_action",
                "service_affecting",
                "suppression",
                "suppression_status",
            ];
            let fields: Vec<(&str, Value)> = keys.iter().map(|k| (*k, field(&e, k))).collect();
            emit(Table::render_record(&fields, &out)?)?;
        }
        Cmd::EventSuppress(a) => change_status(&c, "event-suppress", &a, "suppressed")?,
        Cmd::EventUnsuppress(a) => change_status(&c, "event-unsuppress", &a, "unsuppressed")?,
        Cmd::EventUnsuppressAll {
            uuid,
            nopaging,
            yes,
            out,
        } => {
            confirm("event-unsuppress-all", yes)?;
            let rows: Vec<wire::SuppressionBrief<'static>> = c.get_all_as(
                "/v1/event_suppression?q.field=suppression_status&q.op=eq&q.type=&q.value=suppressed",
                "event_suppression",
            )?;
            let all: Vec<String> = rows.iter().map(|r| r.alarm_id.to_string()).collect();
            set_status(&c, &all, "unsuppressed")?;
            list_suppression(&c, false, uuid, nopaging, &out)?;
        }
        Cmd::EventSuppressList {
            include_unsuppressed,
            uuid,
            nopaging,
            out,
        } => list_suppression(&c, include_unsuppressed, uuid, nopaging, &out)?,
    }
    Ok(())
}

fn change_status(c: &Client, cmd: &str, a: &StatusArgs, status: &str) -> Result<()> {
    confirm(cmd, a.yes)?;
    set_status(c, &ids(&a.alarm_id)?, status)?;
    list_suppression(c, false, a.uuid, a.nopaging, &a.out)
}

/// `S(id)` for suppressed records, as StarlingX shows them.
fn suppressed_id(id: &str, status: &str) -> String {
    if status == "suppressed" {
        format!("S({id})")
    } else {
        id.to_string()
    }
}

/// A uuid path segment; anything else cannot name an alarm or record.
fn path_id(u: &str) -> Result<String> {
    let ok = u.len() == 36 && u.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    if ok {
        Ok(u.to_string())
    } else {
        bail!("'{u}' is not a uuid")
    }
}

fn not_found(what: &str, id: &str, e: anyhow::Error) -> anyhow::Error {
    if e.to_string().contains("could not be found") {
        anyhow::anyhow!("{what} not found: {id}")
    } else {
        e
    }
}

fn ids(list: &str) -> Result<Vec<String>> {
    let v: Vec<String> = list
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if v.is_empty() {
        bail!("--alarm_id needs at least one alarm id");
    }
    Ok(v)
}

/// Sets the status of each id. Every id is checked before anything changes;
/// unknown ids are an error (StarlingX ignored them silently).
fn set_status(c: &Client, ids: &[String], status: &str) -> Result<()> {
    let rows: Vec<wire::SuppressionBrief<'static>> =
        c.get_all_as("/v1/event_suppression", "event_suppression")?;
    let mut targets = Vec::new();
    let mut unknown = Vec::new();
    for id in ids {
        match rows.iter().find(|r| r.alarm_id == id.as_str()) {
            Some(r) => targets.push((id.clone(), r.uuid.to_string())),
            None => unknown.push(id.clone()),
        }
    }
    if !unknown.is_empty() {
        bail!(
            "unknown alarm id(s): {} (nothing was changed)",
            unknown.join(", ")
        );
    }
    let body = serde_json::to_value(starling_wire::JsonPatch(vec![wire::PatchOp {
        op: "replace".into(),
        path: "/suppression_status".into(),
        value: Some(json!(status)),
        from: None,
    }]))?;
    let total = targets.len();
    for (i, (id, u)) in targets.iter().enumerate() {
        c.patch(&format!("/v1/event_suppression/{u}"), &body)?;
        starling_cli::outln(format!("Alarm ID: {id} {status}."))?;
        if total > 20 && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            eprint!("\r{}/{total}", i + 1);
        }
    }
    if total > 20 && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        eprintln!();
    }
    Ok(())
}

fn list_suppression(
    c: &Client,
    include_unsuppressed: bool,
    uuid: bool,
    nopaging: bool,
    out: &Out,
) -> Result<()> {
    let path = if include_unsuppressed {
        "/v1/event_suppression".to_string()
    } else {
        "/v1/event_suppression?q.field=suppression_status&q.op=eq&q.type=&q.value=suppressed"
            .to_string()
    };
    let mut rows: Vec<wire::SuppressionBrief<'static>> =
        c.get_all_as(&path, "event_suppression")?;
    rows.sort_by(|a, b| a.alarm_id.cmp(&b.alarm_id));
    let mut cols = vec![];
    if uuid {
        cols.push("UUID");
    }
    cols.extend(["Event ID", "Status"]);
    let mut t = Table::new(&cols);
    for r in &rows {
        let mut row = vec![];
        if uuid {
            row.push(r.uuid.to_string());
        }
        row.push(r.alarm_id.to_string());
        row.push(r.suppression_status.to_string());
        t.rows.push(row.into_iter().map(Value::String).collect());
    }
    page_out(&t.render(out)?, 3, !nopaging && out.format == Format::Table)
}
