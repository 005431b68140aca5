//! The agent's command channel. An action that a host's agent carries out
//! (reboot, reset, reinstall, power-on, power-off) stays in the host's
//! `action`/`task` until the agent reports back:
//!
//! - `GET /v1/agent/{host}/command?wait=S` answers the pending command at
//!   once, or waits up to `S` seconds (at most 60) for one — a long poll, so
//!   an agent reacts within a round trip without holding a connection
//!   open per host forever;
//! - `PUT /v1/agent/{host}/command` `{"command", "ok", "message"}` reports
//!   the outcome: the task is cleared and the state follows.

use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use starling_http::{ApiError, ApiJson, Principal, QueryPairs, json};
use starling_inventory::Host;
use starling_inventory::lifecycle::{AgentCommand, CommandSink, Transition};
use starling_inventory::ops;
use starling_inventory::repo::HostRef;
use starling_inventory_types::{Command, Outcome, OutcomeResult};
use tokio::sync::watch;

use crate::InventoryState;

/// Longest long poll.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// Longest outcome message an agent may send.
const MAX_MESSAGE: usize = 1024;

/// Rung whenever an agent command is issued; waiting polls wake and look.
#[derive(Clone, Debug)]
pub struct CommandBell(watch::Sender<u64>);

impl Default for CommandBell {
    fn default() -> Self {
        CommandBell(watch::channel(0).0)
    }
}

impl CommandBell {
    /// Wakes every waiting poll.
    pub fn ring(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn listen(&self) -> watch::Receiver<u64> {
        self.0.subscribe()
    }

    /// How many agents are waiting in a long poll now (an agent polls
    /// again as soon as a poll ends: the agents connected).
    pub fn waiting(&self) -> usize {
        self.0.receiver_count()
    }
}

/// The agents' long polls are where commands are delivered: a command
/// issued wakes them.
impl CommandSink for CommandBell {
    fn issued(&self, host: &Host, command: AgentCommand) {
        tracing::info!(host = %host.display_name(), command = command.as_str(), "agent command pending");
        self.ring();
    }
}

/// A task as sysinv shows it: `null` when there is none.
fn task(t: &str) -> Option<String> {
    (!t.is_empty()).then(|| t.to_string())
}

/// `GET /v1/agent/{host}/command`.
pub(crate) async fn poll(
    State(st): State<InventoryState>,
    Extension(who): Extension<Arc<Principal>>,
    Path(host): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let q = QueryPairs::parse(q.as_deref());
    q.only_params(crate::openapi::POLL_PARAMS)?;
    let wait = match q.last("wait") {
        None => Duration::ZERO,
        Some(w) => w
            .parse::<u64>()
            .ok()
            .map(Duration::from_secs)
            .filter(|d| *d <= MAX_WAIT)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Invalid wait '{w}': whole seconds from 0 to {}",
                    MAX_WAIT.as_secs()
                ))
            })?,
    };
    let deadline = tokio::time::Instant::now() + wait;
    // Listen before looking, so a command issued in between still wakes us.
    let mut bell = st.commands.listen();
    loop {
        let r = HostRef::parse(&host);
        let who = who.clone();
        let h = st
            .read(move |repo| {
                crate::agents::check_own(repo, who.agent.as_ref(), &r)?;
                ops::host(repo, &r)
            })
            .await?;
        // A command the host's BMC carries out is not its agent's.
        let cmd = match AgentCommand::parse(&h.ihost_action) {
            Some(c) if !st.by_bmc(&h, c).await? => Some(c),
            _ => None,
        };
        if let Some(cmd) = cmd {
            return Ok(json(
                StatusCode::OK,
                &Command {
                    command: Some(cmd.as_str().into()),
                    ihost_uuid: h.uuid,
                    task: task(&h.task),
                },
            ));
        }
        match tokio::time::timeout_at(deadline, bell.changed()).await {
            Ok(Ok(())) => continue,
            // The deadline passed, or the service is stopping.
            Ok(Err(_)) | Err(_) => {
                return Ok(json(
                    StatusCode::OK,
                    &Command {
                        command: None,
                        ihost_uuid: h.uuid,
                        task: task(&h.task),
                    },
                ));
            }
        }
    }
}

/// A failed command's log says why.
pub(crate) fn with_message(t: &mut Transition, ok: bool, message: Option<&str>) {
    if let (Some(ev), Some(m), false) = (&mut t.event, message, ok) {
        ev.text.push_str(": ");
        ev.text.push_str(m);
    }
}

/// `PUT /v1/agent/{host}/command`: the command finished (`ok`) or failed;
/// the task clears, the outcome is logged (200.022), a failure with the
/// agent's message.
pub(crate) async fn done(
    State(st): State<InventoryState>,
    Extension(who): Extension<Arc<Principal>>,
    Path(host): Path<String>,
    ApiJson(o): ApiJson<Outcome>,
) -> Result<Response, ApiError> {
    let cmd = AgentCommand::parse(&o.command).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Invalid command '{}': reboot, reset, reinstall, power-on or power-off",
            o.command
        ))
    })?;
    let message = o
        .message
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty());
    if let Some(m) = &message
        && m.len() > MAX_MESSAGE
    {
        return Err(ApiError::bad_request(format!(
            "The message is {} bytes long; at most {MAX_MESSAGE} are kept",
            m.len()
        )));
    }
    let r = HostRef::parse(&host);
    let ok = o.ok;
    let mut t = st
        .write(move |repo, now| {
            crate::agents::check_own(repo, who.agent.as_ref(), &r)?;
            ops::complete(repo, &r, cmd, ok, now)
        })
        .await?;
    with_message(&mut t, ok, message.as_deref());
    st.carry_out(&t).await;
    Ok(json(
        StatusCode::OK,
        &OutcomeResult {
            availability: t.host.availability.as_str().into(),
            task: task(&t.host.task),
            ihost_uuid: t.host.uuid,
        },
    ))
}
