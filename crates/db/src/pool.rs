//! Connection worker threads. Each worker owns one connection and runs shipped
//! closures inside transactions; the SQLite writer groups several queued
//! transactions into one commit (group commit).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use starling_common::histogram::Histogram;

use tokio::sync::oneshot;

use crate::backend::{Backend, Opener};
use crate::{Conn, DbUrl, Dialect, StorageFailure, StorageKind, TxError};

/// Pool sizes and commit grouping.
#[derive(Clone, Copy, Debug)]
pub struct Tuning {
    /// Writer connections for PostgreSQL/MariaDB (SQLite always has one writer).
    pub writers: usize,
    /// Reader connections.
    pub readers: usize,
    /// Most transactions the SQLite writer commits together.
    pub max_group: usize,
    /// Attempts for a transaction that hits transient conflicts.
    pub max_attempts: u32,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            writers: 4,
            readers: 4,
            max_group: 256,
            max_attempts: 5,
        }
    }
}

/// A unit of work with a typed result channel, type-erased for the worker.
trait Work: Send {
    /// Runs the closure; returns whether it succeeded.
    fn run(&mut self, c: &mut dyn Conn) -> bool;
    /// The closure failed in a way a retry may fix.
    fn retryable(&self) -> bool;
    /// Delivers the result now that the transaction's fate is known.
    fn finish(self: Box<Self>, commit: Result<(), StorageFailure>);
}

struct Task<F, R, E> {
    f: F,
    out: Option<Result<R, E>>,
    reply: oneshot::Sender<Result<R, E>>,
}

impl<F, R, E> Work for Task<F, R, E>
where
    F: FnMut(&mut dyn Conn) -> Result<R, E> + Send,
    R: Send,
    E: TxError,
{
    fn run(&mut self, c: &mut dyn Conn) -> bool {
        let r = match catch_unwind(AssertUnwindSafe(|| (self.f)(c))) {
            Ok(r) => r,
            Err(_) => Err(E::from(StorageFailure::new(
                StorageKind::Other,
                "transaction closure panicked",
            ))),
        };
        let ok = r.is_ok();
        self.out = Some(r);
        ok
    }
    fn retryable(&self) -> bool {
        matches!(&self.out, Some(Err(e)) if e.is_retryable())
    }
    fn finish(mut self: Box<Self>, commit: Result<(), StorageFailure>) {
        let result = match commit {
            Err(e) => Err(E::from(e)),
            Ok(()) => self.out.take().unwrap_or_else(|| {
                Err(E::from(StorageFailure::new(
                    StorageKind::Other,
                    "no result",
                )))
            }),
        };
        // The caller may have gone away; nothing to do then.
        let _ = self.reply.send(result);
    }
}

type Job = Box<dyn Work>;

/// A set of worker threads sharing one job queue.
pub(crate) struct Pool {
    tx: Mutex<Sender<Job>>,
    pub(crate) stats: Arc<PoolStats>,
}

/// What a pool's metrics read.
#[derive(Default)]
pub(crate) struct PoolStats {
    /// Jobs submitted and not yet finished (queued or running).
    pub(crate) outstanding: AtomicUsize,
    /// The time of each read-write commit (a group's once).
    pub(crate) commits: Mutex<Histogram>,
}

impl PoolStats {
    fn committed(&self, since: Instant) {
        let took = since.elapsed();
        self.commits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .observe(took);
    }
}

#[derive(Clone, Copy)]
enum Mode {
    /// One transaction per job, retried on transient conflicts.
    Single { read_only: bool, attempts: u32 },
    /// Up to `max` queued jobs per transaction, each in a savepoint.
    Group { max: usize },
}

impl Pool {
    fn start(
        name: &str,
        workers: usize,
        mode: Mode,
        opener: Arc<dyn Opener>,
    ) -> Result<Pool, StorageFailure> {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let stats = Arc::new(PoolStats::default());
        for i in 0..workers.max(1) {
            // Open eagerly so a bad URL or a missing server fails at start-up.
            let conn = opener.open()?;
            let rx = rx.clone();
            let opener = opener.clone();
            let stats = stats.clone();
            std::thread::Builder::new()
                .name(format!("db-{name}-{i}"))
                .spawn(move || worker(rx, conn, opener, mode, &stats))
                .map_err(|e| StorageFailure::connection(format!("cannot start db thread: {e}")))?;
        }
        Ok(Pool {
            tx: Mutex::new(tx),
            stats,
        })
    }

    pub(crate) async fn run<R, E, F>(&self, f: F) -> Result<R, E>
    where
        F: FnMut(&mut dyn Conn) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: TxError,
    {
        let (reply, rx) = oneshot::channel();
        let job: Job = Box::new(Task {
            f,
            out: None,
            reply,
        });
        {
            let sender = self
                .tx
                .lock()
                .map_err(|_| E::from(StorageFailure::connection("db queue poisoned")))?;
            self.stats.outstanding.fetch_add(1, Ordering::Relaxed);
            if sender.send(job).is_err() {
                self.stats.outstanding.fetch_sub(1, Ordering::Relaxed);
                return Err(E::from(StorageFailure::connection("db workers stopped")));
            }
        }
        rx.await
            .map_err(|_| E::from(StorageFailure::connection("db worker dropped the request")))?
    }
}

/// The writer and reader pools of one database.
pub(crate) struct Pools {
    pub(crate) dialect: Dialect,
    pub(crate) writer: Pool,
    pub(crate) reader: Pool,
}

impl Pools {
    pub(crate) fn open(url: DbUrl, t: Tuning) -> Result<Pools, StorageFailure> {
        let (dialect, writer_opener, reader_opener) = crate::backend::openers(&url)?;
        let attempts = t.max_attempts.max(1);
        let writer = if dialect == Dialect::Sqlite {
            Pool::start(
                "w",
                1,
                Mode::Group {
                    max: t.max_group.max(1),
                },
                writer_opener,
            )?
        } else {
            Pool::start(
                "w",
                t.writers,
                Mode::Single {
                    read_only: false,
                    attempts,
                },
                writer_opener,
            )?
        };
        let reader = Pool::start(
            "r",
            t.readers,
            Mode::Single {
                read_only: true,
                attempts,
            },
            reader_opener,
        )?;
        Ok(Pools {
            dialect,
            writer,
            reader,
        })
    }
}

fn next_batch(rx: &Mutex<Receiver<Job>>, max: usize) -> Option<Vec<Job>> {
    let rx = rx.lock().ok()?;
    let first = rx.recv().ok()?;
    let mut batch = vec![first];
    take_queued(&rx, &mut batch, max);
    Some(batch)
}

/// Moves jobs already queued into `batch`, up to `max` in all, without waiting.
fn take_queued(rx: &Receiver<Job>, batch: &mut Vec<Job>, max: usize) {
    while batch.len() < max {
        match rx.try_recv() {
            Ok(j) => batch.push(j),
            Err(_) => break,
        }
    }
}

fn worker(
    rx: Arc<Mutex<Receiver<Job>>>,
    conn: Box<dyn Backend>,
    opener: Arc<dyn Opener>,
    mode: Mode,
    stats: &PoolStats,
) {
    let outstanding = &stats.outstanding;
    let mut conn = Some(conn);
    let mut pace = Pace::new(match mode {
        Mode::Single { .. } => 1,
        Mode::Group { max } => max,
    });
    while let Some(batch) = next_batch(&rx, pace.cap()) {
        let n = batch.len();
        // Reconnect lazily after a lost connection.
        if conn.as_ref().is_none_or(|c| c.is_broken()) {
            match opener.open() {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    tracing::warn!(error = %e, "database reconnect failed");
                    conn = None;
                    fail_all(batch, &e);
                    outstanding.fetch_sub(n, Ordering::Relaxed);
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        let done = match mode {
            Mode::Single {
                read_only,
                attempts,
            } => {
                for job in batch {
                    run_single(c.as_mut(), job, read_only, attempts, stats);
                }
                n
            }
            Mode::Group { .. } => run_group(c.as_mut(), batch, &rx, &mut pace, stats),
        };
        outstanding.fetch_sub(done, Ordering::Relaxed);
    }
}

/// How many jobs the next group may take. In a steady stream the writer
/// serves about as many concurrent requests as it ever sees waiting on it
/// (`peak`); a group takes half of them, so that while one half's commit is
/// being synced the other half's requests travel and queue, and the next
/// group starts full the moment the commit ends. A group that took them all
/// would leave the writer idle after its commit, until its own requesters came
/// back (measured: +17-30% sets/s with 16 clients in a closed loop, +8% with
/// 32). The peak is sampled at each commit and decays, so a fall in load is
/// followed within tens of groups.
struct Pace {
    max: usize,
    peak: usize,
}

impl Pace {
    fn new(max: usize) -> Pace {
        Pace { max, peak: 0 }
    }

    fn cap(&self) -> usize {
        // Two jobs at least: below that, halving saves no time and costs a
        // commit per job.
        self.peak.div_ceil(2).max(2).min(self.max)
    }

    /// Records how many jobs were waiting on the writer as a commit ended.
    fn observe(&mut self, waiting: usize) {
        self.peak = waiting.max(self.peak - self.peak.div_ceil(16));
    }
}

fn run_single(
    c: &mut dyn Backend,
    mut job: Job,
    read_only: bool,
    attempts: u32,
    stats: &PoolStats,
) {
    let mut attempt = 0;
    loop {
        attempt += 1;
        if let Err(e) = c.begin(read_only) {
            job.finish(Err(e));
            return;
        }
        let ok = job.run(c.as_conn());
        if ok {
            let started = Instant::now();
            let commit = c.commit();
            if !read_only {
                stats.committed(started);
            }
            match commit {
                Ok(()) => {
                    job.finish(Ok(()));
                    return;
                }
                Err(e) if e.kind == StorageKind::Retry && attempt < attempts => continue,
                Err(e) => {
                    let _ = c.rollback();
                    job.finish(Err(e));
                    return;
                }
            }
        }
        let rolled_back = c.rollback();
        if job.retryable() && attempt < attempts && rolled_back.is_ok() {
            continue;
        }
        // Deliver the closure's own error.
        job.finish(Ok(()));
        return;
    }
}

/// Commits a group of jobs in one transaction. Jobs almost always succeed, so
/// the group first runs them back to back; only when one fails is the whole
/// transaction rolled back and the group run again with each job in its own
/// savepoint, so that the failed job's writes go and the others' stay. (A
/// savepoint per job costs two statements and a statement journal of every
/// page the job touches, on every job, for the rare failure.) Jobs are
/// re-runnable closures, as a retried single transaction already requires.
///
/// Jobs queued while the group ran join it before the commit (up to `max`):
/// a request that arrives while the writer is still running statements rides
/// this commit instead of waiting out the commit and a whole next cycle.
/// Returns how many jobs the group took from the queue.
fn run_group(
    c: &mut dyn Backend,
    mut batch: Vec<Job>,
    rx: &Mutex<Receiver<Job>>,
    pace: &mut Pace,
    stats: &PoolStats,
) -> usize {
    if let Err(e) = c.begin(false) {
        let taken = batch.len();
        fail_all(batch, &e);
        return taken;
    }
    let max = pace.cap();
    let mut all_ok = batch.iter_mut().all(|job| job.run(c.as_conn()));
    let mut ran = batch.len();
    while all_ok && batch.len() < max {
        if let Ok(rx) = rx.lock() {
            take_queued(&rx, &mut batch, max);
        }
        if batch.len() == ran {
            break;
        }
        all_ok = batch[ran..].iter_mut().all(|job| job.run(c.as_conn()));
        ran = batch.len();
    }
    let taken = batch.len();
    if !all_ok {
        if let Err(e) = c.rollback().and_then(|()| c.begin(false)) {
            fail_all(batch, &e);
            return taken;
        }
        batch = run_in_savepoints(c, batch);
    }
    let started = Instant::now();
    let commit = c.commit();
    stats.committed(started);
    if commit.is_err() {
        let _ = c.rollback();
    }
    pace.observe(stats.outstanding.load(Ordering::Relaxed));
    for job in batch {
        job.finish(commit.clone());
    }
    taken
}

/// Finishes every job of `batch` with `e`: none of them ran to a commit.
fn fail_all(batch: Vec<Job>, e: &StorageFailure) {
    for job in batch {
        job.finish(Err(e.clone()));
    }
}

/// Runs each job in its own savepoint inside the open transaction; returns the
/// jobs still to be finished with the commit's outcome (a job whose savepoint
/// could not be taken is finished here with that error).
fn run_in_savepoints(c: &mut dyn Backend, batch: Vec<Job>) -> Vec<Job> {
    let mut done = Vec::with_capacity(batch.len());
    for mut job in batch {
        let sp = c.as_conn().exec("SAVEPOINT job", &[]).map(|_| ());
        if let Err(e) = sp {
            job.finish(Err(e));
            continue;
        }
        let ok = job.run(c.as_conn());
        if !ok {
            let _ = c.as_conn().exec("ROLLBACK TO SAVEPOINT job", &[]);
        }
        let _ = c.as_conn().exec("RELEASE SAVEPOINT job", &[]);
        done.push(job);
    }
    done
}

#[cfg(test)]
mod tests {
    use super::Pace;

    #[test]
    fn a_group_takes_half_of_the_writers_waiting_and_follows_a_fall_in_load() {
        let mut p = Pace::new(256);
        assert_eq!(p.cap(), 2, "two before anything was seen");
        p.observe(16);
        assert_eq!(p.cap(), 8);
        p.observe(9);
        assert_eq!(p.cap(), 8, "the peak decays, it is not replaced");
        p.observe(1000);
        assert_eq!(p.cap(), 256, "never above the configured maximum");
        let mut commits = 0;
        while p.cap() > 2 {
            p.observe(1);
            commits += 1;
        }
        assert!(
            commits <= 100,
            "took {commits} commits to follow the fall from 1000"
        );
        assert_eq!(Pace::new(1).cap(), 1, "one job per transaction stays one");
    }
}
