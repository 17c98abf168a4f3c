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

/// Files sent and not yet taken back, at most.
const QUEUE: usize = 16;

/// Bytes of the files sent and not yet taken back, at most (unless one
/// file alone is larger): the builder takes results back before sending
/// more.
pub(super) const BYTES_IN_FLIGHT: usize = 64 << 20;

/// Whether a node file is parsed on the worker.
pub(super) fn offloaded(file: &NodeFile) -> bool {
    matches!(
        file,
        NodeFile::IpRoute | NodeFile::IpNeigh | NodeFile::BridgeFdb
    )
}

/// Whether a file parsed in place fills a table the worker's files fill:
/// the worker's results must be in first, so that which copy is held (and
/// what is said of the others) is what parsing in place gives.
pub(super) fn shares_a_table(file: &NodeFile) -> bool {
    matches!(file, NodeFile::IpRouteJson | NodeFile::IpNeighJson)
}

/// Parses one of the worker's files (`None` for any other kind).
pub(super) fn parse(file: &NodeFile, text: &str) -> Option<Table> {
    Some(match file {
        NodeFile::IpRoute => Table::Routes(iproute::parse_routes(text)),
        NodeFile::IpNeigh => Table::Neighbors(iproute::parse_neighbors(text)),
        NodeFile::BridgeFdb => Table::Fdb(iproute::parse_fdb(text)),
        _ => return None,
    })
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
}

/// A parsed file, back from the worker.
pub(super) struct Done {
    pub job: Job,
    /// The bytes were not all UTF-8 (replaced).
    pub lossy: bool,
    pub table: Option<Table>,
    /// How many bytes the file had.
    pub size: usize,
}

/// The worker and the channels to it.
pub(super) struct Worker {
    jobs: Option<mpsc::SyncSender<Job>>,
    done: mpsc::Receiver<Done>,
    handle: Option<JoinHandle<()>>,
    /// Sent and not yet received.
    pending: usize,
    /// Their bytes.
    in_flight: usize,
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
                    let table = parse(&job.file, &text);
                    let size = bytes.len();
                    if outbox
                        .send(Done {
                            job,
                            lossy,
                            table,
                            size,
                        })
                        .is_err()
                    {
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
            in_flight: 0,
        })
    }

    /// Hands a file to the worker (waits while the queue is full); gives
    /// its bytes back when the worker is gone.
    pub(super) fn send(&mut self, job: Job) -> Result<(), Vec<u8>> {
        let Some(jobs) = &self.jobs else {
            return Err(job.bytes);
        };
        let size = job.bytes.len();
        match jobs.send(job) {
            Ok(()) => {
                self.pending += 1;
                self.in_flight += size;
                Ok(())
            }
            Err(mpsc::SendError(job)) => Err(job.bytes),
        }
    }

    /// Whether `size` more bytes may be sent now: nothing is in flight, or
    /// they fit in [`BYTES_IN_FLIGHT`].
    pub(super) fn room_for(&self, size: usize) -> bool {
        self.pending == 0 || self.in_flight.saturating_add(size) <= BYTES_IN_FLIGHT
    }

    fn took(&mut self, d: &Done) {
        self.pending -= 1;
        self.in_flight = self.in_flight.saturating_sub(d.size);
    }

    /// The files parsed so far, in the order sent, without waiting.
    pub(super) fn ready(&mut self) -> Vec<Done> {
        let mut out = Vec::new();
        while let Ok(d) = self.done.try_recv() {
            self.took(&d);
            out.push(d);
        }
        out
    }

    /// The next file sent, waiting for it; `None` when none is at the
    /// worker (or it is gone: `rest` says why).
    pub(super) fn next(&mut self) -> Option<Done> {
        if self.pending == 0 {
            return None;
        }
        let d = self.done.recv().ok()?;
        self.took(&d);
        Some(d)
    }

    /// Every file still at the worker, in the order sent; stops the worker.
    pub(super) fn rest(&mut self) -> Vec<Done> {
        self.jobs = None;
        let mut out = Vec::with_capacity(self.pending);
        while self.pending > 0 {
            match self.done.recv() {
                Ok(d) => {
                    self.took(&d);
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
