//! Service management (StarlingX's SM): which of two controllers runs the
//! control plane's service groups active, and how a controller that stops
//! hearing its peer decides what to do without ever letting both be
//! active.
//!
//! This crate holds the rules, pure and clock-free: the domain election
//! ([`election`]), the failover state machine with its survivor
//! selection ([`failover`]), and a service group's members — their
//! failures folded into its status by impact, and the dependency-ordered,
//! throttled order in which they go active, standby or disabled
//! ([`group`]); and where a group runs, by the scheduler's sticky weights
//! ([`schedule`]); and the witnesses' book ([`witness`]), the hosts'
//! answers that decide a partition. The peer protocol, the service groups and
//! their executors, and the replicated database come in the crates around
//! it.

pub mod alarms;
pub mod election;
pub mod failover;
pub mod group;
pub mod model;
pub mod node;
pub mod schedule;
pub mod witness;

pub use election::{Candidate, elect};
pub use failover::{
    Concern, Decision, Down, Failover, Policy, Role, Seen, State, Unfenced, Witnesses,
};
