//! `starling-agent`: the host agent alone, for the hosts of a cloud. The
//! same agent as `starlingd agent` (same options and variables), linked
//! without the controller services so that it stays small on every host.

use std::sync::Arc;

use clap::{CommandFactory, FromArgMatches, Parser};
use starling_common::SystemClock;
use starling_server::{AgentArgs, LogFormat, RemoteAuthArgs, agent_config, init_logging, shutdown};

#[derive(Parser, Debug)]
#[command(
    name = "starling-agent",
    version,
    about = "Starling host agent: discovers this host's hardware and keeps the controller's inventory of it up to date"
)]
struct Cli {
    #[command(flatten)]
    agent: AgentArgs,
    /// How the agent logs in as an identity user instead of with its host's
    /// own credential (password in STARLING_AUTH_PASSWORD); without
    /// --auth-url and enrollment, STARLING_AGENT_TOKEN is sent.
    #[command(flatten)]
    remote: RemoteAuthArgs,
    /// Log filter: a level (error, warn, info, debug, trace, off) and/or
    /// TARGET=LEVEL directives, comma-separated (e.g. info,starling_agent=debug).
    #[arg(long, env = "STARLING_LOG", default_value = "info")]
    log: String,
    /// Log line format.
    #[arg(long, env = "STARLING_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
}

/// The agent's own words for the identity options it shares with the
/// services (it has no database to check tokens against).
fn command() -> clap::Command {
    Cli::command()
        .mut_arg("auth_url", |a| {
            a.help(
                "Identity service the agent logs in to as a user (Starling's or Keystone), \
                 e.g. http://ctl:5000/v3, with the password in STARLING_AUTH_PASSWORD. \
                 Usually not needed: with the controller's enrollment secret in \
                 STARLING_AGENT_ENROLLMENT the agent gets a credential of its own for its \
                 host; without either, the token in STARLING_AGENT_TOKEN is sent",
            )
        })
        .mut_arg("auth_username", |a| {
            a.help("The agent's user on the identity service.")
        })
}

fn main() {
    let cli = match Cli::from_arg_matches(&command().get_matches()) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    if let Err(e) = init_logging(&cli.log, cli.log_format) {
        eprintln!("starling-agent: {e:#}");
        std::process::exit(2);
    }
    // Discovery runs on blocking threads; two workers are plenty for the
    // agent's few requests.
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("starling-agent")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("starling-agent: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let run = async {
        let cfg = agent_config(&cli.agent, &cli.remote, Arc::new(SystemClock)).await?;
        starling_server::sd_notify("READY=1");
        starling_agent::run::run(cfg, shutdown()).await;
        anyhow::Ok(())
    };
    if let Err(e) = rt.block_on(run) {
        eprintln!("starling-agent: {e:#}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_speaks_of_the_agent() {
        let help = command().render_long_help().to_string();
        assert!(help.contains("STARLING_AUTH_PASSWORD"), "{help}");
        assert!(help.contains("STARLING_AGENT_TOKEN"), "{help}");
        assert!(help.contains("STARLING_AGENT_ENROLLMENT"), "{help}");
        assert!(!help.contains("database"), "{help}");
    }
}
