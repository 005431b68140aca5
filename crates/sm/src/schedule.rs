//! Where a service group runs (StarlingX SM's scheduler, the selection
//! part): for an N+M group, each node that may host it is weighed — +50
//! when it already is what it was asked to be, +25 when it was asked and
//! is not there yet (stickiness: a group does not flap between equal
//! nodes) — and the `n_active` heaviest are chosen active, the next
//! `m_standby` standby, ties going to the node whose state changed
//! longest ago. A node that is unavailable, locked, or asked to swact away
//! is never chosen active.

use std::time::Duration;

/// A group's role on a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Desired {
    Active,
    Standby,
    Disabled,
}

/// One node as the scheduler sees it, with the group's assignment there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    pub node: String,
    /// Enabled and reachable (maintenance and the peer link say so).
    pub available: bool,
    pub locked: bool,
    /// Asked to give its active groups away (a swact).
    pub swact: bool,
    /// What the group was asked to be there.
    pub desired: Desired,
    /// What the group is there now.
    pub state: Desired,
    /// When that state was reached (the caller's clock).
    pub since: Duration,
}

impl Placement {
    fn may_be_active(&self) -> bool {
        self.available && !self.locked && !self.swact
    }

    fn weight(&self, role: Desired) -> i32 {
        let mut w = 0;
        if self.desired == role && self.state == role {
            w += 50;
        } else if self.desired == role {
            w += 25;
        }
        w
    }
}

/// What each node (in `nodes`' order) is to be: `n_active` actives and
/// `m_standby` standbys among the nodes that may hold them, the rest
/// disabled.
pub fn select(nodes: &[Placement], n_active: usize, m_standby: usize) -> Vec<Desired> {
    let mut out = vec![Desired::Disabled; nodes.len()];
    let rank = |role: Desired, pool: &[usize]| {
        let mut v: Vec<usize> = pool.to_vec();
        v.sort_by(|a, b| {
            let (x, y) = (&nodes[*a], &nodes[*b]);
            y.weight(role)
                .cmp(&x.weight(role))
                .then(x.since.cmp(&y.since))
                .then(x.node.cmp(&y.node))
        });
        v
    };
    let pool: Vec<usize> = (0..nodes.len())
        .filter(|i| nodes[*i].may_be_active())
        .collect();
    let actives: Vec<usize> = rank(Desired::Active, &pool)
        .into_iter()
        .take(n_active)
        .collect();
    for i in &actives {
        out[*i] = Desired::Active;
    }
    // Standbys: any available node not active (a node asked to swact
    // away, or locked, may still be standby only if available and not
    // locked).
    let pool: Vec<usize> = (0..nodes.len())
        .filter(|i| !actives.contains(i) && nodes[*i].available && !nodes[*i].locked)
        .collect();
    for i in rank(Desired::Standby, &pool).into_iter().take(m_standby) {
        out[i] = Desired::Standby;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, desired: Desired, state: Desired, since: u64) -> Placement {
        Placement {
            node: name.into(),
            available: true,
            locked: false,
            swact: false,
            desired,
            state,
            since: Duration::from_secs(since),
        }
    }

    use Desired::*;

    #[test]
    fn the_active_stays_where_it_is() {
        let nodes = [
            node("controller-0", Standby, Standby, 10),
            node("controller-1", Active, Active, 20),
        ];
        assert_eq!(select(&nodes, 1, 1), [Standby, Active]);
        // Fresh nodes, nothing asked: the older state change wins.
        let nodes = [
            node("controller-0", Disabled, Disabled, 30),
            node("controller-1", Disabled, Disabled, 5),
        ];
        assert_eq!(select(&nodes, 1, 1), [Standby, Active]);
    }

    #[test]
    fn a_swact_moves_the_active_and_keeps_the_old_one_standby() {
        let mut nodes = [
            node("controller-0", Active, Active, 10),
            node("controller-1", Standby, Standby, 10),
        ];
        nodes[0].swact = true;
        assert_eq!(select(&nodes, 1, 1), [Standby, Active]);
    }

    #[test]
    fn unavailable_and_locked_nodes_hold_nothing() {
        let mut nodes = [
            node("controller-0", Active, Active, 10),
            node("controller-1", Standby, Standby, 10),
        ];
        nodes[0].available = false;
        assert_eq!(select(&nodes, 1, 1), [Disabled, Active]);
        nodes[0].available = true;
        nodes[1].locked = true;
        assert_eq!(select(&nodes, 1, 1), [Active, Disabled]);
        // Nobody may: nobody is.
        nodes[0].available = false;
        assert_eq!(select(&nodes, 1, 1), [Disabled, Disabled]);
    }

    #[test]
    fn an_active_active_group_runs_on_both() {
        let nodes = [
            node("controller-0", Active, Active, 10),
            node("controller-1", Disabled, Disabled, 10),
        ];
        assert_eq!(select(&nodes, 2, 0), [Active, Active]);
    }
}
