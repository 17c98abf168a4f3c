//! The node tables a bundle holds one entry per peer in (`ip route`, `ip
//! neigh`, `bridge fdb`: N² lines over a cluster) are parsed on a worker
//! thread while the stream goes on; the builder applies each result in the
//! order the files came, and orders diagnostics as if it had parsed them in
//! place (see `Builder::finish`).

use kdiag_bundle::{Layout, NodeFile};
use kdiag_parse::iproute::{FdbEntry, Neighbor, Route};
use kdiag_parse::lines::decode;
use kdiag_parse::{Parsed, iproute};
use std::sync::mpsc;
use std::thread::JoinHandle;

/// Files read but not yet parsed, at most: bounds the bytes in flight.
const QUEUE: usize = 16;

/// Whether a node file is parsed on the worker.
pub(super) fn offloaded(file: &NodeFile) -> bool {
    matches!(
        file,
        NodeFile::IpRoute | NodeFile::IpNeigh | NodeFile::BridgeFdb
    )
}

/// One file for the worker.
pub(super) struct Job {
    /// The file's place in the stream.
    pub seq: u64,
    /// Its entry in `Snapshot::files`.
    pub info_index: usize,
    pub path: String,
    pub node: String,
    pub file: NodeFile,
    pub layout: Layout,
    pub bytes: Vec<u8>,
}

/// What the worker read.
pub(super) enum Table {
    Routes(Parsed<Route>),
    Neighbors(Parsed<Neighbor>),
    Fdb(Parsed<FdbEntry>),
    /// A file kind the worker does not parse (`offloaded` sends none).
    Unread,
}

/// A parsed file, back from the worker.
pub(super) struct Done {
    pub job: Job,
    /// The bytes were not all UTF-8 (replaced).
    pub lossy: bool,
    pub table: Table,
}

/// The worker and the channels to it.
pub(super) struct Worker {
    jobs: Option<mpsc::SyncSender<Job>>,
    done: mpsc::Receiver<Done>,
    handle: Option<JoinHandle<()>>,
    /// Sent and not yet received.
    pending: usize,
}

impl Worker {
    /// Starts the worker; `None` when no thread can be started (the files
    /// are then parsed in place).
    pub(super) fn start() -> Option<Worker> {
        let (jobs, inbox) = mpsc::sync_channel::<Job>(QUEUE);
        let (outbox, done) = mpsc::channel::<Done>();
        let handle = std::thread::Builder::new()
            .name("kdiag-parse".into())
            .spawn(move || {
                for mut job in inbox {
                    let bytes = std::mem::take(&mut job.bytes);
                    let (text, lossy) = decode(&bytes);
                    let table = match job.file {
                        NodeFile::IpRoute => Table::Routes(iproute::parse_routes(&text)),
                        NodeFile::IpNeigh => Table::Neighbors(iproute::parse_neighbors(&text)),
                        NodeFile::BridgeFdb => Table::Fdb(iproute::parse_fdb(&text)),
                        _ => Table::Unread,
                    };
                    if outbox.send(Done { job, lossy, table }).is_err() {
                        return;
                    }
                }
            })
            .ok()?;
        Some(Worker {
            jobs: Some(jobs),
            done,
            handle: Some(handle),
            pending: 0,
        })
    }

    /// Hands a file to the worker (waits while the queue is full); gives
    /// its bytes back when the worker is gone.
    pub(super) fn send(&mut self, job: Job) -> Result<(), Vec<u8>> {
        let Some(jobs) = &self.jobs else {
            return Err(job.bytes);
        };
        match jobs.send(job) {
            Ok(()) => {
                self.pending += 1;
                Ok(())
            }
            Err(mpsc::SendError(job)) => Err(job.bytes),
        }
    }

    /// The files parsed so far, in the order sent, without waiting.
    pub(super) fn ready(&mut self) -> Vec<Done> {
        let mut out = Vec::new();
        while let Ok(d) = self.done.try_recv() {
            self.pending -= 1;
            out.push(d);
        }
        out
    }

    /// Every file still at the worker, in the order sent; stops the worker.
    pub(super) fn rest(&mut self) -> Vec<Done> {
        self.jobs = None;
        let mut out = Vec::with_capacity(self.pending);
        while self.pending > 0 {
            match self.done.recv() {
                Ok(d) => {
                    self.pending -= 1;
                    out.push(d);
                }
                Err(_) => break,
            }
        }
        if let Some(h) = self.handle.take()
            && let Err(e) = h.join()
        {
            // The worker panicked: fail as the same parse would in place.
            std::panic::resume_unwind(e);
        }
        out
    }
}
